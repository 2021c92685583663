//! Published public keys (RFC 7517 JWK Set), RFC 7638 thumbprints, and the signature check shared by tokens and
//! detached JWS: parse the protected header, allow only EdDSA/ES256, pick the key by `kid` and make sure the
//! key type matches the algorithm before verifying — so a partner cannot steer us into a weaker check.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsVerifier, ES256};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::keys::{IdentityError, KeyAlgorithm};

/// A JWK Set as served at `/.well-known/jwks.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Value>,
}

impl Jwks {
    /// Parses a partner's JWKS; a set that publishes private key material is refused outright, since it
    /// means the partner's key is compromised.
    pub fn from_json_str(s: &str) -> Result<Jwks, IdentityError> {
        let jwks: Jwks =
            serde_json::from_str(s).map_err(|e| IdentityError::InvalidJwks(e.to_string()))?;
        for (i, key) in jwks.keys.iter().enumerate() {
            let obj = key
                .as_object()
                .ok_or_else(|| IdentityError::InvalidJwks(format!("keys[{i}]: not an object")))?;
            if !matches!(obj.get("kty"), Some(Value::String(_))) {
                return Err(IdentityError::InvalidJwks(format!(
                    "keys[{i}]: kty missing"
                )));
            }
            if obj.contains_key("d") {
                return Err(IdentityError::InvalidJwks(format!(
                    "keys[{i}]: contains private key material"
                )));
            }
        }
        Ok(jwks)
    }

    /// Adds the keys of `other` whose `kid` is not present yet (key rotation keeps old keys verifiable).
    pub fn merge(&mut self, other: &Jwks) {
        for key in &other.keys {
            let kid = key.get("kid").and_then(Value::as_str);
            if kid.is_none() || kid.and_then(|k| self.find(k)).is_none() {
                self.keys.push(key.clone());
            }
        }
    }

    /// The key with this `kid`, if any.
    pub fn find(&self, kid: &str) -> Option<&Value> {
        self.keys
            .iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
    }
}

/// The RFC 7638 thumbprint of an OKP or EC public JWK: base64url SHA-256 of its required members in canonical
/// order; extra members such as `kid` or `use` do not affect it.
pub fn jwk_thumbprint(jwk: &Value) -> Result<String, IdentityError> {
    let member = |name: &str| -> Result<&str, IdentityError> {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| IdentityError::InvalidKey(format!("jwk member {name} missing")))
    };
    let canonical = match member("kty")? {
        "OKP" => format!(
            r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
            member("crv")?,
            member("x")?
        ),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            member("crv")?,
            member("x")?,
            member("y")?
        ),
        other => {
            return Err(IdentityError::InvalidKey(format!(
                "unsupported kty {other}"
            )))
        }
    };
    // Members are base64url or registered names, so the format! output is already RFC 8785 canonical.
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// Why a compact JWS did not verify; mapped by tokens and detached JWS onto their own error types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SignatureFailure {
    Malformed(String),
    AlgorithmNotAllowed(String),
    UnknownKey(String),
    BadSignature,
}

/// A protected header that passed the allow-list checks.
pub(crate) struct CheckedHeader {
    pub alg: KeyAlgorithm,
    pub kid: String,
}

/// Decodes and checks a protected header: JSON object, `alg` EdDSA or ES256, a `kid`, no `crit` extensions.
pub(crate) fn check_protected_header(header_b64: &str) -> Result<CheckedHeader, SignatureFailure> {
    let bytes = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| SignatureFailure::Malformed("header: not base64url".into()))?;
    let header: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| SignatureFailure::Malformed("header: not a json object".into()))?;
    let alg_name = match header.get("alg") {
        Some(Value::String(a)) => a.as_str(),
        Some(_) => {
            return Err(SignatureFailure::Malformed(
                "header: alg is not a string".into(),
            ))
        }
        None => return Err(SignatureFailure::Malformed("header: alg missing".into())),
    };
    let alg = KeyAlgorithm::from_jws_name(alg_name)
        .ok_or_else(|| SignatureFailure::AlgorithmNotAllowed(alg_name.to_owned()))?;
    // RFC 7515 §4.1.11: extensions we do not implement (including b64=false) must make verification fail.
    if header.contains_key("crit") || header.contains_key("b64") {
        return Err(SignatureFailure::Malformed(
            "header: crit/b64 extensions are not supported".into(),
        ));
    }
    let kid = match header.get("kid") {
        Some(Value::String(k)) => k.clone(),
        _ => return Err(SignatureFailure::UnknownKey("header has no kid".into())),
    };
    Ok(CheckedHeader { alg, kid })
}

impl Jwks {
    /// Verifies `signature_b64` over `header_b64.payload_segment` with the key the header names.
    pub(crate) fn verify_parts(
        &self,
        header_b64: &str,
        payload_segment: &str,
        signature_b64: &str,
    ) -> Result<CheckedHeader, SignatureFailure> {
        let header = check_protected_header(header_b64)?;
        let key = self
            .find(&header.kid)
            .ok_or_else(|| SignatureFailure::UnknownKey(header.kid.clone()))?;
        let (kty, crv) = header.alg.jwk_kty_crv();
        let key_kty = key.get("kty").and_then(Value::as_str).unwrap_or("");
        let key_crv = key.get("crv").and_then(Value::as_str).unwrap_or("");
        if key_kty != kty || key_crv != crv {
            return Err(SignatureFailure::AlgorithmNotAllowed(format!(
                "{} does not match key {} ({key_kty} {key_crv})",
                header.alg, header.kid
            )));
        }
        if let Some(key_alg) = key.get("alg").and_then(Value::as_str) {
            if key_alg != header.alg.jws_name() {
                return Err(SignatureFailure::AlgorithmNotAllowed(format!(
                    "{} does not match key {} published for {key_alg}",
                    header.alg, header.kid
                )));
            }
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| SignatureFailure::Malformed("signature: not base64url".into()))?;
        let public = public_only(key);
        let jwk = Jwk::from_map(public)
            .map_err(|_| SignatureFailure::UnknownKey(format!("{} is unusable", header.kid)))?;
        let verifier: Box<dyn JwsVerifier> = match header.alg {
            KeyAlgorithm::EdDsa => Box::new(
                EdDSA
                    .verifier_from_jwk(&jwk)
                    .map_err(|_| unusable(&header.kid))?,
            ),
            KeyAlgorithm::Es256 => Box::new(
                ES256
                    .verifier_from_jwk(&jwk)
                    .map_err(|_| unusable(&header.kid))?,
            ),
        };
        let signing_input = format!("{header_b64}.{payload_segment}");
        verifier
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|_| SignatureFailure::BadSignature)?;
        Ok(header)
    }
}

fn unusable(kid: &str) -> SignatureFailure {
    SignatureFailure::UnknownKey(format!("{kid} is unusable"))
}

/// Only the key-defining members, so `use`/`key_ops` metadata in a partner's JWKS cannot make josekit refuse it.
fn public_only(key: &Value) -> Map<String, Value> {
    ["kty", "crv", "x", "y"]
        .iter()
        .filter_map(|name| key.get(*name).map(|v| ((*name).to_owned(), v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::SigningKey;
    use serde_json::json;

    #[test]
    fn rfc8037_appendix_a3_thumbprint() {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            jwk_thumbprint(&jwk).expect("thumbprint"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn thumbprint_rejects_unsupported_keys() {
        assert!(jwk_thumbprint(&json!({"kty": "RSA", "n": "x", "e": "AQAB"})).is_err());
        assert!(jwk_thumbprint(&json!({"kty": "EC", "crv": "P-256", "x": "a"})).is_err());
    }

    #[test]
    fn from_json_str_round_trips_and_refuses_private_keys() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let text = serde_json::to_string(&key.jwks()).expect("serialize");
        assert_eq!(Jwks::from_json_str(&text).expect("parse"), key.jwks());
        let leaked =
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "a", "d": "b"}]}).to_string();
        assert!(
            matches!(Jwks::from_json_str(&leaked), Err(IdentityError::InvalidJwks(m)) if m.contains("private"))
        );
        assert!(matches!(
            Jwks::from_json_str("{\"keys\": [1]}"),
            Err(IdentityError::InvalidJwks(_))
        ));
        assert!(matches!(
            Jwks::from_json_str("[]"),
            Err(IdentityError::InvalidJwks(_))
        ));
    }

    #[test]
    fn merge_adds_new_kids_only() {
        let a = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let b = SigningKey::generate(KeyAlgorithm::Es256).expect("generate");
        let mut set = a.jwks();
        set.merge(&b.jwks());
        set.merge(&a.jwks());
        assert_eq!(set.keys.len(), 2);
        assert!(set.find(a.kid()).is_some() && set.find(b.kid()).is_some());
    }
}
