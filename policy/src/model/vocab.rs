//! Vocabulary: the ODRL namespace, the action hierarchy (`includedIn`), the operators and the left operands the
//! engine knows, including Twinport's own terms for MIM8 resource kinds/stages and counterparty claims.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const ODRL_NS: &str = "http://www.w3.org/ns/odrl/2/";
/// Twinport's Local-Digital-Twin vocabulary (`twinport:` prefix).
pub const TWINPORT_NS: &str = "https://w3id.org/twinport/ldt#";
/// Prefix of left operands that address a counterparty claim (`claim:` short prefix).
pub const TWINPORT_CLAIM_NS: &str = "https://w3id.org/twinport/policy/claim/";

/// Strips the ODRL namespace (full IRI or `odrl:` prefix) so `odrl:read` and `http://www.w3.org/ns/odrl/2/read`
/// both become `read`; other IRIs are returned unchanged.
pub fn normalise_term(term: &str) -> &str {
    term.strip_prefix(ODRL_NS)
        .or_else(|| term.strip_prefix("odrl:"))
        .unwrap_or(term)
}

/// ODRL 2.2 actions (core and common vocabulary). Any other plain word is a typo; an IRI from another vocabulary
/// is allowed (and matches only requests for exactly that action).
pub const ODRL_ACTIONS: &[&str] = &[
    "use",
    "transfer",
    "acceptTracking",
    "aggregate",
    "annotate",
    "anonymize",
    "archive",
    "attribute",
    "compensate",
    "concurrentUse",
    "delete",
    "derive",
    "digitize",
    "display",
    "distribute",
    "ensureExclusivity",
    "execute",
    "extract",
    "give",
    "grantUse",
    "include",
    "index",
    "inform",
    "install",
    "lease",
    "lend",
    "modify",
    "move",
    "nextPolicy",
    "obtainConsent",
    "play",
    "present",
    "print",
    "read",
    "reproduce",
    "reviewPolicy",
    "sell",
    "stream",
    "synchronize",
    "textToSpeech",
    "transform",
    "translate",
    "uninstall",
    "watermark",
    "write",
];

/// ODRL 2.2's left operands. Those without a native meaning in Twinport are still valid ODRL: they take their
/// value from the request context's `parameters`, and the linter says that the connector never supplies one.
pub const ODRL_LEFT_OPERANDS: &[&str] = &[
    "absolutePosition",
    "absoluteSize",
    "absoluteSpatialPosition",
    "absoluteTemporalPosition",
    "count",
    "dateTime",
    "delayPeriod",
    "deliveryChannel",
    "device",
    "elapsedTime",
    "event",
    "fileFormat",
    "industry",
    "language",
    "media",
    "meteredTime",
    "payAmount",
    "percentage",
    "product",
    "purpose",
    "recipient",
    "relativePosition",
    "relativeSize",
    "relativeSpatialPosition",
    "relativeTemporalPosition",
    "resolution",
    "spatial",
    "spatialCoordinates",
    "system",
    "systemDevice",
    "timeInterval",
    "unitOfCount",
    "version",
    "virtualLocation",
];

/// Twinport's own left operands, written `twinport:NAME` or with the full namespace.
pub const TWINPORT_LEFT_OPERANDS: &[&str] = &["resourceKind", "stage", "dayOfWeek", "timeOfDay"];

/// Twinport left operands that were renamed, as (old name, current name). The old name is still read, as the very
/// same operand, so stored policies and signed agreements keep their meaning; the linter asks for the current one.
pub const RENAMED_TWINPORT_LEFT_OPERANDS: &[(&str, &str)] = &[("resourceStage", "stage")];

/// The current name of a Twinport left operand written under a deprecated one (`twinport:resourceStage` or
/// `https://w3id.org/twinport/ldt#resourceStage` gives `stage`); `None` for any other term.
pub fn renamed_twinport_left_operand(term: &str) -> Option<&'static str> {
    let local = term
        .strip_prefix(TWINPORT_NS)
        .or_else(|| term.strip_prefix("twinport:"))?;
    current_twinport_name(local)
}

/// The current name for a deprecated Twinport local name (`resourceStage` gives `stage`).
fn current_twinport_name(local: &str) -> Option<&'static str> {
    RENAMED_TWINPORT_LEFT_OPERANDS
        .iter()
        .find(|(old, _)| *old == local)
        .map(|(_, new)| *new)
}

/// Whether a plain word is an ODRL action.
pub fn is_odrl_action(name: &str) -> bool {
    ODRL_ACTIONS.contains(&name)
}

/// The parent of an action in ODRL 2.2's `includedIn` hierarchy (ODRL22.ttl), for the actions a city needs.
fn parent(action: &str) -> Option<&'static str> {
    Some(match action {
        "use" | "transfer" => return None,
        "sell" | "give" | "lease" | "lend" => "transfer",
        "write" => "modify",
        "play" | "display" | "print" => "present",
        "present" | "read" | "modify" | "distribute" | "reproduce" | "delete" | "anonymize"
        | "compensate" | "attribute" | "derive" | "digitize" | "execute" | "extract"
        | "grantUse" | "index" | "inform" | "install" | "move" | "obtainConsent" | "archive"
        | "aggregate" | "annotate" | "concurrentUse" | "ensureExclusivity" | "include"
        | "textToSpeech" | "transform" | "translate" | "uninstall" | "watermark" | "nextPolicy"
        | "reviewPolicy" | "stream" | "synchronize" | "acceptTracking" => "use",
        _ => return None,
    })
}

/// True when `requested` is `rule_action` or (transitively) included in it; `write` is ODRL's deprecated alias of
/// `modify`, so `modify` covers it.
pub fn action_includes(rule_action: &str, requested: &str) -> bool {
    let mut current = Some(requested);
    let mut depth = 0;
    while let Some(a) = current {
        if a == rule_action {
            return true;
        }
        depth += 1;
        if depth > 8 {
            return false;
        }
        current = parent(a);
    }
    false
}

/// ODRL operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    #[serde(rename = "eq")]
    Eq,
    #[serde(rename = "neq")]
    Neq,
    #[serde(rename = "lt")]
    Lt,
    #[serde(rename = "lteq")]
    Lteq,
    #[serde(rename = "gt")]
    Gt,
    #[serde(rename = "gteq")]
    Gteq,
    #[serde(rename = "isA")]
    IsA,
    #[serde(rename = "hasPart")]
    HasPart,
    #[serde(rename = "isPartOf")]
    IsPartOf,
    #[serde(rename = "isAllOf")]
    IsAllOf,
    #[serde(rename = "isAnyOf")]
    IsAnyOf,
    #[serde(rename = "isNoneOf")]
    IsNoneOf,
}

impl Operator {
    pub const ALL: [Operator; 12] = [
        Operator::Eq,
        Operator::Neq,
        Operator::Lt,
        Operator::Lteq,
        Operator::Gt,
        Operator::Gteq,
        Operator::IsA,
        Operator::HasPart,
        Operator::IsPartOf,
        Operator::IsAllOf,
        Operator::IsAnyOf,
        Operator::IsNoneOf,
    ];

    pub fn from_term(term: &str) -> Option<Operator> {
        let t = normalise_term(term);
        Operator::ALL.into_iter().find(|o| o.as_str() == t)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::Neq => "neq",
            Operator::Lt => "lt",
            Operator::Lteq => "lteq",
            Operator::Gt => "gt",
            Operator::Gteq => "gteq",
            Operator::IsA => "isA",
            Operator::HasPart => "hasPart",
            Operator::IsPartOf => "isPartOf",
            Operator::IsAllOf => "isAllOf",
            Operator::IsAnyOf => "isAnyOf",
            Operator::IsNoneOf => "isNoneOf",
        }
    }

    /// Set-based operators take a list (or a single value treated as a one-element list).
    pub fn is_set_based(self) -> bool {
        matches!(
            self,
            Operator::IsA
                | Operator::HasPart
                | Operator::IsPartOf
                | Operator::IsAllOf
                | Operator::IsAnyOf
                | Operator::IsNoneOf
        )
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Operands of a logical constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogicalOperator {
    #[serde(rename = "and")]
    And,
    #[serde(rename = "or")]
    Or,
    #[serde(rename = "xone")]
    Xone,
    #[serde(rename = "andSequence")]
    AndSequence,
}

impl LogicalOperator {
    pub const ALL: [LogicalOperator; 4] = [
        LogicalOperator::And,
        LogicalOperator::Or,
        LogicalOperator::Xone,
        LogicalOperator::AndSequence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogicalOperator::And => "and",
            LogicalOperator::Or => "or",
            LogicalOperator::Xone => "xone",
            LogicalOperator::AndSequence => "andSequence",
        }
    }
}

/// The left operands the engine evaluates from the request context; anything else is `Other` and evaluates only
/// when the context supplies a value under `parameters` (otherwise: "unknown left operand").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LeftOperand {
    DateTime,
    ElapsedTime,
    DelayPeriod,
    Purpose,
    Recipient,
    Spatial,
    Count,
    Event,
    Industry,
    PayAmount,
    ResourceKind,
    /// The MIM8 stage of the resource (`twinport:stage`; the deprecated `twinport:resourceStage` is read as it).
    ResourceStage,
    /// Day of the week of the request time in the policy time zone (`twinport:dayOfWeek`): "Monday" … "Sunday".
    DayOfWeek,
    /// Wall-clock time of the request in the policy time zone (`twinport:timeOfDay`), e.g. "08:00".
    TimeOfDay,
    /// A counterparty claim, by name (dots address nested claims).
    Claim(String),
    /// Not evaluated natively; the term as written.
    Other(String),
}

impl LeftOperand {
    pub fn from_term(term: &str) -> LeftOperand {
        if let Some(name) = term
            .strip_prefix(TWINPORT_CLAIM_NS)
            .or_else(|| term.strip_prefix("claim:"))
            .or_else(|| term.strip_prefix("twinport:claim/"))
        {
            return LeftOperand::Claim(name.to_string());
        }
        let tw = term
            .strip_prefix(TWINPORT_NS)
            .or_else(|| term.strip_prefix("twinport:"));
        if let Some(t) = tw {
            // A deprecated name (`resourceStage`) is read as the operand it was renamed to.
            return match current_twinport_name(t).unwrap_or(t) {
                "resourceKind" => LeftOperand::ResourceKind,
                "stage" => LeftOperand::ResourceStage,
                "dayOfWeek" => LeftOperand::DayOfWeek,
                "timeOfDay" => LeftOperand::TimeOfDay,
                _ => LeftOperand::Other(term.to_string()),
            };
        }
        match normalise_term(term) {
            "dateTime" => LeftOperand::DateTime,
            "elapsedTime" => LeftOperand::ElapsedTime,
            "delayPeriod" => LeftOperand::DelayPeriod,
            "purpose" => LeftOperand::Purpose,
            "recipient" => LeftOperand::Recipient,
            "spatial" => LeftOperand::Spatial,
            "count" => LeftOperand::Count,
            "event" => LeftOperand::Event,
            "industry" => LeftOperand::Industry,
            "payAmount" => LeftOperand::PayAmount,
            _ => LeftOperand::Other(term.to_string()),
        }
    }

    /// The compact term written back to JSON.
    pub fn as_term(&self) -> String {
        match self {
            LeftOperand::DateTime => "dateTime".into(),
            LeftOperand::ElapsedTime => "elapsedTime".into(),
            LeftOperand::DelayPeriod => "delayPeriod".into(),
            LeftOperand::Purpose => "purpose".into(),
            LeftOperand::Recipient => "recipient".into(),
            LeftOperand::Spatial => "spatial".into(),
            LeftOperand::Count => "count".into(),
            LeftOperand::Event => "event".into(),
            LeftOperand::Industry => "industry".into(),
            LeftOperand::PayAmount => "payAmount".into(),
            LeftOperand::ResourceKind => format!("{TWINPORT_NS}resourceKind"),
            LeftOperand::ResourceStage => format!("{TWINPORT_NS}stage"),
            LeftOperand::DayOfWeek => format!("{TWINPORT_NS}dayOfWeek"),
            LeftOperand::TimeOfDay => format!("{TWINPORT_NS}timeOfDay"),
            LeftOperand::Claim(name) => format!("{TWINPORT_CLAIM_NS}{name}"),
            LeftOperand::Other(t) => t.clone(),
        }
    }

    /// True when a constraint on the operand may be satisfied at one time and not at another with everything else
    /// the same: the clock's own operands, the time since the agreement, and region codes (which regions belong to
    /// a group such as the EU is judged on the request's day). Listed without a catch-all, so a new operand must
    /// say whether it reads the clock; a decision none of whose operands does can be kept until its inputs change.
    pub fn reads_clock(&self) -> bool {
        match self {
            LeftOperand::DateTime
            | LeftOperand::ElapsedTime
            | LeftOperand::DelayPeriod
            | LeftOperand::DayOfWeek
            | LeftOperand::TimeOfDay => true,
            LeftOperand::Spatial | LeftOperand::Claim(_) => self.compares_regions(),
            LeftOperand::Purpose
            | LeftOperand::Recipient
            | LeftOperand::Count
            | LeftOperand::Event
            | LeftOperand::Industry
            | LeftOperand::PayAmount
            | LeftOperand::ResourceKind
            | LeftOperand::ResourceStage
            | LeftOperand::Other(_) => false,
        }
    }

    /// True when the operand compares region codes: `spatial`, or a partner claim named `region`
    /// (`claim:region`, `claim:address.region`).
    pub fn compares_regions(&self) -> bool {
        match self {
            LeftOperand::Spatial => true,
            LeftOperand::Claim(name) => name == "region" || name.ends_with(".region"),
            _ => false,
        }
    }

    /// True when the engine has a native meaning for the operand.
    pub fn is_known(&self) -> bool {
        !matches!(self, LeftOperand::Other(_))
    }
}

impl fmt::Display for LeftOperand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_term())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_hierarchy_follows_included_in() {
        assert!(action_includes("use", "read"));
        assert!(action_includes("use", "write"));
        assert!(action_includes("modify", "write"));
        assert!(action_includes("use", "play"));
        assert!(!action_includes("use", "sell"));
        assert!(action_includes("transfer", "sell"));
        assert!(!action_includes("read", "use"));
    }

    #[test]
    fn left_operand_terms_normalise() {
        assert_eq!(
            LeftOperand::from_term("odrl:dateTime"),
            LeftOperand::DateTime
        );
        assert_eq!(
            LeftOperand::from_term("http://www.w3.org/ns/odrl/2/purpose"),
            LeftOperand::Purpose
        );
        assert_eq!(
            LeftOperand::from_term("twinport:resourceKind"),
            LeftOperand::ResourceKind
        );
        assert_eq!(
            LeftOperand::from_term("https://w3id.org/twinport/policy/claim/membership"),
            LeftOperand::Claim("membership".into())
        );
        assert_eq!(
            LeftOperand::from_term("claim:region"),
            LeftOperand::Claim("region".into())
        );
        assert_eq!(
            LeftOperand::from_term("ex:foo"),
            LeftOperand::Other("ex:foo".into())
        );
        for lo in [
            LeftOperand::ResourceStage,
            LeftOperand::TimeOfDay,
            LeftOperand::Claim("x".into()),
            LeftOperand::Count,
        ] {
            assert_eq!(LeftOperand::from_term(&lo.as_term()), lo);
        }
    }

    #[test]
    fn the_stage_is_twinport_stage_and_resource_stage_is_its_deprecated_alias() {
        for term in [
            "twinport:stage",
            "https://w3id.org/twinport/ldt#stage",
            "twinport:resourceStage",
            "https://w3id.org/twinport/ldt#resourceStage",
        ] {
            assert_eq!(
                LeftOperand::from_term(term),
                LeftOperand::ResourceStage,
                "{term}"
            );
        }
        assert_eq!(
            LeftOperand::ResourceStage.as_term(),
            "https://w3id.org/twinport/ldt#stage"
        );
        assert_eq!(
            renamed_twinport_left_operand("twinport:resourceStage"),
            Some("stage")
        );
        assert_eq!(
            renamed_twinport_left_operand("https://w3id.org/twinport/ldt#resourceStage"),
            Some("stage")
        );
        assert_eq!(renamed_twinport_left_operand("twinport:stage"), None);
        assert_eq!(renamed_twinport_left_operand("resourceStage"), None);
        assert!(TWINPORT_LEFT_OPERANDS.contains(&"stage"));
        assert!(!TWINPORT_LEFT_OPERANDS.contains(&"resourceStage"));
    }
}
