//! The provider's data plane end to end: city B pulls through city A's data address from real in-process backends
//! (an NGSI-LD-like broker, a REST API, a large file), every response digested, recorded and receipted; every
//! refusal is a problem+json answered before the backend is contacted, and recorded too.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use twinport_contracts::receipt::SignedReceipt;
use twinport_e2e::platform::Platform;
use twinport_e2e::{
    city_pair, city_pair_with, data_access, data_accesses, pull_transfer, request_id,
    stop_and_reopen, wait_for_state, City, PullTransfer, Storage, CITY_A, CITY_B,
};

const T: Duration = Duration::from_secs(10);
const SDM: &str = "https://smartdatamodels.org/dataModel.Transportation/";
const OWNER: &str = "https://city-a.example/ns/ownerName";
const CITY_CTX: &str = "https://city-a.example/context.jsonld";
const PARTNER_CTX: &str = "https://city-b.example/context.jsonld";

fn open_policy() -> Value {
    json!({"permission": [{"action": "use"}]})
}

fn get(p: &PullTransfer, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .get(format!("{}{path}", p.endpoint))
        .bearer_auth(&p.token)
}

fn sha256_hex(b: &[u8]) -> String {
    hex_lower(&Sha256::digest(b))
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Sends a request line exactly as written (no dot-segment resolution) and returns the status.
async fn raw_get(p: &PullTransfer, suffix: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = url::Url::parse(&p.endpoint).unwrap();
    let addr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET {}{suffix} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        url.path(),
        url.host_str().unwrap(),
        p.token
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

async fn assert_problem(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "refusals are problem+json"
    );
    r.json().await.unwrap()
}

async fn receipt(
    a: &City,
    p: &PullTransfer,
    response_headers: &reqwest::header::HeaderMap,
) -> SignedReceipt {
    let url = response_headers["twinport-receipt"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with(a.running.public_url()));
    let r = reqwest::Client::new()
        .get(url)
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    SignedReceipt::from_json(&r.bytes().await.unwrap()).unwrap()
}

/// A started pull of an open "roads" resource on `platform`'s REST API.
async fn roads_pull(a: &City, b: &City, platform: &Platform) -> PullTransfer {
    pull_transfer(
        a,
        b,
        "urn:ldt:t:roads",
        open_policy(),
        json!({"format": "application/json", "backend": format!("{}/api/v1", platform.url)}),
        None,
    )
    .await
}

#[tokio::test]
async fn a_pull_returns_the_backend_body_with_a_verifiable_receipt_and_an_audit_entry() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let platform = Platform::start().await;
        let p = roads_pull(&a, &b, &platform).await;
        let r = get(&p, "/collections/roads/items?limit=2")
            .header("x-forwarded-for", "10.0.0.1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap();
        let echoed: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(echoed["path"], "/api/v1/collections/roads/items");
        assert_eq!(echoed["query"], "limit=2");
        let seen = platform.seen.last_headers();
        assert!(
            seen.get("authorization").is_none(),
            "the token never reaches the backend"
        );
        assert!(seen.get("x-forwarded-for").is_none());
        assert_eq!(
            seen["x-forwarded-prefix"],
            format!("/data/{}", p.provider_transfer)
        );
        // The platform is addressed as itself, and told who is calling when the partner's client did not say.
        assert_eq!(seen["host"], platform.url.trim_start_matches("http://"));
        assert!(
            seen["user-agent"]
                .to_str()
                .unwrap()
                .starts_with("twinport-data-plane/"),
            "{:?}",
            seen.get("user-agent")
        );

        // The receipt names this body and verifies with city A's published keys.
        let signed = receipt(&a, &p, &headers).await;
        let digest = sha256_hex(&body);
        signed
            .verify_body(&a.key.jwks(), body.len() as u64, &digest)
            .expect("receipt verifies against the body received");
        let request_id = request_id(&headers);
        assert_eq!(signed.receipt.request_id, request_id);
        assert_eq!(signed.receipt.consumer, CITY_B);
        assert_eq!(signed.receipt.provider, CITY_A);
        assert_eq!(signed.receipt.agreement_id, p.agreement_id);
        assert_eq!(signed.receipt.transfer_id, p.provider_transfer);
        assert!(signed.receipt.complete);

        // The audit entry carries the same digest, at the index the receipt names.
        let entry = data_access(&a, &request_id).await;
        let d = &entry["details"];
        assert_eq!(d["sha256"], digest.as_str());
        assert_eq!(d["bytes"], body.len() as u64);
        assert_eq!(d["status"], 200);
        assert_eq!(d["complete"], true);
        assert_eq!(d["method"], "GET");
        assert_eq!(d["path"], "/collections/roads/items?limit=2");
        assert!(d["duration_ms"].is_u64());
        assert_eq!(entry["partner"], CITY_B);
        assert_eq!(entry["agreement"], p.agreement_id.as_str());
        assert_eq!(entry["transfer"], p.provider_transfer.as_str());
        let stored = a
            .running
            .state
            .store()
            .audit_entries_from(signed.receipt.audit_index.unwrap(), 1)
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&stored[0].leaf).unwrap(),
            entry
        );

        // After the transfer completes the token is revoked, but the partner's identity token still fetches it.
        let r = b
            .management(
                Method::POST,
                &format!("/api/v1/transfers/{}/complete", p.consumer_transfer),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        wait_for_state(&a, &p.provider_transfer, "COMPLETED", T).await;
        let url = headers["twinport-receipt"].to_str().unwrap();
        let r = reqwest::Client::new()
            .get(url)
            .bearer_auth(&p.token)
            .send()
            .await
            .unwrap();
        assert_problem(r, 401).await;
        let identity = b.running.state.identity().token_for(CITY_A).unwrap();
        let r = reqwest::Client::new()
            .get(url)
            .bearer_auth(identity)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            SignedReceipt::from_json(&r.bytes().await.unwrap()).unwrap(),
            signed
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn the_receipts_of_many_responses_come_signed_together_and_each_verifies_alone() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let platform = Platform::start().await;
        let p = roads_pull(&a, &b, &platform).await;
        let mut served = Vec::new();
        for i in 0..5 {
            let r = get(&p, &format!("/collections/roads/items?limit={i}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let headers = r.headers().clone();
            let body = r.bytes().await.unwrap();
            served.push((request_id(&headers), body));
            let batch_url = headers["twinport-receipts"].to_str().unwrap().to_string();
            assert_eq!(batch_url, format!("{}/receipts", p.endpoint));
        }
        let batch_url = format!("{}/receipts", p.endpoint);
        let ask = |ids: Value, token: &str| {
            reqwest::Client::new()
                .post(&batch_url)
                .bearer_auth(token)
                .json(&json!({"requestIds": ids}))
                .send()
        };
        let mut ids: Vec<String> = served.iter().map(|(id, _)| id.clone()).collect();
        ids.push("urn:uuid:not-a-request".into());
        let r = ask(json!(ids), &p.token).await.unwrap();
        assert_eq!(r.status(), 200);
        let answer: Value = r.json().await.unwrap();
        let receipts: Vec<SignedReceipt> =
            serde_json::from_value(answer["receipts"].clone()).unwrap();
        assert_eq!(receipts.len(), 5, "{answer:#?}");
        assert_eq!(answer["missing"][0]["requestId"], "urn:uuid:not-a-request");
        for ((id, body), signed) in served.iter().zip(&receipts) {
            assert_eq!(&signed.receipt.request_id, id, "in the order asked");
            assert_eq!(signed.signature, receipts[0].signature, "one signature");
            assert_eq!(signed.batch.as_ref().unwrap().size, 5);
            // Through JSON alone, as anyone holding one receipt and A's keys would check it.
            let alone = SignedReceipt::from_json(&serde_json::to_vec(signed).unwrap()).unwrap();
            alone
                .verify_body(&a.key.jwks(), body.len() as u64, &sha256_hex(body))
                .expect("each receipt verifies on its own");
        }

        // Another partner's transfer, a stranger and a malformed request are refused as problems.
        let identity = b.running.state.identity().token_for(CITY_A).unwrap();
        let r = ask(json!([served[0].0]), &identity).await.unwrap();
        assert_eq!(r.status(), 200, "the owner's identity token serves too");
        let r = ask(json!([served[0].0]), "not-a-token").await.unwrap();
        assert_problem(r, 401).await;
        let r = ask(json!([]), &p.token).await.unwrap();
        assert_problem(r, 400).await;
        let r = reqwest::Client::new()
            .post(&batch_url)
            .bearer_auth(&p.token)
            .body("{")
            .send()
            .await
            .unwrap();
        assert_problem(r, 400).await;
        // Other methods on that path are data requests like any other, judged and relayed to the backend.
        let r = get(&p, "/receipts").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let echoed: Value = r.json().await.unwrap();
        assert_eq!(echoed["path"], "/api/v1/receipts");
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn refusals_are_problems_recorded_before_any_backend_is_contacted() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let platform = Platform::start().await;
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:refusals",
        open_policy(),
        json!({"format": "application/json", "backend": format!("{}/api", platform.url)}),
        None,
    )
    .await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/x", p.endpoint))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, 401).await;
    assert!(problem["detail"].as_str().unwrap().contains("bearer token"));
    let r = client
        .get(format!("{}/x", p.endpoint))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_problem(r, 401).await;
    // Traversal, plain or encoded, never leaves the data address.
    let r = get(&p, "/a%2f..%2fb").send().await.unwrap();
    assert_problem(r, 400).await;
    // HTTP clients resolve dot segments themselves; a hostile one need not.
    assert_eq!(raw_get(&p, "/../../secret").await, 400);
    assert_eq!(raw_get(&p, "/%2e%2e/%2E%2E/secret").await, 400);
    assert_eq!(platform.seen.hits(), 0);
    assert_eq!(get(&p, "/ok").send().await.unwrap().status(), 200);
    assert_eq!(platform.seen.hits(), 1);

    // Suspended: the token is kept, but nothing is served until the transfer resumes.
    let r = a
        .management(
            Method::POST,
            &format!("/api/v1/transfers/{}/suspend", p.provider_transfer),
        )
        .json(&json!({"reason": "maintenance"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let problem = assert_problem(get(&p, "/ok").send().await.unwrap(), 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("suspended"));

    // Terminated: the token is revoked.
    let r = a
        .management(
            Method::POST,
            &format!("/api/v1/transfers/{}/terminate", p.provider_transfer),
        )
        .json(&json!({"reason": "done"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_problem(get(&p, "/ok").send().await.unwrap(), 401).await;
    assert_eq!(
        platform.seen.hits(),
        1,
        "no refused request reached the backend"
    );

    let refused: Vec<Value> = data_accesses(&a)
        .await
        .into_iter()
        .filter(|e| e["details"]["outcome"] == "refused")
        .collect();
    let statuses: Vec<u64> = refused
        .iter()
        .map(|e| e["details"]["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![401, 401, 400, 400, 400, 409, 401]);
    assert_eq!(refused[5]["transfer"], p.provider_transfer.as_str());
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_count_limit_holds_when_requests_race_for_the_last_accesses() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let platform = Platform::start().await;
    let policy = json!({"permission": [{"action": "use",
        "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 3}]}]});
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:counted",
        policy,
        json!({"format": "application/json", "backend": format!("{}/api", platform.url)}),
        None,
    )
    .await;
    let requests = (0..8).map(|i| {
        let r = get(&p, &format!("/item/{i}"));
        async move { r.send().await.unwrap() }
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut ok = 0;
    for r in responses {
        match r.status() {
            StatusCode::OK => ok += 1,
            StatusCode::FORBIDDEN => {
                let problem = assert_problem(r, 403).await;
                let reasons = problem["reasons"].to_string();
                assert!(
                    reasons.contains("the rule requires: at most 3 times"),
                    "{reasons}"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 3, "exactly the allowed number of accesses got through");
    assert_eq!(platform.seen.hits(), 3);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn purpose_is_judged_per_request_and_an_agreement_window_closes_during_a_transfer() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let platform = Platform::start().await;
    let research = json!({"permission": [{"action": "use",
        "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}]}]});
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:research",
        research,
        json!({"format": "application/json", "backend": format!("{}/api", platform.url)}),
        Some("research"),
    )
    .await;
    // The purpose agreed in the negotiation applies by default; a request may declare its own.
    assert_eq!(get(&p, "/a").send().await.unwrap().status(), 200);
    let r = get(&p, "/a")
        .header("twinport-purpose", "marketing")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, 403).await;
    assert!(
        problem["reasons"].to_string().contains("purpose"),
        "{problem}"
    );
    assert_eq!(platform.seen.hits(), 1);
    // An empty declaration does not replace the agreed purpose with none: it is refused.
    let r = get(&p, "/a")
        .header("twinport-purpose", " ")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400).await;
    assert_eq!(platform.seen.hits(), 1);

    // An agreement valid for a few more seconds: served now, refused once the window has passed.
    let deadline = time::OffsetDateTime::now_utc() + time::Duration::seconds(12);
    let until = deadline
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let window = json!({"permission": [{"action": "use",
        "constraint": [{"leftOperand": "dateTime", "operator": "lt", "rightOperand": {"@value": until, "@type": "xsd:dateTime"}}]}]});
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:window",
        window,
        json!({"format": "application/json", "backend": format!("{}/api", platform.url)}),
        None,
    )
    .await;
    assert_eq!(get(&p, "/a").send().await.unwrap().status(), 200);
    let wait = deadline - time::OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::from_millis(
        wait.whole_milliseconds().max(0) as u64 + 500,
    ))
    .await;
    let problem = assert_problem(get(&p, "/a").send().await.unwrap(), 403).await;
    assert!(
        problem["reasons"]
            .to_string()
            .contains("the rule requires: before"),
        "{problem}"
    );
    assert_eq!(platform.seen.hits(), 2);
    a.running.stop().await;
    b.running.stop().await;
}

fn link(url: &str) -> String {
    format!("<{url}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"")
}

fn broker_distribution(platform: &Platform, filter: bool) -> Value {
    json!({"format": "application/ld+json", "backend": format!("{}/ngsi-ld/v1", platform.url),
    "ngsi_ld": {
        "tenant": "city-a",
        "entity_types": [format!("{SDM}TrafficFlowObserved")],
        "attributes": [format!("{SDM}averageVehicleSpeed")],
        "query_parameters": ["type", "attrs", "q", "limit"],
        "filter_responses": filter,
        "contexts": {
            CITY_CTX: {"@context": {"sdm": SDM, "TrafficFlowObserved": "sdm:TrafficFlowObserved",
                                    "speed": "sdm:averageVehicleSpeed", "owner": OWNER}},
            // City B's own context maps a harmless-looking name onto the private attribute.
            PARTNER_CTX: {"@context": {"speed": OWNER, "TrafficFlowObserved": format!("{SDM}TrafficFlowObserved")}}
        }
    }})
}

#[tokio::test]
async fn ngsi_ld_restrictions_are_judged_on_expanded_iris() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let platform = Platform::start().await;
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:ngsi",
        open_policy(),
        broker_distribution(&platform, false),
        None,
    )
    .await;
    let r = get(&p, "/entities?type=TrafficFlowObserved&attrs=speed")
        .header("link", link(CITY_CTX))
        .header("ngsild-tenant", "someone-else")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert!(body[0].get("owner").is_none());
    let seen = platform.seen.last_headers();
    assert_eq!(
        seen["ngsild-tenant"], "city-a",
        "the partner cannot choose the tenant"
    );
    assert_eq!(
        seen["link"],
        link(CITY_CTX),
        "the broker reads the partner's context too"
    );
    assert_eq!(platform.seen.hits(), 1);

    let refused = [
        // The @context trick: "speed" in city B's context is the private owner attribute.
        (link(PARTNER_CTX), "/entities?type=TrafficFlowObserved&attrs=speed", 403, OWNER),
        (link(PARTNER_CTX), "/entities?type=TrafficFlowObserved&attrs=https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed&q=speed>3", 403, OWNER),
        (link(CITY_CTX), "/entities?type=Building&attrs=speed", 403, "Building"),
        (link(CITY_CTX), "/entities?type=TrafficFlowObserved&attrs=owner", 403, OWNER),
        (link(CITY_CTX), "/entities?type=TrafficFlowObserved&attrs=speed&georel=near", 403, "georel"),
        (link("https://elsewhere.example/ctx.jsonld"), "/entities?type=TrafficFlowObserved&attrs=speed", 400, "elsewhere"),
    ];
    for (ctx, path, status, mentions) in refused {
        let r = get(&p, path).header("link", ctx).send().await.unwrap();
        let problem = assert_problem(r, status).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(mentions),
            "{path}: {problem}"
        );
    }
    assert_eq!(
        platform.seen.hits(),
        1,
        "no refused query reached the broker"
    );

    // Where the resource filters responses, an unrestricted query comes back without what it may not see.
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:ngsi-filtered",
        open_policy(),
        broker_distribution(&platform, true),
        None,
    )
    .await;
    let r = get(&p, "/entities")
        .header("link", link(CITY_CTX))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    let body = r.bytes().await.unwrap();
    let entities: Value = serde_json::from_slice(&body).unwrap();
    let ids: Vec<&str> = entities
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            "urn:ngsi-ld:TrafficFlowObserved:s12",
            "urn:ngsi-ld:TrafficFlowObserved:s13"
        ]
    );
    assert!(entities
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e.get("owner").is_none() && e.get("speed").is_some()));
    // The digest is of the filtered body actually served.
    receipt(&a, &p, &headers)
        .await
        .verify_body(&a.key.jwks(), body.len() as u64, &sha256_hex(&body))
        .unwrap();
    let r = get(&p, "/entities/urn:ngsi-ld:Building:b1")
        .header("link", link(CITY_CTX))
        .send()
        .await
        .unwrap();
    assert_problem(r, 403).await;
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn backend_failures_are_502_and_504_and_recorded() {
    let (a, b) = city_pair_with(Storage::Sqlite, |c: &mut twinport::config::Config| {
        c.backend_timeout = Duration::from_secs(1)
    })
    .await;
    let platform = Platform::start().await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}/api", closed.local_addr().unwrap());
    drop(closed);
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:down",
        open_policy(),
        json!({"format": "application/json", "backend": down}),
        None,
    )
    .await;
    let r = get(&p, "/x").send().await.unwrap();
    let id = request_id(r.headers());
    assert_problem(r, 502).await;
    assert_eq!(data_access(&a, &id).await["details"]["status"], 502);

    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:slow",
        open_policy(),
        json!({"format": "text/plain", "backend": format!("{}/slow", platform.url)}),
        None,
    )
    .await;
    let started = std::time::Instant::now();
    let r = get(&p, "").send().await.unwrap();
    let id = request_id(r.headers());
    assert_problem(r, 504).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered at the configured timeout"
    );
    assert_eq!(data_access(&a, &id).await["details"]["status"], 504);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_large_file_streams_whole_and_a_client_that_leaves_early_is_recorded_incomplete() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let files = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..16u32 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    std::fs::write(files.path().join("terrain.tif"), &content).unwrap();
    let root = url::Url::from_directory_path(files.path())
        .unwrap()
        .to_string();
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:files",
        open_policy(),
        json!({"format": "image/tiff", "backend": root}),
        None,
    )
    .await;

    let r = get(&p, "/terrain.tif").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/tiff");
    let headers = r.headers().clone();
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), content.len());
    let signed = receipt(&a, &p, &headers).await;
    signed
        .verify_body(&a.key.jwks(), content.len() as u64, &sha256_hex(&content))
        .unwrap();

    let r = get(&p, "/terrain.tif")
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &content[10..20]);
    assert_problem(get(&p, "/missing.tif").send().await.unwrap(), 404).await;
    assert_eq!(raw_get(&p, "/%2e%2e/etc/passwd").await, 400);

    // Read one chunk, then hang up.
    let r = get(&p, "/terrain.tif").send().await.unwrap();
    let id = request_id(r.headers());
    let mut stream = r.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(stream);
    let entry = data_access(&a, &id).await;
    assert_eq!(entry["details"]["complete"], false);
    assert!(entry["details"]["bytes"].as_u64().unwrap() < content.len() as u64);
    // The connector is unaffected: the next request is served whole.
    let again = get(&p, "/terrain.tif")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(again.len(), content.len());
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_stored_receipt_that_disagrees_with_the_audit_log_is_not_signed() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let platform = Platform::start().await;
        let p = roads_pull(&a, &b, &platform).await;
        let r = get(&p, "/collections/roads/items").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap();
        let request_id = request_id(&headers);

        // Receipts are stored as recorded and signed on their first fetch; rewrite this one before anyone asks.
        let store = a.running.state.store();
        let deadline = tokio::time::Instant::now() + T;
        let stored = loop {
            if let Some(r) = store.receipt(&request_id).await.unwrap() {
                break r;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "receipt never stored"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let mut recorded: Value = serde_json::from_str(&stored.body).unwrap();
        assert!(
            recorded.get("signature").is_none(),
            "stored unsigned until fetched: {recorded}"
        );
        assert_eq!(recorded["bytes"], body.len() as u64);
        recorded["bytes"] = json!(body.len() as u64 + 1);
        {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let db = a.running.state.config().storage_url.clone();
            let mut conn = sqlx::AnyConnection::connect(&db).await.unwrap();
            sqlx::query("UPDATE data_receipts SET body = $1 WHERE request_id = $2")
                .bind(recorded.to_string())
                .bind(&request_id)
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        let url = headers["twinport-receipt"].to_str().unwrap();
        let r = reqwest::Client::new()
            .get(url)
            .bearer_auth(&p.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_server_error(), "{}", r.status());
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let text = r.text().await.unwrap();
        assert!(!text.contains("signature"), "nothing signed: {text}");
        // Asked for with others, it is left out and said why; the others are signed.
        let r = get(&p, "/collections/roads/items?limit=1")
            .send()
            .await
            .unwrap();
        let other = twinport_e2e::request_id(r.headers());
        r.bytes().await.unwrap();
        let r = reqwest::Client::new()
            .post(headers["twinport-receipts"].to_str().unwrap())
            .bearer_auth(&p.token)
            .json(&json!({"requestIds": [request_id, other]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let answer: Value = r.json().await.unwrap();
        assert_eq!(
            answer["receipts"].as_array().unwrap().len(),
            1,
            "{answer:#}"
        );
        assert_eq!(
            answer["receipts"][0]["receipt"]["requestId"],
            other.as_str()
        );
        assert_eq!(answer["missing"][0]["requestId"], request_id.as_str());
        assert!(
            answer["missing"][0]["problem"]
                .as_str()
                .unwrap()
                .contains("not backed by the audit log"),
            "{answer:#}"
        );
        assert_eq!(
            store.receipt(&request_id).await.unwrap().unwrap().body,
            recorded.to_string(),
            "the row is left as found, for the operator to investigate"
        );

        // An untouched receipt is signed on its first fetch and that signed form is kept.
        let r = get(&p, "/collections/roads/items").send().await.unwrap();
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap();
        let signed = receipt(&a, &p, &headers).await;
        signed
            .verify_body(&a.key.jwks(), body.len() as u64, &sha256_hex(&body))
            .expect("verifies");
        let id = twinport_e2e::request_id(&headers);
        let kept: SignedReceipt =
            serde_json::from_str(&store.receipt(&id).await.unwrap().unwrap().body).unwrap();
        assert_eq!(kept, signed);
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// Regression: a served response is recorded just after its body ends, and the audit writer may hold the entry a
/// few milliseconds to share a commit; a clean stop used to close the store under it, losing entry and receipt.
#[tokio::test]
async fn a_response_served_just_before_a_clean_stop_is_still_recorded_with_its_receipt() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let platform = Platform::start().await;
        let p = roads_pull(&a, &b, &platform).await;
        let r = get(&p, "/collections/roads/items").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let request_id = request_id(r.headers());
        r.bytes().await.unwrap();
        let (store, leaves) = stop_and_reopen(a.running).await;
        assert!(
            leaves
                .iter()
                .any(|l| l["kind"] == "data_access"
                    && l["details"]["request_id"] == request_id.as_str()),
            "the served access is in the log after a clean stop"
        );
        assert!(
            store.receipt(&request_id).await.unwrap().is_some(),
            "and its receipt is stored"
        );
        store.close().await;
        b.running.stop().await;
    }
}

/// Regression: a partner that stopped reading a large body (or reads it very slowly) held a stop until the process
/// was killed, and the access was never recorded. After `shutdown_drain_seconds` its connection is ended and the
/// access is recorded as incomplete, with what went out.
#[tokio::test]
async fn a_stop_ends_a_body_the_partner_stopped_reading_and_records_it_incomplete() {
    for storage in Storage::all() {
        let hit = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let platform = twinport_e2e::platform::endless(hit).await;
        let (a, b) = city_pair_with(storage, |c| c.shutdown_drain = Duration::from_secs(1)).await;
        let p = pull_transfer(
            &a,
            &b,
            "urn:ldt:t:live-feed",
            open_policy(),
            json!({"format": "application/ld+json",
                   "backend": format!("{platform}/ngsi-ld/v1/entities")}),
            None,
        )
        .await;
        let r = get(&p, "").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let request_id = request_id(r.headers());
        let mut body = r.bytes_stream();
        body.next().await.unwrap().unwrap();
        // The partner now holds the connection without reading.

        let started = std::time::Instant::now();
        let (store, leaves) =
            tokio::time::timeout(Duration::from_secs(30), stop_and_reopen(a.running))
                .await
                .expect("the stop ends although the partner never finishes reading");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the stop waited {:?}",
            started.elapsed()
        );
        let access = leaves
            .iter()
            .find(|l| {
                l["kind"] == "data_access" && l["details"]["request_id"] == request_id.as_str()
            })
            .unwrap_or_else(|| panic!("the cut access is recorded: {leaves:#?}"));
        assert_eq!(access["details"]["complete"], false, "{access:#}");
        assert!(
            access["details"]["bytes"].as_u64().unwrap() > 0,
            "{access:#}"
        );
        drop(body);
        store.close().await;
        b.running.stop().await;
    }
}
