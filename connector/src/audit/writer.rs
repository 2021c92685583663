//! The single writer: the only task that assigns indices, inserts entries and signs checkpoints. Appends queued
//! while a transaction commits go into the next one (up to 4096), which is what makes batching free under load and
//! keeps one append's latency to one commit when idle. Appends nobody waits on (served data accesses) may be held
//! a few milliseconds more, to share a commit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use twinport_contracts::transparency::checkpoint::{Checkpoint, SignedCheckpoint};

use super::event::PreparedLeaf;
use super::{AuditError, Shared};
use crate::storage::{Backend, StorageError};

/// Under load a batch takes everything queued while the previous one committed, up to this many: larger batches
/// spread one commit (and the WAL's growth checks) over more entries; when idle a batch is one entry. An index
/// keyed by agreement or resource takes its new entries all over its pages, and a page dirtied by many entries of
/// one batch is written to the WAL once: measured on SQLite, 4096 gave 1.4x the appends per second of 1024 with
/// 200 000 entries and 1.2x with 1 000 000 (the commit of a full batch takes about 75 ms, paid only under load).
pub const MAX_BATCH: usize = 4096;
/// Yields while collecting a batch, each taken only when the queue ran dry.
const MAX_LINGER: usize = 4;
/// How long a batch of appends nobody is waiting on before answering (served data accesses, whose responses have
/// gone already) may wait for more: a commit costs the data plane far more than an entry does (measured at 12 000
/// accesses a second: 5 ms made batches of 115 instead of 40 and gave 1.08x the throughput; 10 ms, 1.13x). What
/// waits: a receipt fetched at once, the entry's visibility to auditors and checkpoints, and a clean stop (which
/// waits for such entries before closing the store).
pub const DEFERRED_LINGER: Duration = Duration::from_millis(5);
/// Checkpoints follow new entries within about this long (Tessera's minimum).
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

pub enum Command {
    Append {
        leaf: Box<PreparedLeaf>,
        receipt: Option<Box<super::ReceiptRow>>,
        /// Nobody's answer waits on this commit, so it may be held for [`DEFERRED_LINGER`] to fill its batch.
        deferrable: bool,
        reply: oneshot::Sender<Result<u64, AuditError>>,
    },
    Checkpoint(oneshot::Sender<Result<SignedCheckpoint, AuditError>>),
}

impl Command {
    fn deferrable(&self) -> bool {
        matches!(
            self,
            Command::Append {
                deferrable: true,
                ..
            }
        )
    }
}

/// `linger`: how long a batch of deferrable appends may wait for more ([`DEFERRED_LINGER`] outside tests).
pub async fn run(shared: Arc<Shared>, mut rx: mpsc::Receiver<Command>, linger: Duration) {
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + CHECKPOINT_INTERVAL,
        CHECKPOINT_INTERVAL,
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(cmd) => handle(&shared, cmd, &mut rx, linger).await,
                None => break,
            },
            _ = tick.tick() => {
                if let Err(e) = sign_if_new(&shared).await {
                    tracing::error!(error = %e, "cannot sign audit checkpoint");
                }
            }
        }
    }
}

async fn handle(
    shared: &Shared,
    first: Command,
    rx: &mut mpsc::Receiver<Command>,
    linger: Duration,
) {
    // Sized for what is queued already, and a batch that will linger for about a hundred: growing these push by
    // push was a fifth of the writer task's own work under load.
    let floor = if first.deferrable() { 128 } else { 1 };
    let queued = (rx.len() + 1).clamp(floor, MAX_BATCH);
    let mut leaves = Vec::with_capacity(queued);
    let mut receipts = Vec::with_capacity(queued);
    let mut replies = Vec::with_capacity(queued);
    let mut checkpoint_waiters = Vec::new();
    let mut all_deferrable = first.deferrable();
    let mut next = Some(first);
    let mut lingered = 0;
    let mut deadline: Option<tokio::time::Instant> = None;
    while let Some(cmd) = next.take() {
        all_deferrable &= cmd.deferrable();
        match cmd {
            Command::Append {
                leaf,
                receipt,
                reply,
                ..
            } => {
                leaves.push(*leaf);
                receipts.push(receipt);
                replies.push(reply);
            }
            Command::Checkpoint(reply) => checkpoint_waiters.push(reply),
        }
        if leaves.len() < MAX_BATCH {
            next = rx.try_recv().ok();
            // Appenders answered by the last commit are still preparing their next events on the other
            // workers: yielding once lets them queue here, so under load a batch fills instead of committing a
            // handful of entries; when idle the queue stays empty and this costs one yield.
            if next.is_none() && lingered < MAX_LINGER {
                lingered += 1;
                tokio::task::yield_now().await;
                next = rx.try_recv().ok();
            }
            // Nobody waits on this batch yet: wait a little for more rather than commit a small one. Anything
            // someone does wait on ends the wait (it is taken into the batch, which then commits at once).
            if next.is_none() && all_deferrable {
                let until = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + linger);
                next = tokio::time::timeout_at(until, rx.recv())
                    .await
                    .ok()
                    .flatten();
            }
        }
    }
    if !leaves.is_empty() {
        let written = match shared.store.backend() {
            Backend::Sqlite => {
                let first = shared.size();
                shared
                    .store
                    .audit_insert_batch(first, &leaves, receipts)
                    .await
                    .map(|()| first)
            }
            // Other replicas may append to the same log: extend the latest tree under the advisory lock.
            Backend::Postgres => {
                shared
                    .store
                    .audit_insert_batch_locked(&leaves, receipts, || async {
                        super::load_tail(shared)
                            .await
                            .map_err(|e| StorageError::Corrupt(e.to_string()))
                    })
                    .await
            }
        };
        match written {
            Ok(first_index) => {
                shared
                    .batches
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut tree = shared.tree_mut();
                for (i, leaf) in leaves.iter().enumerate() {
                    // A catch-up may already have read our committed rows back; never push one twice.
                    if tree.size() == first_index + i as u64 {
                        tree.push(leaf.hash);
                    }
                }
                drop(tree);
                for (i, reply) in replies.into_iter().enumerate() {
                    let _ = reply.send(Ok(first_index + i as u64));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, entries = leaves.len(), "audit batch not written");
                for reply in replies {
                    let _ = reply.send(Err(AuditError::Write(e.to_string())));
                }
                // A commit can fail after the database applied it; re-reading the tail keeps our indices true.
                if let Err(e) = super::load_tail(shared).await {
                    tracing::error!(error = %e, "cannot re-read the audit log after a failed write");
                }
            }
        }
    }
    if !checkpoint_waiters.is_empty() {
        let result = sign_if_new(shared).await;
        for reply in checkpoint_waiters {
            let _ = reply.send(result.clone());
        }
    }
}

/// Signs a checkpoint for the current tree unless the latest one already covers it. Only this task signs, and it
/// signs only roots of the one append-only tree it holds, so no two checkpoints can be inconsistent. Replicas
/// sharing a PostgreSQL database each hold a prefix of the same single order (appends take the advisory lock and
/// catch up first), so their checkpoints are consistent with each other too.
pub async fn sign_if_new(shared: &Shared) -> Result<SignedCheckpoint, AuditError> {
    // With replicas sharing the database, the checkpoint covers what the others appended too.
    if shared.store.backend() == Backend::Postgres {
        super::load_tail(shared).await?;
    }
    let size = shared.size();
    if let Some(latest) = shared.latest_checkpoint() {
        if latest.checkpoint.size == size {
            return Ok(latest);
        }
    }
    let root = shared.tree().root_at(size)?;
    let cp = Checkpoint {
        origin: shared.origin.clone(),
        size,
        root,
    };
    let signed = SignedCheckpoint::sign(cp, &shared.key)?;
    shared
        .store
        .audit_insert_checkpoint(size, &hex::encode(root), &signed.note)
        .await
        .map_err(|e| AuditError::Write(e.to_string()))?;
    shared.set_latest(signed.clone());
    Ok(signed)
}
