//! `POST /api/v1/policies/{id}/dry-run` on a running connector: the sample `research-only` policy permits with a
//! research purpose and denies without one (saying why), on the context the connector's request builder makes
//! (with the connector's claims for a configured partner and its clock); a bad request or context is a 422 naming
//! the field, an unknown policy or version is a 404, and a dry run against an old version uses that version's text.

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::{city_pair, Storage};

async fn dry_run(city: &twinport_e2e::City, id: &str, body: Value) -> (u16, Value) {
    let res = city
        .management(Method::POST, &format!("/api/v1/policies/{id}/dry-run"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn the_sample_research_policy_permits_research_only_and_says_why() {
    let (a, _b) = city_pair(Storage::Sqlite).await;
    let research = "https://w3id.org/dpv#AcademicResearch";
    let (status, report) = dry_run(
        &a,
        "research-only",
        json!({"request": {"partner": {"id": twinport_e2e::CITY_B}, "purpose": research}}),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["decision"], "permit");
    assert_eq!(report["scope"], "access");
    assert_eq!(report["policy"], "research-only");
    assert_eq!(report["version"], 1);
    assert_eq!(report["rules"][0]["constraints"][0]["value"], research);
    // The context is the one the connector builds: a GET reads, the connector's clock is the time.
    assert_eq!(report["context"]["action"], "read");
    assert!(report["context"]["time"].as_str().is_some());
    assert_eq!(
        report["context"]["counterparty"]["id"],
        twinport_e2e::CITY_B
    );

    let (status, report) = dry_run(
        &a,
        "research-only",
        json!({"request": {"partner": {"id": twinport_e2e::CITY_B}}, "scope": "negotiation"}),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["decision"], "deny");
    assert_eq!(report["scope"], "negotiation");
    assert_eq!(report["context"]["action"], json!(["use"]));
    let reasons = report["reasons"].to_string();
    assert!(
        reasons.contains("the partner declared no purpose"),
        "{reasons}"
    );

    // Browsing, no purpose is declared yet: the offer is shown.
    let (_, report) = dry_run(
        &a,
        "research-only",
        json!({"request": {"partner": {"id": twinport_e2e::CITY_B}}, "scope": "catalogue"}),
    )
    .await;
    assert_eq!(report["decision"], "permit", "{report}");

    // The sample also prohibits distribution, whatever the purpose: a push is refused.
    let (_, report) = dry_run(
        &a,
        "research-only",
        json!({"request": {"purpose": research, "flow": "push"}}),
    )
    .await;
    assert_eq!(report["decision"], "deny", "{report}");
    // A hand-written context is decided as it is.
    let (_, report) = dry_run(
        &a,
        "research-only",
        json!({"context": {"action": "distribute", "purpose": research}}),
    )
    .await;
    assert_eq!(report["decision"], "deny", "{report}");
    assert_eq!(report["context"]["action"], "distribute");
}

#[tokio::test]
async fn bad_requests_are_problems_naming_the_field() {
    let (a, _b) = city_pair(Storage::Sqlite).await;
    let (status, problem) = dry_run(
        &a,
        "research-only",
        json!({"context": {"action": "use", "counterparty": {"claim": {"membership": "x"}}}}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "context.counterparty.claim");
    assert!(problem["errors"][0]["problem"]
        .as_str()
        .unwrap()
        .contains("unknown field `claim`"));

    let (status, problem) = dry_run(
        &a,
        "research-only",
        json!({"request": {"partner": {"claim": {"membership": "x"}}}}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "request.partner.claim");
    let (status, problem) =
        dry_run(&a, "research-only", json!({"request": {}, "context": {}})).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem["errors"][0]["problem"]
        .as_str()
        .unwrap()
        .contains("not both"));

    let (status, problem) = dry_run(
        &a,
        "research-only",
        json!({"context": {"usage": {"count": "many"}}}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "context.usage.count");

    let (status, problem) = dry_run(&a, "research-only", json!({"scope": "browsing"})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "scope");

    let (status, problem) = dry_run(&a, "research-only", json!({"contxt": {}})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "contxt");
    assert!(problem["errors"][0]["problem"]
        .as_str()
        .unwrap()
        .contains("unknown field `contxt`"));

    let res = a
        .management(Method::POST, "/api/v1/policies/research-only/dry-run")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );

    // Regression: `[]` was accepted as a dry run of nothing.
    let res = a
        .management(Method::POST, "/api/v1/policies/research-only/dry-run")
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("expected a JSON object"),
        "{problem}"
    );

    let (status, problem) = dry_run(&a, "research-only", json!({"version": "latest"})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "version");

    let openapi: Value = a
        .management(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        openapi["paths"]["/api/v1/policies/{id}/dry-run"]["post"].is_object(),
        "the endpoint is described in the OpenAPI document"
    );

    let (status, problem) = dry_run(&a, "no-such-policy", json!({})).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(
        problem["type"],
        "https://w3id.org/twinport/problems/not-found"
    );

    let res = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/policies/research-only/dry-run",
            a.running.management_url()
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_dry_run_can_target_an_earlier_version() {
    let (a, _b) = city_pair(Storage::Sqlite).await;
    let v1 = json!({"permission": [{"action": "use", "constraint": [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}]}]});
    let created = a
        .management(Method::POST, "/api/v1/policies")
        .json(&json!({"id": "evolving", "policy": v1}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let v2 = json!({"permission": [{"action": "use", "constraint": [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": "education"}]}]});
    let updated = a
        .management(Method::PUT, "/api/v1/policies/evolving")
        .json(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);

    let research = json!({"action": "use", "purpose": "research"});
    let (status, current) = dry_run(&a, "evolving", json!({"context": research})).await;
    assert_eq!(status, 200, "{current}");
    assert_eq!(current["version"], 2);
    assert_eq!(current["decision"], "deny");

    let (status, old) = dry_run(&a, "evolving", json!({"context": research, "version": 1})).await;
    assert_eq!(status, 200, "{old}");
    assert_eq!(old["version"], 1);
    assert_eq!(old["decision"], "permit");

    let (status, problem) =
        dry_run(&a, "evolving", json!({"context": research, "version": 7})).await;
    assert_eq!(status, 404, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("version 7"));

    // After a delete the current policy is gone, but the version an agreement was made under still answers.
    let deleted = a
        .management(Method::DELETE, "/api/v1/policies/evolving")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (status, _) = dry_run(&a, "evolving", json!({"context": research})).await;
    assert_eq!(status, 404);
    let (status, old) = dry_run(&a, "evolving", json!({"context": research, "version": 1})).await;
    assert_eq!(status, 200);
    assert_eq!(old["decision"], "permit");
    let (status, _) = dry_run(&a, "evolving", json!({"context": research, "version": 3})).await;
    assert_eq!(status, 404, "the deletion itself has no text to evaluate");
}
