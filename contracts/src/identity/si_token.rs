//! DCP 1.0 self-issued ID tokens: what a participant known by its DID sends as `Authorization: Bearer` with every
//! DSP request, and the check the receiver runs against the sender's DID document. The token is signed with a key
//! of the sender's DID (`kid` = `<did>#<key>`, as EDC demands), names the receiver's DID as audience, and carries
//! the access token (`token`) with which the receiver may query the sender's Credential Service; EDC and the DCP
//! TCK refuse a token without it, so it is required here too. The access token is opaque.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::keys::{IdentityError, SigningKey};
use super::token::{b64_json, decode_claims, segments, string_claim, verify_token};
use super::{TokenClaims, TokenError, TokenValidation, MAX_TOKEN_LIFETIME};
use crate::did::{DidDocument, Relationship};

/// What to sign.
pub struct SiTokenRequest<'a> {
    pub key: &'a SigningKey,
    /// Our DID (`iss` and `sub`).
    pub did: &'a str,
    /// The DID URL of our key in our DID document (`<did>#<key>`).
    pub key_id: &'a str,
    /// The receiver's DID.
    pub audience: &'a str,
    /// The access token for our Credential Service.
    pub access_token: &'a str,
    pub now: OffsetDateTime,
    pub lifetime: Duration,
}

/// A verified self-issued ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiToken {
    pub claims: TokenClaims,
    /// The DID URL of the key that signed it.
    pub kid: String,
    /// The opaque access token for the sender's Credential Service.
    pub access_token: String,
}

/// Signs a self-issued ID token: `iss` = `sub` = our DID, `iat` = `nbf` = `now`, a random `jti`.
pub fn issue_si_token(r: &SiTokenRequest<'_>) -> Result<String, IdentityError> {
    if r.lifetime > MAX_TOKEN_LIFETIME {
        return Err(IdentityError::TokenLifetimeTooLong {
            requested_secs: r.lifetime.as_secs(),
            max_secs: MAX_TOKEN_LIFETIME.as_secs(),
        });
    }
    let iat = r.now.unix_timestamp();
    let exp = iat + r.lifetime.as_secs() as i64;
    let header = json!({"alg": r.key.algorithm().jws_name(), "kid": r.key_id, "typ": "JWT"});
    let claims = json!({
        "iss": r.did, "sub": r.did, "aud": r.audience,
        "iat": iat, "nbf": iat, "exp": exp,
        "jti": uuid::Uuid::new_v4().to_string(),
        "token": r.access_token,
    });
    let signing_input = format!("{}.{}", b64_json(&header), b64_json(&claims));
    let signature = r.key.sign(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// The issuer's DID and the signing key's DID URL, read without verifying anything, only to know whose DID
/// document to fetch; the `kid` must be a key of that DID.
pub fn unverified_si_token(token: &str) -> Result<(String, String), TokenError> {
    let (header, payload, _) = segments(token)?;
    let iss = string_claim(&decode_claims(payload)?, "iss")?;
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .ok_or_else(|| TokenError::Malformed("header: not a json object".into()))?;
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(TokenError::MissingClaim("kid"))?
        .to_string();
    if !kid.starts_with(&format!("{iss}#")) {
        return Err(TokenError::UnknownKey(format!(
            "kid {kid:?} is not a key of the issuer {iss:?} (expected {iss}#<key>)"
        )));
    }
    Ok((iss, kid))
}

/// Verifies a self-issued ID token against the issuer's DID document (`doc`, fetched for the issuer's DID): the
/// key named by `kid` must be listed under one of `relationships` (DCP asks `capabilityInvocation`; some wallets
/// list their keys under `authentication` only); then signature, `iss` = `sub` = the DID, audience, times and
/// lifetime as in [`verify_token`], and the `token` claim. The caller still refuses a `jti` it has seen.
pub fn verify_si_token(
    token: &str,
    doc: &DidDocument,
    v: &TokenValidation,
    relationships: &[Relationship],
) -> Result<SiToken, TokenError> {
    let (iss, kid) = unverified_si_token(token)?;
    if doc.id != iss {
        return Err(TokenError::IssuerMismatch {
            expected: doc.id.clone(),
            found: iss,
        });
    }
    let mut refusal = TokenError::UnknownKey(format!(
        "{kid} is listed for none of the relationships asked"
    ));
    let mut jwks = None;
    for r in relationships {
        match doc.key(Some(&kid), *r) {
            Ok(k) => {
                jwks = Some(k);
                break;
            }
            Err(e) => refusal = TokenError::UnknownKey(e.to_string()),
        }
    }
    let jwks = jwks.ok_or(refusal)?;
    let claims = verify_token(
        token,
        &jwks,
        &TokenValidation {
            expected_issuer: doc.id.clone(),
            ..v.clone()
        },
    )?;
    let (_, payload, _) = segments(token)?;
    let access_token = match decode_claims(payload)?.get("token") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        _ => return Err(TokenError::MissingClaim("token")),
    };
    Ok(SiToken {
        claims,
        kid,
        access_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyAlgorithm;

    const HOLDER: &str = "did:web:localhost%3A4711:holder";
    const VERIFIER: &str = "did:web:city-a.example:twinport";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap()
    }

    fn validation() -> TokenValidation {
        TokenValidation {
            audience: VERIFIER.into(),
            expected_issuer: String::new(),
            now: now(),
            leeway: Duration::from_secs(5),
            max_lifetime: MAX_TOKEN_LIFETIME,
        }
    }

    fn doc(key: &SigningKey, relationship: &str) -> DidDocument {
        let mut jwk = key.jwks().keys[0].clone();
        jwk.as_object_mut().unwrap().remove("kid");
        let body = json!({
            "id": HOLDER,
            "verificationMethod": [{"id": format!("{HOLDER}#k1"), "type": "JsonWebKey2020", "controller": HOLDER, "publicKeyJwk": jwk}],
            relationship: ["#k1"],
        });
        DidDocument::parse(body.to_string().as_bytes(), HOLDER).unwrap()
    }

    fn token(key: &SigningKey, tweak: impl FnOnce(&mut SiTokenRequest<'_>)) -> String {
        let kid = format!("{HOLDER}#k1");
        let mut r = SiTokenRequest {
            key,
            did: HOLDER,
            key_id: &kid,
            audience: VERIFIER,
            access_token: "opaque::access::token",
            now: now(),
            lifetime: Duration::from_secs(300),
        };
        tweak(&mut r);
        issue_si_token(&r).unwrap()
    }

    const STRICT: &[Relationship] = &[Relationship::CapabilityInvocation];

    #[test]
    fn a_token_signed_with_a_key_of_the_did_verifies_with_its_access_token() {
        for alg in [KeyAlgorithm::Es256, KeyAlgorithm::EdDsa] {
            let key = SigningKey::generate(alg).unwrap();
            let t = token(&key, |_| {});
            assert_eq!(
                unverified_si_token(&t).unwrap(),
                (HOLDER.to_string(), format!("{HOLDER}#k1"))
            );
            let verified = verify_si_token(
                &t,
                &doc(&key, "capabilityInvocation"),
                &validation(),
                STRICT,
            )
            .unwrap();
            assert_eq!(verified.claims.iss, HOLDER);
            assert_eq!(verified.claims.aud, VERIFIER);
            assert_eq!(verified.access_token, "opaque::access::token");
        }
    }

    #[test]
    fn each_thing_the_dcp_tck_probes_is_refused() {
        let key = SigningKey::generate(KeyAlgorithm::Es256).unwrap();
        let d = doc(&key, "capabilityInvocation");
        let refused = |t: &str| verify_si_token(t, &d, &validation(), STRICT).unwrap_err();
        // Wrong audience, expired, not yet valid, no access token.
        assert!(matches!(
            refused(&token(&key, |r| r.audience = "did:web:other.example")),
            TokenError::WrongAudience { .. }
        ));
        assert_eq!(
            refused(&token(&key, |r| r.now = now() - time::Duration::seconds(400))),
            TokenError::Expired
        );
        assert_eq!(
            refused(&token(&key, |r| r.now = now() + time::Duration::seconds(60))),
            TokenError::NotYetValid
        );
        assert_eq!(
            refused(&token(&key, |r| r.access_token = "")),
            TokenError::MissingClaim("token")
        );
        // A kid that is not a DID URL of the issuer (a bare fragment, a thumbprint), or another DID's key.
        for kid in ["#k1", "k1", "did:web:other.example#k1"] {
            assert!(
                matches!(
                    refused(&token(&key, |r| r.key_id = kid)),
                    TokenError::UnknownKey(_)
                ),
                "{kid}"
            );
        }
        // A token claiming to be another DID than the document's.
        let t = token(&key, |r| {
            r.did = "did:web:other.example";
            r.key_id = "did:web:other.example#k1";
        });
        assert!(matches!(refused(&t), TokenError::IssuerMismatch { .. }));
        // Signed by a key the document does not hold.
        let stranger = SigningKey::generate(KeyAlgorithm::Es256).unwrap();
        assert_eq!(refused(&token(&stranger, |_| {})), TokenError::BadSignature);
    }

    #[test]
    fn a_key_listed_only_for_authentication_signs_tokens_only_where_that_is_allowed() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let d = doc(&key, "authentication");
        let t = token(&key, |_| {});
        assert!(matches!(
            verify_si_token(&t, &d, &validation(), STRICT),
            Err(TokenError::UnknownKey(_))
        ));
        let lenient = [
            Relationship::CapabilityInvocation,
            Relationship::Authentication,
        ];
        assert!(verify_si_token(&t, &d, &validation(), &lenient).is_ok());
    }
}
