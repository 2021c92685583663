//! `GET /data/{providerPid}/receipts/{requestId}`: the signed receipt of one response. The partner may present the
//! transfer's bearer token or, once the transfer ended and the token was revoked, a DSP identity token of its own
//! (the same check as every DSP endpoint); either way only the partner that owns the transfer gets its receipts.
//! While the body is still streaming the endpoint waits for the record (up to [`WAIT`]), so a consumer that reads
//! the body and then asks for the receipt never races the provider. Receipts are stored as recorded and signed
//! here, on their first way out, once checked against the audit entry they name; the signed form is then kept.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::access::{bearer, check_peer, transfer_for_token};
use super::problem::Refusal;
use crate::contracting::PROVIDER;
use crate::dataplane::DataPlaneState;
use crate::identity::authenticate;
use crate::storage::TransferRecord;
use crate::tls::TlsPeer;
use serde_json::Value;
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

    pub(super) fn watch(&self, request_id: &str) -> Option<watch::Receiver<bool>> {
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

pub(super) async fn owner(
    state: &DataPlaneState,
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
    // A partner known by DID proves its credentials here too, and what they prove replaces what was kept: ask for
    // every type our policies read, as the DSP endpoints do, or its policy claims would be lost.
    let wanted = match state.partners().directory().dcp() {
        Some(_) => state
            .contracting()
            .policy_credential_types()
            .await
            .map_err(Refusal::internal)?,
        None => Default::default(),
    };
    let partner = authenticate(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        state.participant_id(),
        state.partners().directory(),
        state.store(),
        &wanted,
    )
    .await
    .map_err(|e| match e {
        crate::identity::AuthError::Storage(e) => Refusal::internal(e),
        e => Refusal::unauthorized(format!(
            "neither the transfer's token nor a valid identity token ({e})"
        )),
    })?;
    state
        .store()
        .process_by_pid::<TransferRecord>(PROVIDER, pid)
        .await
        .map_err(Refusal::internal)?
        .filter(|t| t.partner == partner.id)
        .ok_or_else(|| Refusal::not_found("no such transfer of yours"))
        .and_then(|t| check_peer(state, &t.partner, peer).map(|()| t))
}

pub async fn get(
    State(state): State<DataPlaneState>,
    Path((pid, request_id)): Path<(String, String)>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
) -> Response {
    let peer = TlsPeer::of(&extensions);
    match receipt(&state, &pid, &request_id, &headers, peer).await {
        Ok(body) => json_ok(body),
        Err(r) => r.into_response(),
    }
}

/// A 200 answer with a JSON document (a receipt, or a batch of them).
pub(super) fn json_ok(body: impl IntoResponse) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn receipt(
    state: &DataPlaneState,
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
    let row = stored
        .filter(|r| r.transfer_id == transfer.id && r.partner == transfer.partner)
        .ok_or_else(|| Refusal::not_found("no receipt with this request id for this transfer"))?;
    let receipt = match read_stored(&row.body)? {
        Stored::Signed => return Ok(row.body),
        Stored::Recorded(r) => *r,
    };
    // The row is only as trustworthy as the database; the audit entry it names is tamper-evident (its leaf must
    // hash to the leaf our Merkle tree holds). Sign nothing the log does not back.
    let leaf = match receipt.audit_index {
        Some(index) => state
            .audit()
            .verified_leaf(index)
            .await
            .map_err(|e| e.to_string()),
        None => Ok(None),
    };
    if let Err(why) =
        leaf.and_then(|leaf| backed_by_log(&receipt, state.participant_id(), leaf.as_deref()))
    {
        tracing::error!(request = %request_id, problem = %why, "ALARM: a stored receipt is not backed by the audit log; not signed");
        return Err(Refusal::internal(format!(
            "the stored receipt is not backed by the audit log: {why}"
        )));
    }
    let body = sign(state.identity().key(), receipt)?;
    // Keep what we issued, so every later fetch gets the same document (an ES256 signature differs each time it is
    // made). If another fetch stored its signature first, that one stands.
    if state
        .store()
        .sign_stored_receipt(request_id, &row.body, &body)
        .await
        .map_err(Refusal::internal)?
    {
        return Ok(body);
    }
    // Another fetch signed it first: serve its signature, and nothing that is not one.
    let row = state
        .store()
        .receipt(request_id)
        .await
        .map_err(Refusal::internal)?
        .ok_or_else(|| Refusal::internal("a receipt vanished while it was signed"))?;
    match read_stored(&row.body)? {
        Stored::Signed => Ok(row.body),
        Stored::Recorded(_) => Err(Refusal::internal(
            "a receipt changed while it was signed; ask again",
        )),
    }
}

/// A stored receipt body: signed already (when fetched before, or by earlier versions, which signed every receipt
/// when recording it), or as recorded when the body ended.
pub(super) enum Stored {
    Signed,
    Recorded(Box<AccessReceipt>),
}

pub(super) fn read_stored(body: &str) -> Result<Stored, Refusal> {
    if serde_json::from_str::<SignedReceipt>(body).is_ok() {
        return Ok(Stored::Signed);
    }
    serde_json::from_str(body)
        .map(|r| Stored::Recorded(Box::new(r)))
        .map_err(|e| Refusal::internal(format!("stored receipt unreadable: {e}")))
}

fn sign(key: &SigningKey, receipt: AccessReceipt) -> Result<String, Refusal> {
    let signed = sign_receipt(key, receipt).map_err(Refusal::internal)?;
    serde_json::to_string(&signed).map_err(Refusal::internal)
}

/// Whether `leaf` (verified against the tree) is the `data_access` entry in which this provider recorded serving
/// this receipt's response: the same partner, agreement and transfer, request line, status, byte count, digest
/// and completeness, the same request body when the receipt covers one (and none when it does not), and the
/// receipt names us as provider. Everything is read from the hashed leaf, never from the indexed columns beside
/// it, which nothing protects.
pub(super) fn backed_by_log(
    receipt: &AccessReceipt,
    provider: &str,
    leaf: Option<&str>,
) -> Result<(), String> {
    let leaf = leaf.ok_or("the audit entry it names does not exist")?;
    let leaf: Value = serde_json::from_str(leaf).map_err(|e| e.to_string())?;
    let d = &leaf["details"];
    let same = leaf["kind"] == "data_access"
        && d["outcome"] == "served"
        && receipt.provider == provider
        && leaf["partner"] == receipt.consumer.as_str()
        && leaf["agreement"] == receipt.agreement_id.as_str()
        && leaf["transfer"] == receipt.transfer_id.as_str()
        && d["request_id"] == receipt.request_id.as_str()
        && d["method"] == receipt.method.as_str()
        && d["path"] == receipt.path.as_str()
        && d["status"] == receipt.status
        && d["bytes"] == receipt.bytes
        && d["sha256"] == receipt.sha256.as_str()
        && d["complete"] == receipt.complete
        && same_request(d, receipt.request.as_deref());
    if same {
        Ok(())
    } else {
        Err("the entry it names records another access".into())
    }
}

/// Whether the entry's details record the request body the receipt names, or none when it names none.
fn same_request(d: &Value, request: Option<&twinport_contracts::receipt::RequestBody>) -> bool {
    match request {
        None => {
            d.get("request_sha256").is_none()
                && d.get("request_bytes").is_none()
                && d.get("inputs_sha256").is_none()
        }
        Some(r) => {
            d["request_bytes"] == r.bytes
                && d["request_sha256"] == r.sha256.as_str()
                && d.get("inputs_sha256").and_then(Value::as_str) == r.canonical_sha256.as_deref()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{backed_by_log, read_stored, sign, Stored};
    use serde_json::json;
    use twinport_contracts::identity::{KeyAlgorithm, SigningKey};
    use twinport_contracts::receipt::{AccessReceipt, SignedReceipt, RECEIPT_TYPE};

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
            sha256: "ab".repeat(32),
            complete: true,
            started_at: "2026-11-24T08:00:00Z".into(),
            finished_at: "2026-11-24T08:00:01Z".into(),
            audit_index: Some(7),
            request: None,
        }
    }

    /// The leaf `dataplane::record::served` writes for `receipt()`.
    fn leaf() -> String {
        json!({"v": 1, "kind": "data_access", "time": "2026-11-24T08:00:01Z",
            "partner": "https://b.example", "agreement": "urn:uuid:1", "transfer": "t1", "resource": "urn:ldt:r",
            "details": {"request_id": "r1", "method": "GET", "path": "/kb", "status": 200, "outcome": "served",
                        "bytes": 1024, "sha256": "ab".repeat(32), "complete": true, "duration_ms": 3}})
        .to_string()
    }

    const US: &str = "https://a.example";

    #[test]
    fn a_recorded_receipt_is_signed_and_verifies() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let body = serde_json::to_string(&receipt()).unwrap();
        let Ok(Stored::Recorded(r)) = read_stored(&body) else {
            panic!("a recorded receipt reads as one")
        };
        let signed: SignedReceipt = serde_json::from_str(&sign(&key, *r).unwrap()).unwrap();
        assert_eq!(signed.receipt, receipt());
        signed.verify(&key.jwks()).expect("verifies");
        assert!(matches!(
            read_stored(&serde_json::to_string(&signed).unwrap()),
            Ok(Stored::Signed)
        ));
        assert!(read_stored("{\"not\": \"a receipt\"}").is_err());
    }

    #[test]
    fn only_the_entry_that_recorded_the_response_backs_its_receipt() {
        backed_by_log(&receipt(), US, Some(&leaf())).expect("the same access");
        assert!(backed_by_log(&receipt(), US, None).is_err());
        assert!(
            backed_by_log(&receipt(), "https://other.example", Some(&leaf())).is_err(),
            "a receipt naming another provider"
        );
        let tampered: [fn(&mut AccessReceipt); 8] = [
            |r| r.bytes = 10,
            |r| r.sha256 = "cd".repeat(32),
            |r| r.status = 404,
            |r| r.consumer = "https://c.example".into(),
            |r| r.request_id = "r2".into(),
            |r| r.complete = false,
            |r| r.path = "/kb?x=1".into(),
            |r| r.transfer_id = "t2".into(),
        ];
        for change in tampered {
            let mut r = receipt();
            change(&mut r);
            assert!(backed_by_log(&r, US, Some(&leaf())).is_err(), "{r:?}");
        }
        for (pointer, value) in [
            ("/kind", json!("dsp_message_received")),
            ("/details/outcome", json!("refused")),
        ] {
            let mut other: serde_json::Value = serde_json::from_str(&leaf()).unwrap();
            *other.pointer_mut(pointer).unwrap() = value;
            assert!(
                backed_by_log(&receipt(), US, Some(&other.to_string())).is_err(),
                "{pointer}"
            );
        }
    }
}
