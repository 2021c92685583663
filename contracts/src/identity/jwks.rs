//! Published public keys (RFC 7517 JWK Set), RFC 7638 thumbprints, and the signature check shared by tokens and
//! detached JWS: parse the protected header, allow only the algorithms DCP peers sign with ([`VerifyAlgorithm`]:
//! EdDSA, ES256, ES256K, ES384, RS256, PS256 — never `none` or HMAC), pick the key by `kid` and make sure the key
//! type, curve and size match the algorithm before verifying — so a partner cannot steer us into a weaker check.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsVerifier, ES256, ES256K, ES384, PS256, RS256};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::keys::{IdentityError, VerifyAlgorithm};

/// RFC 7518 §3.3/§3.5: RSA keys for RS256/PS256 must have a modulus of at least 2048 bits.
pub(crate) const MIN_RSA_MODULUS_BITS: usize = 2048;

/// JWK members that carry private or secret key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1); a published key
/// holding any of them is refused.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A JWK Set as served at `/.well-known/jwks.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Value>,
}

impl Jwks {
    /// Parses a partner's JWKS; a set that publishes private key material (EC/OKP `d`, RSA `d`, `p`, `q`, `dp`,
    /// `dq`, `qi`, `oth`, symmetric `k`) is refused outright, since it means the partner's key is compromised.
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
            if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
                return Err(IdentityError::InvalidJwks(format!(
                    "keys[{i}]: contains private key material ({member})"
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

/// The RFC 7638 thumbprint of an OKP, EC or RSA public JWK: base64url SHA-256 of the RFC 8785 form of its
/// required members (`crv`, `kty`, `x` for OKP; `crv`, `kty`, `x`, `y` for EC; `e`, `kty`, `n` for RSA); extra
/// members such as `kid` or `use` do not affect it.
pub fn jwk_thumbprint(jwk: &Value) -> Result<String, IdentityError> {
    let member = |name: &str| -> Result<&str, IdentityError> {
        jwk.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| IdentityError::InvalidKey(format!("jwk member {name} missing")))
    };
    let required = match member("kty")? {
        "OKP" => json!({"crv": member("crv")?, "kty": "OKP", "x": member("x")?}),
        "EC" => json!({"crv": member("crv")?, "kty": "EC", "x": member("x")?, "y": member("y")?}),
        "RSA" => json!({"e": member("e")?, "kty": "RSA", "n": member("n")?}),
        other => {
            return Err(IdentityError::InvalidKey(format!(
                "unsupported kty {other}"
            )))
        }
    };
    // RFC 8785 sorts the members and escapes the strings, so a hostile `crv` cannot forge another key's input.
    let canonical = crate::canonical::canonicalize(&required)
        .map_err(|e| IdentityError::InvalidKey(format!("jwk: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical)))
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
    pub alg: VerifyAlgorithm,
    pub kid: String,
}

/// Decodes and checks a protected header: JSON object, `alg` one of [`VerifyAlgorithm`] (exact registered
/// name), a `kid`, no `crit` extensions.
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
    let alg = VerifyAlgorithm::from_jws_name(alg_name)
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
        let key_crv = key.get("crv").and_then(Value::as_str);
        if key_kty != kty || (crv.is_some() && key_crv != crv) {
            return Err(SignatureFailure::AlgorithmNotAllowed(format!(
                "{} does not match key {} ({key_kty} {})",
                header.alg,
                header.kid,
                key_crv.unwrap_or("")
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
        if kty == "RSA" {
            check_rsa_key(key, &header)?;
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| SignatureFailure::Malformed("signature: not base64url".into()))?;
        let verifier = verifier_for(header.alg, key, &header.kid)?;
        let signing_input = format!("{header_b64}.{payload_segment}");
        verifier
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|_| SignatureFailure::BadSignature)?;
        Ok(header)
    }
}

/// Verifiers already built, by algorithm and public key. Turning a JWK into an OpenSSL key costs more than checking
/// a signature with it, and a connector checks the same few partners' keys again and again; a memo of derived
/// values, not state (the same key always gives the same verifier).
static VERIFIERS: std::sync::OnceLock<Mutex<HashMap<String, Arc<dyn JwsVerifier>>>> =
    std::sync::OnceLock::new();
/// Keys remembered at most; beyond, the memo starts again (made-up keys cannot grow it without bound).
const MAX_VERIFIERS: usize = 1024;

fn verifier_for(
    alg: VerifyAlgorithm,
    key: &Value,
    kid: &str,
) -> Result<Arc<dyn JwsVerifier>, SignatureFailure> {
    let public = public_only(key);
    let memo_key = format!("{}|{}", alg.jws_name(), Value::Object(public.clone()));
    let memo = VERIFIERS.get_or_init(Default::default);
    if let Some(v) = memo.lock().ok().and_then(|m| m.get(&memo_key).cloned()) {
        return Ok(v);
    }
    let jwk = Jwk::from_map(public).map_err(|_| unusable(kid))?;
    let unfit = |_| unusable(kid);
    let verifier: Arc<dyn JwsVerifier> = match alg {
        VerifyAlgorithm::EdDsa => Arc::new(EdDSA.verifier_from_jwk(&jwk).map_err(unfit)?),
        VerifyAlgorithm::Es256 => Arc::new(ES256.verifier_from_jwk(&jwk).map_err(unfit)?),
        VerifyAlgorithm::Es256K => Arc::new(ES256K.verifier_from_jwk(&jwk).map_err(unfit)?),
        VerifyAlgorithm::Es384 => Arc::new(ES384.verifier_from_jwk(&jwk).map_err(unfit)?),
        VerifyAlgorithm::Rs256 => Arc::new(RS256.verifier_from_jwk(&jwk).map_err(unfit)?),
        VerifyAlgorithm::Ps256 => Arc::new(PS256.verifier_from_jwk(&jwk).map_err(unfit)?),
    };
    if let Ok(mut m) = memo.lock() {
        if m.len() >= MAX_VERIFIERS {
            m.clear();
        }
        m.insert(memo_key, verifier.clone());
    }
    Ok(verifier)
}

fn unusable(kid: &str) -> SignatureFailure {
    SignatureFailure::UnknownKey(format!("{kid} is unusable"))
}

/// A big-endian unsigned integer member of an RSA JWK, without leading zero bytes.
fn rsa_integer(key: &Value, name: &str, kid: &str) -> Result<Vec<u8>, SignatureFailure> {
    let bytes = key
        .get(name)
        .and_then(Value::as_str)
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .ok_or_else(|| unusable(kid))?;
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    Ok(bytes[zeros..].to_vec())
}

/// Refuses RSA keys too short for RFC 7518 (modulus under [`MIN_RSA_MODULUS_BITS`]) and public exponents that
/// make signatures forgeable or are malformed (1, even).
fn check_rsa_key(key: &Value, header: &CheckedHeader) -> Result<(), SignatureFailure> {
    let n = rsa_integer(key, "n", &header.kid)?;
    let bits = n.first().map_or(0, |top| {
        (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    });
    if bits < MIN_RSA_MODULUS_BITS {
        return Err(SignatureFailure::AlgorithmNotAllowed(format!(
            "{} key {} has a {bits}-bit modulus; at least {MIN_RSA_MODULUS_BITS} bits are required",
            header.alg, header.kid
        )));
    }
    let e = rsa_integer(key, "e", &header.kid)?;
    if e.last().is_none_or(|low| low % 2 == 0) || e == [1] {
        return Err(SignatureFailure::AlgorithmNotAllowed(format!(
            "{} key {} has an unusable public exponent",
            header.alg, header.kid
        )));
    }
    Ok(())
}

/// Only the key-defining public members for the key's type (`kty`, `crv`, `x`, `y` for curves; `kty`, `n`, `e`
/// for RSA), so `use`/`key_ops` metadata in a partner's JWKS cannot make josekit refuse it, and no private
/// member ever reaches the verifier.
fn public_only(key: &Value) -> Map<String, Value> {
    let members: &[&str] = match key.get("kty").and_then(Value::as_str) {
        Some("RSA") => &["kty", "n", "e"],
        Some("OKP") => &["kty", "crv", "x"],
        _ => &["kty", "crv", "x", "y"],
    };
    members
        .iter()
        .filter_map(|name| key.get(*name).map(|v| ((*name).to_owned(), v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{KeyAlgorithm, SigningKey};
    use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
    use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
    use josekit::jwk::alg::rsa::RsaKeyPair;
    use josekit::jwk::KeyPair;
    use josekit::jws::JwsSigner;
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
    fn rfc7638_section_3_1_rsa_thumbprint() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            jwk_thumbprint(&jwk).expect("thumbprint"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn thumbprint_covers_p384_and_secp256k1_and_ignores_metadata() {
        for curve in [EcCurve::Secp256k1, EcCurve::P384] {
            let public = foreign_public(&EcKeyPair::generate(curve).expect("generate"));
            let tp = jwk_thumbprint(&public).expect("thumbprint");
            assert_eq!(tp.len(), 43);
            let mut decorated = public.clone();
            decorated["kid"] = json!("k1");
            decorated["use"] = json!("sig");
            assert_eq!(jwk_thumbprint(&decorated).expect("thumbprint"), tp);
            // The curve is part of the hashed input.
            let mut other_curve = public.clone();
            other_curve["crv"] = json!("P-256");
            assert_ne!(jwk_thumbprint(&other_curve).expect("thumbprint"), tp);
        }
    }

    #[test]
    fn thumbprint_rejects_unsupported_keys() {
        assert!(jwk_thumbprint(&json!({"kty": "RSA", "n": "x"})).is_err());
        assert!(jwk_thumbprint(&json!({"kty": "RSA", "e": "AQAB"})).is_err());
        assert!(jwk_thumbprint(&json!({"kty": "EC", "crv": "P-256", "x": "a"})).is_err());
        assert!(jwk_thumbprint(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_err());
        assert!(jwk_thumbprint(&json!({"kty": "EC", "crv": 1, "x": "a", "y": "b"})).is_err());
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
    fn from_json_str_refuses_every_private_rsa_member() {
        let public = json!({"kty": "RSA", "n": "0vx7", "e": "AQAB", "kid": "r"});
        assert!(Jwks::from_json_str(&json!({ "keys": [public.clone()] }).to_string()).is_ok());
        for member in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
            let mut leaked = public.clone();
            leaked[member] = json!("AQAB");
            let text = json!({ "keys": [leaked] }).to_string();
            assert!(
                matches!(Jwks::from_json_str(&text), Err(IdentityError::InvalidJwks(m)) if m.contains(member)),
                "{member}"
            );
        }
        // A real private RSA JWK as josekit writes it.
        let pair = RsaKeyPair::generate(2048).expect("generate");
        let private = Value::Object(pair.to_jwk_key_pair().as_ref().clone());
        let text = json!({ "keys": [private] }).to_string();
        assert!(Jwks::from_json_str(&text).is_err());
        // Symmetric secrets are private too.
        let oct = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).to_string();
        assert!(Jwks::from_json_str(&oct).is_err());
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

    // --- Verification of foreign algorithms: keys made and signatures produced by josekit, as a peer would. ---

    /// A peer's key pair made with josekit: its signer and its public JWK (no `kid`/`alg` yet).
    struct Peer {
        signer: Box<dyn JwsSigner>,
        public: Value,
    }

    fn foreign_public(pair: &dyn KeyPair) -> Value {
        Value::Object(pair.to_jwk_public_key().as_ref().clone())
    }

    fn peer(alg: VerifyAlgorithm) -> Peer {
        let pair: Box<dyn KeyPair> = match alg {
            VerifyAlgorithm::EdDsa => Box::new(EdKeyPair::generate(EdCurve::Ed25519).unwrap()),
            VerifyAlgorithm::Es256 => Box::new(EcKeyPair::generate(EcCurve::P256).unwrap()),
            VerifyAlgorithm::Es256K => Box::new(EcKeyPair::generate(EcCurve::Secp256k1).unwrap()),
            VerifyAlgorithm::Es384 => Box::new(EcKeyPair::generate(EcCurve::P384).unwrap()),
            VerifyAlgorithm::Rs256 | VerifyAlgorithm::Ps256 => {
                Box::new(RsaKeyPair::generate(2048).unwrap())
            }
        };
        Peer {
            signer: signer(alg, pair.as_ref()),
            public: foreign_public(pair.as_ref()),
        }
    }

    fn signer(alg: VerifyAlgorithm, pair: &dyn KeyPair) -> Box<dyn JwsSigner> {
        let jwk = pair.to_jwk_key_pair();
        match alg {
            VerifyAlgorithm::EdDsa => Box::new(josekit::jws::EdDSA.signer_from_jwk(&jwk).unwrap()),
            VerifyAlgorithm::Es256 => Box::new(ES256.signer_from_jwk(&jwk).unwrap()),
            VerifyAlgorithm::Es256K => Box::new(ES256K.signer_from_jwk(&jwk).unwrap()),
            VerifyAlgorithm::Es384 => Box::new(ES384.signer_from_jwk(&jwk).unwrap()),
            VerifyAlgorithm::Rs256 => Box::new(RS256.signer_from_jwk(&jwk).unwrap()),
            VerifyAlgorithm::Ps256 => Box::new(PS256.signer_from_jwk(&jwk).unwrap()),
        }
    }

    /// The public JWK as published: with `kid`, and `alg` if given.
    fn published(public: &Value, kid: &str, alg: Option<&str>) -> Jwks {
        let mut jwk = public.clone();
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        if let Some(alg) = alg {
            jwk["alg"] = json!(alg);
        }
        // Through the parser a partner's JWKS or DID document goes through.
        Jwks::from_json_str(&json!({ "keys": [jwk] }).to_string()).expect("public jwks")
    }

    /// `(header, payload, signature)` segments of a compact JWS with header `{alg, kid}`.
    fn sign(
        signer: &dyn JwsSigner,
        alg: &str,
        kid: &str,
        payload: &[u8],
    ) -> (String, String, String) {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": kid}).to_string());
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let signature = signer
            .sign(format!("{header}.{payload}").as_bytes())
            .expect("sign");
        (header, payload, URL_SAFE_NO_PAD.encode(signature))
    }

    fn refused_alg(r: Result<CheckedHeader, SignatureFailure>) -> String {
        match r {
            Err(SignatureFailure::AlgorithmNotAllowed(m)) => m,
            Err(other) => panic!("expected AlgorithmNotAllowed, got {other:?}"),
            Ok(h) => panic!("expected a refusal, {} verified", h.alg),
        }
    }

    const PAYLOAD: &[u8] = br#"{"iss":"did:web:peer.example","sub":"did:web:peer.example"}"#;

    #[test]
    fn every_dcp_algorithm_verifies_and_tampering_is_refused() {
        for alg in VerifyAlgorithm::ALL {
            let own = peer(alg);
            let (h, p, s) = sign(own.signer.as_ref(), alg.jws_name(), "k1", PAYLOAD);
            for jwks in [
                published(&own.public, "k1", Some(alg.jws_name())),
                published(&own.public, "k1", None),
            ] {
                let checked = jwks.verify_parts(&h, &p, &s).expect("valid signature");
                assert_eq!(checked.alg, alg);
                assert_eq!(checked.kid, "k1");

                let tampered = URL_SAFE_NO_PAD.encode(br#"{"iss":"did:web:evil.example"}"#);
                assert_eq!(
                    jwks.verify_parts(&h, &tampered, &s).err(),
                    Some(SignatureFailure::BadSignature),
                    "{alg}: tampered payload"
                );
                let mut raw = URL_SAFE_NO_PAD.decode(&s).expect("b64");
                raw[5] ^= 1;
                assert_eq!(
                    jwks.verify_parts(&h, &p, &URL_SAFE_NO_PAD.encode(&raw))
                        .err(),
                    Some(SignatureFailure::BadSignature),
                    "{alg}: tampered signature"
                );
                assert!(
                    jwks.verify_parts(&h, &p, "").is_err(),
                    "{alg}: empty signature"
                );
            }
            // Another peer's key under the same kid does not verify it.
            let stranger = published(&peer(alg).public, "k1", None);
            assert_eq!(
                stranger.verify_parts(&h, &p, &s).err(),
                Some(SignatureFailure::BadSignature),
                "{alg}: foreign key"
            );
        }
    }

    #[test]
    fn key_type_and_curve_must_match_the_algorithm() {
        let p256 = peer(VerifyAlgorithm::Es256);
        let k1 = peer(VerifyAlgorithm::Es256K);
        let p384 = peer(VerifyAlgorithm::Es384);
        let ed = peer(VerifyAlgorithm::EdDsa);
        let rsa = peer(VerifyAlgorithm::Rs256);
        // (header alg, key, signer used): the signature is genuine for the key, only the header lies about it.
        let cases: [(&str, &Peer); 9] = [
            ("ES256K", &p256),
            ("ES256", &k1),
            ("ES384", &p256),
            ("ES256", &p384),
            ("RS256", &p256),
            ("PS256", &k1),
            ("RS256", &ed),
            ("EdDSA", &rsa),
            ("ES256", &rsa),
        ];
        for (alg, key) in cases {
            let (h, p, s) = sign(key.signer.as_ref(), alg, "k1", PAYLOAD);
            let jwks = published(&key.public, "k1", None);
            let message = refused_alg(jwks.verify_parts(&h, &p, &s));
            assert!(
                message.contains("does not match key k1"),
                "{alg}: {message}"
            );
        }
    }

    #[test]
    fn jwk_alg_member_must_equal_the_header_alg() {
        let rsa = RsaKeyPair::generate(2048).expect("generate");
        let public = foreign_public(&rsa);
        for (signed_with, published_for) in [
            (VerifyAlgorithm::Ps256, "RS256"),
            (VerifyAlgorithm::Rs256, "PS256"),
            (VerifyAlgorithm::Rs256, "RS512"),
        ] {
            let signer = signer(signed_with, &rsa);
            let (h, p, s) = sign(signer.as_ref(), signed_with.jws_name(), "k1", PAYLOAD);
            let jwks = published(&public, "k1", Some(published_for));
            let message = refused_alg(jwks.verify_parts(&h, &p, &s));
            assert!(message.contains(published_for), "{message}");
        }
        let k1 = peer(VerifyAlgorithm::Es256K);
        let (h, p, s) = sign(k1.signer.as_ref(), "ES256K", "k1", PAYLOAD);
        let jwks = published(&k1.public, "k1", Some("ES256"));
        refused_alg(jwks.verify_parts(&h, &p, &s));
    }

    #[test]
    fn none_hmac_and_unlisted_algorithms_are_refused() {
        let k1 = peer(VerifyAlgorithm::Es256K);
        let (_, p, s) = sign(k1.signer.as_ref(), "ES256K", "k1", PAYLOAD);
        let jwks = published(&k1.public, "k1", None);
        for alg in [
            "none", "None", "NONE", "HS256", "HS384", "HS512", "es256k", "ES256k", "RS384",
            "RS512", "PS384", "PS512", "ES512", "Ed25519", "EdDSA ", "",
        ] {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "k1"}).to_string());
            for signature in [s.as_str(), ""] {
                assert_eq!(
                    jwks.verify_parts(&header, &p, signature).err(),
                    Some(SignatureFailure::AlgorithmNotAllowed(alg.to_owned())),
                    "{alg:?}"
                );
            }
        }
        // An HS256 MAC keyed with the public key's bytes (the classic confusion attack) is refused before any
        // key is even looked at.
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": "k1"}).to_string());
        let mac = josekit::jws::HS256
            .signer_from_bytes(k1.public.to_string().as_bytes())
            .expect("hmac")
            .sign(format!("{header}.{p}").as_bytes())
            .expect("mac");
        assert_eq!(
            jwks.verify_parts(&header, &p, &URL_SAFE_NO_PAD.encode(mac))
                .err(),
            Some(SignatureFailure::AlgorithmNotAllowed("HS256".into()))
        );
    }

    /// A 1024-bit RSA key and an RS256 JWS it made, generated once with the OpenSSL 3 command line
    /// (`openssl genrsa 1024`, `openssl dgst -sha256 -sign`; `openssl dgst -verify` accepts it): a genuine
    /// signature, so only the key size can be the reason for refusing it.
    const WEAK_RSA_N: &str = "xq2WUI_8oz_vMp-hDUO7YV0vx8S0o7JiMbX6hSSfHUTXYYjT4Ch-gHf70kZT4LWFR6KArPe4CFKxDu8MaJpVF46FKxU6lBafGjuaZF78dUwyHKc3BxjoTjDumHMYS4DxFbzYI5dj7QbFe8Im_3pNLx6mBkzpukyk3SjO8i4iB30";
    const WEAK_RSA_JWS: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6IndlYWsifQ.eyJzdWIiOiJ3ZWFrIn0.IzzXcyRA1EoJ3p3lawlVNAvsLtCxdjin_GuOfZlMUKWu6STpY2pFFdQyymFY0V7xAY-AD3OHxnP4RVbY6rdq_F0RhjssqvExtADJN26SDwj67K77C2vKGV5JG2XIfO_hREYoe0eK68k2Jmylc5_kSmMVUbCpuyoQ7Rd8t-uHz-M";

    #[test]
    fn rsa_keys_under_2048_bits_are_refused() {
        let jwks = published(
            &json!({"kty": "RSA", "n": WEAK_RSA_N, "e": "AQAB"}),
            "weak",
            None,
        );
        let mut parts = WEAK_RSA_JWS.split('.');
        let (h, p, s) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let message = refused_alg(jwks.verify_parts(h, p, s));
        assert!(message.contains("1024-bit"), "{message}");

        // The same with a josekit-made 1024-bit key and PS256; and leading zero bytes do not pad the length.
        let small = foreign_public(&RsaKeyPair::generate(1024).expect("generate"));
        let mut padded = small.clone();
        let n = URL_SAFE_NO_PAD
            .decode(small["n"].as_str().unwrap())
            .unwrap();
        padded["n"] = json!(URL_SAFE_NO_PAD.encode([vec![0u8; 160], n].concat()));
        for public in [small, padded] {
            let jwks = published(&public, "weak", None);
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": "PS256", "kid": "weak"}).to_string());
            let message = refused_alg(jwks.verify_parts(&header, "e30", &"A".repeat(171)));
            assert!(message.contains("1024-bit"), "{message}");
        }
    }

    #[test]
    fn rsa_exponents_that_allow_forgery_are_refused() {
        let rsa = peer(VerifyAlgorithm::Rs256);
        let (h, p, s) = sign(rsa.signer.as_ref(), "RS256", "k1", PAYLOAD);
        for e in ["AQ", "AAE", "Ag", "AAEAAA", ""] {
            let mut public = rsa.public.clone();
            public["e"] = json!(e);
            let jwks = published(&public, "k1", None);
            let message = refused_alg(jwks.verify_parts(&h, &p, &s));
            assert!(message.contains("public exponent"), "e = {e:?}: {message}");
        }
        let mut no_n = rsa.public.clone();
        no_n.as_object_mut().unwrap().remove("n");
        assert!(matches!(
            published(&no_n, "k1", None).verify_parts(&h, &p, &s),
            Err(SignatureFailure::UnknownKey(_))
        ));
    }

    #[test]
    fn public_only_keeps_the_key_defining_members() {
        let rsa = RsaKeyPair::generate(2048).expect("generate");
        let mut full = Value::Object(rsa.to_jwk_key_pair().as_ref().clone());
        full["kid"] = json!("k1");
        full["use"] = json!("sig");
        full["key_ops"] = json!(["verify"]);
        let kept = public_only(&full);
        assert_eq!(
            kept.keys().map(String::as_str).collect::<Vec<_>>(),
            ["kty", "n", "e"]
        );
        assert_eq!(kept["n"], full["n"]);
        assert_eq!(kept["e"], full["e"]);

        let ec = EcKeyPair::generate(EcCurve::Secp256k1).expect("generate");
        let kept = public_only(&Value::Object(ec.to_jwk_key_pair().as_ref().clone()));
        assert_eq!(
            kept.keys().map(String::as_str).collect::<Vec<_>>(),
            ["kty", "crv", "x", "y"]
        );
        let ed = EdKeyPair::generate(EdCurve::Ed25519).expect("generate");
        let kept = public_only(&Value::Object(ed.to_jwk_key_pair().as_ref().clone()));
        assert_eq!(
            kept.keys().map(String::as_str).collect::<Vec<_>>(),
            ["kty", "crv", "x"]
        );
    }

    #[test]
    fn our_own_signing_keys_still_verify() {
        for alg in [KeyAlgorithm::EdDsa, KeyAlgorithm::Es256] {
            let key = SigningKey::generate(alg).expect("generate");
            let header = URL_SAFE_NO_PAD
                .encode(json!({"alg": alg.jws_name(), "kid": key.kid()}).to_string());
            let payload = URL_SAFE_NO_PAD.encode(PAYLOAD);
            let signature = key
                .sign(format!("{header}.{payload}").as_bytes())
                .expect("sign");
            let checked = key
                .jwks()
                .verify_parts(&header, &payload, &URL_SAFE_NO_PAD.encode(signature))
                .expect("verifies");
            assert_eq!(checked.alg, alg);
        }
    }

    #[test]
    fn es256k_token_verifies_end_to_end() {
        use crate::did::{DidDocument, Relationship};
        use crate::identity::{verify_si_token, verify_token, TokenError, TokenValidation};
        use std::time::Duration;
        use time::OffsetDateTime;

        // A Tractus-X-stub-like participant with a secp256k1 key in its DID document.
        let did = "did:web:stub.example";
        let kid = format!("{did}#key-1");
        let peer = peer(VerifyAlgorithm::Es256K);
        let doc = json!({
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": did,
            "verificationMethod": [{
                "id": kid, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": peer.public,
            }],
            "capabilityInvocation": [kid],
        });
        let doc = DidDocument::parse(doc.to_string().as_bytes(), did).expect("did document");
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({
            "iss": did, "sub": did, "aud": "did:web:twinport.example",
            "iat": now, "exp": now + 60, "jti": "jti-1", "token": "opaque-access-token",
        });
        let (h, p, s) = sign(
            peer.signer.as_ref(),
            "ES256K",
            &kid,
            claims.to_string().as_bytes(),
        );
        let token = format!("{h}.{p}.{s}");
        let validation = TokenValidation {
            audience: "did:web:twinport.example".into(),
            expected_issuer: did.into(),
            now: OffsetDateTime::now_utc(),
            leeway: Duration::from_secs(5),
            max_lifetime: Duration::from_secs(300),
        };
        let si = verify_si_token(
            &token,
            &doc,
            &validation,
            &[Relationship::CapabilityInvocation],
        )
        .expect("ES256K self-issued token verifies");
        assert_eq!(si.kid, kid);
        assert_eq!(si.access_token, "opaque-access-token");

        let jwks = doc
            .key(Some(&kid), Relationship::CapabilityInvocation)
            .expect("key");
        assert_eq!(
            verify_token(&token, &jwks, &validation)
                .expect("verifies")
                .jti,
            "jti-1"
        );
        let forged = format!(
            "{h}.{}.{s}",
            URL_SAFE_NO_PAD.encode(claims.to_string() + " ")
        );
        assert_eq!(
            verify_token(&forged, &jwks, &validation),
            Err(TokenError::BadSignature)
        );
        // Relabelled as ES256, the same secp256k1 signature is refused before any curve arithmetic.
        let relabelled_header =
            URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "kid": kid}).to_string());
        assert!(matches!(
            verify_token(&format!("{relabelled_header}.{p}.{s}"), &jwks, &validation),
            Err(TokenError::AlgorithmNotAllowed(_))
        ));
    }
}
