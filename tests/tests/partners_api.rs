//! Partners managed at run time through `/api/v1/partners`: a partner added through the API can negotiate at
//! once, one changed or removed is refused at once, the config file's partners cannot be changed here, bad
//! bodies are refused naming the field, every change is audited (changes and removals with the partner as it was
//! before), and API partners survive a restart. A sync with the store that read it just before a removal or a key
//! change waits for it and cannot undo it, and a removed partner's pull token stops serving data at once.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport_contracts::identity::{KeyAlgorithm, SigningKey};
use twinport_e2e::{
    audit_leaves, catalog_request, city_pair, city_pair_with, start_negotiation, wait_for_state,
    City, StoppedCity, Storage, CITY_A, CITY_B,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const T: Duration = Duration::from_secs(10);

fn path(id: &str) -> String {
    let segment: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("/api/v1/partners/{segment}")
}

/// B reads A's catalogue with a fresh token of its own: the status A answers.
async fn catalogue_status(a: &City, b: &City) -> u16 {
    let token = b.running.state.identity().token_for(CITY_A).unwrap();
    reqwest::Client::new()
        .post(format!("{}/catalog/request", a.dsp_base()))
        .bearer_auth(token)
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn send(city: &City, method: Method, at: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = city.management(method, at);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn actions(city: &City) -> Vec<Value> {
    audit_leaves(city, "management_action")
        .await
        .into_iter()
        .map(|l| l["details"].clone())
        .collect()
}

#[tokio::test]
async fn a_partner_added_through_the_api_negotiates_and_a_removed_one_is_refused() {
    for storage in Storage::all() {
        // City A starts without B among its partners: B is added at run time.
        let (a, b) = city_pair_with(storage, |c| {
            if c.participant_id == CITY_A {
                c.partners.clear();
            }
        })
        .await;
        assert_eq!(
            catalogue_status(&a, &b).await,
            401,
            "{storage:?}: B is a stranger"
        );

        let body = json!({"id": CITY_B, "name": "City B", "url": b.running.public_url(),
                          "jwks": b.key.jwks(), "claims": {"member": true}});
        let res = a
            .management(Method::POST, "/api/v1/partners")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{storage:?}");
        let location = res.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with("/api/v1/partners/https%3A%2F%2F"),
            "{location}"
        );
        let created: Value = res.json().await.unwrap();
        assert_eq!(created["source"], "api");
        assert_eq!(created["keys"], "inline");
        let (status, read) = send(&a, Method::GET, &location, None).await;
        assert_eq!((status, &read["claims"]), (200, &json!({"member": true})));

        // The new partner's tokens verify at once, and it negotiates to an agreement.
        assert_eq!(catalogue_status(&a, &b).await, 200, "{storage:?}");
        let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
        wait_for_state(&b, &id, "FINALIZED", T).await;

        // A second create of the same id is a conflict.
        let (status, _) = send(&a, Method::POST, "/api/v1/partners", Some(body.clone())).await;
        assert_eq!(status, 409);

        // Changed to a key B does not hold: B's tokens stop verifying at once.
        let stranger = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let changed = json!({"url": b.running.public_url(), "jwks": stranger.jwks()});
        let (status, view) = send(&a, Method::PUT, &location, Some(changed)).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["claims"], json!({}));
        assert_eq!(
            catalogue_status(&a, &b).await,
            401,
            "{storage:?}: the old key no longer verifies"
        );
        let back = json!({"url": b.running.public_url(), "jwks": b.key.jwks()});
        assert_eq!(send(&a, Method::PUT, &location, Some(back)).await.0, 200);
        assert_eq!(catalogue_status(&a, &b).await, 200);

        // Removed: its next request is refused, its agreement stays.
        assert_eq!(send(&a, Method::DELETE, &location, None).await.0, 204);
        assert_eq!(
            catalogue_status(&a, &b).await,
            401,
            "{storage:?}: removed partner refused"
        );
        assert_eq!(send(&a, Method::GET, &location, None).await.0, 404);
        assert_eq!(send(&a, Method::DELETE, &location, None).await.0, 404);
        assert!(!a
            .running
            .state
            .store()
            .agreements()
            .await
            .unwrap()
            .is_empty());

        let recorded: Vec<Value> = actions(&a).await;
        let names: Vec<&str> = recorded
            .iter()
            .filter_map(|d| d["action"].as_str())
            .filter(|a| a.starts_with("partner."))
            .collect();
        assert_eq!(
            names,
            [
                "partner.create",
                "partner.update",
                "partner.update",
                "partner.delete"
            ],
            "{storage:?}"
        );
        let create = recorded
            .iter()
            .find(|d| d["action"] == "partner.create")
            .unwrap();
        assert_eq!(create["change"]["partner"], CITY_B);
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn file_partners_are_read_only_and_bad_bodies_name_the_field() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let list = send(&b, Method::GET, "/api/v1/partners", None).await.1;
    assert_eq!(list[0]["id"], CITY_A);
    assert_eq!(list[0]["source"], "file");
    let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
    for (method, body) in [
        (Method::PUT, Some(json!({"jwks": key.jwks()}))),
        (Method::DELETE, None),
    ] {
        let (status, problem) = send(&b, method, &path(CITY_A), body).await;
        assert_eq!(status, 409, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("SIGHUP"),
            "{problem}"
        );
    }
    let (status, problem) = send(
        &b,
        Method::POST,
        "/api/v1/partners",
        Some(json!({"id": CITY_A, "jwks": key.jwks()})),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        problem["detail"],
        format!("conflict: partner {CITY_A} is declared in the config file; edit its [[partners]] entry and send SIGHUP")
    );

    let c = "https://city-c.example/twinport";
    for (body, field) in [
        (json!({"id": "not a uri", "jwks": key.jwks()}), "id"),
        (
            json!({"id": c, "jwks": key.jwks(), "colour": "blue"}),
            "colour",
        ),
        (
            json!({"id": c, "jwks_url": "ftp://city-c.example/jwks"}),
            "jwks_url",
        ),
        (
            json!({"id": c, "url": "city-c.example", "jwks": key.jwks()}),
            "url",
        ),
        (
            json!({"id": c, "jwks": {"keys": [{"kty": "nope"}]}}),
            "jwks",
        ),
        (json!({"id": c, "jwks": {"keys": []}}), "jwks"),
        (json!({"id": c}), "jwks"),
        (
            json!({"id": c, "jwks": key.jwks(), "jwks_url": "https://c.example/j"}),
            "jwks",
        ),
        (
            json!({"id": c, "jwks": key.jwks(), "tls_fingerprint": "ab"}),
            "tls_fingerprint",
        ),
        (
            json!({"id": c, "jwks": key.jwks(), "claims": "member"}),
            "claims",
        ),
        (json!({"id": CITY_B, "jwks": key.jwks()}), "id"),
    ] {
        let (status, problem) =
            send(&b, Method::POST, "/api/v1/partners", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let (status, problem) = send(
        &b,
        Method::PUT,
        &path(c),
        Some(json!({"id": CITY_A, "jwks": key.jwks()})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        send(&b, Method::PUT, &path(c), Some(json!({"jwks": key.jwks()})))
            .await
            .0,
        404
    );
    // Nothing refused was stored or trusted.
    assert_eq!(
        send(&b, Method::GET, "/api/v1/partners", None)
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn api_partners_are_loaded_again_after_a_restart() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let c = "https://city-c.example/twinport";
        let key = SigningKey::generate(KeyAlgorithm::Es256).unwrap();
        let body = json!({"id": c, "url": "https://city-c.example", "jwks": key.jwks()});
        assert_eq!(
            send(&a, Method::POST, "/api/v1/partners", Some(body))
                .await
                .0,
            201
        );
        b.running.stop().await;
        let a = StoppedCity::stop(a).await.start(None).await;
        let (status, view) = send(&a, Method::GET, &path(c), None).await;
        assert_eq!(status, 200, "{storage:?}: {view}");
        assert_eq!(view["source"], "api");
        assert_eq!(view["url"], "https://city-c.example");
        // The restarted connector verifies the stored partner's tokens.
        let t = twinport_e2e::now();
        let token = twinport_e2e::craft_token(
            &key,
            json!({"iss": c, "sub": c, "aud": CITY_A, "iat": t, "nbf": t, "exp": t + 60,
                   "jti": uuid::Uuid::new_v4().to_string()}),
        );
        let status = reqwest::Client::new()
            .post(format!("{}/catalog/request", a.dsp_base()))
            .bearer_auth(token)
            .json(&catalog_request(vec![]))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{storage:?}");
        a.running.stop().await;
    }
}

/// A token of `issuer` signed with `key` for `a`'s catalogue: the status `a` answers.
async fn catalogue_status_for(
    a: &twinport::app::RunningConnector,
    issuer: &str,
    key: &SigningKey,
) -> u16 {
    let t = twinport_e2e::now();
    let token = twinport_e2e::craft_token(
        key,
        json!({"iss": issuer, "sub": issuer, "aud": CITY_A, "iat": t, "nbf": t, "exp": t + 60,
               "jti": uuid::Uuid::new_v4().to_string()}),
    );
    reqwest::Client::new()
        .post(format!("{}/catalog/request", a.state.dsp_base()))
        .bearer_auth(token)
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn eventually_status(
    a: &twinport::app::RunningConnector,
    issuer: &str,
    key: &SigningKey,
    want: u16,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let got = catalogue_status_for(a, issuer, key).await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other replica still answers {got}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_replica_on_the_same_postgresql_follows_partner_changes_made_through_another() {
    if std::env::var("TWINPORT_TEST_DATABASE_URL").is_err() {
        println!("skipped: TWINPORT_TEST_DATABASE_URL is not set");
        return;
    }
    let (a, b) = city_pair(Storage::Postgres).await;
    let mut config = twinport::config::Config::load(&a.config_path()).unwrap();
    config.storage_url = a.running.state.config().storage_url.clone();
    let replica = twinport::app::start(config)
        .await
        .expect("second replica starts");
    let c = "https://city-c.example/twinport";
    let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
    assert_eq!(catalogue_status_for(&replica, c, &key).await, 401);
    let body = json!({"id": c, "jwks": key.jwks()});
    assert_eq!(
        send(&a, Method::POST, "/api/v1/partners", Some(body))
            .await
            .0,
        201
    );
    eventually_status(&replica, c, &key, 200).await;
    assert_eq!(send(&a, Method::DELETE, &path(c), None).await.0, 204);
    assert_eq!(
        catalogue_status_for(&a.running, c, &key).await,
        401,
        "refused at once where removed"
    );
    eventually_status(&replica, c, &key, 401).await;
    replica.stop().await;
    a.running.stop().await;
    b.running.stop().await;
}

/// `a`'s stored API partners, read as the background sync reads them.
async fn stored(a: &City) -> Vec<twinport::storage::StoredPartner> {
    a.running.state.store().api_partners().await.unwrap()
}

#[tokio::test]
async fn a_sync_that_read_the_store_before_a_removal_or_key_change_does_not_undo_it() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let contracting = a.running.state.contracting();
        let c = "https://city-c.example/twinport";
        let old = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let new = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let body = json!({"id": c, "jwks": old.jwks()});
        assert_eq!(
            send(&a, Method::POST, "/api/v1/partners", Some(body))
                .await
                .0,
            201
        );
        assert_eq!(catalogue_status_for(&a.running, c, &old).await, 200);

        // Rotated out (a compromised key), then removed; each time a sync has read the store just before.
        for (method, change) in [
            (Method::PUT, Some(json!({"jwks": new.jwks()}))),
            (Method::DELETE, None),
        ] {
            let changing = contracting.partners().changing().await;
            let snapshot = stored(&a).await;
            assert!(
                tokio::time::timeout(
                    Duration::from_millis(200),
                    twinport::app::sync_api_partners(contracting, false)
                )
                .await
                .is_err(),
                "{storage:?}: another sync waits for the one in progress"
            );
            let mut request = a.management(method.clone(), &path(c));
            if let Some(change) = change {
                request = request.json(&change);
            }
            let pending = tokio::spawn(request.send());
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(
                !pending.is_finished(),
                "{storage:?}: {method} waits for the sync in progress"
            );
            twinport::app::apply_stored(&changing, contracting, snapshot, &[], false)
                .await
                .unwrap();
            drop(changing);
            let status = pending.await.unwrap().unwrap().status().as_u16();
            assert!(status == 200 || status == 204, "{method}: {status}");
            // A later sync changes nothing either.
            twinport::app::sync_api_partners(contracting, false)
                .await
                .unwrap();
            assert_eq!(
                catalogue_status_for(&a.running, c, &old).await,
                401,
                "{storage:?}: after {method} the old key is not trusted again"
            );
            if method == Method::PUT {
                assert_eq!(catalogue_status_for(&a.running, c, &new).await, 200);
            }
        }
        assert_eq!(catalogue_status_for(&a.running, c, &new).await, 401);
        assert!(stored(&a).await.is_empty());
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn the_audit_entries_of_a_change_and_a_removal_hold_the_partner_as_it_was_before() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let c = "https://city-c.example/twinport";
        let first = json!({"id": c, "jwks": SigningKey::generate(KeyAlgorithm::EdDsa).unwrap().jwks(),
                           "claims": {"member": true}});
        let second =
            json!({"id": c, "jwks": SigningKey::generate(KeyAlgorithm::Es256).unwrap().jwks()});
        assert_eq!(
            send(&a, Method::POST, "/api/v1/partners", Some(first.clone()))
                .await
                .0,
            201
        );
        assert_eq!(
            send(&a, Method::PUT, &path(c), Some(second.clone()))
                .await
                .0,
            200
        );
        assert_eq!(send(&a, Method::DELETE, &path(c), None).await.0, 204);
        let digest = |v: &Value| twinport::audit::digest(v).unwrap();
        let recorded = actions(&a).await;
        let entry = |action: &str| {
            recorded
                .iter()
                .find(|d| d["action"] == action)
                .unwrap_or_else(|| panic!("no {action} entry"))["change"]
                .clone()
        };
        let create = entry("partner.create");
        assert_eq!(create["body"], first, "{storage:?}");
        assert!(create.get("before").is_none());
        let update = entry("partner.update");
        assert_eq!(update["before"]["body"], first, "{storage:?}");
        assert_eq!(update["before"]["digest"], digest(&first));
        assert_eq!(
            (&update["body"], &update["digest"]),
            (&second, &json!(digest(&second)))
        );
        let delete = entry("partner.delete");
        assert_eq!(delete["before"]["body"], second, "{storage:?}");
        assert_eq!(delete["before"]["digest"], digest(&second));
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_removed_partner_s_pull_token_stops_serving_data_at_once() {
    for storage in Storage::all() {
        let (a, b) = city_pair_with(storage, |c| {
            if c.participant_id == CITY_A {
                c.partners.clear();
            }
        })
        .await;
        let body = json!({"id": CITY_B, "url": b.running.public_url(), "jwks": b.key.jwks()});
        assert_eq!(
            send(&a, Method::POST, "/api/v1/partners", Some(body))
                .await
                .0,
            201
        );
        let platform = twinport_e2e::platform::Platform::start().await;
        let p = twinport_e2e::pull_transfer(
            &a,
            &b,
            "urn:ldt:t:roads",
            json!({"permission": [{"action": "use"}]}),
            json!({"format": "application/json", "backend": format!("{}/api/v1", platform.url)}),
            None,
        )
        .await;
        let pull = || {
            reqwest::Client::new()
                .get(format!("{}/collections/roads/items", p.endpoint))
                .bearer_auth(&p.token)
                .send()
        };
        assert_eq!(pull().await.unwrap().status(), 200, "{storage:?}");
        let hits = platform.seen.hits();

        assert_eq!(send(&a, Method::DELETE, &path(CITY_B), None).await.0, 204);
        let refused = pull().await.unwrap();
        assert_eq!(refused.status(), 403, "{storage:?}");
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = refused.json().await.unwrap();
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/partner-not-trusted"),
            "{problem}"
        );
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("no longer a trusted partner"),
            "{problem}"
        );
        assert_eq!(platform.seen.hits(), hits, "the backend is not reached");

        // Nor can the removed partner renew the token: its identity no longer authenticates (404, as DSP asks).
        let token = b.running.state.identity().token_for(CITY_A).unwrap();
        let renewal = reqwest::Client::new()
            .post(format!(
                "{}/transfers/{}/pull-token",
                a.dsp_base(),
                twinport::client::encode_segment(&p.provider_transfer)
            ))
            .bearer_auth(token)
            .json(&json!({"providerPid": p.provider_transfer}))
            .send()
            .await
            .unwrap();
        assert_eq!(renewal.status(), 404, "{storage:?}");
        a.running.stop().await;
        b.running.stop().await;
    }
}
