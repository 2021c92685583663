//! C2SP tlog checkpoints (c2sp.org/tlog-checkpoint): the signed statement "the log named `origin` has `size` entries
//! with this root", carried in a signed note.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::merkle::Hash;
use super::note::{self, NoteError, NoteSigner, NoteVerifier};

/// Why a checkpoint could not be parsed or trusted.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CheckpointError {
    #[error("malformed checkpoint: {0}")]
    Malformed(&'static str),
    #[error("checkpoint is for origin {found}, expected {expected}")]
    WrongOrigin { expected: String, found: String },
    #[error(transparent)]
    Note(#[from] NoteError),
}

/// A checkpoint body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// `origin\nsize\nbase64(root)\n`. We never emit extension lines: they are not auditable.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a body; extension lines after the root are tolerated and dropped.
    pub fn parse_body(text: &str) -> Result<Checkpoint, CheckpointError> {
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(CheckpointError::Malformed("no origin"))?;
        let size_s = lines.next().ok_or(CheckpointError::Malformed("no size"))?;
        if size_s.is_empty()
            || (size_s.len() > 1 && size_s.starts_with('0'))
            || !size_s.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(CheckpointError::Malformed(
                "size is not a canonical decimal",
            ));
        }
        let size = size_s
            .parse()
            .map_err(|_| CheckpointError::Malformed("size too large"))?;
        let root: Hash = lines
            .next()
            .and_then(|r| STANDARD.decode(r).ok())
            .and_then(|r| r.try_into().ok())
            .ok_or(CheckpointError::Malformed(
                "root is not a base64 sha-256 hash",
            ))?;
        if !text.ends_with('\n') {
            return Err(CheckpointError::Malformed(
                "body does not end with a newline",
            ));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// A checkpoint together with the signed note that carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    /// The whole signed note, verbatim.
    pub note: String,
}

impl SignedCheckpoint {
    /// Signs a checkpoint with the log key; the key's name must be the origin.
    pub fn sign(
        checkpoint: Checkpoint,
        key: &NoteSigner,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        if key.name() != checkpoint.origin {
            return Err(CheckpointError::WrongOrigin {
                expected: checkpoint.origin,
                found: key.name().to_owned(),
            });
        }
        let note = key.sign(&checkpoint.body())?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Opens a note signed by one of `trusted` and checks it is for `origin`.
    pub fn open(
        note: &str,
        origin: &str,
        trusted: &[NoteVerifier],
    ) -> Result<SignedCheckpoint, CheckpointError> {
        let opened = note::open(note, trusted)?;
        let checkpoint = Checkpoint::parse_body(&opened.text)?;
        if checkpoint.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_owned(),
                found: checkpoint.origin,
            });
        }
        Ok(SignedCheckpoint {
            checkpoint,
            note: note.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_origin_check() {
        let key = NoteSigner::generate("city-a.example/audit").expect("key");
        let cp = Checkpoint {
            origin: "city-a.example/audit".into(),
            size: 42,
            root: [7; 32],
        };
        let signed = SignedCheckpoint::sign(cp.clone(), &key).expect("signed");
        assert!(signed.note.starts_with("city-a.example/audit\n42\nBwcH"));
        let opened =
            SignedCheckpoint::open(&signed.note, "city-a.example/audit", &[key.verifier()])
                .expect("opens");
        assert_eq!(opened.checkpoint, cp);
        assert!(matches!(
            SignedCheckpoint::open(&signed.note, "other", &[key.verifier()]),
            Err(CheckpointError::WrongOrigin { .. })
        ));
        let forged = signed.note.replace("\n42\n", "\n43\n");
        assert!(
            SignedCheckpoint::open(&forged, "city-a.example/audit", &[key.verifier()]).is_err()
        );
    }

    #[test]
    fn bad_bodies_are_refused() {
        for bad in [
            "",
            "o\n",
            "o\n01\nAAAA\n",
            "o\n1\nAAAA\n",
            "o\n-1\n\n",
            "o\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
        ] {
            assert!(Checkpoint::parse_body(bad).is_err(), "{bad:?}");
        }
    }
}
