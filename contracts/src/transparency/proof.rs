//! Offline inclusion receipts in the C2SP `c2sp.org/tlog-proof@v1` format: the entry index, its inclusion path and
//! the signed checkpoint that covers it, so a partner can prove later, without asking us, that we logged the entry.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::checkpoint::{CheckpointError, SignedCheckpoint};
use super::merkle::{verify_inclusion, Hash, MerkleError};
use super::note::NoteVerifier;

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Why a receipt could not be parsed or did not verify.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("malformed receipt: {0}")]
    Malformed(&'static str),
    #[error("receipt checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("receipt inclusion proof: {0}")]
    Inclusion(#[from] MerkleError),
}

/// A parsed receipt; the checkpoint note is kept verbatim and only trusted after [`Receipt::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The format's optional `extra` data; Twinport puts the entry itself there, so the receipt alone shows what
    /// was logged (its leaf hash is what the inclusion proof is checked against).
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    pub checkpoint_note: String,
}

impl Receipt {
    pub fn to_text(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            s.push_str(&STANDARD.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint_note);
        s
    }

    pub fn parse(text: &str) -> Result<Receipt, ReceiptError> {
        let (head, checkpoint_note) = text.split_once("\n\n").ok_or(ReceiptError::Malformed(
            "no blank line before the checkpoint",
        ))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(ReceiptError::Malformed(
                "not a c2sp.org/tlog-proof@v1 receipt",
            ));
        }
        let mut line = lines.next().ok_or(ReceiptError::Malformed("no index"))?;
        let mut extra = None;
        if let Some(data) = line.strip_prefix("extra ") {
            extra = Some(
                STANDARD
                    .decode(data)
                    .map_err(|_| ReceiptError::Malformed("extra line is not base64"))?,
            );
            line = lines.next().ok_or(ReceiptError::Malformed("no index"))?;
        }
        let index = line
            .strip_prefix("index ")
            .filter(|n| !n.is_empty() && (n.len() == 1 || !n.starts_with('0')))
            .and_then(|n| n.parse().ok())
            .ok_or(ReceiptError::Malformed("bad index line"))?;
        let proof = lines
            .map(|l| STANDARD.decode(l).ok().and_then(|b| Hash::try_from(b).ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or(ReceiptError::Malformed(
                "proof line is not a base64 sha-256 hash",
            ))?;
        Ok(Receipt {
            extra,
            index,
            proof,
            checkpoint_note: checkpoint_note.to_owned(),
        })
    }

    /// Checks the checkpoint signature and origin, then that `leaf` sits at `index` under its root.
    pub fn verify(
        &self,
        leaf: &Hash,
        origin: &str,
        trusted: &[NoteVerifier],
    ) -> Result<SignedCheckpoint, ReceiptError> {
        let cp = SignedCheckpoint::open(&self.checkpoint_note, origin, trusted)?;
        verify_inclusion(
            self.index,
            cp.checkpoint.size,
            leaf,
            &self.proof,
            &cp.checkpoint.root,
        )?;
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::super::checkpoint::Checkpoint;
    use super::super::merkle::{inclusion_proof, leaf_hash, root};
    use super::super::note::NoteSigner;
    use super::*;

    #[test]
    fn receipt_round_trips_and_verifies_only_its_own_leaf() {
        let key = NoteSigner::generate("log.example").expect("key");
        let leaves: Vec<Hash> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
        let cp = Checkpoint {
            origin: "log.example".into(),
            size: 5,
            root: root(&leaves),
        };
        let signed = SignedCheckpoint::sign(cp, &key).expect("signed");
        let proof =
            inclusion_proof(3, 5, |s, e| Ok(root(&leaves[s as usize..e as usize]))).expect("proof");
        let r = Receipt {
            extra: Some(b"entry three".to_vec()),
            index: 3,
            proof,
            checkpoint_note: signed.note,
        };
        let parsed = Receipt::parse(&r.to_text()).expect("parses");
        assert_eq!(parsed, r);
        parsed
            .verify(&leaves[3], "log.example", &[key.verifier()])
            .expect("verifies");
        assert!(parsed
            .verify(&leaves[2], "log.example", &[key.verifier()])
            .is_err());
        let other = NoteSigner::generate("log.example").expect("key");
        assert!(parsed
            .verify(&leaves[3], "log.example", &[other.verifier()])
            .is_err());
        assert!(Receipt::parse("c2sp.org/tlog-proof@v1\nindex 01\n\nx").is_err());
    }
}
