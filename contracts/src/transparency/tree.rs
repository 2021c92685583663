//! An append-only Merkle tree that keeps every complete subtree hash, so the root of any prefix and any proof costs
//! O(log n) lookups instead of rehashing leaves. The audit log keeps one in memory, rebuilt from stored leaf hashes.

use super::merkle::{self, empty_root, node_hash, Hash, MerkleError};

/// `levels[l][i]` is the root of leaves `i·2^l .. (i+1)·2^l`; only complete subtrees are kept.
#[derive(Clone, Debug, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    pub fn new() -> MerkleTree {
        MerkleTree::default()
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash and completes every subtree it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let n = self.levels[level].len();
            if n & 1 == 1 {
                break;
            }
            hash = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            level += 1;
        }
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// The root of leaves `start..end`, for ranges RFC 9162 proofs ask for (start aligned to the range's split).
    pub fn subtree(&self, start: u64, end: u64) -> Result<Hash, MerkleError> {
        let missing = MerkleError::MissingSubtree { start, end };
        if start >= end || end > self.size() {
            return Err(missing);
        }
        let n = end - start;
        if n.is_power_of_two() && start & (n - 1) == 0 {
            let level = n.trailing_zeros() as usize;
            return self
                .levels
                .get(level)
                .and_then(|l| l.get((start / n) as usize))
                .copied()
                .ok_or(missing);
        }
        if n == 1 {
            return Err(missing);
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        Ok(node_hash(
            &self.subtree(start, start + k)?,
            &self.subtree(start + k, end)?,
        ))
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, MerkleError> {
        if size == 0 {
            return Ok(empty_root());
        }
        self.subtree(0, size)
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, MerkleError> {
        if size > self.size() {
            return Err(MerkleError::IndexOutOfRange {
                index: size,
                size: self.size() + 1,
            });
        }
        merkle::inclusion_proof(index, size, |s, e| self.subtree(s, e))
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, MerkleError> {
        if new > self.size() {
            return Err(MerkleError::BadSizes {
                old: new,
                new: self.size(),
            });
        }
        merkle::consistency_proof(old, new, |s, e| self.subtree(s, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transparency::merkle::{leaf_hash, root, verify_consistency, verify_inclusion};

    #[test]
    fn matches_the_recursive_definition_for_every_prefix() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let mut t = MerkleTree::new();
        assert_eq!(t.root_at(0), Ok(empty_root()));
        for (i, l) in leaves.iter().enumerate() {
            t.push(*l);
            assert_eq!(t.root_at(i as u64 + 1), Ok(root(&leaves[..=i])));
        }
        for size in [1u64, 7, 64, 70] {
            let r = root(&leaves[..size as usize]);
            for idx in 0..size {
                let p = t.inclusion_proof(idx, size).expect("proof");
                verify_inclusion(idx, size, &leaves[idx as usize], &p, &r).expect("verifies");
            }
            for old in 1..size {
                let p = t.consistency_proof(old, size).expect("proof");
                verify_consistency(old, size, &p, &root(&leaves[..old as usize]), &r)
                    .expect("consistent");
            }
        }
        assert!(t.inclusion_proof(0, 71).is_err());
        assert!(t.root_at(71).is_err());
    }
}
