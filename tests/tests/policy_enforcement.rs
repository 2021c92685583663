//! Policies decide in the running connector: the catalogue shows a partner only what some offer permits it to
//! see, and the city's own Rego rules (`rules/<scope>/*.rego`) can refuse, with their reasons reaching the partner.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport::config::Config;
use twinport_e2e::{city_pair, start_negotiation, wait_for_state, City, Storage, CITY_A, CITY_B};

const T: Duration = Duration::from_secs(10);

async fn add(a: &City, policy_id: &str, policy: Value, resource_id: &str) {
    let r = a
        .management(Method::POST, "/api/v1/policies")
        .json(&json!({"id": policy_id, "policy": policy}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let resource = json!({
        "id": resource_id, "kind": "workflow-template", "description": "A resource of the tests.", "title": resource_id,
        "distributions": [{"format": "application/json", "backend": "http://platform/x"}],
        "offers": [{"policy": policy_id}]
    });
    let r = a
        .management(Method::POST, "/api/v1/resources")
        .json(&resource)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

async fn visible_ids(b: &City) -> Vec<String> {
    let partner = b.running.state.partners().get(CITY_A).unwrap();
    let catalog = b
        .running
        .state
        .client()
        .catalog(&partner, vec![json!({"kind": "workflow-template"})])
        .await
        .unwrap();
    catalog["dataset"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| x["@id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_catalogue_shows_a_partner_only_what_an_offer_permits() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    // Only members of the LDT network (a claim city B does not have) may see this one.
    add(&a, "members-only", json!({"permission": [{"action": "use", "constraint": [{"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}]}]}), "urn:ldt:t:members").await;
    // This one is offered to city B by name.
    add(&a, "city-b-only", json!({"permission": [{"action": "use", "constraint": [{"leftOperand": "recipient", "operator": "eq", "rightOperand": CITY_B}]}]}), "urn:ldt:t:for-b").await;
    // An offer with an unknown left operand fails closed: hidden.
    add(&a, "unknown-operand", json!({"permission": [{"action": "use", "constraint": [{"leftOperand": "ex:colour", "operator": "eq", "rightOperand": "red"}]}]}), "urn:ldt:t:unknown").await;
    // A usage condition (purpose) is judged at negotiation, not while browsing: visible.
    add(&a, "research", json!({"permission": [{"action": "use", "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}]}]}), "urn:ldt:t:research").await;
    assert_eq!(
        visible_ids(&b).await,
        vec!["urn:ldt:t:for-b", "urn:ldt:t:research"]
    );
    // A resource with two offers shows only the one the partner may take, and only that one can be negotiated.
    let both = json!({
        "id": "urn:ldt:t:two-offers", "kind": "workflow-template", "description": "A resource of the tests.", "title": "two offers",
        "distributions": [{"format": "application/json", "backend": "http://platform/y"}],
        "offers": [{"policy": "members-only"}, {"policy": "city-b-only"}]
    });
    assert_eq!(
        a.management(Method::POST, "/api/v1/resources")
            .json(&both)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let partner = b.running.state.partners().get(CITY_A).unwrap();
    let d = b
        .running
        .state
        .client()
        .dataset(&partner, "urn:ldt:t:two-offers")
        .await
        .unwrap();
    let offers: Vec<&str> = d["hasPolicy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["@id"].as_str().unwrap())
        .collect();
    assert_eq!(offers, vec!["urn:ldt:t:two-offers:offer:city-b-only"]);
    let r = b
        .management(Method::POST, "/api/v1/negotiations")
        .json(&json!({"partner": CITY_A, "dataset": "urn:ldt:t:two-offers", "offer_id": "urn:ldt:t:two-offers:offer:members-only"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "an offer the partner cannot see cannot be requested"
    );
    // A hidden dataset answers 404, exactly like a missing one.
    let err = b
        .running
        .state
        .client()
        .dataset(
            &b.running.state.partners().get(CITY_A).unwrap(),
            "urn:ldt:t:members",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_city_rego_rule_refuses_with_its_reason() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let dsp = a.running.dsp_addr;
    let management = a.running.management_addr;
    a.running.stop().await;
    let rules = a.dir.path().join("catalogue/rules/negotiation");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("no-raw-data.rego"),
        "package twinport.negotiation\n\ndeny contains msg if {\n  input.resource.stage == \"raw\"\n  msg := \"raw data is shared only after review by the data steward\"\n}\n",
    )
    .unwrap();
    let mut config = Config::load(&a.dir.path().join("twinport.toml")).unwrap();
    config.listen = dsp;
    config.management_listen = management;
    let running = twinport::app::start(config).await.unwrap();
    running
        .state
        .set_partner_url(CITY_B, b.running.public_url());
    let a = City { running, ..a };
    let id = start_negotiation(
        &b,
        CITY_A,
        "urn:ldt:sample-city:traffic-counts",
        "urn:ldt:sample-city:traffic-counts:offer:partner-use",
        None,
    )
    .await;
    wait_for_state(&b, &id, "TERMINATED", T).await;
    let history = b.running.state.store().history(&id).await.unwrap();
    let reason = history.last().unwrap().detail.clone().unwrap();
    assert!(
        reason.contains("rego: raw data is shared only after review by the data steward"),
        "{reason}"
    );
    // Non-raw resources still negotiate.
    let ok = start_negotiation(
        &b,
        CITY_A,
        "urn:ldt:sample-city:heat-scenario-2040",
        "urn:ldt:sample-city:heat-scenario-2040:offer:partner-use",
        None,
    )
    .await;
    wait_for_state(&b, &ok, "FINALIZED", T).await;

    // A rule file that does not compile stops start-up, naming the file.
    a.running.stop().await;
    std::fs::write(
        rules.join("broken.rego"),
        "package twinport.negotiation\n\ndeny contains msg if {\n",
    )
    .unwrap();
    let error = twinport::app::start(Config::load(&a.dir.path().join("twinport.toml")).unwrap())
        .await
        .err()
        .expect("must not start")
        .to_string();
    assert!(error.contains("broken.rego"), "{error}");
    b.running.stop().await;
}
