//! C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys: signing a text, the `vkey` string that publishes a
//! verifier key, and opening a note under a set of trusted keys.
//!
//! Ed25519 comes from josekit (already used for JWS), so the log needs no second crypto stack.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{EdDSA, JwsSigner, JwsVerifier};
use sha2::{Digest, Sha256};

/// Signature type byte for plain Ed25519 signatures.
const ED25519: u8 = 0x01;
/// Spec minimum is 16 signatures; anything far beyond that is hostile input, not a real note.
const MAX_SIGNATURES: usize = 100;

/// Why a note could not be signed, parsed or verified.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum NoteError {
    #[error("invalid key name: {0}")]
    BadName(String),
    #[error("invalid key: {0}")]
    BadKey(String),
    #[error("malformed verifier key")]
    BadVkey,
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("signature by {0} does not verify")]
    BadSignature(String),
    #[error("no trusted key signed the note")]
    NoTrustedSignature,
    #[error("signing failed: {0}")]
    Signing(String),
}

/// `SHA-256(name || 0x0A || type || public key)[:4]`.
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::BadName(name.to_owned()));
    }
    Ok(())
}

/// An Ed25519 key that signs notes under a name (for a log: its origin).
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    pem: String,
    public: [u8; 32],
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A fresh random key.
    pub fn generate(name: &str) -> Result<NoteSigner, NoteError> {
        let pair = EdDSA
            .generate_key_pair(EdCurve::Ed25519)
            .map_err(|e| NoteError::BadKey(e.to_string()))?;
        let pem = String::from_utf8(pair.to_pem_private_key())
            .map_err(|_| NoteError::BadKey("pem is not utf-8".into()))?;
        Self::from_pkcs8_pem(name, &pem)
    }

    /// Loads an Ed25519 PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(name: &str, pem: &str) -> Result<NoteSigner, NoteError> {
        check_name(name)?;
        let pair = EdKeyPair::from_pem(pem)
            .map_err(|_| NoteError::BadKey("not an ed25519 pkcs#8 pem key".into()))?;
        if pair.curve() != EdCurve::Ed25519 {
            return Err(NoteError::BadKey("not an ed25519 key".into()));
        }
        let x = pair
            .to_jwk_public_key()
            .parameter("x")
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or_else(|| NoteError::BadKey("public key missing".into()))?;
        let public: [u8; 32] = URL_SAFE_NO_PAD
            .decode(x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| NoteError::BadKey("public key is not 32 bytes".into()))?;
        Ok(NoteSigner {
            name: name.to_owned(),
            pem: pem.to_owned(),
            public,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn to_pkcs8_pem(&self) -> &str {
        &self.pem
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: key_id(&self.name, &self.public),
            public: self.public,
        }
    }

    /// Signs `text` (which must end in a newline) and returns the whole note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') || text.contains("\n\n") {
            return Err(NoteError::Malformed(
                "text must end with a newline and hold no blank line",
            ));
        }
        let signer = EdDSA
            .signer_from_pem(&self.pem)
            .map_err(|e| NoteError::Signing(e.to_string()))?;
        let sig = signer
            .sign(text.as_bytes())
            .map_err(|e| NoteError::Signing(e.to_string()))?;
        let mut payload = key_id(&self.name, &self.public).to_vec();
        payload.extend_from_slice(&sig);
        Ok(format!(
            "{text}\n\u{2014} {} {}\n",
            self.name,
            STANDARD.encode(payload)
        ))
    }
}

/// A trusted Ed25519 verifier key, as published in a `vkey` string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    public: [u8; 32],
}

impl NoteVerifier {
    /// Parses `<name>+<hex key id>+<base64(0x01 || public key)>`, checking that the key id matches the key.
    pub fn parse(vkey: &str) -> Result<NoteVerifier, NoteError> {
        // Names cannot hold '+', base64 can: split from the left.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadVkey);
        };
        check_name(name).map_err(|_| NoteError::BadVkey)?;
        let raw = STANDARD.decode(b64).map_err(|_| NoteError::BadVkey)?;
        if raw.len() != 33 || raw[0] != ED25519 || hex.len() != 8 {
            return Err(NoteError::BadVkey);
        }
        let public: [u8; 32] = raw[1..].try_into().map_err(|_| NoteError::BadVkey)?;
        let id = key_id(name, &public);
        if hex_id(&id) != hex {
            return Err(NoteError::BadVkey);
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            id,
            public,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    /// The `vkey` string.
    pub fn vkey(&self) -> String {
        let mut raw = vec![ED25519];
        raw.extend_from_slice(&self.public);
        format!(
            "{}+{}+{}",
            self.name,
            hex_id(&self.id),
            STANDARD.encode(raw)
        )
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let mut jwk = Jwk::new("OKP");
        jwk.set_curve("Ed25519");
        if jwk
            .set_parameter("x", Some(URL_SAFE_NO_PAD.encode(self.public).into()))
            .is_err()
        {
            return false;
        }
        EdDSA
            .verifier_from_jwk(&jwk)
            .map(|v| v.verify(msg, sig).is_ok())
            .unwrap_or(false)
    }
}

fn hex_id(id: &[u8; 4]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// A note whose signature by at least one trusted key checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedNote {
    /// The signed text, ending in a newline.
    pub text: String,
    /// Names of the trusted keys that verified.
    pub verified_by: Vec<String>,
}

/// Splits a note into its text and signature lines, verifies every signature by a trusted key and ignores the others.
/// A trusted key whose signature fails rejects the whole note: a forged line next to a good one is an attack.
pub fn open(note: &str, trusted: &[NoteVerifier]) -> Result<OpenedNote, NoteError> {
    if !note.ends_with('\n') {
        return Err(NoteError::Malformed("note does not end with a newline"));
    }
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let text = &note[..split + 1];
    let sig_block = &note[split + 2..];
    let lines: Vec<&str> = sig_block
        .strip_suffix('\n')
        .unwrap_or(sig_block)
        .split('\n')
        .collect();
    if lines.is_empty() || lines.len() > MAX_SIGNATURES {
        return Err(NoteError::Malformed("wrong number of signature lines"));
    }
    let mut verified_by = Vec::new();
    for line in lines {
        let rest = line.strip_prefix("\u{2014} ").ok_or(NoteError::Malformed(
            "signature line does not start with an em dash",
        ))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::Malformed("signature line lacks a signature"))?;
        let payload = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature is not base64"))?;
        if payload.len() < 5 {
            return Err(NoteError::Malformed("signature too short"));
        }
        let Some(key) = trusted
            .iter()
            .find(|k| k.name == name && k.id[..] == payload[..4])
        else {
            continue;
        };
        if !key.verify(text.as_bytes(), &payload[4..]) {
            return Err(NoteError::BadSignature(name.to_owned()));
        }
        verified_by.push(name.to_owned());
    }
    if verified_by.is_empty() {
        return Err(NoteError::NoTrustedSignature);
    }
    Ok(OpenedNote {
        text: text.to_owned(),
        verified_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn c2sp_example_note_verifies_and_a_tamper_does_not() {
        let k = NoteVerifier::parse(SPEC_VKEY).expect("spec vkey");
        assert_eq!(k.vkey(), SPEC_VKEY);
        let opened = open(SPEC_NOTE, std::slice::from_ref(&k)).expect("spec note verifies");
        assert_eq!(opened.text, "This is an example message.\n");
        assert_eq!(opened.verified_by, vec!["example.com/foo".to_owned()]);
        let tampered = SPEC_NOTE.replace("example message", "exemple message");
        assert_eq!(
            open(&tampered, &[k]),
            Err(NoteError::BadSignature("example.com/foo".into()))
        );
    }

    #[test]
    fn signs_and_opens_ignoring_unknown_keys() {
        let a = NoteSigner::generate("log.example/a").expect("key");
        let b = NoteSigner::generate("log.example/b").expect("key");
        let note = a.sign("hello\n").expect("signed");
        assert_eq!(
            open(&note, &[b.verifier()]),
            Err(NoteError::NoTrustedSignature)
        );
        let opened = open(&note, &[b.verifier(), a.verifier()]).expect("verifies");
        assert_eq!(opened.text, "hello\n");
        for _ in 0..20 {
            // Enough fresh keys that some base64 key material holds a '+'.
            let k = NoteSigner::generate("log.example/x")
                .expect("key")
                .verifier();
            assert_eq!(NoteVerifier::parse(&k.vkey()), Ok(k));
        }
        let reloaded = NoteSigner::from_pkcs8_pem("log.example/a", a.to_pkcs8_pem()).expect("pem");
        assert_eq!(reloaded.verifier(), a.verifier());
        assert!(NoteVerifier::parse(
            &a.verifier()
                .vkey()
                .replace("log.example/a", "log.example/c")
        )
        .is_err());
    }

    #[test]
    fn malformed_notes_are_refused() {
        let k = NoteVerifier::parse(SPEC_VKEY).expect("spec vkey");
        for bad in [
            "",
            "no newline",
            "text\n",
            "text\n\n- x AAAA\n",
            "text\n\n\u{2014} x !!!\n",
        ] {
            assert!(open(bad, std::slice::from_ref(&k)).is_err(), "{bad:?}");
        }
    }
}
