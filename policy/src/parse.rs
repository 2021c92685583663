//! Reads a policy from the compact JSON-LD that DSP exchanges (2025-1 unprefixed terms), also accepting
//! `odrl:`-prefixed keys and full ODRL IRIs. Every problem names the JSON path of the offending part, e.g.
//! `permission[0].constraint[1].operator: unknown operator "equals"`.
//!
//! Reading is strict, because a word the engine does not understand must never be skipped: a skipped
//! `"constraints"` (for `"constraint"`) would turn a conditional permission into an unconditional one. Every key
//! must be ODRL's, a JSON-LD keyword, an annotation (`rdfs:label`, `dct:title`, …) or one of Twinport's documented
//! extensions at the place it belongs; every action, operator and left operand written as a plain word must be one
//! the engine knows. Problems that do not stop the reading are collected, so one pass reports them all.
//!
//! Compact rules with several actions or targets are split into atomic rules here, as the ODRL model recommends,
//! so the engine only ever sees one action and one target per rule.

use crate::error::PolicyError;
use crate::model::{
    is_odrl_action, normalise_term, Action, Asset, AtomicConstraint, ConflictStrategy, Constraint,
    LeftOperand, Literal, LogicalConstraint, LogicalOperator, Operator, Party, Policy, PolicyKind,
    RightOperand, Rule, RuleKind, ODRL_ACTIONS, ODRL_LEFT_OPERANDS, ODRL_NS, TWINPORT_CLAIM_NS,
    TWINPORT_LEFT_OPERANDS, TWINPORT_NS,
};
use crate::spelling::{closest, hint};
use serde_json::{Map, Value};

type Obj = Map<String, Value>;

/// One problem found while reading, at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Deeper nesting than this is certainly a mistake (or an attack) and would risk the stack.
const MAX_DEPTH: usize = 32;

/// Prefixes and namespaces of annotation properties: kept for people, never evaluated.
const ANNOTATION_PREFIXES: &[&str] = &[
    "dct:",
    "dcterms:",
    "rdfs:",
    "skos:",
    "http://purl.org/dc/terms/",
    "http://www.w3.org/2000/01/rdf-schema#",
    "http://www.w3.org/2004/02/skos/core#",
];

/// ODRL's party functions other than assigner, assignee and attributedParty: valid ODRL, but nothing in Twinport
/// acts on them, so a policy relying on one would promise what is not enforced.
const UNENFORCED_PARTY_FUNCTIONS: &[&str] = &[
    "attributingParty",
    "compensatedParty",
    "compensatingParty",
    "consentingParty",
    "consentedParty",
    "contractingParty",
    "contractedParty",
    "informedParty",
    "informingParty",
    "trackingParty",
    "trackedParty",
];

/// Where in a policy an object sits, which decides the keys it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Policy,
    Rule(RuleKind),
    Constraint,
    Action,
    Party,
    Asset,
}

impl Place {
    /// The keys (compact form) an object at this place may have, besides `@id`, `@type` and annotations.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Place::Policy => &[
                "@context",
                "uid",
                "type",
                "profile",
                "conflict",
                "assigner",
                "assignee",
                "target",
                "action",
                "permission",
                "prohibition",
                "obligation",
                "timestamp",
                "twinport:timeZone",
            ],
            Place::Rule(RuleKind::Permission) => &[
                "uid",
                "type",
                "action",
                "target",
                "assigner",
                "assignee",
                "constraint",
                "duty",
            ],
            Place::Rule(RuleKind::Prohibition) => &[
                "uid",
                "type",
                "action",
                "target",
                "assigner",
                "assignee",
                "constraint",
                "remedy",
            ],
            Place::Rule(RuleKind::Obligation) | Place::Rule(RuleKind::Duty) => &[
                "uid",
                "type",
                "action",
                "target",
                "assigner",
                "assignee",
                "constraint",
                "consequence",
                "attributedParty",
                "twinport:attributionText",
            ],
            Place::Constraint => &[
                "uid",
                "type",
                "leftOperand",
                "operator",
                "rightOperand",
                "rightOperandReference",
                "dataType",
                "unit",
                "status",
                "and",
                "or",
                "xone",
                "andSequence",
            ],
            Place::Action => &["uid", "type", "rdf:value", "refinement"],
            Place::Party | Place::Asset => &["uid", "type", "source", "refinement"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Place::Policy => "a policy",
            Place::Rule(RuleKind::Permission) => "a permission",
            Place::Rule(RuleKind::Prohibition) => "a prohibition",
            Place::Rule(RuleKind::Obligation) => "an obligation",
            Place::Rule(RuleKind::Duty) => "a duty",
            Place::Constraint => "a constraint",
            Place::Action => "an action",
            Place::Party => "a party",
            Place::Asset => "an asset",
        }
    }
}

/// Where a key that is not allowed at one place does belong, for the message.
fn belongs(key: &str) -> Option<&'static str> {
    Some(match key {
        "constraint" => "in a permission, prohibition, obligation or duty",
        "duty" => "in a permission",
        "remedy" => "in a prohibition",
        "consequence" => "in a duty or obligation",
        "refinement" => "in an action, a PartyCollection or an AssetCollection",
        "leftOperand" | "operator" | "rightOperand" => "in a constraint",
        "permission" | "prohibition" | "obligation" | "conflict" | "profile" => {
            "at the top of the policy"
        }
        "attributedParty" | "twinport:attributionText" => "in an attribute duty or obligation",
        "twinport:timeZone" => "at the top of the policy",
        _ => return None,
    })
}

/// The compact form of a key: ODRL terms without their prefix, Twinport's with `twinport:`.
fn compact_key(key: &str) -> String {
    if let Some(t) = key.strip_prefix(ODRL_NS) {
        return t.to_string();
    }
    if let Some(t) = key.strip_prefix("odrl:") {
        return t.to_string();
    }
    if let Some(t) = key.strip_prefix(TWINPORT_NS) {
        return format!("twinport:{t}");
    }
    if let Some(t) = key.strip_prefix("http://www.w3.org/1999/02/22-rdf-syntax-ns#") {
        return format!("rdf:{t}");
    }
    match key {
        "@id" => "uid".into(),
        "@type" => "type".into(),
        "value" => "rdf:value".into(),
        other => other.to_string(),
    }
}

fn is_annotation(key: &str) -> bool {
    ANNOTATION_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Looks a term up under its compact, `odrl:`-prefixed and full-IRI keys.
pub(crate) fn get<'a>(obj: &'a Obj, term: &str) -> Option<&'a Value> {
    obj.get(term)
        .or_else(|| obj.get(&format!("odrl:{term}")))
        .or_else(|| obj.get(&format!("{ODRL_NS}{term}")))
}

/// Looks a Twinport extension up as `twinport:NAME` or under the full namespace.
fn get_twinport<'a>(obj: &'a Obj, name: &str) -> Option<&'a Value> {
    obj.get(&format!("twinport:{name}"))
        .or_else(|| obj.get(&format!("{TWINPORT_NS}{name}")))
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
    let bad = || PolicyError::invalid(path, "expected an IRI string or {\"@id\": ...}");
    match value {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::Object(o) => match o.get("@id") {
            Some(Value::String(s))
                if !s.is_empty() && o.keys().all(|k| k == "@id" || k == "@type") =>
            {
                Ok(s.clone())
            }
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// A text value: a string, or `{"@value": "...", "@language": ...}`.
fn text(value: &Value, path: &str) -> Result<String, PolicyError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => match o.get("@value") {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(PolicyError::invalid(path, "expected a text")),
        },
        Value::Array(a) => match a.first() {
            Some(first) => text(first, &format!("{path}[0]")),
            None => Err(PolicyError::invalid(path, "expected a text")),
        },
        _ => Err(PolicyError::invalid(path, "expected a text")),
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

/// A label for people: `rdfs:label`, else `dct:title`, in any of their spellings.
fn label_of(obj: &Obj) -> Option<String> {
    [
        "rdfs:label",
        "http://www.w3.org/2000/01/rdf-schema#label",
        "dct:title",
        "dcterms:title",
        "http://purl.org/dc/terms/title",
    ]
    .iter()
    .find_map(|k| obj.get(*k))
    .and_then(|v| text(v, "").ok())
    .filter(|s| !s.trim().is_empty())
}

fn expect_object<'a>(value: &'a Value, path: &str, what: &str) -> Result<&'a Obj, PolicyError> {
    value
        .as_object()
        .ok_or_else(|| PolicyError::invalid(path, format!("expected {what} object")))
}

/// Reads a policy, collecting every problem that does not stop the reading.
pub(crate) struct Reader {
    problems: Vec<Problem>,
}

impl Policy {
    /// Reads a policy from compact DSP JSON-LD. Anything the engine would not understand is an error: the first
    /// problem is returned (with how many more there are); [`Policy::problems`] lists them all.
    pub fn from_json(value: &Value) -> Result<Policy, PolicyError> {
        read(value).map_err(|problems| {
            let more = problems.len().saturating_sub(1);
            let first = problems.into_iter().next().unwrap_or(Problem {
                path: "$".into(),
                message: "unreadable policy".into(),
            });
            let message = match more {
                0 => first.message,
                1 => format!("{} (and 1 more problem)", first.message),
                n => format!("{} (and {n} more problems)", first.message),
            };
            PolicyError::Invalid {
                path: first.path,
                message,
            }
        })
    }

    /// Reads a policy from JSON text.
    pub fn from_json_str(s: &str) -> Result<Policy, PolicyError> {
        let value: Value =
            serde_json::from_str(s).map_err(|e| PolicyError::Json(e.to_string().to_lowercase()))?;
        Policy::from_json(&value)
    }

    /// Every problem that makes `value` unreadable as a policy, in document order; empty when it reads.
    pub fn problems(value: &Value) -> Vec<Problem> {
        read(value).err().unwrap_or_default()
    }
}

/// Reads a policy, or every problem found.
pub(crate) fn read(value: &Value) -> Result<Policy, Vec<Problem>> {
    let mut r = Reader {
        problems: Vec::new(),
    };
    match r.policy(value) {
        Ok(p) if r.problems.is_empty() => Ok(p),
        Ok(_) => Err(r.problems),
        Err(e) => {
            r.fail(e);
            Err(r.problems)
        }
    }
}

impl Reader {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: if path.is_empty() {
                "$".into()
            } else {
                path.to_string()
            },
            message: message.into(),
        });
    }

    fn fail(&mut self, e: PolicyError) {
        match e {
            PolicyError::Invalid { path, message } => self.problem(&path, message),
            other => self.problem("$", other.to_string()),
        }
    }

    /// Records every key of `obj` that is not allowed at `place`.
    fn check_keys(&mut self, obj: &Obj, path: &str, place: Place) {
        let allowed = place.keys();
        for key in obj.keys() {
            if matches!(key.as_str(), "@id" | "@type") || is_annotation(key) {
                continue;
            }
            let compact = compact_key(key);
            if allowed.contains(&compact.as_str()) {
                continue;
            }
            let at = join(path, key);
            if place == Place::Policy && compact == "inheritFrom" {
                self.problem(&at, "policy inheritance (inheritFrom) is not supported: write the inherited rules into the policy");
                continue;
            }
            if UNENFORCED_PARTY_FUNCTIONS.contains(&compact.as_str()) {
                self.problem(
                    &at,
                    format!("the party function {compact:?} is not enforced by Twinport; remove it or express the condition as a constraint"),
                );
                continue;
            }
            if let Some(place_of) = belongs(&compact) {
                self.problem(
                    &at,
                    format!(
                        "{compact:?} is not allowed in {}; it belongs {place_of}",
                        place.name()
                    ),
                );
                continue;
            }
            let suggestion = closest(&compact, allowed.iter().copied().filter(|k| *k != "type"));
            self.problem(
                &at,
                format!(
                    "unknown key {key:?} in {}{}",
                    place.name(),
                    hint(suggestion)
                ),
            );
        }
    }

    fn policy(&mut self, value: &Value) -> Result<Policy, PolicyError> {
        let obj = expect_object(value, "", "a policy")?;
        self.check_keys(obj, "", Place::Policy);
        let kind = match type_of(obj).map(normalise_term) {
            None | Some("Set") | Some("Policy") => PolicyKind::Set,
            Some("Offer") => PolicyKind::Offer,
            Some("Agreement") => PolicyKind::Agreement,
            Some(other) => {
                let s = closest(other, ["Set", "Offer", "Agreement"]);
                self.problem(
                    "@type",
                    format!(
                        "unknown policy type {other:?} (expected Set, Offer or Agreement){}",
                        hint(s)
                    ),
                );
                PolicyKind::Set
            }
        };
        let conflict = match get(obj, "conflict") {
            None => None,
            Some(v) => {
                let t = iri(v, "conflict")?;
                match normalise_term(&t) {
                    "perm" => Some(ConflictStrategy::Perm),
                    "prohibit" => Some(ConflictStrategy::Prohibit),
                    "invalid" => Some(ConflictStrategy::Invalid),
                    other => {
                        let s = closest(other, ["perm", "prohibit", "invalid"]);
                        self.problem("conflict", format!("unknown conflict strategy {other:?} (expected perm, prohibit or invalid){}", hint(s)));
                        None
                    }
                }
            }
        };
        if let Some(v) = get(obj, "profile") {
            // ODRL: a processor that does not understand a profile must not process the policy.
            for (p, item) in items(v, "profile") {
                let name = iri(item, &p)?;
                self.problem(&p, format!("profile {name:?} is not implemented by Twinport, so a policy under it cannot be enforced"));
            }
        }
        let time_zone = match get_twinport(obj, "timeZone") {
            None => None,
            Some(v) => {
                let name = text(v, "twinport:timeZone")?;
                match crate::zone::PolicyZone::named(&name) {
                    Ok(zone) => Some(zone),
                    Err(e) => {
                        self.problem("twinport:timeZone", e);
                        None
                    }
                }
            }
        };
        let assigner = self.single_party(obj, "assigner", "assigner")?;
        let assignee = self.single_party(obj, "assignee", "assignee")?;
        let target = match get(obj, "target") {
            None => None,
            Some(v) => {
                let mut all = self.assets(v, "target")?;
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
                let mut all = self.actions(v, "action")?;
                if all.len() > 1 {
                    return Err(PolicyError::invalid(
                        "action",
                        "a policy-level action must be a single value",
                    ));
                }
                all.pop()
            }
        };
        let mut rules = |key: &str, kind: RuleKind| -> Result<Vec<Rule>, PolicyError> {
            match get(obj, key) {
                None => Ok(Vec::new()),
                Some(v) => self.rules(v, key, kind),
            }
        };
        let permissions = rules("permission", RuleKind::Permission)?;
        let prohibitions = rules("prohibition", RuleKind::Prohibition)?;
        let obligations = rules("obligation", RuleKind::Obligation)?;
        Ok(Policy {
            uid: node_id(obj),
            kind,
            conflict,
            assigner,
            assignee,
            target,
            action,
            permissions,
            prohibitions,
            obligations,
            time_zone,
            label: label_of(obj),
        })
    }

    fn single_party(
        &mut self,
        obj: &Obj,
        key: &str,
        path: &str,
    ) -> Result<Option<Party>, PolicyError> {
        match get(obj, key) {
            None => Ok(None),
            Some(v) => {
                let mut all = self.parties(v, path)?;
                if all.len() > 1 {
                    return Err(PolicyError::invalid(
                        path,
                        "several parties in one place are not supported; use a PartyCollection",
                    ));
                }
                Ok(all.pop())
            }
        }
    }

    fn rules(
        &mut self,
        value: &Value,
        path: &str,
        kind: RuleKind,
    ) -> Result<Vec<Rule>, PolicyError> {
        let mut out = Vec::new();
        for (p, item) in items(value, path) {
            out.extend(self.rule(item, &p, kind)?);
        }
        Ok(out)
    }

    fn rule(
        &mut self,
        value: &Value,
        path: &str,
        kind: RuleKind,
    ) -> Result<Vec<Rule>, PolicyError> {
        let obj = expect_object(value, path, "a rule")?;
        self.check_keys(obj, path, Place::Rule(kind));
        if let Some(t) = type_of(obj) {
            let expected: &[&str] = match kind {
                RuleKind::Permission => &["Permission", "Rule"],
                RuleKind::Prohibition => &["Prohibition", "Rule"],
                RuleKind::Obligation | RuleKind::Duty => &["Duty", "Rule"],
            };
            if !expected.contains(&normalise_term(t)) {
                self.problem(
                    &join(path, "@type"),
                    format!("a rule here must be of type {}, not {t:?}", expected[0]),
                );
            }
        }
        let actions: Vec<Option<Action>> = match get(obj, "action") {
            None => vec![None],
            Some(v) => {
                let a = self.actions(v, &join(path, "action"))?;
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
                let t = self.assets(v, &join(path, "target"))?;
                if t.is_empty() {
                    return Err(PolicyError::invalid(
                        &join(path, "target"),
                        "empty target list",
                    ));
                }
                t.into_iter().map(Some).collect()
            }
        };
        let assigner = self.single_party(obj, "assigner", &join(path, "assigner"))?;
        let assignee = self.single_party(obj, "assignee", &join(path, "assignee"))?;
        let attributed_party =
            self.single_party(obj, "attributedParty", &join(path, "attributedParty"))?;
        let attribution_text = match get_twinport(obj, "attributionText") {
            None => None,
            Some(v) => Some(text(v, &join(path, "twinport:attributionText"))?),
        };
        if (attributed_party.is_some() || attribution_text.is_some())
            && !actions
                .iter()
                .any(|a| a.as_ref().is_some_and(|a| a.name == "attribute"))
        {
            self.problem(
                path,
                "attributedParty and twinport:attributionText belong to a rule whose action is attribute",
            );
        }
        let constraints = match get(obj, "constraint") {
            None => Vec::new(),
            Some(v) => self.constraints(v, &join(path, "constraint"))?,
        };
        let mut sub = |key: &str| -> Result<Vec<Rule>, PolicyError> {
            match get(obj, key) {
                None => Ok(Vec::new()),
                Some(v) => self.rules(v, &join(path, key), RuleKind::Duty),
            }
        };
        let duties = sub("duty")?;
        let consequences = sub("consequence")?;
        let remedies = sub("remedy")?;
        let uid = node_id(obj);
        let label = label_of(obj);
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
                    label: label.clone(),
                    attributed_party: attributed_party.clone(),
                    attribution_text: attribution_text.clone(),
                });
            }
        }
        Ok(out)
    }

    fn actions(&mut self, value: &Value, path: &str) -> Result<Vec<Action>, PolicyError> {
        let mut out = Vec::new();
        for (p, item) in items(value, path) {
            out.push(self.action(item, &p)?);
        }
        Ok(out)
    }

    /// An action name as written: ODRL's own (any spelling) become their short name; a plain word that is not an
    /// ODRL action, or an `odrl:` term ODRL does not define, is a problem; another IRI is kept as written.
    fn action_name(&mut self, written: &str, path: &str) -> String {
        let name = normalise_term(written).to_string();
        let odrl_spelling = written.starts_with("odrl:") || written.starts_with(ODRL_NS);
        let plain = !written.contains(':');
        if (plain || odrl_spelling) && !is_odrl_action(&name) {
            let s = closest(&name, ODRL_ACTIONS.iter().copied());
            self.problem(path, format!("unknown action {name:?}{}", hint(s)));
        }
        name
    }

    fn action(&mut self, value: &Value, path: &str) -> Result<Action, PolicyError> {
        match value {
            Value::String(s) if !s.is_empty() => Ok(Action {
                name: self.action_name(s, path),
                uid: None,
                refinements: Vec::new(),
            }),
            Value::Object(o) => {
                self.check_keys(o, path, Place::Action);
                // `rdf:value` carries the action class when the node has an `@id` of its own (ODRL JSON-LD).
                let explicit = o
                    .get("rdf:value")
                    .or_else(|| o.get("value"))
                    .or_else(|| o.get("http://www.w3.org/1999/02/22-rdf-syntax-ns#value"));
                let (name, uid) = match explicit {
                    Some(v) => (iri(v, &join(path, "rdf:value"))?, node_id(o)),
                    None => (
                        node_id(o).ok_or_else(|| {
                            PolicyError::invalid(
                                path,
                                "an action object needs \"@id\" or \"rdf:value\"",
                            )
                        })?,
                        None,
                    ),
                };
                let refinements = match get(o, "refinement") {
                    None => Vec::new(),
                    Some(v) => self.constraints(v, &join(path, "refinement"))?,
                };
                Ok(Action {
                    name: self.action_name(&name, path),
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

    /// A party or asset: a plain IRI, or a (refined) collection `{"@type": "...Collection", "source": ...}`.
    fn member(
        &mut self,
        value: &Value,
        path: &str,
        place: Place,
    ) -> Result<(String, bool, Vec<Constraint>), PolicyError> {
        let (collection_type, single_type) = match place {
            Place::Party => ("PartyCollection", "Party"),
            _ => ("AssetCollection", "Asset"),
        };
        match value {
            Value::Object(o) => {
                self.check_keys(o, path, place);
                if let Some(t) = type_of(o).map(normalise_term) {
                    if t != collection_type && t != single_type {
                        self.problem(
                            &join(path, "@type"),
                            format!("expected {single_type} or {collection_type}, not {t:?}"),
                        );
                    }
                }
                let is_collection = type_of(o).map(normalise_term) == Some(collection_type)
                    || get(o, "source").is_some()
                    || get(o, "refinement").is_some();
                let uid = match get(o, "source") {
                    Some(v) => iri(v, &join(path, "source"))?,
                    None => node_id(o).ok_or_else(|| {
                        PolicyError::invalid(path, "missing \"@id\" or \"source\"")
                    })?,
                };
                let refinements = match get(o, "refinement") {
                    None => Vec::new(),
                    Some(v) => self.constraints(v, &join(path, "refinement"))?,
                };
                Ok((uid, is_collection, refinements))
            }
            v => Ok((iri(v, path)?, false, Vec::new())),
        }
    }

    fn parties(&mut self, value: &Value, path: &str) -> Result<Vec<Party>, PolicyError> {
        let mut out = Vec::new();
        for (p, item) in items(value, path) {
            let (uid, collection, refinements) = self.member(item, &p, Place::Party)?;
            out.push(Party {
                uid,
                collection,
                refinements,
            });
        }
        Ok(out)
    }

    fn assets(&mut self, value: &Value, path: &str) -> Result<Vec<Asset>, PolicyError> {
        let mut out = Vec::new();
        for (p, item) in items(value, path) {
            let (uid, collection, refinements) = self.member(item, &p, Place::Asset)?;
            out.push(Asset {
                uid,
                collection,
                refinements,
            });
        }
        Ok(out)
    }

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
            Ok(lo) => lo,
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

const KNOWN_PREFIXES: &[&str] = &["odrl", "twinport", "claim"];

/// A left operand as written, or why it is not one: a plain word must be a left operand the engine knows (native,
/// ODRL's, or `claim:NAME`); an `odrl:` or `twinport:` term must exist in that vocabulary; a prefix one letter off a
/// known one is a typo. Other IRIs are allowed (their value can only come from the context's `parameters`).
pub(crate) fn left_operand(written: &str) -> Result<LeftOperand, String> {
    let lo = LeftOperand::from_term(written);
    if lo.is_known() {
        return Ok(lo);
    }
    let natives_and_odrl = ODRL_LEFT_OPERANDS.iter().copied();
    if let Some(rest) = written
        .strip_prefix(ODRL_NS)
        .or_else(|| written.strip_prefix("odrl:"))
    {
        if ODRL_LEFT_OPERANDS.contains(&rest) {
            return Ok(lo);
        }
        let s = closest(rest, natives_and_odrl);
        return Err(format!("unknown ODRL left operand {rest:?}{}", hint(s)));
    }
    if let Some(rest) = written
        .strip_prefix(TWINPORT_NS)
        .or_else(|| written.strip_prefix("twinport:"))
    {
        let s =
            closest(rest, TWINPORT_LEFT_OPERANDS.iter().copied()).map(|t| format!("twinport:{t}"));
        return Err(format!(
            "unknown Twinport left operand {rest:?}{}",
            hint(s.as_deref())
        ));
    }
    if !written.contains(':') {
        if ODRL_LEFT_OPERANDS.contains(&written) {
            return Ok(lo);
        }
        let twinport = TWINPORT_LEFT_OPERANDS.iter().copied();
        if let Some(s) = closest(written, natives_and_odrl) {
            return Err(format!("unknown left operand {written:?}{}", hint(Some(s))));
        }
        if let Some(s) = closest(written, twinport) {
            return Err(format!(
                "unknown left operand {written:?}{}",
                hint(Some(&format!("twinport:{s}")))
            ));
        }
        return Err(format!(
            "unknown left operand {written:?} (did you mean \"claim:{written}\"? a partner's attested claim is written claim:NAME)"
        ));
    }
    if written.starts_with(TWINPORT_CLAIM_NS) {
        return Ok(lo);
    }
    if let Some((prefix, rest)) = written.split_once(':') {
        if !rest.starts_with("//") && !KNOWN_PREFIXES.contains(&prefix) {
            if let Some(p) = closest(prefix, KNOWN_PREFIXES.iter().copied()) {
                return Err(format!(
                    "unknown prefix {prefix:?} in left operand {written:?}{}",
                    hint(Some(&format!("{p}:{rest}")))
                ));
            }
        }
    }
    Ok(lo)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(v: Value) -> Vec<String> {
        Policy::problems(&v)
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn a_misspelt_key_is_an_error_with_the_word_meant() {
        let p = problems(json!({"permission": [{"action": "use",
            "constraints": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "research"}]}]}));
        assert_eq!(
            p,
            vec!["permission[0].constraints: unknown key \"constraints\" in a permission (did you mean \"constraint\"?)"]
        );
        let p = problems(json!({"permision": [{"action": "use"}]}));
        assert!(p[0].contains("did you mean \"permission\""), "{p:?}");
        let p = problems(json!({"permission": [{"action": "use"}], "constraint": []}));
        assert!(p[0].contains("belongs in a permission"), "{p:?}");
    }

    #[test]
    fn every_problem_is_reported_in_one_pass() {
        let p = problems(json!({"permission": [{"actoin": "use", "action": "raed",
            "constraint": [{"leftOperand": "Purpose", "operator": "isAnyof", "rightOperand": ["x"]},
                           {"leftOperand": "membership", "operator": "eq", "rightOperand": "ldt-network"}]}]}));
        let all = p.join("\n");
        for want in [
            "permission[0].actoin: unknown key \"actoin\" in a permission (did you mean \"action\"?)",
            "permission[0].action: unknown action \"raed\" (did you mean \"read\"?)",
            "permission[0].constraint[0].leftOperand: unknown left operand \"Purpose\" (did you mean \"purpose\"?)",
            "permission[0].constraint[0].operator: unknown operator \"isAnyof\" (did you mean \"isAnyOf\"?)",
            "permission[0].constraint[1].leftOperand: unknown left operand \"membership\" (did you mean \"claim:membership\"?",
        ] {
            assert!(all.contains(want), "missing {want:?} in\n{all}");
        }
    }

    #[test]
    fn left_operands_in_every_spelling() {
        assert_eq!(left_operand("purpose"), Ok(LeftOperand::Purpose));
        assert_eq!(
            left_operand("claim:membership"),
            Ok(LeftOperand::Claim("membership".into()))
        );
        assert!(left_operand("deliveryChannel").is_ok());
        assert!(left_operand("odrl:deliveryChannel").is_ok());
        assert!(left_operand("ex:colour").is_ok());
        assert!(left_operand("https://example.org/colour").is_ok());
        assert!(left_operand("odrl:purpse")
            .unwrap_err()
            .contains("did you mean \"purpose\""));
        assert!(left_operand("twinport:resourceKnd")
            .unwrap_err()
            .contains("twinport:resourceKind"));
        assert!(left_operand("claims:membership")
            .unwrap_err()
            .contains("claim:membership"));
        assert!(left_operand("dayofweek")
            .unwrap_err()
            .contains("twinport:dayOfWeek"));
    }

    #[test]
    fn extensions_and_annotations_are_read() {
        let p = Policy::from_json(&json!({"@type": "Offer", "rdfs:label": "research only",
            "twinport:timeZone": "Europe/Amsterdam", "dct:description": "for people",
            "permission": [{"action": "use", "dct:title": "research use",
                "duty": [{"action": "attribute", "attributedParty": "did:web:utrecht.nl",
                          "twinport:attributionText": "© City of Utrecht"}]}]}));
        let p = match p {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(p.label.as_deref(), Some("research only"));
        assert_eq!(
            p.time_zone.as_ref().map(|z| z.name()),
            Some("Europe/Amsterdam")
        );
        assert_eq!(p.permissions[0].label.as_deref(), Some("research use"));
        let duty = &p.permissions[0].duties[0];
        assert_eq!(
            duty.attributed_party.as_ref().map(|p| p.uid.as_str()),
            Some("did:web:utrecht.nl")
        );
        assert_eq!(duty.attribution_text.as_deref(), Some("© City of Utrecht"));
    }

    #[test]
    fn unenforceable_content_is_refused() {
        assert!(
            problems(json!({"profile": "https://x/p", "permission": [{"action": "use"}]}))[0]
                .contains("not implemented")
        );
        assert!(
            problems(json!({"inheritFrom": "https://x/p", "permission": [{"action": "use"}]}))[0]
                .contains("not supported")
        );
        assert!(problems(json!({"permission": [{"action": "use",
            "duty": [{"action": "compensate", "compensatedParty": "x"}]}]}))[0]
            .contains("not enforced"));
        assert!(
            problems(json!({"permission": [{"action": "use", "attributedParty": "x"}]}))[0]
                .contains("belongs in an attribute duty")
        );
        assert!(
            problems(json!({"permission": [{"action": "use", "constraint": [
            {"leftOperand": "purpose", "operator": "eq", "rightOperand": "x", "and": []}]}]}))[0]
                .contains("either atomic")
        );
        assert!(problems(
            json!({"twinport:timeZone": "Europe/Amsterdan", "permission": [{"action": "use"}]})
        )[0]
        .contains("Europe/Amsterdam"));
    }
}
