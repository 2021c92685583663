//! The hostile partner's and careless operator's probes from issue 16, on both storage backends: ids without a
//! limit, NUL bytes, oversized and mistyped bodies, duplicate `Host` headers. Each must get a clear 4xx in the
//! surface's own error form, store nothing, and leave every change that did happen in the audit log.

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use twinport_e2e::schemas::assert_valid;
use twinport_e2e::{audit_leaves, city_pair, City, Storage, CITY_A};

fn resource(id: &str) -> Value {
    json!({
        "id": id, "kind": "dataset", "stage": "raw", "description": "A resource of the tests.", "title": "Probe",
        "distributions": [{"format": "application/json", "backend": "http://127.0.0.1:9/x"}],
        "offers": [{"policy": "partner-use"}]
    })
}

async fn problem(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, "application/problem+json", "status {status}");
    (status, res.json().await.unwrap())
}

async fn resource_count(city: &City) -> usize {
    city.running.state.store().resources().await.unwrap().len()
}

async fn management_entries(city: &City) -> usize {
    audit_leaves(city, "management_action").await.len()
}

#[tokio::test]
async fn overlong_nul_and_bidi_resource_ids_are_refused_and_nothing_is_stored() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let before = (resource_count(&a).await, management_entries(&a).await);
        let long = format!("urn:ldt:{}", "x".repeat(1024 * 1024));
        for (id, says) in [
            (long.as_str(), "at most 1024"),
            ("urn:ldt:safe\u{202E}txt.exe", "bidirectional"),
            ("urn:ldt:a b", "white space"),
        ] {
            let res = a
                .management(Method::POST, "/api/v1/resources")
                .json(&resource(id))
                .send()
                .await
                .unwrap();
            let (status, p) = problem(res).await;
            assert_eq!(status, 422, "{storage:?}: {p}");
            assert_eq!(p["errors"][0]["field"], "id", "{p}");
            assert!(
                p["errors"][0]["problem"].as_str().unwrap().contains(says),
                "{p}"
            );
        }
        let res = a
            .management(Method::POST, "/api/v1/resources")
            .json(&resource("urn:ldt:a\u{0}b"))
            .send()
            .await
            .unwrap();
        let (status, p) = problem(res).await;
        assert_eq!(status, 400, "{storage:?}: {p}");
        assert!(p["detail"].as_str().unwrap().contains("NUL"), "{p}");
        assert_eq!(
            before,
            (resource_count(&a).await, management_entries(&a).await)
        );

        // A good one is stored with its entry, so the counts above would have moved.
        let res = a
            .management(Method::POST, "/api/v1/resources")
            .json(&resource("urn:ldt:probe"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        assert_eq!(
            (before.0 + 1, before.1 + 1),
            (resource_count(&a).await, management_entries(&a).await)
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn nul_and_overlong_path_ids_get_a_problem_not_a_500() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        for (path, status) in [
            ("/api/v1/resources/urn:ldt:a%00b".to_string(), 400),
            (format!("/api/v1/resources/{}", "x".repeat(4096)), 414),
            (format!("/api/v1/negotiations/{}", "x".repeat(10_000)), 414),
            ("/api/v1/policies/p%00/versions".to_string(), 400),
        ] {
            let res = a.management(Method::GET, &path).send().await.unwrap();
            let (got, p) = problem(res).await;
            assert_eq!(
                got,
                status,
                "{storage:?} {}: {p}",
                &path[..40.min(path.len())]
            );
        }
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn management_bodies_must_be_json_objects_of_bounded_size() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let res = a
        .management(Method::POST, "/api/v1/resources")
        .header("content-type", "text/plain")
        .body(resource("urn:ldt:probe").to_string())
        .send()
        .await
        .unwrap();
    let (status, p) = problem(res).await;
    assert_eq!(status, 415, "{p}");

    let huge = json!({"id": "urn:ldt:big", "title": "x".repeat(3 * 1024 * 1024)});
    let res = a
        .management(Method::POST, "/api/v1/resources")
        .json(&huge)
        .send()
        .await
        .unwrap();
    let (status, p) = problem(res).await;
    assert_eq!(status, 413, "{p}");

    // A method the route does not have is a problem too, with its Allow header.
    let res = a
        .management(Method::PATCH, "/api/v1/resources")
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("allow"));
    let (status, _) = problem(res).await;
    assert_eq!(status, 405);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn dsp_ids_obey_the_id_rule_and_nothing_is_stored() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        // Tokens are single-use: each request gets its own.
        let token = || b.running.state.identity().token_for(CITY_A).unwrap();
        let client = reqwest::Client::new();
        let before = a.running.state.store().negotiations().await.unwrap().len();
        let long = "p".repeat(1024 * 1024);
        for (pid, says) in [
            (long.as_str(), "at most 1024"),
            ("urn:uuid:a\u{0}b", "NUL"),
            ("urn:uuid:\u{202E}x", "bidirectional"),
        ] {
            let msg = json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "ContractRequestMessage",
                "consumerPid": pid,
                "callbackAddress": b.dsp_base(),
                "offer": {"@type": "Offer", "@id": "urn:ldt:sample-city:traffic-counts:offer:partner-use",
                          "target": "urn:ldt:sample-city:traffic-counts"}
            });
            let res = client
                .post(format!("{}/negotiations/request", a.dsp_base()))
                .bearer_auth(token())
                .json(&msg)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 400, "{storage:?}");
            let err: Value = res.json().await.unwrap();
            assert_valid("negotiation/contract-negotiation-error-schema.json", &err);
            assert!(err["reason"][0].as_str().unwrap().contains(says), "{err}");
        }
        let msg = json!({
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "ContractRequestMessage",
            "consumerPid": "urn:uuid:fine",
            "callbackAddress": "file:///etc/passwd",
            "offer": {"@type": "Offer", "@id": "urn:ldt:sample-city:traffic-counts:offer:partner-use",
                      "target": "urn:ldt:sample-city:traffic-counts"}
        });
        let res = client
            .post(format!("{}/negotiations/request", a.dsp_base()))
            .bearer_auth(token())
            .json(&msg)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let err: Value = res.json().await.unwrap();
        assert!(
            err["reason"][0]
                .as_str()
                .unwrap()
                .contains("callbackAddress"),
            "{err}"
        );
        assert_eq!(
            before,
            a.running.state.store().negotiations().await.unwrap().len()
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn dsp_bodies_must_be_json_and_bounded_and_errors_are_dsp_messages() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let token = || b.running.state.identity().token_for(CITY_A).unwrap();
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/negotiations/request", a.dsp_base()))
        .bearer_auth(token())
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let err: Value = res.json().await.unwrap();
    assert_valid("negotiation/contract-negotiation-error-schema.json", &err);

    let res = client
        .post(format!("{}/catalog/request", a.dsp_base()))
        .bearer_auth(token())
        .header("content-type", "application/json")
        .body(format!(
            "{{\"filter\": [\"{}\"]}}",
            "x".repeat(3 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.unwrap();
    assert_valid("catalog/catalog-error-schema.json", &err);

    // An unknown process is a 404 with a DSP error body, not an empty answer.
    let res = client
        .get(format!("{}/transfers/urn:uuid:nope", a.dsp_base()))
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["@type"], "TransferError", "{err}");
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_large_catalogue_filter_is_logged_by_digest_and_answered() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let token = || b.running.state.identity().token_for(CITY_A).unwrap();
    let filter: Vec<Value> = (0..2000)
        .map(|i| json!({"keyword": format!("k{i}")}))
        .collect();
    let res = reqwest::Client::new()
        .post(format!("{}/catalog/request", a.dsp_base()))
        .bearer_auth(token())
        .json(&twinport_e2e::catalog_request(filter))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let served = audit_leaves(&a, "catalogue_served").await;
    let last = served.last().unwrap();
    assert!(last["details"]["filter"]["digest"].is_string(), "{last}");
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn two_host_headers_are_refused_on_every_listener() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    for addr in [
        a.running.dsp_addr,
        a.running.management_addr,
        a.running.local_addr,
    ] {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 400"), "{addr}: {out}");
    }
    a.running.stop().await;
    b.running.stop().await;
}
