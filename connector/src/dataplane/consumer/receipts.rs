//! Receipts on the consumer side: fetching the provider's signed receipt for a response once its body has ended,
//! checking it against what actually arrived (signature with the partner's keys, byte count, digest, and that it
//! names this request, transfer, agreement and both parties), and keeping it in the database with the audit entry
//! that records its arrival, so an operator can list it and re-check it later.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use twinport_contracts::identity::Jwks;
use twinport_contracts::receipt::{ReceiptError, SignedReceipt};

use super::record::Access;
use crate::dataplane::DataPlaneState;

/// Largest receipt document accepted; a receipt is a few hundred bytes.
const MAX_RECEIPT_BYTES: usize = 64 * 1024;
/// How long the provider may take to hand out a receipt after the body ended.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The outcome of looking for and checking a receipt.
#[derive(Debug, Clone)]
pub struct ReceiptCheck {
    pub verified: bool,
    /// Why it did not verify (or why there is none).
    pub problem: Option<String>,
    /// The document as received, when one was received and parsed.
    pub receipt: Option<SignedReceipt>,
}

impl ReceiptCheck {
    pub(super) fn missing(problem: impl Into<String>) -> ReceiptCheck {
        ReceiptCheck {
            verified: false,
            problem: Some(problem.into()),
            receipt: None,
        }
    }
}

/// What the receipt must say for the body we received.
pub struct Expected<'a> {
    pub provider: &'a str,
    pub consumer: &'a str,
    pub agreement_id: &'a str,
    pub provider_transfer: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub method: &'a str,
    pub path: Option<&'a str>,
    pub status: u16,
    pub bytes: u64,
    pub sha256: &'a str,
    /// The request body sent, for a receipt that covers it.
    pub request: Sent<'a>,
}

/// What the consumer knows of the request body it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent<'a> {
    /// Not known here (a receipt listed again, a pushed body): a request body the receipt names is not checked.
    Unknown,
    /// None, or none whole: a receipt naming one does not match.
    Nothing,
    /// Size and SHA-256 of the body sent whole.
    Body { bytes: u64, sha256: &'a str },
}

impl<'a> Expected<'a> {
    /// What the receipt for `access`, relayed to us (`consumer`), must say.
    pub fn of(consumer: &'a str, access: &'a Access) -> Expected<'a> {
        let t = &access.transfer;
        Expected {
            provider: &t.partner,
            consumer,
            agreement_id: &t.agreement_id,
            provider_transfer: t.provider_pid.as_deref(),
            request_id: access.request_id.as_deref(),
            method: &access.method,
            path: Some(&access.path),
            status: access.status,
            bytes: access.bytes,
            sha256: &access.sha256,
            request: match &access.request_body {
                Some((bytes, sha256)) => Sent::Body {
                    bytes: *bytes,
                    sha256,
                },
                None => Sent::Nothing,
            },
        }
    }
}

/// Checks a receipt: the signature against `jwks` and every field against what we saw. Fails closed: the first
/// disagreement is the answer.
pub fn check_receipt(
    receipt: &SignedReceipt,
    jwks: &Jwks,
    expected: &Expected<'_>,
) -> Result<(), ReceiptError> {
    receipt.verify(jwks)?;
    check_fields(receipt, expected)
}

/// Checks every field of a receipt against what we saw, but not its signature (see [`check_receipt`]).
pub fn check_fields(receipt: &SignedReceipt, expected: &Expected<'_>) -> Result<(), ReceiptError> {
    let r = &receipt.receipt;
    if r.bytes != expected.bytes {
        return Err(ReceiptError::Mismatch(format!(
            "receipt says {} bytes, received {}",
            r.bytes, expected.bytes
        )));
    }
    if !r.sha256.eq_ignore_ascii_case(expected.sha256) {
        return Err(ReceiptError::Mismatch(format!(
            "receipt digest {} differs from the received body's {}",
            r.sha256, expected.sha256
        )));
    }
    let mismatch = |what: &str, said: &str, want: &str| {
        Err(ReceiptError::Mismatch(format!(
            "{what} is {said:?}, expected {want:?}"
        )))
    };
    if r.provider != expected.provider {
        return mismatch("provider", &r.provider, expected.provider);
    }
    if r.consumer != expected.consumer {
        return mismatch("consumer", &r.consumer, expected.consumer);
    }
    if r.agreement_id != expected.agreement_id {
        return mismatch("agreementId", &r.agreement_id, expected.agreement_id);
    }
    if let Some(t) = expected.provider_transfer {
        if r.transfer_id != t {
            return mismatch("transferId", &r.transfer_id, t);
        }
    }
    if let Some(id) = expected.request_id {
        if r.request_id != id {
            return mismatch("requestId", &r.request_id, id);
        }
    }
    if !r.method.eq_ignore_ascii_case(expected.method) {
        return mismatch("method", &r.method, expected.method);
    }
    if let Some(path) = expected.path {
        if r.path != path {
            return mismatch("path", &r.path, path);
        }
    }
    if r.status != expected.status {
        return mismatch(
            "status",
            &r.status.to_string(),
            &expected.status.to_string(),
        );
    }
    if !r.complete {
        return Err(ReceiptError::Mismatch(
            "the provider says the body was cut short, but it arrived whole".into(),
        ));
    }
    // A receipt without a request body says nothing about it (the provider streamed it on unread).
    if let Some(said) = &r.request {
        match expected.request {
            Sent::Unknown => {}
            Sent::Body { bytes, sha256 }
                if said.bytes == bytes && said.sha256.eq_ignore_ascii_case(sha256) => {}
            Sent::Body { bytes, sha256 } => {
                return Err(ReceiptError::Mismatch(format!(
                    "the receipt names a request body of {} bytes with digest {}; {bytes} bytes with digest \
                     {sha256} were sent",
                    said.bytes, said.sha256
                )))
            }
            Sent::Nothing => {
                return Err(ReceiptError::Mismatch(
                    "the receipt names a request body, but none was sent whole".into(),
                ))
            }
        }
    }
    Ok(())
}

/// Checks `receipt` with the partner's current keys, fetching them again once if the signature does not verify
/// (the provider may have rotated its key).
pub async fn verify_with_partner_keys(
    state: &DataPlaneState,
    partner: &str,
    receipt: &SignedReceipt,
    expected: &Expected<'_>,
) -> Result<(), String> {
    let jwks = state
        .partners()
        .directory()
        .keys(partner, false)
        .await
        .map_err(|e| format!("no keys for {partner}: {e}"))?;
    match check_receipt(receipt, &jwks, expected) {
        Ok(()) => Ok(()),
        Err(ReceiptError::Jws(_)) => {
            let jwks = state
                .partners()
                .directory()
                .keys(partner, true)
                .await
                .map_err(|e| format!("no keys for {partner}: {e}"))?;
            check_receipt(receipt, &jwks, expected).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Fetches the receipt the provider announced for `access` and checks it.
pub async fn fetch_and_check(state: &DataPlaneState, access: &Access) -> ReceiptCheck {
    let Some(url) = access.receipt_url.as_deref() else {
        return ReceiptCheck::missing("the provider sent no twinport-receipt header");
    };
    // The transfer's token goes only back to the provider's own data plane, never to a URL elsewhere.
    if !url.starts_with(&format!("{}/receipts/", access.endpoint)) {
        return ReceiptCheck::missing(format!(
            "receipt URL {url} is not on the transfer's data address {}",
            access.endpoint
        ));
    }
    let document = match fetch(state, url, &access.token).await {
        Ok(d) => d,
        Err(e) => return ReceiptCheck::missing(e),
    };
    let receipt = match SignedReceipt::from_json(&document) {
        Ok(r) => r,
        Err(e) => return ReceiptCheck::missing(e.to_string()),
    };
    let expected = Expected::of(state.participant_id(), access);
    let outcome =
        verify_with_partner_keys(state, &access.transfer.partner, &receipt, &expected).await;
    ReceiptCheck {
        verified: outcome.is_ok(),
        problem: outcome.err(),
        receipt: Some(receipt),
    }
}

/// GETs a receipt document with `token`, refusing oversized answers.
pub async fn fetch(state: &DataPlaneState, url: &str, token: &str) -> Result<Vec<u8>, String> {
    let response = state
        .http()
        .get(url)
        // On its own connection, closed after: a request the pool later sent on a connection that had carried a
        // receipt fetch sometimes went unread by the provider until its header timeout closed the connection
        // (30 s by default; the request was then retried). Measured with `twinport bench dataplane`: 3 of 4 runs
        // of 5 000 local requests had such a stall, none of 4 with the connection closed. Cause not found.
        .header(reqwest::header::CONNECTION, "close")
        .bearer_auth(token)
        .timeout(RECEIPT_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the receipt: {e}"))?;
    read_answer(response, MAX_RECEIPT_BYTES, "receipt").await
}

/// The body of a successful answer about receipts (`what`: "receipt" or "receipts"), refused beyond `max` bytes.
pub(super) async fn read_answer(
    mut response: reqwest::Response,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, String> {
    if !response.status().is_success() {
        return Err(format!(
            "the {what} URL answered HTTP {}",
            response.status().as_u16()
        ));
    }
    let mut document = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("cannot read the {what}: {e}"))?
    {
        document.extend_from_slice(&chunk);
        if document.len() > max {
            return Err(format!("the {what} answer is larger than {max} bytes"));
        }
    }
    Ok(document)
}

/// A receipt as the consumer keeps it: the provider's document plus what we received and what we concluded.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredReceipt {
    pub request_id: Option<String>,
    pub received_at: String,
    pub started_at: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Bytes and SHA-256 of the body as received.
    pub bytes: u64,
    pub sha256: String,
    /// Whether the receipt verified when it arrived, and if not, why.
    pub verified: bool,
    pub problem: Option<String>,
    /// Our audit log entry recording this access.
    pub audit_index: Option<u64>,
    #[schema(value_type = Option<Object>)]
    pub receipt: Option<SignedReceipt>,
}

/// A stored receipt as the management API lists it, checked again now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceiptView {
    #[serde(flatten)]
    pub stored: StoredReceipt,
    /// The receipt checked again when listed (signature, and the digest and size recorded when it arrived):
    /// catches a stored receipt edited after the fact.
    pub verified_now: bool,
    pub problem_now: Option<String>,
}

/// Receipts an earlier version kept as one file each under `data_dir/receipts/<transfer>/`: moved into the
/// database at start, oldest first, each transfer's directory then moved under `data_dir/receipts.imported/`, so
/// none is lost and none imported twice. A directory naming no transfer we know, or holding a file that does not
/// read as a kept receipt, stays where it is and is named in the log. Returns how many receipts were imported.
pub async fn import_receipt_files(
    store: &crate::storage::Store,
    data_dir: &std::path::Path,
) -> Result<usize, String> {
    let dir = data_dir.join("receipts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(0);
    };
    let by_name: std::collections::HashMap<String, String> = store
        .transfers()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|t| (super::push::safe_name(&t.id), t.id))
        .collect();
    let imported_dir = data_dir.join("receipts.imported");
    let mut imported = 0;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(transfer_id) = by_name.get(&name) else {
            tracing::warn!(dir = %path.display(), "kept receipts of a transfer this connector does not know; left in place");
            continue;
        };
        let mut files: Vec<_> = std::fs::read_dir(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        // The file names start with the time they were written.
        files.sort();
        let mut rows = Vec::with_capacity(files.len());
        let mut unreadable = None;
        for file in &files {
            let read = std::fs::read_to_string(file)
                .map_err(|e| e.to_string())
                .and_then(|text| match serde_json::from_str::<StoredReceipt>(&text) {
                    Ok(_) => Ok(text),
                    Err(e) => Err(format!("not a kept receipt: {e}")),
                });
            match read {
                Ok(text) => rows.push(crate::storage::ReceivedReceipt {
                    transfer_id: transfer_id.clone(),
                    body: text,
                }),
                Err(e) => {
                    unreadable = Some(format!("{}: {e}", file.display()));
                    break;
                }
            }
        }
        // A file that does not read keeps its whole directory where it is, for the operator to look at; the
        // connector starts, and the other transfers' receipts are imported.
        if let Some(why) = unreadable {
            tracing::error!(dir = %path.display(), problem = %why, "kept receipts not imported; left in place");
            continue;
        }
        store
            .put_received_receipts(&rows)
            .await
            .map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&imported_dir)
            .map_err(|e| format!("{}: {e}", imported_dir.display()))?;
        std::fs::rename(&path, imported_dir.join(&name))
            .map_err(|e| format!("moving {} after importing it: {e}", path.display()))?;
        imported += rows.len();
    }
    let _ = std::fs::remove_dir(&dir);
    Ok(imported)
}

/// The receipts kept for a transfer, oldest first, each checked again.
pub async fn list(
    state: &DataPlaneState,
    transfer_id: &str,
) -> Result<Vec<ReceiptView>, crate::storage::StorageError> {
    let kept = state.store().received_receipts(transfer_id).await?;
    let transfer = state.store().transfer(transfer_id).await.ok().flatten();
    let mut out = Vec::with_capacity(kept.len());
    for text in kept {
        let stored: StoredReceipt = match serde_json::from_str(&text) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(transfer = %transfer_id, error = %e, "unreadable stored receipt");
                continue;
            }
        };
        let (verified_now, problem_now) = match (&stored.receipt, &transfer) {
            (None, _) => (false, Some("no receipt was received".to_string())),
            (Some(_), None) => (false, Some("the transfer is no longer known".into())),
            (Some(r), Some(t)) => {
                let expected = Expected {
                    provider: &t.partner,
                    consumer: state.participant_id(),
                    agreement_id: &t.agreement_id,
                    provider_transfer: t.provider_pid.as_deref(),
                    request_id: stored.request_id.as_deref(),
                    method: &stored.method,
                    path: None,
                    status: stored.status,
                    bytes: stored.bytes,
                    sha256: &stored.sha256,
                    request: Sent::Unknown,
                };
                match verify_with_partner_keys(state, &t.partner, r, &expected).await {
                    Ok(()) => (true, None),
                    Err(e) => (false, Some(e)),
                }
            }
        };
        out.push(ReceiptView {
            stored,
            verified_now,
            problem_now,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use twinport_contracts::identity::{KeyAlgorithm, SigningKey};
    use twinport_contracts::receipt::{sign_receipt, AccessReceipt, RECEIPT_TYPE};

    fn body_digest() -> String {
        hex::encode(Sha256::digest(b"hello"))
    }

    fn receipt() -> AccessReceipt {
        AccessReceipt {
            receipt_type: RECEIPT_TYPE.into(),
            request_id: "r-1".into(),
            provider: "https://a.example".into(),
            consumer: "https://b.example".into(),
            agreement_id: "urn:agreement:1".into(),
            transfer_id: "urn:uuid:p".into(),
            method: "GET".into(),
            path: "/x?y=1".into(),
            status: 200,
            bytes: 5,
            sha256: body_digest(),
            complete: true,
            started_at: "2026-11-24T08:00:00Z".into(),
            finished_at: "2026-11-24T08:00:01Z".into(),
            audit_index: Some(3),
            request: None,
        }
    }

    fn expected(sha: &str) -> Expected<'_> {
        Expected {
            provider: "https://a.example",
            consumer: "https://b.example",
            agreement_id: "urn:agreement:1",
            provider_transfer: Some("urn:uuid:p"),
            request_id: Some("r-1"),
            method: "GET",
            path: Some("/x?y=1"),
            status: 200,
            bytes: 5,
            sha256: sha,
            request: Sent::Nothing,
        }
    }

    #[test]
    fn a_matching_receipt_passes_and_each_disagreement_fails() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let sha = body_digest();
        let good = sign_receipt(&key, receipt()).unwrap();
        check_receipt(&good, &key.jwks(), &expected(&sha)).expect("verifies");

        let other = hex::encode(Sha256::digest(b"hellO"));
        let err = check_receipt(&good, &key.jwks(), &expected(&other)).unwrap_err();
        assert!(err.to_string().contains("digest"), "{err}");

        for change in [
            |r: &mut AccessReceipt| r.consumer = "https://c.example".into(),
            |r: &mut AccessReceipt| r.agreement_id = "urn:agreement:2".into(),
            |r: &mut AccessReceipt| r.transfer_id = "urn:uuid:q".into(),
            |r: &mut AccessReceipt| r.request_id = "r-2".into(),
            |r: &mut AccessReceipt| r.path = "/x".into(),
            |r: &mut AccessReceipt| r.status = 206,
            |r: &mut AccessReceipt| r.complete = false,
        ] {
            let mut r = receipt();
            change(&mut r);
            let signed = sign_receipt(&key, r).unwrap();
            assert!(matches!(
                check_receipt(&signed, &key.jwks(), &expected(&sha)),
                Err(ReceiptError::Mismatch(_))
            ));
        }

        // A receipt covering a request body must name the one sent.
        let mut posted = receipt();
        posted.method = "POST".into();
        posted.request = Some(Box::new(twinport_contracts::receipt::RequestBody {
            bytes: 2,
            sha256: hex::encode(Sha256::digest(b"{}")),
            canonical_sha256: None,
        }));
        let posted = sign_receipt(&key, posted).unwrap();
        let sent = hex::encode(Sha256::digest(b"{}"));
        let mut want = expected(&sha);
        want.method = "POST";
        want.request = Sent::Body {
            bytes: 2,
            sha256: &sent,
        };
        check_receipt(&posted, &key.jwks(), &want).expect("the body sent");
        let other = hex::encode(Sha256::digest(b"[]"));
        for request in [
            Sent::Nothing,
            Sent::Body {
                bytes: 2,
                sha256: &other,
            },
        ] {
            want.request = request;
            assert!(matches!(
                check_receipt(&posted, &key.jwks(), &want),
                Err(ReceiptError::Mismatch(_))
            ));
        }
        want.request = Sent::Unknown;
        check_receipt(&posted, &key.jwks(), &want).expect("not checked when not known");

        let mut tampered = good.clone();
        tampered.receipt.bytes = 6;
        assert!(check_receipt(&tampered, &key.jwks(), &expected(&sha)).is_err());
        let stranger = SigningKey::generate(KeyAlgorithm::Es256).unwrap();
        assert!(matches!(
            check_receipt(&good, &stranger.jwks(), &expected(&sha)),
            Err(ReceiptError::Jws(_))
        ));
    }
}
