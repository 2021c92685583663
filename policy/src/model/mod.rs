//! The ODRL 2.2 information model as Twinport holds it in memory: policies, rules, actions, parties, assets and
//! constraints. Terms are normalised when read (ODRL IRIs become their short names) so that evaluation compares
//! plain strings; everything else about the document is kept so that `Policy::to_json` round-trips.

mod vocab;

pub use vocab::{
    action_includes, is_odrl_action, normalise_term, renamed_twinport_left_operand, LeftOperand,
    LogicalOperator, Operator, ODRL_ACTIONS, ODRL_LEFT_OPERANDS, ODRL_NS,
    RENAMED_TWINPORT_LEFT_OPERANDS, TWINPORT_CLAIM_NS, TWINPORT_LEFT_OPERANDS, TWINPORT_NS,
};

use serde::{Deserialize, Serialize};

/// The three policy subclasses DSP exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    Set,
    Offer,
    Agreement,
}

/// The conflict strategy a policy may declare (`odrl:conflict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ConflictStrategy {
    /// Permissions override prohibitions.
    Perm,
    /// Prohibitions override permissions.
    Prohibit,
    /// Any conflict voids the whole policy (the ODRL default).
    #[default]
    Invalid,
}

/// A whole policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub uid: Option<String>,
    pub kind: PolicyKind,
    pub conflict: Option<ConflictStrategy>,
    /// Policy-level (compact form) values; they apply to every rule that does not set its own.
    pub assigner: Option<Party>,
    pub assignee: Option<Party>,
    pub target: Option<Asset>,
    pub action: Option<Action>,
    pub permissions: Vec<Rule>,
    pub prohibitions: Vec<Rule>,
    pub obligations: Vec<Rule>,
    /// The policy's own time zone (`twinport:timeZone`, an IANA name) for dates, `dayOfWeek` and `timeOfDay`;
    /// without it the engine's configured zone applies.
    pub time_zone: Option<crate::zone::PolicyZone>,
    /// A name for people (`rdfs:label` or `dct:title`), used in explanations and reasons.
    pub label: Option<String>,
}

/// Which of ODRL's rule classes a rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Permission,
    Prohibition,
    /// A policy-level obligation.
    Obligation,
    /// A duty of a permission (a pre-condition), a consequence or a remedy.
    Duty,
}

/// One rule in atomic form: a single action (rules with several actions or targets are split when read).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub uid: Option<String>,
    pub kind: RuleKind,
    /// `None` only when the document gave no action (e.g. "everybody can do everything"); it then covers every action.
    pub action: Option<Action>,
    pub target: Option<Asset>,
    pub assigner: Option<Party>,
    pub assignee: Option<Party>,
    pub constraints: Vec<Constraint>,
    /// Duties of a permission (pre-conditions).
    pub duties: Vec<Rule>,
    /// Consequences of a duty or obligation that is not fulfilled.
    pub consequences: Vec<Rule>,
    /// Remedies of a prohibition.
    pub remedies: Vec<Rule>,
    /// A name for people (`rdfs:label` or `dct:title`), used in explanations and reasons.
    pub label: Option<String>,
    /// The party to be attributed (`attributedParty`), on an `attribute` duty or obligation.
    pub attributed_party: Option<Party>,
    /// The attribution the partner must show (`twinport:attributionText`), on an `attribute` duty or obligation.
    pub attribution_text: Option<String>,
}

/// An action with optional refinements.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Short name for ODRL actions (`read`, `use`), the IRI as written otherwise.
    pub name: String,
    /// The `@id` of the action node, when the document named it (needed to link duty states).
    pub uid: Option<String>,
    pub refinements: Vec<Constraint>,
}

/// A party (assigner/assignee), possibly a refined collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Party {
    pub uid: String,
    pub collection: bool,
    pub refinements: Vec<Constraint>,
}

/// An asset (target), possibly a refined collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub uid: String,
    pub collection: bool,
    pub refinements: Vec<Constraint>,
}

/// A constraint or refinement: atomic or logical.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    Atomic(AtomicConstraint),
    Logical(LogicalConstraint),
}

/// `leftOperand operator rightOperand`.
#[derive(Debug, Clone, PartialEq)]
pub struct AtomicConstraint {
    pub uid: Option<String>,
    pub left_operand: LeftOperand,
    pub operator: Operator,
    pub right_operand: RightOperand,
    pub data_type: Option<String>,
    pub unit: Option<String>,
    pub status: Option<serde_json::Value>,
}

/// `and`, `or`, `xone`, `andSequence` over nested constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct LogicalConstraint {
    pub uid: Option<String>,
    pub operator: LogicalOperator,
    pub constraints: Vec<Constraint>,
}

/// The right-hand side of an atomic constraint.
#[derive(Debug, Clone, PartialEq)]
pub enum RightOperand {
    Single(Literal),
    List(Vec<Literal>),
    /// `rightOperandReference`: an IRI the engine does not dereference (it has no I/O), so it is never satisfied.
    Reference(String),
}

/// A typed value as written in the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `{"@id": ...}` or a value the vocabulary says is an IRI.
    Iri(String),
    /// `{"@value": ..., "@type": ...}` with an explicit datatype (e.g. `xsd:dateTime`).
    Typed {
        value: String,
        datatype: String,
    },
    String(String),
    Number(serde_json::Number),
    Bool(bool),
    /// A JSON object, used for geometries (`{"bbox": [...]}` / `{"polygon": [...]}`).
    Json(serde_json::Value),
}

impl Literal {
    /// The lexical form, for messages and string comparison.
    pub fn lexical(&self) -> String {
        match self {
            Literal::Iri(s) | Literal::String(s) => s.clone(),
            Literal::Typed { value, .. } => value.clone(),
            Literal::Number(n) => n.to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Json(v) => v.to_string(),
        }
    }
}

impl Policy {
    /// The policy's `uid` / `@id`.
    pub fn id(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    /// The duties a partner takes on: the duties of every permission and every obligation, in document order.
    /// Each can be recorded as fulfilled or violated under its `@id`, or under its action name.
    pub fn duties(&self) -> impl Iterator<Item = &Rule> {
        self.permissions
            .iter()
            .flat_map(|p| p.duties.iter())
            .chain(&self.obligations)
    }

    /// Every top-level rule, in document order by class.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.permissions
            .iter()
            .chain(&self.prohibitions)
            .chain(&self.obligations)
    }
}
