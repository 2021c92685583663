//! Constraints and refinements: atomic (`leftOperand operator rightOperand`) or logical (`and`, `or`, `xone`,
//! `andSequence`), never both, with every left operand and operator checked and right-operand values read as
//! the literals they are.

use serde_json::Value;

use super::json::{get, iri, items, join, node_id, parse_literal};
use super::keys::Place;
use super::operands::left_operand;
use super::{Reader, MAX_DEPTH};
use crate::error::PolicyError;
use crate::model::{
    normalise_term, renamed_twinport_left_operand, AtomicConstraint, Constraint, LeftOperand,
    Literal, LogicalConstraint, LogicalOperator, Operator, RightOperand,
};
use crate::spelling::{closest, hint};

impl Reader {
    pub(crate) fn constraints(
        &mut self,
        value: &Value,
        path: &str,
    ) -> Result<Vec<Constraint>, PolicyError> {
        let mut out = Vec::new();
        for (p, item) in items(value, path) {
            out.push(self.constraint(item, &p, 0)?);
        }
        Ok(out)
    }

    fn constraint(
        &mut self,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Constraint, PolicyError> {
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
        self.check_keys(obj, path, Place::Constraint);
        let logical: Vec<LogicalOperator> = LogicalOperator::ALL
            .into_iter()
            .filter(|op| get(obj, op.as_str()).is_some())
            .collect();
        let atomic = [
            "leftOperand",
            "operator",
            "rightOperand",
            "rightOperandReference",
        ]
        .iter()
        .any(|k| get(obj, k).is_some());
        if logical.len() > 1 || (!logical.is_empty() && atomic) {
            return Err(PolicyError::invalid(
                path,
                "a constraint is either atomic (leftOperand, operator, rightOperand) or logical (exactly one of and, or, xone, andSequence)",
            ));
        }
        if let Some(op) = logical.first().copied() {
            let p = join(path, op.as_str());
            let mut constraints = Vec::new();
            if let Some(v) = get(obj, op.as_str()) {
                for (ip, item) in items(v, &p) {
                    constraints.push(self.constraint(item, &ip, depth + 1)?);
                }
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
        let lo_path = join(path, "leftOperand");
        let left = get(obj, "leftOperand")
            .ok_or_else(|| PolicyError::invalid(path, "missing \"leftOperand\""))
            .and_then(|v| iri(v, &lo_path))?;
        let left_operand = match left_operand(&left) {
            Ok(lo) => {
                if let Some(current) = renamed_twinport_left_operand(&left) {
                    self.note(
                        &lo_path,
                        format!("{left:?} is the deprecated name of twinport:{current}; it is read the same, but write \"twinport:{current}\" instead"),
                    );
                }
                lo
            }
            Err(message) => {
                self.problem(&lo_path, message);
                LeftOperand::Other(left.clone())
            }
        };
        let op_path = join(path, "operator");
        let op_term = get(obj, "operator")
            .ok_or_else(|| PolicyError::invalid(path, "missing \"operator\""))
            .and_then(|v| iri(v, &op_path))?;
        let operator = match Operator::from_term(&op_term) {
            Some(o) => o,
            None => {
                let written = normalise_term(&op_term);
                let s = closest(written, Operator::ALL.iter().map(|o| o.as_str()));
                self.problem(&op_path, format!("unknown operator {written:?}{}", hint(s)));
                Operator::Eq
            }
        };
        let right_operand = if let Some(v) = get(obj, "rightOperand") {
            self.right_operand(v, &join(path, "rightOperand"))?
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
            left_operand,
            operator,
            right_operand,
            data_type: opt_iri("dataType")?,
            unit: opt_iri("unit")?,
            status: get(obj, "status").cloned(),
        }))
    }

    fn right_operand(&mut self, value: &Value, path: &str) -> Result<RightOperand, PolicyError> {
        match value {
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, v) in a.iter().enumerate() {
                    out.push(self.literal(v, &format!("{path}[{i}]"))?);
                }
                Ok(RightOperand::List(out))
            }
            Value::Object(o) if o.contains_key("@list") => match o.get("@list") {
                Some(Value::Array(a)) => {
                    let mut out = Vec::with_capacity(a.len());
                    for (i, v) in a.iter().enumerate() {
                        out.push(self.literal(v, &format!("{path}[{i}]"))?);
                    }
                    Ok(RightOperand::List(out))
                }
                _ => Err(PolicyError::invalid(path, "\"@list\" must be an array")),
            },
            v => Ok(RightOperand::Single(self.literal(v, path)?)),
        }
    }

    fn literal(&mut self, value: &Value, path: &str) -> Result<Literal, PolicyError> {
        if let Value::Object(o) = value {
            let allowed: &[&str] = if o.contains_key("@value") {
                &["@value", "@type", "@language"]
            } else if o.contains_key("@id") {
                &["@id"]
            } else {
                &["bbox", "polygon"]
            };
            for key in o.keys() {
                if !allowed.contains(&key.as_str()) {
                    let s = closest(key, allowed.iter().copied());
                    self.problem(
                        &join(path, key),
                        format!("unknown key {key:?} in a value{}", hint(s)),
                    );
                }
            }
        }
        parse_literal(value, path)
    }
}
