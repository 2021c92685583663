//! `GET /data/{providerPid}/receipts/{requestId}`: the signed receipt of one response. The partner may present the
//! transfer's bearer token or, once the transfer ended and the token was revoked, a DSP identity token of its own
//! (the same check as every DSP endpoint); either way only the partner that owns the transfer gets its receipts.
//! While the body is still streaming the endpoint waits for the record (up to [`WAIT`]), so a consumer that reads
//! the body and then asks for the receipt never races the provider. Receipts are stored unsigned and signed here,
//! on the way out ([`signed`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::access::{bearer, check_peer, transfer_for_token};
use super::problem::Refusal;
use crate::app::AppState;
use crate::contracting::PROVIDER;
use crate::identity::authenticate;
use crate::storage::TransferRecord;
use crate::tls::TlsPeer;
use twinport_contracts::identity::SigningKey;
use twinport_contracts::receipt::{sign_receipt, AccessReceipt, SignedReceipt};

/// Longest the endpoint waits for a body still being served.
pub const WAIT: Duration = Duration::from_secs(10);

/// Requests whose receipts are not written yet.
#[derive(Default)]
pub struct Pending(Mutex<HashMap<String, watch::Sender<bool>>>);

impl Pending {
    /// Called before the response leaves, so a receipt request can never miss it.
    pub fn register(&self, request_id: &str) {
        let (tx, _) = watch::channel(false);
        if let Ok(mut m) = self.0.lock() {
            m.insert(request_id.to_string(), tx);
        }
    }

    /// Called after the receipt was stored (or could not be).
    pub fn done(&self, request_id: &str) {
        if let Ok(mut m) = self.0.lock() {
            if let Some(tx) = m.remove(request_id) {
                let _ = tx.send(true);
            }
        }
    }

    fn watch(&self, request_id: &str) -> Option<watch::Receiver<bool>> {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(request_id).map(watch::Sender::subscribe))
    }

    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn owner(
    state: &AppState,
    pid: &str,
    headers: &HeaderMap,
    peer: Option<&TlsPeer>,
) -> Result<TransferRecord, Refusal> {
    let token = bearer(headers).ok_or_else(|| {
        Refusal::unauthorized("the transfer's token or a DSP identity token is required")
    })?;
    if let Ok(t) = transfer_for_token(state, pid, token, peer).await {
        return Ok(t);
    }
    let partner = authenticate(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        state.participant_id(),
        state.partners(),
        state.store(),
    )
    .await
    .map_err(|e| {
        Refusal::unauthorized(format!(
            "neither the transfer's token nor a valid identity token ({e})"
        ))
    })?;
    state
        .store()
        .transfer_by_pid(PROVIDER, pid)
        .await
        .map_err(Refusal::internal)?
        .filter(|t| t.partner == partner.id)
        .ok_or_else(|| Refusal::not_found("no such transfer of yours"))
        .and_then(|t| check_peer(state, &t.partner, peer).map(|()| t))
}

pub async fn get(
    State(state): State<AppState>,
    Path((pid, request_id)): Path<(String, String)>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
) -> Response {
    let peer = TlsPeer::of(&extensions);
    match receipt(&state, &pid, &request_id, &headers, peer).await {
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(r) => r.into_response(),
    }
}

async fn receipt(
    state: &AppState,
    pid: &str,
    request_id: &str,
    headers: &HeaderMap,
    peer: Option<&TlsPeer>,
) -> Result<String, Refusal> {
    let transfer = owner(state, pid, headers, peer).await?;
    let waiting = state.data_plane().pending().watch(request_id);
    let mut stored = state
        .store()
        .receipt(request_id)
        .await
        .map_err(Refusal::internal)?;
    if stored.is_none() {
        if let Some(mut rx) = waiting {
            if tokio::time::timeout(WAIT, rx.wait_for(|done| *done))
                .await
                .is_err()
            {
                return Err(Refusal::new(
                    StatusCode::CONFLICT,
                    "receipt-pending",
                    "the response is still being served; ask again when the body has ended",
                ));
            }
            stored = state
                .store()
                .receipt(request_id)
                .await
                .map_err(Refusal::internal)?;
        }
    }
    let body = stored
        .filter(|r| r.transfer_id == transfer.id && r.partner == transfer.partner)
        .map(|r| r.body)
        .ok_or_else(|| Refusal::not_found("no receipt with this request id for this transfer"))?;
    signed(state.identity().key(), &body)
}

/// The signed receipt for a stored body: the receipt as recorded, signed now, or (as stored by earlier versions,
/// which signed every receipt when recording it) already signed. A body that is neither is an internal error.
pub fn signed(key: &SigningKey, body: &str) -> Result<String, Refusal> {
    if serde_json::from_str::<SignedReceipt>(body).is_ok() {
        return Ok(body.to_string());
    }
    let receipt: AccessReceipt = serde_json::from_str(body)
        .map_err(|e| Refusal::internal(format!("stored receipt unreadable: {e}")))?;
    let signed = sign_receipt(key, receipt).map_err(Refusal::internal)?;
    serde_json::to_string(&signed).map_err(Refusal::internal)
}

#[cfg(test)]
mod tests {
    use super::signed;
    use twinport_contracts::identity::{KeyAlgorithm, SigningKey};
    use twinport_contracts::receipt::{sign_receipt, AccessReceipt, SignedReceipt, RECEIPT_TYPE};

    fn receipt() -> AccessReceipt {
        AccessReceipt {
            receipt_type: RECEIPT_TYPE.into(),
            request_id: "r1".into(),
            provider: "https://a.example".into(),
            consumer: "https://b.example".into(),
            agreement_id: "urn:uuid:1".into(),
            transfer_id: "t1".into(),
            method: "GET".into(),
            path: "/kb".into(),
            status: 200,
            bytes: 1024,
            sha256: "00".repeat(32),
            complete: true,
            started_at: "2026-11-24T08:00:00Z".into(),
            finished_at: "2026-11-24T08:00:01Z".into(),
            audit_index: Some(7),
        }
    }

    #[test]
    fn a_stored_receipt_is_signed_when_fetched_and_verifies() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let body = serde_json::to_string(&receipt()).unwrap();
        let out = signed(&key, &body).unwrap();
        let got: SignedReceipt = serde_json::from_str(&out).unwrap();
        assert_eq!(got.receipt, receipt());
        got.verify(&key.jwks()).expect("verifies");
        // Deterministic: the same receipt fetched again is byte-identical.
        assert_eq!(signed(&key, &body).unwrap(), out);
    }

    #[test]
    fn a_receipt_signed_by_an_earlier_version_is_returned_as_stored() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let old = serde_json::to_string(&sign_receipt(&key, receipt()).unwrap()).unwrap();
        assert_eq!(signed(&key, &old).unwrap(), old);
        assert!(signed(&key, "{\"not\": \"a receipt\"}").is_err());
    }
}
