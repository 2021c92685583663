//! Three-valued truth for conditions: a condition holds, fails, is not known *yet* in this scope (a purpose
//! while browsing the catalogue), or cannot be known at all (an unknown operand). Permissions may still apply on a
//! condition not known yet; prohibitions and duties bind on one that cannot be known, so nothing fails open.

use crate::model::LogicalOperator;
use crate::report::ConstraintReport;

/// A constraint's truth in three values, with the two ways of "unknown" kept apart: a value that is not known
/// yet in this scope (deferred, judged later) and one that cannot be known at all (indeterminate, fail closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Truth {
    True,
    False,
    Deferred,
    Indeterminate,
}

fn truth(c: &ConstraintReport) -> Truth {
    if c.satisfied {
        Truth::True
    } else if c.indeterminate {
        Truth::Indeterminate
    } else if c.deferred {
        Truth::Deferred
    } else {
        Truth::False
    }
}

/// Kleene's logic over the operands of a logical constraint; an unknown result is indeterminate if any unknown
/// operand is, so that a value that can never be known keeps failing closed.
pub(super) fn combine(op: LogicalOperator, operands: &[ConstraintReport]) -> Truth {
    let ts: Vec<Truth> = operands.iter().map(truth).collect();
    let unknown = || {
        if ts.contains(&Truth::Indeterminate) {
            Truth::Indeterminate
        } else {
            Truth::Deferred
        }
    };
    let trues = ts.iter().filter(|t| **t == Truth::True).count();
    let unknowns = ts
        .iter()
        .filter(|t| matches!(t, Truth::Deferred | Truth::Indeterminate))
        .count();
    match op {
        LogicalOperator::And | LogicalOperator::AndSequence => {
            if ts.is_empty() || ts.contains(&Truth::False) {
                Truth::False
            } else if unknowns == 0 {
                Truth::True
            } else {
                unknown()
            }
        }
        LogicalOperator::Or => {
            if trues > 0 {
                Truth::True
            } else if unknowns == 0 {
                Truth::False
            } else {
                unknown()
            }
        }
        LogicalOperator::Xone => {
            if trues > 1 {
                Truth::False
            } else if unknowns == 0 {
                if trues == 1 {
                    Truth::True
                } else {
                    Truth::False
                }
            } else {
                unknown()
            }
        }
    }
}

/// A permission's condition may still be met: satisfied, or not known yet in this scope.
pub(super) fn may_hold(c: &ConstraintReport) -> bool {
    c.satisfied || c.deferred
}

/// A prohibition's or duty's condition binds: satisfied, or impossible to know (fail closed). A condition that is
/// not known yet does not make a prohibition active: browsing the catalogue, nobody has declared a purpose.
pub(super) fn binds(c: &ConstraintReport) -> bool {
    c.satisfied || c.indeterminate
}
