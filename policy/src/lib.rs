//! Twinport's usage-policy engine: the ODRL 2.2 model read from DSP's compact JSON-LD, an evaluator that explains
//! every decision in a compliance report, and local Rego rules evaluated in-process with `regorus`.
//!
//! Pure by design: no I/O, no async. The connector supplies the request context and stores the results.

pub mod clock;
pub mod context;
pub mod diff;
pub mod engine;
pub mod error;
pub mod explain;
pub mod json_text;
pub mod left_operands;
pub mod lint;
pub mod model;
pub mod operators;
mod parse;
pub mod purposes;
mod reasons;
pub mod regions;
pub mod rego;
pub mod report;
pub mod request;
mod serialize;
pub mod settings;
pub mod simulate;
pub mod spatial;
mod spelling;
pub mod testing;
pub mod value;
pub mod zone;

pub use context::{RequestContext, RequestedAction};
pub use engine::{Engine, Scope};
pub use error::PolicyError;
pub use explain::{explain, explain_in};
pub use model::{
    Action, Asset, AtomicConstraint, ConflictStrategy, Constraint, LeftOperand, Literal,
    LogicalConstraint, LogicalOperator, Operator, Party, Policy, PolicyKind, RightOperand, Rule,
    RuleKind,
};
pub use rego::RegoRules;
pub use report::{ComplianceReport, ConstraintReport, Decision, RegoReport, RuleReport, RuleState};
pub use settings::{EngineSettings, PermissionCombination, World};
