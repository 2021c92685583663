//! How a partner's follow-up message to an existing process is handled, around the message's own handler:
//!
//! - **A repeat is answered, not applied.** A partner that lost our acknowledgement sends the message again; the
//!   exact same body (same `@id`) gets 200 and changes nothing, so the lost acknowledgement heals by the retry. A
//!   new message with equal content but a new `@id` is judged like any other (re-sending a counter-request is
//!   illegal in REQUESTED, and is refused).
//! - **It is judged against the acknowledged state.** A partner may answer our message and send its next one at
//!   once, before its answer has reached our outbox. So a message the acknowledged state refuses, arriving while a
//!   message of ours for that process is in flight, waits (bounded by `[contracts] ack_wait_ms`) for that
//!   delivery's outcome and is judged again; an acknowledgement that lands in time makes it legal, one withheld
//!   does not.

use std::future::Future;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::error::retrying;
use super::Contracting;
use super::ProcessError;
use crate::storage::Change;

tokio::task_local! {
    /// The follow-up message being handled, so the change it causes records it as received in the same
    /// transaction (see [`with_received`]).
    static HANDLING: Handling;
}

#[derive(Debug, Clone)]
struct Handling {
    process_id: String,
    digest: String,
    has_id: bool,
}

/// `change` for process `process_id`, marked as caused by the follow-up message being handled (if any), so the
/// message is recorded as received in the change's own transaction: a copy arriving later is answered 200.
pub(super) fn with_received(change: Change, process_id: &str) -> Change {
    match HANDLING.try_with(Handling::clone) {
        Ok(h) if h.process_id == process_id => change.received(h.digest, h.has_id),
        _ => change,
    }
}

/// Runs `handle` for a follow-up message with `body` to the process `find` names.
pub async fn handle<FindF, FindFut, F, Fut>(
    state: &Contracting,
    body: &Value,
    find: FindF,
    mut handle: F,
) -> Result<(), ProcessError>
where
    FindF: FnOnce() -> FindFut,
    FindFut: Future<Output = Result<String, ProcessError>>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), ProcessError>>,
{
    let process_id = find().await?;
    let digest = crate::audit::digest(body);
    let has_id = body.get("@id").is_some_and(Value::is_string);
    let repeat = |digest: Option<String>| {
        let process_id = process_id.clone();
        async move {
            match digest {
                Some(d) => state
                    .store()
                    .received_before(&process_id, &d, has_id)
                    .await
                    .map_err(ProcessError::from),
                None => Ok(false),
            }
        }
    };
    if repeat(digest.clone()).await? {
        tracing::info!(process = %process_id, "a repeated message answered without a second transition");
        return Ok(());
    }
    // Subscribed before the first attempt, so an acknowledgement applied meanwhile is not missed.
    let mut changes = state.events().subscribe();
    let deadline = tokio::time::Instant::now() + state.settings().ack_wait;
    loop {
        let attempt = match &digest {
            Some(d) => {
                let handling = Handling {
                    process_id: process_id.clone(),
                    digest: d.clone(),
                    has_id,
                };
                HANDLING.scope(handling, retrying(&mut handle)).await
            }
            None => retrying(&mut handle).await,
        };
        match attempt {
            Ok(()) => return Ok(()),
            Err(
                refusal @ ProcessError::Invalid {
                    code: "invalid-transition",
                    ..
                },
            ) => {
                // A copy handled concurrently by another request counts as handled.
                if repeat(digest.clone()).await? {
                    return Ok(());
                }
                if !state.store().outbox_in_flight(&process_id).await? {
                    return Err(refusal);
                }
                if !changed(&mut changes, &process_id, deadline).await {
                    return Err(refusal);
                }
            }
            Err(other) => return Err(other),
        }
    }
}

/// Waits until `process_id` changes (true) or `deadline` passes (false).
async fn changed(
    changes: &mut tokio::sync::broadcast::Receiver<super::events::StateChanged>,
    process_id: &str,
    deadline: tokio::time::Instant,
) -> bool {
    loop {
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Err(_) | Ok(Err(RecvError::Closed)) => return false,
            Ok(Ok(e)) if e.process_id == process_id => return true,
            Ok(Ok(_)) => {}
            // Missed some changes: judge again, ours may be among them.
            Ok(Err(RecvError::Lagged(_))) => return true,
        }
    }
}
