//! Which OGC API - Processes call a partner's request is, judged before anything is contacted: the path below the
//! data address (relative to the model server's landing page, decoded and checked for traversal), the method, the
//! query string and the headers the model server would read. Only the calls of Part 1 a partner needs to run the
//! agreed model are served: the landing page, conformance, the list of processes, a process description, an
//! execution, a job's status, its results and its dismissal. A process outside the resource's list does not exist
//! as far as the partner can tell (`no-such-process`, as the standard answers it); the list of every job on the
//! server (`GET /jobs`) and every other path are refused, never forwarded. What the model server receives is
//! rebuilt from the judged values: the path from the checked segments, the query from the parsed parameters, and
//! only `Accept`, `Prefer` and our own `Content-Type` among the headers.

use axum::http::{header, HeaderMap, Method, StatusCode};

use crate::catalogue::resource::ProcessesSettings;
use crate::dataplane::problem::Refusal;

/// OGC API - Processes Part 1 exception types (`core/openapi/responses/NotFound.yaml`), answered with their own
/// type URIs so clients of the standard recognise them.
pub const NO_SUCH_PROCESS: &str =
    "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process";
pub const NO_SUCH_JOB: &str =
    "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job";

/// Longest job id accepted; servers use UUIDs.
const MAX_JOB_ID: usize = 128;
/// Largest `limit` passed on for the list of processes.
const MAX_LIMIT: u64 = 10_000;
/// Longest `wait` preference passed on, in seconds.
const MAX_WAIT: u64 = 86_400;

/// What the calls served are, for refusals that explain them.
pub const SERVED: &str = "GET /, GET /conformance, GET /processes, GET /processes/{id}, \
POST /processes/{id}/execution, GET /jobs/{jobId}, GET /jobs/{jobId}/results, DELETE /jobs/{jobId}";

/// A path below the landing page that names something served, whatever the method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Landing,
    Conformance,
    ProcessList,
    Process(String),
    Execution(String),
    Job(String),
    Results(String),
}

/// One call a partner may make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Landing,
    Conformance,
    ProcessList,
    Describe(String),
    Execute(String),
    Status(String),
    Results(String),
    Dismiss(String),
}

/// The query parameters passed on, parsed; rebuilt in one order and one encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `f=json`: the only representation served (links in HTML pages cannot be rewritten).
    pub json: bool,
    /// `limit` on the list of processes.
    pub limit: Option<u64>,
}

impl Query {
    /// The query string the model server gets, or `None` for none.
    pub fn text(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.json {
            parts.push("f=json".to_string());
        }
        if let Some(n) = self.limit {
            parts.push(format!("limit={n}"));
        }
        (!parts.is_empty()).then(|| parts.join("&"))
    }
}

impl Call {
    /// Whether this call runs the model: the one call counted against a count limit and judged as `execute`.
    pub fn is_execution(&self) -> bool {
        matches!(self, Call::Execute(_))
    }

    /// The method the model server gets (and the policy judges: GET reads, POST on a model executes, DELETE
    /// deletes, as for every data-plane request).
    pub fn method(&self) -> Method {
        match self {
            Call::Execute(_) => Method::POST,
            Call::Dismiss(_) => Method::DELETE,
            _ => Method::GET,
        }
    }

    /// The process the call names, if any (a job's process is known only from its record).
    pub fn process(&self) -> Option<&str> {
        match self {
            Call::Describe(id) | Call::Execute(id) => Some(id),
            _ => None,
        }
    }

    pub fn job(&self) -> Option<&str> {
        match self {
            Call::Status(id) | Call::Results(id) | Call::Dismiss(id) => Some(id),
            _ => None,
        }
    }

    /// Whether the answer may be something other than JSON: the outputs of a run are the model's to choose
    /// (`response=raw`); every other document of the standard is JSON, which is what lets its links be rewritten.
    pub fn may_answer_raw(&self) -> bool {
        matches!(self, Call::Execute(_) | Call::Results(_))
    }

    /// The path segments below the landing page, decoded (the URL encodes them again).
    pub fn segments(&self) -> Vec<&str> {
        match self {
            Call::Landing => vec![],
            Call::Conformance => vec!["conformance"],
            Call::ProcessList => vec!["processes"],
            Call::Describe(id) => vec!["processes", id],
            Call::Execute(id) => vec!["processes", id, "execution"],
            Call::Status(id) | Call::Dismiss(id) => vec!["jobs", id],
            Call::Results(id) => vec!["jobs", id, "results"],
        }
    }
}

fn no_such_process(id: &str) -> Refusal {
    Refusal::standard(
        StatusCode::NOT_FOUND,
        NO_SUCH_PROCESS,
        format!("there is no process {id:?} in this agreement's model"),
    )
}

/// The refusal for a job the partner cannot reach: unknown, or started under another agreement (told apart for
/// nobody, so job ids of others are not confirmed).
pub fn no_such_job(id: &str) -> Refusal {
    Refusal::standard(
        StatusCode::NOT_FOUND,
        NO_SUCH_JOB,
        format!("there is no job {id:?} started under this agreement"),
    )
}

fn job_id(id: &str) -> Result<String, Refusal> {
    let ok = !id.is_empty()
        && id.len() <= MAX_JOB_ID
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(id.to_string())
    } else {
        Err(no_such_job(id))
    }
}

fn visible(settings: &ProcessesSettings, id: &str) -> Result<String, Refusal> {
    if settings.processes.iter().any(|p| p == id) {
        Ok(id.to_string())
    } else {
        Err(no_such_process(id))
    }
}

/// What `segments` (decoded, below the landing page) and `query` (still encoded) name, whatever the method.
pub fn route(
    settings: &ProcessesSettings,
    segments: &[String],
    query: Option<&str>,
) -> Result<(Route, Query), Refusal> {
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let route = match seg.as_slice() {
        [] => Route::Landing,
        ["conformance"] => Route::Conformance,
        ["processes"] => Route::ProcessList,
        ["processes", id] => Route::Process(visible(settings, id)?),
        ["processes", id, "execution"] => Route::Execution(visible(settings, id)?),
        ["jobs"] => {
            return Err(Refusal::forbidden(
                "the list of jobs is not served: it holds every job on the model server, other partners' \
                 included; poll the job your execution returned (its Location)",
            ))
        }
        ["jobs", id] => Route::Job(job_id(id)?),
        ["jobs", id, "results"] => Route::Results(job_id(id)?),
        _ => {
            return Err(Refusal::forbidden(format!(
                "this path is not served for the agreed model; the calls served are {SERVED}"
            )))
        }
    };
    let query = judge_query(&route, query)?;
    Ok((route, query))
}

/// The call `method` makes on `route`.
pub fn call(method: &Method, route: Route) -> Result<Call, Refusal> {
    let wrong = |allowed: &str| {
        Refusal::method(format!(
            "{method} is not served here ({allowed}); the calls served are {SERVED}"
        ))
    };
    Ok(match (method.as_str(), route) {
        ("GET", Route::Landing) => Call::Landing,
        ("GET", Route::Conformance) => Call::Conformance,
        ("GET", Route::ProcessList) => Call::ProcessList,
        ("GET", Route::Process(id)) => Call::Describe(id),
        ("POST", Route::Execution(id)) => Call::Execute(id),
        ("GET", Route::Job(id)) => Call::Status(id),
        ("DELETE", Route::Job(id)) => Call::Dismiss(id),
        ("GET", Route::Results(id)) => Call::Results(id),
        (_, Route::Execution(_)) => return Err(wrong("POST only")),
        (_, Route::Job(_)) => return Err(wrong("GET or DELETE")),
        _ => return Err(wrong("GET only")),
    })
}

fn judge_query(route: &Route, query: Option<&str>) -> Result<Query, Refusal> {
    let mut out = Query::default();
    let mut seen: Vec<String> = Vec::new();
    let text = query.unwrap_or_default();
    for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
        if seen.iter().any(|s| *s == name) {
            return Err(Refusal::bad_request(format!(
                "query parameter {name} is given twice"
            )));
        }
        seen.push(name.to_string());
        match (name.as_ref(), route) {
            ("f", _) if value == "json" => out.json = true,
            ("f", _) => {
                return Err(Refusal::bad_request(format!(
                    "f={value} is not served: only JSON (f=json) is, so that its links can be rewritten"
                )))
            }
            ("limit", Route::ProcessList) => {
                let n = value
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        Refusal::bad_request(format!(
                            "limit must be a whole number from 1 to {MAX_LIMIT}"
                        ))
                    })?;
                out.limit = Some(n);
            }
            _ => {
                return Err(Refusal::bad_request(format!(
                    "query parameter {name} is not served here (served: f=json, and limit on /processes)"
                )))
            }
        }
    }
    Ok(out)
}

/// The `Prefer` header (RFC 7240) the model server gets: each preference parsed and known, rebuilt as
/// `a, b=1`; `None` when the partner stated none. OGC API - Processes reads `respond-async` (and servers
/// `wait`); `respond-sync` is what OWSLib sends for a synchronous call.
pub fn prefer(headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    let mut out: Vec<String> = Vec::new();
    for line in headers.get_all("prefer") {
        let line = line
            .to_str()
            .map_err(|_| Refusal::bad_request("the Prefer header is not text"))?;
        for item in line.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if item.contains(';') {
                return Err(Refusal::bad_request(format!(
                    "Prefer {item:?}: preference parameters are not passed on"
                )));
            }
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (
                    n.trim().to_ascii_lowercase(),
                    Some(v.trim().trim_matches('"')),
                ),
                None => (item.to_ascii_lowercase(), None),
            };
            let judged = match (name.as_str(), value) {
                ("respond-async" | "respond-sync", None) => name.clone(),
                ("wait", Some(v)) => match v.parse::<u64>() {
                    Ok(n) if n <= MAX_WAIT => format!("wait={n}"),
                    _ => {
                        return Err(Refusal::bad_request(format!(
                            "Prefer wait={v}: a number of seconds up to {MAX_WAIT}"
                        )))
                    }
                },
                ("return", Some(v)) if matches!(v, "minimal" | "representation") => {
                    format!("return={v}")
                }
                ("handling", Some(v)) if matches!(v, "strict" | "lenient") => {
                    format!("handling={v}")
                }
                _ => {
                    return Err(Refusal::bad_request(format!(
                        "Prefer {item:?} is not passed on (known: respond-async, respond-sync, wait=N, \
                         return=minimal|representation, handling=strict|lenient)"
                    )))
                }
            };
            if !out.contains(&judged) {
                out.push(judged);
            }
        }
    }
    Ok((!out.is_empty()).then(|| out.join(", ")))
}

/// The `Accept` header the model server gets. Documents of the standard are asked as JSON whatever the partner
/// said. For a run's outputs the partner chooses, except HTML pages: a server answers those with links to
/// itself that cannot be rewritten, so HTML ranges are left out (and a request for nothing else is refused).
pub fn accept(call: &Call, headers: &HeaderMap) -> Result<String, Refusal> {
    const JSON: &str = "application/json";
    if !call.may_answer_raw() {
        return Ok(JSON.to_string());
    }
    let mut ranges: Vec<String> = Vec::new();
    let mut html = false;
    for line in headers.get_all(header::ACCEPT) {
        let line = line
            .to_str()
            .map_err(|_| Refusal::bad_request("the Accept header is not text"))?;
        for item in line.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let range = media_range(item).ok_or_else(|| {
                Refusal::bad_request(format!("Accept {item:?} is not a media range"))
            })?;
            let kind = range.split(';').next().unwrap_or_default();
            if kind == "text/html" || kind == "application/xhtml+xml" {
                html = true;
                continue;
            }
            ranges.push(range);
        }
    }
    match (ranges.is_empty(), html) {
        (true, true) => Err(Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            "HTML pages of the model server are not served (their links to it cannot be rewritten); ask for \
             JSON or the output's own media type",
        )),
        (true, false) => Ok("*/*".to_string()),
        (false, _) => Ok(ranges.join(", ")),
    }
}

fn token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// A media range `type/subtype` with `;name=value` parameters (tokens, or a quoted value without quotes or
/// backslashes inside), rebuilt without spaces; `None` when it is not one.
fn media_range(item: &str) -> Option<String> {
    let mut parts = item.split(';').map(str::trim);
    let kind = parts.next()?.to_ascii_lowercase();
    let (t, s) = kind.split_once('/')?;
    if !token(t) || !token(s) {
        return None;
    }
    let mut out = kind.clone();
    for p in parts {
        let (n, v) = p.split_once('=')?;
        let (n, v) = (n.trim(), v.trim());
        let quoted = v.len() >= 2
            && v.starts_with('"')
            && v.ends_with('"')
            && !v[1..v.len() - 1].contains(['"', '\\']);
        if !token(n) || !(token(v) || quoted) {
            return None;
        }
        out.push_str(&format!(";{n}={v}"));
    }
    Some(out)
}

/// Whether a media type (a `Content-Type` value) is JSON: `application/json` or any `+json` type.
pub fn is_json(content_type: &str) -> bool {
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    kind == "application/json" || (kind.starts_with("application/") && kind.ends_with("+json"))
}

/// Whether a media type is an HTML page, whose links to the model server cannot be rewritten.
pub fn is_html(content_type: &str) -> bool {
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    kind == "text/html" || kind == "application/xhtml+xml"
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn settings() -> ProcessesSettings {
        ProcessesSettings {
            processes: vec!["hello-world".into(), "flood.v2".into()],
        }
    }

    fn judged(method: Method, path: &str, query: Option<&str>) -> Result<(Call, Query), Refusal> {
        let segments = crate::dataplane::backend::decoded_segments(path)?;
        let (route, query) = route(&settings(), &segments, query)?;
        Ok((call(&method, route)?, query))
    }

    fn ok(method: Method, path: &str) -> Call {
        judged(method, path, None).unwrap().0
    }

    fn refused(method: Method, path: &str, query: Option<&str>) -> Refusal {
        judged(method, path, query).unwrap_err()
    }

    #[test]
    fn each_call_of_the_standard_a_partner_needs_is_served() {
        assert_eq!(ok(Method::GET, ""), Call::Landing);
        assert_eq!(ok(Method::GET, "/"), Call::Landing);
        assert_eq!(ok(Method::GET, "/conformance"), Call::Conformance);
        assert_eq!(ok(Method::GET, "/processes"), Call::ProcessList);
        assert_eq!(ok(Method::GET, "/processes/"), Call::ProcessList);
        assert_eq!(
            ok(Method::GET, "/processes/hello-world"),
            Call::Describe("hello-world".into())
        );
        assert_eq!(
            ok(Method::POST, "/processes/flood.v2/execution"),
            Call::Execute("flood.v2".into())
        );
        assert_eq!(
            ok(Method::GET, "/jobs/5d4c-91"),
            Call::Status("5d4c-91".into())
        );
        assert_eq!(
            ok(Method::GET, "/jobs/5d4c-91/results"),
            Call::Results("5d4c-91".into())
        );
        assert_eq!(
            ok(Method::DELETE, "/jobs/5d4c-91"),
            Call::Dismiss("5d4c-91".into())
        );
        // Percent-encoded names are judged decoded.
        assert_eq!(
            ok(Method::GET, "/processes/hello%2Dworld"),
            Call::Describe("hello-world".into())
        );
        assert!(ok(Method::POST, "/processes/hello-world/execution").is_execution());
        assert!(!ok(Method::GET, "/jobs/j/results").is_execution());
    }

    #[test]
    fn a_hidden_process_does_not_exist_for_the_partner() {
        for (method, path) in [
            (Method::GET, "/processes/secret-model"),
            (Method::POST, "/processes/secret-model/execution"),
            (Method::GET, "/processes/Hello-World"),
        ] {
            let r = refused(method, path, None);
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(r.slug, NO_SUCH_PROCESS, "{path}");
        }
    }

    #[test]
    fn the_job_list_other_paths_and_other_methods_are_refused() {
        let r = refused(Method::GET, "/jobs", None);
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.detail.contains("other partners"), "{}", r.detail);
        for path in [
            "/openapi",
            "/collections/roads/items",
            "/processes/hello-world/execution/x",
            "/jobs/j/results/echo",
            "/TileMatrixSets",
        ] {
            let r = refused(Method::GET, path, None);
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
            assert!(
                r.detail.contains("POST /processes/{id}/execution"),
                "{path}"
            );
        }
        for (method, path) in [
            (Method::GET, "/processes/hello-world/execution"),
            (Method::PUT, "/processes/hello-world/execution"),
            (Method::POST, "/processes/hello-world"),
            (Method::POST, "/jobs/j"),
            (Method::DELETE, "/jobs/j/results"),
            (Method::POST, "/"),
            (Method::HEAD, "/conformance"),
            (Method::OPTIONS, "/processes"),
        ] {
            let r = refused(method.clone(), path, None);
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
        // Traversal is refused before anything is judged, however it is encoded.
        assert_eq!(
            refused(Method::GET, "/processes/%2e%2e/jobs", None).status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn a_job_id_outside_the_id_rule_is_no_job_of_anyone() {
        for id in ["..x", "a%20b", "a:b", &"j".repeat(129)] {
            let r = refused(Method::GET, &format!("/jobs/{id}"), None);
            assert_eq!(r.slug, NO_SUCH_JOB, "{id}");
        }
    }

    #[test]
    fn the_query_is_parsed_and_rebuilt() {
        let (_, q) = judged(Method::GET, "/processes", Some("limit=5&f=json")).unwrap();
        assert_eq!(q.text().as_deref(), Some("f=json&limit=5"));
        let (_, q) = judged(Method::GET, "/jobs/j", None).unwrap();
        assert_eq!(q.text(), None);
        for (path, query) in [
            ("/processes", "f=html"),
            ("/processes", "f=json&f=json"),
            ("/processes", "limit=0"),
            ("/processes", "limit=x"),
            ("/jobs/j", "limit=5"),
            ("/processes/hello-world", "callback=http://x"),
        ] {
            assert_eq!(
                refused(Method::GET, path, Some(query)).status,
                StatusCode::BAD_REQUEST,
                "{path}?{query}"
            );
        }
    }

    #[test]
    fn prefer_is_judged_and_rebuilt() {
        let mut h = HeaderMap::new();
        assert_eq!(prefer(&h).unwrap(), None);
        h.insert("prefer", HeaderValue::from_static("respond-async"));
        assert_eq!(prefer(&h).unwrap().as_deref(), Some("respond-async"));
        h.insert(
            "prefer",
            HeaderValue::from_static("Respond-Async ,wait=10, return=minimal"),
        );
        assert_eq!(
            prefer(&h).unwrap().as_deref(),
            Some("respond-async, wait=10, return=minimal")
        );
        for bad in [
            "respond-async; x=1",
            "wait=forever",
            "x-debug",
            "return=everything",
        ] {
            h.insert("prefer", HeaderValue::from_static(bad));
            assert_eq!(
                prefer(&h).unwrap_err().status,
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
    }

    #[test]
    fn documents_are_asked_as_json_and_outputs_never_as_html_pages() {
        let mut h = HeaderMap::new();
        h.insert("accept", HeaderValue::from_static("text/html"));
        assert_eq!(
            accept(&Call::Describe("hello-world".into()), &h).unwrap(),
            "application/json"
        );
        let results = Call::Results("j".into());
        assert_eq!(
            accept(&results, &h).unwrap_err().status,
            StatusCode::NOT_ACCEPTABLE
        );
        h.insert(
            "accept",
            HeaderValue::from_static("text/html,application/xhtml+xml,image/png;q=0.9,*/*;q=0.8"),
        );
        assert_eq!(accept(&results, &h).unwrap(), "image/png;q=0.9, */*;q=0.8");
        h.remove("accept");
        assert_eq!(accept(&results, &h).unwrap(), "*/*");
        h.insert("accept", HeaderValue::from_static("image/png, bad range"));
        assert!(accept(&results, &h).is_err());
    }

    #[test]
    fn json_and_html_media_types_are_told_apart() {
        assert!(is_json("application/json"));
        assert!(is_json("application/problem+json; charset=utf-8"));
        assert!(is_json("Application/Geo+JSON"));
        assert!(!is_json("text/json-ish"));
        assert!(!is_json("image/png"));
        assert!(is_html("text/html; charset=utf-8"));
        assert!(!is_html("application/json"));
    }
}
