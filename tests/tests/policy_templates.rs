//! Every template of `policy/examples`, offered on a real connector pair: for each case of its test file, city A
//! offers a resource under the template with city B's claims as the case gives them, and city B browses the
//! catalogue, negotiates with the case's purpose, starts a transfer (pull or push) and makes its accesses. What the
//! connector decides in each scope must match `policy simulate` for the same partner at the same moment, and,
//! for every case whose outcome does not depend on the clock, the template's test file. The request context the
//! connector recorded for its negotiation and transfer decisions is the one the request builder makes for
//! `simulate`: one builder, not three.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::platform::Platform;
use twinport_e2e::{city_pair_backed_with, City, Storage, CITY_A, CITY_B};
use twinport_policy::context::{CounterpartyContext, ResourceContext};
use twinport_policy::request::{build, Facts, Flow};
use twinport_policy::simulate::simulate;
use twinport_policy::testing::{parse_test_file, TestCase};
use twinport_policy::zone::PolicyZone;
use twinport_policy::{Decision, Engine, Policy, Scope};

const T: Duration = Duration::from_secs(15);

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/examples")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// What the connector pair did in each scope. A step after a refusal cannot happen, which is a deny too.
type Outcome = BTreeMap<Scope, Decision>;

fn word(permit: bool) -> Decision {
    if permit {
        Decision::Permit
    } else {
        Decision::Deny
    }
}

/// The case's partner is city B: its id in the policy becomes B's, and B's claims are the case's.
fn for_city_b(policy: &Value, case_partner: &str) -> Value {
    serde_json::from_str(&policy.to_string().replace(case_partner, CITY_B)).unwrap()
}

/// The request as the connector will know it when the case runs now: the case's facts with city B as the partner,
/// the connector's clock, and the agreement concluded now.
fn facts_now(case: &Facts) -> Facts {
    let mut f = case.clone();
    let claims = case
        .partner
        .as_ref()
        .map(|p| p.claims.clone())
        .unwrap_or_default();
    f.partner = Some(CounterpartyContext {
        id: Some(CITY_B.into()),
        claims,
        ..Default::default()
    });
    f.at = Some(now());
    f.agreed_at = None;
    f
}

/// What the connector should decide in each scope, with a refusal carried to the later steps (as on the
/// connector, where nothing follows a refusal), and the context the request builder makes for each. The transfer
/// and the access come after the case's earlier accesses. Without earlier accesses these are exactly the first
/// four steps of `policy simulate`, which is checked too.
fn expected(engine: &Engine, policy: &Policy, facts: &Facts) -> (Outcome, BTreeMap<Scope, Value>) {
    let mut out = Outcome::new();
    let mut contexts = BTreeMap::new();
    let mut refused = false;
    for scope in Scope::ALL {
        let ctx = build(scope, facts, policy);
        refused |= !engine.evaluate(policy, &ctx, scope).is_permit();
        out.insert(scope, word(!refused));
        contexts.insert(scope, serde_json::to_value(&ctx).unwrap());
    }
    if facts.accesses.unwrap_or(0) == 0 {
        let steps = simulate(engine, policy, facts, 2);
        for (step, scope) in steps.iter().zip(Scope::ALL) {
            assert_eq!(step.scope, scope);
            assert_eq!(
                serde_json::to_value(&step.context).unwrap(),
                contexts[&scope]
            );
        }
    }
    (out, contexts)
}

struct Run {
    outcome: Outcome,
    /// A's dry run for the same request in each scope: the context it decided on and its decision.
    dry_runs: BTreeMap<Scope, (Value, Decision)>,
    /// The contexts the provider recorded with its negotiation and transfer decisions.
    recorded: BTreeMap<Scope, Value>,
}

async fn management(city: &City, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = city.management(method, path);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The policy decision the provider recorded for process `id`: its report with the context.
async fn recorded_decision(a: &City, consumer_pid: &str) -> Option<Value> {
    let store = a.running.state.store();
    let negotiation = store
        .negotiations()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.consumer_pid.as_deref() == Some(consumer_pid))
        .map(|n| n.id);
    let transfer = store
        .transfers()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.consumer_pid.as_deref() == Some(consumer_pid))
        .map(|t| t.id);
    let id = negotiation.or(transfer)?;
    store
        .history(&id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|h| {
            h.detail
                .and_then(|d| serde_json::from_str::<Value>(&d).ok())
        })
        .find(|d| d.get("decision").is_some())
}

/// Waits until B's process `id` is in one of `states`; returns the state.
async fn settles(b: &City, id: &str, states: &[&str]) -> String {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let store = b.running.state.store();
        let now = match store.negotiation(id).await.unwrap() {
            Some(n) => Some(n.state),
            None => store.transfer(id).await.unwrap().map(|t| t.state),
        };
        if let Some(s) = now.as_ref().filter(|s| states.contains(&s.as_str())) {
            return s.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} is {now:?}, not one of {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn start_transfer(b: &City, agreement: &str, flow: Flow) -> (String, String) {
    let format = match flow {
        Flow::Pull => "HttpData-PULL",
        Flow::Push => "HttpData-PUSH",
    };
    let (status, view) = management(
        b,
        Method::POST,
        "/api/v1/transfers",
        Some(json!({"agreement_id": agreement, "format": format})),
    )
    .await;
    assert_eq!(status, 201, "{view}");
    let id = view["id"].as_str().unwrap().to_string();
    let state = settles(b, &id, &["STARTED", "TERMINATED"]).await;
    (id, state)
}

/// A pull data address: endpoint and token.
async fn address(b: &City, transfer: &str) -> (String, String) {
    let (_, view) = management(
        b,
        Method::GET,
        &format!("/api/v1/transfers/{transfer}"),
        None,
    )
    .await;
    let address = &view["data_address"];
    let token = twinport_e2e::pull_token(b, transfer).await;
    (address["endpoint"].as_str().unwrap().to_string(), token)
}

async fn pull(endpoint: &str, token: &str, method: &str) -> u16 {
    reqwest::Client::new()
        .request(method.parse().unwrap(), endpoint)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Whether A's push of transfer `id` (B's id) was delivered: B's side completes, or A records the failure.
async fn pushed(a: &City, b: &City, id: &str) -> bool {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        if b.running
            .state
            .store()
            .transfer(id)
            .await
            .unwrap()
            .map(|t| t.state)
            .as_deref()
            == Some("COMPLETED")
        {
            return true;
        }
        let provider = a
            .running
            .state
            .store()
            .transfers()
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.consumer_pid.as_deref() == Some(id));
        if let Some(t) = provider {
            let failed = a
                .running
                .state
                .store()
                .history(&t.id)
                .await
                .unwrap()
                .iter()
                .any(|h| h.event.contains("push failed"));
            if failed {
                return false;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "push of {id} did not settle"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Runs one case on a fresh connector pair.
async fn run_case(policy: &Value, facts: &Facts, platform: &Platform) -> Run {
    let claims = facts
        .partner
        .as_ref()
        .map(|p| p.claims.clone())
        .unwrap_or_default();
    let (a, b) = city_pair_backed_with(Storage::Sqlite, &platform.url, move |c| {
        for p in &mut c.partners {
            if p.id == CITY_B {
                p.claims = claims.clone();
            }
        }
    })
    .await;
    let resource = facts.resource.clone().unwrap_or_default();
    let resource_id = resource.id.clone().unwrap();
    let policy_id = "template";
    let (status, view) = management(
        &a,
        Method::POST,
        "/api/v1/policies",
        Some(json!({"id": policy_id, "policy": policy})),
    )
    .await;
    assert_eq!(status, 201, "the template is accepted as it is: {view}");
    assert!(view.get("warnings").is_none(), "{view}");
    let kind = resource.kind.clone().unwrap_or_else(|| "dataset".into());
    let mut body = json!({"id": resource_id, "kind": kind, "description": "A resource of the tests.", "title": "template resource",
        "distributions": [{"format": "application/json", "backend": format!("{}/api/data", platform.url)}],
        "offers": [{"policy": policy_id}]});
    if kind == "dataset" {
        body["stage"] = json!(resource.stage.clone().unwrap_or_else(|| "raw".into()));
    }
    let (status, view) = management(&a, Method::POST, "/api/v1/resources", Some(body)).await;
    assert_eq!(status, 201, "{view}");
    let offer = format!("{resource_id}:offer:{policy_id}");
    let mut run = Run {
        outcome: Outcome::new(),
        dry_runs: BTreeMap::new(),
        recorded: BTreeMap::new(),
    };
    for scope in Scope::ALL {
        let (status, report) = management(
            &a,
            Method::POST,
            &format!("/api/v1/policies/{policy_id}/dry-run"),
            Some(json!({"request": facts, "scope": scope})),
        )
        .await;
        assert_eq!(status, 200, "{report}");
        let decision = serde_json::from_value(report["decision"].clone()).unwrap();
        run.dry_runs
            .insert(scope, (report["context"].clone(), decision));
    }
    let refuse_from = |run: &mut Run, first: Scope| {
        for s in Scope::ALL.into_iter().filter(|s| *s >= first) {
            run.outcome.insert(s, Decision::Deny);
        }
    };

    // Catalogue: B reads the dataset from A's catalogue.
    let partner_a = b.running.state.partners().get(CITY_A).unwrap();
    let seen = b
        .running
        .state
        .client()
        .dataset(&partner_a, &resource_id)
        .await;
    if seen.is_err() {
        refuse_from(&mut run, Scope::Catalogue);
        return finish(a, b, run).await;
    }
    run.outcome.insert(Scope::Catalogue, Decision::Permit);

    // Negotiation with the case's purpose.
    let mut request = json!({"partner": CITY_A, "dataset": resource_id, "offer_id": offer});
    if let Some(p) = &facts.purpose {
        request["purpose"] = json!(p);
    }
    let (status, view) = management(&b, Method::POST, "/api/v1/negotiations", Some(request)).await;
    assert_eq!(status, 201, "{view}");
    let negotiation = view["id"].as_str().unwrap().to_string();
    let state = settles(&b, &negotiation, &["FINALIZED", "TERMINATED"]).await;
    if let Some(d) = recorded_decision(&a, &negotiation).await {
        run.recorded
            .insert(Scope::Negotiation, d["context"].clone());
    }
    if state != "FINALIZED" {
        refuse_from(&mut run, Scope::Negotiation);
        return finish(a, b, run).await;
    }
    run.outcome.insert(Scope::Negotiation, Decision::Permit);
    let (_, view) = management(
        &b,
        Method::GET,
        &format!("/api/v1/negotiations/{negotiation}"),
        None,
    )
    .await;
    let agreement = view["agreement_id"].as_str().unwrap().to_string();

    // Transfer and access: push, or pull with the case's method after the accesses already made.
    let flow = facts.flow.unwrap_or_default();
    let (transfer, state) = start_transfer(&b, &agreement, flow).await;
    let accesses = facts.accesses.unwrap_or(0);
    if accesses == 0 {
        if let Some(d) = recorded_decision(&a, &transfer).await {
            run.recorded.insert(Scope::Transfer, d["context"].clone());
        }
        if state != "STARTED" {
            refuse_from(&mut run, Scope::Transfer);
            return finish(a, b, run).await;
        }
        run.outcome.insert(Scope::Transfer, Decision::Permit);
    }
    let permitted = match flow {
        Flow::Push => pushed(&a, &b, &transfer).await,
        Flow::Pull => {
            let (endpoint, token) = address(&b, &transfer).await;
            for i in 0..accesses {
                assert_eq!(
                    pull(&endpoint, &token, "GET").await,
                    200,
                    "access {}",
                    i + 1
                );
            }
            if accesses > 0 {
                // The transfer scope of the case: a new transfer under the same agreement, after the accesses.
                let (second, state) = start_transfer(&b, &agreement, flow).await;
                if let Some(d) = recorded_decision(&a, &second).await {
                    run.recorded.insert(Scope::Transfer, d["context"].clone());
                }
                run.outcome
                    .insert(Scope::Transfer, word(state == "STARTED"));
            }
            let method = facts.method.clone().unwrap_or_else(|| "GET".into());
            let status = pull(&endpoint, &token, &method).await;
            assert!(status == 200 || status == 403, "{status}");
            status == 200
        }
    };
    run.outcome.insert(Scope::Access, word(permitted));
    finish(a, b, run).await
}

async fn finish(a: City, b: City, run: Run) -> Run {
    a.running.stop().await;
    b.running.stop().await;
    run
}

/// The context fields the builder fills from the clock are "now" on both sides, at different instants.
fn without_clock(mut ctx: Value) -> Value {
    if let Some(o) = ctx.as_object_mut() {
        assert!(
            o.remove("time").is_some_and(|t| t.is_string()),
            "no time in {ctx:?}"
        );
    }
    if let Some(a) = ctx.get_mut("agreement").and_then(Value::as_object_mut) {
        a.remove("start");
        a.remove("id");
    }
    ctx
}

#[tokio::test]
async fn every_template_is_visible_agreeable_and_usable_as_its_test_file_says() {
    let platform = Platform::start().await;
    let mut tests: Vec<PathBuf> = std::fs::read_dir(examples())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.json"))
        .collect();
    tests.sort();
    assert_eq!(tests.len(), 8);
    let mut against_file = 0;
    let mut templates_against_file = 0;
    let mut runs = 0;
    let mut permits = 0;
    let mut contexts_compared = 0;
    for test in &tests {
        let file = parse_test_file(&read(test)).unwrap();
        let path = test.parent().unwrap().join(&file.policy);
        let template: Value = serde_json::from_str(&read(&path)).unwrap();
        let mut matched_here = 0;
        for case in &file.cases {
            let TestCase {
                request: Some(case_facts),
                ..
            } = case
            else {
                continue; // A hand-written context has no partner to run.
            };
            if case_facts.agreed_at.is_some() {
                continue; // An agreement concluded in the past cannot be made on a live pair.
            }
            let partner = case_facts
                .partner
                .as_ref()
                .and_then(|p| p.id.clone())
                .unwrap_or_else(|| "did:web:nobody.example".into());
            let policy_json = for_city_b(&template, &partner);
            let policy = Policy::from_json(&policy_json).unwrap();
            let zone = PolicyZone::utc();
            let engine = Engine::new(twinport::contracting::decision::connector_settings(&zone));
            let mut facts = facts_now(case_facts);
            // The resource as A's catalogue will describe it: a raw dataset unless the case says otherwise.
            let given = facts.resource.clone().unwrap_or_default();
            let kind = given.kind.clone().unwrap_or_else(|| "dataset".into());
            facts.resource = Some(ResourceContext {
                id: given
                    .id
                    .clone()
                    .or_else(|| policy.target.as_ref().map(|t| t.uid.clone())),
                stage: (kind == "dataset")
                    .then(|| given.stage.clone().unwrap_or_else(|| "raw".into())),
                kind: Some(kind),
                ..Default::default()
            });
            let (expected_now, contexts) = expected(&engine, &policy, &facts);
            let run = run_case(&policy_json, &facts, &platform).await;
            runs += 1;
            permits += run
                .outcome
                .values()
                .filter(|d| **d == Decision::Permit)
                .count();
            assert_eq!(
                run.outcome,
                expected_now,
                "{}: {}: the connector and `policy simulate` disagree",
                test.display(),
                case.name
            );
            // One builder: the dry run decides on exactly the context `simulate` shows, with the same decision.
            for (scope, (context, decision)) in &run.dry_runs {
                assert_eq!(
                    context,
                    &contexts[scope],
                    "{}: {}: dry run {scope}",
                    test.display(),
                    case.name
                );
                let own: twinport_policy::RequestContext =
                    serde_json::from_value(contexts[scope].clone()).unwrap();
                assert_eq!(
                    *decision,
                    engine.evaluate(&policy, &own, *scope).decision,
                    "{}: {}: dry run {scope}",
                    test.display(),
                    case.name
                );
            }
            // One builder: the connector's recorded contexts are the request builder's, up to the clock.
            for (scope, recorded) in &run.recorded {
                contexts_compared += 1;
                assert_eq!(
                    without_clock(recorded.clone()),
                    without_clock(contexts[scope].clone()),
                    "{}: {}: the {scope} context differs",
                    test.display(),
                    case.name
                );
            }
            // Against the test file: every expectation of a case whose outcome the clock does not change.
            let expected_file: Outcome = case.expectations(file.scope).into_iter().collect();
            let now_matches_file = expected_file
                .iter()
                .all(|(s, d)| expected_now.get(s).is_none_or(|n| n == d));
            if now_matches_file {
                against_file += 1;
                matched_here += 1;
                for (scope, want) in &expected_file {
                    assert_eq!(
                        run.outcome.get(scope),
                        Some(want),
                        "{}: {}: {scope}",
                        test.display(),
                        case.name
                    );
                }
            }
        }
        if matched_here > 0 {
            templates_against_file += 1;
        } else {
            // Only a template whose every case depends on the time of day may skip the file's expectations.
            assert!(
                file.policy.contains("office-hours"),
                "{}: no case could be checked against the test file",
                test.display()
            );
        }
    }
    println!("{runs} cases on connector pairs, {against_file} checked against their test files, {contexts_compared} recorded contexts compared");
    assert!(runs >= 25, "{runs}");
    assert!(contexts_compared >= 30, "{contexts_compared}");
    assert!(templates_against_file >= 7, "{templates_against_file}");
    assert!(permits > 0 && permits < runs * 4);
}
