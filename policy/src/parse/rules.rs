//! Rules, their actions and their parties and assets: compact rules with several actions or targets split into
//! atomic ones, each key checked for its place, each action name checked against ODRL's.

use serde_json::Value;

use super::json::{
    expect_object, get, get_twinport, iri, items, join, label_of, node_id, text, type_of, Obj,
};
use super::keys::Place;
use super::Reader;
use crate::error::PolicyError;
use crate::model::{
    is_odrl_action, normalise_term, Action, Asset, Constraint, Party, Rule, RuleKind, ODRL_ACTIONS,
    ODRL_NS,
};
use crate::spelling::{closest, hint};

impl Reader {
    pub(super) fn single_party(
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

    pub(super) fn rules(
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

    pub(super) fn actions(
        &mut self,
        value: &Value,
        path: &str,
    ) -> Result<Vec<Action>, PolicyError> {
        let mut out = Vec::new();
        for (p, item) in items(value, path) {
            out.push(self.action(item, &p)?);
        }
        Ok(out)
    }

    /// An action name as written: ODRL's own (any spelling) become their short name; a plain word that is not an
    /// ODRL action, or an `odrl:` term ODRL does not define, is a problem; another IRI is kept as written.
    fn action_name(&mut self, written: &str, path: &str) -> String {
        if let Some(meant) = super::operands::odrl_misspelt(written) {
            self.problem(
                path,
                format!(
                    "action {written:?} misspells ODRL's namespace{}",
                    hint(Some(&meant))
                ),
            );
        }
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

    pub(super) fn assets(&mut self, value: &Value, path: &str) -> Result<Vec<Asset>, PolicyError> {
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
}
