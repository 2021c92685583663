//! Two cities hold each other to their audit logs: a partner gets an offline-verifiable receipt for its own
//! catalogue request (and nothing for other entries), and a connector accepts a partner's newer checkpoint only
//! with a consistency proof, recording each check in its own log.

use serde_json::Value;
use twinport::audit::AuditEvent;
use twinport_contracts::transparency::merkle::leaf_hash;
use twinport_contracts::transparency::note::NoteVerifier;
use twinport_contracts::transparency::proof::Receipt;
use twinport_e2e::{city_pair, Storage, CITY_A, CITY_B};

#[tokio::test]
async fn receipts_for_own_requests_and_consistent_partner_checkpoints() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let check = |who: &twinport_e2e::City| {
            who.management(
                reqwest::Method::POST,
                &format!("/api/v1/audit/partners/{}/check", urlencode(CITY_A)),
            )
        };
        let first: Value = check(&b)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(first["outcome"], "first", "{first}");

        let partner = b.running.state.config().partner(CITY_A).unwrap().clone();
        b.running
            .state
            .client()
            .catalog(&partner, vec![])
            .await
            .expect("catalogue");
        let mine: Vec<Value> = a
            .management(
                reqwest::Method::GET,
                &format!(
                    "/api/v1/audit/entries?kind=catalogue_served&partner={}",
                    urlencode(CITY_B)
                ),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(mine.len(), 1, "{mine:?}");
        let index = mine[0]["index"].as_u64().unwrap();
        let leaf = mine[0]["leaf"].as_str().unwrap().to_owned();

        let advanced: Value = check(&b)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(advanced["outcome"], "advanced", "{advanced}");
        let b_log: Vec<Value> = b
            .management(
                reqwest::Method::GET,
                "/api/v1/audit/entries?kind=partner_checkpoint",
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(b_log.len(), 2);

        let http = reqwest::Client::new();
        let token = |s: &twinport_e2e::City| s.running.state.identity().token_for(CITY_A).unwrap();
        let cp = http
            .get(format!("{}/audit/checkpoint", a.dsp_base()))
            .bearer_auth(token(&b))
            .send()
            .await
            .unwrap();
        let vkey = cp.headers()["twinport-audit-vkey"]
            .to_str()
            .unwrap()
            .to_owned();
        let key = NoteVerifier::parse(&vkey).unwrap();
        let text = http
            .get(format!("{}/audit/receipts/{index}", a.dsp_base()))
            .bearer_auth(token(&b))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap();
        let receipt = Receipt::parse(&text).unwrap();
        receipt
            .verify(
                &leaf_hash(leaf.as_bytes()),
                key.name(),
                std::slice::from_ref(&key),
            )
            .expect("receipt verifies offline");

        // An entry that is not b's own request is not b's business.
        let other = a
            .running
            .state
            .audit()
            .append(AuditEvent::new(
                twinport::audit::EventKind::ManagementAction,
                serde_json::json!({}),
            ))
            .await
            .unwrap();
        let refused = http
            .get(format!("{}/audit/receipts/{other}", a.dsp_base()))
            .bearer_auth(token(&b))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 404);
        a.running.stop().await;
        b.running.stop().await;
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
