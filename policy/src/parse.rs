//! Reads a policy from the compact JSON-LD that DSP exchanges (2025-1 unprefixed terms), also accepting
//! `odrl:`-prefixed keys and full ODRL IRIs. Every error names the JSON path of the offending part, e.g.
//! `permission[0].constraint[1].operator: unknown operator "equals"`.
//!
//! Compact rules with several actions or targets are split into atomic rules here, as the ODRL model recommends,
//! so the engine only ever sees one action and one target per rule.

use crate::error::PolicyError;
use crate::model::{
    normalise_term, Action, Asset, AtomicConstraint, ConflictStrategy, Constraint, LeftOperand,
    Literal, LogicalConstraint, LogicalOperator, Operator, Party, Policy, PolicyKind, RightOperand,
    Rule, RuleKind, ODRL_NS,
};
use serde_json::{Map, Value};

type Obj = Map<String, Value>;

/// Looks a term up under its compact, `odrl:`-prefixed and full-IRI keys.
pub(crate) fn get<'a>(obj: &'a Obj, term: &str) -> Option<&'a Value> {
    obj.get(term)
        .or_else(|| obj.get(&format!("odrl:{term}")))
        .or_else(|| obj.get(&format!("{ODRL_NS}{term}")))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A JSON-LD value that may be a single item, an array, or an `@list`; items are returned with their paths.
fn items<'a>(value: &'a Value, path: &str) -> Vec<(String, &'a Value)> {
    match value {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{path}[{i}]"), v))
            .collect(),
        Value::Object(o) if o.contains_key("@list") => match o.get("@list") {
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{path}[{i}]"), v))
                .collect(),
            Some(v) => vec![(path.to_string(), v)],
            None => Vec::new(),
        },
        v => vec![(path.to_string(), v)],
    }
}

/// An IRI given as a plain string or as `{"@id": ...}`.
fn iri(value: &Value, path: &str) -> Result<String, PolicyError> {
    match value {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::Object(o) => match o.get("@id") {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(PolicyError::invalid(
                path,
                "expected an IRI string or {\"@id\": ...}",
            )),
        },
        _ => Err(PolicyError::invalid(
            path,
            "expected an IRI string or {\"@id\": ...}",
        )),
    }
}

fn node_id(obj: &Obj) -> Option<String> {
    obj.get("@id")
        .or_else(|| get(obj, "uid"))
        .and_then(|v| iri(v, "").ok())
}

fn type_of(obj: &Obj) -> Option<&str> {
    let t = obj.get("@type").or_else(|| obj.get("type"))?;
    match t {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().find_map(Value::as_str),
        _ => None,
    }
}

fn expect_object<'a>(value: &'a Value, path: &str, what: &str) -> Result<&'a Obj, PolicyError> {
    value
        .as_object()
        .ok_or_else(|| PolicyError::invalid(path, format!("expected {what} object")))
}

impl Policy {
    /// Reads a policy from compact DSP JSON-LD.
    pub fn from_json(value: &Value) -> Result<Policy, PolicyError> {
        parse_policy(value)
    }

    /// Reads a policy from JSON text.
    pub fn from_json_str(s: &str) -> Result<Policy, PolicyError> {
        let value: Value =
            serde_json::from_str(s).map_err(|e| PolicyError::Json(e.to_string().to_lowercase()))?;
        parse_policy(&value)
    }
}

fn parse_policy(value: &Value) -> Result<Policy, PolicyError> {
    let obj = expect_object(value, "", "a policy")?;
    let kind = match type_of(obj).map(normalise_term) {
        None | Some("Set") | Some("Policy") => PolicyKind::Set,
        Some("Offer") => PolicyKind::Offer,
        Some("Agreement") => PolicyKind::Agreement,
        Some(other) => {
            return Err(PolicyError::invalid(
                "@type",
                format!("unknown policy type {other:?} (expected Set, Offer or Agreement)"),
            ))
        }
    };
    let conflict = match get(obj, "conflict") {
        None => None,
        Some(v) => {
            let t = iri(v, "conflict")?;
            Some(match normalise_term(&t) {
                "perm" => ConflictStrategy::Perm,
                "prohibit" => ConflictStrategy::Prohibit,
                "invalid" => ConflictStrategy::Invalid,
                other => {
                    return Err(PolicyError::invalid(
                        "conflict",
                        format!(
                        "unknown conflict strategy {other:?} (expected perm, prohibit or invalid)"
                    ),
                    ))
                }
            })
        }
    };
    let mut profile = Vec::new();
    if let Some(v) = get(obj, "profile") {
        for (p, item) in items(v, "profile") {
            profile.push(iri(item, &p)?);
        }
    }
    let single_party = |key: &str| -> Result<Option<Party>, PolicyError> {
        match get(obj, key) {
            None => Ok(None),
            Some(v) => {
                let mut all = parse_parties(v, key)?;
                if all.len() > 1 {
                    return Err(PolicyError::invalid(
                        key,
                        "a policy-level party must be a single value",
                    ));
                }
                Ok(all.pop())
            }
        }
    };
    let assigner = single_party("assigner")?;
    let assignee = single_party("assignee")?;
    let target = match get(obj, "target") {
        None => None,
        Some(v) => {
            let mut all = parse_assets(v, "target")?;
            if all.len() > 1 {
                return Err(PolicyError::invalid(
                    "target",
                    "a policy-level target must be a single value",
                ));
            }
            all.pop()
        }
    };
    let action = match get(obj, "action") {
        None => None,
        Some(v) => {
            let mut all = parse_actions(v, "action")?;
            if all.len() > 1 {
                return Err(PolicyError::invalid(
                    "action",
                    "a policy-level action must be a single value",
                ));
            }
            all.pop()
        }
    };
    let rules = |key: &str, kind: RuleKind| -> Result<Vec<Rule>, PolicyError> {
        match get(obj, key) {
            None => Ok(Vec::new()),
            Some(v) => parse_rules(v, key, kind),
        }
    };
    Ok(Policy {
        uid: node_id(obj),
        kind,
        profile,
        conflict,
        assigner,
        assignee,
        target,
        action,
        permissions: rules("permission", RuleKind::Permission)?,
        prohibitions: rules("prohibition", RuleKind::Prohibition)?,
        obligations: rules("obligation", RuleKind::Obligation)?,
    })
}

fn parse_rules(value: &Value, path: &str, kind: RuleKind) -> Result<Vec<Rule>, PolicyError> {
    let mut out = Vec::new();
    for (p, item) in items(value, path) {
        out.extend(parse_rule(item, &p, kind)?);
    }
    Ok(out)
}

fn parse_rule(value: &Value, path: &str, kind: RuleKind) -> Result<Vec<Rule>, PolicyError> {
    let obj = expect_object(value, path, "a rule")?;
    let actions: Vec<Option<Action>> = match get(obj, "action") {
        None => vec![None],
        Some(v) => {
            let a = parse_actions(v, &join(path, "action"))?;
            if a.is_empty() {
                return Err(PolicyError::invalid(
                    &join(path, "action"),
                    "empty action list",
                ));
            }
            a.into_iter().map(Some).collect()
        }
    };
    let targets: Vec<Option<Asset>> = match get(obj, "target") {
        None => vec![None],
        Some(v) => {
            let t = parse_assets(v, &join(path, "target"))?;
            if t.is_empty() {
                return Err(PolicyError::invalid(
                    &join(path, "target"),
                    "empty target list",
                ));
            }
            t.into_iter().map(Some).collect()
        }
    };
    let party = |key: &str| -> Result<Option<Party>, PolicyError> {
        match get(obj, key) {
            None => Ok(None),
            Some(v) => {
                let mut all = parse_parties(v, &join(path, key))?;
                if all.len() > 1 {
                    return Err(PolicyError::invalid(
                        &join(path, key),
                        "several parties in one rule are not supported; use a PartyCollection",
                    ));
                }
                Ok(all.pop())
            }
        }
    };
    let assigner = party("assigner")?;
    let assignee = party("assignee")?;
    let constraints = match get(obj, "constraint") {
        None => Vec::new(),
        Some(v) => parse_constraints(v, &join(path, "constraint"))?,
    };
    let sub = |key: &str| -> Result<Vec<Rule>, PolicyError> {
        match get(obj, key) {
            None => Ok(Vec::new()),
            Some(v) => parse_rules(v, &join(path, key), RuleKind::Duty),
        }
    };
    let duties = sub("duty")?;
    let consequences = sub("consequence")?;
    let remedies = sub("remedy")?;
    if kind == RuleKind::Duty && !duties.is_empty() {
        return Err(PolicyError::invalid(
            &join(path, "duty"),
            "a duty cannot have duties of its own",
        ));
    }
    let uid = node_id(obj);
    let mut out = Vec::with_capacity(actions.len() * targets.len());
    for action in &actions {
        for target in &targets {
            out.push(Rule {
                uid: uid.clone(),
                kind,
                action: action.clone(),
                target: target.clone(),
                assigner: assigner.clone(),
                assignee: assignee.clone(),
                constraints: constraints.clone(),
                duties: duties.clone(),
                consequences: consequences.clone(),
                remedies: remedies.clone(),
            });
        }
    }
    Ok(out)
}

fn parse_actions(value: &Value, path: &str) -> Result<Vec<Action>, PolicyError> {
    let mut out = Vec::new();
    for (p, item) in items(value, path) {
        out.push(parse_action(item, &p)?);
    }
    Ok(out)
}

fn parse_action(value: &Value, path: &str) -> Result<Action, PolicyError> {
    match value {
        Value::String(s) if !s.is_empty() => Ok(Action {
            name: normalise_term(s).to_string(),
            uid: None,
            refinements: Vec::new(),
        }),
        Value::Object(o) => {
            // `rdf:value` carries the action class when the node itself has an `@id` of its own (ODRL JSON-LD).
            let explicit = o
                .get("rdf:value")
                .or_else(|| o.get("value"))
                .or_else(|| o.get("http://www.w3.org/1999/02/22-rdf-syntax-ns#value"))
                .or_else(|| get(o, "action"));
            let (name, uid) = match explicit {
                Some(v) => (iri(v, &join(path, "rdf:value"))?, node_id(o)),
                None => (iri(value, path)?, None),
            };
            let refinements = match get(o, "refinement") {
                None => Vec::new(),
                Some(v) => parse_constraints(v, &join(path, "refinement"))?,
            };
            Ok(Action {
                name: normalise_term(&name).to_string(),
                uid,
                refinements,
            })
        }
        _ => Err(PolicyError::invalid(
            path,
            "expected an action name or an action object",
        )),
    }
}

/// Reads a party or asset: a plain IRI, or a (refined) collection `{"@type": "...Collection", "source": ...}`.
fn parse_collection_member(
    value: &Value,
    path: &str,
    collection_type: &str,
) -> Result<(String, bool, Vec<Constraint>), PolicyError> {
    match value {
        Value::Object(o) => {
            let is_collection = type_of(o).map(normalise_term) == Some(collection_type)
                || get(o, "source").is_some()
                || get(o, "refinement").is_some();
            let uid = match get(o, "source") {
                Some(v) => iri(v, &join(path, "source"))?,
                None => node_id(o)
                    .ok_or_else(|| PolicyError::invalid(path, "missing \"@id\" or \"source\""))?,
            };
            let refinements = match get(o, "refinement") {
                None => Vec::new(),
                Some(v) => parse_constraints(v, &join(path, "refinement"))?,
            };
            Ok((uid, is_collection, refinements))
        }
        v => Ok((iri(v, path)?, false, Vec::new())),
    }
}

fn parse_parties(value: &Value, path: &str) -> Result<Vec<Party>, PolicyError> {
    let mut out = Vec::new();
    for (p, item) in items(value, path) {
        let (uid, collection, refinements) = parse_collection_member(item, &p, "PartyCollection")?;
        out.push(Party {
            uid,
            collection,
            refinements,
        });
    }
    Ok(out)
}

fn parse_assets(value: &Value, path: &str) -> Result<Vec<Asset>, PolicyError> {
    let mut out = Vec::new();
    for (p, item) in items(value, path) {
        let (uid, collection, refinements) = parse_collection_member(item, &p, "AssetCollection")?;
        out.push(Asset {
            uid,
            collection,
            refinements,
        });
    }
    Ok(out)
}

pub(crate) fn parse_constraints(value: &Value, path: &str) -> Result<Vec<Constraint>, PolicyError> {
    let mut out = Vec::new();
    for (p, item) in items(value, path) {
        out.push(parse_constraint(item, &p, 0)?);
    }
    Ok(out)
}

/// Deeper nesting than this is certainly a mistake (or an attack) and would risk the stack.
const MAX_DEPTH: usize = 32;

fn parse_constraint(value: &Value, path: &str, depth: usize) -> Result<Constraint, PolicyError> {
    if depth > MAX_DEPTH {
        return Err(PolicyError::invalid(
            path,
            "logical constraints nested too deeply",
        ));
    }
    let obj = match value {
        Value::Object(o) => o,
        Value::String(_) => {
            return Err(PolicyError::invalid(
                path,
                "constraint given by reference; the constraint must be written inline",
            ))
        }
        _ => return Err(PolicyError::invalid(path, "expected a constraint object")),
    };
    for op in LogicalOperator::ALL {
        if let Some(v) = get(obj, op.as_str()) {
            let p = join(path, op.as_str());
            let mut constraints = Vec::new();
            for (ip, item) in items(v, &p) {
                constraints.push(parse_constraint(item, &ip, depth + 1)?);
            }
            if constraints.is_empty() {
                return Err(PolicyError::invalid(
                    &p,
                    "a logical constraint needs at least one operand",
                ));
            }
            return Ok(Constraint::Logical(LogicalConstraint {
                uid: node_id(obj),
                operator: op,
                constraints,
            }));
        }
    }
    let left = get(obj, "leftOperand")
        .ok_or_else(|| PolicyError::invalid(path, "missing \"leftOperand\""))
        .and_then(|v| iri(v, &join(path, "leftOperand")))?;
    let op_path = join(path, "operator");
    let op_term = get(obj, "operator")
        .ok_or_else(|| PolicyError::invalid(path, "missing \"operator\""))
        .and_then(|v| iri(v, &op_path))?;
    let operator = Operator::from_term(&op_term).ok_or_else(|| {
        PolicyError::invalid(
            &op_path,
            format!("unknown operator {:?}", normalise_term(&op_term)),
        )
    })?;
    let right_operand = if let Some(v) = get(obj, "rightOperand") {
        parse_right_operand(v, &join(path, "rightOperand"))?
    } else if let Some(v) = get(obj, "rightOperandReference") {
        RightOperand::Reference(iri(v, &join(path, "rightOperandReference"))?)
    } else {
        return Err(PolicyError::invalid(path, "missing \"rightOperand\""));
    };
    let opt_iri = |key: &str| -> Result<Option<String>, PolicyError> {
        get(obj, key).map(|v| iri(v, &join(path, key))).transpose()
    };
    Ok(Constraint::Atomic(AtomicConstraint {
        uid: node_id(obj),
        left_operand: LeftOperand::from_term(&left),
        operator,
        right_operand,
        data_type: opt_iri("dataType")?,
        unit: opt_iri("unit")?,
        status: get(obj, "status").cloned(),
    }))
}

fn parse_right_operand(value: &Value, path: &str) -> Result<RightOperand, PolicyError> {
    match value {
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for (i, v) in a.iter().enumerate() {
                out.push(parse_literal(v, &format!("{path}[{i}]"))?);
            }
            Ok(RightOperand::List(out))
        }
        Value::Object(o) if o.contains_key("@list") => match o.get("@list") {
            Some(Value::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, v) in a.iter().enumerate() {
                    out.push(parse_literal(v, &format!("{path}[{i}]"))?);
                }
                Ok(RightOperand::List(out))
            }
            _ => Err(PolicyError::invalid(path, "\"@list\" must be an array")),
        },
        v => Ok(RightOperand::Single(parse_literal(v, path)?)),
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn parse_literal(value: &Value, path: &str) -> Result<Literal, PolicyError> {
    match value {
        Value::String(s) => Ok(Literal::String(s.clone())),
        Value::Number(n) => Ok(Literal::Number(n.clone())),
        Value::Bool(b) => Ok(Literal::Bool(*b)),
        Value::Null => Err(PolicyError::invalid(path, "right operand must not be null")),
        Value::Array(_) => Err(PolicyError::invalid(
            path,
            "nested lists are not allowed in a right operand",
        )),
        Value::Object(o) => {
            if let Some(v) = o.get("@value") {
                let datatype = o.get("@type").and_then(Value::as_str);
                if datatype == Some("@json") {
                    return Ok(Literal::Json(v.clone()));
                }
                let text = scalar_text(v).ok_or_else(|| {
                    PolicyError::invalid(
                        &join(path, "@value"),
                        "expected a string, number or boolean",
                    )
                })?;
                return Ok(match datatype {
                    Some(dt) => Literal::Typed {
                        value: text,
                        datatype: dt.to_string(),
                    },
                    None => match v {
                        Value::Number(n) => Literal::Number(n.clone()),
                        Value::Bool(b) => Literal::Bool(*b),
                        _ => Literal::String(text),
                    },
                });
            }
            if let Some(id) = o.get("@id") {
                return match id {
                    Value::String(s) if !s.is_empty() => Ok(Literal::Iri(s.clone())),
                    _ => Err(PolicyError::invalid(
                        &join(path, "@id"),
                        "expected an IRI string",
                    )),
                };
            }
            if o.contains_key("bbox") || o.contains_key("polygon") {
                return Ok(Literal::Json(value.clone()));
            }
            Err(PolicyError::invalid(
                path,
                "expected a value, {\"@value\": ...}, {\"@id\": ...} or a geometry",
            ))
        }
    }
}
