//! The events the connector's own handlers record, in one place so every call site stays a single line and every
//! entry of a kind has the same shape.

use serde_json::{json, Value};
use twinport_contracts::canonical::{canonicalize, sha256_hex};

use super::{AuditError, AuditEvent, EventKind};
use crate::app::AppState;
use crate::error::ApiError;
use crate::management::Principal;

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::OutOfRange(m) => ApiError::NotFound(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// SHA-256 of a document's canonical form: what an entry holds instead of the document itself.
pub fn digest(v: &Value) -> Option<String> {
    canonicalize(v)
        .ok()
        .map(|b| format!("sha256:{}", sha256_hex(&b)))
}

/// A catalogue response, recorded before it is sent.
pub async fn record_catalogue_served(
    state: &AppState,
    partner: &str,
    filter: &[Value],
    shown: usize,
    matching: usize,
) -> Result<u64, AuditError> {
    let mut details = json!({"filter": filter, "shown": shown, "matching": matching});
    if let Some(d) = super::received::message_digest() {
        details["body"] = Value::String(d);
    }
    let mut e = AuditEvent::new(EventKind::CatalogueServed, details);
    e.partner = Some(partner.to_owned());
    let index = state.audit().append(e).await.inspect_err(|err| {
        tracing::error!(error = %err, "cannot record catalogue request");
    })?;
    super::received::note_entry(index);
    Ok(index)
}

/// A management change. Who made it is personal data: it goes to the erasable side table, the leaf keeps a
/// salted commitment to it.
pub async fn record_management_action(
    state: &AppState,
    who: &Principal,
    action: &str,
    resource: Option<&str>,
    details: Value,
) -> Result<u64, ApiError> {
    let mut e = AuditEvent::new(
        EventKind::ManagementAction,
        json!({"action": action, "change": details}),
    );
    e.resource = resource.map(str::to_owned);
    let mut personal = json!({"subject": who.subject});
    if let Some(name) = &who.name {
        personal["name"] = json!(name);
    }
    if let Some(email) = &who.email {
        personal["email"] = json!(email);
    }
    e.personal = Some(personal);
    Ok(state.audit().append(e).await?)
}
