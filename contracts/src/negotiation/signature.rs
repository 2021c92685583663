//! Signed agreements: the provider signs the RFC 8785 canonical form of the agreement object with a detached JWS,
//! and the consumer countersigns the very same bytes, so either signature can be checked offline against the
//! signer's JWKS no matter how the JSON was re-serialised in between.

use serde_json::Value;

use crate::canonical::{canonicalize, CanonicalError};
use crate::identity::{Jwks, SigningKey};
use crate::jws::{sign_detached, verify_detached, JwsError, VerifiedSignature};
use crate::message::MessageError;

use super::agreement::Agreement;

/// Why an agreement could not be signed or its signature did not verify.
#[derive(thiserror::Error, Debug)]
pub enum AgreementSignatureError {
    #[error("not a valid agreement: {0}")]
    InvalidAgreement(#[from] MessageError),
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    #[error("agreement signature: {0}")]
    Jws(#[from] JwsError),
}

/// The bytes both parties sign: the JCS form of the agreement object exactly as exchanged (checked to be a
/// well-formed agreement first, so nobody signs something else by mistake).
pub fn agreement_signing_input(agreement: &Value) -> Result<Vec<u8>, AgreementSignatureError> {
    Agreement::from_json(agreement)?;
    Ok(canonicalize(agreement)?)
}

/// Signs an agreement (the provider's signature or the consumer's countersignature); returns a detached JWS.
pub fn sign_agreement(
    key: &SigningKey,
    agreement: &Value,
) -> Result<String, AgreementSignatureError> {
    let input = agreement_signing_input(agreement)?;
    Ok(sign_detached(key, &input)?)
}

/// Verifies one party's detached JWS over an agreement.
pub fn verify_agreement_signature(
    jws: &str,
    agreement: &Value,
    jwks: &Jwks,
) -> Result<VerifiedSignature, AgreementSignatureError> {
    let input = agreement_signing_input(agreement)?;
    Ok(verify_detached(jws, &input, jwks)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyAlgorithm;
    use serde_json::json;

    fn agreement() -> Value {
        json!({"@id": "urn:agreement:1", "@type": "Agreement", "target": "urn:dataset:traffic",
            "timestamp": "2026-11-24T01:00:00Z", "assigner": "https://city-a.example", "assignee": "https://city-b.example",
            "permission": [{"action": "use", "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": "planning"}]}]})
    }

    #[test]
    fn signature_and_countersignature_cover_the_same_canonical_bytes() {
        let provider = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let consumer = SigningKey::generate(KeyAlgorithm::Es256).expect("generate");
        let a = agreement();
        let provider_sig = sign_agreement(&provider, &a).expect("provider signs");
        // The consumer receives the agreement re-serialised with another member order and whitespace.
        let received: Value =
            serde_json::from_str(&serde_json::to_string_pretty(&reordered(&a)).expect("serialize"))
                .expect("parse");
        let verified = verify_agreement_signature(&provider_sig, &received, &provider.jwks())
            .expect("provider sig");
        assert_eq!(verified.kid, provider.kid());
        let consumer_sig = sign_agreement(&consumer, &received).expect("consumer countersigns");
        verify_agreement_signature(&consumer_sig, &a, &consumer.jwks())
            .expect("countersignature verifies on original");
        assert_eq!(
            agreement_signing_input(&a).expect("input"),
            agreement_signing_input(&received).expect("input")
        );
    }

    fn reordered(v: &Value) -> Value {
        let mut entries: Vec<(String, Value)> = v
            .as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        entries.reverse();
        Value::Object(entries.into_iter().collect())
    }

    #[test]
    fn changed_rules_break_the_signature() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let a = agreement();
        let sig = sign_agreement(&key, &a).expect("sign");
        let mut changed = a.clone();
        changed["permission"][0]["constraint"][0]["rightOperand"] = json!("marketing");
        assert!(matches!(
            verify_agreement_signature(&sig, &changed, &key.jwks()),
            Err(AgreementSignatureError::Jws(JwsError::BadSignature))
        ));
    }

    #[test]
    fn signature_from_an_unknown_party_is_refused() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let other = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let sig = sign_agreement(&key, &agreement()).expect("sign");
        assert!(matches!(
            verify_agreement_signature(&sig, &agreement(), &other.jwks()),
            Err(AgreementSignatureError::Jws(JwsError::UnknownKey(_)))
        ));
    }

    #[test]
    fn non_agreements_are_not_signed() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("generate");
        let offer =
            json!({"@id": "urn:offer:1", "@type": "Offer", "permission": [{"action": "use"}]});
        assert!(matches!(
            sign_agreement(&key, &offer),
            Err(AgreementSignatureError::InvalidAgreement(_))
        ));
    }
}
