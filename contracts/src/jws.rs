//! Detached JWS (RFC 7515 Appendix F) for signing artefacts such as contract agreements: the compact form
//! `header..signature` travels next to the payload instead of wrapping it, so the signed document stays plain
//! JSON and both parties can sign the very same bytes.
//!
//! The payload is base64url-encoded in the signing input as in ordinary JWS (no RFC 7797 `b64: false`), which
//! keeps us interoperable with any JOSE library that can re-attach a payload.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use crate::identity::{IdentityError, Jwks, SignatureFailure, SigningKey, VerifyAlgorithm};

/// Who signed, as established by a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub kid: String,
    /// Any algorithm partners may verify with, not only the ones we sign with; compares equal to the matching
    /// [`crate::identity::KeyAlgorithm`].
    pub alg: VerifyAlgorithm,
}

/// Why a detached JWS could not be produced or did not verify.
#[derive(thiserror::Error, Debug)]
pub enum JwsError {
    #[error("malformed jws: {0}")]
    Malformed(String),
    #[error("jws payload is attached; expected detached content")]
    NotDetached,
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    #[error("unknown signing key: {0}")]
    UnknownKey(String),
    #[error("bad signature")]
    BadSignature,
    #[error(transparent)]
    Key(#[from] IdentityError),
}

impl From<SignatureFailure> for JwsError {
    fn from(f: SignatureFailure) -> Self {
        match f {
            SignatureFailure::Malformed(m) => JwsError::Malformed(m),
            SignatureFailure::AlgorithmNotAllowed(a) => JwsError::AlgorithmNotAllowed(a),
            SignatureFailure::UnknownKey(k) => JwsError::UnknownKey(k),
            SignatureFailure::BadSignature => JwsError::BadSignature,
        }
    }
}

/// Signs `payload` and returns `protected..signature`; the protected header holds `alg` and `kid`.
pub fn sign_detached(key: &SigningKey, payload: &[u8]) -> Result<String, JwsError> {
    let header = json!({"alg": key.algorithm().jws_name(), "kid": key.kid()});
    let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
    let signing_input = format!("{header_b64}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!(
        "{header_b64}..{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// Verifies a detached JWS over `payload` with the key from `jwks` its header names.
pub fn verify_detached(
    jws: &str,
    payload: &[u8],
    jwks: &Jwks,
) -> Result<VerifiedSignature, JwsError> {
    let mut parts = jws.split('.');
    let (header_b64, signature_b64) = match (parts.next(), parts.next(), parts.next(), parts.next())
    {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !s.is_empty() => {
            if !p.is_empty() {
                return Err(JwsError::NotDetached);
            }
            (h, s)
        }
        _ => return Err(JwsError::Malformed("expected header..signature".into())),
    };
    let checked = jwks.verify_parts(header_b64, &URL_SAFE_NO_PAD.encode(payload), signature_b64)?;
    Ok(VerifiedSignature {
        kid: checked.kid,
        alg: checked.alg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyAlgorithm;

    const PAYLOAD: &[u8] = br#"{"@id":"urn:uuid:agreement-1","target":"urn:dataset:traffic"}"#;

    #[test]
    fn sign_and_verify_for_both_algorithms() {
        for alg in [KeyAlgorithm::EdDsa, KeyAlgorithm::Es256] {
            let key = SigningKey::generate(alg).expect("generate");
            let jws = sign_detached(&key, PAYLOAD).expect("sign");
            assert_eq!(
                jws.split('.').nth(1),
                Some(""),
                "payload segment must be empty"
            );
            let verified = verify_detached(&jws, PAYLOAD, &key.jwks()).expect("verifies");
            assert_eq!(
                verified,
                VerifiedSignature {
                    kid: key.kid().to_owned(),
                    alg: alg.into()
                }
            );
        }
    }

    #[test]
    fn interoperates_with_josekit_after_reattaching_the_payload() {
        let key = SigningKey::generate(KeyAlgorithm::Es256).expect("generate");
        let jws = sign_detached(&key, PAYLOAD).expect("sign");
        let attached = jws.replacen("..", &format!(".{}.", URL_SAFE_NO_PAD.encode(PAYLOAD)), 1);
        let jwk = josekit::jwk::Jwk::from_bytes(key.public_jwk().to_string()).expect("jwk");
        let verifier = josekit::jws::ES256
            .verifier_from_jwk(&jwk)
            .expect("verifier");
        let (payload, _) =
            josekit::jws::deserialize_compact(&attached, &verifier).expect("josekit verifies");
        assert_eq!(payload, PAYLOAD);
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let jws = sign_detached(&key, PAYLOAD).expect("sign");
        let tampered = br#"{"@id":"urn:uuid:agreement-2","target":"urn:dataset:traffic"}"#;
        assert!(matches!(
            verify_detached(&jws, tampered, &key.jwks()),
            Err(JwsError::BadSignature)
        ));
    }

    #[test]
    fn tampered_signature_and_foreign_key_are_rejected() {
        let key = SigningKey::generate(KeyAlgorithm::Es256).expect("generate");
        let jws = sign_detached(&key, PAYLOAD).expect("sign");
        let (head, sig) = jws.split_once("..").expect("detached");
        let mut raw = URL_SAFE_NO_PAD.decode(sig).expect("b64");
        raw[0] ^= 1;
        let flipped = format!("{head}..{}", URL_SAFE_NO_PAD.encode(raw));
        assert!(matches!(
            verify_detached(&flipped, PAYLOAD, &key.jwks()),
            Err(JwsError::BadSignature)
        ));
        let stranger = SigningKey::generate(KeyAlgorithm::Es256).expect("generate");
        assert!(matches!(
            verify_detached(&jws, PAYLOAD, &stranger.jwks()),
            Err(JwsError::UnknownKey(_))
        ));
    }

    #[test]
    fn attached_and_malformed_forms_are_rejected() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let jws = sign_detached(&key, PAYLOAD).expect("sign");
        let attached = jws.replacen("..", ".eA.", 1);
        assert!(matches!(
            verify_detached(&attached, PAYLOAD, &key.jwks()),
            Err(JwsError::NotDetached)
        ));
        for bad in ["", "a..", "..b", "a.b", "a...b"] {
            assert!(
                matches!(
                    verify_detached(bad, PAYLOAD, &key.jwks()),
                    Err(JwsError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn disallowed_algorithm_is_rejected() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": key.kid()}).to_string());
        let forged = format!("{header}..{}", URL_SAFE_NO_PAD.encode([0u8; 32]));
        assert!(
            matches!(verify_detached(&forged, PAYLOAD, &key.jwks()), Err(JwsError::AlgorithmNotAllowed(a)) if a == "HS256")
        );
    }
}
