//! `POST /data/{providerPid}/receipts`: the receipts of many responses of one transfer, signed together. The body
//! names up to [`MAX_BATCH`] request ids (`{"requestIds": [...]}`); the answer holds a receipt for each one that has
//! one (`receipts`, signed once over their Merkle root, each with its inclusion proof, so each still verifies on
//! its own) and says why for the others (`missing`). Responses still streaming are waited for, as by the
//! single-receipt endpoint, and every receipt is checked against the audit entry it names before it is signed.
//! Nothing is stored: a later fetch signs again, and every signature it makes is as good.
//!
//! A consumer learns that a provider serves this from the `twinport-receipts` header on each data response; it is
//! Twinport's own, so it is sent only where the single-receipt header is.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use twinport_contracts::receipt::{sign_batch, AccessReceipt, SignedReceipt, MAX_BATCH};

use super::problem::Refusal;
use super::receipts::{backed_by_log, json_ok, owner, read_stored, Stored, WAIT};
use crate::dataplane::DataPlaneState;
use crate::tls::TlsPeer;

/// What the consumer asks for.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchRequest {
    pub request_ids: Vec<String>,
}

/// The answer: receipts in the order asked, and what could not be given.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchAnswer {
    pub receipts: Vec<SignedReceipt>,
    #[serde(default)]
    pub missing: Vec<Missing>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Missing {
    pub request_id: String,
    pub problem: String,
}

pub async fn post(
    State(state): State<DataPlaneState>,
    Path(pid): Path<String>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Response {
    let peer = TlsPeer::of(&extensions);
    match answer(&state, &pid, &headers, peer, &body).await {
        Ok(answer) => match serde_json::to_vec(&answer) {
            Ok(body) => json_ok(body),
            Err(e) => Refusal::internal(e).into_response(),
        },
        Err(r) => r.into_response(),
    }
}

fn parse(body: &[u8]) -> Result<Vec<String>, Refusal> {
    let request: BatchRequest = serde_json::from_slice(body).map_err(|e| {
        Refusal::bad_request(format!("expected {{\"requestIds\": [\"...\"]}}: {e}"))
    })?;
    let mut ids = request.request_ids;
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(Refusal::bad_request(format!(
            "requestIds holds 1 to {MAX_BATCH} ids, not {}",
            ids.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    Ok(ids)
}

async fn answer(
    state: &DataPlaneState,
    pid: &str,
    headers: &HeaderMap,
    peer: Option<&TlsPeer>,
    body: &[u8],
) -> Result<BatchAnswer, Refusal> {
    // The caller is checked before its body is looked at: a stranger learns nothing, not even what is malformed.
    let transfer = owner(state, pid, headers, peer).await?;
    let ids = parse(body)?;
    let store = state.store();
    // Watched before the store is read: a response whose receipt is committed (and its watch dropped) between the
    // read and the watch would otherwise be neither read nor waited for, and reported missing.
    let pending = state.data_plane().pending();
    let watches: HashMap<&String, _> = ids
        .iter()
        .filter_map(|id| pending.watch(id).map(|rx| (id, rx)))
        .collect();
    let mut rows: HashMap<String, _> = store
        .receipts(&ids)
        .await
        .map_err(Refusal::internal)?
        .into_iter()
        .map(|r| (r.request_id.clone(), r))
        .collect();
    // Responses still streaming: wait for them together, then read those again.
    let waits: Vec<_> = watches
        .into_iter()
        .filter(|(id, _)| !rows.contains_key(*id))
        .map(|(_, rx)| rx)
        .collect();
    if !waits.is_empty() {
        let all = futures_util::future::join_all(waits.into_iter().map(|mut rx| async move {
            let _ = rx.wait_for(|done| *done).await;
        }));
        let _ = tokio::time::timeout(WAIT, all).await;
        let again: Vec<String> = ids
            .iter()
            .filter(|id| !rows.contains_key(*id))
            .cloned()
            .collect();
        for row in store.receipts(&again).await.map_err(Refusal::internal)? {
            rows.insert(row.request_id.clone(), row);
        }
    }

    let mut missing = Vec::new();
    let mut signed_before: HashMap<String, SignedReceipt> = HashMap::new();
    let mut to_sign: Vec<AccessReceipt> = Vec::new();
    for id in &ids {
        let Some(row) = rows
            .remove(id)
            .filter(|r| r.transfer_id == transfer.id && r.partner == transfer.partner)
        else {
            let problem = if pending.watch(id).is_some() {
                "the response is still being served; ask again when the body has ended"
            } else {
                "no receipt with this request id for this transfer"
            };
            missing.push(Missing {
                request_id: id.clone(),
                problem: problem.into(),
            });
            continue;
        };
        match read_stored(&row.body)? {
            // Fetched one at a time before: that signature was checked against the log when it was made.
            Stored::Signed => {
                let signed: SignedReceipt =
                    serde_json::from_str(&row.body).map_err(Refusal::internal)?;
                signed_before.insert(id.clone(), signed);
            }
            Stored::Recorded(r) => to_sign.push(*r),
        }
    }

    // Sign nothing the log does not back (see the single-receipt endpoint).
    let indices: Vec<u64> = to_sign.iter().filter_map(|r| r.audit_index).collect();
    let leaves = state
        .audit()
        .verified_leaves(&indices)
        .await
        .map_err(|e| Refusal::internal(format!("the audit log cannot be read: {e}")))?;
    let mut backed = Vec::with_capacity(to_sign.len());
    for r in to_sign {
        let leaf = r
            .audit_index
            .and_then(|i| leaves.get(&i))
            .map(String::as_str);
        match backed_by_log(&r, state.participant_id(), leaf) {
            Ok(()) => backed.push(r),
            Err(why) => {
                tracing::error!(request = %r.request_id, problem = %why, "ALARM: a stored receipt is not backed by the audit log; not signed");
                missing.push(Missing {
                    request_id: r.request_id.clone(),
                    problem: format!("the stored receipt is not backed by the audit log: {why}"),
                });
            }
        }
    }
    let mut fresh: HashMap<String, SignedReceipt> = if backed.is_empty() {
        HashMap::new()
    } else {
        sign_batch(state.identity().key(), backed)
            .map_err(Refusal::internal)?
            .into_iter()
            .map(|s| (s.receipt.request_id.clone(), s))
            .collect()
    };
    let receipts = ids
        .iter()
        .filter_map(|id| fresh.remove(id).or_else(|| signed_before.remove(id)))
        .collect();
    Ok(BatchAnswer { receipts, missing })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_batch_request_names_one_to_max_distinct_ids() {
        assert_eq!(
            parse(br#"{"requestIds": ["a", "b", "a"]}"#).unwrap(),
            vec!["a", "b"]
        );
        for bad in [
            &br#"{"requestIds": []}"#[..],
            br#"{"requestIds": "a"}"#,
            br#"{"requestId": ["a"]}"#,
            b"not json",
        ] {
            assert_eq!(parse(bad).unwrap_err().status, 400);
        }
        let many = serde_json::json!({"requestIds": (0..=twinport_contracts::receipt::MAX_BATCH)
            .map(|i| i.to_string()).collect::<Vec<_>>()});
        assert_eq!(parse(many.to_string().as_bytes()).unwrap_err().status, 400);
    }
}
