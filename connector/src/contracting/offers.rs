//! The offers a partner can negotiate: resolving an offer id from a contract request to our resource, offer and
//! current policy version, and comparing the terms two parties put on the table.

use serde_json::{json, Map, Value};

use super::catalogue_views::Visible;
use super::Contracting;
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

impl Contracting {
    /// The resources `partner` may see, each with only the offers whose policy, evaluated in the catalogue scope
    /// with what we know of the partner, permits it (the partner could obtain one of the offer's permissions); a
    /// resource with no such offer is not shown at all. Offers a partner cannot see cannot be negotiated either,
    /// since negotiation looks offers up here ([`find`]). Decided once per catalogue version and partner, and
    /// kept ([`super::catalogue_views`]).
    pub async fn visible(&self, partner: &str) -> Result<Visible, StorageError> {
        let config = self.partners().get(partner);
        self.views()
            .visible(self.store(), self.policy(), partner, config.as_ref())
            .await
    }

    /// The resource `id` if `partner` may see it, with only the offers it may see (as in
    /// [`Contracting::visible`]); `None` when there is no such resource or the partner may not see it.
    /// Decides on that one resource alone, so looking one up does not cost the whole catalogue.
    pub async fn visible_one(
        &self,
        partner: &str,
        id: &str,
    ) -> Result<Option<Visible>, StorageError> {
        let config = self.partners().get(partner);
        self.views()
            .visible_one(self.store(), self.policy(), partner, config.as_ref(), id)
            .await
    }
}

/// Finds the offer `offer_id` (optionally on dataset `target`) among the resources `partner` may see.
pub async fn find(
    state: &Contracting,
    partner: &str,
    target: Option<&str>,
    offer_id: &str,
) -> Result<Option<OurOffer>, StorageError> {
    // With a target only that resource is decided on; without one, every resource the partner may see.
    let visible = match target {
        Some(t) => state.visible_one(partner, t).await?,
        None => Some(state.visible(partner).await?),
    };
    let Some(visible) = visible else {
        return Ok(None);
    };
    for v in visible.iter() {
        let id = &v.resource.id;
        let Some(offer) = v.offers().find(|o| o.offer_id(id) == offer_id) else {
            continue;
        };
        let Some(policy) = state.store().policy(&offer.policy).await? else {
            return Ok(None);
        };
        // Only the resource offered is read whole; gone or changed since it was listed, it is not offered.
        let Some(resource) = v.load(state.store()).await? else {
            return Ok(None);
        };
        let mut message_offer = dcat::offer(offer_id, state.participant_id(), &policy.body, id);
        message_offer["target"] = json!(id);
        return Ok(Some(OurOffer {
            offer: offer.clone(),
            policy_version: policy.version,
            policy: policy.body,
            message_offer,
            resource,
        }));
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

/// The offered policy is the one requested: the same target, the same rules in any order, and the same
/// policy-wide terms. Ids, types and parties may differ (a provider names itself as assigner and mints its own
/// offer id). A consumer that receives this has already chosen these terms and accepts without asking anyone.
pub fn identical_offer(requested: &Value, offered: &Value) -> bool {
    fn sorted_terms(policy: &Value) -> Value {
        let mut t = terms(policy);
        if let Some(obj) = t.as_object_mut() {
            for rules in obj.values_mut() {
                if let Some(list) = rules.as_array_mut() {
                    // Rule order carries no meaning in ODRL; compare their canonical forms as a set.
                    list.sort_by_cached_key(|r| {
                        twinport_contracts::canonical::canonicalize(r).unwrap_or_default()
                    });
                }
            }
        }
        t
    }
    // The provider may name us as assignee in its offer; that is who we are, not a term.
    let wide = |p: &Value| {
        let mut t = policy_wide_terms(p);
        t.remove("assignee");
        t
    };
    let target = |p: &Value| p.get("target").cloned();
    target(requested) == target(offered)
        && sorted_terms(requested) == sorted_terms(offered)
        && wide(requested) == wide(offered)
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

    #[test]
    fn an_identical_offer_ignores_ids_parties_and_rule_order_but_not_terms() {
        let requested = json!({"@id": "urn:o:1", "@type": "Offer", "target": "urn:d",
            "permission": [{"action": "use"}, {"action": "read", "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "x"}]}]});
        let offered = json!({"@id": "urn:o:2", "@type": "Offer", "target": "urn:d", "assigner": "p", "assignee": "c",
            "permission": [{"constraint": [{"rightOperand": "x", "operator": "eq", "leftOperand": "purpose"}], "action": "read"}, {"action": "use"}]});
        assert!(identical_offer(&requested, &offered));
        let other_target = json!({"target": "urn:e", "permission": offered["permission"].clone()});
        assert!(!identical_offer(&requested, &other_target));
        let stricter = json!({"target": "urn:d", "permission": [{"action": "use"}],
            "prohibition": [{"action": "distribute"}]});
        assert!(!identical_offer(&requested, &stricter));
        let mut other_conflict = offered.clone();
        other_conflict["conflict"] = json!("prohibit");
        assert!(!identical_offer(&requested, &other_conflict));
    }
}
