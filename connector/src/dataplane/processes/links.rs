//! What the model server answers, made to point at the data plane: the partner must reach every job and result
//! through its transfer's data address, and never learn where the model server is. OGC API - Processes
//! documents name the server by absolute URL (`links[].href`, the `Location` of a new job), so:
//!
//! - a link (`links[]` of a document of the standard) or a `Location` naming a served call of the model server
//!   becomes the same call below the data address; any other link is dropped, including links to other sites,
//!   since a server known to itself by another name than the distribution's `backend` would otherwise be
//!   revealed through them;
//! - the list of processes keeps only the processes of the agreement;
//! - every other text naming the model server's landing page (anywhere in a document, outputs of a run
//!   included) has that prefix replaced by the data address. Outputs are the model's and are otherwise left
//!   as they are: nothing is dropped from them.

use serde_json::Value;

use super::call::{route, Call, Route};
use crate::catalogue::resource::ProcessesSettings;
use crate::dataplane::backend::decoded_segments;

/// Rewrites what one model server answers for one transfer.
pub struct Links<'a> {
    /// The landing page, its path ending in `/`.
    base: url::Url,
    /// The landing page as documents name it: `base` without the final `/`.
    prefix: String,
    settings: &'a ProcessesSettings,
    /// The transfer's data address, without a final `/`.
    public: String,
}

impl<'a> Links<'a> {
    pub fn new(base: &url::Url, settings: &'a ProcessesSettings, public: &str) -> Links<'a> {
        let base = landing(base);
        let prefix = base.as_str().trim_end_matches('/').to_string();
        Links {
            base,
            prefix,
            settings,
            public: public.trim_end_matches('/').to_string(),
        }
    }

    /// The same call below the data address, for a URL (absolute, or relative to the landing page) of a served
    /// call of the model server; `None` for anything else.
    pub fn map(&self, href: &str) -> Option<String> {
        let (rest, query, url) = self.below(href)?;
        let mut out = format!("{}{rest}", self.public);
        if let Some(q) = query {
            out.push('?');
            out.push_str(&q);
        }
        if let Some(f) = url.fragment() {
            out.push('#');
            out.push_str(f);
        }
        Some(out)
    }

    /// The job a URL of the model server names (a new job's `Location`), if it names one.
    pub fn job(&self, href: &str) -> Option<String> {
        let (rest, query, _) = self.below(href)?;
        let segments = decoded_segments(&rest).ok()?;
        match route(self.settings, &segments, query.as_deref()).ok()?.0 {
            Route::Job(id) => Some(id),
            _ => None,
        }
    }

    /// The path below the landing page (still encoded) and the query of a URL naming a served call.
    fn below(&self, href: &str) -> Option<(String, Option<String>, url::Url)> {
        let url = self.base.join(href).ok()?;
        if url.scheme() != self.base.scheme()
            || url.host_str() != self.base.host_str()
            || url.port_or_known_default() != self.base.port_or_known_default()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return None;
        }
        let rest = url
            .path()
            .strip_prefix(self.base.path().trim_end_matches('/'))?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let rest = rest.to_string();
        let query = url.query().map(str::to_string);
        let segments = decoded_segments(&rest).ok()?;
        route(self.settings, &segments, query.as_deref()).ok()?;
        Some((rest, query, url))
    }

    /// Rewrites a JSON document the model server answered `call` with; `outputs` when it holds a run's outputs
    /// (results, or a synchronous execution's answer) rather than a document of the standard.
    pub fn document(&self, call: &Call, outputs: bool, doc: &mut Value) {
        if *call == Call::ProcessList {
            if let Some(list) = doc.get_mut("processes").and_then(Value::as_array_mut) {
                list.retain(|p| {
                    p.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|id| self.settings.processes.iter().any(|a| a == id))
                });
            }
        }
        // A run's outputs are the model's: a `links` member there is data, not the standard's links.
        if !outputs {
            self.links(doc);
        }
        self.texts(doc);
    }

    fn links(&self, v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    if k == "links" {
                        if let Value::Array(items) = child {
                            items.retain_mut(|link| {
                                let mapped = link
                                    .get("href")
                                    .and_then(Value::as_str)
                                    .and_then(|h| self.map(h));
                                match mapped {
                                    Some(href) => {
                                        link["href"] = Value::String(href);
                                        true
                                    }
                                    None => false,
                                }
                            });
                            continue;
                        }
                    }
                    self.links(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.links(i)),
            _ => {}
        }
    }

    fn texts(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                if let Some(out) = self.substitute(s) {
                    *s = out;
                }
            }
            Value::Object(m) => m.values_mut().for_each(|c| self.texts(c)),
            Value::Array(items) => items.iter_mut().for_each(|i| self.texts(i)),
            _ => {}
        }
    }

    /// `s` with every occurrence of the landing page (followed by a path, query, fragment or the end, not by
    /// more of a host name, port or segment) replaced by the data address; `None` when there is none.
    pub fn substitute(&self, s: &str) -> Option<String> {
        if !s.contains(self.prefix.as_str()) {
            return None;
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        let mut changed = false;
        while let Some(i) = rest.find(self.prefix.as_str()) {
            let after = &rest[i + self.prefix.len()..];
            let bounded = after
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || "-._~%:@".contains(c)));
            out.push_str(&rest[..i]);
            if bounded {
                out.push_str(&self.public);
                changed = true;
            } else {
                out.push_str(&self.prefix);
            }
            rest = after;
        }
        out.push_str(rest);
        changed.then_some(out)
    }
}

/// The landing page with a path ending in `/` (and no query or fragment), so relative links resolve below it.
pub fn landing(base: &url::Url) -> url::Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PUBLIC: &str = "https://a.example/data/urn:uuid:p1";

    fn settings() -> ProcessesSettings {
        ProcessesSettings {
            processes: vec!["hello-world".into()],
        }
    }

    fn base() -> url::Url {
        url::Url::parse("http://127.0.0.1:5000").unwrap()
    }

    #[test]
    fn links_to_served_calls_move_to_the_data_address_and_others_go() {
        let s = settings();
        let links = Links::new(&base(), &s, PUBLIC);
        assert_eq!(
            links.map("http://127.0.0.1:5000/jobs/j1?f=json").as_deref(),
            Some("https://a.example/data/urn:uuid:p1/jobs/j1?f=json")
        );
        assert_eq!(
            links.map("/processes/hello-world").as_deref(),
            Some("https://a.example/data/urn:uuid:p1/processes/hello-world")
        );
        // The landing page itself, as its own `self` link names it.
        assert_eq!(
            links.map("http://127.0.0.1:5000?f=json").as_deref(),
            Some("https://a.example/data/urn:uuid:p1/?f=json")
        );
        for gone in [
            "http://127.0.0.1:5000/jobs?f=json",
            "http://127.0.0.1:5000/openapi",
            "http://127.0.0.1:5000/processes/secret",
            "http://127.0.0.1:5000/jobs/j1?f=html",
            "http://127.0.0.1:5001/jobs/j1",
            "http://localhost:5000/jobs/j1",
            "https://creativecommons.org/licenses/by/4.0/",
            "http://user:pw@127.0.0.1:5000/jobs/j1",
        ] {
            assert_eq!(links.map(gone), None, "{gone}");
        }
        assert_eq!(
            links.job("http://127.0.0.1:5000/jobs/5d4c-91").as_deref(),
            Some("5d4c-91")
        );
        assert_eq!(
            links.job("http://127.0.0.1:5000/processes/hello-world"),
            None
        );
    }

    #[test]
    fn a_landing_page_with_a_path_keeps_its_path() {
        let s = settings();
        let base = url::Url::parse("http://model.city.internal/ogc/api").unwrap();
        let links = Links::new(&base, &s, PUBLIC);
        assert_eq!(
            links
                .map("http://model.city.internal/ogc/api/jobs/j")
                .as_deref(),
            Some("https://a.example/data/urn:uuid:p1/jobs/j")
        );
        assert_eq!(
            links.map("http://model.city.internal/ogc/apix/jobs/j"),
            None
        );
        assert_eq!(links.map("http://model.city.internal/jobs/j"), None);
        assert_eq!(
            links.substitute("see http://model.city.internal/ogc/api/x and http://model.city.internal/ogc/apix")
                .as_deref(),
            Some("see https://a.example/data/urn:uuid:p1/x and http://model.city.internal/ogc/apix")
        );
    }

    #[test]
    fn documents_name_only_the_data_address_and_the_agreed_processes() {
        let s = settings();
        let links = Links::new(&base(), &s, PUBLIC);
        let mut list = json!({
            "processes": [
                {"id": "hello-world", "links": [{"rel": "self", "href": "http://127.0.0.1:5000/processes/hello-world?f=json"},
                                                {"rel": "alternate", "href": "http://127.0.0.1:5000/processes/hello-world?f=html"}]},
                {"id": "secret", "links": [{"rel": "self", "href": "http://127.0.0.1:5000/processes/secret"}]}
            ],
            "links": [{"rel": "self", "href": "http://127.0.0.1:5000/processes?f=json"},
                      {"rel": "http://www.opengis.net/def/rel/ogc/1.0/job-list", "href": "http://127.0.0.1:5000/jobs"},
                      "not a link"]
        });
        links.document(&Call::ProcessList, false, &mut list);
        assert_eq!(
            list,
            json!({
                "processes": [{"id": "hello-world", "links": [
                    {"rel": "self", "href": format!("{PUBLIC}/processes/hello-world?f=json")}]}],
                "links": [{"rel": "self", "href": format!("{PUBLIC}/processes?f=json")}]
            })
        );
        // A run's outputs lose nothing; only the server's address in them is replaced.
        let mut results = json!({"outputs": [{"id": "echo", "value": "Hello", "links": [{"href": "https://elsewhere.example/x"}]},
                                             {"id": "map", "href": "http://127.0.0.1:5000/jobs/j1/results"}]});
        links.document(&Call::Results("j1".into()), true, &mut results);
        assert_eq!(
            results,
            json!({"outputs": [{"id": "echo", "value": "Hello", "links": [{"href": "https://elsewhere.example/x"}]},
                               {"id": "map", "href": format!("{PUBLIC}/jobs/j1/results")}]})
        );
        // No text anywhere keeps the server's address.
        let mut status = json!({"jobID": "j1", "message": "written to http://127.0.0.1:5000/outputs/j1.json",
                                "links": [{"href": "http://127.0.0.1:5000/jobs/j1/results?f=json", "rel": "results"}]});
        links.document(&Call::Status("j1".into()), false, &mut status);
        let text = status.to_string();
        assert!(!text.contains("127.0.0.1:5000"), "{text}");
        assert_eq!(
            status["links"][0]["href"],
            format!("{PUBLIC}/jobs/j1/results?f=json")
        );
        // A port that merely starts the same is another server.
        assert_eq!(links.substitute("http://127.0.0.1:50001/x"), None);
    }
}
