//! Behaviour of the engine through its public API: every left operand and operator in a policy, failures with
//! their reasons, settings, parse errors naming paths, round-tripping, and a sweep of odd input that must never
//! panic.

use serde_json::{json, Value};
use twinport_policy::{
    ConflictStrategy, Decision, Engine, EngineSettings, PermissionCombination, Policy, PolicyError,
    RequestContext, RuleState, Scope, World,
};

fn policy(v: Value) -> Policy {
    Policy::from_json(&v).unwrap_or_else(|e| panic!("{e}"))
}

fn ctx(v: Value) -> RequestContext {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn one_constraint(lo: &str, op: &str, ro: Value) -> Policy {
    policy(
        json!({"@type":"Set","@id":"urn:p","permission":[{"@id":"urn:r","action":"use",
        "constraint":[{"leftOperand":lo,"operator":op,"rightOperand":ro}]}]}),
    )
}

fn decide(p: &Policy, c: &RequestContext) -> (Decision, String, Value) {
    let r = Engine::new(EngineSettings::default()).evaluate(p, c, Scope::Access);
    let cr = &r.rules[0].constraints[0];
    (r.decision, cr.reason.clone(), cr.value.clone())
}

fn full_context() -> RequestContext {
    ctx(json!({
        "time": "2026-06-15T10:00:00Z",
        "action": "read",
        "resource": {"id": "urn:ds:traffic", "kind": "dataset", "stage": "workflow-ready"},
        "counterparty": {"id": "did:web:utrecht.nl", "claims": {"membership": "partner-city", "region": "NL-UT", "industry": "public-sector", "roles": ["analyst", "planner"]}},
        "purpose": "research",
        "recipient": "did:web:uu.nl",
        "location": {"region": "NL-UT", "lat": 52.09, "lon": 5.12},
        "usage": {"count": 9},
        "agreement": {"id": "urn:agr:1", "start": "2026-06-01T10:00:00Z"},
        "events": {"urn:event:marathon": "after"},
        "payment": {"amount": 12.5, "currency": "EUR"}
    }))
}

#[test]
fn every_left_operand_satisfied_and_failing_with_reasons() {
    let c = full_context();
    // (left operand, operator, passing right operand, failing right operand, expected value used)
    let cases: Vec<(&str, &str, Value, Value, Value)> = vec![
        (
            "dateTime",
            "lt",
            json!({"@value":"2027-01-01","@type":"xsd:date"}),
            json!("2026-01-01T00:00:00Z"),
            json!("2026-06-15T10:00:00Z"),
        ),
        (
            "elapsedTime",
            "lteq",
            json!("P30D"),
            json!("P7D"),
            json!("P14D"),
        ),
        (
            "delayPeriod",
            "gteq",
            json!("P7D"),
            json!("P30D"),
            json!("P14D"),
        ),
        (
            "purpose",
            "isAnyOf",
            json!(["research", "education"]),
            json!(["marketing"]),
            json!("research"),
        ),
        (
            "recipient",
            "eq",
            json!("did:web:uu.nl"),
            json!("did:web:ads.example"),
            json!("did:web:uu.nl"),
        ),
        (
            "https://w3id.org/twinport/policy/claim/membership",
            "eq",
            json!("partner-city"),
            json!("member"),
            json!("partner-city"),
        ),
        (
            "claim:roles",
            "hasPart",
            json!(["planner"]),
            json!(["admin"]),
            json!(["analyst", "planner"]),
        ),
        (
            "spatial",
            "isPartOf",
            json!(["NL"]),
            json!(["BE"]),
            json!("NL-UT"),
        ),
        (
            "spatial",
            "isPartOf",
            json!({"@value": {"bbox": [4.9, 51.9, 5.3, 52.2]}, "@type": "@json"}),
            json!({"bbox": [4.7, 52.2, 5.1, 52.5]}),
            json!({"lat": 52.09, "lon": 5.12}),
        ),
        ("count", "lteq", json!(10), json!(9), json!(10)),
        (
            "event",
            "gt",
            json!({"@id": "urn:event:marathon"}),
            json!({"@id": "urn:event:marathon"}),
            json!("after"),
        ),
        (
            "industry",
            "eq",
            json!("public-sector"),
            json!("retail"),
            json!("public-sector"),
        ),
        (
            "payAmount",
            "gteq",
            json!({"@value":"10.00","@type":"xsd:decimal"}),
            json!(20),
            json!(12.5),
        ),
        (
            "twinport:resourceKind",
            "eq",
            json!("dataset"),
            json!("model-or-service"),
            json!("dataset"),
        ),
        (
            "https://w3id.org/twinport/ldt#stage",
            "isNoneOf",
            json!(["raw"]),
            json!(["workflow-ready"]),
            json!("workflow-ready"),
        ),
        (
            "twinport:dayOfWeek",
            "eq",
            json!("Monday"),
            json!("Sunday"),
            json!("Monday"),
        ),
    ];
    for (lo, op, pass, fail, value) in cases {
        let (d, reason, used) = decide(&one_constraint(lo, op, pass.clone()), &c);
        assert_eq!(d, Decision::Permit, "{lo} {op} {pass}: {reason}");
        assert_eq!(used, value, "{lo}: value used");
        assert!(reason.contains("satisfies"), "{lo}: {reason}");
        // `event gt` cannot fail with the same right operand; use `lt` for the failing half.
        let fail_op = if lo == "event" { "lt" } else { op };
        let (d, reason, _) = decide(&one_constraint(lo, fail_op, fail.clone()), &c);
        assert_eq!(d, Decision::Deny, "{lo} {fail_op} {fail}: {reason}");
        assert!(reason.contains("does not satisfy"), "{lo}: {reason}");
    }
}

#[test]
fn every_operator_through_the_engine() {
    let c = full_context();
    let cases: Vec<(&str, Value, bool)> = vec![
        ("eq", json!(10), true),
        ("neq", json!(10), false),
        ("lt", json!(11), true),
        ("lteq", json!(9), false),
        ("gt", json!(9), true),
        ("gteq", json!(11), false),
    ];
    for (op, ro, want) in cases {
        let (d, reason, _) = decide(&one_constraint("count", op, ro), &c);
        assert_eq!(d == Decision::Permit, want, "count {op}: {reason}");
    }
    let sets: Vec<(&str, Value, bool)> = vec![
        ("isA", json!("research"), true),
        ("hasPart", json!(["research"]), true),
        ("isPartOf", json!(["research", "education"]), true),
        ("isAllOf", json!(["research", "education"]), false),
        ("isAnyOf", json!(["education"]), false),
        ("isNoneOf", json!(["education"]), true),
    ];
    for (op, ro, want) in sets {
        let (d, reason, _) = decide(&one_constraint("purpose", op, ro), &c);
        assert_eq!(d == Decision::Permit, want, "purpose {op}: {reason}");
    }
}

#[test]
fn unknown_left_operand_fails_closed() {
    let p = one_constraint("http://example.com/colour", "eq", json!("red"));
    let r = Engine::new(EngineSettings::default()).evaluate(&p, &full_context(), Scope::Access);
    assert_eq!(r.decision, Decision::Deny);
    let c = &r.rules[0].constraints[0];
    assert_eq!(c.reason, "unknown left operand");
    assert!(!c.satisfied && c.indeterminate);
    assert!(
        r.reasons()
            .iter()
            .any(|x| x.contains("Twinport has no value for http://example.com/colour")),
        "{:?}",
        r.reasons()
    );
    // Open world must not turn an undeterminable prohibition into a permit.
    let p = policy(
        json!({"@type":"Set","prohibition":[{"action":"use","constraint":[{"leftOperand":"ex:colour","operator":"eq","rightOperand":"red"}]}]}),
    );
    let open = Engine::new(EngineSettings {
        world: World::Open,
        ..Default::default()
    });
    assert_eq!(
        open.evaluate(&p, &full_context(), Scope::Access).decision,
        Decision::Deny
    );
}

#[test]
fn missing_context_values_deny_with_reason() {
    let p = one_constraint("purpose", "eq", json!("research"));
    let (d, reason, v) = decide(&p, &RequestContext::default());
    assert_eq!(d, Decision::Deny);
    assert_eq!(reason, "the request context has no purpose");
    assert_eq!(v, Value::Null);
}

#[test]
fn logical_constraints() {
    let c = full_context();
    let make = |op: &str| {
        policy(
            json!({"@type":"Set","permission":[{"action":"use","constraint":[{op: [
            {"leftOperand":"purpose","operator":"eq","rightOperand":"research"},
            {"leftOperand":"count","operator":"lt","rightOperand":5}]}]}]}),
        )
    };
    let e = Engine::new(EngineSettings::default());
    assert!(!e.evaluate(&make("and"), &c, Scope::Access).is_permit());
    assert!(!e
        .evaluate(&make("andSequence"), &c, Scope::Access)
        .is_permit());
    assert!(e.evaluate(&make("or"), &c, Scope::Access).is_permit());
    assert!(e.evaluate(&make("xone"), &c, Scope::Access).is_permit());
    let r = e.evaluate(&make("and"), &c, Scope::Access);
    assert_eq!(
        r.rules[0].constraints[0].reason,
        "and: 1 of 2 operands satisfied"
    );
    assert_eq!(
        r.rules[0].constraints[0].operands[1].path,
        "permission[0].constraint[0].and[1]"
    );
    let both = policy(
        json!({"@type":"Set","permission":[{"action":"use","constraint":[{"xone": [
            {"leftOperand":"purpose","operator":"eq","rightOperand":"research"},
            {"leftOperand":"count","operator":"gt","rightOperand":5}]}]}]}),
    );
    assert!(
        !e.evaluate(&both, &c, Scope::Access).is_permit(),
        "xone with two true operands"
    );
}

#[test]
fn refinements_on_action_asset_and_party() {
    let c = full_context();
    let e = Engine::new(EngineSettings::default());
    let p = policy(
        json!({"@type":"Set","permission":[{"action":{"rdf:value":{"@id":"odrl:read"},"refinement":[
        {"leftOperand":"purpose","operator":"eq","rightOperand":"marketing"}]}}]}),
    );
    let r = e.evaluate(&p, &c, Scope::Access);
    assert!(
        r.rules[0].active,
        "a failing refinement leaves the permission active"
    );
    assert_eq!(r.rules[0].state, RuleState::Deny);
    assert!(!r.is_permit());
    let asset = policy(
        json!({"@type":"Set","permission":[{"action":"read","target":{"@type":"AssetCollection","source":"urn:ds:traffic",
        "refinement":[{"leftOperand":"twinport:stage","operator":"eq","rightOperand":"workflow-ready"}]}}]}),
    );
    assert!(e.evaluate(&asset, &c, Scope::Access).is_permit());
    let party = policy(
        json!({"@type":"Set","permission":[{"action":"read","assignee":{"@type":"PartyCollection","source":"did:web:utrecht.nl",
        "refinement":[{"leftOperand":"claim:region","operator":"isPartOf","rightOperand":["BE"]}]}}]}),
    );
    assert!(!e.evaluate(&party, &c, Scope::Access).is_permit());
}

/// `twinport:resourceStage` is the deprecated name of `twinport:stage`, kept in this one test on purpose: stored
/// policies and signed agreements written with it must read as the same policy and decide exactly as before.
#[test]
fn the_deprecated_stage_name_decides_as_twinport_stage() {
    let engine = Engine::new(EngineSettings::default());
    let mut contexts: Vec<RequestContext> =
        ["raw", "workflow-ready", "model-input", "model-output"]
            .iter()
            .map(|stage| {
                ctx(json!({"time": "2026-06-15T10:00:00Z", "action": "read",
                "resource": {"id": "urn:ds:traffic", "kind": "dataset", "stage": stage}}))
            })
            .collect();
    contexts.push(ctx(
        json!({"action": "read", "resource": {"id": "urn:ds:traffic", "kind": "dataset"}}),
    ));
    contexts.push(RequestContext::default());
    for (op, ro) in [
        ("eq", json!("raw")),
        ("neq", json!("raw")),
        ("isAnyOf", json!(["raw", "model-input"])),
        ("isNoneOf", json!(["raw"])),
    ] {
        let new = one_constraint("twinport:stage", op, ro.clone());
        for old_term in [
            "twinport:resourceStage",
            "https://w3id.org/twinport/ldt#resourceStage",
        ] {
            let old = one_constraint(old_term, op, ro.clone());
            assert_eq!(old, new, "{old_term} {op} reads as twinport:stage {op}");
            assert_eq!(
                old.to_json()["permission"][0]["constraint"][0]["leftOperand"],
                "https://w3id.org/twinport/ldt#stage"
            );
            for c in &contexts {
                for scope in Scope::ALL {
                    let (a, b) = (
                        engine.evaluate(&old, c, scope),
                        engine.evaluate(&new, c, scope),
                    );
                    assert_eq!(a, b, "{old_term} {op} in {scope:?} for {c:?}");
                }
            }
        }
    }
    let old = one_constraint("twinport:resourceStage", "eq", json!("raw"));
    let new = one_constraint("twinport:stage", "eq", json!("raw"));
    for (stage, permit) in [("raw", true), ("workflow-ready", false)] {
        let c =
            ctx(json!({"action": "read", "resource": {"id": "urn:ds:traffic", "stage": stage}}));
        for p in [&old, &new] {
            let r = engine.evaluate(p, &c, Scope::Access);
            assert_eq!(r.is_permit(), permit, "stage {stage}");
            assert_eq!(
                r.rules[0].constraints[0].left_operand, "https://w3id.org/twinport/ldt#stage",
                "reports name the current term"
            );
        }
    }
}

#[test]
fn duties_and_settings() {
    let p = policy(
        json!({"@type":"Agreement","assigner":"urn:city","assignee":"did:web:utrecht.nl",
        "permission":[{"@id":"urn:perm","action":"read","duty":[{"@id":"urn:duty:attr","action":"attribute"}]}]}),
    );
    let mut c = full_context();
    let strict = Engine::new(EngineSettings::default());
    let lenient = Engine::new(EngineSettings::solidlab());
    assert!(!strict.evaluate(&p, &c, Scope::Access).is_permit());
    assert!(lenient.evaluate(&p, &c, Scope::Access).is_permit());
    c.duties.insert(
        "attribute".into(),
        twinport_policy::context::DutyState::Fulfilled,
    );
    assert!(strict.evaluate(&p, &c, Scope::Access).is_permit());
    c.duties.insert(
        "urn:duty:attr".into(),
        twinport_policy::context::DutyState::Violated,
    );
    let r = lenient.evaluate(&p, &c, Scope::Access);
    assert!(!r.is_permit());
    assert!(
        r.reasons()
            .iter()
            .any(|x| x.contains("the duty to attribute urn:city is violated")),
        "{:?}",
        r.reasons()
    );
}

#[test]
fn conflict_world_and_combination_settings() {
    let c = full_context();
    let conflict = |strategy: Option<&str>| {
        let mut v = json!({"@type":"Set","permission":[{"@id":"urn:perm","action":"read"}],"prohibition":[{"@id":"urn:pro","action":"use"}]});
        if let Some(s) = strategy {
            v["conflict"] = json!(s);
        }
        policy(v)
    };
    let e = Engine::new(EngineSettings::default());
    let r = e.evaluate(&conflict(None), &c, Scope::Access);
    assert_eq!(
        (r.decision, r.deciding_rules[0].as_str()),
        (Decision::Deny, "conflict")
    );
    assert!(e
        .evaluate(&conflict(Some("perm")), &c, Scope::Access)
        .is_permit());
    let r = e.evaluate(&conflict(Some("prohibit")), &c, Scope::Access);
    assert_eq!(r.deciding_rules(), ["urn:pro".to_string()]);
    let perm_default = Engine::new(EngineSettings {
        conflict: ConflictStrategy::Perm,
        ..Default::default()
    });
    assert!(perm_default
        .evaluate(&conflict(None), &c, Scope::Access)
        .is_permit());

    let nothing = policy(json!({"@type":"Set","permission":[{"action":"sell"}]}));
    assert!(!e.evaluate(&nothing, &c, Scope::Access).is_permit());
    let open = Engine::new(EngineSettings {
        world: World::Open,
        ..Default::default()
    });
    assert!(open.evaluate(&nothing, &c, Scope::Access).is_permit());

    let two = policy(json!({"@type":"Set","permission":[{"action":"read"},
        {"action":"use","constraint":[{"leftOperand":"purpose","operator":"eq","rightOperand":"marketing"}]}]}));
    assert!(e.evaluate(&two, &c, Scope::Access).is_permit());
    let all = Engine::new(EngineSettings {
        permissions: PermissionCombination::All,
        ..Default::default()
    });
    assert!(!all.evaluate(&two, &c, Scope::Access).is_permit());

    let offer =
        policy(json!({"@type":"Offer","assigner":"urn:city","permission":[{"action":"read"}]}));
    assert!(e.evaluate(&offer, &c, Scope::Catalogue).is_permit());
    let fs_offers = Engine::new(EngineSettings {
        evaluate_offers: false,
        ..Default::default()
    });
    assert!(!fs_offers.evaluate(&offer, &c, Scope::Catalogue).is_permit());
}

#[test]
fn obligations_deny_when_violated() {
    let p = policy(
        json!({"@type":"Agreement","permission":[{"action":"read"}],"obligation":[{"@id":"urn:ob:delete","action":"delete"}]}),
    );
    let mut c = full_context();
    let e = Engine::new(EngineSettings::default());
    assert!(e.evaluate(&p, &c, Scope::Access).is_permit());
    c.duties.insert(
        "urn:ob:delete".into(),
        twinport_policy::context::DutyState::Violated,
    );
    let r = e.evaluate(&p, &c, Scope::Access);
    assert_eq!(r.deciding_rules(), ["urn:ob:delete".to_string()]);
}

#[test]
fn malformed_policies_name_the_path() {
    let cases = vec![
        (
            json!({"permission":[{"constraint":[{"leftOperand":"purpose","operator":"eq","rightOperand":"x"},
            {"leftOperand":"purpose","operator":"equals","rightOperand":"x"}]}]}),
            "permission[0].constraint[1].operator: unknown operator \"equals\"",
        ),
        (
            json!({"permission":[{"constraint":[{"operator":"eq","rightOperand":"x"}]}]}),
            "permission[0].constraint[0]: missing \"leftOperand\"",
        ),
        (
            json!({"permission":[{"constraint":[{"leftOperand":"purpose","operator":"eq"}]}]}),
            "permission[0].constraint[0]: missing \"rightOperand\"",
        ),
        (
            json!({"permission":[{"constraint":[{"leftOperand":"purpose","operator":"eq","rightOperand":null}]}]}),
            "permission[0].constraint[0].rightOperand: right operand must not be null",
        ),
        (
            json!({"@type":"Licence"}),
            "@type: unknown policy type \"Licence\" (expected Set, Offer or Agreement)",
        ),
        (
            json!({"permission":[{"action":42}]}),
            "permission[0].action: expected an action name or an action object",
        ),
        (
            json!({"permission":[{"duty":[{"duty":[{"action":"pay"}]}]}]}),
            "permission[0].duty[0].duty: \"duty\" is not allowed in a duty; it belongs in a permission (and 1 more problem)",
        ),
        (
            json!({"permission":[{"target":{"refinement":[]}}]}),
            "permission[0].target: missing \"@id\" or \"source\"",
        ),
        (
            json!({"odrl:permission":[{"odrl:constraint":[{"and":[]}]}]}),
            "permission[0].constraint[0].and: a logical constraint needs at least one operand",
        ),
        (
            json!({"conflict":"maybe"}),
            "conflict: unknown conflict strategy \"maybe\" (expected perm, prohibit or invalid)",
        ),
        (json!([1, 2]), "$: expected a policy object"),
    ];
    for (doc, want) in cases {
        match Policy::from_json(&doc) {
            Err(e) => assert_eq!(e.to_string(), want),
            Ok(p) => panic!("{doc} parsed: {p:?}"),
        }
    }
    assert!(matches!(
        Policy::from_json_str("{"),
        Err(PolicyError::Json(_))
    ));
}

#[test]
fn prefixed_and_full_iri_keys_are_accepted() {
    let compact = policy(
        json!({"@type":"Offer","@id":"urn:p","permission":[{"action":"read","constraint":[{"leftOperand":"purpose","operator":"eq","rightOperand":"research"}]}]}),
    );
    let prefixed = policy(
        json!({"@type":"odrl:Offer","@id":"urn:p","odrl:permission":[{"odrl:action":{"@id":"odrl:read"},"odrl:constraint":[{"odrl:leftOperand":{"@id":"odrl:purpose"},"odrl:operator":{"@id":"odrl:eq"},"odrl:rightOperand":"research"}]}]}),
    );
    let full = policy(
        json!({"@type":"http://www.w3.org/ns/odrl/2/Offer","@id":"urn:p","http://www.w3.org/ns/odrl/2/permission":[{"http://www.w3.org/ns/odrl/2/action":"http://www.w3.org/ns/odrl/2/read","http://www.w3.org/ns/odrl/2/constraint":[{"http://www.w3.org/ns/odrl/2/leftOperand":"http://www.w3.org/ns/odrl/2/purpose","http://www.w3.org/ns/odrl/2/operator":"http://www.w3.org/ns/odrl/2/eq","http://www.w3.org/ns/odrl/2/rightOperand":"research"}]}]}),
    );
    assert_eq!(compact, prefixed);
    assert_eq!(compact, full);
    assert_eq!(compact.id(), Some("urn:p"));
}

#[test]
fn to_json_round_trips() {
    let docs = vec![
        json!({"@type":"Agreement","@id":"urn:a","conflict":"perm","twinport:timeZone":"Europe/Amsterdam","rdfs:label":"everything at once","assigner":"urn:city","assignee":"did:web:x",
            "target":"urn:ds","permission":[{"@id":"urn:r1","action":{"@id":"urn:act","rdf:value":{"@id":"odrl:compensate"},"refinement":[{"leftOperand":"payAmount","operator":"eq","rightOperand":{"@value":"5.00","@type":"xsd:decimal"},"unit":"EUR"}]},
              "assignee":{"@type":"PartyCollection","source":"urn:partners","refinement":[{"leftOperand":"claim:region","operator":"isAnyOf","rightOperand":["NL-UT","NL-NH"]}]},
              "constraint":[{"andSequence":{"@list":[{"leftOperand":"dateTime","operator":"gt","rightOperand":{"@value":"2026-01-01","@type":"xsd:date"}},{"leftOperand":"spatial","operator":"isPartOf","rightOperand":{"@value":{"bbox":[1,2,3,4]},"@type":"@json"}}]}}],
              "duty":[{"action":"attribute","consequence":[{"action":"compensate"}]}]}],
            "prohibition":[{"action":["sell","distribute"],"remedy":[{"action":"delete"}],"constraint":[{"leftOperand":"count","operator":"gt","rightOperandReference":"urn:limit","status":5}]}],
            "obligation":[{"action":"delete","constraint":[{"leftOperand":"elapsedTime","operator":"gteq","rightOperand":"P30D","dataType":"xsd:duration"}]}]}),
    ];
    for d in docs {
        let p = policy(d);
        assert_eq!(
            p.prohibitions.len(),
            2,
            "two actions split into two atomic prohibitions"
        );
        let again = Policy::from_json(&p.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, p);
    }
}

#[test]
fn report_serialises_and_deserialises() {
    let p = one_constraint("purpose", "eq", json!("research"));
    let r =
        Engine::new(EngineSettings::default()).evaluate(&p, &full_context(), Scope::Negotiation);
    let text = serde_json::to_string(&r).unwrap_or_default();
    assert!(
        text.starts_with(
            "{\"policyId\":\"urn:p\",\"scope\":\"negotiation\",\"actions\":[\"read\"],\"decision\":\"permit\""
        ),
        "{text}"
    );
    let back: twinport_policy::ComplianceReport =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, r);
    assert_eq!(Scope::Negotiation.to_string(), "negotiation");
    let text = r.to_text();
    assert!(
        text.starts_with("decision: PERMIT (scope negotiation, policy urn:p)"),
        "{text}"
    );
    assert!(
        text.contains(
            "[ok  ] permission[0].constraint[0]: purpose \"research\" satisfies eq \"research\""
        ),
        "{text}"
    );
    let settings = serde_json::to_value(EngineSettings::default()).unwrap_or_default();
    assert_eq!(
        settings,
        json!({"world":"closed","dutyNotSetBlocks":true,"permissions":"any","conflict":"invalid","evaluateOffers":true,"regoTimeLimitMs":50,"timeZone":"UTC"})
    );
}

/// Odd values in every place a value can go; nothing may panic, and nothing odd may permit via a constraint.
#[test]
fn never_panics_on_odd_input() {
    let odd: Vec<Value> = vec![
        json!(null),
        json!(""),
        json!(" "),
        json!(0),
        json!(-1),
        json!(1e308),
        json!(-1e308),
        json!(u64::MAX),
        json!("P"),
        json!("PT"),
        json!("-P1D"),
        json!("9999-99-99"),
        json!("2024-02-30T25:61:00Z"),
        json!("NaN"),
        json!("inf"),
        json!([]),
        json!([[]]),
        json!({}),
        json!({"@value": null}),
        json!({"@value": {}}),
        json!({"@id": ""}),
        json!({"@list": 3}),
        json!({"bbox": []}),
        json!({"polygon": [[0, 0], [0, 0], [0, 0]]}),
        json!({"bbox": ["a", "b", "c", "d"]}),
        json!("\u{0000}"),
        json!("😀"),
        json!({"@value": "x", "@type": 5}),
    ];
    let operands = [
        "dateTime",
        "elapsedTime",
        "delayPeriod",
        "purpose",
        "recipient",
        "spatial",
        "count",
        "event",
        "industry",
        "payAmount",
        "twinport:resourceKind",
        "twinport:stage",
        "twinport:dayOfWeek",
        "claim:a.b",
        "ex:zzz",
    ];
    let contexts = vec![
        RequestContext::default(),
        full_context(),
        ctx(
            json!({"time": "not a time", "agreement": {"start": "1970-01-01"}, "usage": {"count": u64::MAX},
            "location": {"lat": f64::MAX, "lon": -0.0}, "counterparty": {"claims": {"a": {"b": [null, {}, []]}}},
            "parameters": {"ex:zzz": {"deep": true}}, "payment": {"amount": -0.0, "currency": ""}}),
        ),
    ];
    let engine = Engine::new(EngineSettings::default());
    let mut evaluated = 0;
    for lo in operands {
        for op in [
            "eq", "neq", "lt", "lteq", "gt", "gteq", "isA", "hasPart", "isPartOf", "isAllOf",
            "isAnyOf", "isNoneOf",
        ] {
            for ro in &odd {
                let doc = json!({"permission":[{"action":"use","constraint":[{"leftOperand":lo,"operator":op,"rightOperand":ro}]}]});
                let Ok(p) = Policy::from_json(&doc) else {
                    continue;
                };
                for c in &contexts {
                    let r = engine.evaluate(&p, c, Scope::Access);
                    let cr = &r.rules[0].constraints[0];
                    assert!(!cr.reason.is_empty());
                    if cr.indeterminate {
                        assert!(
                            !r.is_permit(),
                            "{lo} {op} {ro}: indeterminate must not permit"
                        );
                    }
                    let _ = r.reasons();
                    evaluated += 1;
                }
            }
        }
    }
    assert!(evaluated > 1000, "{evaluated}");
    for doc in &odd {
        let _ = Policy::from_json(doc);
        let _ = twinport_policy::lint::lint(doc);
        let _ = Policy::from_json(
            &json!({"permission": doc, "prohibition": [doc], "obligation": {"action": doc}}),
        );
    }
    let mut deep = json!({"leftOperand":"purpose","operator":"eq","rightOperand":"x"});
    for _ in 0..200 {
        deep = json!({"and": [deep]});
    }
    assert!(Policy::from_json(&json!({"permission":[{"constraint":[deep]}]})).is_err());
}

#[test]
fn catalogue_browsing_without_an_action() {
    let offer = policy(
        json!({"@type":"Offer","assigner":"urn:city","permission":[{"action":"read","target":"urn:ds"}]}),
    );
    let browsing = ctx(json!({"resource": {"id": "urn:ds"}}));
    let e = Engine::new(EngineSettings::default());
    assert!(e.evaluate(&offer, &browsing, Scope::Catalogue).is_permit());
    let banned = policy(
        json!({"@type":"Offer","assigner":"urn:city","conflict":"prohibit",
        "permission":[{"action":"read","target":"urn:ds"}],"prohibition":[{"action":"use","target":"urn:ds"}]}),
    );
    let r = e.evaluate(&banned, &browsing, Scope::Catalogue);
    assert!(!r.is_permit(), "{}", r.summary);
}

#[test]
fn consequences_and_remedies_are_reported() {
    let p = policy(
        json!({"@type":"Agreement","assigner":"urn:city","assignee":"did:web:utrecht.nl",
        "permission":[{"action":"read","duty":[{"@id":"urn:d","action":"attribute","consequence":[{"@id":"urn:c","action":"compensate"}]}]}],
        "prohibition":[{"@id":"urn:p","action":"sell","remedy":[{"@id":"urn:r","action":"delete"}]}]}),
    );
    let mut c = full_context();
    c.duties.insert(
        "urn:d".into(),
        twinport_policy::context::DutyState::Violated,
    );
    c.duties.insert(
        "urn:r".into(),
        twinport_policy::context::DutyState::Fulfilled,
    );
    let r = Engine::new(EngineSettings::default()).evaluate(&p, &c, Scope::Access);
    let duty = &r.rules[0].duties[0];
    assert_eq!(duty.duties[0].id, "urn:c");
    assert_eq!(
        duty.duties[0].state,
        RuleState::Fulfilled,
        "the payment in the context fulfils compensate"
    );
    assert_eq!(r.rules[1].duties[0].state, RuleState::Fulfilled);
    assert!(
        !r.is_permit(),
        "a violated duty still blocks its permission"
    );
}

/// The connector shares one engine across request handlers.
#[test]
fn engine_and_reports_are_thread_safe() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<Policy>();
    assert_send_sync::<twinport_policy::ComplianceReport>();
    assert_send_sync::<twinport_policy::RegoRules>();
}
