//! This connector as a DSP consumer: discovers a partner's 2025-1 endpoint through its version metadata and sends
//! authenticated requests with a fresh self-issued token each time.

use std::time::Duration;

use serde_json::Value;
use twinport_contracts::catalog::{CatalogRequestMessage, VersionResponse};
use twinport_contracts::dsp::DSP_VERSION;
use twinport_contracts::message::DspMessage;

use crate::config::PartnerConfig;
use crate::identity::dcp::Dcp;
use crate::identity::LocalIdentity;
use crate::telemetry::traces::Traces;

/// The most catalogue pages we follow for one request, so a partner's looping `next` link cannot hold us forever
/// (at the DSP default of 50 datasets a page, 50 000 datasets). A catalogue that goes on past it is refused with a
/// clear error, never shown in part.
const MAX_PAGES: usize = 1_000;
const TIMEOUT: Duration = Duration::from_secs(15);

/// Why a request to a partner failed; the message says which step.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("partner {0} has no url configured")]
    NoUrl(String),
    #[error("{step}: {message}")]
    Request { step: &'static str, message: String },
    #[error("{step}: partner answered HTTP {status}: {body}")]
    Status {
        step: &'static str,
        status: u16,
        body: String,
    },
    #[error("partner does not offer DSP version {DSP_VERSION} over HTTPS binding")]
    NoCompatibleVersion,
    #[error("cannot sign request token: {0}")]
    Token(String),
}

impl ClientError {
    /// The HTTP status the partner answered with, when it answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct DspClient {
    identity: LocalIdentity,
    http: reqwest::Client,
    traces: Traces,
    /// Resolves where partners known only by DID are.
    dcp: Option<Dcp>,
}

impl DspClient {
    pub fn new(identity: LocalIdentity, http: reqwest::Client) -> DspClient {
        DspClient {
            identity,
            http,
            traces: Traces::default(),
            dcp: None,
        }
    }

    /// Finds partners known only by DID through their DID documents.
    pub fn with_dcp(mut self, dcp: Option<Dcp>) -> DspClient {
        self.dcp = dcp;
        self
    }

    /// Sends the trace context with every request from now on (and opens a client span for it).
    pub fn traced(mut self, traces: Traces) -> DspClient {
        self.traces = traces;
        self
    }

    /// `<root><path>` of the partner's DSP 2025-1 binding.
    pub async fn discover(&self, partner: &PartnerConfig) -> Result<String, ClientError> {
        let found;
        let root = match (&partner.url, &self.dcp) {
            (Some(url), _) => url.as_str(),
            // A partner known by DID says in its DID document where its connector is.
            (None, Some(dcp)) if partner.id.starts_with("did:web:") => {
                found = dcp
                    .connector_url(&partner.id)
                    .await
                    .map_err(|r| ClientError::Request {
                        step: "DID resolution",
                        message: r.to_string(),
                    })?;
                found.as_str()
            }
            (None, _) => return Err(ClientError::NoUrl(partner.id.clone())),
        };
        let url = format!("{root}/.well-known/dspace-version");
        let (request, _span) = self
            .traces
            .outgoing(self.http.get(&url), "version discovery");
        let response = request
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| request_error("version discovery", e))?;
        let versions: VersionResponse = checked(response, "version discovery")
            .await?
            .json()
            .await
            .map_err(|e| request_error("version discovery", e))?;
        let version = versions
            .protocol_versions
            .iter()
            .find(|v| v.version == DSP_VERSION && v.binding == "HTTPS")
            .ok_or(ClientError::NoCompatibleVersion)?;
        Ok(format!("{root}{}", version.path.trim_end_matches('/')))
    }

    /// The partner's whole catalogue (all pages), as the partner publishes it to us.
    pub async fn catalog(
        &self,
        partner: &PartnerConfig,
        filter: Vec<Value>,
    ) -> Result<Value, ClientError> {
        let text = self.catalog_text(partner, filter).await?;
        serde_json::from_str(&text).map_err(|e| ClientError::Request {
            step: "catalogue request",
            message: format!("the merged catalogue does not read back: {e}"),
        })
    }

    /// [`DspClient::catalog`] as JSON text. The pages are kept as the text they arrived in and joined once, so a
    /// catalogue of thousands of datasets costs about its size in memory, not a JSON tree several times larger.
    pub async fn catalog_text(
        &self,
        partner: &PartnerConfig,
        filter: Vec<Value>,
    ) -> Result<String, ClientError> {
        let base = self.discover(partner).await?;
        let message = CatalogRequestMessage { filter }.to_json();
        let mut url = format!("{base}/catalog/request");
        let mut merged = MergedCatalog::default();
        for page_number in 1.. {
            let (request, _span) = self
                .traces
                .outgoing(self.http.post(&url), "catalogue request");
            let response = request
                .bearer_auth(self.token(&partner.id)?)
                .json(&message)
                .timeout(TIMEOUT)
                .send()
                .await
                .map_err(|e| request_error("catalogue request", e))?;
            let response = checked(response, "catalogue request").await?;
            let next = next_link(response.headers());
            let page = response
                .bytes()
                .await
                .map_err(|e| request_error("catalogue request", e))?;
            merged.add(&page).map_err(|e| ClientError::Request {
                step: "catalogue request",
                message: format!("page {page_number} is not a JSON object: {e}"),
            })?;
            match follow(next, &base, page_number)? {
                Some(n) => url = n,
                None => break,
            }
        }
        merged.finish().ok_or(ClientError::Request {
            step: "catalogue request",
            message: "no catalogue received".into(),
        })
    }

    /// One dataset from the partner's catalogue.
    pub async fn dataset(&self, partner: &PartnerConfig, id: &str) -> Result<Value, ClientError> {
        let base = self.discover(partner).await?;
        let url = format!("{base}/catalog/datasets/{}", encode_segment(id));
        let (request, _span) = self.traces.outgoing(self.http.get(&url), "dataset request");
        let response = request
            .bearer_auth(self.token(&partner.id)?)
            .timeout(TIMEOUT)
            .send()
            .await
            .map_err(|e| request_error("dataset request", e))?;
        checked(response, "dataset request")
            .await?
            .json()
            .await
            .map_err(|e| request_error("dataset request", e))
    }

    fn token(&self, audience: &str) -> Result<String, ClientError> {
        self.identity
            .token_for(audience)
            .map_err(|e| ClientError::Token(e.to_string()))
    }
}

fn request_error(step: &'static str, e: reqwest::Error) -> ClientError {
    let message = if e.is_connect() {
        "connection refused".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    ClientError::Request { step, message }
}

async fn checked(
    response: reqwest::Response,
    step: &'static str,
) -> Result<reqwest::Response, ClientError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body: String = response
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(2000)
        .collect();
    Err(ClientError::Status { step, status, body })
}

/// Catalogue pages joined as text: the first page's members in their order, its `dataset` followed by every later
/// page's datasets.
#[derive(Default)]
struct MergedCatalog {
    first: Option<serde_json::Map<String, Value>>,
    /// Each dataset's JSON text, in order.
    datasets: Vec<Box<serde_json::value::RawValue>>,
}

impl MergedCatalog {
    fn add(&mut self, page: &[u8]) -> Result<(), serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct Datasets {
            #[serde(default)]
            dataset: Option<Box<serde_json::value::RawValue>>,
        }
        let Datasets { dataset } = serde_json::from_slice(page)?;
        if let Some(d) = dataset {
            // JSON-LD may give one dataset as an object rather than a list of one.
            if d.get().trim_start().starts_with('[') {
                let list: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(d.get())?;
                self.datasets.extend(list);
            } else {
                self.datasets.push(d);
            }
        }
        if self.first.is_none() {
            // The catalogue's own members (title, publisher, service...), without its datasets.
            let mut members: serde_json::Map<String, Value> = serde_json::from_slice(page)?;
            // Kept in its place (the datasets are written there), emptied.
            if let Some(d) = members.get_mut("dataset") {
                *d = Value::Null;
            }
            self.first = Some(members);
        }
        Ok(())
    }

    fn finish(self) -> Option<String> {
        let mut members = self.first?;
        if self.datasets.is_empty() {
            return Some(Value::Object(members).to_string());
        }
        // Members are written in order; the datasets go where the first page had them or, if it had none, last.
        members.entry("dataset").or_insert(Value::Null);
        let mut out = String::from("{");
        for (i, (key, value)) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&Value::String(key.clone()).to_string());
            out.push(':');
            if key == "dataset" {
                out.push('[');
                for (j, d) in self.datasets.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push_str(d.get());
                }
                out.push(']');
            } else {
                out.push_str(&value.to_string());
            }
        }
        out.push('}');
        Some(out)
    }
}

/// Where the next catalogue page is, after page `page_number`: `None` when the catalogue is complete. A catalogue
/// that cannot be read whole is refused rather than shown in part, since an operator reading a partial catalogue
/// cannot tell what is missing.
fn follow(
    next: Option<String>,
    base: &str,
    page_number: usize,
) -> Result<Option<String>, ClientError> {
    let refused = |message: String| ClientError::Request {
        step: "catalogue request",
        message,
    };
    match next {
        None => Ok(None),
        // A `next` link elsewhere would make us send our signed token to a third party.
        Some(n) if !same_origin(&n, base) => Err(refused(format!(
            "page {page_number} links the next page at another origin ({n}); our token is not sent there, \
             so the catalogue is not shown in part"
        ))),
        Some(_) if page_number >= MAX_PAGES => Err(refused(format!(
            "the catalogue goes on past {MAX_PAGES} pages; it is not shown in part (ask with a filter)"
        ))),
        Some(n) => Ok(Some(n)),
    }
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"" || p.trim() == "rel=next")
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

/// Percent-encodes an id for use as one path segment (ids are IRIs with `:` and `/`).
pub fn encode_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_are_joined_in_order_with_the_first_page_s_members() {
        let mut merged = super::MergedCatalog::default();
        merged
            .add(br#"{"@id": "urn:c", "dataset": [{"@id": "urn:d:1"}, {"@id": "urn:d:2"}], "service": [{"@id": "urn:s"}]}"#)
            .unwrap();
        merged
            .add(br#"{"@id": "urn:c", "dataset": {"@id": "urn:d:3"}}"#)
            .unwrap();
        merged.add(br#"{"@id": "urn:c"}"#).unwrap();
        merged
            .add(br#"{"@id": "urn:c", "dataset": [{"@id": "urn:d:4", "title": "x, \"y\""}]}"#)
            .unwrap();
        let text = merged.finish().unwrap();
        let all: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            all,
            serde_json::json!({"@id": "urn:c", "dataset": [{"@id": "urn:d:1"}, {"@id": "urn:d:2"}, {"@id": "urn:d:3"},
                {"@id": "urn:d:4", "title": "x, \"y\""}], "service": [{"@id": "urn:s"}]})
        );
        assert!(
            text.find("dataset") < text.find("service"),
            "members keep their order: {text}"
        );
        let mut none = super::MergedCatalog::default();
        none.add(br#"{"@id": "urn:c"}"#).unwrap();
        assert_eq!(none.finish().unwrap(), r#"{"@id":"urn:c"}"#);
        assert!(super::MergedCatalog::default().add(b"[1]").is_err());
    }

    #[test]
    fn a_catalogue_that_cannot_be_read_whole_is_refused_not_cut_short() {
        let base = "https://city-a.example/dsp/2025-1";
        let next = |u: &str| Some(u.to_string());
        assert!(super::follow(None, base, 3).unwrap().is_none());
        assert_eq!(
            super::follow(
                next("https://city-a.example/dsp/2025-1/catalog/request?offset=50"),
                base,
                1
            )
            .unwrap()
            .as_deref(),
            Some("https://city-a.example/dsp/2025-1/catalog/request?offset=50")
        );
        let elsewhere = super::follow(next("https://collector.example/page2"), base, 1)
            .unwrap_err()
            .to_string();
        assert!(elsewhere.contains("another origin"), "{elsewhere}");
        let endless = super::follow(
            next("https://city-a.example/dsp/2025-1/catalog/request?offset=50000"),
            base,
            super::MAX_PAGES,
        )
        .unwrap_err()
        .to_string();
        assert!(endless.contains("goes on past 1000 pages"), "{endless}");
    }

    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            reqwest::header::LINK,
            "<http://a/x?offset=0>; rel=\"previous\", <http://a/x?offset=100>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&h).as_deref(), Some("http://a/x?offset=100"));
    }

    #[test]
    fn ids_are_encoded_as_one_segment() {
        assert_eq!(encode_segment("urn:ldt:a/b c"), "urn%3Aldt%3Aa%2Fb%20c");
    }
}
