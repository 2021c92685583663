//! Access receipts: the provider's signed statement of what its data plane served for one request — which
//! transfer and agreement, the request line, the status, how many bytes and their SHA-256. A consumer keeps the
//! receipt as proof of what it obtained (or of what the provider claims it obtained) and checks it offline.
//!
//! The receipt is signed like an agreement: a detached JWS over the RFC 8785 canonical form, so the document stays
//! plain JSON and survives re-serialisation.
//!
//! Receipts may also be signed many at a time ([`sign_batch`]): the signature then covers the root of an RFC 9162
//! Merkle tree whose leaves are the receipts' canonical forms, and each receipt carries its inclusion proof
//! (`batch`). Each still verifies on its own with nothing but the provider's keys, while the provider signs, and
//! a consumer checking a whole batch verifies, once per batch instead of once per response.

use serde::{Deserialize, Serialize};

use crate::canonical::{canonicalize, CanonicalError};
use crate::identity::{Jwks, SigningKey};
use crate::jws::{sign_detached, verify_detached, JwsError, VerifiedSignature};
use crate::transparency::merkle::{self, Hash, MerkleError};

/// The `type` every receipt carries, so a receipt cannot be mistaken for another signed document.
pub const RECEIPT_TYPE: &str = "twinport:AccessReceipt/1";
/// The `type` of the statement a batch signature covers, so it cannot be mistaken for one receipt's.
pub const BATCH_TYPE: &str = "twinport:AccessReceiptBatch/1";
/// Most receipts one batch signature covers (a proof is then at most 10 hashes).
pub const MAX_BATCH: usize = 1024;

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
    /// The request body, when the data plane read it whole before passing it on (a model's execution inputs);
    /// absent for requests without a body and for bodies streamed to the platform as they arrived. (Boxed: most
    /// receipts have none, and the receipt travels by value through the audit writer.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Box<RequestBody>>,
}

/// The request body a receipt covers: as the partner sent it (which the consumer can check against what it sent)
/// and, for a JSON body the data plane passed on in its RFC 8785 form, the digest of that form (what the platform
/// received; the same for every serialisation of the same inputs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestBody {
    /// Bytes received from the partner.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of exactly those bytes.
    pub sha256: String,
    /// Lowercase hex SHA-256 of the RFC 8785 canonical form sent on to the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_sha256: Option<String>,
}

/// A receipt with its provider signature, as it travels and as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedReceipt {
    pub receipt: AccessReceipt,
    /// Detached JWS (`header..signature`) over the canonical form of `receipt`, or, with `batch`, over the
    /// canonical batch statement `{"type": BATCH_TYPE, "size": n, "root": hex}`.
    pub signature: String,
    /// Where this receipt sits in the batch the signature covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchProof>,
}

/// The inclusion of one receipt in a signed batch: leaf `index` of `size`, hashes from the leaf up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchProof {
    pub index: u64,
    pub size: u64,
    /// Lowercase hex SHA-256 hashes, sibling nearest the leaf first (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
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
    #[error("receipt batch proof: {0}")]
    Batch(String),
}

impl From<MerkleError> for ReceiptError {
    fn from(e: MerkleError) -> Self {
        ReceiptError::Batch(e.to_string())
    }
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
    Ok(SignedReceipt {
        receipt,
        signature,
        batch: None,
    })
}

/// The canonical statement a batch signature covers.
fn batch_statement(size: u64, root: &Hash) -> Result<Vec<u8>, ReceiptError> {
    Ok(canonicalize(&serde_json::json!({
        "type": BATCH_TYPE,
        "size": size,
        "root": hex::encode(root),
    }))?)
}

/// Signs up to [`MAX_BATCH`] receipts with one signature over the Merkle root of their canonical forms; each comes
/// back with its proof, in the order given.
pub fn sign_batch(
    key: &SigningKey,
    receipts: Vec<AccessReceipt>,
) -> Result<Vec<SignedReceipt>, ReceiptError> {
    if receipts.is_empty() || receipts.len() > MAX_BATCH {
        return Err(ReceiptError::Batch(format!(
            "a batch holds 1 to {MAX_BATCH} receipts, not {}",
            receipts.len()
        )));
    }
    let leaves = receipts
        .iter()
        .map(|r| signing_input(r).map(|bytes| merkle::leaf_hash(&bytes)))
        .collect::<Result<Vec<_>, _>>()?;
    let size = leaves.len() as u64;
    let signature = sign_detached(key, &batch_statement(size, &merkle::root(&leaves))?)?;
    receipts
        .into_iter()
        .enumerate()
        .map(|(i, receipt)| {
            let proof = merkle::inclusion_proof(i as u64, size, |a, b| {
                Ok(merkle::root(&leaves[a as usize..b as usize]))
            })?;
            Ok(SignedReceipt {
                receipt,
                signature: signature.clone(),
                batch: Some(BatchProof {
                    index: i as u64,
                    size,
                    proof: proof.iter().map(hex::encode).collect(),
                }),
            })
        })
        .collect()
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

    /// What the signature covers: the receipt itself, or the statement of the batch its proof leads to.
    pub fn signed_payload(&self) -> Result<Vec<u8>, ReceiptError> {
        let own = signing_input(&self.receipt)?;
        let Some(batch) = &self.batch else {
            return Ok(own);
        };
        if batch.size as usize > MAX_BATCH {
            return Err(ReceiptError::Batch(format!(
                "a batch of {} is larger than {MAX_BATCH}",
                batch.size
            )));
        }
        let proof = batch
            .proof
            .iter()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| Hash::try_from(b.as_slice()).ok())
                    .ok_or_else(|| ReceiptError::Batch(format!("{h:?} is not a SHA-256 hash")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let root =
            merkle::root_from_inclusion(batch.index, batch.size, &merkle::leaf_hash(&own), &proof)?;
        batch_statement(batch.size, &root)
    }

    /// Checks the provider's signature against its JWKS.
    pub fn verify(&self, provider_jwks: &Jwks) -> Result<VerifiedSignature, ReceiptError> {
        Ok(verify_detached(
            &self.signature,
            &self.signed_payload()?,
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
            request: None,
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
    fn the_request_body_is_signed_with_the_response_and_absent_when_not_read() {
        // A receipt without a request body has the canonical form it always had, so receipts signed before the
        // field existed still verify.
        let plain = serde_json::to_value(receipt()).expect("json");
        assert!(plain.get("request").is_none());
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("key");
        let mut r = receipt();
        r.method = "POST".into();
        r.request = Some(Box::new(RequestBody {
            bytes: 17,
            sha256: "ab".repeat(32),
            canonical_sha256: Some("cd".repeat(32)),
        }));
        let signed = sign_receipt(&key, r).expect("sign");
        let back = SignedReceipt::from_json(&serde_json::to_vec(&signed).unwrap()).expect("parse");
        back.verify(&key.jwks()).expect("verifies");
        assert_eq!(
            serde_json::to_value(&back.receipt).unwrap()["request"],
            serde_json::json!({"bytes": 17, "sha256": "ab".repeat(32), "canonicalSha256": "cd".repeat(32)})
        );
        let mut tampered = back.clone();
        if let Some(req) = tampered.receipt.request.as_mut() {
            req.canonical_sha256 = Some("ef".repeat(32));
        }
        assert!(matches!(
            tampered.verify(&key.jwks()),
            Err(ReceiptError::Jws(_))
        ));
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

    fn batch_of(n: usize) -> Vec<AccessReceipt> {
        (0..n)
            .map(|i| {
                let mut r = receipt();
                r.request_id = format!("urn:uuid:{i}");
                r.audit_index = Some(i as u64);
                r
            })
            .collect()
    }

    #[test]
    fn each_receipt_of_a_batch_verifies_on_its_own_under_one_signature() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("key");
        for n in [1, 2, 3, 7, 64, 65] {
            let signed = sign_batch(&key, batch_of(n)).expect("sign");
            assert_eq!(signed.len(), n);
            assert!(signed.iter().all(|s| s.signature == signed[0].signature));
            for (i, s) in signed.iter().enumerate() {
                // Through JSON, as a consumer receives and keeps it.
                let back = SignedReceipt::from_json(&serde_json::to_vec(s).unwrap()).unwrap();
                assert_eq!(back.batch.as_ref().unwrap().index, i as u64);
                back.verify_body(&key.jwks(), 3, &receipt().sha256)
                    .unwrap_or_else(|e| panic!("receipt {i} of {n}: {e}"));
            }
        }
    }

    #[test]
    fn a_batch_receipt_changed_moved_or_given_another_proof_does_not_verify() {
        let key = SigningKey::generate(KeyAlgorithm::Es256).expect("key");
        let signed = sign_batch(&key, batch_of(5)).expect("sign");
        let jwks = key.jwks();
        let mut changed = signed[2].clone();
        changed.receipt.bytes = 4;
        assert!(changed.verify(&jwks).is_err(), "a changed receipt");
        let mut moved = signed[2].clone();
        moved.batch.as_mut().unwrap().index = 3;
        assert!(moved.verify(&jwks).is_err(), "claims another place");
        let mut swapped = signed[2].clone();
        swapped.batch = signed[3].batch.clone();
        assert!(swapped.verify(&jwks).is_err(), "another receipt's proof");
        let mut alone = signed[2].clone();
        alone.batch = None;
        assert!(
            alone.verify(&jwks).is_err(),
            "the batch signature is not one receipt's"
        );
        let mut bad = signed[2].clone();
        bad.batch.as_mut().unwrap().proof[0] = "zz".into();
        assert!(matches!(bad.verify(&jwks), Err(ReceiptError::Batch(_))));
        let mut huge = signed[2].clone();
        huge.batch.as_mut().unwrap().size = u64::MAX;
        assert!(huge.verify(&jwks).is_err());
        assert!(sign_batch(&key, Vec::new()).is_err());
        assert!(sign_batch(&key, batch_of(MAX_BATCH + 1)).is_err());
        // One receipt's own signature cannot be passed off as a batch of one either.
        let mut single = sign_receipt(&key, receipt()).expect("sign");
        single.batch = Some(BatchProof {
            index: 0,
            size: 1,
            proof: Vec::new(),
        });
        assert!(single.verify(&jwks).is_err());
    }
}
