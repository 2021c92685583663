//! The request context: everything the connector knows about a request when it asks for a decision (time,
//! action, resource, counterparty and its attested claims, purpose, location, usage so far, agreement, events,
//! payments, duty states). Every field is optional; a constraint whose value is missing is unsatisfied and says so.
//! The JSON shape is documented field by field in `docs/policy-context.md`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The resource a request is about (a MIM8 catalogue entry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceContext {
    /// Asset id, compared with a rule's `target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `dataset`, `model-or-service`, `workflow-template`, `visualisation-asset` or `published-output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `raw`, `workflow-ready`, `model-input` or `model-output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Asset collections the resource belongs to (matched against `AssetCollection` targets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_of: Vec<String>,
}

/// The party asking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CounterpartyContext {
    /// Participant id, compared with a rule's `assignee`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Verified claims (from the partner's credentials), e.g. `{"membership": "partner-city", "region": "NL-NH"}`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
    /// Party collections the counterparty belongs to (matched against `PartyCollection` assignees).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_of: Vec<String>,
}

/// Where the action happens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationContext {
    /// ISO 3166-1/3166-2 code such as `NL` or `NL-NH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// Usage so far under the agreement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsageContext {
    /// Accesses already made before this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// The agreement the request runs under.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgreementContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// RFC 3339 time the agreement was concluded; the origin of `elapsedTime` and `delayPeriod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
}

/// Where the request is relative to a named event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventPhase {
    Before,
    During,
    After,
}

/// The deontic state of a duty as the connector has recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DutyState {
    Fulfilled,
    Violated,
    NotSet,
}

/// A payment made by the counterparty (used by `payAmount` and `compensate` duties).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentContext {
    pub amount: f64,
    /// ISO 4217 code (`EUR`) or an IRI; compared with a constraint's `unit` when both are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// The action a request asks for: one, or several of which any one will do ("could the partner obtain any
/// permission of this offer?"). Serialises as a string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestedAction {
    One(String),
    AnyOf(Vec<String>),
}

impl RequestedAction {
    /// The actions asked for, in order.
    pub fn names(&self) -> Vec<&str> {
        match self {
            RequestedAction::One(a) => vec![a.as_str()],
            RequestedAction::AnyOf(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl From<&str> for RequestedAction {
    fn from(a: &str) -> Self {
        RequestedAction::One(a.to_string())
    }
}

/// Everything the engine may consult for one decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestContext {
    /// RFC 3339 time of the request (the value of `dateTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Requested action, e.g. `read`, `use`, `odrl:distribute`, or a list of which any one will do. Absent: the
    /// actions the policy's permissions grant, any one of which will do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<RequestedAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterparty: Option<CounterpartyContext>,
    /// Declared purpose, e.g. `research` or a DPV IRI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Party that receives the result when it differs from the counterparty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<AgreementContext>,
    /// Events and where the request stands relative to each (`before`/`during`/`after`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub events: BTreeMap<String, EventPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentContext>,
    /// Recorded duty states, keyed by duty `@id` or by duty action name (`attribute`, `delete`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub duties: BTreeMap<String, DutyState>,
    /// Class memberships for `isA`: value → classes it is an instance of.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, Vec<String>>,
    /// Values for left operands the engine has no native meaning for, keyed by the left operand as written.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub parameters: Map<String, Value>,
}

impl RequestContext {
    /// Reads a context from JSON text (error messages are lowercase).
    pub fn from_json_str(s: &str) -> Result<RequestContext, crate::PolicyError> {
        serde_json::from_str(s).map_err(|e| crate::PolicyError::Json(e.to_string().to_lowercase()))
    }
}
