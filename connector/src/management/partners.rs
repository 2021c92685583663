//! `/api/v1/partners`: the partner connectors this city trusts, and their catalogues as they publish them to us.
//! Partners come from two places: the config file's `[[partners]]` (changed by editing the file and sending
//! SIGHUP; read-only here) and this API (stored, loaded again at every start). An id is in one of them only.
//! Each change holds the partners' change lock from its checks to the directory's change, so the background sync
//! with the store never applies what it read before the change. The audit entries of changes and removals carry
//! the partner as it was before (its RFC 8785 digest and body: partner data is not personal data).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

use super::auth::{Principal, Role};
use super::{body, ManagementEntry};
use crate::catalogue::FieldError;
use crate::config::{ConfigError, PartnerConfig, PartnerKeys};
use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::identity::PartnerSource;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `inline` or the JWKS URL the keys are fetched from.
    pub keys: String,
    /// Claims we attest for this partner, as policies see them.
    #[schema(value_type = Object)]
    pub claims: Value,
    /// `file` (the config file's `[[partners]]`: edit the file and send SIGHUP) or `api`.
    pub source: String,
}

/// A partner as the API accepts it: the fields of a `[[partners]]` entry, in JSON.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // the schema the document shows; the body is read by the config's own partner checks
pub struct PartnerInput {
    /// The partner's participant id (an absolute URI); optional on PUT, where the path names it.
    pub id: Option<String>,
    pub name: Option<String>,
    /// Root URL of the partner's connector (where `/.well-known/dspace-version` lives).
    pub url: Option<String>,
    /// The partner's public keys as a JWK Set; give this or `jwks_url`.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    /// Where the partner publishes its JWK Set (http or https).
    pub jwks_url: Option<String>,
    /// How long fetched keys are kept (default 300).
    pub jwks_cache_seconds: Option<u64>,
    /// Claims this connector attests for the partner, as policies see them.
    #[schema(value_type = Option<Object>)]
    pub claims: Option<Value>,
}

fn view(p: PartnerConfig, source: Option<PartnerSource>) -> PartnerView {
    PartnerView {
        keys: match &p.keys {
            PartnerKeys::Inline(_) => "inline".into(),
            PartnerKeys::Url { url, .. } => url.clone(),
            PartnerKeys::Did => "did".into(),
        },
        claims: Value::Object(p.claims),
        id: p.id,
        name: p.name,
        url: p.url,
        source: source.unwrap_or(PartnerSource::File).as_str().into(),
    }
}

/// List partners
///
/// Every partner this connector trusts, from the config file and from this API, ordered by id.
#[utoipa::path(get, path = "/api/v1/partners", tag = "partners", operation_id = "list_partners", params(PartnerQuery),
    responses((status = 200, description = "the partners, each with its source", body = [PartnerView],
                   headers(("Link" = String, description = "Present when more rows follow: `<target of the next page>; rel=\"next\"`"))),
              (status = 400, description = "An unknown query parameter, or a value that cannot be used; `errors` names each",
               content_type = "application/problem+json", body = crate::error::Problem)))]
pub async fn list(
    State(state): State<Contracting>,
    who: Principal,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Result<super::paging::Listed<PartnerView>, ApiError> {
    who.require(Role::Viewer)?;
    let (q, mut checks): (PartnerQuery, _) = super::paging::query(&uri)?;
    let source = checks.one_of("source", q.source, &["file", "api"]);
    let page = checks.page(q.limit, q.cursor, 1);
    checks.done()?;
    let directory = state.partners().directory();
    // The directory is in memory: the page is cut from it in the same id order a stored list has.
    let mut rows: Vec<PartnerView> = directory
        .all()
        .into_iter()
        .map(|p| {
            let source = directory.source(&p.id);
            view(p, source)
        })
        .filter(|v| source.as_deref().is_none_or(|s| v.source == s))
        .filter(|v| page.after.as_ref().is_none_or(|after| v.id > after[0]))
        .collect();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    let limit = page.limit as usize;
    let next = (rows.len() > limit).then(|| vec![rows[limit - 1].id.clone()]);
    rows.truncate(limit);
    let page = crate::storage::Page { items: rows, next };
    super::paging::Listed::of(&uri, page, |v| async move { Ok(v) }).await
}

/// Filters and page of `GET /api/v1/partners`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    /// Rows in the page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// Where the page starts: the `cursor` in the previous page's `Link` header.
    pub cursor: Option<String>,
    /// Only partners from the config file (`file`) or added through this API (`api`).
    pub source: Option<String>,
}

/// Read a partner
///
/// One partner, from the config file or from this API.
#[utoipa::path(get, path = "/api/v1/partners/{id}", tag = "partners", operation_id = "read_partner",
    params(("id" = String, Path, description = "partner participant id, percent-encoded")),
    responses((status = 200, description = "the partner", body = PartnerView),
              (status = 404, description = "no such partner", content_type = "application/problem+json",
               body = crate::error::Problem)))]
pub async fn read(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<PartnerView>, ApiError> {
    who.require(Role::Viewer)?;
    let (partner, source) = existing(&state, &id)?;
    Ok(Json(view(partner, Some(source))))
}

/// Add a partner
///
/// Trusts a new partner connector at once: its tokens verify from the next request on, and it is stored and
/// loaded again at every start. A partner the config file declares cannot be added here.
#[utoipa::path(post, path = "/api/v1/partners", tag = "partners", operation_id = "create_partner",
    request_body = PartnerInput,
    responses((status = 201, description = "the partner, trusted from now on; `Location` names it", body = PartnerView),
              (status = 409, description = "the id is a partner already (from the config file or this API)",
               content_type = "application/problem+json", body = crate::error::Problem),
              (status = 422, description = "a field is invalid; `errors` names it",
               content_type = "application/problem+json", body = crate::error::Problem)))]
pub async fn create(
    State(state): State<Contracting>,
    who: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    who.require(Role::Operator)?;
    let value = body::json(&body)?;
    let partner = validated(&state, value.clone())?;
    let id = partner.id.clone();
    let _changing = state.partners().changing().await;
    refuse_file_owned(
        &state,
        &id,
        "is declared in the config file; edit its [[partners]] entry and send SIGHUP",
    )?;
    if state.partners().directory().source(&id) == Some(PartnerSource::Api) {
        return Err(ApiError::Conflict(format!(
            "partner {id} exists; use PUT /api/v1/partners/{{id}} to change it"
        )));
    }
    let entry = entry(
        &who,
        "partner.create",
        serde_json::json!({"partner": id, "digest": crate::audit::digest(&value), "body": value}),
        None,
    )?;
    if !state.store().insert_api_partner(&id, &value).await? {
        return Err(ApiError::Conflict(format!(
            "partner {id} exists; use PUT /api/v1/partners/{{id}} to change it"
        )));
    }
    if !state.partners().put_api(partner.clone()) {
        // The config file declared it in the meantime (a reload): the file wins, the row is not kept.
        state.store().delete_api_partner(&id).await?;
        return Err(file_owned(&id, "is declared in the config file"));
    }
    entry.record(&state).await?;
    tracing::info!(subject = %who.subject, partner = %id, "partner added through the management API");
    Ok(super::created::created(
        &super::created::address("partners", &id),
        view(partner, Some(PartnerSource::Api)),
    ))
}

/// Change a partner
///
/// Replaces an API partner's name, URL, keys (inline JWKS or JWKS URL) and claims; the old keys stop verifying
/// at once and what was discovered about the partner (its DSP endpoint, its extensions) is asked again.
#[utoipa::path(put, path = "/api/v1/partners/{id}", tag = "partners", operation_id = "update_partner",
    params(("id" = String, Path, description = "partner participant id, percent-encoded")),
    request_body = PartnerInput,
    responses((status = 200, description = "the partner as changed", body = PartnerView),
              (status = 404, description = "no such partner", content_type = "application/problem+json",
               body = crate::error::Problem),
              (status = 409, description = "the partner is declared in the config file",
               content_type = "application/problem+json", body = crate::error::Problem),
              (status = 422, description = "a field is invalid; `errors` names it",
               content_type = "application/problem+json", body = crate::error::Problem)))]
pub async fn update(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<PartnerView>, ApiError> {
    who.require(Role::Operator)?;
    let mut value = body::json(&body)?;
    if let Some(obj) = value.as_object_mut() {
        obj.entry("id").or_insert_with(|| Value::String(id.clone()));
    }
    let partner = validated(&state, value.clone())?;
    if partner.id != id {
        return Err(invalid(
            "id",
            format!("does not match the id in the path ({id})"),
        ));
    }
    let _changing = state.partners().changing().await;
    refuse_file_owned(
        &state,
        &id,
        "is declared in the config file; edit its [[partners]] entry and send SIGHUP",
    )?;
    let Some(before) = state.store().api_partner(&id).await? else {
        return Err(ApiError::NotFound(format!("partner {id}")));
    };
    let entry = entry(
        &who,
        "partner.update",
        serde_json::json!({"partner": id, "digest": crate::audit::digest(&value), "body": value}),
        Some(&before.body),
    )?;
    if !state.store().update_api_partner(&id, &value).await? {
        return Err(ApiError::NotFound(format!("partner {id}")));
    }
    if !state.partners().put_api(partner.clone()) {
        return Err(file_owned(&id, "is declared in the config file"));
    }
    entry.record(&state).await?;
    tracing::info!(subject = %who.subject, partner = %id, "partner changed through the management API");
    Ok(Json(view(partner, Some(PartnerSource::Api))))
}

/// Remove a partner
///
/// Stops trusting an API partner at once: its tokens are refused from the next request on, its pull tokens stop
/// serving data, and what was discovered about it is forgotten. Its negotiations, agreements and audit entries
/// stay. For an id the config file declares, the stored API entry it hides (if any) is removed and the file's
/// entry stays in force (200, saying so); with no stored entry that is a conflict (409).
#[utoipa::path(delete, path = "/api/v1/partners/{id}", tag = "partners", operation_id = "delete_partner",
    params(("id" = String, Path, description = "partner participant id, percent-encoded")),
    responses((status = 204, description = "the partner is no longer trusted"),
              (status = 200, description = "the stored API entry hidden by the config file's entry was removed; \
                   the file's entry stays in force", body = PartnerRemoved),
              (status = 404, description = "no such partner", content_type = "application/problem+json",
               body = crate::error::Problem),
              (status = 409, description = "the partner is declared in the config file and has no stored API entry",
               content_type = "application/problem+json", body = crate::error::Problem)))]
pub async fn delete(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require(Role::Operator)?;
    let _changing = state.partners().changing().await;
    let file_owned = state.partners().directory().source(&id) == Some(PartnerSource::File);
    let Some(before) = state.store().api_partner(&id).await? else {
        if file_owned {
            return Err(self::file_owned(
                &id,
                "is declared in the config file; remove its [[partners]] entry and send SIGHUP",
            ));
        }
        return Err(ApiError::NotFound(format!("partner {id}")));
    };
    let entry = entry(
        &who,
        "partner.delete",
        serde_json::json!({"partner": id}),
        Some(&before.body),
    )?;
    state.store().delete_api_partner(&id).await?;
    if !file_owned {
        state.partners().remove_api(&id);
    }
    entry.record(&state).await?;
    tracing::info!(subject = %who.subject, partner = %id, "partner removed through the management API");
    if file_owned {
        return Ok(Json(PartnerRemoved {
            detail: format!(
                "the stored API entry of partner {id} was removed; the config file declares it too and its entry \
                 stays in force: remove its [[partners]] entry and send SIGHUP to stop trusting it"
            ),
            id,
            source: PartnerSource::File.as_str().into(),
        })
        .into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What `DELETE` removed when the config file declares the partner too.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerRemoved {
    pub id: String,
    /// Where the entry still in force comes from: `file`.
    pub source: String,
    pub detail: String,
}

/// Read a partner's catalogue
///
/// The partner's DSP catalogue, as it publishes it to us, read whole (every page).
#[utoipa::path(get, path = "/api/v1/partners/{id}/catalog", tag = "partners", operation_id = "read_partner_catalog",
    params(("id" = String, Path, description = "partner participant id, percent-encoded")),
    responses((status = 200, description = "the partner's DSP catalogue, as it publishes it to us", body = Object),
              (status = 404, description = "no such partner", content_type = "application/problem+json",
               body = crate::error::Problem),
              (status = 502, description = "the partner's catalogue could not be read whole",
               content_type = "application/problem+json", body = crate::error::Problem)))]
pub async fn catalog(
    State(state): State<Contracting>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require(Role::Operator)?;
    let partner = state
        .partners()
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("partner {id}")))?;
    // Relayed as the text the pages arrived in: a catalogue of thousands of datasets is never held as a JSON tree.
    let catalog = state
        .partners()
        .client()
        .catalog_text(&partner, Vec::new())
        .await
        .map_err(|e| ApiError::BadGateway(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], catalog).into_response())
}

/// A partner with an entry in the directory (a partner known only by DID has none, so it cannot be read here).
fn existing(state: &Contracting, id: &str) -> Result<(PartnerConfig, PartnerSource), ApiError> {
    let directory = state.partners().directory();
    match (directory.source(id), directory.get(id)) {
        (Some(source), Some(partner)) => Ok((partner, source)),
        _ => Err(ApiError::NotFound(format!("partner {id}"))),
    }
}

/// A partner change's audit entry. `change` may hold the new `body`; `before`, the stored body it replaces or
/// removes, goes in as its digest and body, so an auditor can tell which keys and claims were trusted before.
/// Bodies too large for one entry are kept by their digests alone: no change, least of all a removal, is refused
/// for the size of what it records.
pub fn entry(
    who: &Principal,
    action: &str,
    change: Value,
    before: Option<&Value>,
) -> Result<ManagementEntry, ApiError> {
    let mut change = change;
    if let (Some(before), Some(obj)) = (before, change.as_object_mut()) {
        obj.insert(
            "before".into(),
            serde_json::json!({"digest": crate::audit::digest(before), "body": before}),
        );
    }
    match ManagementEntry::new(who, action, None, change.clone()) {
        Ok(entry) => Ok(entry),
        Err(_) => {
            if let Some(obj) = change.as_object_mut() {
                omit_body(obj);
                if let Some(before) = obj.get_mut("before").and_then(Value::as_object_mut) {
                    omit_body(before);
                }
            }
            ManagementEntry::new(who, action, None, change)
        }
    }
}

fn omit_body(obj: &mut serde_json::Map<String, Value>) {
    if obj.remove("body").is_some() {
        obj.insert("body_omitted".into(), "too large for an audit entry".into());
    }
}

fn refuse_file_owned(state: &Contracting, id: &str, why: &str) -> Result<(), ApiError> {
    if state.partners().directory().source(id) == Some(PartnerSource::File) {
        return Err(file_owned(id, why));
    }
    Ok(())
}

fn file_owned(id: &str, why: &str) -> ApiError {
    ApiError::Conflict(format!("partner {id} {why}"))
}

/// The body checked as strictly as a `[[partners]]` entry, plus what only the running connector knows: its own
/// participant id, whether it speaks DCP, and the id rule every audited value obeys.
pub fn validated(state: &Contracting, value: Value) -> Result<PartnerConfig, ApiError> {
    check_types(&value)?;
    let partner = crate::config::partner_from_json(value).map_err(|e| match e {
        ConfigError::Invalid { key, problem } => invalid(&key, problem),
        ConfigError::Syntax { message } | ConfigError::Read { message, .. } => {
            ApiError::Validation {
                what: "partner".into(),
                errors: vec![crate::catalogue::resource::serde_error(&message)],
            }
        }
    })?;
    // A key the connector could never verify with is a mistake to say now, not at the partner's first request.
    if let PartnerKeys::Inline(jwks) = &partner.keys {
        for (i, key) in jwks.keys.iter().enumerate() {
            if let Err(e) = twinport_contracts::identity::jwk_thumbprint(key) {
                return Err(invalid("jwks", format!("keys[{i}]: {e}")));
            }
        }
    }
    if let Err(e) = twinport_contracts::ids::check_id(&partner.id) {
        return Err(invalid("id", e.to_string()));
    }
    if partner.id == state.participant_id() {
        return Err(invalid("id", "is this connector's own participant_id"));
    }
    if matches!(partner.keys, PartnerKeys::Did) && state.partners().directory().dcp().is_none() {
        return Err(invalid(
            "jwks",
            "required: the partner's public keys (jwks) or where to fetch them (jwks_url); a partner known \
             only by its DID needs a [dcp] section",
        ));
    }
    Ok(partner)
}

/// Types first, so a value of the wrong type is refused naming its field (serde's own message would not).
fn check_types(value: &Value) -> Result<(), ApiError> {
    let Some(obj) = value.as_object() else {
        return Err(ApiError::Malformed("expected a JSON object".into()));
    };
    for (field, v) in obj {
        let expected = match field.as_str() {
            "id" | "name" | "url" | "jwks_url" if !v.is_string() => "a string",
            "jwks" | "claims" if !v.is_object() => "a JSON object",
            "jwks_cache_seconds" if !v.is_u64() => "a whole number of seconds",
            _ => continue,
        };
        return Err(invalid(field, format!("must be {expected}")));
    }
    Ok(())
}

fn invalid(field: &str, problem: impl Into<String>) -> ApiError {
    ApiError::Validation {
        what: "partner".into(),
        errors: vec![FieldError {
            field: field.into(),
            problem: problem.into(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_are_refused_naming_the_field() {
        for (body, field) in [
            (serde_json::json!({"id": 5}), "id"),
            (serde_json::json!({"url": ["x"]}), "url"),
            (serde_json::json!({"jwks": "k"}), "jwks"),
            (serde_json::json!({"claims": 1}), "claims"),
            (
                serde_json::json!({"jwks_cache_seconds": -1}),
                "jwks_cache_seconds",
            ),
        ] {
            match check_types(&body) {
                Err(ApiError::Validation { errors, .. }) => assert_eq!(errors[0].field, field),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(check_types(&serde_json::json!({"id": "https://c.example", "claims": {}})).is_ok());
    }

    #[test]
    fn a_body_too_large_for_an_entry_is_kept_by_its_digest_and_the_removal_still_recorded() {
        let who = Principal {
            subject: "op".into(),
            name: None,
            email: None,
            roles: Vec::new(),
        };
        let small = serde_json::json!({"id": "https://c.example", "claims": {"a": 1}});
        let large = serde_json::json!({"id": "https://c.example",
            "claims": {"blob": "x".repeat(crate::audit::MAX_LEAF_BYTES)}});
        let change = serde_json::json!({"partner": "https://c.example"});
        assert!(entry(&who, "partner.delete", change.clone(), Some(&small)).is_ok());
        // Whole, the large body could not be recorded at all; by its digest, its removal is.
        let whole = serde_json::json!({"partner": "https://c.example", "before": {"body": large}});
        assert!(ManagementEntry::new(&who, "partner.delete", None, whole).is_err());
        assert!(entry(&who, "partner.delete", change.clone(), Some(&large)).is_ok());
        let mut update = change;
        update["body"] = large.clone();
        assert!(entry(&who, "partner.update", update, Some(&large)).is_ok());
    }
}
