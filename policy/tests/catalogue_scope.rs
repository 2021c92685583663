//! Browsing the catalogue, a partner's intended use is not known yet: usage conditions (purpose, count, ...) are
//! deferred to negotiation instead of hiding the offer, while conditions on who the partner is still decide, and an
//! unknown left operand still fails closed.

use serde_json::json;
use twinport_policy::{Engine, EngineSettings, Policy, RequestContext, Scope};

fn policy(constraint: serde_json::Value) -> Policy {
    Policy::from_json(&json!({"@type": "Offer", "@id": "urn:p", "permission": [{"action": "use", "constraint": [constraint]}]})).unwrap()
}

fn partner(claims: serde_json::Value) -> RequestContext {
    serde_json::from_value(json!({"time": "2026-11-24T10:00:00Z", "counterparty": {"id": "https://b.example", "claims": claims}})).unwrap()
}

#[test]
fn usage_conditions_do_not_hide_offers_in_the_catalogue() {
    let engine = Engine::new(EngineSettings::solidlab());
    let research =
        policy(json!({"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}));
    let report = engine.evaluate(&research, &partner(json!({})), Scope::Catalogue);
    assert!(report.is_permit(), "{}", report.to_text());
    assert!(report.rules[0].constraints[0]
        .reason
        .contains("judged at negotiation"));
    // At negotiation the same missing purpose denies, with the reason.
    let report = engine.evaluate(&research, &partner(json!({})), Scope::Negotiation);
    assert!(!report.is_permit());
    assert!(
        report.reasons().iter().any(|r| r.contains("purpose")),
        "{:?}",
        report.reasons()
    );
}

#[test]
fn conditions_on_the_partner_still_decide_visibility() {
    let engine = Engine::new(EngineSettings::solidlab());
    let members = policy(
        json!({"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}),
    );
    assert!(engine
        .evaluate(
            &members,
            &partner(json!({"membership": "ldt-network"})),
            Scope::Catalogue
        )
        .is_permit());
    assert!(!engine
        .evaluate(&members, &partner(json!({})), Scope::Catalogue)
        .is_permit());
    let unknown =
        policy(json!({"leftOperand": "ex:colour", "operator": "eq", "rightOperand": "red"}));
    assert!(!engine
        .evaluate(&unknown, &partner(json!({})), Scope::Catalogue)
        .is_permit());
}
