//! The offers a partner can negotiate: resolving an offer id from a contract request to our resource, offer and
//! current policy version, and comparing the terms two parties put on the table.

use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::catalogue::dcat;
use crate::catalogue::resource::OfferRef;
use crate::catalogue::Resource;
use crate::storage::StorageError;

/// One of our offers, as it stands now.
#[derive(Debug, Clone)]
pub struct OurOffer {
    pub resource: Resource,
    pub offer: OfferRef,
    pub policy_version: i64,
    /// The policy body the offer is made under.
    pub policy: Value,
    /// The offer as sent in DSP messages: catalogue offer plus `target`.
    pub message_offer: Value,
}

/// Finds the offer `offer_id` (optionally on dataset `target`) among the resources `partner` may see.
pub async fn find(
    state: &AppState,
    partner: &str,
    target: Option<&str>,
    offer_id: &str,
) -> Result<Option<OurOffer>, StorageError> {
    let visible = state.visible_resources(partner).await?;
    for resource in visible {
        if target.is_some_and(|t| t != resource.id) {
            continue;
        }
        for offer in &resource.offers {
            if offer.offer_id(&resource.id) != offer_id {
                continue;
            }
            let Some(policy) = state.store().policy(&offer.policy).await? else {
                return Ok(None);
            };
            let mut message_offer =
                dcat::offer(offer_id, state.participant_id(), &policy.body, &resource.id);
            message_offer["target"] = json!(resource.id);
            return Ok(Some(OurOffer {
                offer: offer.clone(),
                policy_version: policy.version,
                policy: policy.body,
                message_offer,
                resource: resource.clone(),
            }));
        }
    }
    Ok(None)
}

/// The rules of an offer or agreement, normalised for comparison: rule arrays only, absent arrays empty, and no
/// `target` inside rules (DSP forbids it there; the offer's `target` names the dataset).
pub fn terms(policy: &Value) -> Value {
    let mut out = Map::new();
    for key in ["permission", "prohibition", "obligation"] {
        let rules = policy
            .get(key)
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| {
                        let mut r = r.clone();
                        if let Some(obj) = r.as_object_mut() {
                            obj.remove("target");
                        }
                        r
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        out.insert(key.into(), Value::Array(rules));
    }
    Value::Object(out)
}

/// An offer's members beyond its id, type, parties, target and rules: the policy-wide terms that change what the
/// rules mean (`conflict`, `twinport:timeZone`, a label), which an agreement carries too.
pub fn policy_wide_terms(offer: &Value) -> Map<String, Value> {
    const NOT_TERMS: [&str; 9] = [
        "@id",
        "@type",
        "@context",
        "assigner",
        "target",
        "profile",
        "permission",
        "prohibition",
        "obligation",
    ];
    offer
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !NOT_TERMS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn same_terms(a: &Value, b: &Value) -> bool {
    terms(a) == terms(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_ignore_ids_targets_and_missing_arrays() {
        let ours = json!({"@id": "urn:o:1", "@type": "Offer", "assigner": "a", "permission": [{"action": "use"}]});
        let theirs = json!({"@id": "urn:o:1", "@type": "Offer", "target": "urn:d", "permission": [{"action": "use", "target": "urn:d"}], "prohibition": []});
        assert!(same_terms(&ours, &theirs));
        let changed = json!({"permission": [{"action": "distribute"}]});
        assert!(!same_terms(&ours, &changed));
    }
}
