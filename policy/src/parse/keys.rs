//! Which keys an object may have at each place in a policy (a policy, a permission, a duty, a constraint, an
//! action, a party, an asset), in any of their spellings, and what to say about one that does not belong: the
//! word probably meant, or where that key does belong. Annotations are allowed everywhere and never evaluated.

use serde_json::{Map, Value};

use super::json::join;
use super::Reader;
use crate::model::{RuleKind, ODRL_NS, TWINPORT_NS};
use crate::spelling::{closest, hint};

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
pub(super) enum Place {
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

/// The local name of an annotation key (`dct:title` → `title`), or `None` for any other key.
fn annotation_local_name(key: &str) -> Option<&str> {
    ANNOTATION_PREFIXES.iter().find_map(|p| key.strip_prefix(p))
}

impl Reader {
    /// Records every key of `obj` that is not allowed at `place`.
    pub(super) fn check_keys(&mut self, obj: &Map<String, Value>, path: &str, place: Place) {
        let allowed = place.keys();
        // A term written twice in two spellings (`constraint` and `odrl:constraint`) would have one copy read and
        // the other silently dropped: refused.
        let mut seen: Vec<(String, &str)> = Vec::new();
        for key in obj.keys() {
            if let Some(local) = annotation_local_name(key) {
                let odrl_word = !matches!(local, "type" | "uid")
                    && (allowed.contains(&local) || belongs(local).is_some());
                if odrl_word {
                    self.problem(
                        &join(path, key),
                        format!(
                            "{key:?} is an annotation, which is never evaluated{}",
                            hint(Some(local))
                        ),
                    );
                }
                continue;
            }
            let compact = compact_key(key);
            if let Some((_, first)) = seen.iter().find(|(c, _)| *c == compact) {
                self.problem(
                    &join(path, key),
                    format!("{key:?} and {first:?} are the same term written twice; write it once"),
                );
                continue;
            }
            seen.push((compact.clone(), key.as_str()));
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
}
