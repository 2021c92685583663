//! The platforms behind the data plane, as one stable API (also used by the push side):
//!
//! 1. [`Backend::from_distribution`] reads a resource's distribution: `file://` is a directory (or one file),
//!    a distribution with `ngsi_ld` settings is an NGSI-LD broker, anything else http(s) is a generic HTTP API
//!    (OGC API Features/Processes, CKAN, any REST).
//! 2. [`Backend::prepare`] checks a [`BackendRequest`] (the path below the data address, raw as received, the
//!    query, the partner's headers and body) *without contacting anything*: traversal, methods, NGSI-LD
//!    restrictions on expanded IRIs. A refusal is a [`Refusal`] ready to answer.
//! 3. [`Prepared::send`] contacts the backend and returns a [`BackendResponse`] whose body is a stream (never
//!    buffered, except an NGSI-LD response the resource asks to filter, which is read up to
//!    [`FILTER_LIMIT`]). Backend down → 502, no response headers within the timeout → 504.
//!
//! The backend location never appears in what the partner receives: `Location`-style headers are dropped.

use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};

use super::files;
use super::ngsi_ld::{self, ActiveContext, Filtered};
use super::problem::Refusal;
use crate::catalogue::{Distribution, NgsiLdSettings};

/// A body in either direction.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// Largest NGSI-LD response the data plane reads whole to filter it; beyond it the request fails with 502.
pub const FILTER_LIMIT: usize = 16 * 1024 * 1024;

/// Request headers never forwarded: hop-by-hop (RFC 9110 §7.6.1), our credentials, and what we set ourselves.
const DROPPED_REQUEST: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "cookie",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-prefix",
    "x-real-ip",
    "twinport-purpose",
    "ngsild-tenant",
];

/// Response headers never passed back: hop-by-hop, and those that would reveal where the backend lives.
const DROPPED_RESPONSE: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "location",
    "content-location",
    "set-cookie",
    "alt-svc",
];

/// Where a distribution's data is.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    Http {
        base: url::Url,
    },
    NgsiLd {
        base: url::Url,
        settings: NgsiLdSettings,
    },
    Directory {
        root: PathBuf,
    },
}

/// What the partner asked for, as the data plane received it.
pub struct BackendRequest {
    pub method: Method,
    /// Below the data address: empty or starting with `/`, still percent-encoded.
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Option<BodyStream>,
    /// Values for `X-Forwarded-Host`/`-Proto`/`-Prefix`: how the partner reached us.
    pub forwarded: Forwarded,
}

/// How the partner reached the data plane, told to HTTP backends that build links.
#[derive(Debug, Clone, Default)]
pub struct Forwarded {
    pub host: Option<String>,
    pub proto: Option<String>,
    pub prefix: Option<String>,
}

/// A response to pass on.
pub struct BackendResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: BodyStream,
}

/// A checked request, ready to send.
pub struct Prepared {
    target: Target,
}

struct HttpTarget {
    method: Method,
    url: url::Url,
    headers: HeaderMap,
    body: Option<BodyStream>,
    filter: Option<(NgsiLdSettings, ActiveContext)>,
}

enum Target {
    Http(Box<HttpTarget>),
    File {
        root: PathBuf,
        path: PathBuf,
        head: bool,
        range: Option<String>,
    },
}

impl Backend {
    pub fn from_distribution(d: &Distribution) -> Result<Backend, Refusal> {
        let url = url::Url::parse(&d.backend)
            .map_err(|e| Refusal::internal(format!("distribution backend {}: {e}", d.backend)))?;
        match (url.scheme(), &d.ngsi_ld) {
            ("file", None) => url
                .to_file_path()
                .map(|root| Backend::Directory { root })
                .map_err(|_| {
                    Refusal::internal(format!("backend {} is not a file path", d.backend))
                }),
            ("http" | "https", Some(settings)) => Ok(Backend::NgsiLd {
                base: url,
                settings: settings.clone(),
            }),
            ("http" | "https", None) => Ok(Backend::Http { base: url }),
            _ => Err(Refusal::internal(format!(
                "distribution backend {} cannot be served",
                d.backend
            ))),
        }
    }

    /// Checks the request and builds what [`Prepared::send`] will do; nothing is contacted.
    pub fn prepare(&self, req: BackendRequest) -> Result<Prepared, Refusal> {
        let segments = decoded_segments(&req.path)?;
        match self {
            Backend::Directory { root } => {
                if req.method != Method::GET && req.method != Method::HEAD {
                    return Err(Refusal::method("files are served with GET and HEAD only"));
                }
                let mut path = root.clone();
                for s in &segments {
                    path.push(s);
                }
                let range = req
                    .headers
                    .get(header::RANGE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                Ok(Prepared {
                    target: Target::File {
                        root: root.clone(),
                        path,
                        head: req.method == Method::HEAD,
                        range,
                    },
                })
            }
            Backend::Http { base } => {
                let url = target_url(base, &req.path, req.query.as_deref());
                let headers = forward_headers(&req.headers, &req.forwarded);
                Ok(Prepared {
                    target: Target::Http(Box::new(HttpTarget {
                        method: req.method,
                        url,
                        headers,
                        body: req.body,
                        filter: None,
                    })),
                })
            }
            Backend::NgsiLd { base, settings } => {
                // Reads only: a query in a POST body would escape the judgement below.
                if req.method != Method::GET && req.method != Method::HEAD {
                    return Err(Refusal::method(
                        "this NGSI-LD resource is served read-only (GET and HEAD)",
                    ));
                }
                let link = req
                    .headers
                    .get(header::LINK)
                    .map(|v| {
                        v.to_str()
                            .map_err(|_| Refusal::bad_request("Link header is not text"))
                    })
                    .transpose()?;
                let ctx = ActiveContext::from_link(link, &settings.contexts)?;
                let url = target_url(base, &req.path, req.query.as_deref());
                let base_has_type = base.query_pairs().any(|(k, _)| k == "type");
                ngsi_ld::judge(
                    settings,
                    &ctx,
                    url.path(),
                    req.query.as_deref(),
                    base_has_type,
                )?;
                let mut headers = forward_headers(&req.headers, &req.forwarded);
                if let Some(tenant) = &settings.tenant {
                    let v = HeaderValue::from_str(tenant)
                        .map_err(|_| Refusal::internal("ngsi_ld.tenant is not a header value"))?;
                    headers.insert(HeaderName::from_static("ngsild-tenant"), v);
                }
                let filter = settings.filter_responses.then(|| (settings.clone(), ctx));
                Ok(Prepared {
                    target: Target::Http(Box::new(HttpTarget {
                        method: req.method,
                        url,
                        headers,
                        body: None,
                        filter,
                    })),
                })
            }
        }
    }
}

impl Prepared {
    /// Contacts the backend. `timeout` bounds the wait for the response headers, not the body's duration.
    pub async fn send(
        self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<BackendResponse, Refusal> {
        match self.target {
            Target::File {
                root,
                path,
                head,
                range,
            } => files::open(&root, &path, head, range.as_deref()).await,
            Target::Http(target) => {
                let HttpTarget {
                    method,
                    url,
                    headers,
                    body,
                    filter,
                } = *target;
                let mut request = client.request(method, url).headers(headers);
                if let Some(body) = body {
                    request = request.body(reqwest::Body::wrap_stream(body));
                }
                let response = match tokio::time::timeout(timeout, request.send()).await {
                    Err(_) => {
                        return Err(Refusal::timeout(format!(
                            "the platform did not answer within {} s",
                            timeout.as_secs()
                        )))
                    }
                    Ok(Err(e)) if e.is_timeout() => {
                        return Err(Refusal::timeout("the platform did not answer in time"))
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "backend unreachable");
                        return Err(Refusal::bad_gateway("the platform cannot be reached"));
                    }
                    Ok(Ok(r)) => r,
                };
                let status = response.status();
                let mut headers = response.headers().clone();
                for name in DROPPED_RESPONSE {
                    headers.remove(*name);
                }
                match filter {
                    Some((settings, ctx)) if status.is_success() => {
                        let body = read_capped(response, FILTER_LIMIT, timeout).await?;
                        match ngsi_ld::filter_response(&settings, &ctx, &body)? {
                            Filtered::Forbidden => Err(Refusal::forbidden(
                                "the entity's type is not covered by this resource",
                            )),
                            Filtered::Body(out) => {
                                headers.remove(header::CONTENT_LENGTH);
                                let once = futures_util::stream::once(async move {
                                    Ok::<_, std::io::Error>(Bytes::from(out))
                                });
                                Ok(BackendResponse {
                                    status,
                                    headers,
                                    body: Box::pin(once),
                                })
                            }
                        }
                    }
                    _ => Ok(BackendResponse {
                        status,
                        headers,
                        body: Box::pin(response.bytes_stream().map_err(std::io::Error::other)),
                    }),
                }
            }
        }
    }
}

/// Reads a response whole, refusing one larger than `limit` (a filtered response must be parsed).
async fn read_capped(
    response: reqwest::Response,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, Refusal> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    let read = async {
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|_| Refusal::bad_gateway("the platform's response broke off"))?;
            if out.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(())
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| Refusal::timeout("the platform's response did not end in time"))??;
    Ok(out)
}

fn too_large(limit: usize) -> Refusal {
    Refusal::bad_gateway(format!(
        "the response is larger than the {} MiB this resource's attribute filter can read",
        limit / (1024 * 1024)
    ))
}

/// The path below the data address, one decoded segment each; anything that could leave the base is refused,
/// encoded or not.
pub fn decoded_segments(path: &str) -> Result<Vec<String>, Refusal> {
    let traversal = || Refusal::bad_request("the path leaves the data address");
    let mut out = Vec::new();
    for raw in path.split('/').skip_while(|s| s.is_empty()) {
        let decoded = percent_decode(raw)
            .ok_or_else(|| Refusal::bad_request("the path is not valid percent-encoded UTF-8"))?;
        if decoded == ".."
            || decoded == "."
            || decoded.contains(['/', '\\', '\0'])
            || raw.contains('\\')
        {
            return Err(traversal());
        }
        if decoded.is_empty() {
            continue;
        }
        out.push(decoded);
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Base URL + the partner's sub-path (kept encoded) + the base's query and then the partner's.
fn target_url(base: &url::Url, path: &str, query: Option<&str>) -> url::Url {
    let mut url = base.clone();
    if !path.trim_matches('/').is_empty() {
        let joined = format!(
            "{}/{}",
            base.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
    }
    let merged = match (
        base.query().filter(|q| !q.is_empty()),
        query.filter(|q| !q.is_empty()),
    ) {
        (Some(a), Some(b)) => Some(format!("{a}&{b}")),
        (Some(a), None) => Some(a.to_string()),
        (None, Some(b)) => Some(b.to_string()),
        (None, None) => None,
    };
    url.set_query(merged.as_deref());
    url
}

fn forward_headers(incoming: &HeaderMap, forwarded: &Forwarded) -> HeaderMap {
    let mut headers = incoming.clone();
    for name in DROPPED_REQUEST {
        headers.remove(*name);
    }
    // Headers named in `Connection` are hop-by-hop too.
    if let Some(listed) = incoming
        .get(header::CONNECTION)
        .and_then(|v| v.to_str().ok())
    {
        for name in listed.split(',') {
            headers.remove(name.trim());
        }
    }
    for (name, value) in [
        ("x-forwarded-host", &forwarded.host),
        ("x-forwarded-proto", &forwarded.proto),
        ("x-forwarded-prefix", &forwarded.prefix),
    ] {
        if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_is_refused_however_it_is_written() {
        for bad in [
            "/../etc",
            "/a/%2e%2e/b",
            "/a/%2E%2E",
            "/a%2fb",
            "/a%5c..",
            "/a\\b",
            "/%00",
        ] {
            assert!(decoded_segments(bad).is_err(), "{bad}");
        }
        assert_eq!(
            decoded_segments("/a/b%20c/d.json").unwrap(),
            vec!["a", "b c", "d.json"]
        );
        assert!(decoded_segments("").unwrap().is_empty());
    }

    #[test]
    fn the_target_keeps_the_base_and_adds_path_and_query() {
        let base = url::Url::parse("http://platform:1026/ngsi-ld/v1/entities?type=Road").unwrap();
        assert_eq!(target_url(&base, "", None).as_str(), base.as_str());
        assert_eq!(
            target_url(&base, "/urn:x", Some("attrs=speed")).as_str(),
            "http://platform:1026/ngsi-ld/v1/entities/urn:x?type=Road&attrs=speed"
        );
        let base = url::Url::parse("http://platform/ogc/").unwrap();
        assert_eq!(
            target_url(&base, "/collections/roads/items", Some("limit=5")).as_str(),
            "http://platform/ogc/collections/roads/items?limit=5"
        );
    }

    #[test]
    fn credentials_and_hop_by_hop_headers_stay_behind() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer secret"));
        h.insert("connection", HeaderValue::from_static("close, x-private"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("ngsild-tenant", HeaderValue::from_static("other-city"));
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        h.insert("accept", HeaderValue::from_static("application/json"));
        let out = forward_headers(
            &h,
            &Forwarded {
                host: Some("a.example".into()),
                proto: Some("https".into()),
                prefix: Some("/data/p1".into()),
            },
        );
        assert_eq!(out.get("accept").unwrap(), "application/json");
        for gone in [
            "authorization",
            "connection",
            "x-private",
            "ngsild-tenant",
            "x-forwarded-for",
        ] {
            assert!(out.get(gone).is_none(), "{gone}");
        }
        assert_eq!(out.get("x-forwarded-prefix").unwrap(), "/data/p1");
    }
}
