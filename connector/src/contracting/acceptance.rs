//! Which offers a consumer accepts without its operator. An offer identical to the terms we requested was chosen
//! by our operator already. Beyond that, a city's legal team may pre-approve terms as an *acceptance policy*
//! (`[contracts] accept_policy`, or `accept_policy` on a partner): an offer whose terms mean the same as that
//! policy's (compared rule by rule, as `twinport policy diff` does, so order and rule ids do not matter) is
//! accepted at once; any other offer waits for the operator, and the history records how it differs. A policy
//! that is missing or unreadable accepts nothing (fail closed).

use serde_json::Value;

use super::Contracting;
use super::ProcessError;

/// The offer's terms without what names the deal rather than the terms (which dataset, which parties): an
/// acceptance policy pre-approves terms for any dataset of any partner it applies to.
fn terms_only(offer: &Value) -> Value {
    let mut terms = offer.clone();
    let strip = |v: &mut Value| {
        if let Some(o) = v.as_object_mut() {
            for key in ["target", "assigner", "assignee"] {
                o.remove(key);
            }
        }
    };
    strip(&mut terms);
    for kind in ["permission", "prohibition", "obligation"] {
        if let Some(rules) = terms.get_mut(kind).and_then(Value::as_array_mut) {
            rules.iter_mut().for_each(strip);
        }
    }
    terms
}

/// What to do with an offer, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accept at once.
    Accept(String),
    /// Leave it to the operator.
    Operator(String),
}

/// Judges `offer` from `partner` against the acceptance policy that applies, if one is configured.
pub async fn judge(
    state: &Contracting,
    partner: &str,
    offer: &Value,
) -> Result<Option<Verdict>, ProcessError> {
    let Some(id) = state.settings().accept_policy_for(partner) else {
        return Ok(None);
    };
    if state.settings().require_alignment {
        // Whether the offer is for a model (or a checked input) shows only in the partner's catalogue, which is
        // read when the operator accepts: that is where the alignment rule is applied.
        return Ok(Some(Verdict::Operator(
            "this connector checks alignment before it agrees to a partner's model or its inputs, so offers wait              for the operator's accept"
                .into(),
        )));
    }
    let Some(policy) = state.store().policy(id).await? else {
        return Ok(Some(Verdict::Operator(format!(
            "acceptance policy {id} does not exist, so no offer is accepted without the operator"
        ))));
    };
    let accepted = match super::decision::parse(&policy.body) {
        Ok(p) => p,
        Err(e) => {
            return Ok(Some(Verdict::Operator(format!(
                "acceptance policy {id} v{} cannot be read ({e}), so no offer is accepted without the operator",
                policy.version
            ))))
        }
    };
    let offered = match super::decision::parse(&terms_only(offer)) {
        Ok(p) => p,
        Err(e) => {
            return Ok(Some(Verdict::Operator(format!(
                "the offer cannot be read as a policy ({e})"
            ))))
        }
    };
    let changes = twinport_policy::diff::diff(&accepted, &offered, state.policy_time_zone());
    Ok(Some(if changes.is_empty() {
        Verdict::Accept(format!(
            "the offer's terms are those of acceptance policy {id} v{}",
            policy.version
        ))
    } else {
        let lines: Vec<String> = changes.iter().take(8).map(ToString::to_string).collect();
        Verdict::Operator(format!(
            "the offer differs from acceptance policy {id} v{}: {}",
            policy.version,
            lines.join("; ")
        ))
    }))
}

#[cfg(test)]
mod tests {
    use super::terms_only;
    use serde_json::json;

    #[test]
    fn the_terms_of_an_offer_leave_out_its_dataset_and_parties() {
        let offer = json!({
            "@id": "urn:o", "@type": "Offer", "target": "urn:d", "assigner": "urn:a",
            "permission": [{"action": "use", "target": "urn:d", "assignee": "urn:b",
                            "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "x"}]}]
        });
        assert_eq!(
            terms_only(&offer),
            json!({"@id": "urn:o", "@type": "Offer", "permission": [{"action": "use",
                   "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "x"}]}]})
        );
    }
}
