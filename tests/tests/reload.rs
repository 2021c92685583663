//! What a reload (SIGHUP; here called in-process with the config file read again) changes on a running
//! connector: catalogue files, policy files (a bad one keeps the version in force, a removed one is retired once
//! no offer names it), and the config file's partners, while partners added through the API stay. A stored API
//! partner the file hides is dropped (and can be deleted), never trusted again when the file lets the id go; a
//! partner removed from the file can no longer pull.
//! `connector/tests/sighup.rs` sends the real signal to the binary.

use reqwest::Method;
use serde_json::{json, Value};
use twinport::config::Config;
use twinport_contracts::identity::{KeyAlgorithm, SigningKey};
use twinport_e2e::{catalog_request, city_pair, city_pair_with, City, Storage, CITY_A, CITY_B};

const FLOOD: &str = "urn:ldt:sample-city:flood-model";

fn config_of(city: &City) -> Config {
    Config::load(&city.config_path()).expect("config loads")
}

/// B's view of A's catalogue over DSP: (status, dataset ids).
async fn catalogue_seen_by(b: &City, a: &City) -> (u16, Vec<String>) {
    let token = b.running.state.identity().token_for(CITY_A).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/catalog/request", a.dsp_base()))
        .bearer_auth(token)
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let ids = body["dataset"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|d| d["@id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (status, ids)
}

async fn policy(city: &City, id: &str) -> (u16, Value) {
    let res = city
        .management(Method::GET, &format!("/api/v1/policies/{id}"))
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn catalogue_and_policy_files_are_reloaded_and_a_bad_policy_keeps_the_old_version() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let dir = a.dir.path().join("catalogue");
        let (_, before) = catalogue_seen_by(&b, &a).await;
        assert!(!before.contains(&"urn:ldt:sample-city:parking".to_string()));

        // A new resource file, and a policy file broken by a misspelt key.
        std::fs::write(
            dir.join("resources/parking.json"),
            json!({"id": "urn:ldt:sample-city:parking", "kind": "dataset", "stage": "raw",
                   "title": "Parking occupancy", "description": "Free places per car park, every 5 minutes.",
                   "distributions": [{"format": "application/json", "backend": "http://platform/parking"}],
                   "offers": [{"policy": "partner-use"}]})
            .to_string(),
        )
        .unwrap();
        let (_, in_force) = policy(&a, "partner-use").await;
        std::fs::write(
            dir.join("policies/partner-use.json"),
            r#"{"permission": [{"action": "use", "constrant": []}]}"#,
        )
        .unwrap();
        let report = a.running.reload_with(config_of(&a)).await;
        assert!(report.refused.is_none(), "{report:?}");
        let change = report.catalogue.as_ref().unwrap();
        assert_eq!(change.resources_added, ["urn:ldt:sample-city:parking"]);
        assert_eq!(change.policies_refused.len(), 1, "{change:?}");
        assert_eq!(change.policies_refused[0].0, "partner-use");
        assert!(
            change.policies_refused[0]
                .1
                .iter()
                .any(|p| p.contains("constrant")),
            "the lint message names the key: {change:?}"
        );
        let (_, after) = policy(&a, "partner-use").await;
        assert_eq!(
            after["version"], in_force["version"],
            "{storage:?}: old version kept"
        );
        assert_eq!(after["policy"], in_force["policy"]);
        let (status, seen) = catalogue_seen_by(&b, &a).await;
        assert_eq!(status, 200);
        assert!(
            seen.contains(&"urn:ldt:sample-city:parking".to_string()),
            "{storage:?}: {seen:?}"
        );

        // A fixed policy file adds a version.
        std::fs::write(
            dir.join("policies/partner-use.json"),
            r#"{"permission": [{"action": "use"}], "prohibition": [{"action": "distribute"}]}"#,
        )
        .unwrap();
        let report = a.running.reload_with(config_of(&a)).await;
        assert_eq!(
            report.catalogue.as_ref().unwrap().policies_changed,
            ["partner-use"]
        );
        let (_, fixed) = policy(&a, "partner-use").await;
        assert_eq!(fixed["version"], in_force["version"].as_i64().unwrap() + 1);
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_file_policy_whose_file_is_removed_is_retired_once_no_offer_names_it() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let dir = a.dir.path().join("catalogue");
        // The sample flood model and heat scenario offer `research-only`.
        let offering: Vec<_> = std::fs::read_dir(dir.join("resources"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                std::fs::read_to_string(p)
                    .unwrap()
                    .contains("\"research-only\"")
            })
            .collect();
        assert_eq!(offering.len(), 2);
        std::fs::remove_file(dir.join("policies/research-only.json")).unwrap();
        let report = a.running.reload_with(config_of(&a)).await;
        let retired = &report.catalogue.as_ref().unwrap().retired;
        assert!(retired.retired.is_empty());
        assert_eq!(retired.kept[0].0, "research-only");
        assert!(
            retired.kept[0].1.contains(&FLOOD.to_string()),
            "{retired:?}"
        );
        assert_eq!(
            policy(&a, "research-only").await.0,
            200,
            "still offered: kept"
        );

        for file in offering {
            std::fs::remove_file(file).unwrap();
        }
        let report = a.running.reload_with(config_of(&a)).await;
        let change = report.catalogue.as_ref().unwrap();
        assert_eq!(change.resources_removed.len(), 2, "{change:?}");
        assert!(change.resources_removed.contains(&FLOOD.to_string()));
        assert_eq!(change.retired.retired, ["research-only"], "{storage:?}");
        assert_eq!(policy(&a, "research-only").await.0, 404);
        // Its history stays, ending in the retirement.
        let versions: Value = a
            .management(Method::GET, "/api/v1/policies/research-only/versions")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let versions = versions.as_array().unwrap();
        assert_eq!(versions.len(), 2, "{versions:?}");
        assert_eq!(versions[1]["policy"], Value::Null);
        let reloads: Vec<Value> = twinport_e2e::audit_leaves(&a, "management_action")
            .await
            .into_iter()
            .filter(|l| l["details"]["action"] == "config.reload")
            .collect();
        assert_eq!(
            reloads.len(),
            1,
            "only the reload that changed something is recorded"
        );
        assert_eq!(
            reloads[0]["details"]["change"]["policies"]["retired"],
            json!(["research-only"])
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_partner_added_to_the_file_is_trusted_after_a_reload_and_api_partners_stay() {
    for storage in Storage::all() {
        // A runs without B although its file names B: as if the operator added B after A started.
        let (a, b) = city_pair_with(storage, |c| {
            if c.participant_id == CITY_A {
                c.partners.clear();
            }
        })
        .await;
        assert_eq!(catalogue_seen_by(&b, &a).await.0, 401);
        let c = "https://city-c.example/twinport";
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let created = a
            .management(Method::POST, "/api/v1/partners")
            .json(&json!({"id": c, "jwks": key.jwks()}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);

        let report = a.running.reload_with(config_of(&a)).await;
        assert_eq!(report.partners.added, [CITY_B], "{report:?}");
        assert_eq!(catalogue_seen_by(&b, &a).await.0, 200, "{storage:?}");

        // Removed from the file: refused at once; the API partner is untouched throughout.
        let text = std::fs::read_to_string(a.config_path()).unwrap();
        let start = text.find("[[partners]]").expect("B's entry");
        std::fs::write(a.config_path(), &text[..start]).unwrap();
        let report = a.running.reload_with(config_of(&a)).await;
        assert_eq!(report.partners.removed, [CITY_B]);
        assert_eq!(catalogue_seen_by(&b, &a).await.0, 401, "{storage:?}");
        let listed: Value = a
            .management(Method::GET, "/api/v1/partners")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            listed,
            json!([{"id": c, "keys": "inline", "claims": {}, "source": "api"}])
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn an_api_partner_hidden_by_the_file_can_be_removed_and_is_not_trusted_again_when_uncovered()
{
    for storage in Storage::all() {
        // A runs without B although its file names B; B is added through the API first.
        let (a, b) = city_pair_with(storage, |c| {
            if c.participant_id == CITY_A {
                c.partners.clear();
            }
        })
        .await;
        let path = format!(
            "/api/v1/partners/{}",
            twinport::client::encode_segment(CITY_B)
        );
        let body = json!({"id": CITY_B, "url": b.running.public_url(), "jwks": b.key.jwks()});
        let created = a
            .management(Method::POST, "/api/v1/partners")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let store = a.running.state.store();

        // The file now declares B: its entry is used and the stored one is dropped, audited with its body.
        let report = a.running.reload_with(config_of(&a)).await;
        assert_eq!(report.api_partners.shadowed, [CITY_B], "{report:?}");
        assert!(
            store.api_partner(CITY_B).await.unwrap().is_none(),
            "{storage:?}"
        );
        let dropped: Vec<Value> = twinport_e2e::audit_leaves(&a, "management_action")
            .await
            .into_iter()
            .map(|l| l["details"].clone())
            .filter(|d| d["action"] == "partner.delete")
            .collect();
        assert_eq!(dropped.len(), 1, "{dropped:?}");
        assert_eq!(dropped[0]["change"]["before"]["body"], body);
        assert_eq!(catalogue_seen_by(&b, &a).await.0, 200);

        // A stored row hidden by the file (another replica wrote it) can be deleted: the file's entry stays.
        assert!(store.insert_api_partner(CITY_B, &body).await.unwrap());
        let res = a.management(Method::DELETE, &path).send().await.unwrap();
        assert_eq!(res.status(), 200, "{storage:?}");
        let said: Value = res.json().await.unwrap();
        assert_eq!(said["source"], "file");
        assert!(
            said["detail"].as_str().unwrap().contains("stays in force"),
            "{said}"
        );
        assert!(store.api_partner(CITY_B).await.unwrap().is_none());
        assert_eq!(
            catalogue_seen_by(&b, &a).await.0,
            200,
            "the file's entry is in force"
        );
        let res = a.management(Method::DELETE, &path).send().await.unwrap();
        assert_eq!(res.status(), 409, "nothing stored to remove");

        // Hidden again, then the file lets B go: the hidden row is dropped, not trusted again.
        assert!(store.insert_api_partner(CITY_B, &body).await.unwrap());
        let text = std::fs::read_to_string(a.config_path()).unwrap();
        let start = text.find("[[partners]]").expect("B's entry");
        std::fs::write(a.config_path(), &text[..start]).unwrap();
        let report = a.running.reload_with(config_of(&a)).await;
        assert_eq!(report.partners.removed, [CITY_B]);
        assert_eq!(report.api_partners.shadowed, [CITY_B], "{report:?}");
        assert!(report.api_partners.added.is_empty(), "{report:?}");
        assert_eq!(
            catalogue_seen_by(&b, &a).await.0,
            401,
            "{storage:?}: not revived"
        );
        assert!(store.api_partner(CITY_B).await.unwrap().is_none());
        let listed: Value = a
            .management(Method::GET, "/api/v1/partners")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed, json!([]));
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_partner_removed_from_the_file_can_no_longer_pull_with_its_token() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
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
        let text = std::fs::read_to_string(a.config_path()).unwrap();
        let start = text.find("[[partners]]").expect("B's entry");
        std::fs::write(a.config_path(), &text[..start]).unwrap();
        let report = a.running.reload_with(config_of(&a)).await;
        assert_eq!(report.partners.removed, [CITY_B]);
        let refused = pull().await.unwrap();
        assert_eq!(refused.status(), 403, "{storage:?}");
        let problem: Value = refused.json().await.unwrap();
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/partner-not-trusted"),
            "{problem}"
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}
