//! A misspelt policy never reaches a partner: the management API refuses it with 422 and the lint report, a
//! policy file with an error stops the start naming the file and the place, and a policy that got into storage
//! before these checks existed is read as unreadable, so every decision under it denies.

use reqwest::Method;
use serde_json::{json, Value};
use twinport::config::Config;
use twinport::storage::ResourceSource;
use twinport_e2e::{city_pair, start_negotiation, wait_for_state, Storage, CITY_A};

/// The fail-open the strict reader closes: a purpose condition under a misspelt `constraints` key.
fn misspelt() -> Value {
    json!({"permission": [{"action": "use",
        "constraints": [{"leftOperand": "purpose", "operator": "isAnyOf",
                         "rightOperand": ["https://w3id.org/dpv#NonCommercialPurpose"]}]}]})
}

#[tokio::test]
async fn a_misspelt_key_is_refused_by_the_api_with_the_lint_report() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let r = a
            .management(Method::POST, "/api/v1/policies")
            .json(&json!({"id": "non-commercial", "policy": misspelt()}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "permission[0].constraints");
        assert_eq!(
            problem["errors"][0]["problem"],
            "unknown key \"constraints\" in a permission (did you mean \"constraint\"?)"
        );
        let r = a
            .management(Method::GET, "/api/v1/policies/non-commercial")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "nothing was stored");

        // Misspelt operands and operators are refused the same way, every problem at once.
        let r = a
            .management(Method::POST, "/api/v1/policies")
            .json(&json!({"id": "members", "policy": {"permission": [{"action": "use", "constraint": [
                {"leftOperand": "membership", "operator": "equals", "rightOperand": "ldt-network"}]}]}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let problem: Value = r.json().await.unwrap();
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            vec![
                "permission[0].constraint[0].leftOperand",
                "permission[0].constraint[0].operator"
            ]
        );

        // A policy with only warnings is stored, and its warnings are shown.
        let r = a
            .management(Method::POST, "/api/v1/policies")
            .json(&json!({"id": "flood", "policy": {"permission": [{"action": "use", "constraint": [
                {"leftOperand": "purpose", "operator": "eq", "rightOperand": "flood planning"}]}]}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let view: Value = r.json().await.unwrap();
        assert!(view["warnings"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("free word"));
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_policy_file_with_an_error_stops_the_start_naming_file_and_key() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let config_path = a.config_path();
    a.running.stop().await;
    let path = a.dir.path().join("catalogue/policies/partner-use.json");
    std::fs::write(&path, misspelt().to_string()).unwrap();
    let error = match twinport::app::start(Config::load(&config_path).unwrap()).await {
        Ok(_) => panic!("a policy file with an error must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("partner-use.json"), "{error}");
    assert!(
        error.contains("permission[0].constraints: unknown key \"constraints\" in a permission (did you mean \"constraint\"?)"),
        "{error}"
    );
    b.running.stop().await;
}

#[tokio::test]
async fn a_stored_policy_that_no_longer_reads_denies_every_decision() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    // As an earlier version would have stored it, past today's checks.
    a.running
        .state
        .store()
        .put_policy("legacy", ResourceSource::Api, &misspelt())
        .await
        .unwrap();
    let r = a
        .management(Method::POST, "/api/v1/resources")
        .json(
            &json!({"id": "urn:ldt:t:legacy", "kind": "dataset", "stage": "raw", "description": "A resource of the tests.", "title": "legacy",
            "distributions": [{"format": "application/json", "backend": "http://platform/x"}],
            "offers": [{"policy": "legacy"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let partner = b.running.state.partners().get(CITY_A).unwrap();
    let hidden = b
        .running
        .state
        .client()
        .dataset(&partner, "urn:ldt:t:legacy")
        .await;
    assert!(hidden.is_err(), "an unreadable policy shows nothing");
    let r = a
        .management(Method::POST, "/api/v1/policies/legacy/dry-run")
        .json(&json!({"request": {"purpose": "https://w3id.org/dpv#CommercialPurpose"}}))
        .send()
        .await
        .unwrap();
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["decision"], "deny");
    assert!(
        report["summary"]
            .as_str()
            .unwrap()
            .contains("did you mean \"constraint\""),
        "{report}"
    );
    // The sample offers still work beside it.
    let id = start_negotiation(
        &b,
        CITY_A,
        "urn:ldt:sample-city:traffic-counts",
        "urn:ldt:sample-city:traffic-counts:offer:partner-use",
        None,
    )
    .await;
    wait_for_state(&b, &id, "FINALIZED", std::time::Duration::from_secs(10)).await;
    a.running.stop().await;
    b.running.stop().await;
}

/// What a partner agrees to, and what is enforced under the agreement, is the policy that was offered: the
/// agreement carries its policy-wide terms and the actions a policy-level `action` gives its rules, only the rules
/// about the agreed resource, and every decision under it is made on the stored version it was made under.
#[tokio::test]
async fn the_agreement_carries_and_enforces_exactly_the_policy_offered() {
    use twinport_e2e::platform::Platform;
    let (a, b) = city_pair(Storage::Sqlite).await;
    let platform = Platform::start().await;
    let resource = "urn:ldt:t:bundle-a";
    let policy = json!({
        "rdfs:label": "reading only, never commercial",
        "conflict": "prohibit",
        "twinport:timeZone": "Europe/Amsterdam",
        "action": "read",
        "permission": [
            {"target": resource, "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 2}]},
            {"target": "urn:ldt:t:bundle-b"}
        ],
        "prohibition": [{"action": "use", "constraint": [
            {"leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["https://w3id.org/dpv#CommercialPurpose"]}]}]
    });
    let p = twinport_e2e::pull_transfer(
        &a,
        &b,
        resource,
        policy,
        json!({"format": "application/json", "backend": format!("{}/api/data", platform.url)}),
        Some("https://w3id.org/dpv#AcademicResearch"),
    )
    .await;
    // The agreement as city B holds it (signed by both) says what was offered on this resource.
    let agreement = b
        .running
        .state
        .store()
        .agreement(&p.agreement_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(agreement.body["conflict"], "prohibit");
    assert_eq!(agreement.body["twinport:timeZone"], "Europe/Amsterdam");
    assert_eq!(
        agreement.body["rdfs:label"],
        "reading only, never commercial"
    );
    assert_eq!(
        agreement.body["permission"],
        json!([{"action": "read", "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 2}]}]),
        "the rule about the other resource is not offered on this one"
    );
    assert_eq!(agreement.body["prohibition"][0]["action"], "use");

    let client = reqwest::Client::new();
    let call = |method: reqwest::Method| {
        client
            .request(method, &p.endpoint)
            .bearer_auth(&p.token)
            .send()
    };
    // Reading only: a DELETE is not a read.
    assert_eq!(call(reqwest::Method::DELETE).await.unwrap().status(), 403);
    // Never commercial, whatever the request declares.
    let r = client
        .get(&p.endpoint)
        .bearer_auth(&p.token)
        .header(
            "twinport-purpose",
            "https://w3id.org/dpv#CommercialResearch",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Two reads, as agreed on this resource; the unlimited rule about the other one does not lift the limit.
    assert_eq!(call(reqwest::Method::GET).await.unwrap().status(), 200);
    assert_eq!(call(reqwest::Method::GET).await.unwrap().status(), 200);
    let r = call(reqwest::Method::GET).await.unwrap();
    assert_eq!(r.status(), 403);
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["reasons"]
            .to_string()
            .contains("the number this access would reach is 3"),
        "{problem}"
    );
    a.running.stop().await;
    b.running.stop().await;
}
