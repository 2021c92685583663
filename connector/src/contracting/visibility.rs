//! A process exists for the partner only once both pids are known. Right after we send the message that creates a
//! process, the partner (having answered 201) may at once GET it; until its acknowledgement with its pid is
//! recorded we would show an empty pid, which is never valid. Such a GET waits, bounded, for the delivery in
//! progress to record the acknowledgement, and is answered 404 if it does not arrive in time.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use super::Contracting;
use super::ProcessError;
use crate::storage::{NegotiationRecord, TransferRecord};

/// How long a GET waits for our own delivery's acknowledgement: a delivery on a working network takes
/// milliseconds, and a partner polling its process should not hang.
pub const ACK_WAIT: Duration = Duration::from_secs(1);

/// A stored process whose pids may still be incomplete.
pub trait Pids {
    fn id(&self) -> &str;
    fn both_pids(&self) -> bool;
}

impl Pids for NegotiationRecord {
    fn id(&self) -> &str {
        &self.id
    }
    fn both_pids(&self) -> bool {
        self.provider_pid.is_some() && self.consumer_pid.is_some()
    }
}

impl Pids for TransferRecord {
    fn id(&self) -> &str {
        &self.id
    }
    fn both_pids(&self) -> bool {
        self.provider_pid.is_some() && self.consumer_pid.is_some()
    }
}

/// The process `find` returns once both its pids are known, waiting up to [`ACK_WAIT`] for the change that
/// records them; 404 (as for a process that does not exist) otherwise.
pub async fn acknowledged<T, F, Fut>(state: &Contracting, find: F) -> Result<T, ProcessError>
where
    T: Pids,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProcessError>>,
{
    // The usual case, a process with both pids, costs one read and no subscription.
    let first = find().await?;
    if first.both_pids() {
        return Ok(first);
    }
    // Subscribed before reading again, so a change between that read and the wait is not missed.
    let mut changes = state.events().subscribe();
    let deadline = tokio::time::Instant::now() + ACK_WAIT;
    loop {
        let process = find().await?;
        if process.both_pids() {
            return Ok(process);
        }
        loop {
            match tokio::time::timeout_at(deadline, changes.recv()).await {
                Err(_) | Ok(Err(RecvError::Closed)) => return Err(ProcessError::NotFound),
                Ok(Ok(e)) if e.process_id == process.id() => break,
                Ok(Ok(_)) => {}
                // Missed some changes: read again, ours may be among them.
                Ok(Err(RecvError::Lagged(_))) => break,
            }
        }
    }
}
