//! Finding the description of a resource named in a check: ours from the store, a partner's from its DSP catalogue
//! as it publishes it to us (the `ldt#description` JSON value), so a city can check a partner's model against
//! another partner's dataset before negotiating for either.

use serde_json::Value;

use super::request::ResourceRef;
use crate::catalogue::descriptor::{Described, DESCRIPTION_PROPERTY};
use crate::catalogue::ResourceKind;
use crate::contracting::Contracting;
use crate::error::ApiError;

/// A resource named in a check, with what it describes.
pub struct Resolved {
    pub reference: ResourceRef,
    pub title: Option<String>,
    /// `None` when the resource describes nothing checkable.
    pub described: Option<Described>,
}

impl Resolved {
    pub fn kind(&self) -> Option<ResourceKind> {
        self.described.as_ref().map(|d| d.kind)
    }
}

pub async fn resolve(c: &Contracting, r: &ResourceRef) -> Result<Resolved, ApiError> {
    match &r.partner {
        None => {
            let resource = crate::catalogue::resource(c.store(), &r.id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("resource {}", r.id)))?;
            Ok(Resolved {
                reference: r.clone(),
                title: Some(resource.title.clone()),
                described: Described::of(&resource),
            })
        }
        Some(partner_id) => {
            let partner = c
                .partners()
                .get(partner_id)
                .ok_or_else(|| ApiError::NotFound(format!("partner {partner_id}")))?;
            let dataset = c
                .partners()
                .client()
                .dataset(&partner, &r.id)
                .await
                .map_err(|e| match e.status() {
                    // The partner answered and has no such dataset for us: the request names nothing, as for ours.
                    Some(404) => {
                        ApiError::NotFound(format!("dataset {} at partner {partner_id}", r.id))
                    }
                    _ => ApiError::BadGateway(format!("{} from {partner_id}: {e}", r.id)),
                })?;
            let described = published_description(&dataset).map_err(|e| {
                ApiError::BadGateway(format!(
                    "{partner_id} publishes a description of {} that cannot be read: {e}",
                    r.id
                ))
            })?;
            let problems = described
                .as_ref()
                .map(Described::problems)
                .unwrap_or_default();
            if !problems.is_empty() {
                let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
                return Err(ApiError::BadGateway(format!(
                    "{partner_id} publishes a description of {} that does not hold, so it cannot be checked: {}",
                    r.id,
                    listed.join("; ")
                )));
            }
            if let Some(d) = described.as_ref().filter(|d| d.id != r.id) {
                return Err(ApiError::BadGateway(format!(
                    "{partner_id} publishes, for {}, the description of {}",
                    r.id, d.id
                )));
            }
            Ok(Resolved {
                reference: r.clone(),
                title: dataset
                    .get("dct:title")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                described,
            })
        }
    }
}

/// The description a DSP dataset carries, if any: a JSON literal (`{"@type": "@json", "@value": ...}`).
pub fn published_description(dataset: &Value) -> Result<Option<Described>, String> {
    let Some(v) = dataset.get(DESCRIPTION_PROPERTY) else {
        return Ok(None);
    };
    let value = v.get("@value").unwrap_or(v);
    serde_json::from_value(value.clone())
        .map(Some)
        .map_err(|e| e.to_string())
}
