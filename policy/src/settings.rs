//! Engine settings: the semantic choices ODRL's sources disagree on (reference §1.10), made explicit. The
//! defaults follow the W3C CG formal-semantics draft and fail closed; the SolidLab suite is run with
//! `EngineSettings::solidlab()`.

use crate::model::ConflictStrategy;
use serde::{Deserialize, Serialize};

/// What happens when no rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum World {
    /// Not permitted ⇒ denied (default).
    #[default]
    Closed,
    /// Not prohibited ⇒ permitted.
    Open,
}

/// How several permissions that match the request combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PermissionCombination {
    /// One permitting permission suffices (ODRL; default).
    #[default]
    Any,
    /// Every permission matching the request's action and target must permit (EDC).
    All,
}

/// Settings of an [`crate::Engine`]. Serialises as
/// `{"world":"closed","dutyNotSetBlocks":true,"permissions":"any","conflict":"invalid","evaluateOffers":true,"regoTimeLimitMs":50,"timeZone":"UTC"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct EngineSettings {
    pub world: World,
    /// A duty that is active but not yet fulfilled blocks its permission (formal semantics, default `true`);
    /// `false` is the SolidLab reading where only a violated duty blocks.
    pub duty_not_set_blocks: bool,
    pub permissions: PermissionCombination,
    /// Conflict strategy when the policy declares none. A policy's own `conflict` always wins.
    pub conflict: ConflictStrategy,
    /// Evaluate `Offer` policies (the connector must, to filter the catalogue and negotiate); the formal
    /// semantics draft says an Offer grants nothing, which `false` reproduces.
    pub evaluate_offers: bool,
    /// Wall-clock limit for the Rego rules of one decision, in milliseconds.
    pub rego_time_limit_ms: u64,
    /// The time zone (IANA name) dates, `dayOfWeek` and `timeOfDay` are read in, unless a policy names its own.
    pub time_zone: String,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            world: World::Closed,
            duty_not_set_blocks: true,
            permissions: PermissionCombination::Any,
            conflict: ConflictStrategy::Invalid,
            evaluate_offers: true,
            rego_time_limit_ms: 50,
            time_zone: "UTC".into(),
        }
    }
}

impl EngineSettings {
    /// The W3C CG formal-semantics reading (the defaults).
    pub fn formal_semantics() -> Self {
        EngineSettings::default()
    }

    /// The SolidLab ODRL-Test-Suite reading: a duty blocks its permission only once violated.
    pub fn solidlab() -> Self {
        EngineSettings {
            duty_not_set_blocks: false,
            ..EngineSettings::default()
        }
    }
}
