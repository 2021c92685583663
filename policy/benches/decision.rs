//! Decision latency for a typical city offer (purpose, dateTime and spatial constraints, one duty), with ODRL
//! only and with one Rego rule added for the scope. Targets: median ≤ 5 µs and ≤ 50 µs.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;
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

criterion_group!(benches, decision);
criterion_main!(benches);
