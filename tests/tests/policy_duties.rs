//! A duty is enforced: the provider's legal team records an agreement's attribution duty as violated, and the
//! very next data-plane access and any new transfer under that agreement are refused with a reason naming the
//! duty; recording it fulfilled lifts that. Records are kept, audited, refused for a duty the agreement does not
//! have, and refused on the consumer's side, which does not enforce.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::platform::Platform;
use twinport_e2e::{audit_leaves, city_pair, pull_transfer, wait_for_state, Storage};

const DUTY: &str = "https://city.example/policies/attribution#attribute";

async fn put(city: &twinport_e2e::City, path: &str, body: Value) -> (u16, Value) {
    let r = city
        .management(Method::PUT, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_duty_recorded_as_violated_stops_the_agreement_until_it_is_fulfilled() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let platform = Platform::start().await;
        let policy = json!({"permission": [{"action": "use", "duty": [{
            "@id": DUTY, "action": "attribute", "attributedParty": "did:web:utrecht.nl",
            "twinport:attributionText": "Street trees: © Gemeente Utrecht, CC BY 4.0"}]}]});
        let p = pull_transfer(
            &a,
            &b,
            "urn:ldt:t:street-trees",
            policy,
            json!({"format": "application/json", "backend": format!("{}/api/data", platform.url)}),
            None,
        )
        .await;
        let get = || {
            reqwest::Client::new()
                .get(&p.endpoint)
                .bearer_auth(&p.token)
                .send()
        };
        assert_eq!(get().await.unwrap().status(), 200);

        let duties_path = format!("/api/v1/agreements/{}/duties", p.agreement_id);
        let listed: Value = a
            .management(Method::GET, &duties_path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["duties"][0]["duty"], DUTY);
        assert_eq!(listed["duties"][0]["state"], "not-set");
        assert_eq!(
            listed["duties"][0]["attributionText"]
                .as_str()
                .or(listed["duties"][0]["attribution_text"].as_str()),
            Some("Street trees: © Gemeente Utrecht, CC BY 4.0")
        );

        let encoded = DUTY
            .replace(':', "%3A")
            .replace('/', "%2F")
            .replace('#', "%23");
        let (status, view) = put(
            &a,
            &format!("{duties_path}/{encoded}"),
            json!({"state": "violated", "note": "the partner's dashboard shows no attribution"}),
        )
        .await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["duties"][0]["state"], "violated");
        assert_eq!(
            view["history"][0]["note"],
            "the partner's dashboard shows no attribution"
        );

        // The very next access is refused, naming the duty.
        let r = get().await.unwrap();
        assert_eq!(r.status(), 403);
        let problem: Value = r.json().await.unwrap();
        assert!(
            problem["reasons"].to_string().contains(
                "the duty to attribute did:web:utrecht.nl as \u{201c}Street trees: © Gemeente Utrecht, CC BY 4.0\u{201d} is violated"
            ),
            "{problem}"
        );
        // So is a new transfer under the agreement.
        let r = b
            .management(Method::POST, "/api/v1/transfers")
            .json(&json!({"agreement_id": p.agreement_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let second = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        wait_for_state(&b, &second, "TERMINATED", Duration::from_secs(10)).await;

        // Recorded by its action name, fulfilled: served again.
        let (status, view) = put(
            &a,
            &format!("{duties_path}/attribute"),
            json!({"state": "fulfilled", "note": "attribution added on 2026-12-07"}),
        )
        .await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["history"].as_array().unwrap().len(), 2);
        // The record under the duty's @id comes first in the engine's lookup, so it still decides.
        assert_eq!(view["duties"][0]["state"], "violated");
        let (status, _) = put(
            &a,
            &format!("{duties_path}/{encoded}"),
            json!({"state": "fulfilled"}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(get().await.unwrap().status(), 200);

        // Every record is in the audit log.
        let recorded = audit_leaves(&a, "management_action")
            .await
            .into_iter()
            .filter(|l| l["details"]["action"] == "duty.record")
            .count();
        assert_eq!(recorded, 3);

        // A duty the agreement does not have, a bad state, and the consumer's side are refused.
        let (status, problem) = put(
            &a,
            &format!("{duties_path}/delete"),
            json!({"state": "violated"}),
        )
        .await;
        assert_eq!(status, 422, "{problem}");
        assert!(problem["errors"][0]["problem"]
            .as_str()
            .unwrap()
            .contains(DUTY));
        let (status, _) = put(
            &a,
            &format!("{duties_path}/attribute"),
            json!({"state": "broken"}),
        )
        .await;
        assert_eq!(status, 422);
        let (status, problem) = put(
            &b,
            &format!("{duties_path}/attribute"),
            json!({"state": "violated"}),
        )
        .await;
        assert_eq!(status, 409, "{problem}");
        a.running.stop().await;
        b.running.stop().await;
    }
}
