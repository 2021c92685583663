//! Both sides of a negotiation and transfer record it in their audit logs before acknowledging: messages received
//! and sent, the policy decision, the agreement with its signatures, transfer states and the operator's actions;
//! and each log still verifies against its signed checkpoint afterwards.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::{
    city_pair, provider_negotiation, start_negotiation, wait_for_state, City, Storage, CITY_A,
};

const T: Duration = Duration::from_secs(10);

async fn kinds(city: &City, query: &str) -> BTreeSet<String> {
    let entries: Value = city
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
    entries
        .as_array()
        .unwrap_or_else(|| panic!("{entries}"))
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn both_sides_record_the_exchange_and_their_logs_verify() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let id = start_negotiation(
            &b,
            CITY_A,
            "urn:ldt:sample-city:traffic-counts",
            "urn:ldt:sample-city:traffic-counts:offer:partner-use",
            None,
        )
        .await;
        wait_for_state(&b, &id, "FINALIZED", T).await;
        let provider = provider_negotiation(&a, &id).await.unwrap();
        wait_for_state(&a, &provider.id, "FINALIZED", T).await;
        let agreement = provider.agreement_id.clone().unwrap();
        let t: Value = b
            .management(Method::POST, "/api/v1/transfers")
            .json(&json!({"agreement_id": agreement}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        wait_for_state(&b, t["id"].as_str().unwrap(), "STARTED", T).await;
        // The consumer's last message (the ACK of the start) has reached the provider; give its outbox a moment to
        // record the delivery of FINALIZED and TransferStartMessage.
        tokio::time::sleep(Duration::from_millis(300)).await;

        let provider_kinds = kinds(&a, "partner=https%3A%2F%2Fcity-b.example%2Ftwinport").await;
        for kind in [
            "dsp_message_received",
            "dsp_message_sent",
            "policy_decision",
            "agreement",
            "transfer_state",
            "catalogue_served",
        ] {
            assert!(
                provider_kinds.contains(kind),
                "provider log lacks {kind}: {provider_kinds:?}"
            );
        }
        let consumer_kinds = kinds(&b, "partner=https%3A%2F%2Fcity-a.example%2Ftwinport").await;
        for kind in [
            "dsp_message_received",
            "dsp_message_sent",
            "agreement",
            "transfer_state",
        ] {
            assert!(
                consumer_kinds.contains(kind),
                "consumer log lacks {kind}: {consumer_kinds:?}"
            );
        }
        assert!(kinds(&b, "kind=management_action")
            .await
            .contains("management_action"));
        // Everything about the agreement is found by its id, on both sides.
        for city in [&a, &b] {
            let by_agreement = kinds(
                city,
                &format!("agreement={}", agreement.replace(':', "%3A")),
            )
            .await;
            assert!(by_agreement.contains("agreement"), "{by_agreement:?}");
            let checkpoint: Value = city
                .management(Method::GET, "/api/v1/audit/checkpoint")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(checkpoint["size"].as_u64().unwrap() > 5, "{checkpoint}");
            let audit = city.running.state.audit();
            audit.checkpoint().await.unwrap();
            twinport::audit::verify::verify_store(
                city.running.state.store(),
                audit.origin(),
                &audit.verifier(),
            )
            .await
            .expect("the log verifies after the exchange");
        }
        a.running.stop().await;
        b.running.stop().await;
    }
}
