//! NGSI-LD judgement on expanded IRIs. A partner names types and attributes with short terms that mean whatever
//! its `@context` (sent in the `Link` header) says, so the data plane expands every term it is asked about with
//! that same context before comparing it with what the distribution allows: a partner that maps an innocent-looking
//! term to a forbidden attribute IRI (the "@context trick") is judged on the IRI, exactly as the broker will read it.
//!
//! Expansion is deliberately small: term definitions (string or `{"@id"}`), compact IRIs (`prefix:suffix`),
//! absolute IRIs as written, NGSI-LD core terms (protected, so no partner context can redefine them) and the core
//! context's `@vocab` for anything undefined. Context documents are never fetched from partner-chosen URLs: only
//! the core context and the contexts the distribution declares are usable, anything else is refused.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::problem::Refusal;
use crate::catalogue::NgsiLdSettings;

/// The NGSI-LD core context, which needs no declaration.
pub const CORE_CONTEXT_PREFIX: &str = "https://uri.etsi.org/ngsi-ld/";
/// Where terms no context defines end up (the core context's `@vocab`).
pub const DEFAULT_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/default-context/";
const LINK_REL: &str = "http://www.w3.org/ns/json-ld#context";

/// Core terms: always `https://uri.etsi.org/ngsi-ld/<term>`, never restricted, never filtered.
const CORE_TERMS: &[&str] = &[
    "id",
    "type",
    "@context",
    "@id",
    "@type",
    "value",
    "object",
    "languageMap",
    "vocab",
    "json",
    "observedAt",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "datasetId",
    "instanceId",
    "unitCode",
    "scope",
    "lang",
];

/// Core attributes that describe where an entity is: served like any other attribute only when allowed.
const CORE_ATTRIBUTES: &[&str] = &["location", "observationSpace", "operationSpace"];

/// Term → IRI for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActiveContext {
    terms: HashMap<String, String>,
}

impl ActiveContext {
    /// The context a partner's `Link` header names; no header means the core context alone.
    pub fn from_link(
        link: Option<&str>,
        declared: &BTreeMap<String, Value>,
    ) -> Result<ActiveContext, Refusal> {
        let mut ctx = ActiveContext::default();
        let Some(link) = link else {
            return Ok(ctx);
        };
        for url in context_urls(link)? {
            ctx.add_url(&url, declared)?;
        }
        Ok(ctx)
    }

    fn add_url(&mut self, url: &str, declared: &BTreeMap<String, Value>) -> Result<(), Refusal> {
        if url.starts_with(CORE_CONTEXT_PREFIX) {
            return Ok(());
        }
        let doc = declared.get(url).ok_or_else(|| {
            Refusal::bad_request(format!(
                "@context {url} is not one this resource accepts (declared: {})",
                if declared.is_empty() {
                    "only the NGSI-LD core context".to_string()
                } else {
                    declared.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            ))
        })?;
        // A declared document may be the whole `{"@context": ...}` or the context value itself.
        let value = doc.get("@context").unwrap_or(doc).clone();
        self.add(&value, declared, 0)
    }

    fn add(
        &mut self,
        value: &Value,
        declared: &BTreeMap<String, Value>,
        depth: usize,
    ) -> Result<(), Refusal> {
        if depth > 8 {
            return Err(Refusal::bad_request("@context nests too deeply"));
        }
        match value {
            Value::String(url) => self.add_url(url, declared),
            Value::Array(items) => items
                .iter()
                .try_for_each(|v| self.add(v, declared, depth + 1)),
            Value::Object(map) => {
                for (term, def) in map {
                    if term.starts_with('@') {
                        continue;
                    }
                    let iri = match def {
                        Value::String(s) => s.clone(),
                        Value::Object(o) => match o.get("@id").and_then(Value::as_str) {
                            Some(id) => id.to_string(),
                            None => continue,
                        },
                        _ => continue,
                    };
                    self.terms.insert(term.clone(), iri);
                }
                Ok(())
            }
            Value::Null => Ok(()),
            _ => Err(Refusal::bad_request(
                "@context must be a URL, an object or a list",
            )),
        }
    }

    /// The IRI a term denotes under this context.
    pub fn expand(&self, term: &str) -> String {
        let term = term.trim();
        if CORE_TERMS.contains(&term) || CORE_ATTRIBUTES.contains(&term) {
            return format!("{CORE_CONTEXT_PREFIX}{term}");
        }
        if let Some(iri) = self.terms.get(term) {
            return self.expand_iri(iri);
        }
        self.expand_iri_or_vocab(term)
    }

    fn expand_iri(&self, iri: &str) -> String {
        if let Some((prefix, suffix)) = iri.split_once(':') {
            if !suffix.starts_with("//") {
                if let Some(base) = self.terms.get(prefix) {
                    return format!("{base}{suffix}");
                }
            }
        }
        iri.to_string()
    }

    fn expand_iri_or_vocab(&self, term: &str) -> String {
        if let Some((prefix, suffix)) = term.split_once(':') {
            if suffix.starts_with("//") || prefix == "urn" {
                return term.to_string();
            }
            if let Some(base) = self.terms.get(prefix) {
                return format!("{base}{suffix}");
            }
            return term.to_string();
        }
        format!("{DEFAULT_VOCAB}{term}")
    }
}

/// The context URLs in a `Link` header (those with the JSON-LD context relation).
fn context_urls(link: &str) -> Result<Vec<String>, Refusal> {
    let mut out = Vec::new();
    for part in link.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (url, params) = part
            .strip_prefix('<')
            .and_then(|p| p.split_once('>'))
            .ok_or_else(|| Refusal::bad_request("Link header is malformed"))?;
        let rel_is_context = params.split(';').any(|p| {
            p.trim()
                .strip_prefix("rel=")
                .is_some_and(|r| r.trim_matches('"') == LINK_REL)
        });
        if rel_is_context {
            out.push(url.trim().to_string());
        }
    }
    Ok(out)
}

/// Attribute names a `q` expression refers to (`speed>50;(a==1|b.c!="x")` → `speed`, `a`, `b`).
pub fn q_attributes(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_string = false;
    let mut current = String::new();
    let mut expecting_name = true;
    let flush = |current: &mut String, out: &mut Vec<String>| {
        let name = current
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        if !name.is_empty() {
            out.push(name);
        }
        current.clear();
    };
    for c in q.chars() {
        if in_string {
            if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            ';' | '|' | '(' | ')' => {
                if expecting_name {
                    flush(&mut current, &mut out);
                }
                expecting_name = true;
            }
            '=' | '!' | '<' | '>' | '~' => {
                if expecting_name {
                    flush(&mut current, &mut out);
                }
                expecting_name = false;
            }
            _ if expecting_name => current.push(c),
            _ => {}
        }
    }
    if expecting_name {
        flush(&mut current, &mut out);
    }
    out
}

fn split_list(v: &str) -> impl Iterator<Item = &str> {
    v.split([',', ';', '|', '(', ')'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Checks a partner's request (path below the broker base and query) against the settings, before the broker is
/// contacted. `path` is the full path the broker will see.
pub fn judge(
    settings: &NgsiLdSettings,
    ctx: &ActiveContext,
    path: &str,
    partner_query: Option<&str>,
    base_has_type: bool,
) -> Result<(), Refusal> {
    let restricted = !settings.entity_types.is_empty() || !settings.attributes.is_empty();
    let pairs: Vec<(String, String)> = partner_query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    if !settings.query_parameters.is_empty() {
        for (k, _) in &pairs {
            if !settings.query_parameters.iter().any(|p| p == k) {
                return Err(Refusal::forbidden(format!(
                    "query parameter {k} is not allowed on this resource (allowed: {})",
                    settings.query_parameters.join(", ")
                )));
            }
        }
    }
    if !restricted {
        return Ok(());
    }
    let tail = path.trim_end_matches('/');
    let entity_path = tail.rsplit_once("/entities").map(|(_, rest)| rest);
    let by_id = match entity_path {
        Some("") => false,
        Some(rest) if rest.starts_with('/') && !rest[1..].contains('/') => true,
        _ => {
            return Err(Refusal::forbidden(
                "this resource serves entity queries only (…/entities or …/entities/{id})",
            ))
        }
    };
    let allowed_attr = |iri: &str| {
        settings.attributes.is_empty()
            || settings.attributes.iter().any(|a| a == iri)
            || (iri.starts_with(CORE_CONTEXT_PREFIX)
                && CORE_TERMS
                    .iter()
                    .any(|t| iri == format!("{CORE_CONTEXT_PREFIX}{t}")))
    };
    let mut has_type = base_has_type;
    let mut has_attrs = false;
    for (k, v) in &pairs {
        match k.as_str() {
            "type" => {
                has_type = true;
                if !settings.entity_types.is_empty() {
                    for t in split_list(v) {
                        let iri = ctx.expand(t);
                        if !settings.entity_types.contains(&iri) {
                            return Err(Refusal::forbidden(format!(
                                "entity type {t} ({iri}) is not covered by this resource"
                            )));
                        }
                    }
                }
            }
            "attrs" | "pick" => {
                has_attrs = true;
                for a in split_list(v) {
                    let iri = ctx.expand(a);
                    if !allowed_attr(&iri) {
                        return Err(Refusal::forbidden(format!(
                            "attribute {a} ({iri}) is not covered by this resource"
                        )));
                    }
                }
            }
            "q" | "geoproperty" => {
                let names = if k == "q" {
                    q_attributes(v)
                } else {
                    vec![v.clone()]
                };
                for a in names {
                    let iri = ctx.expand(&a);
                    if !allowed_attr(&iri) {
                        return Err(Refusal::forbidden(format!(
                            "attribute {a} ({iri}) in {k} is not covered by this resource"
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    // Without a filter on the way back, an unrestricted query could return what the lists exclude.
    if !settings.filter_responses {
        if !settings.entity_types.is_empty() && !has_type {
            return Err(Refusal::forbidden(if by_id {
                "entities by id are not served for this resource; query with type="
            } else {
                "a type= query naming an allowed entity type is required"
            }));
        }
        if !settings.attributes.is_empty() && !has_attrs {
            return Err(Refusal::forbidden(
                "an attrs= (or pick=) list of allowed attributes is required",
            ));
        }
    }
    Ok(())
}

/// What filtering did to a response.
#[derive(Debug, PartialEq)]
pub enum Filtered {
    Body(Vec<u8>),
    /// A single entity of a type the resource does not cover.
    Forbidden,
}

/// Removes entities of uncovered types and uncovered attributes from an NGSI-LD JSON response (one entity or a
/// list). A body that is not JSON is refused: serving it unfiltered would defeat the restriction.
pub fn filter_response(
    settings: &NgsiLdSettings,
    ctx: &ActiveContext,
    body: &[u8],
) -> Result<Filtered, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        Refusal::bad_gateway("the broker's response is not JSON and cannot be filtered")
    })?;
    let type_ok = |e: &serde_json::Map<String, Value>| {
        if settings.entity_types.is_empty() {
            return true;
        }
        let types: Vec<&str> = match e.get("type").or_else(|| e.get("@type")) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        !types.is_empty()
            && types
                .iter()
                .all(|t| settings.entity_types.contains(&ctx.expand(t)))
    };
    let strip = |e: &mut serde_json::Map<String, Value>| {
        if settings.attributes.is_empty() {
            return;
        }
        e.retain(|k, _| {
            CORE_TERMS.contains(&k.as_str()) || settings.attributes.contains(&ctx.expand(k))
        });
    };
    let out = match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(mut e) if type_ok(&e) => {
                        strip(&mut e);
                        Some(Value::Object(e))
                    }
                    _ => None,
                })
                .collect(),
        ),
        Value::Object(mut e) => {
            if !type_ok(&e) {
                return Ok(Filtered::Forbidden);
            }
            strip(&mut e);
            Value::Object(e)
        }
        _ => {
            return Err(Refusal::bad_gateway(
                "the broker's response is not an entity or a list",
            ))
        }
    };
    Ok(Filtered::Body(serde_json::to_vec(&out).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PARTNER_CTX: &str = "https://city-b.example/context.jsonld";
    const SPEED: &str = "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed";
    const OWNER: &str = "https://city-a.example/ns/ownerName";
    const FLOW: &str = "https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved";

    fn link(url: &str) -> String {
        format!("<{url}>; rel=\"{LINK_REL}\"; type=\"application/ld+json\"")
    }

    fn settings(filter: bool) -> NgsiLdSettings {
        let mut contexts = BTreeMap::new();
        contexts.insert(
            "https://city-a.example/context.jsonld".to_string(),
            json!({"@context": {"sdm": "https://smartdatamodels.org/dataModel.Transportation/",
                                "speed": "sdm:averageVehicleSpeed", "TrafficFlowObserved": "sdm:TrafficFlowObserved",
                                "owner": {"@id": OWNER}}}),
        );
        // The partner's own context maps an innocent name onto the forbidden attribute.
        contexts.insert(
            PARTNER_CTX.to_string(),
            json!({"speed": OWNER, "Flow": FLOW}),
        );
        NgsiLdSettings {
            tenant: Some("city".into()),
            entity_types: vec![FLOW.into()],
            attributes: vec![SPEED.into()],
            query_parameters: Vec::new(),
            filter_responses: filter,
            contexts,
        }
    }

    fn ctx(url: Option<&str>) -> ActiveContext {
        let s = settings(false);
        ActiveContext::from_link(url.map(link).as_deref(), &s.contexts).unwrap()
    }

    #[test]
    fn terms_expand_through_definitions_prefixes_core_and_vocab() {
        let c = ctx(Some("https://city-a.example/context.jsonld"));
        assert_eq!(c.expand("speed"), SPEED);
        assert_eq!(c.expand("owner"), OWNER);
        assert_eq!(c.expand("sdm:averageVehicleSpeed"), SPEED);
        assert_eq!(
            c.expand("location"),
            "https://uri.etsi.org/ngsi-ld/location"
        );
        assert_eq!(c.expand("colour"), format!("{DEFAULT_VOCAB}colour"));
        assert_eq!(c.expand(OWNER), OWNER);
        // No Link header: the core context alone.
        assert_eq!(ctx(None).expand("speed"), format!("{DEFAULT_VOCAB}speed"));
    }

    #[test]
    fn a_partner_context_cannot_rename_a_forbidden_attribute_into_an_allowed_name() {
        let s = settings(false);
        let own = ctx(Some("https://city-a.example/context.jsonld"));
        assert!(judge(
            &s,
            &own,
            "/ngsi-ld/v1/entities",
            Some("type=TrafficFlowObserved&attrs=speed"),
            false
        )
        .is_ok());
        let trick = ctx(Some(PARTNER_CTX));
        let refused = judge(
            &s,
            &trick,
            "/ngsi-ld/v1/entities",
            Some("type=Flow&attrs=speed"),
            false,
        )
        .unwrap_err();
        assert_eq!(refused.status, 403);
        assert!(refused.detail.contains(OWNER), "{}", refused.detail);
        // The same trick inside a q filter.
        let refused = judge(
            &s,
            &trick,
            "/ngsi-ld/v1/entities",
            Some("type=Flow&attrs=sdm:x&q=speed>50"),
            false,
        );
        assert!(refused.is_err());
    }

    #[test]
    fn types_parameters_and_paths_are_restricted() {
        let mut s = settings(false);
        let c = ctx(Some("https://city-a.example/context.jsonld"));
        let e = judge(
            &s,
            &c,
            "/ngsi-ld/v1/entities",
            Some("type=Building&attrs=speed"),
            false,
        )
        .unwrap_err();
        assert!(e.detail.contains("Building"));
        // Without type= or attrs= the broker could return anything: refused unless responses are filtered.
        assert!(judge(&s, &c, "/ngsi-ld/v1/entities", Some("attrs=speed"), false).is_err());
        assert!(judge(&s, &c, "/ngsi-ld/v1/entities", Some("attrs=speed"), true).is_ok());
        assert!(judge(
            &s,
            &c,
            "/ngsi-ld/v1/entities",
            Some("type=TrafficFlowObserved"),
            false
        )
        .is_err());
        assert!(judge(&s, &c, "/ngsi-ld/v1/types", None, false).is_err());
        s.filter_responses = true;
        assert!(judge(&s, &c, "/ngsi-ld/v1/entities/urn:x", None, false).is_ok());
        s.query_parameters = vec!["type".into(), "attrs".into()];
        let e = judge(
            &s,
            &c,
            "/ngsi-ld/v1/entities",
            Some("type=TrafficFlowObserved&georel=near"),
            false,
        )
        .unwrap_err();
        assert!(e.detail.contains("georel"));
    }

    #[test]
    fn unknown_contexts_are_refused_not_fetched() {
        let s = settings(false);
        let e = ActiveContext::from_link(Some(&link("https://evil.example/ctx")), &s.contexts)
            .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(ActiveContext::from_link(
            Some(&link(
                "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
            )),
            &s.contexts
        )
        .is_ok());
    }

    #[test]
    fn q_expressions_name_their_attributes() {
        assert_eq!(
            q_attributes(r#"speed>50;(a==1|b.c!="x;y")"#),
            vec!["speed", "a", "b"]
        );
        assert_eq!(q_attributes("name~=\"^A\""), vec!["name"]);
    }

    #[test]
    fn responses_lose_uncovered_entities_and_attributes() {
        let s = settings(true);
        let c = ctx(Some("https://city-a.example/context.jsonld"));
        let body = json!([
            {"id": "urn:a", "type": "TrafficFlowObserved", "speed": {"type": "Property", "value": 40},
             "owner": {"type": "Property", "value": "J. Doe"}},
            {"id": "urn:b", "type": "Building", "speed": {"type": "Property", "value": 1}}
        ]);
        let Filtered::Body(out) = filter_response(&s, &c, body.to_string().as_bytes()).unwrap()
        else {
            panic!("filtered");
        };
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            out,
            json!([{"id": "urn:a", "type": "TrafficFlowObserved", "speed": {"type": "Property", "value": 40}}])
        );
        let single = json!({"id": "urn:b", "type": "Building"});
        assert_eq!(
            filter_response(&s, &c, single.to_string().as_bytes()).unwrap(),
            Filtered::Forbidden
        );
        assert!(filter_response(&s, &c, b"not json").is_err());
    }
}
