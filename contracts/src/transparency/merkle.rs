//! RFC 9162 §2.1 Merkle tree hashing and proofs: leaf and node hashes, the root of a list of leaves, inclusion and
//! consistency proof generation and verification.
//!
//! Generation is written against a closure that yields the hash of a leaf range, so a caller holding stored subtree
//! hashes (in memory or in a database) can serve proofs without rehashing leaves; verification needs nothing but the
//! proof itself.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: leaf, node or root hash.
pub type Hash = [u8; 32];

/// Why a proof could not be built or did not verify.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum MerkleError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree sizes {old} and {new} do not describe a prefix (need old <= new)")]
    BadSizes { old: u64, new: u64 },
    #[error("a consistency proof from the empty tree proves nothing")]
    FromEmptyTree,
    #[error("proof has the wrong number of hashes")]
    WrongLength,
    #[error("proof does not lead to the expected root")]
    RootMismatch,
    #[error("no hash available for leaves {start}..{end}")]
    MissingSubtree { start: u64, end: u64 },
}

/// The hash of an empty tree, SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `SHA-256(0x00 || entry)`: the 0x00 prefix keeps a leaf from ever being mistaken for an inner node.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (n >= 2): where RFC 9162 splits a tree.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The root of a list of leaf hashes (MTH of RFC 9162 §2.1.1).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The inclusion proof for leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1), sibling nearest
/// the leaf first. `subtree(start, end)` must return the root of leaves `start..end`.
pub fn inclusion_proof<F>(index: u64, size: u64, mut subtree: F) -> Result<Vec<Hash>, MerkleError>
where
    F: FnMut(u64, u64) -> Result<Hash, MerkleError>,
{
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut path = Vec::new();
    path_into(index, 0, size, &mut subtree, &mut path)?;
    Ok(path)
}

fn path_into<F>(
    m: u64,
    start: u64,
    end: u64,
    subtree: &mut F,
    out: &mut Vec<Hash>,
) -> Result<(), MerkleError>
where
    F: FnMut(u64, u64) -> Result<Hash, MerkleError>,
{
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path_into(m, start, start + k, subtree, out)?;
        out.push(subtree(start + k, end)?);
    } else {
        path_into(m - k, start + k, end, subtree, out)?;
        out.push(subtree(start, start + k)?);
    }
    Ok(())
}

/// The consistency proof between the trees of the first `old` and `new` leaves (RFC 9162 §2.1.4.1). Empty when the
/// sizes are equal or `old` is zero, as there is nothing to prove.
pub fn consistency_proof<F>(old: u64, new: u64, mut subtree: F) -> Result<Vec<Hash>, MerkleError>
where
    F: FnMut(u64, u64) -> Result<Hash, MerkleError>,
{
    if old > new {
        return Err(MerkleError::BadSizes { old, new });
    }
    let mut proof = Vec::new();
    if old == 0 || old == new {
        return Ok(proof);
    }
    subproof_into(old, 0, new, true, &mut subtree, &mut proof)?;
    Ok(proof)
}

fn subproof_into<F>(
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    subtree: &mut F,
    out: &mut Vec<Hash>,
) -> Result<(), MerkleError>
where
    F: FnMut(u64, u64) -> Result<Hash, MerkleError>,
{
    let n = end - start;
    if m == n {
        if !whole {
            out.push(subtree(start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof_into(m, start, start + k, whole, subtree, out)?;
        out.push(subtree(start + k, end)?);
    } else {
        subproof_into(m - k, start + k, end, false, subtree, out)?;
        out.push(subtree(start, start + k)?);
    }
    Ok(())
}

/// Checks that `leaf` is entry `index` of the tree of `size` leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &[u8],
) -> Result<(), MerkleError> {
    if root_from_inclusion(index, size, leaf, proof)?.as_slice() != root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// The root that `proof` leads to from `leaf` as entry `index` of a tree of `size` leaves: for a proof checked
/// against a signature over the root rather than against a root already known.
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(MerkleError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::WrongLength);
    }
    Ok(r)
}

/// Checks that the tree of `old` leaves with root `old_root` is a prefix of the tree of `new` leaves with root
/// `new_root` (RFC 9162 §2.1.4.2), including the cases the RFC leaves implicit: equal sizes need an empty proof and
/// equal roots, and a proof from the empty tree is refused because it would prove nothing.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &[u8],
    new_root: &[u8],
) -> Result<(), MerkleError> {
    if old > new {
        return Err(MerkleError::BadSizes { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(MerkleError::WrongLength);
        }
        // Two empty trees are only equal if both roots are the empty-tree hash.
        if old_root != new_root || (old == 0 && old_root != empty_root().as_slice()) {
            return Err(MerkleError::RootMismatch);
        }
        return Ok(());
    }
    if old == 0 {
        return Err(MerkleError::FromEmptyTree);
    }
    if proof.is_empty() {
        return Err(MerkleError::WrongLength);
    }
    let old_hash: Hash = old_root.try_into().map_err(|_| MerkleError::RootMismatch)?;
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(old_hash);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(MerkleError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::WrongLength);
    }
    if fr != old_hash || sr.as_slice() != new_root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> Hash {
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
        }
        out
    }

    /// transparency-dev/merkle testonly/constants.go leaves.
    fn reference_leaves() -> Vec<Hash> {
        let raw: [&[u8]; 8] = [
            b"",
            &[0x00],
            &[0x10],
            &[0x20, 0x21],
            &[0x30, 0x31],
            &[0x40, 0x41, 0x42, 0x43],
            &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            &[
                0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
                0x6e, 0x6f,
            ],
        ];
        raw.iter().map(|e| leaf_hash(e)).collect()
    }

    #[test]
    fn reference_roots_and_empty_root() {
        let leaves = reference_leaves();
        assert_eq!(
            leaves[0],
            hex32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        );
        assert_eq!(
            root(&leaves),
            hex32("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
        );
        assert_eq!(
            empty_root(),
            hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn generated_proofs_verify_for_every_index_and_size() {
        let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let sub = |s: u64, e: u64| Ok(root(&leaves[s as usize..e as usize]));
        for size in 1..=leaves.len() as u64 {
            let r = root(&leaves[..size as usize]);
            for index in 0..size {
                let p = inclusion_proof(index, size, sub).expect("proof");
                verify_inclusion(index, size, &leaves[index as usize], &p, &r).expect("verifies");
                assert!(
                    verify_inclusion(index, size, &leaves[(index as usize + 1) % 40], &p, &r)
                        .is_err()
                );
            }
            for old in 1..=size {
                let p = consistency_proof(old, size, sub).expect("proof");
                let or = root(&leaves[..old as usize]);
                verify_consistency(old, size, &p, &or, &r).expect("consistent");
                if old < size {
                    assert!(verify_consistency(old, size, &p, &r, &r).is_err());
                }
            }
        }
    }

    #[test]
    fn out_of_range_requests_are_refused() {
        let sub = |_: u64, _: u64| Ok(empty_root());
        assert!(inclusion_proof(3, 3, sub).is_err());
        assert!(consistency_proof(4, 3, sub).is_err());
        assert_eq!(consistency_proof(0, 3, sub), Ok(vec![]));
    }
}
