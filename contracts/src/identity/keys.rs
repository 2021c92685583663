//! The connector's private signing key: generation, PKCS#8 PEM storage, its public JWK and RFC 7638 `kid`.
//!
//! We sign only with Ed25519 (EdDSA) and P-256 (ES256): both have small deterministic-size signatures, are
//! what DCP and the audit profile allow, and leave no RSA padding or curve choices to get wrong. Partners'
//! signatures may use a wider set ([`VerifyAlgorithm`]), checked in [`super::jwks`].

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

/// The JWS algorithms a signature we *verify* may use: what DCP peers sign with (P-256 in EDC and the DCP TCK,
/// Ed25519 for the MVD issuer, secp256k1 in the Tractus-X stub, P-384 and RSA in other wallets). Wider than
/// [`KeyAlgorithm`], which is what we sign with. `none`, the HMAC family and anything unlisted are never accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyAlgorithm {
    /// Ed25519 (`kty` OKP, `crv` Ed25519).
    EdDsa,
    /// ECDSA P-256 with SHA-256 (`kty` EC, `crv` P-256).
    Es256,
    /// ECDSA secp256k1 with SHA-256 (`kty` EC, `crv` secp256k1; RFC 8812).
    Es256K,
    /// ECDSA P-384 with SHA-384 (`kty` EC, `crv` P-384).
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`kty` RSA, modulus of at least 2048 bits).
    Rs256,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256 (`kty` RSA, modulus of at least 2048 bits).
    Ps256,
}

impl VerifyAlgorithm {
    /// Every accepted algorithm.
    pub const ALL: [VerifyAlgorithm; 6] = [
        VerifyAlgorithm::EdDsa,
        VerifyAlgorithm::Es256,
        VerifyAlgorithm::Es256K,
        VerifyAlgorithm::Es384,
        VerifyAlgorithm::Rs256,
        VerifyAlgorithm::Ps256,
    ];

    /// The JWS `alg` name.
    pub fn jws_name(self) -> &'static str {
        match self {
            VerifyAlgorithm::EdDsa => "EdDSA",
            VerifyAlgorithm::Es256 => "ES256",
            VerifyAlgorithm::Es256K => "ES256K",
            VerifyAlgorithm::Es384 => "ES384",
            VerifyAlgorithm::Rs256 => "RS256",
            VerifyAlgorithm::Ps256 => "PS256",
        }
    }

    /// Parses a JWS `alg` header strictly: only the exact registered names (case-sensitive), never curve
    /// aliases.
    pub fn from_jws_name(alg: &str) -> Option<Self> {
        VerifyAlgorithm::ALL
            .into_iter()
            .find(|a| a.jws_name() == alg)
    }

    /// The `kty` a JWK must have to be used with this algorithm, and its `crv` for curve keys (`None` for RSA).
    pub fn jwk_kty_crv(self) -> (&'static str, Option<&'static str>) {
        match self {
            VerifyAlgorithm::EdDsa => ("OKP", Some("Ed25519")),
            VerifyAlgorithm::Es256 => ("EC", Some("P-256")),
            VerifyAlgorithm::Es256K => ("EC", Some("secp256k1")),
            VerifyAlgorithm::Es384 => ("EC", Some("P-384")),
            VerifyAlgorithm::Rs256 | VerifyAlgorithm::Ps256 => ("RSA", None),
        }
    }

    /// The signing algorithm of the same name, if we can sign with it too.
    pub fn key_algorithm(self) -> Option<KeyAlgorithm> {
        match self {
            VerifyAlgorithm::EdDsa => Some(KeyAlgorithm::EdDsa),
            VerifyAlgorithm::Es256 => Some(KeyAlgorithm::Es256),
            _ => None,
        }
    }
}

impl From<KeyAlgorithm> for VerifyAlgorithm {
    fn from(alg: KeyAlgorithm) -> Self {
        match alg {
            KeyAlgorithm::EdDsa => VerifyAlgorithm::EdDsa,
            KeyAlgorithm::Es256 => VerifyAlgorithm::Es256,
        }
    }
}

impl PartialEq<KeyAlgorithm> for VerifyAlgorithm {
    fn eq(&self, other: &KeyAlgorithm) -> bool {
        *self == VerifyAlgorithm::from(*other)
    }
}

impl PartialEq<VerifyAlgorithm> for KeyAlgorithm {
    fn eq(&self, other: &VerifyAlgorithm) -> bool {
        VerifyAlgorithm::from(*self) == *other
    }
}

impl fmt::Display for VerifyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jws_name())
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
    fn verify_algorithm_names_are_strict() {
        for alg in VerifyAlgorithm::ALL {
            assert_eq!(VerifyAlgorithm::from_jws_name(alg.jws_name()), Some(alg));
            assert_eq!(alg.to_string(), alg.jws_name());
        }
        for bad in [
            "none",
            "None",
            "HS256",
            "HS384",
            "HS512",
            "es256k",
            "ES256k",
            "Ed25519",
            "P-256",
            "secp256k1",
            "RS384",
            "RS512",
            "PS384",
            "PS512",
            "ES512",
            "ES256 ",
            "",
        ] {
            assert_eq!(VerifyAlgorithm::from_jws_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn verify_algorithm_relates_to_signing_algorithm() {
        for alg in ALGS {
            let v = VerifyAlgorithm::from(alg);
            assert_eq!(v, alg);
            assert_eq!(alg, v);
            assert_eq!(v.key_algorithm(), Some(alg));
            assert_eq!(v.jws_name(), alg.jws_name());
            let (kty, crv) = alg.jwk_kty_crv();
            assert_eq!(v.jwk_kty_crv(), (kty, Some(crv)));
        }
        assert_eq!(VerifyAlgorithm::Es256K.key_algorithm(), None);
        assert_ne!(VerifyAlgorithm::Es256K, KeyAlgorithm::Es256);
        assert_eq!(VerifyAlgorithm::Ps256.jwk_kty_crv(), ("RSA", None));
        // Signing keys stay EdDSA/ES256 only.
        assert!("ES256K".parse::<KeyAlgorithm>().is_err());
        assert_eq!(KeyAlgorithm::from_jws_name("ES256K"), None);
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
