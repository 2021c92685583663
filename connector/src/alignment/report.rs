//! What a check found, as the API answers it, the command prints it and the store keeps it.

use serde::{Deserialize, Serialize};

use super::request::ResourceRef;
use crate::align::{Finding, Verdict};

/// A resource as checked: which description (by digest) the verdict is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checked {
    #[serde(flatten)]
    pub resource: ResourceRef,
    pub title: Option<String>,
    /// SHA-256 of the RFC 8785 form of the description checked.
    pub digest: String,
}

/// One pairing: a model input with a dataset, or a visualisation asset with an output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pairing {
    /// The model input's name (absent for a visualisation check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The dataset (or output) that was checked against it.
    pub dataset: Checked,
    #[schema(value_type = String)]
    pub verdict: Verdict,
    /// One finding per dimension: schema, units, space, time (a visualisation check has space and time).
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
}

/// The answer to `POST /api/v1/alignment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlignmentReport {
    pub id: String,
    /// RFC 3339.
    pub checked_at: String,
    /// The worst verdict of all pairings: `aligned`, `convertible`, `unknown` or `misaligned`.
    #[schema(value_type = String)]
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Checked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visualisation: Option<Checked>,
    pub pairings: Vec<Pairing>,
    /// The model's required inputs no dataset was named for: the run is not fully checked while any remain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked_inputs: Vec<String>,
    /// Where the check is recorded in the audit log.
    pub audit_index: u64,
}

impl AlignmentReport {
    /// Whether a negotiation may rely on it: every required input checked and nothing misaligned or unknown.
    pub fn passes(&self) -> bool {
        self.unchecked_inputs.is_empty() && passes(self.verdict)
    }
}

/// Aligned or convertible: usable as it is or after a stated conversion.
pub fn passes(v: Verdict) -> bool {
    matches!(v, Verdict::Aligned | Verdict::Convertible)
}
