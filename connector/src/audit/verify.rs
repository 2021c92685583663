//! Full re-verification of a log, live or exported: every leaf against its hash, indices contiguous, every
//! signed checkpoint's signature, and the tree rebuilt from the leaves against every checkpoint's root. The first
//! problem is reported naming the entry (or the smallest range of entries a checkpoint can pin it to).

use serde_json::Value;
use twinport_contracts::canonical::canonicalize;
use twinport_contracts::transparency::checkpoint::SignedCheckpoint;
use twinport_contracts::transparency::merkle::{empty_root, leaf_hash, Hash};
use twinport_contracts::transparency::note::NoteVerifier;
use twinport_contracts::transparency::tree::MerkleTree;

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("entry {index}: {reason}")]
    Entry { index: u64, reason: String },
    #[error("checkpoint #{position}: {reason}")]
    Checkpoint { position: usize, reason: String },
    #[error(
        "log truncated: the signed checkpoint covers {signed} entries, only {present} are present"
    )]
    Truncated { signed: u64, present: u64 },
    #[error("no signed checkpoint to verify against")]
    NoCheckpoint,
    #[error("malformed input: {0}")]
    Malformed(String),
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: u64,
    pub checkpoints: usize,
    /// Size and root of the latest signed checkpoint, which every verified entry up to it is committed to.
    pub signed_size: u64,
    pub signed_root: Hash,
    /// Entries after the latest checkpoint: well-formed, but not yet covered by a signature.
    pub unsigned_tail: u64,
}

/// Incremental verifier: feed entries in order, then call [`LogVerifier::finish`].
pub struct LogVerifier {
    checkpoints: Vec<SignedCheckpoint>,
    next_checkpoint: usize,
    last_checked: u64,
    tree: MerkleTree,
}

impl LogVerifier {
    /// Opens every checkpoint note with `key` under `origin`; they must come in strictly increasing size.
    pub fn new(
        origin: &str,
        key: &NoteVerifier,
        notes: &[String],
    ) -> Result<LogVerifier, VerifyError> {
        let mut checkpoints: Vec<SignedCheckpoint> = Vec::with_capacity(notes.len());
        for (position, note) in notes.iter().enumerate() {
            let cp =
                SignedCheckpoint::open(note, origin, std::slice::from_ref(key)).map_err(|e| {
                    VerifyError::Checkpoint {
                        position,
                        reason: e.to_string(),
                    }
                })?;
            if checkpoints
                .last()
                .is_some_and(|p| p.checkpoint.size >= cp.checkpoint.size)
            {
                return Err(VerifyError::Checkpoint {
                    position,
                    reason: "checkpoints are not in increasing size".into(),
                });
            }
            checkpoints.push(cp);
        }
        if checkpoints.is_empty() {
            return Err(VerifyError::NoCheckpoint);
        }
        let mut v = LogVerifier {
            checkpoints,
            next_checkpoint: 0,
            last_checked: 0,
            tree: MerkleTree::new(),
        };
        v.check_reached()?;
        Ok(v)
    }

    /// Checks one stored entry: `leaf` is its bytes as stored, `stored_hash` the hex leaf hash recorded beside it.
    pub fn push(&mut self, index: u64, leaf: &[u8], stored_hash: &str) -> Result<(), VerifyError> {
        let canonical = serde_json::from_slice::<Value>(leaf)
            .ok()
            .and_then(|v| canonicalize(&v).ok());
        if canonical.as_deref() != Some(leaf) {
            return Err(VerifyError::Entry {
                index,
                reason: "not RFC 8785 canonical JSON".into(),
            });
        }
        self.push_canonical(index, leaf, stored_hash)
    }

    /// As [`LogVerifier::push`] for bytes the caller produced with `canonicalize` itself (an export's entries).
    pub fn push_canonical(
        &mut self,
        index: u64,
        leaf: &[u8],
        stored_hash: &str,
    ) -> Result<(), VerifyError> {
        let expected = self.tree.size();
        if index > expected {
            return Err(VerifyError::Entry {
                index: expected,
                reason: format!("missing or out of order (the next entry present is {index})"),
            });
        }
        if index < expected {
            return Err(VerifyError::Entry {
                index,
                reason: format!("duplicated or out of order (expected entry {expected})"),
            });
        }
        let hash = leaf_hash(leaf);
        if hex::encode(hash) != stored_hash {
            return Err(VerifyError::Entry {
                index,
                reason: "content does not match its stored leaf hash (edited)".into(),
            });
        }
        self.tree.push(hash);
        self.check_reached()
    }

    /// Compares the root with every checkpoint whose size has just been reached.
    fn check_reached(&mut self) -> Result<(), VerifyError> {
        while let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            let size = cp.checkpoint.size;
            if size != self.tree.size() {
                break;
            }
            let root = if size == 0 {
                empty_root()
            } else {
                self.tree
                    .root_at(size)
                    .map_err(|e| VerifyError::Malformed(e.to_string()))?
            };
            if root != cp.checkpoint.root {
                return Err(VerifyError::Entry {
                    index: self.last_checked,
                    reason: format!(
                        "entries {}..{size} do not match the signed checkpoint of size {size} \
                         (one of them was altered, inserted, removed or reordered)",
                        self.last_checked
                    ),
                });
            }
            self.last_checked = size;
            self.next_checkpoint += 1;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<VerifyReport, VerifyError> {
        let present = self.tree.size();
        if let Some(cp) = self.checkpoints.get(self.next_checkpoint) {
            return Err(VerifyError::Truncated {
                signed: cp.checkpoint.size,
                present,
            });
        }
        let latest = &self.checkpoints[self.checkpoints.len() - 1].checkpoint;
        Ok(VerifyReport {
            entries: present,
            checkpoints: self.checkpoints.len(),
            signed_size: latest.size,
            signed_root: latest.root,
            unsigned_tail: present - latest.size,
        })
    }
}

/// Verifies the live store: every stored entry and checkpoint, with the log's own key.
pub async fn verify_store(
    store: &crate::storage::Store,
    origin: &str,
    key: &NoteVerifier,
) -> Result<VerifyReport, super::AuditError> {
    let notes = store.audit_checkpoints().await?;
    let mut v = LogVerifier::new(origin, key, &notes)
        .map_err(|e| super::AuditError::Inconsistent(e.to_string()))?;
    let mut start = 0;
    loop {
        let page = store.audit_entries_from(start, 10_000).await?;
        let Some(last) = page.last() else { break };
        start = last.index + 1;
        for e in &page {
            v.push(e.index, e.leaf.as_bytes(), &e.leaf_hash)
                .map_err(|e| super::AuditError::Inconsistent(e.to_string()))?;
        }
    }
    v.finish()
        .map_err(|e| super::AuditError::Inconsistent(e.to_string()))
}
