//! The platforms behind the data plane, as one stable API (also used by the push side):
//!
//! 1. [`Backend::from_distribution`] reads a resource's distribution: `file://` is a directory (or one file),
//!    a distribution with `ngsi_ld` settings is an NGSI-LD broker, one with `ogc_api_processes` settings an OGC
//!    API - Processes server (judged and answered by [`super::processes`], not by [`Backend::prepare`]), anything
//!    else http(s) is a generic HTTP API (OGC API Features, CKAN, any REST).
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
use futures_util::{Stream, StreamExt};

use super::backend_client::{self, BackendClient, SendError};
use super::files;
use super::ngsi_ld::{self, ActiveContext, Filtered};
use super::problem::Refusal;
use super::upload::{self, Waited, Watch};
use crate::catalogue::resource::ProcessesSettings;
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
        credentials: Option<HeaderValue>,
    },
    NgsiLd {
        base: url::Url,
        settings: NgsiLdSettings,
        credentials: Option<HeaderValue>,
    },
    /// An OGC API - Processes server: `base` is its landing page.
    Processes {
        base: url::Url,
        settings: ProcessesSettings,
        credentials: Option<HeaderValue>,
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
    /// The response headers are returned as the platform sent them, for a caller that keeps only what it judged
    /// (see [`Prepared::judged_http`]); otherwise those in [`DROPPED_RESPONSE`] are removed here.
    raw_headers: bool,
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
    /// The backend a distribution names, or why it cannot be served (for the log: it may name the backend).
    pub fn from_distribution(d: &Distribution) -> Result<Backend, String> {
        let mut url = url::Url::parse(&d.backend)
            .map_err(|e| format!("a distribution's backend is not a URL: {e}"))?;
        // Credentials in the URL (`https://user:password@platform/`) are sent as HTTP Basic authentication, as
        // any HTTP client would, and kept out of the request target and the logs.
        let credentials = basic_credentials(&url)?;
        let _ = url.set_username("");
        let _ = url.set_password(None);
        match (url.scheme(), &d.ngsi_ld, &d.ogc_api_processes) {
            ("file", None, None) => url
                .to_file_path()
                .map(|root| Backend::Directory { root })
                .map_err(|_| format!("backend {url} is not a file path")),
            ("http" | "https", Some(settings), None) => Ok(Backend::NgsiLd {
                base: url,
                settings: settings.clone(),
                credentials,
            }),
            ("http" | "https", None, Some(settings)) => Ok(Backend::Processes {
                base: url,
                settings: settings.clone(),
                credentials,
            }),
            ("http" | "https", None, None) => Ok(Backend::Http {
                base: url,
                credentials,
            }),
            _ => Err(format!("distribution backend {url} cannot be served")),
        }
    }

    /// Checks the request and builds what [`Prepared::send`] will do; nothing is contacted.
    pub fn prepare(&self, req: BackendRequest) -> Result<Prepared, Refusal> {
        let segments = decoded_segments(&req.path)?;
        match self {
            // Its calls are judged, answered and recorded by `processes`, which needs the store (jobs) and
            // rewrites what comes back; a push reads a resource once and has nothing to run a model with.
            Backend::Processes { .. } => Err(Refusal::method(
                "a model served as OGC API - Processes is run by the partner through a pull transfer; it cannot \
                 be pushed",
            )),
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
            Backend::Http { base, credentials } => {
                let url = target_url(base, &req.path, req.query.as_deref());
                let headers = forward_headers(&req.headers, &req.forwarded, credentials.as_ref());
                Ok(Prepared {
                    target: Target::Http(Box::new(HttpTarget {
                        method: req.method,
                        url,
                        headers,
                        body: req.body,
                        filter: None,
                        raw_headers: false,
                    })),
                })
            }
            Backend::NgsiLd {
                base,
                settings,
                credentials,
            } => {
                // Reads only: a query in a POST body would escape the judgement below.
                if req.method != Method::GET && req.method != Method::HEAD {
                    return Err(Refusal::method(
                        "this NGSI-LD resource is served read-only (GET and HEAD)",
                    ));
                }
                let link = header_lines(&req.headers, header::LINK)?;
                let accept = header_lines(&req.headers, header::ACCEPT)?.join(",");
                let judged = ngsi_ld::judge(
                    settings,
                    &ngsi_ld::Incoming {
                        endpoint: ngsi_ld::Endpoint::of(base, &segments),
                        link: &link,
                        query: req.query.as_deref(),
                        base_query: base.query(),
                        accept: Some(accept.as_str()).filter(|a| !a.is_empty()),
                    },
                )?;
                // The broker gets the judged request, rebuilt: path from the checked segments, query and `Link`
                // from the parsed values. The partner's own `Link` text never passes.
                let url = judged_url(base, &segments, judged.query.as_deref())?;
                let mut headers =
                    forward_headers(&req.headers, &req.forwarded, credentials.as_ref());
                headers.remove(header::LINK);
                if let Some(link) = &judged.link {
                    let v = HeaderValue::from_str(link).map_err(|_| {
                        Refusal::internal(format!("the judged Link {link} is not a header value"))
                    })?;
                    headers.insert(header::LINK, v);
                }
                if let Some(tenant) = &settings.tenant {
                    let v = HeaderValue::from_str(tenant)
                        .map_err(|_| Refusal::internal("ngsi_ld.tenant is not a header value"))?;
                    headers.insert(HeaderName::from_static("ngsild-tenant"), v);
                }
                let ctx = judged.context;
                let filter = settings.filter_responses.then(|| (settings.clone(), ctx));
                Ok(Prepared {
                    target: Target::Http(Box::new(HttpTarget {
                        method: req.method,
                        url,
                        headers,
                        body: None,
                        filter,
                        raw_headers: false,
                    })),
                })
            }
        }
    }
}

impl Prepared {
    /// A request to an HTTP platform built by a caller that judged every part of it (the OGC API - Processes
    /// rules): sent as given, and its response headers returned untouched for that caller to keep only what it
    /// allows.
    pub fn judged_http(
        method: Method,
        url: url::Url,
        headers: HeaderMap,
        body: Option<BodyStream>,
    ) -> Prepared {
        Prepared {
            target: Target::Http(Box::new(HttpTarget {
                method,
                url,
                headers,
                body,
                filter: None,
                raw_headers: true,
            })),
        }
    }

    /// Contacts the backend. `timeout` bounds how long the platform may stay silent before its response headers
    /// (counted from the last chunk of the request body it took), not the body's duration.
    pub async fn send(
        self,
        client: &BackendClient,
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
                    raw_headers,
                } = *target;
                let uri: axum::http::Uri = url.as_str().parse().map_err(|e| {
                    Refusal::internal(format!("backend URL {url} is not a request target: {e}"))
                })?;
                let (body, upload) = match body {
                    Some(body) => {
                        let (body, watch) = upload::watch(body);
                        (Some(body), Some(watch))
                    }
                    None => (None, None),
                };
                let mut request = axum::http::Request::new(backend_client::outgoing(body));
                *request.method_mut() = method;
                *request.uri_mut() = uri;
                *request.headers_mut() = headers;
                // The timeout is the platform's silence: an upload it keeps reading is progress.
                let sent =
                    upload::within_silence(client.send(request), upload.as_ref(), timeout).await;
                let response = match sent {
                    Waited::Silent => {
                        return Err(Refusal::timeout(format!(
                            "the platform did not answer within {} s",
                            timeout.as_secs()
                        )))
                    }
                    Waited::Done(Err(_))
                        if upload.as_ref().and_then(Watch::client_error).is_some() =>
                    {
                        let why = upload
                            .as_ref()
                            .and_then(Watch::client_error)
                            .unwrap_or_default();
                        return Err(Refusal::bad_request(format!(
                            "the request body could not be read: {why}"
                        )));
                    }
                    Waited::Done(Err(SendError::ConnectTimeout)) => {
                        return Err(Refusal::timeout("the platform did not answer in time"))
                    }
                    Waited::Done(Err(SendError::Unreachable(e))) => {
                        // The operator's log names the platform resource that failed (never its credentials or
                        // query); the partner is told only that the platform cannot be reached.
                        let mut resource = url.clone();
                        let _ = resource.set_username("");
                        let _ = resource.set_password(None);
                        resource.set_query(None);
                        tracing::warn!(backend = %resource, error = %e, "backend unreachable");
                        return Err(Refusal::bad_gateway("the platform cannot be reached"));
                    }
                    Waited::Done(Ok(r)) => r,
                };
                let (parts, body) = response.into_parts();
                let status = parts.status;
                let mut headers = parts.headers;
                if !raw_headers {
                    for name in DROPPED_RESPONSE {
                        headers.remove(*name);
                    }
                }
                match filter {
                    Some((settings, ctx)) if status.is_success() => {
                        let body = read_capped(&headers, body, FILTER_LIMIT, timeout).await?;
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
                        body: backend_client::incoming(body),
                    }),
                }
            }
        }
    }
}

/// `Authorization: Basic` from the URL's user and password (percent-decoded), marked sensitive so it is never
/// logged; `None` without a user.
fn basic_credentials(url: &url::Url) -> Result<Option<HeaderValue>, String> {
    use base64::Engine;
    if url.username().is_empty() && url.password().is_none() {
        return Ok(None);
    }
    let decode = |s: &str| {
        percent_decode(s)
            .ok_or_else(|| "the backend URL's credentials are not valid UTF-8".to_string())
    };
    let user = decode(url.username())?;
    let password = decode(url.password().unwrap_or_default())?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .map_err(|_| "the backend URL's credentials cannot be sent".to_string())?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// Reads a response whole, refusing one larger than `limit` (a filtered response must be parsed).
async fn read_capped(
    headers: &HeaderMap,
    body: hyper::body::Incoming,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, Refusal> {
    if super::tee::declared_length(headers).is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let mut out = Vec::new();
    let mut stream = backend_client::incoming(body);
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
            // `from_str_radix` alone would take `%+1` (a sign) for a byte.
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
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

/// Every line of header `name`, as text; a line that is not text is refused rather than skipped.
fn header_lines(headers: &HeaderMap, name: HeaderName) -> Result<Vec<&str>, Refusal> {
    headers
        .get_all(&name)
        .iter()
        .map(|v| {
            v.to_str()
                .map_err(|_| Refusal::bad_request(format!("the {name} header is not text")))
        })
        .collect()
}

/// The broker URL of a judged NGSI-LD request: the base path, the partner's path segments encoded again from their
/// checked, decoded form (so the broker reads the segments that were judged), the base's own query and then the
/// judged one.
fn judged_url(
    base: &url::Url,
    segments: &[String],
    query: Option<&str>,
) -> Result<url::Url, Refusal> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|_| Refusal::internal(format!("backend {base} cannot take a path")))?
        .pop_if_empty()
        .extend(segments);
    let merged = match (base.query().filter(|q| !q.is_empty()), query) {
        (Some(a), Some(b)) => Some(format!("{a}&{b}")),
        (Some(a), None) => Some(a.to_string()),
        (None, b) => b.map(str::to_string),
    };
    url.set_query(merged.as_deref());
    Ok(url)
}

/// The partner's headers as the platform gets them: ours in place of theirs, with `credentials` (from the backend
/// URL) as the only `Authorization`.
fn forward_headers(
    incoming: &HeaderMap,
    forwarded: &Forwarded,
    credentials: Option<&HeaderValue>,
) -> HeaderMap {
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
    if let Some(c) = credentials {
        headers.insert(header::AUTHORIZATION, c.clone());
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
            "/a%+1b",
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
            None,
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

    #[test]
    fn credentials_in_a_backend_url_become_basic_authentication_and_leave_the_url() {
        let d: Distribution = serde_json::from_value(serde_json::json!({
            "format": "application/json",
            "backend": "https://ckan%40city:p%3Ass@platform.city.example/api/3/action/"
        }))
        .unwrap();
        let Backend::Http { base, credentials } = Backend::from_distribution(&d).unwrap() else {
            panic!("an https backend is generic HTTP");
        };
        assert_eq!(base.as_str(), "https://platform.city.example/api/3/action/");
        let credentials = credentials.expect("credentials");
        assert!(credentials.is_sensitive());
        // base64("ckan@city:p:ss")
        assert_eq!(credentials, "Basic Y2thbkBjaXR5OnA6c3M=");
        let prepared = Backend::Http {
            base,
            credentials: Some(credentials),
        };
        let mut partner = HeaderMap::new();
        partner.insert(
            "authorization",
            HeaderValue::from_static("Bearer partner-token"),
        );
        let Prepared {
            target: Target::Http(target),
        } = prepared
            .prepare(BackendRequest {
                method: Method::GET,
                path: "/package_list".into(),
                query: None,
                headers: partner,
                body: None,
                forwarded: Forwarded::default(),
            })
            .unwrap()
        else {
            panic!("an HTTP target");
        };
        assert_eq!(target.headers.get_all("authorization").iter().count(), 1);
        assert_eq!(
            target.headers["authorization"],
            "Basic Y2thbkBjaXR5OnA6c3M="
        );
    }

    /// A writer the test's log lines go into.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn an_unreachable_platform_is_logged_with_the_resource_asked_for() {
        let log = Captured::default();
        let writer = log.clone();
        let _guard = tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish(),
        );
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let backend = Backend::Http {
            base: url::Url::parse(&format!("http://127.0.0.1:{port}/ogc/")).unwrap(),
            credentials: None,
        };
        let prepared = backend
            .prepare(BackendRequest {
                method: Method::GET,
                path: "/collections/roads/items".into(),
                query: Some("api_key=s3cret".into()),
                headers: HeaderMap::new(),
                body: None,
                forwarded: Forwarded::default(),
            })
            .unwrap();
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let client = BackendClient::new(Duration::from_secs(2), tls);
        let refused = prepared
            .send(&client, Duration::from_secs(2))
            .await
            .err()
            .unwrap();
        assert_eq!(refused.status, StatusCode::BAD_GATEWAY);
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("backend unreachable"), "{text}");
        assert!(
            text.contains(&format!(
                "backend=http://127.0.0.1:{port}/ogc/collections/roads/items"
            )),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
    }
}
