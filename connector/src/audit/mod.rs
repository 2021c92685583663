//! The append-only, tamper-evident audit and provenance log: every inter-LDT exchange and management action as an
//! RFC 9162 Merkle-tree entry, stored through sqlx, with C2SP signed checkpoints, inclusion and consistency proofs,
//! and `tlog-proof` receipts for partners.
//!
//! [`AuditLog`] is a cheap handle to a single writer task; `append` returns once the entry is committed, so callers
//! acknowledge an action only after its record is durable. The Merkle tree of all leaf hashes is kept in memory
//! (64 bytes per entry), rebuilt and checked against the stored leaves and the latest signed checkpoint on open.

pub mod bench;
mod event;
pub mod export;
mod key;
mod partner_logs;
pub mod prov;
pub mod receipts;
pub mod received;
mod record;
mod tables;
pub mod verify;
pub mod witness;
mod writer;

/// The writer's largest batch (for benchmarks sizing their load).
pub use writer::MAX_BATCH;

/// A receipt stored with the entry that records it, in the same transaction. Plain data, not a callback: nothing of
/// the caller's runs inside the writer.
// The variants differ in size, but a row is boxed once, where the writer queues it (`Option<Box<ReceiptRow>>`):
// boxing the issued receipt inside as well would cost every served response a second allocation for nothing.
#[allow(clippy::large_enum_variant)]
pub enum ReceiptRow {
    /// The data plane's receipt for an access it served; the writer sets its `audit_index` to the entry's.
    Issued(twinport_contracts::receipt::AccessReceipt),
    /// A receipt received as consumer, as checked when it arrived (the consumer's record of it); when the record
    /// names no `audit_index` (the entry recording the access), the writer sets it to the entry it is stored with.
    Received {
        transfer_id: String,
        record: serde_json::Value,
    },
}

use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::{mpsc, oneshot};
use twinport_contracts::transparency::checkpoint::CheckpointError;
use twinport_contracts::transparency::merkle::{leaf_hash, Hash, MerkleError};
use twinport_contracts::transparency::note::{NoteSigner, NoteVerifier};
use twinport_contracts::transparency::proof::Receipt;
use twinport_contracts::transparency::tree::MerkleTree;

pub use event::{
    commitment, prepare, timestamp, AuditEvent, EventKind, PreparedLeaf, MAX_LEAF_BYTES,
};
pub use key::{key_path, load_verifier, KEY_FILE};
pub use partner_logs::PartnerLogs;

/// Header carrying our log's verifier key (`vkey`) next to a served checkpoint, for a partner's first check.
pub const VKEY_HEADER: &str = "twinport-audit-vkey";
pub use record::{digest, record_catalogue_served};
pub use tables::{EntryFilter, StoredEntry};
pub use twinport_contracts::transparency::checkpoint::SignedCheckpoint;

use crate::storage::{StorageError, Store};

/// How many rows one read fetches while rebuilding the tree; bounds memory on open.
const LOAD_PAGE: u64 = 10_000;

/// Why an audit operation failed. Handlers log it and answer a generic 500 (or 4xx for range errors).
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    #[error("audit log key {path}: {message}")]
    Key { path: String, message: String },
    #[error("invalid audit event: {0}")]
    Invalid(String),
    #[error("audit write failed: {0}")]
    Write(String),
    #[error("audit storage: {0}")]
    Read(String),
    #[error("stored audit log is inconsistent: {0}")]
    Inconsistent(String),
    #[error("{0}")]
    OutOfRange(String),
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the audit writer has stopped")]
    Closed,
}

impl From<StorageError> for AuditError {
    fn from(e: StorageError) -> Self {
        AuditError::Read(e.to_string())
    }
}

/// State shared by the handle and the writer task.
pub(crate) struct Shared {
    store: Store,
    origin: String,
    key: NoteSigner,
    tree: RwLock<MerkleTree>,
    latest: RwLock<Option<SignedCheckpoint>>,
    /// Transactions the writer committed, so benchmarks can tell how full its batches ran.
    batches: std::sync::atomic::AtomicU64,
}

impl Shared {
    // A poisoned lock only means a panic elsewhere mid-push; the tree is still append-only, so keep serving.
    fn tree(&self) -> RwLockReadGuard<'_, MerkleTree> {
        self.tree.read().unwrap_or_else(|p| p.into_inner())
    }
    fn tree_mut(&self) -> RwLockWriteGuard<'_, MerkleTree> {
        self.tree.write().unwrap_or_else(|p| p.into_inner())
    }
    fn size(&self) -> u64 {
        self.tree().size()
    }
    fn latest_checkpoint(&self) -> Option<SignedCheckpoint> {
        self.latest
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    fn set_latest(&self, cp: SignedCheckpoint) {
        *self.latest.write().unwrap_or_else(|p| p.into_inner()) = Some(cp);
    }
}

/// The log's origin (checkpoint first line and key name), derived from the stable participant id rather than the
/// listen address, which may change between restarts. Characters a note key name cannot hold become `-`.
pub fn origin_for(participant_id: &str) -> String {
    let id = participant_id
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let id: String = id
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '+' {
                '-'
            } else {
                c
            }
        })
        .collect();
    format!("{id}/audit")
}

/// Handle to the audit log; clone freely.
#[derive(Clone)]
pub struct AuditLog {
    shared: Arc<Shared>,
    tx: mpsc::Sender<writer::Command>,
    pub(crate) appends: crate::telemetry::audit_timing::AppendObserver,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("origin", &self.shared.origin)
            .field("size", &self.shared.size())
            .finish_non_exhaustive()
    }
}

/// Reads stored entries from the tree's current size on, checking that indices are contiguous and that every
/// stored leaf hash is the hash of its stored leaf.
pub(crate) async fn load_tail(shared: &Shared) -> Result<u64, AuditError> {
    loop {
        let start = shared.size();
        let page = shared.store.audit_entries_from(start, LOAD_PAGE).await?;
        if page.is_empty() {
            return Ok(start);
        }
        let mut tree = shared.tree_mut();
        for e in &page {
            // Another caller (the writer, or a concurrent catch-up) may have added it meanwhile: it must match.
            if e.index < tree.size() {
                if tree.leaf(e.index).map(hex::encode).as_deref() != Some(e.leaf_hash.as_str()) {
                    return Err(AuditError::Inconsistent(format!(
                        "entry {} differs from the one already read",
                        e.index
                    )));
                }
                continue;
            }
            if e.index != tree.size() {
                return Err(AuditError::Inconsistent(format!(
                    "entry {} is missing (next stored index is {})",
                    tree.size(),
                    e.index
                )));
            }
            let hash = leaf_hash(e.leaf.as_bytes());
            if hex::encode(hash) != e.leaf_hash {
                return Err(AuditError::Inconsistent(format!(
                    "entry {} does not match its stored leaf hash",
                    e.index
                )));
            }
            tree.push(hash);
        }
    }
}

impl AuditLog {
    /// Opens the log: loads or creates the key, rebuilds the tree from storage, checks it against the latest signed
    /// checkpoint, and starts the writer. Fails rather than sign anything if the stored log does not verify.
    pub async fn open(
        store: &Store,
        data_dir: &Path,
        origin: &str,
    ) -> Result<AuditLog, AuditError> {
        Self::open_lingering(store, data_dir, origin, writer::DEFERRED_LINGER).await
    }

    /// [`AuditLog::open`] with the writer holding deferrable appends up to `linger` (tests lengthen it, so that what
    /// they assert about the wait cannot depend on the machine's speed).
    pub(crate) async fn open_lingering(
        store: &Store,
        data_dir: &Path,
        origin: &str,
        linger: std::time::Duration,
    ) -> Result<AuditLog, AuditError> {
        let key = key::load_or_generate(data_dir, origin)?;
        let shared = Arc::new(Shared {
            store: store.clone(),
            origin: origin.to_owned(),
            key,
            tree: RwLock::new(MerkleTree::new()),
            latest: RwLock::new(None),
            batches: Default::default(),
        });
        let size = load_tail(&shared).await?;
        if let Some(note) = store.audit_latest_checkpoint().await? {
            let verifier = shared.key.verifier();
            let cp = SignedCheckpoint::open(&note, origin, std::slice::from_ref(&verifier))?;
            let ours = shared.tree().root_at(cp.checkpoint.size).map_err(|_| {
                AuditError::Inconsistent(format!(
                    "latest checkpoint covers {} entries, only {size} stored",
                    cp.checkpoint.size
                ))
            })?;
            if ours != cp.checkpoint.root {
                return Err(AuditError::Inconsistent(format!(
                    "stored entries do not match the signed checkpoint of size {}",
                    cp.checkpoint.size
                )));
            }
            shared.set_latest(cp);
        }
        // Entries committed after the last checkpoint (e.g. before a crash) get signed at once, so the log
        // verifies to its full length from the first moment after a restart.
        writer::sign_if_new(&shared).await?;
        let (tx, rx) = mpsc::channel(4 * writer::MAX_BATCH);
        tokio::spawn(writer::run(shared.clone(), rx, linger));
        tracing::info!(origin, entries = size, "audit log open");
        Ok(AuditLog {
            shared,
            tx,
            appends: Default::default(),
        })
    }

    /// Records the duration of every append from now on into `histogram` (see
    /// [`crate::telemetry::audit_timing`]). Only the first call takes effect: a log belongs to one connector.
    pub fn observe_appends(&self, histogram: prometheus_client::metrics::histogram::Histogram) {
        self.appends.observe(histogram);
    }

    /// Records an event; `Ok(index)` means it is committed to the database.
    pub async fn append(&self, event: AuditEvent) -> Result<u64, AuditError> {
        self.send_append(event, None, false).await
    }

    /// Records an event together with its receipt row, written in the same transaction: one commit per batch for
    /// both, and never a receipt without its entry or the reverse. With `answered` (the response has gone already)
    /// the writer may hold it up to [`writer::DEFERRED_LINGER`] to commit it with others.
    pub async fn append_with_receipt(
        &self,
        event: AuditEvent,
        receipt: ReceiptRow,
        answered: bool,
    ) -> Result<u64, AuditError> {
        self.send_append(event, Some(Box::new(receipt)), answered)
            .await
    }

    async fn send_append(
        &self,
        event: AuditEvent,
        receipt: Option<Box<ReceiptRow>>,
        deferrable: bool,
    ) -> Result<u64, AuditError> {
        let _timer = self.appends.start();
        let leaf = prepare(event, time::OffsetDateTime::now_utc())?;
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(writer::Command::Append {
                leaf: Box::new(leaf),
                deferrable,
                receipt,
                reply,
            })
            .await
            .map_err(|_| AuditError::Closed)?;
        wait.await.map_err(|_| AuditError::Closed)?
    }

    /// The current checkpoint, signing a new one first if entries were added since the last.
    pub async fn checkpoint(&self) -> Result<SignedCheckpoint, AuditError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send(writer::Command::Checkpoint(reply))
            .await
            .map_err(|_| AuditError::Closed)?;
        wait.await.map_err(|_| AuditError::Closed)?
    }

    /// The latest signed checkpoint, without signing a new one.
    pub fn latest_checkpoint(&self) -> Option<SignedCheckpoint> {
        self.shared.latest_checkpoint()
    }

    /// Reads entries other replicas sharing the database appended since this one last looked.
    async fn catch_up_to(&self, size: u64) -> Result<(), AuditError> {
        if size > self.shared.size() {
            load_tail(&self.shared).await?;
        }
        Ok(())
    }

    pub async fn inclusion_proof(
        &self,
        index: u64,
        tree_size: u64,
    ) -> Result<Vec<Hash>, AuditError> {
        self.catch_up_to(tree_size).await?;
        let tree = self.shared.tree();
        if tree_size > tree.size() || index >= tree_size {
            return Err(AuditError::OutOfRange(format!(
                "no entry {index} in a tree of {tree_size} (log holds {})",
                tree.size()
            )));
        }
        Ok(tree.inclusion_proof(index, tree_size)?)
    }

    pub async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash>, AuditError> {
        self.catch_up_to(new_size).await?;
        let tree = self.shared.tree();
        if old_size > new_size || new_size > tree.size() {
            return Err(AuditError::OutOfRange(format!(
                "no consistency proof from {old_size} to {new_size} (log holds {})",
                tree.size()
            )));
        }
        Ok(tree.consistency_proof(old_size, new_size)?)
    }

    /// A `c2sp.org/tlog-proof@v1` receipt for entry `index`, against the latest checkpoint that covers it, with the
    /// entry itself as the receipt's `extra` data.
    pub async fn receipt(&self, index: u64) -> Result<String, AuditError> {
        let cp = match self.latest_checkpoint() {
            Some(cp) if cp.checkpoint.size > index => cp,
            _ => self.checkpoint().await?,
        };
        let proof = self.inclusion_proof(index, cp.checkpoint.size).await?;
        let entry = self
            .stored_entry(index)
            .await?
            .ok_or_else(|| AuditError::OutOfRange(format!("no entry {index}")))?;
        Ok(Receipt {
            extra: Some(entry.leaf.into_bytes()),
            index,
            proof,
            checkpoint_note: cp.note,
        }
        .to_text())
    }

    /// Entry `index` as stored, if there is one.
    async fn stored_entry(&self, index: u64) -> Result<Option<StoredEntry>, AuditError> {
        Ok(self
            .shared
            .store
            .audit_entries_from(index, 1)
            .await?
            .into_iter()
            .find(|e| e.index == index))
    }

    /// The leaf of entry `index` as stored, only if it hashes to the leaf the tree holds there: a row rewritten in
    /// the database (even with its stored hash) is refused, not returned. `None` when there is no such entry.
    pub async fn verified_leaf(&self, index: u64) -> Result<Option<String>, AuditError> {
        if self.shared.tree().leaf(index).is_none() {
            // Another replica may have appended it.
            load_tail(&self.shared).await?;
        }
        let Some(expected) = self.shared.tree().leaf(index) else {
            return Ok(None);
        };
        let entry = self
            .stored_entry(index)
            .await?
            .ok_or_else(|| AuditError::Inconsistent(format!("entry {index} is missing")))?;
        if leaf_hash(entry.leaf.as_bytes()) != expected {
            return Err(AuditError::Inconsistent(format!(
                "entry {index} does not hash to the leaf of the tree"
            )));
        }
        Ok(Some(entry.leaf))
    }

    /// [`Self::verified_leaf`] for many entries: the leaves found (and hashing to the tree's), by index. Entries
    /// close together, as the accesses of one batch of receipts are, are read in one range.
    pub async fn verified_leaves(
        &self,
        indices: &[u64],
    ) -> Result<std::collections::HashMap<u64, String>, AuditError> {
        let mut out = std::collections::HashMap::with_capacity(indices.len());
        let (Some(&low), Some(&high)) = (indices.iter().min(), indices.iter().max()) else {
            return Ok(out);
        };
        if self.shared.tree().leaf(high).is_none() {
            load_tail(&self.shared).await?;
        }
        let span = high - low + 1;
        if span > 4 * indices.len() as u64 + 64 {
            for &index in indices {
                if let Some(leaf) = self.verified_leaf(index).await? {
                    out.insert(index, leaf);
                }
            }
            return Ok(out);
        }
        let wanted: std::collections::HashSet<u64> = indices.iter().copied().collect();
        for entry in self.shared.store.audit_entries_from(low, span).await? {
            if !wanted.contains(&entry.index) {
                continue;
            }
            let Some(expected) = self.shared.tree().leaf(entry.index) else {
                continue;
            };
            if leaf_hash(entry.leaf.as_bytes()) != expected {
                return Err(AuditError::Inconsistent(format!(
                    "entry {} does not hash to the leaf of the tree",
                    entry.index
                )));
            }
            out.insert(entry.index, entry.leaf);
        }
        Ok(out)
    }

    /// Number of durable entries.
    pub fn size(&self) -> u64 {
        self.shared.size()
    }

    /// Append transactions committed since this handle's log was opened.
    pub fn batches_written(&self) -> u64 {
        self.shared
            .batches
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The key auditors and partners verify checkpoints with.
    pub fn verifier(&self) -> NoteVerifier {
        self.shared.key.verifier()
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }
}

#[cfg(test)]
mod tests;
