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

/// The largest catalogue filter an entry keeps verbatim, in canonical bytes.
const MAX_FILTER_IN_ENTRY: usize = 4096;

/// A catalogue response, recorded before it is sent.
pub async fn record_catalogue_served(
    state: &AppState,
    partner: &str,
    filter: &[Value],
    shown: usize,
    matching: usize,
) -> Result<u64, AuditError> {
    // A filter is the partner's free-form JSON: past a few kilobytes only its digest is kept, so the entry (and
    // so the answer, which waits on it) never fails on the partner's input.
    let filter = json!(filter);
    let filter = match canonicalize(&filter) {
        Ok(bytes) if bytes.len() <= MAX_FILTER_IN_ENTRY => filter,
        _ => json!({"digest": digest(&filter)}),
    };
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

/// A management change's entry, made and checked before the change: an entry that could not be written (too
/// large, not canonicalisable) refuses the change instead of leaving it committed and unrecorded.
pub struct ManagementEntry(AuditEvent);

impl ManagementEntry {
    /// Who made the change is personal data: it goes to the erasable side table, the leaf keeps a salted
    /// commitment to it.
    pub fn new(
        who: &Principal,
        action: &str,
        resource: Option<&str>,
        details: Value,
    ) -> Result<ManagementEntry, ApiError> {
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
        super::prepare(e.clone(), time::OffsetDateTime::now_utc()).map_err(|err| {
            ApiError::Malformed(format!(
                "the change cannot be recorded in the audit log: {err}"
            ))
        })?;
        Ok(ManagementEntry(e))
    }

    /// Appends the entry, once the change committed.
    pub async fn record(self, state: &AppState) -> Result<u64, ApiError> {
        Ok(state.audit().append(self.0).await?)
    }
}

/// A management change whose entry cannot outgrow its leaf (its values obey the id rule), recorded after it.
pub async fn record_management_action(
    state: &AppState,
    who: &Principal,
    action: &str,
    resource: Option<&str>,
    details: Value,
) -> Result<u64, ApiError> {
    ManagementEntry::new(who, action, resource, details)?
        .record(state)
        .await
}
