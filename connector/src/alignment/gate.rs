//! The consumer's rule that a negotiation for a partner's model, or for a dataset already checked as a model's
//! input, goes out only after a passing alignment check of the descriptions as the partner publishes them now
//! (`[contracts] require_alignment`). A check of an older description does not count: the partner may have
//! changed the model's inputs since.

use serde_json::Value;
use time::OffsetDateTime;

use super::report::passes;
use super::resolve::published_description;
use crate::align::Verdict;
use crate::catalogue::ResourceKind;
use crate::contracting::Contracting;
use crate::error::ApiError;

/// Refuses (409, saying which check to run) a negotiation `partner`'s `dataset` needs a check for and lacks one.
pub async fn before_negotiation(
    c: &Contracting,
    partner: &str,
    dataset_id: &str,
    dataset: &Value,
) -> Result<(), ApiError> {
    let settings = c.settings();
    if !settings.require_alignment {
        return Ok(());
    }
    let described = published_description(dataset).map_err(|e| {
        ApiError::BadGateway(format!(
            "{partner} publishes a description of {dataset_id} that cannot be read: {e}"
        ))
    })?;
    let store = c.store();
    let since = OffsetDateTime::now_utc().unix_timestamp()
        - i64::try_from(settings.alignment_max_age.as_secs()).unwrap_or(i64::MAX);
    // The kind as published (`dct:type`), so a model that describes nothing is still known as a model.
    let published_kind = dataset
        .get("dct:type")
        .into_iter()
        .flat_map(|t| t.as_array().cloned().unwrap_or_else(|| vec![t.clone()]))
        .filter_map(|t| {
            t.get("@id")
                .and_then(Value::as_str)
                .or(t.as_str())
                .and_then(ResourceKind::parse)
        })
        .next();
    let is_model = described
        .as_ref()
        .map(|d| d.kind)
        .or(published_kind)
        .is_some_and(|k| k == ResourceKind::ModelOrService);
    if is_model && described.as_ref().and_then(|d| d.model.as_ref()).is_none() {
        return Err(ApiError::Conflict(format!(
            "{dataset_id} is a model, and this connector requires a passing alignment check before it negotiates              for one; {partner} publishes no model descriptor for it, so its inputs cannot be checked"
        )));
    }
    let role = if is_model {
        "model"
    } else if store.ever_aligned_as(partner, dataset_id, "input").await? {
        "input"
    } else {
        // Not a model, and never checked as any model's input: nothing to hold it to.
        return Ok(());
    };
    let digest = described.as_ref().map(|d| d.digest()).unwrap_or_default();
    let hours = settings.alignment_max_age.as_secs() / 3600;
    let what = if is_model {
        format!("{dataset_id} is a model")
    } else {
        format!("{dataset_id} was checked as a model's input")
    };
    let run = if is_model {
        format!("twinport align --model {dataset_id}@{partner} --input NAME --dataset ID[@PARTNER] (one --input/--dataset pair per input)")
    } else {
        format!("twinport align --model MODEL --input NAME --dataset {dataset_id}@{partner}")
    };
    let latest = store
        .latest_alignment_of(partner, dataset_id, role, since)
        .await?;
    let refusal = match latest {
        None => format!(
            "{what}, and this connector requires a passing alignment check of the last {hours} h before it \
             negotiates for it; none was recorded. Run: {run}"
        ),
        Some((_, s)) if s.digest != digest => format!(
            "{what}; {partner} has changed its description since the last alignment check, so that check no \
             longer counts. Run it again: {run}"
        ),
        Some((id, s)) if !passes(Verdict::parse(&s.verdict)) => format!(
            "{what}, and the last alignment check ({id}) found it {}: see GET /api/v1/alignment/{id} for the \
             reasons, then check again with other data: {run}",
            s.verdict
        ),
        Some(_) => return Ok(()),
    };
    Err(ApiError::Conflict(refusal))
}
