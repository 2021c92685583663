//! Receipts fetched many at a time. A provider that sends `twinport-receipts` on its responses signs the receipts
//! of many responses at once ([`crate::dataplane::receipt_batch`]); the consumer then queues each relayed
//! response here instead of fetching its receipt alone. One task collects what is queued (up to
//! [`MAX_PER_FETCH`], waiting at most [`LINGER`] for more when the queue runs dry), fetches each transfer's share
//! in one request, verifies the batch signature once, checks every receipt against the response it names, and
//! records them together, so their audit entries share commits. What a receipt proves is unchanged: each one
//! carries its inclusion proof and verifies on its own, and is kept and re-checked like any other.
//!
//! Measured through the local endpoint (`twinport bench dataplane`): see `docs/dataplane.md`.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use twinport_contracts::identity::Jwks;
use twinport_contracts::jws::verify_detached;
use twinport_contracts::receipt::{ReceiptError, SignedReceipt};

use super::receipts::{check_fields, Expected, ReceiptCheck};
use super::record::{record_access, Access};
use crate::dataplane::receipt_batch::{BatchAnswer, BatchRequest};
use crate::dataplane::DataPlaneState;

/// Most responses one fetch asks receipts for (the provider signs at most this many at once anyway).
pub const MAX_PER_FETCH: usize = 256;
/// How long a lone response waits for others to share its fetch. Its application already has the body; what
/// waits is its record (and a clean stop, which waits for it).
pub const LINGER: Duration = Duration::from_millis(2);
/// Fetches in flight at once, over all transfers.
const CONCURRENT_FETCHES: usize = 4;
/// A batch answer is about 1.5 KB per receipt.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

/// One relayed response waiting for its receipt.
pub struct Job {
    pub state: DataPlaneState,
    pub access: Access,
    /// The provider's `twinport-receipts` URL for the transfer.
    pub url: String,
    /// Answered once the access is recorded.
    pub done: oneshot::Sender<()>,
}

/// The queue's sending end, started with its task on first use.
#[derive(Default)]
pub struct Queue(std::sync::OnceLock<mpsc::Sender<Job>>);

impl Queue {
    /// Queues `access`, and returns once its receipt is checked and the access recorded.
    pub async fn check_and_record(&self, state: &DataPlaneState, access: Access, url: String) {
        let tx = self.0.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * MAX_PER_FETCH);
            tokio::spawn(run(rx));
            tx
        });
        let (done, finished) = oneshot::channel();
        let job = Job {
            state: state.clone(),
            access,
            url,
            done,
        };
        if let Err(mpsc::error::SendError(job)) = tx.send(job).await {
            // Only while the connector stops: check this one alone.
            fetch_and_record(vec![job]).await;
            return;
        }
        let _ = finished.await;
    }
}

async fn run(mut rx: mpsc::Receiver<Job>) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENT_FETCHES));
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let deadline = tokio::time::Instant::now() + LINGER;
        while jobs.len() < MAX_PER_FETCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(job)) => jobs.push(job),
                    _ => break,
                },
            }
        }
        let mut by_url: HashMap<String, Vec<Job>> = HashMap::new();
        for job in jobs {
            by_url.entry(job.url.clone()).or_default().push(job);
        }
        for (_, jobs) in by_url {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            tokio::spawn(async move {
                fetch_and_record(jobs).await;
                drop(slot);
            });
        }
    }
}

/// Fetches, checks and records the receipts of `jobs`, all of one transfer's batch URL.
async fn fetch_and_record(jobs: Vec<Job>) {
    let Some(first) = jobs.first() else { return };
    let state = first.state.clone();
    let checks = match fetch(&state, &jobs).await {
        Ok(answer) => check_all(&state, &jobs, answer).await,
        Err(problem) => jobs
            .iter()
            .map(|_| ReceiptCheck::missing(problem.clone()))
            .collect(),
    };
    let records = jobs
        .iter()
        .zip(checks)
        .map(|(job, check)| record_access(&job.state, &job.access, Some(check)));
    futures_util::future::join_all(records).await;
    for job in jobs {
        let _ = job.done.send(());
    }
}

async fn fetch(state: &DataPlaneState, jobs: &[Job]) -> Result<BatchAnswer, String> {
    let request = BatchRequest {
        request_ids: jobs
            .iter()
            .filter_map(|j| j.access.request_id.clone())
            .collect(),
    };
    // The newest credential: a transfer's token may have been renewed while the earlier responses streamed.
    let token = &jobs[jobs.len() - 1].access.token;
    let response = state
        .http()
        .post(&jobs[0].url)
        // As for single receipts (see `receipts::fetch`): a connection of its own.
        .header(reqwest::header::CONNECTION, "close")
        .bearer_auth(token)
        .json(&request)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the receipts: {e}"))?;
    let document = super::receipts::read_answer(response, MAX_ANSWER_BYTES, "receipts").await?;
    serde_json::from_slice(&document).map_err(|e| format!("the receipts answer is not one: {e}"))
}

/// Checks each job's receipt from `answer`. Signatures are verified once per distinct signed statement (once per
/// batch), with the partner's keys fetched again once if one does not verify (a rotated key).
async fn check_all(state: &DataPlaneState, jobs: &[Job], answer: BatchAnswer) -> Vec<ReceiptCheck> {
    let partner = &jobs[0].access.transfer.partner;
    let mut receipts: HashMap<String, SignedReceipt> = answer
        .receipts
        .into_iter()
        .map(|r| (r.receipt.request_id.clone(), r))
        .collect();
    let missing: HashMap<String, String> = answer
        .missing
        .into_iter()
        .map(|m| (m.request_id, m.problem))
        .collect();
    let keys = |refresh| async move {
        state
            .partners()
            .directory()
            .keys(partner, refresh)
            .await
            .map_err(|e| format!("no keys for {partner}: {e}"))
    };
    let mut jwks = keys(false).await;
    let mut refreshed = false;
    let mut verified: HashMap<(String, Vec<u8>), Result<(), String>> = HashMap::new();
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let access = &job.access;
        let Some(id) = access.request_id.as_deref() else {
            out.push(ReceiptCheck::missing(
                "the provider sent no twinport-request-id",
            ));
            continue;
        };
        let Some(receipt) = receipts.remove(id) else {
            out.push(ReceiptCheck::missing(
                missing
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| "the provider sent no receipt for this request".into()),
            ));
            continue;
        };
        let mut outcome = signature(&receipt, jwks.as_ref(), &mut verified);
        if outcome.is_err() && !refreshed {
            refreshed = true;
            jwks = keys(true).await;
            verified.clear();
            outcome = signature(&receipt, jwks.as_ref(), &mut verified);
        }
        let outcome = outcome.and_then(|()| {
            check_fields(&receipt, &Expected::of(state.participant_id(), access))
                .map_err(|e| e.to_string())
        });
        out.push(ReceiptCheck {
            verified: outcome.is_ok(),
            problem: outcome.err(),
            receipt: Some(receipt),
        });
    }
    out
}

/// The receipt's signature, verified once per distinct signature and signed statement.
fn signature(
    receipt: &SignedReceipt,
    jwks: Result<&Jwks, &String>,
    verified: &mut HashMap<(String, Vec<u8>), Result<(), String>>,
) -> Result<(), String> {
    let jwks = jwks.map_err(Clone::clone)?;
    let key = (
        receipt.signature.clone(),
        receipt.signed_payload().map_err(|e| e.to_string())?,
    );
    if let Some(known) = verified.get(&key) {
        return known.clone();
    }
    // The statement is computed once, for the memo and the check alike.
    let outcome = verify_detached(&key.0, &key.1, jwks)
        .map(|_| ())
        .map_err(|e| ReceiptError::from(e).to_string());
    verified.insert(key, outcome.clone());
    outcome
}
