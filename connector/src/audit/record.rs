//! Events recorded by the connector's own handlers, in one place so every call site stays a single line and every
//! entry of a kind has the same shape (management actions are recorded by `management/audit.rs`).

use serde_json::{json, Value};
use twinport_contracts::canonical::{canonicalize, sha256_hex};

use super::{AuditError, AuditEvent, AuditLog, EventKind};
use crate::error::ApiError;

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
    audit: &AuditLog,
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
    let index = audit.append(e).await.inspect_err(|err| {
        tracing::error!(error = %err, "cannot record catalogue request");
    })?;
    super::received::note_entry(index);
    Ok(index)
}
