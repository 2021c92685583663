//! Receipts for DSP messages: every answer names the audit entry that recorded the message, the sender fetches the
//! receipt for it, verifies it offline against the partner's pinned log key and its own message, and records the
//! result in its own log. A receipt forged on the way (here by a proxy that corrupts it) is recorded as unverified,
//! and a partner that does not advertise receipts in its `/.well-known/twinport` is never asked for one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method as AxumMethod, StatusCode, Uri};
use reqwest::Method;
use serde_json::Value;
use twinport_contracts::transparency::merkle::leaf_hash;
use twinport_contracts::transparency::note::NoteVerifier;
use twinport_contracts::transparency::proof::Receipt;
use twinport_e2e::{
    city_pair, provider_negotiation, start_negotiation, wait_for_state, City, Storage, CITY_A,
    CITY_B,
};

const T: Duration = Duration::from_secs(10);
const DATASET: &str = "urn:ldt:sample-city:traffic-counts";
const OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";

async fn entries(city: &City, query: &str) -> Vec<Value> {
    let v: Value = city
        .management(
            Method::GET,
            &format!("/api/v1/audit/entries?{query}&limit=1000"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array().unwrap_or_else(|| panic!("{v}")).clone()
}

fn leaf(entry: &Value) -> Value {
    serde_json::from_str(entry["leaf"].as_str().unwrap()).unwrap()
}

/// Waits until `city` holds at least `n` receipt_received entries (collection runs after delivery).
async fn receipts(city: &City, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let found = entries(city, "kind=receipt_received").await;
        if found.len() >= n || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn pinned_key(city: &City, partner: &str) -> NoteVerifier {
    let (vkey, _) = city
        .running
        .state
        .store()
        .audit_partner_checkpoint(partner)
        .await
        .unwrap()
        .expect("partner key pinned");
    NoteVerifier::parse(&vkey).unwrap()
}

#[tokio::test]
async fn each_side_holds_verified_receipts_for_the_messages_it_sent() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let id = start_negotiation(&b, CITY_A, DATASET, OFFER, None).await;
        wait_for_state(&b, &id, "FINALIZED", T).await;
        let provider = provider_negotiation(&a, &id).await.unwrap();
        wait_for_state(&a, &provider.id, "FINALIZED", T).await;

        // The consumer sent ContractRequestMessage and ContractAgreementVerificationMessage.
        let got = receipts(&b, 2).await;
        let kinds: Vec<String> = got
            .iter()
            .map(|e| {
                leaf(e)["details"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        for sent in [
            "ContractRequestMessage",
            "ContractAgreementVerificationMessage",
        ] {
            assert!(kinds.iter().any(|k| k == sent), "{kinds:?}");
        }
        let key = pinned_key(&b, CITY_A).await;
        // The provider's entries recording what it received from the consumer.
        let received = entries(
            &a,
            "kind=dsp_message_received&partner=https%3A%2F%2Fcity-b.example%2Ftwinport",
        )
        .await;
        for e in &got {
            let details = &leaf(e)["details"];
            assert_eq!(details["verified"], true, "{details}");
            assert_eq!(e["partner"], CITY_A);
            // The stored receipt verifies offline on its own, and is for the provider's record of our message.
            let r = Receipt::parse(details["receipt"].as_str().unwrap()).unwrap();
            let entry = r.extra.clone().unwrap();
            r.verify(&leaf_hash(&entry), key.name(), std::slice::from_ref(&key))
                .expect("receipt verifies offline");
            let index = details["index"].as_u64().unwrap();
            let theirs = received
                .iter()
                .find(|x| x["index"] == index)
                .unwrap_or_else(|| panic!("provider has no received entry {index}"));
            assert_eq!(theirs["leaf"].as_str().unwrap().as_bytes(), &entry[..]);
            assert_eq!(leaf(theirs)["details"]["body"], details["body"]);
            assert!(details["checkpoint"]["size"].as_u64().unwrap() > index);
        }

        // The provider sent the agreement and FINALIZED and holds receipts from the consumer for them.
        let theirs = receipts(&a, 2).await;
        assert!(theirs.len() >= 2, "{theirs:?}");
        for e in &theirs {
            assert_eq!(leaf(e)["details"]["verified"], true, "{e}");
        }
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// What a [`proxy`] between the two cities does besides forwarding.
#[derive(Clone, Copy)]
enum Meddling {
    /// Corrupts the first proof line of every receipt on the way back.
    ForgeReceipts,
    /// Answers 404 to `/.well-known/twinport`, as a partner that advertises no extensions would.
    HideExtensions,
}

struct Proxy {
    target: String,
    meddling: Meddling,
    /// Every request path that reached the proxy.
    seen: Arc<Mutex<Vec<String>>>,
}

/// Forwards to `target`, meddling as told; returns its URL and the paths it saw.
async fn proxy(target: String, meddling: Meddling) -> (String, Arc<Mutex<Vec<String>>>) {
    async fn forward(
        State(proxy): State<Arc<Proxy>>,
        method: AxumMethod,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, HeaderMap, Bytes) {
        proxy.seen.lock().unwrap().push(uri.path().to_owned());
        if let Meddling::HideExtensions = proxy.meddling {
            if uri.path() == "/.well-known/twinport" {
                return (StatusCode::NOT_FOUND, HeaderMap::new(), Bytes::new());
            }
        }
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", proxy.target))
            .body(body);
        for (name, value) in &headers {
            if name != "host" && name != "content-length" {
                request = request.header(name, value);
            }
        }
        let r = request.send().await.unwrap();
        let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
        let mut h = HeaderMap::new();
        for (name, value) in r.headers() {
            if name != "content-length" && name != "transfer-encoding" {
                h.insert(name.clone(), value.clone());
            }
        }
        let mut bytes = r.bytes().await.unwrap();
        if let Meddling::ForgeReceipts = proxy.meddling {
            if uri.path().contains("/audit/receipts/") && status.is_success() {
                let text = String::from_utf8(bytes.to_vec()).unwrap();
                let mut receipt = Receipt::parse(&text).unwrap();
                receipt.proof[0][0] ^= 1;
                bytes = Bytes::from(receipt.to_text());
            }
        }
        (status, h, bytes)
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(Arc::new(Proxy {
            target,
            meddling,
            seen: seen.clone(),
        }));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

#[tokio::test]
async fn a_forged_receipt_is_recorded_as_unverified() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    // Pin city A's key through the honest route first, then put the forger between B and A.
    let pinned = b
        .management(
            Method::POST,
            "/api/v1/audit/partners/https%3A%2F%2Fcity-a.example%2Ftwinport/check",
        )
        .send()
        .await
        .unwrap();
    assert!(pinned.status().is_success());
    let (forger, _) = proxy(a.running.public_url().to_string(), Meddling::ForgeReceipts).await;
    b.running.state.set_partner_url(CITY_A, &forger);

    let id = start_negotiation(&b, CITY_A, DATASET, OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let got = receipts(&b, 2).await;
    assert!(got.len() >= 2, "{got:?}");
    for e in &got {
        let details = &leaf(e)["details"];
        assert_eq!(details["verified"], false, "{details}");
        assert!(
            details["reason"].as_str().unwrap().contains("inclusion"),
            "{details}"
        );
        // The forged receipt is kept as evidence.
        assert!(details["receipt"].as_str().is_some());
    }
    // The provider's receipts from the consumer (not forged: A talks to B directly) still verify.
    let theirs = receipts(&a, 2).await;
    assert!(theirs
        .iter()
        .all(|e| leaf(e)["details"]["verified"] == true && e["partner"] == CITY_B));
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn receipts_are_not_asked_of_a_partner_that_does_not_advertise_them() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    // A still names its entries in every answer, but no longer advertises its extensions to B.
    let (hiding, seen) = proxy(a.running.public_url().to_string(), Meddling::HideExtensions).await;
    b.running.state.set_partner_url(CITY_A, &hiding);

    let id = start_negotiation(&b, CITY_A, DATASET, OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let got = receipts(&b, 2).await;
    assert!(got.len() >= 2, "{got:?}");
    for e in &got {
        let details = &leaf(e)["details"];
        assert_eq!(details["verified"], false, "{details}");
        assert!(
            details["reason"]
                .as_str()
                .unwrap()
                .contains("does not advertise"),
            "{details}"
        );
        assert!(details.get("receipt").is_none(), "{details}");
    }
    let paths = seen.lock().unwrap().clone();
    assert!(
        paths.iter().all(|p| !p.contains("/audit/")),
        "B called a Twinport extension A did not advertise: {paths:?}"
    );
    // Asked once, for both messages' receipts.
    assert_eq!(
        paths
            .iter()
            .filter(|p| *p == "/.well-known/twinport")
            .count(),
        1,
        "{paths:?}"
    );
    a.running.stop().await;
    b.running.stop().await;
}
