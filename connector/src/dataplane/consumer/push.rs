//! Receiving a push: `POST|PUT <public_url>/push/{consumerPid}` on the partner listener, where a provider sends
//! the data of an `HttpData-PUSH` transfer we requested. The bearer token must hash to the one we offered in the
//! transfer request (only its hash is stored, and it is revoked when the transfer ends) and the transfer must be
//! STARTED; otherwise nothing is written. The body streams to `data_dir/received/<consumerPid>/<requestId>`
//! (through a partial file of its own, linked into place once whole, so two pushes with one request id can
//! neither mix their bytes nor overwrite a payload) while it is digested; then the provider's receipt is fetched
//! with a DSP identity token of ours, checked against what arrived, stored, and the access recorded in our audit
//! log exactly as for a pull. A push refused before its body was written (wrong token, transfer not started,
//! missing request id, a body over `max_push_mb`) is recorded too, as a refused `DataAccess`, so the consumer's log
//! holds every push attempt and not only the accepted ones.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use twinport_contracts::receipt::SignedReceipt;
use twinport_contracts::transfer::TransferState;

use super::receipts::{self, Expected, ReceiptCheck};
use super::record::{self, Access};
use crate::contracting::transfer::{token_hash, PUSH};
use crate::contracting::CONSUMER;
use crate::dataplane::access::bearer;
use crate::dataplane::problem::Refusal;
use crate::dataplane::DataPlaneState;
use crate::dataplane::{DATA_PATH, RECEIPT_HEADER, REQUEST_ID_HEADER};
use crate::paths::DSP_PATH;
use crate::storage::TransferRecord;

/// Where pushed payloads of a transfer are kept.
pub fn received_dir(state: &DataPlaneState, consumer_pid: &str) -> PathBuf {
    state
        .settings()
        .data_dir
        .join("received")
        .join(safe_name(consumer_pid))
}

pub async fn receive(
    State(state): State<DataPlaneState>,
    Path(pid): Path<String>,
    req: Request,
) -> Response {
    match try_receive(&state, &pid, req).await {
        Ok(r) => r,
        Err(refused) => {
            let refusal = refused.refusal;
            tracing::info!(transfer = %pid, status = %refusal.status, detail = %refusal.detail, "push refused");
            if !refused.recorded {
                record::record_refused_push(&state, &pid, refused.transfer.as_ref(), &refusal)
                    .await;
            }
            refusal.into_response()
        }
    }
}

/// A refused push, with the transfer when the token identified one, and whether the refusal is already recorded
/// (a body that broke off is recorded with the bytes that arrived).
struct Refused {
    refusal: Refusal,
    transfer: Option<TransferRecord>,
    recorded: bool,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        Refused {
            refusal,
            transfer: None,
            recorded: false,
        }
    }
}

/// The most a pushed body may hold, from `max_push_mb`.
fn limit(state: &DataPlaneState) -> u64 {
    state.settings().max_push_mb.saturating_mul(1024 * 1024)
}

fn too_large(limit: u64) -> Refusal {
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        format!(
            "the pushed body is larger than this connector accepts ({} MiB, max_push_mb)",
            limit / (1024 * 1024)
        ),
    )
}

/// The push transfer the token was issued for. Unknown transfer and wrong token get the same answer, so the
/// endpoint does not reveal which transfers exist.
async fn authorized(
    state: &DataPlaneState,
    pid: &str,
    headers: &HeaderMap,
) -> Result<TransferRecord, Refused> {
    let token = bearer(headers).ok_or_else(|| {
        Refusal::unauthorized("the bearer token from the push data address is required")
    })?;
    let t = state
        .store()
        .transfer(pid)
        .await
        .map_err(Refusal::internal)?
        .filter(|t| t.role == CONSUMER && t.format == PUSH);
    let expected = t.as_ref().and_then(|t| t.token_hash.as_deref());
    let offered = token_hash(token);
    let matches = expected.is_some_and(|h| constant_time_eq(h.as_bytes(), offered.as_bytes()));
    let mut t = t
        .filter(|_| matches)
        .ok_or_else(|| Refusal::unauthorized("the token is unknown or has been revoked"))?;
    if t.state != TransferState::Started.as_str() {
        // We resumed the transfer and the provider pushes as soon as it accepted our start, possibly before its
        // acknowledgement reached our outbox: wait for that, bounded.
        let _ =
            crate::contracting::acknowledgement::await_in_flight(state.contracting(), &t.id).await;
        if let Ok(Some(now)) = state.store().transfer(&t.id).await {
            t = now;
        }
    }
    if t.state != TransferState::Started.as_str() {
        // The token named the transfer: its refusal is recorded under it.
        return Err(Refused {
            refusal: Refusal::conflict(format!("the transfer is {}, not STARTED", t.state)),
            transfer: Some(t),
            recorded: false,
        });
    }
    Ok(t)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn try_receive(state: &DataPlaneState, pid: &str, req: Request) -> Result<Response, Refused> {
    let (parts, body) = req.into_parts();
    let t = authorized(state, pid, &parts.headers).await?;
    let known = |refusal: Refusal| Refused {
        refusal,
        transfer: Some(t.clone()),
        recorded: false,
    };
    let limit = limit(state);
    let declared = crate::dataplane::tee::declared_length(&parts.headers);
    if declared.is_some_and(|n| n > limit) {
        return Err(known(too_large(limit)));
    }
    let request_id = header(&parts.headers, REQUEST_ID_HEADER)
        .filter(|id| !id.is_empty() && id.len() <= 120 && safe_name(id) == *id)
        .ok_or_else(|| {
            Refusal::bad_request(format!(
                "{REQUEST_ID_HEADER} is required (letters, digits, '-' and '.', not starting with '.', at most 120)"
            ))
        })
        .map_err(known)?;
    let dir = received_dir(state, &t.id);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| known(Refusal::internal(e)))?;
    let target = dir.join(&request_id);
    // Hidden and unique: a concurrent push with the same request id writes its own file.
    let partial = PartialFile(dir.join(format!(
        ".{request_id}.{}.partial",
        uuid::Uuid::new_v4().simple()
    )));
    if tokio::fs::try_exists(&target).await.unwrap_or(true) {
        return Err(known(Refusal::new(
            StatusCode::CONFLICT,
            "already-received",
            format!("a payload with request id {request_id} was already received"),
        )));
    }
    let mut access = Access {
        transfer: t.clone(),
        request_id: Some(request_id.clone()),
        method: parts.method.to_string(),
        path: String::new(),
        status: StatusCode::OK.as_u16(),
        bytes: 0,
        sha256: String::new(),
        complete: false,
        started_at: record::now(),
        receipt_url: header(&parts.headers, RECEIPT_HEADER),
        token: String::new(),
        endpoint: String::new(),
        request_body: None,
    };
    let written = write_body(body, &partial.0, limit).await;
    let (bytes, sha256, failure) = match written {
        Ok((bytes, sha256)) => (bytes, sha256, None),
        Err((bytes, sha256, e)) => (bytes, sha256, Some(e)),
    };
    access.bytes = bytes;
    access.sha256 = sha256;
    if let Some(e) = failure {
        tracing::warn!(transfer = %t.id, error = %e, "a pushed body broke off");
        let refusal = match e {
            WriteError::TooLarge => too_large(limit),
            WriteError::Other(e) => {
                Refusal::bad_request(format!("the body could not be received whole: {e}"))
            }
        };
        return Err(recorded_failure(state, &mut access, refusal).await);
    }
    let placed = place(&partial.0, &target).await;
    drop(partial);
    if let Err(e) = placed {
        let refusal = if e.kind() == std::io::ErrorKind::AlreadyExists {
            Refusal::new(
                StatusCode::CONFLICT,
                "already-received",
                format!("a payload with request id {request_id} was already received"),
            )
        } else {
            Refusal::internal(e)
        };
        return Err(recorded_failure(state, &mut access, refusal).await);
    }
    access.complete = true;
    let check = check_receipt(state, &access).await;
    let verified = check.verified;
    let problem = check.problem.clone();
    record::record_access(state, &access, Some(check)).await;
    tracing::info!(transfer = %t.id, request = %request_id, bytes, verified, "push received");
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        Body::from(
            json!({
                "request_id": request_id,
                "bytes": access.bytes,
                "sha256": access.sha256,
                "receipt": {"verified": verified, "problem": problem},
            })
            .to_string(),
        ),
    )
        .into_response())
}

/// A received body on its way in; removed however the request ends (refused, failed, or dropped because the
/// sender went away), so nothing half-written is ever left behind.
struct PartialFile(PathBuf);

impl Drop for PartialFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Puts a whole body at `target`, never replacing one: a hard link fails where a rename would replace, so of two
/// pushes with one request id the second is refused. Where the filesystem has no hard links, the name is reserved
/// with an exclusive create and the body renamed over the reservation.
async fn place(partial: &std::path::Path, target: &std::path::Path) -> std::io::Result<()> {
    match tokio::fs::hard_link(partial, target).await {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            tracing::debug!(error = %e, "no hard link; reserving the name instead");
            tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(target)
                .await?;
            tokio::fs::rename(partial, target).await
        }
        linked => linked,
    }
}

/// Records a push whose body arrived (whole or in part) but was not kept, with the status it is answered.
async fn recorded_failure(
    state: &DataPlaneState,
    access: &mut Access,
    refusal: Refusal,
) -> Refused {
    access.status = refusal.status.as_u16();
    record::record_access(state, access, None).await;
    Refused {
        refusal,
        transfer: Some(access.transfer.clone()),
        recorded: true,
    }
}

/// Why a pushed body was not written whole.
#[derive(Debug)]
enum WriteError {
    /// More than `max_push_mb` arrived (whatever Content-Length said, or without one).
    TooLarge,
    Other(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::TooLarge => f.write_str("the body exceeds max_push_mb"),
            WriteError::Other(e) => f.write_str(e),
        }
    }
}

/// Streams the body to `path`, digesting it, and stops once more than `limit` bytes arrived; on failure also says
/// how much arrived.
async fn write_body(
    body: Body,
    path: &std::path::Path,
    limit: u64,
) -> Result<(u64, String), (u64, String, WriteError)> {
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let other = |e: &dyn std::fmt::Display| WriteError::Other(e.to_string());
    let opened = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await;
    let mut file = match opened {
        Ok(f) => f,
        Err(e) => return Err((0, hex::encode(hasher.finalize()), other(&e))),
    };
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return Err((bytes, hex::encode(hasher.finalize()), other(&e))),
        };
        if bytes + chunk.len() as u64 > limit {
            return Err((bytes, hex::encode(hasher.finalize()), WriteError::TooLarge));
        }
        hasher.update(&chunk);
        bytes += chunk.len() as u64;
        if let Err(e) = file.write_all(&chunk).await {
            return Err((bytes, hex::encode(hasher.finalize()), other(&e)));
        }
    }
    if let Err(e) = file.flush().await.and(file.sync_all().await) {
        return Err((bytes, hex::encode(hasher.finalize()), other(&e)));
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

fn missing(problem: impl Into<String>) -> ReceiptCheck {
    ReceiptCheck {
        verified: false,
        problem: Some(problem.into()),
        receipt: None,
    }
}

/// The provider's public root, from its DSP base.
fn provider_root(t: &TransferRecord) -> Option<&str> {
    t.peer_address
        .as_deref()
        .map(|b| b.trim_end_matches('/'))
        .map(|b| b.strip_suffix(DSP_PATH).unwrap_or(b))
}

/// Fetches and checks the receipt the provider named. Our identity token goes only to the provider's own receipts
/// endpoint for this transfer.
async fn check_receipt(state: &DataPlaneState, access: &Access) -> ReceiptCheck {
    let t = &access.transfer;
    let Some(url) = access.receipt_url.as_deref() else {
        return missing("the provider sent no twinport-receipt header");
    };
    let (Some(root), Some(provider_pid)) = (provider_root(t), t.provider_pid.as_deref()) else {
        return missing("the provider's address or transfer id is not known");
    };
    let prefix = format!("{root}{DATA_PATH}/{provider_pid}/receipts/");
    if !url.starts_with(&prefix) {
        return missing(format!(
            "receipt URL {url} is not the provider's receipts endpoint {prefix}"
        ));
    }
    let token = match state.identity().token_for(&t.partner) {
        Ok(tok) => tok,
        Err(e) => return missing(format!("cannot sign an identity token: {e}")),
    };
    let document = match receipts::fetch(state, url, &token).await {
        Ok(d) => d,
        Err(e) => return missing(e),
    };
    let receipt = match SignedReceipt::from_json(&document) {
        Ok(r) => r,
        Err(e) => return missing(e.to_string()),
    };
    let expected = Expected {
        provider: &t.partner,
        consumer: state.participant_id(),
        agreement_id: &t.agreement_id,
        provider_transfer: Some(provider_pid),
        request_id: access.request_id.as_deref(),
        method: &access.method,
        path: Some(&access.path),
        status: access.status,
        bytes: access.bytes,
        sha256: &access.sha256,
        // The provider sent us a body; it received none from us.
        request: receipts::Sent::Nothing,
    };
    let outcome = receipts::verify_with_partner_keys(state, &t.partner, &receipt, &expected).await;
    ReceiptCheck {
        verified: outcome.is_ok(),
        problem: outcome.err(),
        receipt: Some(receipt),
    }
}

/// A file-system-safe name: ids are URNs (`urn:uuid:...`) and the provider chooses request ids.
pub fn safe_name(id: &str) -> String {
    id.chars()
        .take(120)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn safe_names_cannot_leave_the_directory() {
        use super::safe_name;
        assert_eq!(safe_name("urn:uuid:1-2"), "urn_uuid_1-2");
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert!(!safe_name("..").starts_with('.'));
        assert!(!safe_name("a/b\\c").contains(['/', '\\']));
    }

    use super::{constant_time_eq, place, PartialFile};

    #[tokio::test]
    async fn a_placed_body_is_never_replaced_and_a_partial_file_never_outlives_its_request() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r1");
        for (n, body) in ["first", "second"].into_iter().enumerate() {
            let partial = PartialFile(dir.path().join(format!(".r1.{n}.partial")));
            std::fs::write(&partial.0, body).unwrap();
            let placed = place(&partial.0, &target).await;
            drop(partial);
            if n == 0 {
                placed.expect("the first is placed");
            } else {
                assert_eq!(
                    placed.unwrap_err().kind(),
                    std::io::ErrorKind::AlreadyExists
                );
            }
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "first");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("r1")],
            "no partial file left"
        );
    }

    #[test]
    fn token_hashes_are_compared_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
