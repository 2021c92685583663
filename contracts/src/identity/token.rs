//! Self-issued connector tokens: the short-lived JWT a connector signs with its own key and sends as
//! `Authorization: Bearer`, and the strict check the receiving connector runs against the sender's JWKS.
//!
//! Lifetimes are capped at five minutes so a leaked token is near-worthless; replay within that window is stopped
//! by the caller remembering `jti`s.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::jwks::{Jwks, SignatureFailure};
use super::keys::{IdentityError, SigningKey};

/// The longest lifetime [`issue_token`] will sign.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// What the receiver expects of a token.
#[derive(Debug, Clone)]
pub struct TokenValidation {
    pub audience: String,
    pub expected_issuer: String,
    pub now: OffsetDateTime,
    pub leeway: Duration,
    pub max_lifetime: Duration,
}

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: Option<i64>,
    pub exp: i64,
    pub jti: String,
}

/// Why a presented token is not accepted.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    #[error("unknown signing key: {0}")]
    UnknownKey(String),
    #[error("bad signature")]
    BadSignature,
    #[error("issuer mismatch: expected {expected}, found {found}")]
    IssuerMismatch { expected: String, found: String },
    #[error("subject differs from issuer")]
    SubjectMismatch,
    #[error("wrong audience: expected {expected}, found {found}")]
    WrongAudience { expected: String, found: String },
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token lifetime {lifetime_secs} s exceeds the maximum of {max_secs} s")]
    LifetimeTooLong { lifetime_secs: i64, max_secs: u64 },
    #[error("missing claim: {0}")]
    MissingClaim(&'static str),
}

impl From<SignatureFailure> for TokenError {
    fn from(f: SignatureFailure) -> Self {
        match f {
            SignatureFailure::Malformed(m) => TokenError::Malformed(m),
            SignatureFailure::AlgorithmNotAllowed(a) => TokenError::AlgorithmNotAllowed(a),
            SignatureFailure::UnknownKey(k) => TokenError::UnknownKey(k),
            SignatureFailure::BadSignature => TokenError::BadSignature,
        }
    }
}

/// Signs a token for calling `audience`: `iss` = `sub` = `issuer`, `iat` = `nbf` = `now`, random `jti`.
pub fn issue_token(
    key: &SigningKey,
    issuer: &str,
    audience: &str,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<String, IdentityError> {
    if lifetime > MAX_TOKEN_LIFETIME {
        return Err(IdentityError::TokenLifetimeTooLong {
            requested_secs: lifetime.as_secs(),
            max_secs: MAX_TOKEN_LIFETIME.as_secs(),
        });
    }
    let iat = now.unix_timestamp();
    // Bounded by MAX_TOKEN_LIFETIME above, so the cast cannot truncate.
    let exp = iat + lifetime.as_secs() as i64;
    let header = json!({"alg": key.algorithm().jws_name(), "kid": key.kid(), "typ": "JWT"});
    let claims = json!({
        "iss": issuer, "sub": issuer, "aud": audience,
        "iat": iat, "nbf": iat, "exp": exp,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let signing_input = format!("{}.{}", b64_json(&header), b64_json(&claims));
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

pub(super) fn b64_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Splits a compact JWT into its three segments.
pub(super) fn segments(token: &str) -> Result<(&str, &str, &str), TokenError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() => Ok((h, p, s)),
        _ => Err(TokenError::Malformed(
            "expected three dot-separated segments".into(),
        )),
    }
}

pub(super) fn decode_claims(payload_b64: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| TokenError::Malformed("payload: not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed("payload: not a json object".into()))
}

/// Reads `iss` without verifying anything, only to choose whose JWKS to verify against.
pub fn unverified_issuer(token: &str) -> Result<String, TokenError> {
    let (_, payload, _) = segments(token)?;
    let claims = decode_claims(payload)?;
    string_claim(&claims, "iss")
}

pub(super) fn string_claim(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<String, TokenError> {
    match claims.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(TokenError::MissingClaim(name)),
        Some(_) => Err(TokenError::Malformed(format!(
            "claim {name}: expected a string"
        ))),
    }
}

/// A NumericDate claim; fractional seconds are allowed by RFC 7519 and truncated.
fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, TokenError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| TokenError::Malformed(format!("claim {name}: out of range"))),
        Some(_) => Err(TokenError::Malformed(format!(
            "claim {name}: expected a number"
        ))),
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Verifies signature and claims; the caller still has to reject a `jti` it has seen before.
pub fn verify_token(
    token: &str,
    jwks: &Jwks,
    v: &TokenValidation,
) -> Result<TokenClaims, TokenError> {
    let (header, payload, signature) = segments(token)?;
    jwks.verify_parts(header, payload, signature)?;
    let claims = decode_claims(payload)?;

    let iss = string_claim(&claims, "iss")?;
    let sub = string_claim(&claims, "sub")?;
    let jti = string_claim(&claims, "jti")?;
    let exp = time_claim(&claims, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    let iat = time_claim(&claims, "iat")?.ok_or(TokenError::MissingClaim("iat"))?;
    let nbf = time_claim(&claims, "nbf")?;
    let aud = match claims.get("aud") {
        None | Some(Value::Null) => return Err(TokenError::MissingClaim("aud")),
        Some(Value::String(a)) if *a == v.audience => a.clone(),
        Some(Value::Array(list))
            if list.iter().any(|a| a.as_str() == Some(v.audience.as_str())) =>
        {
            v.audience.clone()
        }
        Some(other) => {
            return Err(TokenError::WrongAudience {
                expected: v.audience.clone(),
                found: other.to_string(),
            });
        }
    };

    if iss != v.expected_issuer {
        return Err(TokenError::IssuerMismatch {
            expected: v.expected_issuer.clone(),
            found: iss,
        });
    }
    if sub != iss {
        return Err(TokenError::SubjectMismatch);
    }

    let now = v.now.unix_timestamp();
    let leeway = secs(v.leeway);
    if now >= exp.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    if iat > now.saturating_add(leeway) || nbf.is_some_and(|n| n > now.saturating_add(leeway)) {
        return Err(TokenError::NotYetValid);
    }
    let lifetime = exp.saturating_sub(iat);
    if lifetime > secs(v.max_lifetime) {
        return Err(TokenError::LifetimeTooLong {
            lifetime_secs: lifetime,
            max_secs: v.max_lifetime.as_secs(),
        });
    }
    Ok(TokenClaims {
        iss,
        sub,
        aud,
        iat,
        nbf,
        exp,
        jti,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyAlgorithm;

    const ISSUER: &str = "https://provider.example/dsp";
    const AUDIENCE: &str = "https://consumer.example/dsp";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("valid timestamp")
    }

    fn validation() -> TokenValidation {
        TokenValidation {
            audience: AUDIENCE.into(),
            expected_issuer: ISSUER.into(),
            now: now(),
            leeway: Duration::from_secs(30),
            max_lifetime: MAX_TOKEN_LIFETIME,
        }
    }

    /// Signs arbitrary header and claims with `key`, for crafting tokens `issue_token` would never produce.
    fn craft(key: &SigningKey, header: Value, claims: Value) -> String {
        let input = format!("{}.{}", b64_json(&header), b64_json(&claims));
        let sig = key.sign(input.as_bytes()).expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn header(key: &SigningKey) -> Value {
        json!({"alg": key.algorithm().jws_name(), "kid": key.kid(), "typ": "JWT"})
    }

    fn claims(iat: i64, exp: i64) -> Value {
        json!({"iss": ISSUER, "sub": ISSUER, "aud": AUDIENCE, "iat": iat, "nbf": iat, "exp": exp, "jti": "j-1"})
    }

    fn key() -> SigningKey {
        SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate")
    }

    #[test]
    fn issue_and_verify_round_trip_for_both_algorithms() {
        for alg in [KeyAlgorithm::EdDsa, KeyAlgorithm::Es256] {
            let key = SigningKey::generate(alg).expect("generate");
            let token = issue_token(&key, ISSUER, AUDIENCE, now(), Duration::from_secs(120))
                .expect("issue");
            let claims = verify_token(&token, &key.jwks(), &validation()).expect("verifies");
            let t = now().unix_timestamp();
            assert_eq!(
                (
                    claims.iss.as_str(),
                    claims.sub.as_str(),
                    claims.aud.as_str()
                ),
                (ISSUER, ISSUER, AUDIENCE)
            );
            assert_eq!((claims.iat, claims.nbf, claims.exp), (t, Some(t), t + 120));
            assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());
            assert_eq!(unverified_issuer(&token), Ok(ISSUER.to_owned()));
            let hdr: Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(token.split('.').next().expect("header"))
                    .expect("b64"),
            )
            .expect("json");
            assert_eq!(hdr, header(&key));
        }
    }

    #[test]
    fn issue_refuses_lifetime_over_five_minutes() {
        let err =
            issue_token(&key(), ISSUER, AUDIENCE, now(), Duration::from_secs(301)).unwrap_err();
        assert!(matches!(
            err,
            IdentityError::TokenLifetimeTooLong {
                requested_secs: 301,
                max_secs: 300
            }
        ));
        assert!(issue_token(&key(), ISSUER, AUDIENCE, now(), Duration::from_secs(300)).is_ok());
    }

    #[test]
    fn rejects_malformed_tokens() {
        let k = key();
        for bad in ["", "abc", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert!(
                matches!(
                    verify_token(bad, &k.jwks(), &validation()),
                    Err(TokenError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            unverified_issuer("x.y"),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn rejects_alg_none() {
        let k = key();
        let t = now().unix_timestamp();
        let token = format!(
            "{}.{}.",
            b64_json(&json!({"alg": "none", "kid": k.kid(), "typ": "JWT"})),
            b64_json(&claims(t, t + 60))
        );
        assert_eq!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::AlgorithmNotAllowed("none".into()))
        );
    }

    #[test]
    fn rejects_hs256_even_with_the_public_key_as_secret() {
        use josekit::jws::{JwsHeader, HS256};
        let k = key();
        let t = now().unix_timestamp();
        // Classic alg confusion: HMAC keyed with the published public key bytes.
        let secret = k.public_jwk()["x"].as_str().expect("x").as_bytes().to_vec();
        let signer = HS256.signer_from_bytes(&secret).expect("hmac signer");
        let mut h = JwsHeader::new();
        h.set_token_type("JWT");
        h.set_key_id(k.kid());
        let payload = claims(t, t + 60).to_string();
        let token =
            josekit::jws::serialize_compact(payload.as_bytes(), &h, &signer).expect("serialize");
        assert_eq!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::AlgorithmNotAllowed("HS256".into()))
        );
    }

    #[test]
    fn rejects_alg_not_matching_key_type() {
        let ed = key();
        let t = now().unix_timestamp();
        let mut h = header(&ed);
        h["alg"] = json!("ES256");
        let token = craft(&ed, h, claims(t, t + 60));
        assert!(matches!(
            verify_token(&token, &ed.jwks(), &validation()),
            Err(TokenError::AlgorithmNotAllowed(_))
        ));
    }

    #[test]
    fn rejects_unknown_kid_and_missing_kid() {
        let k = key();
        let other = key();
        let t = now().unix_timestamp();
        let token = craft(&k, header(&k), claims(t, t + 60));
        assert_eq!(
            verify_token(&token, &other.jwks(), &validation()),
            Err(TokenError::UnknownKey(k.kid().to_owned()))
        );
        let no_kid = craft(&k, json!({"alg": "EdDSA", "typ": "JWT"}), claims(t, t + 60));
        assert!(matches!(
            verify_token(&no_kid, &k.jwks(), &validation()),
            Err(TokenError::UnknownKey(_))
        ));
    }

    #[test]
    fn rejects_signature_by_a_different_key_under_a_known_kid() {
        let k = key();
        let impostor = key();
        let t = now().unix_timestamp();
        let token = craft(&impostor, header(&k), claims(t, t + 60));
        assert_eq!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn rejects_tampered_payload() {
        for alg in [KeyAlgorithm::EdDsa, KeyAlgorithm::Es256] {
            let k = SigningKey::generate(alg).expect("generate");
            let token =
                issue_token(&k, ISSUER, AUDIENCE, now(), Duration::from_secs(60)).expect("issue");
            let mut parts: Vec<&str> = token.split('.').collect();
            let mut c = decode_claims(parts[1]).expect("claims");
            c.insert("aud".into(), json!("https://elsewhere.example"));
            let forged = b64_json(&Value::Object(c));
            parts[1] = &forged;
            assert_eq!(
                verify_token(&parts.join("."), &k.jwks(), &validation()),
                Err(TokenError::BadSignature),
                "{alg}"
            );
        }
    }

    #[test]
    fn rejects_expired_token() {
        let k = key();
        let t = now().unix_timestamp();
        let token = craft(&k, header(&k), claims(t - 200, t - 31));
        assert_eq!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::Expired)
        );
        // Within leeway it is still accepted.
        let token = craft(&k, header(&k), claims(t - 200, t - 29));
        assert!(verify_token(&token, &k.jwks(), &validation()).is_ok());
    }

    #[test]
    fn rejects_not_yet_valid_token() {
        let k = key();
        let t = now().unix_timestamp();
        let future_iat = craft(&k, header(&k), claims(t + 31, t + 90));
        assert_eq!(
            verify_token(&future_iat, &k.jwks(), &validation()),
            Err(TokenError::NotYetValid)
        );
        let mut c = claims(t, t + 90);
        c["nbf"] = json!(t + 60);
        let future_nbf = craft(&k, header(&k), c);
        assert_eq!(
            verify_token(&future_nbf, &k.jwks(), &validation()),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn rejects_lifetime_of_301_seconds() {
        let k = key();
        let t = now().unix_timestamp();
        let token = craft(&k, header(&k), claims(t, t + 301));
        assert_eq!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::LifetimeTooLong {
                lifetime_secs: 301,
                max_secs: 300
            })
        );
    }

    #[test]
    fn rejects_wrong_audience_and_accepts_audience_array() {
        let k = key();
        let t = now().unix_timestamp();
        let mut c = claims(t, t + 60);
        c["aud"] = json!("https://other.example/dsp");
        let token = craft(&k, header(&k), c.clone());
        assert!(matches!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::WrongAudience { .. })
        ));
        c["aud"] = json!(["https://other.example/dsp", AUDIENCE]);
        let token = craft(&k, header(&k), c);
        assert_eq!(
            verify_token(&token, &k.jwks(), &validation()).map(|c| c.aud),
            Ok(AUDIENCE.to_owned())
        );
    }

    #[test]
    fn rejects_issuer_mismatch() {
        let k = key();
        let t = now().unix_timestamp();
        let mut c = claims(t, t + 60);
        c["iss"] = json!("https://mallory.example");
        c["sub"] = json!("https://mallory.example");
        let token = craft(&k, header(&k), c);
        assert_eq!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::IssuerMismatch {
                expected: ISSUER.into(),
                found: "https://mallory.example".into()
            })
        );
    }

    #[test]
    fn rejects_subject_different_from_issuer() {
        let k = key();
        let t = now().unix_timestamp();
        let mut c = claims(t, t + 60);
        c["sub"] = json!("someone-else");
        let token = craft(&k, header(&k), c);
        assert_eq!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::SubjectMismatch)
        );
    }

    #[test]
    fn rejects_missing_required_claims() {
        let k = key();
        let t = now().unix_timestamp();
        for name in ["jti", "exp", "iat", "iss", "sub", "aud"] {
            let mut c = claims(t, t + 60);
            c.as_object_mut().expect("object").remove(name);
            let token = craft(&k, header(&k), c);
            assert_eq!(
                verify_token(&token, &k.jwks(), &validation()),
                Err(TokenError::MissingClaim(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn rejects_crit_header() {
        let k = key();
        let t = now().unix_timestamp();
        let mut h = header(&k);
        h["crit"] = json!(["exp"]);
        let token = craft(&k, h, claims(t, t + 60));
        assert!(matches!(
            verify_token(&token, &k.jwks(), &validation()),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn error_messages_are_lowercase() {
        assert_eq!(TokenError::BadSignature.to_string(), "bad signature");
        assert_eq!(
            TokenError::MissingClaim("jti").to_string(),
            "missing claim: jti"
        );
    }
}
