//! Writes a policy back to compact DSP JSON-LD. The output is the atomic form the parser produced, so
//! `Policy::from_json(&p.to_json())` yields `p` again.

use crate::model::{
    Action, Asset, AtomicConstraint, ConflictStrategy, Constraint, Literal, LogicalOperator, Party,
    Policy, PolicyKind, RightOperand, Rule,
};
use serde_json::{json, Map, Value};

/// ODRL's own actions are written unprefixed; anything else keeps its IRI.
fn action_term(action: &Action) -> Value {
    let is_odrl_short = !action.name.contains(':');
    if action.uid.is_none() && action.refinements.is_empty() {
        return Value::String(action.name.clone());
    }
    let mut o = Map::new();
    if let Some(uid) = &action.uid {
        o.insert("@id".into(), json!(uid));
    }
    let class = if is_odrl_short {
        format!("odrl:{}", action.name)
    } else {
        action.name.clone()
    };
    o.insert("rdf:value".into(), json!({ "@id": class }));
    if !action.refinements.is_empty() {
        o.insert("refinement".into(), constraints_json(&action.refinements));
    }
    Value::Object(o)
}

fn member_json(
    uid: &str,
    collection: bool,
    refinements: &[Constraint],
    collection_type: &str,
) -> Value {
    if !collection && refinements.is_empty() {
        return Value::String(uid.to_string());
    }
    let mut o = Map::new();
    o.insert("@type".into(), json!(collection_type));
    o.insert("source".into(), json!(uid));
    if !refinements.is_empty() {
        o.insert("refinement".into(), constraints_json(refinements));
    }
    Value::Object(o)
}

fn party_json(p: &Party) -> Value {
    member_json(&p.uid, p.collection, &p.refinements, "PartyCollection")
}

fn asset_json(a: &Asset) -> Value {
    member_json(&a.uid, a.collection, &a.refinements, "AssetCollection")
}

pub(crate) fn literal_json(l: &Literal) -> Value {
    match l {
        Literal::Iri(s) => json!({ "@id": s }),
        Literal::Typed { value, datatype } => json!({ "@value": value, "@type": datatype }),
        Literal::String(s) => json!(s),
        Literal::Number(n) => Value::Number(n.clone()),
        Literal::Bool(b) => json!(b),
        Literal::Json(v) => json!({ "@value": v, "@type": "@json" }),
    }
}

pub(crate) fn right_operand_json(r: &RightOperand) -> Value {
    match r {
        RightOperand::Single(l) => literal_json(l),
        RightOperand::List(ls) => Value::Array(ls.iter().map(literal_json).collect()),
        RightOperand::Reference(s) => json!(s),
    }
}

fn atomic_json(c: &AtomicConstraint) -> Value {
    let mut o = Map::new();
    if let Some(uid) = &c.uid {
        o.insert("@id".into(), json!(uid));
    }
    o.insert("leftOperand".into(), json!(c.left_operand.as_term()));
    o.insert("operator".into(), json!(c.operator.as_str()));
    match &c.right_operand {
        RightOperand::Reference(s) => o.insert("rightOperandReference".into(), json!(s)),
        r => o.insert("rightOperand".into(), right_operand_json(r)),
    };
    if let Some(dt) = &c.data_type {
        o.insert("dataType".into(), json!(dt));
    }
    if let Some(u) = &c.unit {
        o.insert("unit".into(), json!(u));
    }
    if let Some(s) = &c.status {
        o.insert("status".into(), s.clone());
    }
    Value::Object(o)
}

pub(crate) fn constraint_json(c: &Constraint) -> Value {
    match c {
        Constraint::Atomic(a) => atomic_json(a),
        Constraint::Logical(l) => {
            let mut o = Map::new();
            if let Some(uid) = &l.uid {
                o.insert("@id".into(), json!(uid));
            }
            let operands = Value::Array(l.constraints.iter().map(constraint_json).collect());
            // JSON-LD needs `@list` to keep the order `andSequence` depends on.
            let operands = if l.operator == LogicalOperator::AndSequence {
                json!({ "@list": operands })
            } else {
                operands
            };
            o.insert(l.operator.as_str().into(), operands);
            Value::Object(o)
        }
    }
}

fn constraints_json(cs: &[Constraint]) -> Value {
    Value::Array(cs.iter().map(constraint_json).collect())
}

fn rule_json(r: &Rule) -> Value {
    let mut o = Map::new();
    if let Some(uid) = &r.uid {
        o.insert("@id".into(), json!(uid));
    }
    if let Some(label) = &r.label {
        o.insert("rdfs:label".into(), json!(label));
    }
    if let Some(a) = &r.action {
        o.insert("action".into(), action_term(a));
    }
    if let Some(t) = &r.target {
        o.insert("target".into(), asset_json(t));
    }
    if let Some(p) = &r.assigner {
        o.insert("assigner".into(), party_json(p));
    }
    if let Some(p) = &r.assignee {
        o.insert("assignee".into(), party_json(p));
    }
    if let Some(p) = &r.attributed_party {
        o.insert("attributedParty".into(), party_json(p));
    }
    if let Some(t) = &r.attribution_text {
        o.insert("twinport:attributionText".into(), json!(t));
    }
    if !r.constraints.is_empty() {
        o.insert("constraint".into(), constraints_json(&r.constraints));
    }
    for (key, list) in [
        ("duty", &r.duties),
        ("consequence", &r.consequences),
        ("remedy", &r.remedies),
    ] {
        if !list.is_empty() {
            o.insert(
                key.into(),
                Value::Array(list.iter().map(rule_json).collect()),
            );
        }
    }
    Value::Object(o)
}

impl Policy {
    /// The policy as compact DSP JSON-LD (atomic rules; round-trips through `from_json`).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("@context".into(), json!("http://www.w3.org/ns/odrl.jsonld"));
        let kind = match self.kind {
            PolicyKind::Set => "Set",
            PolicyKind::Offer => "Offer",
            PolicyKind::Agreement => "Agreement",
        };
        o.insert("@type".into(), json!(kind));
        if let Some(uid) = &self.uid {
            o.insert("@id".into(), json!(uid));
        }
        if let Some(label) = &self.label {
            o.insert("rdfs:label".into(), json!(label));
        }
        if let Some(zone) = &self.time_zone {
            o.insert("twinport:timeZone".into(), json!(zone.name()));
        }
        if let Some(c) = self.conflict {
            let term = match c {
                ConflictStrategy::Perm => "perm",
                ConflictStrategy::Prohibit => "prohibit",
                ConflictStrategy::Invalid => "invalid",
            };
            o.insert("conflict".into(), json!(term));
        }
        if let Some(p) = &self.assigner {
            o.insert("assigner".into(), party_json(p));
        }
        if let Some(p) = &self.assignee {
            o.insert("assignee".into(), party_json(p));
        }
        if let Some(t) = &self.target {
            o.insert("target".into(), asset_json(t));
        }
        if let Some(a) = &self.action {
            o.insert("action".into(), action_term(a));
        }
        for (key, list) in [
            ("permission", &self.permissions),
            ("prohibition", &self.prohibitions),
            ("obligation", &self.obligations),
        ] {
            if !list.is_empty() {
                o.insert(
                    key.into(),
                    Value::Array(list.iter().map(rule_json).collect()),
                );
            }
        }
        Value::Object(o)
    }
}

impl Policy {
    /// The policy as the connector offers it on one resource, in the form DSP carries offers and agreements: only
    /// the rules that apply to that resource (no target, or exactly it), each with its own action and assignee and
    /// no target (DSP forbids rule targets: the offer's names the resource), and the policy-wide terms that change
    /// what the rules mean (`conflict`, `twinport:timeZone`, the label). Decided on for that resource, it means
    /// what the stored policy means; rules about other resources, or about collections the connector cannot
    /// place the resource in, are left out rather than shown to a partner as if they applied.
    pub fn offered_on(&self, resource: &str) -> Value {
        let applies = |r: &Rule| match r.target.as_ref().or(self.target.as_ref()) {
            None => true,
            Some(t) => !t.collection && t.uid == resource,
        };
        let atomic = |r: &Rule| -> Value {
            let mut r = r.clone();
            r.target = None;
            if r.action.is_none() {
                r.action = self.action.clone();
            }
            if r.assignee.is_none() {
                r.assignee = self.assignee.clone();
            }
            rule_json(&r)
        };
        let mut o = Map::new();
        if let Some(label) = &self.label {
            o.insert("rdfs:label".into(), json!(label));
        }
        if let Some(c) = self.conflict {
            let term = match c {
                ConflictStrategy::Perm => "perm",
                ConflictStrategy::Prohibit => "prohibit",
                ConflictStrategy::Invalid => "invalid",
            };
            o.insert("conflict".into(), json!(term));
        }
        if let Some(zone) = &self.time_zone {
            o.insert("twinport:timeZone".into(), json!(zone.name()));
        }
        for (key, list) in [
            ("permission", &self.permissions),
            ("prohibition", &self.prohibitions),
            ("obligation", &self.obligations),
        ] {
            let rules: Vec<Value> = list
                .iter()
                .filter(|r| key == "obligation" || applies(r))
                .map(atomic)
                .collect();
            if !rules.is_empty() {
                o.insert(key.into(), Value::Array(rules));
            }
        }
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_on_one_resource_keeps_what_decides_there() {
        let p = Policy::from_json(&json!({
            "rdfs:label": "bundle", "conflict": "prohibit", "twinport:timeZone": "Europe/Amsterdam",
            "action": "read",
            "permission": [
                {"target": "urn:a", "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 10}]},
                {"target": "urn:b"},
                {"action": "use"}
            ],
            "prohibition": [{"action": "distribute", "target": "urn:a"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.offered_on("urn:a"),
            json!({"rdfs:label": "bundle", "conflict": "prohibit", "twinport:timeZone": "Europe/Amsterdam",
                "permission": [
                    {"action": "read", "constraint": [{"leftOperand": "count", "operator": "lteq", "rightOperand": 10}]},
                    {"action": "use"}
                ],
                "prohibition": [{"action": "distribute"}]})
        );
        assert_eq!(
            p.offered_on("urn:b")["permission"],
            json!([{"action": "read"}, {"action": "use"}])
        );
        assert!(p.offered_on("urn:b").get("prohibition").is_none());
    }
}
