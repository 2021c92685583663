//! What a person asks to have checked: a model's inputs against chosen datasets (one input or a whole run), or an
//! output against the visualisation asset that will show it. Resources are ours or a partner's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalogue::FieldError;

/// A resource in our catalogue (no `partner`) or in a partner's as it publishes it to us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    pub id: String,
    /// The partner's participant id; absent for our own catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

impl ResourceRef {
    /// `ID` or `ID@PARTNER` as the command line writes it: split at the last `@` whose right side names a partner.
    pub fn parse(s: &str, is_partner: impl Fn(&str) -> bool) -> ResourceRef {
        match s.rsplit_once('@') {
            Some((id, partner)) if !id.is_empty() && is_partner(partner) => ResourceRef {
                id: id.to_owned(),
                partner: Some(partner.to_owned()),
            },
            _ => ResourceRef {
                id: s.to_owned(),
                partner: None,
            },
        }
    }

    /// `ID` or `ID@PARTNER`, for reasons a person reads.
    pub fn label(&self) -> String {
        match &self.partner {
            Some(p) => format!("{}@{p}", self.id),
            None => self.id.clone(),
        }
    }
}

/// `POST /api/v1/alignment`: either `model` with `inputs` (input name → dataset), or `output` with `visualisation`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ResourceRef>,
    /// The dataset chosen for each input; name every input to check a whole run.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, ResourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<ResourceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visualisation: Option<ResourceRef>,
}

/// Which check a valid request asks for.
pub enum Asked<'a> {
    Run {
        model: &'a ResourceRef,
        inputs: &'a BTreeMap<String, ResourceRef>,
    },
    Visualisation {
        output: &'a ResourceRef,
        visualisation: &'a ResourceRef,
    },
}

impl CheckRequest {
    pub fn asked(&self) -> Result<Asked<'_>, Vec<FieldError>> {
        let problem = |field: &str, problem: &str| {
            vec![FieldError {
                field: field.into(),
                problem: problem.into(),
            }]
        };
        // Every id is checked before anything is looked up, ours or a partner's: an id no catalogue can hold is
        // the caller's mistake (422), never a request sent on to a partner that refuses it.
        let named = self
            .model
            .iter()
            .map(|r| ("model.id".to_string(), r))
            .chain(
                self.inputs
                    .iter()
                    .map(|(n, r)| (format!("inputs.{n}.id"), r)),
            )
            .chain(self.output.iter().map(|r| ("output.id".to_string(), r)))
            .chain(
                self.visualisation
                    .iter()
                    .map(|r| ("visualisation.id".to_string(), r)),
            );
        let bad: Vec<FieldError> = named
            .filter_map(|(field, r)| {
                crate::iri::iri_problem(&r.id).map(|problem| FieldError { field, problem })
            })
            .collect();
        if !bad.is_empty() {
            return Err(bad);
        }
        match (&self.model, &self.output, &self.visualisation) {
            (Some(model), None, None) if !self.inputs.is_empty() => Ok(Asked::Run {
                model,
                inputs: &self.inputs,
            }),
            (Some(_), None, None) => Err(problem(
                "inputs",
                "name the dataset chosen for at least one of the model's inputs",
            )),
            (None, Some(output), Some(visualisation)) if self.inputs.is_empty() => {
                Ok(Asked::Visualisation {
                    output,
                    visualisation,
                })
            }
            (None, Some(_), None) => Err(problem(
                "visualisation",
                "name the visualisation asset that will show the output",
            )),
            (None, None, Some(_)) => Err(problem(
                "output",
                "name the output the visualisation asset will show",
            )),
            _ => Err(problem(
                "(document)",
                "ask either for `model` with `inputs`, or for `output` with `visualisation`",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_no_catalogue_can_hold_are_refused_naming_each_field() {
        let request: CheckRequest = serde_json::from_value(serde_json::json!({
            "model": {"id": "urn:ldt:a:model\u{1b}", "partner": "https://city-b.example/twinport"},
            "inputs": {"rain": {"id": "not an iri"}, "terrain": {"id": "urn:ldt:b:terrain"}}
        }))
        .unwrap();
        let Err(errors) = request.asked() else {
            panic!("refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["model.id", "inputs.rain.id"]);
    }
}
