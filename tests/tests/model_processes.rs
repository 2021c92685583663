//! A partner's model used through the data plane like any transfer (MIM8 R3.2): city A offers a model-or-service
//! resource served by an OGC API - Processes server, city B negotiates it and starts a pull transfer, and the model
//! is listed, described, executed (synchronously and as a job), polled, read and dismissed through A's data plane,
//! and by a city application through B's local endpoint.
//!
//! The rules are checked against a stub model server that keeps what reached it (a hidden process, another's job
//! and the job list are never forwarded; only judged headers and the canonical inputs are; `Location` and links
//! name the data address; only executions use up a count limit; receipts and both audit logs carry the digests of
//! inputs and results). The whole run is then made by OWSLib 0.35.0 against pygeoapi 0.21.0, which `.ci/run`
//! installs and names in `TWINPORT_PY_PROCESSES`; without it that test prints that it was skipped.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use twinport_contracts::receipt::SignedReceipt;
use twinport_e2e::model_server::{local_endpoint, model_transfer, process_stub, Pygeoapi};
use twinport_e2e::open_catalogue::{python, python_ok};
use twinport_e2e::{
    access_receipts_received, city_pair, data_access, data_accesses, request_id, City,
    PullTransfer, Storage,
};

const NO_SUCH_PROCESS: &str =
    "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process";
const NO_SUCH_JOB: &str =
    "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job";

fn open_policy() -> Value {
    json!({"permission": [{"action": "use"}]})
}

/// Two executions, whatever else.
fn two_runs() -> Value {
    json!({"permission": [{"action": "use",
        "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 2}]}]})
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn call(p: &PullTransfer, method: Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", p.endpoint))
        .bearer_auth(&p.token)
}

async fn json_of(r: reqwest::Response) -> Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

async fn problem(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let content_type = r.headers().get("content-type").cloned();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    assert_eq!(content_type.unwrap(), "application/problem+json");
    serde_json::from_str(&text).unwrap()
}

/// Every `href` in a document, wherever it is.
fn hrefs(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                match (k.as_str(), c) {
                    ("href", Value::String(s)) => out.push(s.clone()),
                    _ => out.extend(hrefs(c)),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| out.extend(hrefs(i))),
        _ => {}
    }
    out
}

/// The job id a data-plane `Location` names.
fn job_of(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_string()
}

async fn receipt(
    a: &City,
    p: &PullTransfer,
    headers: &reqwest::header::HeaderMap,
) -> SignedReceipt {
    let url = headers["twinport-receipt"].to_str().unwrap();
    let r = reqwest::Client::new()
        .get(url)
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let signed = SignedReceipt::from_json(&r.bytes().await.unwrap()).unwrap();
    signed.verify(&a.key.jwks()).expect("signed by city A");
    signed
}

#[tokio::test]
async fn hidden_processes_other_jobs_and_the_job_list_never_reach_the_model_server() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let stub = process_stub::start(true).await.unwrap();
        let p = model_transfer(
            &a,
            &b,
            "urn:ldt:t:model",
            open_policy(),
            &stub.url,
            &["hello-world"],
        )
        .await;
        let before = stub.seen.hits();

        for (method, path) in [
            (Method::GET, "/processes/secret-model"),
            (Method::POST, "/processes/secret-model/execution"),
        ] {
            let r = call(&p, method, path)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let body = problem(r, 404).await;
            assert_eq!(body["type"], NO_SUCH_PROCESS, "{path}: {body}");
        }
        let body = problem(call(&p, Method::GET, "/jobs").send().await.unwrap(), 403).await;
        assert!(
            body["detail"].as_str().unwrap().contains("other partners"),
            "{body}"
        );
        for path in ["/openapi", "/collections", "/jobs/x/results/echo"] {
            let body = problem(call(&p, Method::GET, path).send().await.unwrap(), 403).await;
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("POST /processes/{id}/execution"),
                "{body}"
            );
        }
        let r = call(&p, Method::PUT, "/processes/hello-world/execution")
            .send()
            .await
            .unwrap();
        problem(r, 405).await;

        // A job the server has, started by someone else directly: it exists, but not for this agreement.
        let direct = reqwest::Client::new()
            .post(format!("{}/processes/hello-world/execution", stub.url))
            .header("prefer", "respond-async")
            .json(&json!({"inputs": {"name": "someone else"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(direct.status(), 201);
        let theirs = job_of(direct.headers()["location"].to_str().unwrap());
        let before_theirs = stub.seen.hits();
        for (method, path) in [
            (Method::GET, format!("/jobs/{theirs}")),
            (Method::GET, format!("/jobs/{theirs}/results")),
            (Method::DELETE, format!("/jobs/{theirs}")),
        ] {
            let body = problem(call(&p, method, &path).send().await.unwrap(), 404).await;
            assert_eq!(body["type"], NO_SUCH_JOB, "{path}");
        }
        assert_eq!(
            stub.seen.hits(),
            before_theirs,
            "no refused call reached the model server"
        );

        // Another agreement's job, started through the data plane: out of reach of this one too.
        let q = model_transfer(
            &a,
            &b,
            "urn:ldt:t:model-2",
            open_policy(),
            &stub.url,
            &["hello-world"],
        )
        .await;
        let r = call(&q, Method::POST, "/processes/hello-world/execution")
            .header("prefer", "respond-async")
            .json(&json!({"inputs": {"name": "B, second agreement"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let second = job_of(r.headers()["location"].to_str().unwrap());
        let hits = stub.seen.hits();
        let body = problem(
            call(&p, Method::GET, &format!("/jobs/{second}"))
                .send()
                .await
                .unwrap(),
            404,
        )
        .await;
        assert_eq!(body["type"], NO_SUCH_JOB);
        assert_eq!(stub.seen.hits(), hits);
        let mine = call(&q, Method::GET, &format!("/jobs/{second}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            mine.status(),
            200,
            "the agreement that started it reaches it"
        );
        assert_eq!(stub.seen.hits(), hits + 1);

        // Only the second agreement's two calls reached the server, besides the direct one.
        assert_eq!(stub.seen.hits(), before + 3);
        let refused: Vec<Value> = data_accesses(&a)
            .await
            .into_iter()
            .filter(|e| e["details"]["outcome"] == "refused")
            .collect();
        assert!(
            refused
                .iter()
                .any(|e| e["details"]["problem"] == NO_SUCH_JOB
                    && e["details"]["job"] == theirs.as_str()),
            "refusals are recorded: {refused:#?}"
        );
        assert!(refused
            .iter()
            .any(|e| e["details"]["problem"] == NO_SUCH_PROCESS));
    }
}

#[tokio::test]
async fn an_execution_reaches_the_model_as_judged_and_its_job_is_named_only_by_the_data_address() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let stub = process_stub::start(true).await.unwrap();
        let p = model_transfer(
            &a,
            &b,
            "urn:ldt:t:model",
            open_policy(),
            &stub.url,
            &["hello-world"],
        )
        .await;
        // Written as a client might: spaces, members in any order. The model gets the RFC 8785 form.
        let sent =
            br#"{ "response": "document", "inputs": { "name": "City B", "message": "async" } }"#;
        let canonical = br#"{"inputs":{"message":"async","name":"City B"},"response":"document"}"#;
        let r = call(&p, Method::POST, "/processes/hello-world/execution")
            .header("content-type", "application/json")
            .header("prefer", "respond-async")
            .header("accept-language", "nl")
            .header("accept-encoding", "gzip")
            .header("cookie", "session=1")
            .header("x-forwarded-for", "10.0.0.1")
            .header("x-debug", "1")
            .header("twinport-purpose", "dpv:ResearchAndDevelopment")
            .body(sent.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let headers = r.headers().clone();
        let location = headers["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(&format!("{}/jobs/", p.endpoint)),
            "{location}"
        );
        assert_eq!(headers["preference-applied"], "respond-async");
        for private in ["server", "x-backend-node", "link", "content-location"] {
            assert!(headers.get(private).is_none(), "{private} is not passed on");
        }
        let body = r.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains(&stub.url), "{text}");
        let status: Value = serde_json::from_slice(&body).unwrap();
        for href in hrefs(&status) {
            assert!(href.starts_with(&p.endpoint), "{href}");
        }
        assert!(!hrefs(&status)
            .iter()
            .any(|h| h.ends_with("/jobs") || h.contains("f=html")));

        // What the model server received: the judged headers and the canonical inputs, nothing else.
        let got = stub.seen.last().unwrap();
        assert_eq!(got.target, "/processes/hello-world/execution");
        assert_eq!(got.body, canonical.to_vec());
        let mut names: Vec<&str> = got.headers.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                "accept",
                "content-length",
                "content-type",
                "host",
                "prefer",
                "user-agent"
            ]
        );
        assert_eq!(got.headers["prefer"], "respond-async");
        assert_eq!(got.headers["content-type"], "application/json");

        // The receipt covers what was sent (as sent, and as the model got it) and what came back.
        let signed = receipt(&a, &p, &headers).await;
        let request = signed
            .receipt
            .request
            .clone()
            .expect("the receipt covers the inputs");
        assert_eq!(request.bytes, sent.len() as u64);
        assert_eq!(request.sha256, sha256_hex(sent));
        assert_eq!(
            request.canonical_sha256.as_deref(),
            Some(sha256_hex(canonical).as_str())
        );
        assert_eq!(signed.receipt.sha256, sha256_hex(&body));
        let entry = data_access(&a, &request_id(&headers)).await;
        let job = job_of(&location);
        assert_eq!(entry["details"]["inputs_sha256"], sha256_hex(canonical));
        assert_eq!(entry["details"]["request_sha256"], sha256_hex(sent));
        assert_eq!(entry["details"]["sha256"], sha256_hex(&body));
        assert_eq!(entry["details"]["process"], "hello-world");
        assert_eq!(entry["details"]["job"], job.as_str());

        // Poll, read, dismiss: by the links the data plane gave.
        let r = reqwest::Client::new()
            .get(&location)
            .bearer_auth(&p.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let status = json_of(r).await;
        let results = hrefs(&status)
            .into_iter()
            .find(|h| h.contains("/results"))
            .expect("a results link");
        assert_eq!(results, format!("{location}/results?f=json"));
        let r = reqwest::Client::new()
            .get(&results)
            .bearer_auth(&p.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(json_of(r).await["echo"]["value"], "Hello City B! async");
        let r = call(&p, Method::DELETE, &format!("/jobs/{job}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let dismissal = request_id(r.headers());
        assert_eq!(json_of(r).await["status"], "dismissed");
        let entry = data_access(&a, &dismissal).await;
        assert_eq!(
            entry["details"]["process"], "hello-world",
            "a job's process is known from its record"
        );

        // A synchronous run: the output as the model chose it, raw, passed as it came.
        let r = call(&p, Method::POST, "/processes/hello-world/execution")
            .header("prefer", "respond-sync")
            .json(&json!({"inputs": {"name": "City B"}, "response": "raw"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["preference-applied"], "respond-sync");
        assert_eq!(r.headers()["content-type"], "text/plain");
        assert_eq!(r.text().await.unwrap(), "Hello City B!");

        // Landing page and list: only the data address and the agreed process.
        let landing = json_of(call(&p, Method::GET, "/").send().await.unwrap()).await;
        let links = hrefs(&landing);
        assert!(
            links.iter().all(|h| h.starts_with(&p.endpoint)),
            "{links:?}"
        );
        assert!(links.iter().any(|h| h.ends_with("/processes")), "{links:?}");
        assert!(
            !links
                .iter()
                .any(|h| h.ends_with("/jobs") || h.contains("openapi")),
            "{links:?}"
        );
        let list = json_of(call(&p, Method::GET, "/processes").send().await.unwrap()).await;
        let ids: Vec<&str> = list["processes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec!["hello-world"]);
        assert!(!list.to_string().contains(&stub.url));
        assert_eq!(
            stub.seen.last().unwrap().headers["accept"],
            "application/json"
        );
    }
}

#[tokio::test]
async fn bad_executions_are_refused_before_the_model_server_or_the_count() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let stub = process_stub::start(true).await.unwrap();
    let p = model_transfer(
        &a,
        &b,
        "urn:ldt:t:model",
        two_runs(),
        &stub.url,
        &["hello-world"],
    )
    .await;
    let hits = stub.seen.hits();
    let execute = || call(&p, Method::POST, "/processes/hello-world/execution");
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (
            execute()
                .header("content-type", "application/json")
                .body("not json"),
            400,
        ),
        (
            execute()
                .header("content-type", "application/json")
                .body("[1, 2]"),
            400,
        ),
        (
            execute()
                .header("content-type", "application/json")
                .body(r#"{"inputs": {"n": 9007199254740993}}"#),
            400,
        ),
        (
            execute().header("content-type", "text/plain").body("{}"),
            415,
        ),
        (
            execute()
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .body("{}"),
            415,
        ),
        (
            execute()
                .json(&json!({"inputs": {}, "subscriber": {"successUri": "http://10.0.0.1/hook"}})),
            403,
        ),
        (
            execute()
                .header("prefer", "respond-async; wait=1")
                .json(&json!({"inputs": {}})),
            400,
        ),
        (call(&p, Method::GET, "/processes?f=html"), 400),
        (call(&p, Method::GET, "/processes?limit=5&f=json&x=1"), 400),
    ];
    for (req, status) in cases {
        let r = req.send().await.unwrap();
        let body = problem(r, status).await;
        assert!(body["detail"].is_string(), "{body}");
    }
    assert_eq!(
        stub.seen.hits(),
        hits,
        "nothing refused reached the model server"
    );
    assert_eq!(
        a.running
            .state
            .store()
            .access_count(&p.agreement_id)
            .await
            .unwrap(),
        0,
        "nothing refused used up an execution"
    );
    // Outputs are never asked for as HTML pages.
    let r = execute()
        .header("accept", "text/html")
        .json(&json!({"inputs": {"name": "x"}}))
        .send()
        .await
        .unwrap();
    problem(r, 406).await;
}

#[tokio::test]
async fn only_executions_use_up_a_count_limit() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let stub = process_stub::start(true).await.unwrap();
        let p = model_transfer(
            &a,
            &b,
            "urn:ldt:t:model",
            two_runs(),
            &stub.url,
            &["hello-world"],
        )
        .await;
        let store = a.running.state.store();
        let mut jobs = Vec::new();
        for run in 0..2 {
            // Describing and listing before, between and after: none of it counts.
            for path in ["/", "/conformance", "/processes", "/processes/hello-world"] {
                let r = call(&p, Method::GET, path).send().await.unwrap();
                assert_eq!(r.status(), 200, "{path}");
            }
            let r = call(&p, Method::POST, "/processes/hello-world/execution")
                .header("prefer", "respond-async")
                .json(&json!({"inputs": {"name": format!("run {run}")}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            jobs.push(job_of(r.headers()["location"].to_str().unwrap()));
            for _ in 0..3 {
                let job = jobs.last().unwrap();
                assert_eq!(
                    call(&p, Method::GET, &format!("/jobs/{job}"))
                        .send()
                        .await
                        .unwrap()
                        .status(),
                    200
                );
                assert_eq!(
                    call(&p, Method::GET, &format!("/jobs/{job}/results"))
                        .send()
                        .await
                        .unwrap()
                        .status(),
                    200
                );
            }
            assert_eq!(store.access_count(&p.agreement_id).await.unwrap(), run + 1);
        }
        let hits = stub.seen.hits();
        let r = call(&p, Method::POST, "/processes/hello-world/execution")
            .json(&json!({"inputs": {"name": "one too many"}}))
            .send()
            .await
            .unwrap();
        let headers = r.headers().clone();
        let body = problem(r, 403).await;
        assert_eq!(
            body["type"],
            "https://w3id.org/twinport/problems/policy-denied"
        );
        let reasons = body["reasons"].to_string();
        assert!(reasons.contains("at most 2 times"), "{reasons}");
        assert_eq!(
            stub.seen.hits(),
            hits,
            "the refused execution was not forwarded"
        );
        assert_eq!(store.access_count(&p.agreement_id).await.unwrap(), 2);
        let entry = data_access(&a, &request_id(&headers)).await;
        assert_eq!(entry["details"]["outcome"], "refused");
        assert_eq!(entry["details"]["status"], 403);
        assert_eq!(entry["details"]["method"], "POST");
        assert!(entry["details"]["inputs_sha256"].is_string(), "{entry}");
        // What was run stays readable, and can be dismissed, with the executions used up.
        for job in &jobs {
            assert_eq!(
                call(&p, Method::GET, &format!("/jobs/{job}/results"))
                    .send()
                    .await
                    .unwrap()
                    .status(),
                200
            );
            assert_eq!(
                call(&p, Method::DELETE, &format!("/jobs/{job}"))
                    .send()
                    .await
                    .unwrap()
                    .status(),
                200
            );
        }
        assert_eq!(
            call(&p, Method::GET, "/processes")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(store.access_count(&p.agreement_id).await.unwrap(), 2);
    }
}

#[tokio::test]
async fn the_local_endpoint_points_jobs_and_links_at_itself_and_checks_what_covers_the_inputs() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let stub = process_stub::start(true).await.unwrap();
        let p = model_transfer(
            &a,
            &b,
            "urn:ldt:t:model",
            open_policy(),
            &stub.url,
            &["hello-world"],
        )
        .await;
        let local = local_endpoint(&b, &p);
        let app = reqwest::Client::new();
        let sent = br#"{"inputs": {"name": "City B"}}"#;
        let r = app
            .post(format!("{local}/processes/hello-world/execution"))
            .header("content-type", "application/json")
            .header("prefer", "respond-async")
            .body(sent.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(&format!("{local}/jobs/")),
            "{location}"
        );
        assert_eq!(r.headers()["preference-applied"], "respond-async");
        assert!(r.headers().get("twinport-links").is_none());
        let execute_id = request_id(r.headers());
        let status: Value = r.json().await.unwrap();
        for href in hrefs(&status) {
            assert!(href.starts_with(&local), "{href}");
        }
        let status = json_of(app.get(&location).send().await.unwrap()).await;
        let results = hrefs(&status)
            .into_iter()
            .find(|h| h.contains("/results"))
            .unwrap();
        assert!(results.starts_with(&local), "{results}");
        let r = app.get(&results).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(json_of(r).await["echo"]["value"], "Hello City B!");
        assert_eq!(app.delete(&location).send().await.unwrap().status(), 200);

        // Both logs hold the same digests of the inputs; B checked A's receipt against what it sent.
        let provider = data_access(&a, &execute_id).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let consumer = loop {
            let found = data_accesses(&b).await.into_iter().find(|e| {
                e["details"]["request_id"] == execute_id.as_str()
                    && e["details"]["side"] == "consumer"
            });
            if let Some(e) = found {
                break e;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "B never recorded the execution"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(
            consumer["details"]["receipt"]["verified"], true,
            "{consumer}"
        );
        assert_eq!(consumer["details"]["request_sha256"], sha256_hex(sent));
        assert_eq!(
            consumer["details"]["inputs_sha256"],
            provider["details"]["inputs_sha256"]
        );
        assert_eq!(consumer["details"]["sha256"], provider["details"]["sha256"]);
        // Recorded just after the access.
        loop {
            let kept = access_receipts_received(&b).await.into_iter().any(|e| {
                e["details"]["request_id"] == execute_id.as_str()
                    && e["details"]["verified"] == true
            });
            if kept {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "B never recorded the receipt"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owslib_runs_a_partners_pygeoapi_model_through_the_local_endpoint() {
    let Some(py) = python("TWINPORT_PY_PROCESSES") else {
        // `.ci/run` builds the venv or fails: in CI this test never skips quietly.
        assert!(
            std::env::var_os("CI").is_none(),
            "TWINPORT_PY_PROCESSES must be set in CI (.ci/run sets it)"
        );
        return;
    };
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let server = Pygeoapi::start(&py).await;
        let p = model_transfer(
            &a,
            &b,
            "urn:ldt:t:pygeoapi",
            two_runs(),
            &server.url,
            &["hello-world"],
        )
        .await;
        let local = local_endpoint(&b, &p);
        let out = python_ok(&py, "processes_client.py", std::slice::from_ref(&local)).await;
        let r: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        // The model server's address appears nowhere the application could see.
        assert!(!out.contains(&server.url), "{out}");
        assert!(
            !out.contains(&p.endpoint),
            "links name the local endpoint: {out}"
        );
        for list in ["landing_links", "status_links"] {
            let hrefs = r[list].as_array().unwrap();
            assert!(!hrefs.is_empty(), "{list}");
            for h in hrefs {
                assert!(h.as_str().unwrap().starts_with(&local), "{list}: {h}");
            }
        }
        assert!(r["conformance"].as_array().unwrap().contains(&json!(
            "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"
        )));
        assert_eq!(r["processes"], json!(["hello-world"]));
        assert_eq!(r["described"]["id"], "hello-world");
        assert!(r["described"]["inputs"]
            .as_array()
            .unwrap()
            .contains(&json!("name")));
        assert_eq!(r["hidden"]["type"], NO_SUCH_PROCESS);
        assert_eq!(r["hidden_execute"]["type"], NO_SUCH_PROCESS);
        assert_eq!(
            r["sync"],
            json!({"outputs": [{"id": "echo", "value": "Hello City B! synchronous"}]})
        );
        assert!(r["sync_location"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{local}/jobs/")));
        assert!(r["async_location"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{local}/jobs/")));
        assert_eq!(r["async_preference_applied"], "respond-async");
        assert_eq!(r["status"], "successful");
        assert!(r["results_link"].as_str().unwrap().starts_with(&local));
        assert_eq!(
            r["results"],
            json!({"outputs": [{"id": "echo", "value": "Hello City B! asynchronous"}]})
        );
        assert_eq!(r["dismissed"]["status"], 200);
        assert_eq!(r["dismissed"]["body"]["status"], "dismissed");
        assert_eq!(r["third"]["status"], 403);
        assert_eq!(
            r["third"]["type"],
            "https://w3id.org/twinport/problems/policy-denied"
        );
        assert!(
            r["third"]["reasons"]
                .to_string()
                .contains("at most 2 times"),
            "{}",
            r["third"]
        );
        assert_eq!(r["after_limit_processes"], json!(["hello-world"]));

        // Two executions counted; the third refused and on record in A's log, with the inputs it carried.
        assert_eq!(
            a.running
                .state
                .store()
                .access_count(&p.agreement_id)
                .await
                .unwrap(),
            2
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let (provider, consumer) = loop {
            let provider: Vec<Value> = data_accesses(&a)
                .await
                .into_iter()
                .filter(|e| e["details"]["method"] == "POST")
                .collect();
            let consumer: Vec<Value> = data_accesses(&b)
                .await
                .into_iter()
                .filter(|e| e["details"]["method"] == "POST" && e["details"]["side"] == "consumer")
                .collect();
            // The hidden process, the two runs and the refused third.
            if provider.len() >= 4 && consumer.len() >= 4 {
                break (provider, consumer);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{provider:#?} {consumer:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let served: Vec<&Value> = provider
            .iter()
            .filter(|e| {
                e["details"]["outcome"] == "served" && e["details"]["process"] == "hello-world"
            })
            .collect();
        assert_eq!(served.len(), 2, "{provider:#?}");
        let refused = provider
            .iter()
            .find(|e| e["details"]["status"] == 403)
            .expect("the third execution is on record");
        assert_eq!(refused["details"]["outcome"], "refused");
        assert_eq!(refused["details"]["problem"], "policy-denied");
        assert!(refused["details"]["inputs_sha256"].is_string());
        for entry in served {
            let id = &entry["details"]["request_id"];
            let theirs = consumer
                .iter()
                .find(|c| c["details"]["request_id"] == *id)
                .unwrap_or_else(|| panic!("B recorded {id}"));
            assert_eq!(theirs["details"]["receipt"]["verified"], true, "{theirs}");
            assert_eq!(
                theirs["details"]["inputs_sha256"],
                entry["details"]["inputs_sha256"]
            );
            assert_eq!(
                theirs["details"]["request_sha256"],
                entry["details"]["request_sha256"]
            );
            assert_eq!(theirs["details"]["sha256"], entry["details"]["sha256"]);
            assert!(entry["details"]["job"].is_string(), "{entry}");
        }
        drop(server);
    }
}
