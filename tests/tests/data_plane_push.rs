//! Push transfers, Twinport against Twinport with a real in-process platform behind city A: city B requests an
//! `HttpData-PUSH` transfer without an address of its own, so A's data plane pushes the resource to B's
//! `/push/{consumerPid}` endpoint; the payload lands in B's data dir with the digest A recorded, B verifies and
//! stores A's receipt, both audit logs hold the access, and the transfer completes on both sides. A push with a
//! wrong token is refused and writes nothing; with A's backend down the transfer does not complete and the failure
//! is recorded.

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use twinport_e2e::{
    access_receipts_received, city_pair_backed, city_pair_backed_with, data_accesses,
    start_negotiation, stop_and_reopen, wait_for_state, City, Storage, CITY_A,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const T: Duration = Duration::from_secs(15);

/// Several MiB, more than any default body limit, so the push must stream.
fn entities_body() -> String {
    let entities: Vec<Value> = (0..25_000)
        .map(|i| {
            json!({"id": format!("urn:ngsi-ld:TrafficFlowObserved:segment-{i}"), "type": "TrafficFlowObserved",
                   "intensity": {"type": "Property", "value": i * 7 % 500}})
        })
        .collect();
    serde_json::to_string(&entities).unwrap()
}

async fn start_platform() -> String {
    let app = Router::new().route(
        "/ngsi-ld/v1/entities",
        get(|| async { ([("content-type", "application/ld+json")], entities_body()) }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// A port nothing listens on: the backend is down.
async fn dead_backend() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

async fn get_json(city: &City, path: &str) -> Value {
    let r = city.management(Method::GET, path).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

/// Negotiates the traffic counts and requests a push transfer to B itself; returns B's transfer id.
async fn push_transfer(b: &City) -> String {
    let id = start_negotiation(b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(b, &id, "FINALIZED", T).await;
    let view: Value = get_json(b, &format!("/api/v1/negotiations/{id}")).await;
    let agreement = view["agreement_id"].as_str().unwrap().to_string();
    let r = b
        .management(Method::POST, "/api/v1/transfers")
        .json(&json!({"agreement_id": agreement, "format": "HttpData-PUSH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let view: Value = r.json().await.unwrap();
    let endpoint = view["data_address"]["endpoint"].as_str().unwrap();
    assert!(
        endpoint.starts_with(&format!("{}/push/", b.running.public_url())),
        "{view:#}"
    );
    assert!(
        !view["data_address"].to_string().contains("authorization"),
        "the push token is not kept: {view:#}"
    );
    view["id"].as_str().unwrap().to_string()
}

async fn provider_transfer(a: &City, tid: &str) -> String {
    a.running
        .state
        .store()
        .transfers()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.consumer_pid.as_deref() == Some(tid))
        .expect("provider side of the transfer")
        .id
}

/// The first `data_access` entry of `city` that `wanted` accepts, waiting up to `T` for it.
async fn recorded_access(city: &City, missing: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        if let Some(e) = data_accesses(city).await.into_iter().find(|e| wanted(e)) {
            return e;
        }
        assert!(tokio::time::Instant::now() < deadline, "{missing}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn received(b: &City, tid: &str) -> Vec<std::path::PathBuf> {
    let dir = b
        .dir
        .path()
        .join("data")
        .join("received")
        .join(twinport::dataplane::consumer::push::safe_name(tid));
    match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn push_url(b: &City, tid: &str) -> String {
    format!(
        "{}/push/{}",
        b.running.public_url(),
        twinport::client::encode_segment(tid)
    )
}

#[tokio::test]
async fn a_push_arrives_with_a_verified_receipt_and_completes_both_sides() {
    for storage in Storage::all() {
        let platform = start_platform().await;
        let (a, b) = city_pair_backed(storage, &platform).await;
        let tid = push_transfer(&b).await;
        wait_for_state(&b, &tid, "COMPLETED", T).await;
        let pid = provider_transfer(&a, &tid).await;
        wait_for_state(&a, &pid, "COMPLETED", T).await;

        let expected = entities_body();
        let files = received(&b, &tid);
        assert_eq!(files.len(), 1, "{files:?}");
        let payload = std::fs::read(&files[0]).unwrap();
        assert_eq!(payload, expected.as_bytes(), "the payload arrived whole");
        let digest = twinport_contracts::canonical::sha256_hex(&payload);
        let request_id = files[0].file_name().unwrap().to_str().unwrap().to_string();

        // The receipt verified and is stored with what arrived.
        let list = get_json(
            &b,
            &format!(
                "/api/v1/transfers/{}/receipts",
                twinport::client::encode_segment(&tid)
            ),
        )
        .await;
        let stored = &list.as_array().unwrap()[0];
        assert_eq!(stored["verified"], true, "{stored:#}");
        assert_eq!(stored["verified_now"], true, "{stored:#}");
        assert_eq!(stored["sha256"], digest.as_str());
        assert_eq!(stored["request_id"], request_id.as_str());
        assert_eq!(stored["receipt"]["receipt"]["sha256"], digest.as_str());
        assert_eq!(stored["receipt"]["receipt"]["transferId"], pid.as_str());

        // Both audit logs hold the access with the same digest.
        let theirs = data_accesses(&a).await;
        let provider_entry = theirs
            .iter()
            .find(|e| e["details"]["request_id"] == request_id.as_str())
            .expect("provider recorded the push");
        assert_eq!(provider_entry["details"]["sha256"], digest.as_str());
        assert_eq!(provider_entry["details"]["complete"], true);
        assert_eq!(provider_entry["details"]["outcome"], "served");
        let ours = data_accesses(&b).await;
        let consumer_entry = ours
            .iter()
            .find(|e| e["details"]["request_id"] == request_id.as_str())
            .expect("consumer recorded the push");
        assert_eq!(consumer_entry["details"]["sha256"], digest.as_str());
        assert_eq!(consumer_entry["details"]["receipt"]["verified"], true);
        assert_eq!(consumer_entry["transfer"], tid.as_str());
        assert_eq!(access_receipts_received(&b).await.len(), 1);

        // The token died with the transfer: a replayed push is refused and writes nothing.
        let r = reqwest::Client::new()
            .post(push_url(&b, &tid))
            .bearer_auth("anything")
            .header("twinport-request-id", "replay-1")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(received(&b, &tid).len(), 1);

        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_failed_push_leaves_the_transfer_started_and_a_wrong_token_writes_nothing() {
    for storage in Storage::all() {
        let backend = dead_backend().await;
        let (a, b) = city_pair_backed(storage, &backend).await;
        let tid = push_transfer(&b).await;
        wait_for_state(&b, &tid, "STARTED", T).await;
        let pid = provider_transfer(&a, &tid).await;

        // The provider records the failure: a refused access with 502 and a line in the transfer's history.
        let entry =
            recorded_access(&a, "no failure recorded", |e| e["transfer"] == pid.as_str()).await;
        assert_eq!(entry["details"]["status"], 502, "{entry:#}");
        assert_eq!(entry["details"]["outcome"], "refused");
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let view = get_json(
                &a,
                &format!(
                    "/api/v1/transfers/{}",
                    twinport::client::encode_segment(&pid)
                ),
            )
            .await;
            let noted = view["history"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h.to_string().contains("push failed"));
            if noted {
                assert_eq!(view["state"], "STARTED", "{view:#}");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no history line: {view:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let view = get_json(
            &b,
            &format!(
                "/api/v1/transfers/{}",
                twinport::client::encode_segment(&tid)
            ),
        )
        .await;
        assert_eq!(view["state"], "STARTED", "not completed: {view:#}");
        assert!(received(&b, &tid).is_empty());

        // Someone who does not hold the token cannot push into B's data dir, nor without one.
        let client = reqwest::Client::new();
        let r = client
            .post(push_url(&b, &tid))
            .bearer_auth("not-the-token")
            .header("twinport-request-id", "forged-1")
            .body("forged payload")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "refusals are problem+json"
        );
        let r = client
            .put(push_url(&b, &tid))
            .header("twinport-request-id", "forged-2")
            .body("forged payload")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(received(&b, &tid).is_empty(), "nothing was written");
        // Both attempts are in B's log as refused pushes; no token matched, so no transfer or partner is named.
        let refused = data_accesses(&b).await;
        assert_eq!(refused.len(), 2, "{refused:#?}");
        for e in &refused {
            assert_eq!(e["details"]["outcome"], "refused", "{e:#}");
            assert_eq!(e["details"]["status"], 401, "{e:#}");
            assert_eq!(e["details"]["push"], tid.as_str(), "{e:#}");
            assert!(e.get("partner").is_none_or(Value::is_null), "{e:#}");
        }

        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_push_larger_than_max_push_mb_is_refused_recorded_and_nothing_is_kept() {
    for storage in Storage::all() {
        let backend = start_platform().await;
        assert!(
            entities_body().len() > 1024 * 1024,
            "the body must exceed 1 MiB"
        );
        let (a, b) = city_pair_backed_with(storage, &backend, |c| c.max_push_mb = 1).await;
        let tid = push_transfer(&b).await;

        // A streams its push (no Content-Length); B stops reading past 1 MiB, answers 413 and keeps nothing.
        let entry = recorded_access(&b, "nothing recorded on B", |_| true).await;
        // Cut while streaming: some bytes arrived (not refused on a declared length), never more than the limit.
        assert_eq!(entry["details"]["status"], 413, "{entry:#}");
        assert_eq!(entry["details"]["complete"], false, "{entry:#}");
        let bytes = entry["details"]["bytes"].as_u64().unwrap();
        assert!(bytes > 0 && bytes <= 1024 * 1024, "{entry:#}");
        assert!(entry["details"].get("outcome").is_none(), "{entry:#}");
        assert_eq!(entry["transfer"], tid.as_str(), "{entry:#}");
        assert!(
            received(&b, &tid).is_empty(),
            "neither the payload nor a partial file is kept"
        );
        let view = get_json(
            &b,
            &format!(
                "/api/v1/transfers/{}",
                twinport::client::encode_segment(&tid)
            ),
        )
        .await;
        assert_eq!(view["state"], "STARTED", "not completed: {view:#}");

        // A declared Content-Length over the limit is refused before anything is read, and recorded with the
        // transfer the token names. The token is the one B gave A in its data address.
        let pid = provider_transfer(&a, &tid).await;
        let address = a
            .running
            .state
            .store()
            .transfer(&pid)
            .await
            .unwrap()
            .and_then(|t| t.data_address)
            .expect("A keeps B's data address");
        let address =
            twinport_contracts::transfer::DataAddress::from_json(&address).expect("a data address");
        let token = address
            .property("authorization")
            .expect("a push token")
            .to_string();
        // Headers only, over a raw connection: the refusal must come before any body is read (a client that sent
        // the 2 MiB first could see the connection reset instead of the answer).
        let before = data_accesses(&b).await.len();
        let (status, body) = declare_only(&push_url(&b, &tid), &token, 2 * 1024 * 1024).await;
        assert_eq!(status, 413, "{body}");
        assert!(body.contains("application/problem+json"), "{body}");
        assert!(body.contains("max_push_mb"), "{body}");
        assert!(received(&b, &tid).is_empty());
        let after = data_accesses(&b).await;
        assert_eq!(after.len(), before + 1);
        let last = after.last().unwrap();
        assert_eq!(last["details"]["status"], 413, "{last:#}");
        assert_eq!(last["details"]["outcome"], "refused", "{last:#}");
        assert_eq!(last["transfer"], tid.as_str(), "{last:#}");

        // With the right token but the transfer suspended: 409, recorded under the transfer the token names.
        act(&b, &tid, "suspend").await;
        wait_for_state(&b, &tid, "SUSPENDED", T).await;
        let (status, body) = declare_only(&push_url(&b, &tid), &token, 10).await;
        assert_eq!(status, 409, "{body}");
        let after = data_accesses(&b).await;
        let last = after.last().unwrap();
        assert_eq!(last["details"]["status"], 409, "{last:#}");
        assert_eq!(last["transfer"], tid.as_str(), "{last:#}");
        assert_eq!(last["partner"], CITY_A, "{last:#}");

        a.running.stop().await;
        b.running.stop().await;
    }
}

/// Sends only the headers of a push declaring `length` body bytes and reads the answer: its status and the whole
/// response text.
async fn declare_only(url: &str, token: &str, length: u64) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut conn = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\ntwinport-request-id: big-1\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
        url.path()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(T, conn.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// A platform that answers 503 until `up` is set.
async fn flaky_platform(up: std::sync::Arc<std::sync::atomic::AtomicBool>) -> String {
    let app = Router::new().route(
        "/ngsi-ld/v1/entities",
        get(move || {
            let up = up.clone();
            async move {
                if up.load(std::sync::atomic::Ordering::SeqCst) {
                    (
                        axum::http::StatusCode::OK,
                        [("content-type", "application/ld+json")],
                        entities_body(),
                    )
                } else {
                    (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        [("content-type", "text/plain")],
                        "maintenance".to_string(),
                    )
                }
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

async fn act(city: &City, tid: &str, action: &str) {
    let r = city
        .management(
            Method::POST,
            &format!(
                "/api/v1/transfers/{}/{action}",
                twinport::client::encode_segment(tid)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{action}: {}", r.text().await.unwrap());
}

#[tokio::test]
async fn an_error_page_is_not_pushed_and_a_resume_pushes_again() {
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let platform = flaky_platform(up.clone()).await;
    let (a, b) = city_pair_backed(Storage::Sqlite, &platform).await;
    let tid = push_transfer(&b).await;
    wait_for_state(&b, &tid, "STARTED", T).await;
    let pid = provider_transfer(&a, &tid).await;
    let entry = recorded_access(&a, "no failure recorded", |e| e["transfer"] == pid.as_str()).await;
    assert_eq!(entry["details"]["status"], 502, "{entry:#}");
    assert!(
        entry["details"]["detail"].as_str().unwrap().contains("503"),
        "{entry:#}"
    );
    assert!(
        received(&b, &tid).is_empty(),
        "the error page was not pushed"
    );

    // The platform is back; the consumer's operator suspends and resumes, and the provider pushes again.
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    act(&b, &tid, "suspend").await;
    wait_for_state(&a, &pid, "SUSPENDED", T).await;
    act(&b, &tid, "resume").await;
    wait_for_state(&b, &tid, "COMPLETED", T).await;
    wait_for_state(&a, &pid, "COMPLETED", T).await;
    let files = received(&b, &tid);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        entities_body().as_bytes()
    );

    a.running.stop().await;
    b.running.stop().await;
}

/// A stop ends a push in flight at once (it used to run on, past the store closing), and what went out is
/// recorded as an incomplete access with the reason noted on the transfer.
#[tokio::test]
async fn a_stop_ends_a_push_in_flight_and_records_it_incomplete() {
    for storage in Storage::all() {
        let hit = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let platform = twinport_e2e::platform::endless(hit.clone()).await;
        let (a, b) = city_pair_backed(storage, &platform).await;
        let tid = push_transfer(&b).await;
        let deadline = tokio::time::Instant::now() + T;
        while !hit.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the push never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let provider = provider_transfer(&a, &tid).await;

        let started = std::time::Instant::now();
        let (store, leaves) = stop_and_reopen(a.running).await;
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "a stop must not wait out the push (took {:?})",
            started.elapsed()
        );
        let leaves: Vec<&Value> = leaves
            .iter()
            .filter(|l| l["kind"] == "data_access")
            .collect();
        let cut = leaves
            .iter()
            .find(|l| l["transfer"] == provider.as_str())
            .unwrap_or_else(|| panic!("no access recorded for the push: {leaves:#?}"));
        assert_eq!(cut["details"]["complete"], false, "{cut:#}");
        assert!(cut["details"]["bytes"].as_u64().unwrap() > 0, "{cut:#}");
        store.close().await;
        b.running.stop().await;
    }
}
