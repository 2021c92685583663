//! `/api/v1/identity`: who this connector is to its partners, for operators: its participant id, and with DCP its
//! DID document URL and the credentials it presents, with their expiry; credentials are added and removed here (and
//! kept as files in `[dcp] credentials_dir`), each change recorded in the audit log.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use twinport_contracts::did::DidWeb;

use super::audit::record_management_action;
use super::auth::{Principal, Role};
use super::body;
use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::identity::dcp::wallet::{HeldCredential, WalletError};
use crate::identity::dcp::Dcp;

/// This connector's identity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdentityView {
    pub participant_id: String,
    /// Whether partners known by DID authenticate with verifiable credentials (`[dcp]`).
    pub dcp: bool,
    /// Where our DID document is (with DCP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_document: Option<String>,
    /// The credentials we present (with DCP).
    pub credentials: Vec<CredentialView>,
}

/// One credential we hold.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    /// Its file in the credentials directory; the id to remove it by.
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub types: Vec<String>,
    pub issuer: String,
    /// RFC 3339; absent when the credential does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Whole days until it expires (negative once it has).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
}

/// A credential to hold: a compact JWS (VCDM 1.1 JWT or VCDM 2.0 JOSE) about this connector's DID.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    pub credential: String,
}

fn view(c: HeldCredential) -> CredentialView {
    let now = time::OffsetDateTime::now_utc();
    CredentialView {
        file: c.file,
        id: c.id,
        types: c.types,
        issuer: c.issuer,
        expires: c.expires.and_then(|e| {
            e.format(&time::format_description::well_known::Rfc3339)
                .ok()
        }),
        days_left: c.expires.map(|e| (e - now).whole_days()),
    }
}

fn dcp(state: &Contracting) -> Result<&Dcp, ApiError> {
    state.partners().directory().dcp().ok_or_else(|| {
        ApiError::Conflict(
            "this connector does not speak DCP: add a [dcp] section to its config".into(),
        )
    })
}

fn wallet_error(e: WalletError) -> ApiError {
    match e {
        WalletError::Malformed { file: _, why } => ApiError::Validation {
            what: "credential".into(),
            errors: vec![crate::catalogue::FieldError {
                field: "credential".into(),
                problem: why,
            }],
        },
        WalletError::NotOurs { subject, did, .. } => ApiError::Validation {
            what: "credential".into(),
            errors: vec![crate::catalogue::FieldError {
                field: "credential".into(),
                problem: format!("it is about {subject}, not about this connector ({did})"),
            }],
        },
        WalletError::NotFound(file) => ApiError::NotFound(format!("credential {file}")),
        other => ApiError::Internal(other.to_string()),
    }
}

/// Read our identity
///
/// This connector's participant id and, with DCP, where its DID document is and the credentials it presents, with
/// their types, issuers and expiry.
#[utoipa::path(get, path = "/api/v1/identity", tag = "identity", operation_id = "read_identity",
    responses((status = 200, description = "Our identity", body = IdentityView)))]
pub async fn read(
    State(state): State<Contracting>,
    who: Principal,
) -> Result<Json<IdentityView>, ApiError> {
    who.require(Role::Viewer)?;
    let dcp = state.partners().directory().dcp();
    Ok(Json(IdentityView {
        participant_id: state.participant_id().to_string(),
        dcp: dcp.is_some(),
        did_document: dcp
            .and_then(|d| DidWeb::parse(d.did()).ok())
            .map(|d| d.document_url(true)),
        credentials: dcp
            .map(|d| d.wallet().list().into_iter().map(view).collect())
            .unwrap_or_default(),
    }))
}

/// Add a credential
///
/// Stores a verifiable credential (compact JWS) in the credentials directory for partners' presentation queries;
/// recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/identity/credentials", tag = "identity", operation_id = "create_credential",
    request_body(content = NewCredential, description = "The credential", example = json!({"credential": "eyJhbGciOiJFUzI1NiIsInR5cCI6InZjK2p3dCJ9.eyJpc3MiOiJkaWQ6d2ViOmlzc3Vlci5leGFtcGxlIn0.c2lnbmF0dXJl"})),
    responses((status = 201, description = "The credential stored; `Location` names it", body = CredentialView,
                   headers(("Location" = String, description = "The credential's address (to delete it)"))),
              (status = 409, description = "DCP is not configured, or the credential is held already", body = crate::error::Problem),
              (status = 422, description = "Not a credential we can hold, with the reason", body = crate::error::Problem)))]
pub async fn add(
    State(state): State<Contracting>,
    who: Principal,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    who.require(Role::Operator)?;
    let value = body::json(&body)?;
    let new: NewCredential = serde_json::from_value(value).map_err(|e| ApiError::Validation {
        what: "credential".into(),
        errors: vec![crate::catalogue::resource::serde_error(&e.to_string())],
    })?;
    let held = dcp(&state)?
        .wallet()
        .add(&new.credential)
        .map_err(wallet_error)?;
    record_management_action(
        &state,
        &who,
        "credential.add",
        None,
        serde_json::json!({"file": held.file, "types": held.types, "issuer": held.issuer}),
    )
    .await?;
    let location = super::created::address("identity/credentials", &held.file);
    Ok(super::created::created(&location, view(held)))
}

/// Remove a credential
///
/// Deletes a held credential's file; recorded in the audit log.
#[utoipa::path(delete, path = "/api/v1/identity/credentials/{file}", tag = "identity", operation_id = "delete_credential",
    params(("file" = String, Path, description = "the credential's file name, as `GET /api/v1/identity` shows it")),
    responses((status = 204, description = "The credential is removed"),
              (status = 404, description = "No such credential", body = crate::error::Problem),
              (status = 409, description = "DCP is not configured", body = crate::error::Problem)))]
pub async fn remove(
    State(state): State<Contracting>,
    who: Principal,
    Path(file): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Role::Operator)?;
    dcp(&state)?.wallet().remove(&file).map_err(wallet_error)?;
    record_management_action(
        &state,
        &who,
        "credential.remove",
        None,
        serde_json::json!({"file": file}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
