//! Rego rules: a module denies with reasons in the same report, compile errors and wrong packages are rejected
//! when added, and errors or time-outs during evaluation deny (fail closed).

use serde_json::json;
use twinport_policy::{
    Decision, Engine, EngineSettings, Policy, PolicyError, RegoRules, RequestContext, Scope,
};

fn permit_all() -> Policy {
    Policy::from_json(&json!({"@type":"Set","@id":"urn:p","permission":[{"action":"use"}]}))
        .unwrap_or_else(|e| panic!("{e}"))
}

const BUSINESS_HOURS: &str = r#"
package twinport.access

deny contains msg if {
    input.counterparty.claims.membership != "partner-city"
    msg := sprintf("membership %v is not partner-city", [input.counterparty.claims.membership])
}

deny contains "policy id must be known" if {
    not input.policy["@id"]
}
"#;

#[test]
fn rego_deny_appears_in_the_report() {
    let mut rules = RegoRules::new();
    rules
        .add(Scope::Access, "membership.rego", BUSINESS_HOURS)
        .unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(EngineSettings::default()).with_rego(rules);
    let partner: RequestContext =
        serde_json::from_value(json!({"counterparty": {"claims": {"membership": "partner-city"}}}))
            .unwrap_or_default();
    let r = engine.evaluate(&permit_all(), &partner, Scope::Access);
    assert!(r.is_permit(), "{:?}", r.reasons());
    let rego = r.rego.as_ref().map(|x| (x.denied, x.modules.clone()));
    assert_eq!(rego, Some((false, vec!["membership.rego".to_string()])));

    let other: RequestContext =
        serde_json::from_value(json!({"counterparty": {"claims": {"membership": "vendor"}}}))
            .unwrap_or_default();
    let r = engine.evaluate(&permit_all(), &other, Scope::Access);
    assert_eq!(r.decision, Decision::Deny);
    assert!(r.deciding_rules().contains(&"rego".to_string()));
    assert!(
        r.reasons()
            .contains(&"rego: membership vendor is not partner-city".to_string()),
        "{:?}",
        r.reasons()
    );

    // Rules are per scope: the catalogue has none, so the ODRL outcome stands.
    assert!(engine
        .evaluate(&permit_all(), &other, Scope::Catalogue)
        .is_permit());
}

#[test]
fn bad_modules_are_rejected_when_added() {
    let mut rules = RegoRules::new();
    let e = rules.add(
        Scope::Access,
        "broken.rego",
        "package twinport.access\ndeny contains if {",
    );
    assert!(
        matches!(e, Err(PolicyError::Rego { ref name, .. }) if name == "broken.rego"),
        "{e:?}"
    );
    let e = rules.add(
        Scope::Transfer,
        "wrong.rego",
        "package other\ndeny contains \"x\" if { true }",
    );
    assert!(
        e.as_ref()
            .is_err_and(|e| e.to_string().contains("expected package twinport.transfer")),
        "{e:?}"
    );
    let e = rules.add(
        Scope::Access,
        "unknown-fn.rego",
        "package twinport.access\ndeny contains x if { x := no_such_fn(1) }",
    );
    assert!(e.is_err(), "unknown functions are reported at add time");
    assert!(rules
        .add(
            Scope::Access,
            "ok.rego",
            "package twinport.access\ndeny contains \"x\" if { false }"
        )
        .is_ok());
}

#[test]
fn runtime_errors_and_timeouts_fail_closed() {
    let mut rules = RegoRules::new();
    // Quadratic work: instant for n = 10, far beyond the limit for n = 100 000.
    rules
        .add(
            Scope::Negotiation,
            "strict.rego",
            "package twinport.negotiation\ndeny contains \"never\" if { r := numbers.range(1, input.parameters.n); count([1 | some i in r; some j in r]) < 0 }",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(EngineSettings {
        rego_time_limit_ms: 5,
        ..Default::default()
    })
    .with_rego(rules);
    let small: RequestContext =
        serde_json::from_value(json!({"parameters": {"n": 10}})).unwrap_or_default();
    assert!(engine
        .evaluate(&permit_all(), &small, Scope::Negotiation)
        .is_permit());
    let huge: RequestContext =
        serde_json::from_value(json!({"parameters": {"n": 100_000}})).unwrap_or_default();
    let started = std::time::Instant::now();
    let r = engine.evaluate(&permit_all(), &huge, Scope::Negotiation);
    assert_eq!(r.decision, Decision::Deny);
    let rego = r.rego.clone().unwrap_or_else(|| panic!("no rego report"));
    assert!(rego.error.is_some(), "{rego:?}");
    assert!(
        started.elapsed().as_secs() < 5,
        "the time limit stopped evaluation"
    );
    println!("rego failure reason: {:?}", rego.reasons);
}

#[test]
fn a_module_without_deny_is_rejected() {
    let mut rules = RegoRules::new();
    let e = rules.add(
        Scope::Catalogue,
        "allow-only.rego",
        "package twinport.catalogue\nallow := true",
    );
    assert!(e.is_err_and(|e| e.to_string().contains("defines no deny rule")));
}
