//! A small OGC API - Processes server on loopback, answering at once: the model server of `twinport bench
//! processes` (whose figure is the proxy's own cost) and of the end-to-end tests of the data plane's rules. It has
//! two processes, `hello-world` (inputs `name`, `message`; output `echo`) and `secret-model` (which an agreement
//! hides), runs every execution at once, synchronously or, with `Prefer: respond-async`, as a job answered `201`
//! with an absolute `Location`; names itself by absolute URLs in every link, as servers do; lists every job at
//! `GET /jobs`; and keeps what reached it ([`Seen`]) so a test can tell what the data plane forwarded.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

/// A running stub: its landing page and what reached it.
pub struct ProcessStub {
    /// The landing page, `http://127.0.0.1:<port>` (no final `/`).
    pub url: String,
    pub seen: Seen,
}

/// One request as the stub received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// What reached the stub.
#[derive(Clone, Default)]
pub struct Seen {
    requests: Arc<Mutex<Vec<Received>>>,
    /// Only counted, not kept, once `keep` is false (the benchmark).
    hits: Arc<AtomicUsize>,
    keep: bool,
}

impl Seen {
    /// Every request that reached the stub, oldest first.
    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// The last request, if any.
    pub fn last(&self) -> Option<Received> {
        self.requests.lock().ok().and_then(|r| r.last().cloned())
    }
}

#[derive(Clone)]
struct Stub {
    url: Arc<str>,
    seen: Seen,
    jobs: Arc<Mutex<BTreeMap<String, Value>>>,
}

impl Stub {
    fn note(&self, method: &str, target: String, headers: &HeaderMap, body: &[u8]) {
        self.seen.hits.fetch_add(1, Ordering::SeqCst);
        if self.seen.keep {
            if let Ok(mut r) = self.seen.requests.lock() {
                r.push(Received {
                    method: method.to_string(),
                    target,
                    headers: headers.clone(),
                    body: body.to_vec(),
                });
            }
        }
    }
}

/// Starts the stub on `127.0.0.1:0`; with `keep`, every request is kept for [`Seen::requests`].
pub async fn start(keep: bool) -> anyhow::Result<ProcessStub> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let seen = Seen {
        keep,
        ..Seen::default()
    };
    let stub = Stub {
        url: Arc::from(url.as_str()),
        seen: seen.clone(),
        jobs: Arc::default(),
    };
    let app = Router::new()
        .route("/", get(landing))
        .route("/conformance", get(conformance))
        .route("/processes", get(processes))
        .route("/processes/{id}", get(process))
        .route("/processes/{id}/execution", axum::routing::post(execute))
        .route("/jobs", get(jobs))
        .route("/jobs/{id}", get(job).delete(dismiss))
        .route("/jobs/{id}/results", get(results))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such path").into_response() })
        .layer(axum::middleware::from_fn_with_state(
            stub.clone(),
            keep_request,
        ))
        .with_state(stub);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(ProcessStub { url, seen })
}

/// Keeps each request (its body too) before it is routed.
async fn keep_request(
    State(stub): State<Stub>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    stub.note(
        parts.method.as_str(),
        parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        &parts.headers,
        &bytes,
    );
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn exception(kind: &str, detail: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"type": format!("http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/{kind}"),
                "title": kind, "status": 404, "detail": detail}),
    )
}

async fn landing(State(stub): State<Stub>) -> Response {
    let u = &stub.url;
    json_response(
        StatusCode::OK,
        &json!({"title": "Stub model server", "links": [
            {"rel": "self", "type": "application/json", "href": format!("{u}/?f=json")},
            {"rel": "alternate", "type": "text/html", "href": format!("{u}/?f=html")},
            {"rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "href": format!("{u}/openapi")},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/conformance", "href": format!("{u}/conformance")},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/processes", "href": format!("{u}/processes")},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/job-list", "href": format!("{u}/jobs")},
            {"rel": "license", "href": "https://creativecommons.org/licenses/by/4.0/"}
        ]}),
    )
}

async fn conformance() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"conformsTo": [
            "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
            "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
            "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss"
        ]}),
    )
}

const PROCESSES: [&str; 2] = ["hello-world", "secret-model"];

fn summary(u: &str, id: &str) -> Value {
    json!({"id": id, "version": "1.0.0", "title": id,
           "jobControlOptions": ["sync-execute", "async-execute", "dismiss"],
           "outputTransmission": ["value"],
           "links": [{"rel": "self", "type": "application/json", "href": format!("{u}/processes/{id}?f=json")},
                     {"rel": "http://www.opengis.net/def/rel/ogc/1.0/execute", "href": format!("{u}/processes/{id}/execution")}]})
}

async fn processes(State(stub): State<Stub>) -> Response {
    let u = &stub.url;
    json_response(
        StatusCode::OK,
        &json!({"processes": PROCESSES.iter().map(|id| summary(u, id)).collect::<Vec<_>>(),
                "links": [{"rel": "self", "href": format!("{u}/processes?f=json")}]}),
    )
}

async fn process(State(stub): State<Stub>, Path(id): Path<String>) -> Response {
    if !PROCESSES.contains(&id.as_str()) {
        return exception("no-such-process", "no such process");
    }
    let mut doc = summary(&stub.url, &id);
    doc["inputs"] = json!({"name": {"schema": {"type": "string"}, "minOccurs": 1},
                           "message": {"schema": {"type": "string"}, "minOccurs": 0}});
    doc["outputs"] =
        json!({"echo": {"schema": {"type": "object", "contentMediaType": "application/json"}}});
    json_response(StatusCode::OK, &doc)
}

fn status_info(u: &str, id: &str, status: &str) -> Value {
    json!({"jobID": id, "type": "process", "processID": "hello-world", "status": status,
           "message": format!("job written to {u}/outputs/{id}"),
           "links": [{"rel": "self", "type": "application/json", "href": format!("{u}/jobs/{id}?f=json")},
                     {"rel": "alternate", "type": "text/html", "href": format!("{u}/jobs/{id}?f=html")},
                     {"rel": "http://www.opengis.net/def/rel/ogc/1.0/results", "type": "application/json", "href": format!("{u}/jobs/{id}/results?f=json")},
                     {"rel": "http://www.opengis.net/def/rel/ogc/1.0/job-list", "href": format!("{u}/jobs")}]})
}

async fn execute(
    State(stub): State<Stub>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !PROCESSES.contains(&id.as_str()) {
        return exception("no-such-process", "no such process");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"type": "InvalidParameterValue", "detail": "invalid request data"}),
        );
    };
    let name = request["inputs"]["name"].as_str().unwrap_or("world");
    let echo = format!(
        "Hello {name}! {}",
        request["inputs"]["message"].as_str().unwrap_or_default()
    )
    .trim()
    .to_string();
    let results = json!({"echo": {"value": echo, "mediaType": "text/plain"}});
    let prefer = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let u = stub.url.clone();
    if prefer.split(',').any(|p| p.trim() == "respond-async") {
        let job = uuid::Uuid::new_v4().to_string();
        if let Ok(mut jobs) = stub.jobs.lock() {
            jobs.insert(job.clone(), results);
        }
        let mut r = json_response(StatusCode::CREATED, &status_info(&u, &job, "accepted"));
        let h = r.headers_mut();
        if let Ok(v) = format!("{u}/jobs/{job}").parse() {
            h.insert(header::LOCATION, v);
        }
        h.insert(
            "preference-applied",
            "respond-async".parse().expect("header"),
        );
        h.insert("server", "stub/1.0".parse().expect("header"));
        h.insert("x-backend-node", "model-7".parse().expect("header"));
        h.insert(
            header::LINK,
            format!("<{u}/jobs/{job}>; rel=\"monitor\"")
                .parse()
                .expect("header"),
        );
        return r;
    }
    let mut r = if request["response"] == "raw" {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            echo.clone(),
        )
            .into_response()
    } else {
        json_response(StatusCode::OK, &results)
    };
    if !prefer.is_empty() {
        if let Ok(v) = prefer.parse() {
            r.headers_mut().insert("preference-applied", v);
        }
    }
    r
}

async fn jobs(State(stub): State<Stub>) -> Response {
    let ids: Vec<String> = stub
        .jobs
        .lock()
        .map(|j| j.keys().cloned().collect())
        .unwrap_or_default();
    let u = stub.url.clone();
    json_response(
        StatusCode::OK,
        &json!({"jobs": ids.iter().map(|id| status_info(&u, id, "successful")).collect::<Vec<_>>()}),
    )
}

async fn job(State(stub): State<Stub>, Path(id): Path<String>) -> Response {
    let known = stub.jobs.lock().is_ok_and(|j| j.contains_key(&id));
    if !known {
        return exception("no-such-job", "no such job");
    }
    json_response(StatusCode::OK, &status_info(&stub.url, &id, "successful"))
}

async fn results(State(stub): State<Stub>, Path(id): Path<String>) -> Response {
    let found = stub.jobs.lock().ok().and_then(|j| j.get(&id).cloned());
    match found {
        Some(r) => json_response(StatusCode::OK, &r),
        None => exception("no-such-job", "no such job"),
    }
}

async fn dismiss(State(stub): State<Stub>, Path(id): Path<String>) -> Response {
    let removed = stub.jobs.lock().ok().and_then(|mut j| j.remove(&id));
    match removed {
        Some(_) => json_response(StatusCode::OK, &status_info(&stub.url, &id, "dismissed")),
        None => exception("no-such-job", "no such job"),
    }
}
