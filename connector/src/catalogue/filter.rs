//! The catalogue filters Twinport understands in a `CatalogRequestMessage`. DSP leaves `filter` to the
//! implementation; ours are plain JSON objects, all of whose conditions must hold (documented in
//! `docs/catalogue.md`). Anything else is refused rather than ignored, so a partner never mistakes an unfiltered
//! answer for a filtered one.

use serde_json::Value;

use super::kind::{DatasetStage, ResourceKind};
use super::listing::Listing;

/// One condition on a resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Kind(ResourceKind),
    Stage(DatasetStage),
    Keyword(String),
    Theme(String),
    Id(String),
}

/// Parses the `filter` array; an error says which entry and key is unsupported.
pub fn parse(filters: &[Value]) -> Result<Vec<Condition>, String> {
    let mut out = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        let obj = f.as_object().ok_or_else(|| {
            format!("filter[{i}]: expected an object like {{\"kind\": \"dataset\"}}")
        })?;
        for (key, value) in obj {
            if key.starts_with('@') {
                continue;
            }
            let text = value
                .as_str()
                .ok_or_else(|| format!("filter[{i}].{key}: expected a string"))?;
            let condition = match key.as_str() {
                "kind" | "resourceKind" => Condition::Kind(
                    ResourceKind::parse(text).ok_or_else(|| format!("filter[{i}].{key}: unknown resource kind {text:?}"))?,
                ),
                "stage" => Condition::Stage(
                    DatasetStage::parse(text).ok_or_else(|| format!("filter[{i}].stage: unknown dataset stage {text:?}"))?,
                ),
                "keyword" => Condition::Keyword(text.to_string()),
                "theme" => Condition::Theme(text.to_string()),
                "id" => Condition::Id(text.to_string()),
                other => {
                    return Err(format!(
                        "filter[{i}].{other}: unsupported filter (supported: kind, stage, keyword, theme, id)"
                    ))
                }
            };
            out.push(condition);
        }
    }
    Ok(out)
}

pub fn matches(r: &Listing, conditions: &[Condition]) -> bool {
    conditions.iter().all(|c| match c {
        Condition::Kind(k) => r.kind == *k,
        Condition::Stage(s) => r.stage == Some(*s),
        Condition::Keyword(k) => r.keywords.iter().any(|kw| kw.eq_ignore_ascii_case(k)),
        Condition::Theme(t) => r
            .themes
            .iter()
            .any(|th| th.id() == t || th.concept().is_some_and(|(iri, _, _)| iri == *t)),
        Condition::Id(id) => r.id == *id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_filters_parse_and_unknown_ones_are_refused() {
        let c = parse(&[
            json!({"kind": "model-or-service"}),
            json!({"keyword": "traffic", "stage": "raw"}),
        ])
        .unwrap();
        assert_eq!(c.len(), 3);
        assert!(parse(&[json!({"colour": "red"})])
            .unwrap_err()
            .contains("unsupported filter"));
        assert!(parse(&[json!({"kind": "spreadsheet"})])
            .unwrap_err()
            .contains("unknown resource kind"));
        assert!(parse(&[json!("dataset")])
            .unwrap_err()
            .starts_with("filter[0]"));
    }
}
