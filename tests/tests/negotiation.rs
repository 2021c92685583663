//! Two real connectors negotiate over DSP 2025-1: the happy path to FINALIZED on both sides with an agreement
//! signed by both, refusals that say which rule failed, counter-offers, termination, invalid transitions, a
//! transfer that starts with a data address and token, and every message checked against the official schemas.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport_contracts::identity::Jwks;
use twinport_contracts::negotiation::verify_agreement_signature;
use twinport_e2e::schemas::assert_valid;
use twinport_e2e::{
    city_pair, provider_negotiation, start_negotiation, wait_for_state, Storage, CITY_A, CITY_B,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const FLOOD: &str = "urn:ldt:sample-city:flood-model";
const FLOOD_OFFER: &str = "urn:ldt:sample-city:flood-model:offer:research-only";
const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn happy_path_to_a_doubly_signed_agreement_and_a_started_transfer() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
        wait_for_state(&b, &id, "FINALIZED", T).await;
        let provider = provider_negotiation(&a, &id)
            .await
            .expect("provider side exists");
        wait_for_state(&a, &provider.id, "FINALIZED", T).await;

        // Both sides hold the same agreement with both signatures, each verifiable with the other's keys.
        let view: Value = b
            .management(Method::GET, &format!("/api/v1/negotiations/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let agreement_id = view["agreement_id"].as_str().unwrap().to_string();
        for city in [&a, &b] {
            let export: Value = city
                .management(Method::GET, &format!("/api/v1/agreements/{agreement_id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let agreement = &export["agreement"];
            assert_eq!(agreement["target"], TRAFFIC);
            assert_eq!(agreement["assigner"], CITY_A);
            assert_eq!(agreement["assignee"], CITY_B);
            let provider_keys: Jwks =
                serde_json::from_value(export["provider_jwks"].clone()).unwrap();
            let consumer_keys: Jwks =
                serde_json::from_value(export["consumer_jwks"].clone()).unwrap();
            verify_agreement_signature(
                export["provider_signature"].as_str().unwrap(),
                agreement,
                &provider_keys,
            )
            .unwrap();
            verify_agreement_signature(
                export["consumer_signature"].as_str().unwrap(),
                agreement,
                &consumer_keys,
            )
            .unwrap();
            assert_eq!(provider_keys, a.key.jwks());
            assert_eq!(consumer_keys, b.key.jwks());
        }
        let history = view["history"].as_array().unwrap();
        // The states it went through; lines that record a message sent, without a change, repeat the state.
        let mut states: Vec<&str> = history
            .iter()
            .map(|h| h["to_state"].as_str().unwrap())
            .collect();
        states.dedup();
        assert_eq!(
            states,
            vec!["REQUESTED", "AGREED", "VERIFIED", "FINALIZED"],
            "{history:#?}"
        );
        // VERIFIED is reached when the provider acknowledges the verification, not when it is sent.
        let verified = history
            .iter()
            .find(|h| h["to_state"] == "VERIFIED")
            .unwrap();
        assert_eq!(
            verified["event"],
            format!("{CITY_A} acknowledged ContractAgreementVerificationMessage"),
            "{history:#?}"
        );

        // A pull transfer under the agreement starts with a data address carrying a token.
        let r = b
            .management(Method::POST, "/api/v1/transfers")
            .json(&json!({"agreement_id": agreement_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let transfer: Value = r.json().await.unwrap();
        let tid = transfer["id"].as_str().unwrap().to_string();
        wait_for_state(&b, &tid, "STARTED", T).await;
        let started: Value = b
            .management(Method::GET, &format!("/api/v1/transfers/{tid}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let address = &started["data_address"];
        assert_valid("transfer/data-address-schema.json", address);
        assert_eq!(address["endpointType"], "https://w3id.org/idsa/v4.1/HTTP");
        assert!(address["endpoint"]
            .as_str()
            .unwrap()
            .starts_with(a.running.public_url()));
        // The token is not shown to operators; the consumer's data plane keeps it apart.
        assert!(!address.to_string().contains("authorization"), "{address}");
        let token = twinport_e2e::pull_token(&b, &tid).await;
        let hash = twinport::contracting::transfer::token_hash(&token);
        let provider_transfer = a
            .running
            .state
            .store()
            .transfer_by_token_hash(&hash)
            .await
            .unwrap()
            .expect("token stored as a hash");
        // The provider is STARTED once the consumer's acknowledgement of the start reached it.
        wait_for_state(&a, &provider_transfer.id, "STARTED", T).await;

        // Terminating revokes the token on the provider.
        let r = b
            .management(Method::POST, &format!("/api/v1/transfers/{tid}/terminate"))
            .json(&json!({"reason": "done for today"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        wait_for_state(&a, &provider_transfer.id, "TERMINATED", T).await;
        assert!(
            a.running
                .state
                .store()
                .transfer_by_token_hash(&hash)
                .await
                .unwrap()
                .is_none(),
            "token revoked"
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_refusal_names_the_rule_and_constraint_that_failed() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    // The flood model is for research only; city B declares no purpose.
    let id = start_negotiation(&b, CITY_A, FLOOD, FLOOD_OFFER, None).await;
    wait_for_state(&b, &id, "TERMINATED", T).await;
    let view: Value = b
        .management(Method::GET, &format!("/api/v1/negotiations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = view["history"].as_array().unwrap().last().unwrap().clone();
    let detail = last["detail"].as_str().unwrap();
    assert!(detail.starts_with("code policy-denied"), "{detail}");
    assert!(
        detail.contains("permission") && detail.contains("purpose"),
        "the partner is told which rule and constraint: {detail}"
    );
    // The provider's operator sees the whole compliance report.
    let provider = provider_negotiation(&a, &id).await.unwrap();
    let history = a.running.state.store().history(&provider.id).await.unwrap();
    let refusal = history
        .iter()
        .find(|h| h.event.starts_with("refused by policy"))
        .unwrap_or_else(|| panic!("{history:#?}"));
    let report: Value = serde_json::from_str(refusal.detail.as_deref().unwrap()).unwrap();
    assert_eq!(report["decision"], "deny");
    assert_eq!(report["scope"], "negotiation");

    // Declaring a research purpose (narrower than the offer's Research and Development) gets the agreement.
    let id = start_negotiation(
        &b,
        CITY_A,
        FLOOD,
        FLOOD_OFFER,
        Some("https://w3id.org/dpv#ScientificResearch"),
    )
    .await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn different_terms_get_a_counter_offer_that_can_be_accepted() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let body = json!({"partner": CITY_A, "dataset": TRAFFIC, "offer_id": TRAFFIC_OFFER,
                      "terms": {"permission": [{"action": "use"}, {"action": "distribute"}]}});
    let r = b
        .management(Method::POST, "/api/v1/negotiations")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_state(&b, &id, "OFFERED", T).await;
    let view: Value = b
        .management(Method::GET, &format!("/api/v1/negotiations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        view["offer"]["permission"],
        json!([{"action": "use"}]),
        "the provider counters with its own terms"
    );
    assert!(view["waiting_for"].as_str().unwrap().contains("accept"));
    let r = b
        .management(Method::POST, &format!("/api/v1/negotiations/{id}/accept"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for_state(&b, &id, "FINALIZED", T).await;
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn provider_initiated_offer_and_consumer_termination() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let r = a
        .management(Method::POST, "/api/v1/negotiations/offers")
        .json(&json!({"partner": CITY_B, "dataset": TRAFFIC, "offer_id": TRAFFIC_OFFER}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let provider_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // City B receives the offer as a new negotiation.
    let mut consumer_id = None;
    for _ in 0..100 {
        let list: Value = b
            .management(Method::GET, "/api/v1/negotiations")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(n) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["provider_pid"] == provider_id.as_str())
        {
            consumer_id = Some(n["id"].as_str().unwrap().to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Some(consumer_id) = consumer_id else {
        let view: Value = a
            .management(Method::GET, &format!("/api/v1/negotiations/{provider_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        panic!("consumer never received the offer: {view:#}");
    };
    wait_for_state(&b, &consumer_id, "OFFERED", T).await;
    let r = b
        .management(
            Method::POST,
            &format!("/api/v1/negotiations/{consumer_id}/terminate"),
        )
        .json(&json!({"reason": "not needed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_for_state(&a, &provider_id, "TERMINATED", T).await;
    let history = a.running.state.store().history(&provider_id).await.unwrap();
    assert!(history
        .last()
        .unwrap()
        .detail
        .as_deref()
        .unwrap()
        .contains("not needed"));
    // A terminated negotiation is kept: a late message gets 400 with the state unchanged, not 404.
    let r = b
        .management(
            Method::POST,
            &format!("/api/v1/negotiations/{consumer_id}/accept"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn invalid_transitions_are_refused_and_change_nothing() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let provider = provider_negotiation(&a, &id).await.unwrap();
    let pid = provider.provider_pid.clone().unwrap();
    let client = reqwest::Client::new();
    let token = || b.running.state.identity().token_for(CITY_A).unwrap();
    let ctx = json!(["https://w3id.org/dspace/2025/1/context.jsonld"]);
    // ACCEPTED after FINALIZED is an invalid transition: 400 with a ContractNegotiationError.
    let r = client
        .post(format!("{}/negotiations/{pid}/events", a.dsp_base()))
        .bearer_auth(token())
        .json(&json!({"@context": ctx, "@type": "ContractNegotiationEventMessage", "providerPid": pid, "consumerPid": id, "eventType": "ACCEPTED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert_valid("negotiation/contract-negotiation-error-schema.json", &err);
    assert_eq!(err["code"], "invalid-transition");
    let r = client
        .get(format!("{}/negotiations/{pid}", a.dsp_base()))
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    let ack: Value = r.json().await.unwrap();
    assert_valid("negotiation/contract-negotiation-schema.json", &ack);
    assert_eq!(ack["state"], "FINALIZED");
    // Unknown process: 404. Unauthenticated caller: 404 too.
    let r = client
        .get(format!("{}/negotiations/urn:uuid:nope", a.dsp_base()))
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client
        .get(format!("{}/negotiations/{pid}", a.dsp_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The consumer-side GET works as well.
    let r = client
        .get(format!("{}/negotiations/{id}", b.dsp_base()))
        .bearer_auth(a.running.state.identity().token_for(CITY_B).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_valid(
        "negotiation/contract-negotiation-schema.json",
        &r.json().await.unwrap(),
    );
    a.running.stop().await;
    b.running.stop().await;
}

/// Termination by either party in the states a negotiation rests in (REQUESTED while awaiting approval, OFFERED
/// while awaiting the consumer); every other state pair is covered by the state-machine table in `contracts`.
#[tokio::test]
async fn either_side_can_terminate_a_waiting_negotiation() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let resource = json!({
        "id": "urn:ldt:sample-city:approval", "kind": "dataset", "stage": "raw", "description": "A resource of the tests.", "title": "Needs approval",
        "distributions": [{"format": "application/json", "backend": "http://platform/x"}],
        "offers": [{"policy": "partner-use", "approval": "manual"}]
    });
    assert_eq!(
        a.management(Method::POST, "/api/v1/resources")
            .json(&resource)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    for terminator in ["consumer", "provider"] {
        // REQUESTED, waiting for the provider's operator.
        let id = start_negotiation(
            &b,
            CITY_A,
            "urn:ldt:sample-city:approval",
            "urn:ldt:sample-city:approval:offer:partner-use",
            None,
        )
        .await;
        let mut provider = None;
        for _ in 0..200 {
            provider = provider_negotiation(&a, &id).await;
            if provider.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let provider = provider.unwrap();
        let (city, pid, other, other_id) = if terminator == "consumer" {
            (&b, id.clone(), &a, provider.id.clone())
        } else {
            (&a, provider.id.clone(), &b, id.clone())
        };
        let r = city
            .management(
                Method::POST,
                &format!("/api/v1/negotiations/{pid}/terminate"),
            )
            .json(&json!({"reason": format!("{terminator} changed its mind")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{terminator} terminates in REQUESTED");
        wait_for_state(other, &other_id, "TERMINATED", T).await;

        // OFFERED, waiting for the consumer to accept a counter-offer.
        let body = json!({"partner": CITY_A, "dataset": TRAFFIC, "offer_id": TRAFFIC_OFFER, "terms": {"permission": [{"action": "read"}]}});
        let r = b
            .management(Method::POST, "/api/v1/negotiations")
            .json(&body)
            .send()
            .await
            .unwrap();
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        wait_for_state(&b, &id, "OFFERED", T).await;
        let provider = provider_negotiation(&a, &id).await.unwrap();
        let (city, pid, other, other_id) = if terminator == "consumer" {
            (&b, id.clone(), &a, provider.id.clone())
        } else {
            (&a, provider.id.clone(), &b, id.clone())
        };
        let r = city
            .management(
                Method::POST,
                &format!("/api/v1/negotiations/{pid}/terminate"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{terminator} terminates in OFFERED");
        wait_for_state(other, &other_id, "TERMINATED", T).await;
    }
    a.running.stop().await;
    b.running.stop().await;
}

/// A consumer that receives a counter-offer identical to what it requested (another offer id, the provider as
/// assigner, the rules in another order) accepts at once: its operator chose those terms when requesting them.
/// An offer with different terms still waits for the operator.
#[tokio::test]
async fn an_offer_identical_to_the_request_is_accepted_at_once_and_others_wait() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    // A holds requests for approval, so the only offers B sees are the ones this test sends as A.
    let resource = json!({
        "id": "urn:ldt:sample-city:energy", "kind": "dataset", "stage": "model-input", "description": "A resource of the tests.", "title": "Energy use per building",
        "distributions": [{"format": "application/json", "backend": "http://platform/energy"}],
        "offers": [{"policy": "partner-use", "approval": "manual"}]
    });
    let r = a
        .management(Method::POST, "/api/v1/resources")
        .json(&resource)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let offer_as_a = |id: &str, permission: Value| {
        let id = id.to_string();
        let a = &a;
        let b = &b;
        async move {
            let n = b
                .running
                .state
                .store()
                .negotiation(&id)
                .await
                .unwrap()
                .unwrap();
            let provider = provider_negotiation(a, &id)
                .await
                .expect("A holds the request");
            let mut offer = n.offer.clone();
            offer["@id"] = json!("urn:ldt:sample-city:energy:offer:counter");
            offer["assigner"] = json!(CITY_A);
            offer["permission"] = permission;
            let msg = json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "ContractOfferMessage",
                "providerPid": provider.provider_pid.unwrap(),
                "consumerPid": id,
                "offer": offer
            });
            assert_valid("negotiation/contract-offer-message-schema.json", &msg);
            let token = a.running.state.identity().token_for(CITY_B).unwrap();
            let res = reqwest::Client::new()
                .post(format!("{}/negotiations/{id}/offers", b.dsp_base()))
                .bearer_auth(token)
                .json(&msg)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
            b.running
                .state
                .store()
                .negotiation(&id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let start = || {
        start_negotiation(
            &b,
            CITY_A,
            "urn:ldt:sample-city:energy",
            "urn:ldt:sample-city:energy:offer:partner-use",
            None,
        )
    };
    let wait_for_provider_pid = |id: String| {
        let b = &b;
        async move {
            for _ in 0..200 {
                let n = b
                    .running
                    .state
                    .store()
                    .negotiation(&id)
                    .await
                    .unwrap()
                    .unwrap();
                if n.provider_pid.is_some() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("A never acknowledged {id}");
        }
    };

    let same = start().await;
    wait_for_provider_pid(same.clone()).await;
    let requested = b
        .running
        .state
        .store()
        .negotiation(&same)
        .await
        .unwrap()
        .unwrap()
        .offer;
    let mut reordered: Vec<Value> = requested["permission"].as_array().unwrap().clone();
    reordered.reverse();
    let n = offer_as_a(&same, Value::Array(reordered)).await;
    // ACCEPTED is sent at once; the negotiation stays OFFERED until the provider acknowledges it. (A's own
    // negotiation never sent this offer, so in this test A refuses the event and B stays OFFERED.)
    assert_eq!(n.state, "OFFERED");
    let history = b.running.state.store().history(&same).await.unwrap();
    let accepted = history
        .iter()
        .find(|h| h.event.starts_with("accepted automatically"))
        .unwrap_or_else(|| panic!("{history:#?}"));
    assert_eq!(
        (accepted.from_state.as_deref(), accepted.to_state.as_str()),
        (Some("OFFERED"), "OFFERED")
    );
    assert!(
        accepted.event.contains("ACCEPTED once acknowledged"),
        "{history:#?}"
    );
    assert!(
        accepted
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("identical"),
        "{history:#?}"
    );
    let sent: Vec<(String, Option<String>)> = b
        .running
        .state
        .store()
        .outbox_for(&same)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.kind, m.transition_to))
        .collect();
    assert!(
        sent.contains(&(
            "ContractNegotiationEventMessage".to_string(),
            Some("ACCEPTED".to_string())
        )),
        "{sent:?}"
    );

    let different = start().await;
    wait_for_provider_pid(different.clone()).await;
    let n = offer_as_a(&different, json!([{"action": "use", "constraint": [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": "https://w3id.org/dpv#ResearchAndDevelopment"}]}]))
    .await;
    assert_eq!(n.state, "OFFERED");
    assert!(
        n.waiting_for
            .as_deref()
            .unwrap_or_default()
            .contains("/accept"),
        "{:?}",
        n.waiting_for
    );
    a.running.stop().await;
    b.running.stop().await;
}
