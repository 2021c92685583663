//! Access receipts: the provider's signed statement of what its data plane served for one request — which
//! transfer and agreement, the request line, the status, how many bytes and their SHA-256. A consumer keeps the
//! receipt as proof of what it obtained (or of what the provider claims it obtained) and checks it offline.
//!
//! The receipt is signed like an agreement: a detached JWS over the RFC 8785 canonical form, so the document stays
//! plain JSON and survives re-serialisation.

use serde::{Deserialize, Serialize};

use crate::canonical::{canonicalize, CanonicalError};
use crate::identity::{Jwks, SigningKey};
use crate::jws::{sign_detached, verify_detached, JwsError, VerifiedSignature};

/// The `type` every receipt carries, so a receipt cannot be mistaken for another signed document.
pub const RECEIPT_TYPE: &str = "twinport:AccessReceipt/1";

/// What the provider's data plane served for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessReceipt {
    #[serde(rename = "type")]
    pub receipt_type: String,
    /// Unique per request; the provider's audit entry carries the same id.
    pub request_id: String,
    /// The provider's participant id (who signs).
    pub provider: String,
    /// The partner the data was served to.
    pub consumer: String,
    pub agreement_id: String,
    /// The provider's transfer process id.
    pub transfer_id: String,
    pub method: String,
    /// Path below the transfer's data address, with the query string if any (e.g. `/entities?type=Road`).
    pub path: String,
    pub status: u16,
    /// Body bytes sent to the partner.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of exactly those bytes.
    pub sha256: String,
    /// False when the body was cut short (the partner disconnected or the backend failed mid-stream).
    pub complete: bool,
    /// RFC 3339 times the request arrived and the response ended.
    pub started_at: String,
    pub finished_at: String,
    /// Index of the provider's audit log entry recording this access, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_index: Option<u64>,
}

/// A receipt with its provider signature, as it travels and as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedReceipt {
    pub receipt: AccessReceipt,
    /// Detached JWS (`header..signature`) over the canonical form of `receipt`.
    pub signature: String,
}

/// Why a receipt could not be signed or did not verify.
#[derive(thiserror::Error, Debug)]
pub enum ReceiptError {
    #[error("not a receipt: {0}")]
    Malformed(String),
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    #[error("receipt signature: {0}")]
    Jws(#[from] JwsError),
    #[error("receipt does not match what was received: {0}")]
    Mismatch(String),
}

fn signing_input(receipt: &AccessReceipt) -> Result<Vec<u8>, ReceiptError> {
    let value =
        serde_json::to_value(receipt).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    Ok(canonicalize(&value)?)
}

/// Signs a receipt with the provider's key.
pub fn sign_receipt(
    key: &SigningKey,
    receipt: AccessReceipt,
) -> Result<SignedReceipt, ReceiptError> {
    let signature = sign_detached(key, &signing_input(&receipt)?)?;
    Ok(SignedReceipt { receipt, signature })
}

impl SignedReceipt {
    /// Parses a receipt document (JSON) as received.
    pub fn from_json(bytes: &[u8]) -> Result<SignedReceipt, ReceiptError> {
        let r: SignedReceipt =
            serde_json::from_slice(bytes).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
        if r.receipt.receipt_type != RECEIPT_TYPE {
            return Err(ReceiptError::Malformed(format!(
                "type is {:?}, expected {RECEIPT_TYPE:?}",
                r.receipt.receipt_type
            )));
        }
        Ok(r)
    }

    /// Checks the provider's signature against its JWKS.
    pub fn verify(&self, provider_jwks: &Jwks) -> Result<VerifiedSignature, ReceiptError> {
        Ok(verify_detached(
            &self.signature,
            &signing_input(&self.receipt)?,
            provider_jwks,
        )?)
    }

    /// Checks the signature and that the receipt names the body the consumer actually received.
    pub fn verify_body(
        &self,
        provider_jwks: &Jwks,
        bytes: u64,
        sha256_hex: &str,
    ) -> Result<VerifiedSignature, ReceiptError> {
        let verified = self.verify(provider_jwks)?;
        if self.receipt.bytes != bytes {
            return Err(ReceiptError::Mismatch(format!(
                "receipt says {} bytes, received {bytes}",
                self.receipt.bytes
            )));
        }
        if !self.receipt.sha256.eq_ignore_ascii_case(sha256_hex) {
            return Err(ReceiptError::Mismatch(format!(
                "receipt digest {} differs from the received body's {sha256_hex}",
                self.receipt.sha256
            )));
        }
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyAlgorithm;

    fn receipt() -> AccessReceipt {
        AccessReceipt {
            receipt_type: RECEIPT_TYPE.into(),
            request_id: "urn:uuid:7d1c".into(),
            provider: "https://city-a.example".into(),
            consumer: "https://city-b.example".into(),
            agreement_id: "urn:agreement:1".into(),
            transfer_id: "urn:uuid:tp-1".into(),
            method: "GET".into(),
            path: "/ngsi-ld/v1/entities?type=Road".into(),
            status: 200,
            bytes: 3,
            sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into(),
            complete: true,
            started_at: "2026-11-24T08:00:00Z".into(),
            finished_at: "2026-11-24T08:00:01Z".into(),
            audit_index: Some(41),
        }
    }

    #[test]
    fn a_signed_receipt_round_trips_and_verifies() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("key");
        let signed = sign_receipt(&key, receipt()).expect("sign");
        let json = serde_json::to_vec_pretty(&signed).expect("json");
        let back = SignedReceipt::from_json(&json).expect("parse");
        assert_eq!(back, signed);
        back.verify_body(&key.jwks(), 3, &receipt().sha256)
            .expect("verifies against the body");
    }

    #[test]
    fn tampering_or_a_different_body_is_rejected() {
        let key = SigningKey::generate(KeyAlgorithm::Es256).expect("key");
        let mut signed = sign_receipt(&key, receipt()).expect("sign");
        assert!(matches!(
            signed.verify_body(&key.jwks(), 4, &receipt().sha256),
            Err(ReceiptError::Mismatch(_))
        ));
        assert!(matches!(
            signed.verify_body(&key.jwks(), 3, &"0".repeat(64)),
            Err(ReceiptError::Mismatch(_))
        ));
        signed.receipt.status = 500;
        assert!(matches!(
            signed.verify(&key.jwks()),
            Err(ReceiptError::Jws(_))
        ));
        let other = SigningKey::generate(KeyAlgorithm::EdDsa).expect("key");
        let signed = sign_receipt(&key, receipt()).expect("sign");
        assert!(signed.verify(&other.jwks()).is_err());
    }

    #[test]
    fn a_document_of_another_type_is_not_a_receipt() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("key");
        let mut r = receipt();
        r.receipt_type = "something-else".into();
        let signed = sign_receipt(&key, r).expect("sign");
        let json = serde_json::to_vec(&signed).expect("json");
        assert!(matches!(
            SignedReceipt::from_json(&json),
            Err(ReceiptError::Malformed(_))
        ));
    }
}
