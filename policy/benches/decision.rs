//! Decision latency for a typical city offer (purpose, dateTime and spatial constraints, one duty), with ODRL
//! only and with one Rego rule added for the scope, and `policy simulate` (five decisions with their contexts) on
//! a policy of 50 rules. Targets: median ≤ 5 µs, ≤ 50 µs and ≤ 50 ms.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;
use twinport_policy::request::Facts;
use twinport_policy::simulate::simulate;
use twinport_policy::{Engine, EngineSettings, Policy, RegoRules, RequestContext, Scope};

fn offer() -> Policy {
    let doc = json!({
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Offer",
        "@id": "https://city.example/policies/typical",
        "assigner": "did:web:city.example",
        "permission": [{
            "action": "use",
            "target": "urn:ldt:traffic-counts",
            "constraint": [
                { "leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["research", "education"] },
                { "leftOperand": "dateTime", "operator": "lteq", "rightOperand": { "@value": "2027-12-31T23:59:59Z", "@type": "xsd:dateTime" } },
                { "leftOperand": "spatial", "operator": "isPartOf", "rightOperand": ["NL"] }
            ],
            "duty": [{ "@id": "https://city.example/policies/typical#attribute", "action": "attribute" }]
        }]
    });
    match Policy::from_json(&doc) {
        Ok(p) => p,
        Err(e) => panic!("benchmark policy: {e}"),
    }
}

fn context() -> RequestContext {
    let v = json!({
        "time": "2026-11-24T09:00:00Z",
        "action": "read",
        "resource": { "id": "urn:ldt:traffic-counts", "kind": "dataset", "stage": "raw" },
        "counterparty": { "id": "did:web:utrecht.nl", "claims": { "membership": "partner-city", "region": "NL-UT" } },
        "purpose": "research",
        "location": { "region": "NL-UT" },
        "duties": { "attribute": "fulfilled" }
    });
    match serde_json::from_value(v) {
        Ok(c) => c,
        Err(e) => panic!("benchmark context: {e}"),
    }
}

const RULE: &str = r#"
package twinport.access

deny contains msg if {
    input.counterparty.claims.membership != "partner-city"
    msg := "only partner cities may access"
}
"#;

fn decision(c: &mut Criterion) {
    let policy = offer();
    let ctx = context();
    let odrl = Engine::new(EngineSettings::default());
    assert!(odrl.evaluate(&policy, &ctx, Scope::Access).is_permit());
    c.bench_function("decision/odrl", |b| {
        b.iter(|| black_box(odrl.evaluate(black_box(&policy), black_box(&ctx), Scope::Access)))
    });

    let mut rules = RegoRules::new();
    if let Err(e) = rules.add(Scope::Access, "partner.rego", RULE) {
        panic!("benchmark rule: {e}");
    }
    let with_rego = Engine::new(EngineSettings::default()).with_rego(rules);
    assert!(with_rego.evaluate(&policy, &ctx, Scope::Access).is_permit());
    c.bench_function("decision/odrl+rego", |b| {
        b.iter(|| black_box(with_rego.evaluate(black_box(&policy), black_box(&ctx), Scope::Access)))
    });
}

/// 50 rules a city might accumulate: permissions for several resources and purposes, time windows, region and
/// claim conditions, prohibitions and an obligation.
fn large_policy() -> Policy {
    let mut permissions = Vec::new();
    for i in 0..40 {
        permissions.push(json!({
            "action": if i % 3 == 0 { "read" } else { "use" },
            "target": format!("urn:ldt:resource-{}", i % 10),
            "constraint": [
                { "leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["https://w3id.org/dpv#ResearchAndDevelopment", "https://w3id.org/dpv#ImprovePublicServices"] },
                { "leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-12-31" },
                { "leftOperand": "claim:region", "operator": "isPartOf", "rightOperand": ["EU"] },
                { "or": [
                    { "leftOperand": "claim:membership", "operator": "eq", "rightOperand": "partner-city" },
                    { "leftOperand": "count", "operator": "lteq", "rightOperand": 1000 }
                ] }
            ]
        }));
    }
    let mut prohibitions = Vec::new();
    for i in 0..9 {
        prohibitions.push(json!({
            "action": "distribute",
            "target": format!("urn:ldt:resource-{i}"),
            "constraint": [{ "leftOperand": "purpose", "operator": "isAnyOf", "rightOperand": ["https://w3id.org/dpv#CommercialPurpose"] }]
        }));
    }
    let doc = json!({
        "@type": "Offer", "@id": "https://city.example/policies/large", "assigner": "did:web:city.example",
        "twinport:timeZone": "Europe/Amsterdam",
        "permission": permissions, "prohibition": prohibitions,
        "obligation": [{ "action": "delete", "constraint": [{ "leftOperand": "elapsedTime", "operator": "gt", "rightOperand": "P365D" }] }]
    });
    match Policy::from_json(&doc) {
        Ok(p) => p,
        Err(e) => panic!("large policy: {e}"),
    }
}

fn simulation(c: &mut Criterion) {
    let policy = large_policy();
    assert_eq!(policy.rules().count(), 50);
    let facts: Facts = match serde_json::from_value(json!({
        "partner": { "id": "did:web:utrecht.nl", "claims": { "membership": "partner-city", "region": "NL-UT" } },
        "resource": { "id": "urn:ldt:resource-3", "kind": "dataset", "stage": "raw" },
        "purpose": "https://w3id.org/dpv#AcademicResearch",
        "at": "2026-11-24T09:00:00Z"
    })) {
        Ok(f) => f,
        Err(e) => panic!("facts: {e}"),
    };
    let engine = Engine::new(EngineSettings::solidlab());
    c.bench_function("simulate/50-rules", |b| {
        b.iter(|| {
            black_box(simulate(
                &engine,
                black_box(&policy),
                black_box(&facts),
                1001,
            ))
        })
    });
}

criterion_group!(benches, decision, simulation);
criterion_main!(benches);
