//! The consumer side of the data plane, Twinport against Twinport with a real in-process platform behind city A:
//! city B's applications call B's local endpoint without tokens and get A's backend body; B verifies and stores
//! A's signed receipt and both audit logs record the access with the same digest; a tampered stored receipt is
//! flagged; a suspended transfer is refused locally at once and a resumed one uses the provider's new token;
//! provider-side failures come back as problem+json; and the local endpoint is not on the partner listener. It
//! answers only to its configured host names and refuses browsers' cross-site requests, except from the origins
//! an operator allowed, which get CORS answers.

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use twinport_e2e::{
    access_receipts_received, city_pair_backed, city_pair_backed_with, data_access, data_accesses,
    provider_negotiation, pull_token, request_id, start_negotiation, stop_and_reopen,
    wait_for_state, City, StoppedCity, Storage, CITY_A,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const T: Duration = Duration::from_secs(10);

/// The platform behind city A: the traffic entities the sample catalogue points at, large enough to arrive in
/// several chunks.
fn entities_body() -> String {
    let entities: Vec<Value> = (0..400)
        .map(|i| {
            json!({"id": format!("urn:ngsi-ld:TrafficFlowObserved:segment-{i}"), "type": "TrafficFlowObserved",
                   "intensity": {"type": "Property", "value": i * 7 % 500}})
        })
        .collect();
    serde_json::to_string(&entities).unwrap()
}

async fn start_platform() -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new().route(
        "/ngsi-ld/v1/entities",
        get(|| async { ([("content-type", "application/ld+json")], entities_body()) }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

/// Negotiates the traffic counts and starts a pull transfer; returns B's transfer id (= its consumerPid) and
/// A's.
async fn started_transfer(a: &City, b: &City) -> (String, String) {
    let id = start_negotiation(b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(b, &id, "FINALIZED", T).await;
    let view: Value = get_json(b, &format!("/api/v1/negotiations/{id}")).await;
    let agreement = view["agreement_id"].as_str().unwrap().to_string();
    let r = b
        .management(Method::POST, "/api/v1/transfers")
        .json(&json!({"agreement_id": agreement}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let tid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_state(b, &tid, "STARTED", T).await;
    let provider = a
        .running
        .state
        .store()
        .transfers()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.consumer_pid.as_deref() == Some(tid.as_str()))
        .expect("provider side of the transfer");
    assert!(provider_negotiation(a, &id).await.is_some());
    (tid, provider.id)
}

async fn get_json(city: &City, path: &str) -> Value {
    let r = city.management(Method::GET, path).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

fn local(b: &City, tid: &str, below: &str) -> String {
    format!(
        "{}/transfers/{}{below}",
        b.running.local_url(),
        twinport::client::encode_segment(tid)
    )
}

/// B's stored receipts for `tid`, once at least `n` are there (they are written after the body has ended).
async fn receipts(b: &City, tid: &str, n: usize) -> Vec<Value> {
    let path = format!(
        "/api/v1/transfers/{}/receipts",
        twinport::client::encode_segment(tid)
    );
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let list = get_json(b, &path).await;
        let list = list.as_array().cloned().unwrap_or_default();
        if list.len() >= n {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "fewer than {n} receipts for {tid}: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    twinport_contracts::canonical::sha256_hex(bytes)
}

#[tokio::test]
async fn an_application_pulls_through_its_own_connector_and_the_receipt_verifies() {
    for storage in Storage::all() {
        let (platform, _task) = start_platform().await;
        let (a, b) = city_pair_backed(storage, &platform).await;
        let (tid, _) = started_transfer(&a, &b).await;

        // The application sends no token at all.
        let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-type"],
            "application/ld+json",
            "the provider's headers come through"
        );
        let request_id = request_id(r.headers());
        let body = r.bytes().await.unwrap();
        assert_eq!(body, entities_body().as_bytes());
        let digest = sha256_hex(&body);

        let list = receipts(&b, &tid, 1).await;
        let stored = &list[0];
        assert_eq!(stored["verified"], true, "{stored:#?}");
        assert_eq!(stored["verified_now"], true, "{stored:#?}");
        assert_eq!(stored["sha256"], digest.as_str());
        assert_eq!(stored["bytes"], body.len() as u64);
        assert_eq!(stored["request_id"], request_id.as_str());
        assert_eq!(stored["receipt"]["receipt"]["sha256"], digest.as_str());
        assert_eq!(stored["receipt"]["receipt"]["consumer"], b.id.as_str());

        // Both logs hold the access with the same digest and request id.
        let theirs = data_accesses(&a).await;
        let ours = data_accesses(&b).await;
        let provider_entry = theirs
            .iter()
            .find(|e| e["details"]["request_id"] == request_id.as_str())
            .expect("provider recorded the access");
        let consumer_entry = ours
            .iter()
            .find(|e| e["details"]["request_id"] == request_id.as_str())
            .expect("consumer recorded the access");
        assert_eq!(provider_entry["details"]["sha256"], digest.as_str());
        assert_eq!(consumer_entry["details"]["sha256"], digest.as_str());
        assert_eq!(consumer_entry["details"]["receipt"]["verified"], true);
        assert_eq!(consumer_entry["transfer"], tid.as_str());
        assert_eq!(access_receipts_received(&b).await.len(), 1);

        // Kept in the database, not as a file per response.
        assert!(!b.dir.path().join("data").join("receipts").exists());
        // A stored receipt edited afterwards no longer verifies when listed.
        let kept = b
            .running
            .state
            .store()
            .received_receipts(&tid)
            .await
            .unwrap();
        assert_eq!(kept.len(), 1, "{kept:?}");
        let mut doc: Value = serde_json::from_str(&kept[0]).unwrap();
        let arrival = access_receipts_received(&b).await;
        assert_eq!(
            doc["audit_index"], arrival[0]["details"]["access_entry"],
            "the kept receipt names the entry recording the access"
        );
        doc["receipt"]["receipt"]["bytes"] = json!(1);
        doc["bytes"] = json!(1);
        tamper_with_kept_receipt(&b, &doc).await;
        let list = receipts(&b, &tid, 1).await;
        assert_eq!(list[0]["verified_now"], false);
        assert!(
            list[0]["problem_now"]
                .as_str()
                .unwrap()
                .contains("signature"),
            "{:#?}",
            list[0]
        );

        // The offline check accepts the untouched document and rejects the edited one.
        let bare = stored["receipt"].clone();
        let good = b.dir.path().join("good-receipt.json");
        std::fs::write(&good, serde_json::to_vec(&bare).unwrap()).unwrap();
        let jwks = b.dir.path().join("a-jwks.json");
        std::fs::write(&jwks, serde_json::to_vec(&a.key.jwks()).unwrap()).unwrap();
        let body_file = b.dir.path().join("body.json");
        std::fs::write(&body_file, &body).unwrap();
        twinport::cli::receipts::verify_receipt(
            &good,
            jwks.to_str().unwrap(),
            Some(body_file.clone()),
        )
        .await
        .expect("the untouched receipt verifies offline against the body");
        std::fs::write(&body_file, b"not the body").unwrap();
        assert!(twinport::cli::receipts::verify_receipt(
            &good,
            jwks.to_str().unwrap(),
            Some(body_file)
        )
        .await
        .is_err());
        let edited = b.dir.path().join("edited-receipt.json");
        std::fs::write(&edited, serde_json::to_vec(&doc["receipt"]).unwrap()).unwrap();
        assert!(
            twinport::cli::receipts::verify_receipt(&edited, jwks.to_str().unwrap(), None)
                .await
                .is_err()
        );

        a.running.stop().await;
        b.running.stop().await;
    }
}

/// Overwrites the receipt `city` kept last, as someone with access to its database could.
async fn tamper_with_kept_receipt(city: &City, doc: &Value) {
    sqlx::any::install_default_drivers();
    let url = city.running.state.config().storage_url.clone();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE received_receipts SET body = $1 WHERE seq = (SELECT MAX(seq) FROM received_receipts)")
        .bind(doc.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn suspension_is_refused_locally_and_a_resumed_transfer_uses_the_new_token() {
    let (platform, platform_task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, provider_tid) = started_transfer(&a, &b).await;
    let first = b
        .running
        .state
        .store()
        .transfer(&tid)
        .await
        .unwrap()
        .unwrap();
    let old_token = pull_token(&b, &first.id).await;

    // The provider suspends: B is told, and its local endpoint refuses without asking A.
    let r = a
        .management(
            Method::POST,
            &format!("/api/v1/transfers/{provider_tid}/suspend"),
        )
        .json(&json!({"reason": "maintenance"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for_state(&b, &tid, "SUSPENDED", T).await;
    let before = data_accesses(&a).await.len();
    let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("SUSPENDED"),
        "{problem}"
    );
    assert_eq!(
        data_accesses(&a).await.len(),
        before,
        "the provider was not contacted"
    );

    // Resumed: a new token arrives with the new TransferStartMessage and is the one used.
    let r = a
        .management(
            Method::POST,
            &format!("/api/v1/transfers/{provider_tid}/resume"),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    wait_for_state(&b, &tid, "STARTED", T).await;
    let resumed = b
        .running
        .state
        .store()
        .transfer(&tid)
        .await
        .unwrap()
        .unwrap();
    let new_token = pull_token(&b, &resumed.id).await;
    assert_ne!(old_token, new_token);
    let endpoint = resumed.data_address.as_ref().unwrap()["endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let old = reqwest::Client::new()
        .get(&endpoint)
        .bearer_auth(&old_token)
        .send()
        .await
        .unwrap();
    assert!(
        matches!(old.status().as_u16(), 401 | 403),
        "the old token is dead at the provider: {}",
        old.status()
    );
    let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), entities_body().as_bytes());

    // The platform goes down: A's 502 problem comes through unchanged.
    platform_task.abort();
    let _ = platform_task.await;
    let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["status"], 502, "{problem}");

    // The provider itself goes away: B answers 502 problem+json of its own and records the failure.
    a.running.stop().await;
    let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let ours = data_accesses(&b).await;
    assert!(
        ours.iter().any(|e| e["details"]["status"] == 502),
        "{ours:#?}"
    );
    // Failures without a receipt are in the log, not in the receipt list.
    assert_eq!(receipts(&b, &tid, 1).await.len(), 1);
    b.running.stop().await;
}

#[tokio::test]
async fn the_local_endpoint_is_only_on_local_listen_and_knows_only_consumer_transfers() {
    let (platform, _task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, provider_tid) = started_transfer(&a, &b).await;
    for public in [b.running.public_url(), a.running.public_url()] {
        let url = format!(
            "{public}/transfers/{}",
            twinport::client::encode_segment(&tid)
        );
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status(), 404, "{url} must not proxy");
    }
    // A's local endpoint does not serve A's provider-side transfer either.
    let r = reqwest::get(local(&a, &provider_tid, "")).await.unwrap();
    assert_eq!(r.status(), 404);
    let r = reqwest::get(local(&b, "urn:uuid:nothing-here", "/x"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // The receipts listing is part of the management API's OpenAPI document.
    let doc = get_json(&b, "/api/v1/openapi.json").await;
    assert!(doc["paths"]
        .get("/api/v1/transfers/{id}/receipts")
        .is_some());
    // Nor is the management API on the local listener.
    let r = reqwest::get(format!("{}/api/v1/transfers", b.running.local_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    a.running.stop().await;
    b.running.stop().await;
}

/// A provider stand-in (signing with city A's real key) whose receipt names a different body than the one it
/// served: B hands the body on, but records the access as an alarm and keeps the receipt flagged.
#[tokio::test]
async fn a_receipt_that_does_not_match_the_body_is_recorded_as_an_alarm() {
    use std::sync::{Arc, Mutex};
    use twinport_contracts::receipt::{sign_receipt, AccessReceipt, RECEIPT_TYPE};

    let (platform, _task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, _) = started_transfer(&a, &b).await;
    let t = b
        .running
        .state
        .store()
        .transfer(&tid)
        .await
        .unwrap()
        .unwrap();
    let provider_pid = t.provider_pid.clone().unwrap();

    const SERVED: &[u8] = b"the body actually served";
    let receipt = sign_receipt(
        &a.key,
        AccessReceipt {
            receipt_type: RECEIPT_TYPE.into(),
            request_id: "req-1".into(),
            provider: CITY_A.into(),
            consumer: b.id.clone(),
            agreement_id: t.agreement_id.clone(),
            transfer_id: provider_pid.clone(),
            method: "GET".into(),
            path: String::new(),
            status: 200,
            bytes: SERVED.len() as u64,
            sha256: sha256_hex(b"a different body of the same length!"),
            complete: true,
            started_at: "2026-11-24T08:00:00Z".into(),
            finished_at: "2026-11-24T08:00:01Z".into(),
            audit_index: None,
            request: None,
        },
    )
    .unwrap();
    let receipt_json = serde_json::to_string(&receipt).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen_token: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = seen_token.clone();
    let receipt_url = format!("{base}/data/{provider_pid}/receipts/req-1");
    let app = Router::new()
        .route(
            "/data/{pid}",
            get(move |headers: axum::http::HeaderMap| {
                let receipt_url = receipt_url.clone();
                async move {
                    *seen.lock().unwrap() = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    (
                        [
                            ("twinport-request-id", "req-1".to_string()),
                            ("twinport-receipt", receipt_url),
                        ],
                        SERVED,
                    )
                }
            }),
        )
        .route(
            "/data/{pid}/receipts/{rid}",
            get(move || {
                let body = receipt_json.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    // B now believes the provider's data address is the stand-in.
    let mut moved = t.clone();
    moved.data_address = Some(json!({
        "@type": "DataAddress",
        "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
        "endpoint": format!("{base}/data/{provider_pid}"),
        "endpointProperties": [
            {"@type": "EndpointProperty", "name": "authorization", "value": "stand-in-token"},
            {"@type": "EndpointProperty", "name": "authType", "value": "bearer"}
        ]
    }));
    moved.version += 1;
    assert!(b
        .running
        .state
        .store()
        .update_process(&moved, &twinport::storage::Change::new())
        .await
        .unwrap());

    let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap(),
        SERVED,
        "the application got the body"
    );
    assert_eq!(
        seen_token.lock().unwrap().as_deref(),
        Some("Bearer stand-in-token")
    );

    let list = receipts(&b, &tid, 1).await;
    assert_eq!(list[0]["verified"], false, "{:#?}", list[0]);
    assert!(
        list[0]["problem"].as_str().unwrap().contains("digest"),
        "{:#?}",
        list[0]
    );
    assert_eq!(list[0]["verified_now"], false);
    let entry = data_accesses(&b)
        .await
        .into_iter()
        .find(|e| e["details"]["request_id"] == "req-1")
        .expect("the access is recorded");
    assert_eq!(entry["details"]["receipt"]["verified"], false);
    assert!(
        entry["details"]["alarm"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{entry:#}"
    );
    assert_eq!(entry["details"]["sha256"], sha256_hex(SERVED).as_str());
    a.running.stop().await;
    b.running.stop().await;
}

/// Regression: a consumer that suspends and resumes a transfer itself is STARTED at once; the provider's answering
/// TransferStartMessage, with the new token, used to be refused as an invalid transition, leaving the consumer
/// with a revoked token. It now updates the data address, and the local endpoint serves data again.
#[tokio::test]
async fn a_transfer_the_consumer_resumes_itself_gets_the_new_token() {
    let (platform, _platform_task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, _provider_tid) = started_transfer(&a, &b).await;
    let old_token = pull_token(&b, &tid).await;
    for (action, state) in [("suspend", "SUSPENDED"), ("resume", "STARTED")] {
        let r = b
            .management(Method::POST, &format!("/api/v1/transfers/{tid}/{action}"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        wait_for_state(&b, &tid, state, T).await;
    }
    let deadline = std::time::Instant::now() + T;
    let new_token = loop {
        let token = pull_token(&b, &tid).await;
        if token != old_token {
            break token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the provider's new data address never reached the consumer"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_ne!(new_token, old_token);
    let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), entities_body().as_bytes());
    a.running.stop().await;
    b.running.stop().await;
}

/// Regression: the consumer checks the receipt and records the access after the last byte reached the
/// application; a clean stop used to close the store under that work, losing the record.
#[tokio::test]
async fn an_access_relayed_just_before_a_clean_stop_is_still_recorded() {
    for storage in Storage::all() {
        let (platform, _task) = start_platform().await;
        let (a, b) = city_pair_backed(storage, &platform).await;
        let (tid, _) = started_transfer(&a, &b).await;
        let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
        assert_eq!(r.status(), 200);
        let request_id = request_id(r.headers());
        r.bytes().await.unwrap();
        let (store, leaves) = stop_and_reopen(b.running).await;
        let recorded = |kind: &str| {
            leaves
                .iter()
                .any(|l| l["kind"] == kind && l["details"]["request_id"] == request_id.as_str())
        };
        assert!(recorded("data_access"), "the relayed access is in B's log");
        assert!(recorded("receipt_received"), "and A's receipt, checked");
        store.close().await;
        a.running.stop().await;
    }
}

// The local endpoint asks no credentials, so who may call it is decided by where the call comes from: these guard
// against a web page in a city employee's browser using it (issue 16).

const DASHBOARD: &str = "https://dashboard.city.example";

/// Both cities' `data_access` counts: the provider's shows whether anything was relayed, ours whether anything was
/// recorded.
async fn access_counts(a: &City, b: &City) -> (usize, usize) {
    (data_accesses(a).await.len(), data_accesses(b).await.len())
}

/// Waits until the counts are `expected`, then insists on it (a record is written just after its body ends).
async fn assert_counts(a: &City, b: &City, expected: (usize, usize)) {
    let deadline = tokio::time::Instant::now() + T;
    while access_counts(a, b).await != expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(access_counts(a, b).await, expected);
}

/// One ordinary request, waited for until both logs hold it: a refused request sent before it would have been
/// recorded by then.
async fn one_recorded_access(a: &City, b: &City, tid: &str) {
    let r = reqwest::get(local(b, tid, "")).await.unwrap();
    assert_eq!(r.status(), 200);
    let request_id = request_id(r.headers());
    r.bytes().await.unwrap();
    data_access(a, &request_id).await;
    data_access(b, &request_id).await;
}

/// Sends `head` as it is on a fresh connection (for what an HTTP client will not send, such as two `Host`
/// headers) and returns the status code.
async fn raw_status(addr: std::net::SocketAddr, head: String) -> u16 {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(T)).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        answer
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {answer:?}"))
    })
    .await
    .unwrap()
}

/// A refusal of the local endpoint: problem+json of the given type, and nothing a page could read cross-origin.
async fn assert_refused(r: reqwest::Response, status: u16, kind: &str) {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        problem["type"],
        format!("https://w3id.org/twinport/problems/{kind}"),
        "{problem}"
    );
}

fn vary_names(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect()
}

/// DNS rebinding: a page at `rebind.attacker.example`, whose name now resolves to the endpoint's address, sends
/// `Host: rebind.attacker.example`; its requests are same-origin for the browser, so only the host name tells.
#[tokio::test]
async fn a_foreign_host_header_is_refused_by_the_local_endpoint() {
    let (platform, _task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, _) = started_transfer(&a, &b).await;
    let port = b.running.local_addr.port();
    let before = access_counts(&a, &b).await;
    let client = reqwest::Client::new();
    for host in [
        format!("rebind.attacker.example:{port}"),
        "rebind.attacker.example".to_string(),
        format!("localhost.attacker.example:{port}"),
        format!("127.0.0.2:{port}"),
    ] {
        let r = client
            .get(local(&b, &tid, ""))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_refused(r, 421, "misdirected-request").await;
        let r = client
            .post(local(&b, &tid, "/ngsi-ld/v1/entities"))
            .header("host", &host)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_refused(r, 421, "misdirected-request").await;
    }
    // Unknown paths too: a refused caller does not learn what the endpoint serves.
    let r = client
        .get(format!("{}/anything", b.running.local_url()))
        .header("host", "rebind.attacker.example")
        .send()
        .await
        .unwrap();
    assert_refused(r, 421, "misdirected-request").await;
    // What no HTTP client sends but a raw socket can: two Host headers, none, or an absolute target naming
    // another host (which a server must prefer to Host).
    let addr = b.running.local_addr;
    let path = format!("/transfers/{}", twinport::client::encode_segment(&tid));
    assert_eq!(
        raw_status(
            addr,
            format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: rebind.attacker.example\r\nConnection: close\r\n\r\n"
            )
        )
        .await,
        400
    );
    assert_eq!(
        raw_status(addr, format!("GET {path} HTTP/1.0\r\n\r\n")).await,
        400
    );
    assert_eq!(
        raw_status(
            addr,
            format!(
                "GET http://rebind.attacker.example{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            )
        )
        .await,
        421
    );
    // Nothing reached the provider and nothing was recorded; the configured names still work.
    one_recorded_access(&a, &b, &tid).await;
    assert_counts(&a, &b, (before.0 + 1, before.1 + 1)).await;
    for host in [format!("LocalHost:{port}"), format!("[::1]:{port}")] {
        let r = client
            .get(local(&b, &tid, ""))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{host}");
        r.bytes().await.unwrap();
    }
    a.running.stop().await;
    b.running.stop().await;
}

/// A page of another site, calling the endpoint by its real name: with an `Origin` the browser names, with only
/// `Sec-Fetch-Site` (an image, a link), and as the CORS-free `text/plain` POST a form or `fetch(no-cors)` can send.
#[tokio::test]
async fn a_cross_site_browser_request_is_refused_by_the_local_endpoint() {
    let (platform, _task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, _) = started_transfer(&a, &b).await;
    let before = access_counts(&a, &b).await;
    let client = reqwest::Client::new();
    let own_origin = b.running.local_url();
    let gets: Vec<Vec<(&str, &str)>> = vec![
        vec![("origin", "https://attacker.example")],
        vec![
            ("origin", "https://attacker.example"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "cors"),
        ],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "no-cors"),
        ],
        vec![
            ("sec-fetch-site", "same-site"),
            ("sec-fetch-mode", "navigate"),
        ],
        vec![("origin", "null")],
        // The endpoint serves no pages, so its own origin can only be a relayed document's: not trusted.
        vec![
            ("origin", own_origin.as_str()),
            ("sec-fetch-site", "same-origin"),
        ],
    ];
    for headers in &gets {
        let mut req = client.get(local(&b, &tid, ""));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        assert_refused(req.send().await.unwrap(), 403, "cross-site-request").await;
    }
    // The simple request a page can send without any preflight.
    let r = client
        .post(local(&b, &tid, "/ngsi-ld/v1/entities"))
        .header("content-type", "text/plain")
        .header("origin", "https://attacker.example")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "no-cors")
        .body(r#"{"id":"urn:ngsi-ld:x","type":"X"}"#)
        .send()
        .await
        .unwrap();
    assert_refused(r, 403, "cross-site-request").await;
    // Nor does a preflight from such a page get anything.
    let r = client
        .request(Method::OPTIONS, local(&b, &tid, ""))
        .header("origin", "https://attacker.example")
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert_refused(r, 403, "cross-site-request").await;
    one_recorded_access(&a, &b, &tid).await;
    assert_counts(&a, &b, (before.0 + 1, before.1 + 1)).await;

    // The user typing the URL into the address bar is not a cross-site request; a document relayed that way is
    // sandboxed, so it cannot act as the endpoint's own origin.
    let r = client
        .get(local(&b, &tid, ""))
        .header("sec-fetch-site", "none")
        .header("sec-fetch-mode", "navigate")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-security-policy"], "sandbox");
    assert_eq!(r.bytes().await.unwrap(), entities_body().as_bytes());
    a.running.stop().await;
    b.running.stop().await;
}

/// A dashboard whose origin the operator listed in `local_allowed_origins` calls the endpoint from the browser:
/// its preflight is answered without contacting the provider, and its real requests carry CORS headers naming it
/// (never `*`). Other origins are still refused.
#[tokio::test]
async fn an_allowed_origin_gets_cors_answers() {
    let (platform, _task) = start_platform().await;
    let (a, b) = city_pair_backed_with(Storage::Sqlite, &platform, |c| {
        c.local_allowed_origins = vec![DASHBOARD.to_string()];
    })
    .await;
    let (tid, _) = started_transfer(&a, &b).await;
    let before = access_counts(&a, &b).await;
    let client = reqwest::Client::new();

    let r = client
        .request(Method::OPTIONS, local(&b, &tid, "/ngsi-ld/v1/entities"))
        .header("origin", DASHBOARD)
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "cors")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,ngsild-tenant",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], DASHBOARD);
    assert!(
        vary_names(&r).contains(&"origin".to_string()),
        "{:?}",
        r.headers()
    );
    let listed = |name: &str| {
        r.headers()[name]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    for method in ["get", "post", "put", "patch", "delete"] {
        assert!(listed("access-control-allow-methods").contains(&method.to_string()));
    }
    for requested in ["content-type", "ngsild-tenant", "link", "accept"] {
        assert!(listed("access-control-allow-headers").contains(&requested.to_string()));
    }
    assert!(r
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    assert_eq!(
        access_counts(&a, &b).await,
        before,
        "a preflight is answered here, not relayed or recorded"
    );

    let r = client
        .get(local(&b, &tid, ""))
        .header("origin", DASHBOARD)
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "cors")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], DASHBOARD);
    assert!(
        vary_names(&r).contains(&"origin".to_string()),
        "{:?}",
        r.headers()
    );
    assert!(r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("twinport-request-id"));
    let rid = request_id(r.headers());
    assert_eq!(r.bytes().await.unwrap(), entities_body().as_bytes());
    data_access(&a, &rid).await;
    data_access(&b, &rid).await;

    // Its errors are readable too, so the dashboard can show why.
    let r = client
        .get(local(&b, "urn:uuid:nothing-here", ""))
        .header("origin", DASHBOARD)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["access-control-allow-origin"], DASHBOARD);

    // Allowing one dashboard allows no one else, nor the same host on another scheme or port.
    for other in [
        "https://attacker.example",
        "http://dashboard.city.example",
        "https://dashboard.city.example:8443",
    ] {
        let r = client
            .get(local(&b, &tid, ""))
            .header("origin", other)
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_refused(r, 403, "cross-site-request").await;
    }
    one_recorded_access(&a, &b, &tid).await;
    assert_counts(&a, &b, (before.0 + 2, before.1 + 2)).await;
    a.running.stop().await;
    b.running.stop().await;
}

/// Servers, scripts and notebooks send neither `Origin` nor `Sec-Fetch-*`: they call the endpoint as before, by
/// any configured name, and get no CORS headers they have no use for.
#[tokio::test]
async fn server_side_clients_without_origin_still_work() {
    let (platform, _task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, _) = started_transfer(&a, &b).await;
    let port = b.running.local_addr.port();
    let before = access_counts(&a, &b).await;

    let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_eq!(r.headers()["content-type"], "application/ld+json");
    let rid = request_id(r.headers());
    assert_eq!(r.bytes().await.unwrap(), entities_body().as_bytes());
    data_access(&b, &rid).await;

    let url = format!(
        "http://localhost:{port}/transfers/{}",
        twinport::client::encode_segment(&tid)
    );
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.bytes().await.unwrap();

    // As curl sends it.
    let path = format!("/transfers/{}", twinport::client::encode_segment(&tid));
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw_status(b.running.local_addr, head).await, 200);
    one_recorded_access(&a, &b, &tid).await;
    assert_counts(&a, &b, (before.0 + 4, before.1 + 4)).await;
    a.running.stop().await;
    b.running.stop().await;
}

/// City applications (dashboards, notebooks, a 3D viewer fetching tiles) keep their connections alive. Without
/// `TCP_NODELAY` on the local listener every such request waited about 40 ms for the client's delayed ACK before
/// the last segment of the answer went out (Nagle's algorithm), where a new connection per request did not. So
/// requests on one kept-alive connection are compared with requests on a new connection each, in the same run: the
/// stall shows as a kept-alive median 40 ms above the other, whatever the build and the machine's load.
#[tokio::test]
async fn receipts_of_concurrent_pulls_are_fetched_in_batches_and_each_is_kept_verifiable() {
    for storage in Storage::all() {
        let (platform, _task) = start_platform().await;
        let (a, b) = city_pair_backed(storage, &platform).await;
        let (tid, _) = started_transfer(&a, &b).await;
        let url = local(&b, &tid, "");
        let client = reqwest::Client::new();
        let pulls = (0..24).map(|_| async {
            let r = client.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            (request_id(r.headers()), r.bytes().await.unwrap())
        });
        let pulled = futures_util::future::join_all(pulls).await;
        let list = receipts(&b, &tid, pulled.len()).await;
        assert_eq!(list.len(), pulled.len());
        for (id, body) in &pulled {
            let kept = list
                .iter()
                .find(|r| r["request_id"] == id.as_str())
                .unwrap_or_else(|| panic!("no receipt kept for {id}: {list:#?}"));
            assert_eq!(kept["verified"], true, "{kept:#?}");
            assert_eq!(kept["verified_now"], true, "{kept:#?}");
            assert_eq!(kept["sha256"], sha256_hex(body).as_str());
            // Signed in a batch, with the proof that makes it verifiable on its own.
            assert!(
                kept["receipt"]["batch"]["size"].as_u64().unwrap() >= 1,
                "{kept:#?}"
            );
            let alone: twinport_contracts::receipt::SignedReceipt =
                serde_json::from_value(kept["receipt"].clone()).unwrap();
            alone
                .verify_body(&a.key.jwks(), body.len() as u64, &sha256_hex(body))
                .expect("a kept receipt verifies offline with A's keys alone");
        }
        // Every access is in B's log with its verified receipt, once.
        assert_eq!(access_receipts_received(&b).await.len(), pulled.len());
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn requests_on_a_kept_alive_connection_to_the_local_endpoint_are_not_stalled() {
    let (platform, _task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, _) = started_transfer(&a, &b).await;
    let url = local(&b, &tid, "");
    let kept_alive = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let (mut on_one, mut on_new) = (Vec::new(), Vec::new());
    for _ in 0..40 {
        for (client, took) in [(&kept_alive, &mut on_one), (&fresh, &mut on_new)] {
            let started = std::time::Instant::now();
            let r = client.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
            took.push(started.elapsed());
        }
    }
    let median = |took: &mut Vec<Duration>| {
        took.sort();
        took[took.len() / 2]
    };
    let (kept, new) = (median(&mut on_one), median(&mut on_new));
    println!("median per request: {kept:?} on one kept-alive connection, {new:?} on a new connection each");
    assert!(
        kept < new + Duration::from_millis(20),
        "a kept-alive connection is stalled: median {kept:?} per request against {new:?} on new connections \
         (about 40 ms more means Nagle's algorithm is on): {on_one:?}"
    );
}

#[tokio::test]
async fn receipts_an_earlier_version_kept_as_files_are_imported_at_start() {
    let (platform, _task) = start_platform().await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let (tid, _) = started_transfer(&a, &b).await;
    let r = reqwest::get(local(&b, &tid, "")).await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    let list = receipts(&b, &tid, 1).await;

    // What an earlier version kept: the same record, as a file of its own under data_dir/receipts/<transfer>/.
    let mut old = list[0].clone();
    let fields = old.as_object_mut().unwrap();
    fields.remove("verified_now");
    fields.remove("problem_now");
    fields.insert("request_id".into(), json!("kept-as-a-file"));
    let name = twinport::dataplane::consumer::push::safe_name(&tid);
    let data = b.dir.path().join("data");
    let dir = data.join("receipts").join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("000000000000000000000001-kept-as-a-file.json"),
        serde_json::to_vec_pretty(&old).unwrap(),
    )
    .unwrap();

    // With a file beside it that is not a kept receipt, the directory is left as it is and the start goes on.
    let broken = dir.join("000000000000000000000002-broken.json");
    std::fs::write(&broken, b"not json").unwrap();
    let (a_id, a_url) = (a.id.clone(), a.running.public_url().to_string());
    let b = StoppedCity::stop(b)
        .await
        .start(Some((&a_id, &a_url)))
        .await;
    assert_eq!(receipts(&b, &tid, 1).await.len(), 1);
    assert!(broken.is_file(), "what does not read stays in place");

    std::fs::remove_file(&broken).unwrap();
    let b = StoppedCity::stop(b)
        .await
        .start(Some((&a_id, &a_url)))
        .await;
    let list = receipts(&b, &tid, 2).await;
    assert_eq!(list.len(), 2, "{list:#?}");
    assert!(list.iter().any(|r| r["request_id"] == "kept-as-a-file"));
    assert!(!data.join("receipts").exists(), "imported once, then moved");
    assert!(data.join("receipts.imported").join(&name).is_dir());

    a.running.stop().await;
    b.running.stop().await;
}
