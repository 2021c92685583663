//! Every DSP message the connectors send each other, and every answer, as seen on the wire by a recording proxy,
//! passes the official DSP 2025-1 JSON Schema for its `@type`: catalogue, negotiation (with a refusal, a
//! counter-offer and a provider-initiated offer) and transfer (start, suspension, resumption, termination).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::schemas::{assert_valid, schema_for};
use twinport_e2e::{
    provider_negotiation, proxied_pair, start_negotiation, wait_for_state, CITY_A, CITY_B,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn every_message_on_the_wire_passes_its_official_schema() {
    let (a, b, to_a, to_b) = proxied_pair().await;
    // Catalogue.
    let partner = b.running.state.partners().get(CITY_A).unwrap();
    b.running
        .state
        .client()
        .catalog(&partner, vec![])
        .await
        .unwrap();
    b.running
        .state
        .client()
        .dataset(&partner, TRAFFIC)
        .await
        .unwrap();
    // Happy path with a transfer suspended, resumed and terminated.
    let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let view: Value = b
        .management(Method::GET, &format!("/api/v1/negotiations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let agreement_id = view["agreement_id"].as_str().unwrap().to_string();
    let t: Value = b
        .management(Method::POST, "/api/v1/transfers")
        .json(&json!({"agreement_id": agreement_id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tid = t["id"].as_str().unwrap().to_string();
    wait_for_state(&b, &tid, "STARTED", T).await;
    b.management(Method::POST, &format!("/api/v1/transfers/{tid}/suspend"))
        .json(&json!({"reason": "pause"}))
        .send()
        .await
        .unwrap();
    wait_for_state(&b, &tid, "SUSPENDED", T).await;
    b.management(Method::POST, &format!("/api/v1/transfers/{tid}/resume"))
        .send()
        .await
        .unwrap();
    wait_for_state(&b, &tid, "STARTED", T).await;
    b.management(Method::POST, &format!("/api/v1/transfers/{tid}/terminate"))
        .json(&json!({"reason": "done"}))
        .send()
        .await
        .unwrap();
    let provider_t = a
        .running
        .state
        .store()
        .transfers()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.consumer_pid.as_deref() == Some(tid.as_str()))
        .unwrap();
    wait_for_state(&a, &provider_t.id, "TERMINATED", T).await;
    // A refusal (termination with reasons) and a counter-offer.
    let refused = start_negotiation(
        &b,
        CITY_A,
        "urn:ldt:sample-city:flood-model",
        "urn:ldt:sample-city:flood-model:offer:research-only",
        None,
    )
    .await;
    wait_for_state(&b, &refused, "TERMINATED", T).await;
    let body = json!({"partner": CITY_A, "dataset": TRAFFIC, "offer_id": TRAFFIC_OFFER, "terms": {"permission": [{"action": "read"}]}});
    let countered: Value = b
        .management(Method::POST, "/api/v1/negotiations")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let countered = countered["id"].as_str().unwrap().to_string();
    wait_for_state(&b, &countered, "OFFERED", T).await;
    b.management(
        Method::POST,
        &format!("/api/v1/negotiations/{countered}/accept"),
    )
    .send()
    .await
    .unwrap();
    wait_for_state(&b, &countered, "FINALIZED", T).await;
    // A provider-initiated offer.
    let r = a
        .management(Method::POST, "/api/v1/negotiations/offers")
        .json(&json!({"partner": CITY_B, "dataset": TRAFFIC, "offer_id": TRAFFIC_OFFER}))
        .send()
        .await
        .unwrap();
    let offered = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // An invalid transition answered with an error body.
    let provider = provider_negotiation(&a, &id).await.unwrap();
    let pid = provider.provider_pid.unwrap();
    reqwest::Client::new()
        .post(format!("{}/dsp/2025-1/negotiations/{pid}/events", to_a.url))
        .bearer_auth(b.running.state.identity().token_for(CITY_A).unwrap())
        .json(&json!({"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"], "@type": "ContractNegotiationEventMessage", "providerPid": pid, "consumerPid": id, "eventType": "ACCEPTED"}))
        .send()
        .await
        .unwrap();
    // Let the last queued messages land.
    let mut consumer_side = None;
    for _ in 0..100 {
        consumer_side = b
            .running
            .state
            .store()
            .negotiations()
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.provider_pid.as_deref() == Some(offered.as_str()));
        if consumer_side.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(consumer_side.is_some(), "provider-initiated offer arrived");

    let mut seen = std::collections::BTreeSet::new();
    for ex in to_a.exchanges().into_iter().chain(to_b.exchanges()) {
        for body in [&ex.request, &ex.response].into_iter().flatten() {
            let Some(kind) = body.get("@type").and_then(Value::as_str) else {
                continue;
            };
            let schema = schema_for(kind).unwrap_or_else(|| {
                panic!("no official schema for {kind} ({} {})", ex.method, ex.path)
            });
            assert_valid(schema, body);
            seen.insert(kind.to_string());
        }
    }
    for kind in [
        "CatalogRequestMessage",
        "Catalog",
        "Dataset",
        "ContractRequestMessage",
        "ContractNegotiation",
        "ContractAgreementMessage",
        "ContractAgreementVerificationMessage",
        "ContractNegotiationEventMessage",
        "ContractNegotiationTerminationMessage",
        "ContractOfferMessage",
        "ContractNegotiationError",
        "TransferRequestMessage",
        "TransferProcess",
        "TransferStartMessage",
        "TransferSuspensionMessage",
        "TransferTerminationMessage",
    ] {
        assert!(
            seen.contains(kind),
            "{kind} never crossed the wire; seen {seen:?}"
        );
    }
    a.running.stop().await;
    b.running.stop().await;
}
