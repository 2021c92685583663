//! The connector's private signing key: generation, PKCS#8 PEM storage, its public JWK and RFC 7638 `kid`.
//!
//! Only Ed25519 (EdDSA) and P-256 (ES256) are supported: both have small deterministic-size signatures, are
//! what DCP and the audit profile allow, and leave no RSA padding or curve choices to get wrong.

use std::fmt;
use std::str::FromStr;

use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
use josekit::jwk::KeyPair;
use josekit::jws::{EdDSA, JwsSigner, ES256};
use serde_json::{Map, Value};

use super::jwks::{jwk_thumbprint, Jwks};

/// The JWS algorithms a connector may sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// Ed25519 keys (`kty` OKP).
    EdDsa,
    /// P-256 keys (`kty` EC).
    Es256,
}

impl KeyAlgorithm {
    /// The JWS `alg` name.
    pub fn jws_name(self) -> &'static str {
        match self {
            KeyAlgorithm::EdDsa => "EdDSA",
            KeyAlgorithm::Es256 => "ES256",
        }
    }

    /// Parses a JWS `alg` header strictly: only the exact registered names, never curve aliases.
    pub fn from_jws_name(alg: &str) -> Option<Self> {
        match alg {
            "EdDSA" => Some(KeyAlgorithm::EdDsa),
            "ES256" => Some(KeyAlgorithm::Es256),
            _ => None,
        }
    }

    /// The (`kty`, `crv`) a JWK must have to be used with this algorithm.
    pub fn jwk_kty_crv(self) -> (&'static str, &'static str) {
        match self {
            KeyAlgorithm::EdDsa => ("OKP", "Ed25519"),
            KeyAlgorithm::Es256 => ("EC", "P-256"),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jws_name())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = IdentityError;

    /// Accepts the JWS names and, for configuration files, the curve names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "EdDSA" | "Ed25519" => Ok(KeyAlgorithm::EdDsa),
            "ES256" | "P-256" => Ok(KeyAlgorithm::Es256),
            other => Err(IdentityError::UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// Failures handling keys, key sets and token issuance.
#[derive(thiserror::Error, Debug)]
pub enum IdentityError {
    #[error("unknown key algorithm \"{0}\" (expected EdDSA, Ed25519, ES256 or P-256)")]
    UnknownAlgorithm(String),
    #[error("invalid private key: {0}")]
    InvalidKey(String),
    #[error("invalid jwks: {0}")]
    InvalidJwks(String),
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("token lifetime {requested_secs} s exceeds the maximum of {max_secs} s")]
    TokenLifetimeTooLong { requested_secs: u64, max_secs: u64 },
}

/// A connector's private signing key with its derived public JWK and `kid`.
#[derive(Clone)]
pub struct SigningKey {
    alg: KeyAlgorithm,
    /// PKCS#8 PEM; kept as text because josekit builds signers from it and it is the storage format anyway.
    pem: String,
    public_members: Map<String, Value>,
    kid: String,
    /// Built once: decoding the PEM into an OpenSSL key costs far more than an Ed25519 signature (measured: most
    /// of the data plane's CPU when every receipt decoded it again).
    signer: std::sync::Arc<dyn JwsSigner>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate(alg: KeyAlgorithm) -> Result<SigningKey, IdentityError> {
        let pair: Box<dyn KeyPair> = match alg {
            KeyAlgorithm::EdDsa => Box::new(
                EdDSA
                    .generate_key_pair(EdCurve::Ed25519)
                    .map_err(|e| IdentityError::KeyGeneration(e.to_string()))?,
            ),
            KeyAlgorithm::Es256 => Box::new(
                ES256
                    .generate_key_pair()
                    .map_err(|e| IdentityError::KeyGeneration(e.to_string()))?,
            ),
        };
        Self::from_pair(alg, pair.as_ref())
    }

    /// Loads an Ed25519 or P-256 private key in PKCS#8 PEM form, detecting which it is.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey, IdentityError> {
        if let Ok(pair) = EdKeyPair::from_pem(pem) {
            return match pair.curve() {
                EdCurve::Ed25519 => Self::from_pair(KeyAlgorithm::EdDsa, &pair),
                other => Err(IdentityError::InvalidKey(format!(
                    "unsupported curve {}",
                    other.name()
                ))),
            };
        }
        match EcKeyPair::from_pem(pem, None) {
            Ok(pair) if pair.curve() == EcCurve::P256 => {
                Self::from_pair(KeyAlgorithm::Es256, &pair)
            }
            Ok(pair) => Err(IdentityError::InvalidKey(format!(
                "unsupported curve {}",
                pair.curve().name()
            ))),
            Err(_) => Err(IdentityError::InvalidKey(
                "not an ed25519 or p-256 pkcs#8 pem private key".into(),
            )),
        }
    }

    fn from_pair(alg: KeyAlgorithm, pair: &dyn KeyPair) -> Result<SigningKey, IdentityError> {
        let pem = String::from_utf8(pair.to_pem_private_key())
            .map_err(|_| IdentityError::InvalidKey("pem output is not utf-8".into()))?;
        let public = pair.to_jwk_public_key();
        let required: &[&str] = match alg {
            KeyAlgorithm::EdDsa => &["crv", "kty", "x"],
            KeyAlgorithm::Es256 => &["crv", "kty", "x", "y"],
        };
        // Copy only the public members by name, so no private parameter can ever leak into a published JWK.
        let mut public_members = Map::new();
        for name in required {
            let value = public
                .parameter(name)
                .cloned()
                .ok_or_else(|| IdentityError::InvalidKey(format!("public jwk lacks {name}")))?;
            public_members.insert((*name).to_owned(), value);
        }
        let kid = jwk_thumbprint(&Value::Object(public_members.clone()))?;
        let signer: std::sync::Arc<dyn JwsSigner> = match alg {
            KeyAlgorithm::EdDsa => std::sync::Arc::new(
                EdDSA
                    .signer_from_pem(&pem)
                    .map_err(|e| IdentityError::InvalidKey(e.to_string()))?,
            ),
            KeyAlgorithm::Es256 => std::sync::Arc::new(
                ES256
                    .signer_from_pem(&pem)
                    .map_err(|e| IdentityError::InvalidKey(e.to_string()))?,
            ),
        };
        Ok(SigningKey {
            alg,
            pem,
            public_members,
            kid,
            signer,
        })
    }

    /// The PKCS#8 PEM for storing the key.
    pub fn to_pkcs8_pem(&self) -> String {
        self.pem.clone()
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// The RFC 7638 JWK thumbprint (base64url SHA-256) of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK with `kid`, `alg` and `use: "sig"`, ready to publish.
    pub fn public_jwk(&self) -> Value {
        let mut m = self.public_members.clone();
        m.insert("kid".into(), Value::String(self.kid.clone()));
        m.insert("alg".into(), Value::String(self.alg.jws_name().into()));
        m.insert("use".into(), Value::String("sig".into()));
        Value::Object(m)
    }

    /// A key set holding just this key's public JWK.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.public_jwk()],
        }
    }

    /// Signs a JWS signing input, returning the raw JWS signature bytes (r‖s for ES256).
    pub(crate) fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, IdentityError> {
        self.signer
            .sign(signing_input)
            .map_err(|e| IdentityError::Signing(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALGS: [KeyAlgorithm; 2] = [KeyAlgorithm::EdDsa, KeyAlgorithm::Es256];

    #[test]
    fn algorithm_names_parse_and_display() {
        assert_eq!(KeyAlgorithm::EdDsa.to_string(), "EdDSA");
        assert_eq!(KeyAlgorithm::Es256.to_string(), "ES256");
        for (s, alg) in [
            ("EdDSA", KeyAlgorithm::EdDsa),
            ("Ed25519", KeyAlgorithm::EdDsa),
            ("ES256", KeyAlgorithm::Es256),
            ("P-256", KeyAlgorithm::Es256),
        ] {
            assert_eq!(s.parse::<KeyAlgorithm>().ok(), Some(alg), "{s}");
        }
        assert!(
            matches!("RS256".parse::<KeyAlgorithm>(), Err(IdentityError::UnknownAlgorithm(a)) if a == "RS256")
        );
    }

    #[test]
    fn generated_keys_round_trip_through_pem() {
        for alg in ALGS {
            let key = SigningKey::generate(alg).expect("generate");
            assert_eq!(key.algorithm(), alg);
            let pem = key.to_pkcs8_pem();
            assert!(
                pem.starts_with("-----BEGIN PRIVATE KEY-----"),
                "{alg}: pkcs#8 header, got {pem}"
            );
            let again = SigningKey::from_pkcs8_pem(&pem).expect("reload");
            assert_eq!(again.algorithm(), alg);
            assert_eq!(again.kid(), key.kid());
            assert_eq!(again.public_jwk(), key.public_jwk());
        }
    }

    #[test]
    fn garbage_pem_is_rejected() {
        assert!(matches!(
            SigningKey::from_pkcs8_pem("not a key"),
            Err(IdentityError::InvalidKey(_))
        ));
    }

    #[test]
    fn public_jwk_has_no_private_parts_and_carries_metadata() {
        for alg in ALGS {
            let key = SigningKey::generate(alg).expect("generate");
            let jwk = key.public_jwk();
            let obj = jwk.as_object().expect("jwk is an object");
            assert!(
                !obj.contains_key("d"),
                "{alg}: private scalar must not be published"
            );
            let (kty, crv) = alg.jwk_kty_crv();
            assert_eq!(jwk["kty"], kty);
            assert_eq!(jwk["crv"], crv);
            assert_eq!(jwk["alg"], alg.jws_name());
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["kid"], key.kid());
            let expected_members = if alg == KeyAlgorithm::Es256 { 7 } else { 6 };
            assert_eq!(
                obj.len(),
                expected_members,
                "{alg}: unexpected members in {jwk}"
            );
        }
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint_and_stable() {
        for alg in ALGS {
            let key = SigningKey::generate(alg).expect("generate");
            // Adding metadata members must not change the thumbprint: RFC 7638 hashes only the required members.
            assert_eq!(
                jwk_thumbprint(&key.public_jwk()).expect("thumbprint"),
                key.kid()
            );
            assert_eq!(key.kid().len(), 43, "base64url of 32 bytes without padding");
            let other = SigningKey::generate(alg).expect("generate");
            assert_ne!(other.kid(), key.kid());
        }
    }

    #[test]
    fn debug_does_not_print_the_private_key() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let debug = format!("{key:?}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
        let body: String = key
            .to_pkcs8_pem()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(!debug.contains(&body), "{debug}");
        assert!(debug.contains(key.kid()));
    }

    #[test]
    fn jwks_holds_the_public_jwk() {
        let key = SigningKey::generate(KeyAlgorithm::Es256).expect("generate");
        assert_eq!(key.jwks().keys, vec![key.public_jwk()]);
    }
}
