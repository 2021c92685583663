//! Negotiations survive partners that are down and connectors that restart: the durable outbox retries with
//! backoff, says why it waits, and completes the negotiation once both sides are up again. Also manual approval
//! and the transfer lifecycle from both sides.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::{
    awaiting_operator_approval, city_pair, provider_negotiation, start_negotiation, wait_for_state,
    City, StoppedCity, Storage, CITY_A, CITY_B,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const T: Duration = Duration::from_secs(20);

/// Restarts a city from its directory on the same addresses, keeping its storage.
async fn restart(city: City, partner: Option<(&str, String)>) -> City {
    StoppedCity::stop(city)
        .await
        .start(partner.as_ref().map(|(id, url)| (*id, url.as_str())))
        .await
}

#[tokio::test]
async fn a_negotiation_started_while_the_provider_is_down_completes_after_both_restart() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let b_public = b.running.public_url().to_string();
        // City B reads the offer while A is up, then A goes down.
        let partner = b.running.state.partners().get(CITY_A).unwrap();
        let dataset = b
            .running
            .state
            .client()
            .dataset(&partner, TRAFFIC)
            .await
            .unwrap();
        let offer = dataset["hasPolicy"][0].clone();
        let a = StoppedCity::stop(a).await;

        let n = twinport::contracting::negotiation::start(
            b.running.state.contracting(),
            CITY_A,
            TRAFFIC,
            offer,
            None,
        )
        .await
        .unwrap();
        // The outbox retries and says why it waits.
        let mut waiting = String::new();
        for _ in 0..100 {
            let view: Value = b
                .management(Method::GET, &format!("/api/v1/negotiations/{}", n.id))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            waiting = view["waiting_for"].as_str().unwrap_or_default().to_string();
            if view["pending"]["attempts"].as_i64().unwrap_or(0) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            waiting.starts_with("sent ContractRequestMessage, awaiting acknowledgement since")
                && waiting.contains("connection refused"),
            "{waiting}"
        );

        // The consumer restarts too, with the message still queued in its database.
        let b = restart(b, Some((CITY_A, a.public_url()))).await;
        assert_eq!(b.running.public_url(), b_public);

        // The provider comes back on the same address and the queued request goes through.
        let a = a.start(Some((CITY_B, &b_public))).await;
        wait_for_state(&b, &n.id, "FINALIZED", T).await;
        let provider = provider_negotiation(&a, &n.id).await.unwrap();
        wait_for_state(&a, &provider.id, "FINALIZED", T).await;
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// A connector killed while delivering a message (the outbox row still claimed by the dead process) delivers it
/// again as soon as it restarts, not when the claim's lease runs out (regression: `attempts 0` for 100 s after a
/// kill -9 on SQLite). SQLite only: there one process owns the store, so a claim found at start is stale.
#[tokio::test]
async fn a_delivery_interrupted_by_a_crash_resumes_at_restart() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let b_public = b.running.public_url().to_string();
    let partner = b.running.state.partners().get(CITY_A).unwrap();
    let dataset = b
        .running
        .state
        .client()
        .dataset(&partner, TRAFFIC)
        .await
        .unwrap();
    let offer = dataset["hasPolicy"][0].clone();
    let a = StoppedCity::stop(a).await;

    let n = twinport::contracting::negotiation::start(
        b.running.state.contracting(),
        CITY_A,
        TRAFFIC,
        offer,
        None,
    )
    .await
    .unwrap();
    // The request is queued; take it over as a replica that then dies mid-delivery, with a lease of ten minutes.
    let store = b.running.state.store().clone();
    let message = store.outbox_for(&n.id).await.unwrap()[0].clone();
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let mut claimed = false;
    for _ in 0..200 {
        // The live worker may hold it for a moment while it tries the (down) provider.
        if store
            .outbox_claim(message.id, "replica-killed", now, now + 600_000)
            .await
            .unwrap()
        {
            claimed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(claimed, "the test could not claim the queued request");

    let b = restart(b, Some((CITY_A, a.public_url()))).await;
    let a = a.start(Some((CITY_B, &b_public))).await;
    // Well inside the ten-minute lease.
    wait_for_state(&b, &n.id, "FINALIZED", T).await;
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn an_offer_with_manual_approval_waits_for_the_operator() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let (id, provider) = awaiting_operator_approval(&a, &b).await;
    assert_eq!(provider.state, "REQUESTED");
    let r = a
        .management(
            Method::POST,
            &format!("/api/v1/negotiations/{}/approve", provider.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let r = a
        .management(
            Method::POST,
            &format!("/api/v1/negotiations/{}/approve", provider.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "approving twice is refused");
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn transfers_suspend_resume_and_complete_from_either_side() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let agreement: Value = b
        .management(Method::GET, &format!("/api/v1/negotiations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let agreement_id = agreement["agreement_id"].as_str().unwrap();
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
    let provider_tid = a
        .running
        .state
        .store()
        .transfers()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.consumer_pid.as_deref() == Some(tid.as_str()))
        .unwrap()
        .id;

    // The consumer suspends; the provider follows.
    let r = b
        .management(Method::POST, &format!("/api/v1/transfers/{tid}/suspend"))
        .json(&json!({"reason": "maintenance window"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for_state(&a, &provider_tid, "SUSPENDED", T).await;
    // Completing a suspended transfer is not a valid transition.
    let r = b
        .management(Method::POST, &format!("/api/v1/transfers/{tid}/complete"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // The provider resumes (re-checking the policy) and the consumer gets a fresh start.
    let r = a
        .management(
            Method::POST,
            &format!("/api/v1/transfers/{provider_tid}/resume"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    wait_for_state(&b, &tid, "STARTED", T).await;
    let r = a
        .management(
            Method::POST,
            &format!("/api/v1/transfers/{provider_tid}/complete"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for_state(&b, &tid, "COMPLETED", T).await;
    let history: Value = b
        .management(Method::GET, &format!("/api/v1/transfers/{tid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The states it went through; lines that record a message sent, without a change, repeat the state.
    let mut states: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to_state"].as_str().unwrap())
        .collect();
    states.dedup();
    assert_eq!(
        states,
        vec!["REQUESTED", "STARTED", "SUSPENDED", "STARTED", "COMPLETED"]
    );

    // A transfer under an agreement the requester does not hold is refused.
    let r = a
        .management(Method::POST, "/api/v1/transfers")
        .json(&json!({"agreement_id": agreement_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "city A holds the agreement as provider, not consumer"
    );
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn the_exported_agreement_verifies_offline_and_a_tampered_one_does_not() {
    let (a, b) = city_pair(Storage::Sqlite).await;
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
    let export: Value = b
        .management(
            Method::GET,
            &format!(
                "/api/v1/agreements/{}",
                view["agreement_id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("agreement.json");
    std::fs::write(&good, export.to_string()).unwrap();
    twinport::cli::contracts::verify(&good, None, None)
        .expect("a doubly signed agreement verifies");
    let mut tampered = export.clone();
    tampered["agreement"]["permission"][0]["action"] = json!("distribute");
    let bad = dir.path().join("tampered.json");
    std::fs::write(&bad, tampered.to_string()).unwrap();
    let err = twinport::cli::contracts::verify(&bad, None, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("provider signature does not verify")
            && err.contains("consumer signature does not verify"),
        "{err}"
    );
    a.running.stop().await;
    b.running.stop().await;
}
