//! Compact JWS as credentials and presentations carry them: splitting and decoding one (without trusting it),
//! signing one, and checking its signature with the key its `kid` names in a DID document under the relationship
//! that authorises the key for the purpose.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::CredentialError;
use crate::did::{DidDocument, DidError, Relationship};
use crate::identity::{SignatureFailure, SigningKey};

/// A compact JWS, decoded but not verified.
#[derive(Debug, Clone)]
pub(super) struct Compact {
    text: String,
    kid: String,
    pub(super) payload: Map<String, Value>,
}

impl Compact {
    /// Splits and decodes `text`; `what` names it in errors. The header must name its key (`kid`).
    pub(super) fn parse(text: &str, what: &str) -> Result<Compact, CredentialError> {
        let malformed = |why: &str| CredentialError::Malformed {
            what: what.to_string(),
            why: why.to_string(),
        };
        let parts: Vec<&str> = text.split('.').collect();
        match parts.len() {
            3 => {}
            5 => {
                return Err(CredentialError::Unsupported {
                    what: what.to_string(),
                    why: "an encrypted JWT (JWE); only signed compact JWS is accepted".into(),
                })
            }
            _ => {
                return Err(malformed(
                    "not a compact JWS (three dot-separated segments)",
                ))
            }
        }
        if parts[0].is_empty() || parts[1].is_empty() {
            return Err(malformed("not a compact JWS (empty header or payload)"));
        }
        let header = decode_object(parts[0])
            .ok_or_else(|| malformed("header: not a base64url-encoded JSON object"))?;
        let payload = decode_object(parts[1])
            .ok_or_else(|| malformed("payload: not a base64url-encoded JSON object"))?;
        let kid = match header.get("kid") {
            Some(Value::String(k)) if !k.is_empty() => k.clone(),
            _ => return Err(malformed("header: no kid naming the signing key")),
        };
        Ok(Compact {
            text: text.to_string(),
            kid,
            payload,
        })
    }

    pub(super) fn text(&self) -> &str {
        &self.text
    }

    pub(super) fn kid(&self) -> &str {
        &self.kid
    }

    fn parts(&self) -> (&str, &str, &str) {
        let mut it = self.text.splitn(3, '.');
        (
            it.next().unwrap_or_default(),
            it.next().unwrap_or_default(),
            it.next().unwrap_or_default(),
        )
    }

    /// Refuses a `kid` that is not a DID URL of `did` (a bare `#fragment` counts as relative to it). This needs
    /// no DID document, so it is checked before any is looked up.
    pub(super) fn check_kid_of(
        &self,
        did: &str,
        relationship: Relationship,
        whose: &str,
    ) -> Result<(), CredentialError> {
        match self.kid.split_once('#') {
            Some((prefix, fragment))
                if (prefix.is_empty() || prefix == did) && !fragment.is_empty() =>
            {
                Ok(())
            }
            _ => Err(CredentialError::KeyNotAuthorised {
                whose: whose.to_string(),
                kid: self.kid.clone(),
                relationship: relationship.as_str(),
                why: format!("it is not a key of {did} (expected {did}#<key>)"),
            }),
        }
    }

    /// Verifies the signature with the key `kid` names in the DID document of `did`, which must list it under
    /// `relationship`; `whose` names the signed thing in errors.
    pub(super) fn verify_signed_by<'d>(
        &self,
        did: &str,
        relationship: Relationship,
        whose: &str,
        documents: &dyn Fn(&str) -> Option<&'d DidDocument>,
    ) -> Result<(), CredentialError> {
        self.check_kid_of(did, relationship, whose)?;
        let doc = documents(did).filter(|d| d.id == did).ok_or_else(|| {
            CredentialError::DidUnavailable {
                did: did.to_string(),
            }
        })?;
        let jwks = doc
            .key(Some(&self.kid), relationship)
            .map_err(|e| match e {
                DidError::UnsupportedKey { .. } => CredentialError::Unsupported {
                    what: format!("key {} of {did}", self.kid),
                    why: e.to_string(),
                },
                e => CredentialError::KeyNotAuthorised {
                    whose: whose.to_string(),
                    kid: self.kid.clone(),
                    relationship: relationship.as_str(),
                    why: e.to_string(),
                },
            })?;
        let (header, payload, signature) = self.parts();
        jwks.verify_parts(header, payload, signature)
            .map(|_| ())
            .map_err(|f| match f {
                SignatureFailure::Malformed(why) => CredentialError::Malformed {
                    what: whose.to_string(),
                    why,
                },
                SignatureFailure::AlgorithmNotAllowed(alg) => CredentialError::Unsupported {
                    what: format!("signature algorithm of the {whose}"),
                    why: alg,
                },
                SignatureFailure::UnknownKey(why) => CredentialError::KeyNotAuthorised {
                    whose: whose.to_string(),
                    kid: self.kid.clone(),
                    relationship: relationship.as_str(),
                    why,
                },
                SignatureFailure::BadSignature => CredentialError::BadSignature {
                    whose: whose.to_string(),
                },
            })
    }
}

fn decode_object(segment: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Signs `payload` under `header` as a compact JWS.
pub(super) fn sign(
    key: &SigningKey,
    header: &Value,
    payload: &Value,
) -> Result<String, CredentialError> {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature = key
        .sign(input.as_bytes())
        .map_err(|e| CredentialError::Signing(e.to_string()))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
