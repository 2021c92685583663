//! Decentralized identifiers as DCP 1.0 uses them: `did:web` identifiers and where their documents live
//! ([`web`]), and DID documents: which key may sign what, and where a participant's services are ([`document`]).
//! Pure: fetching a document is the connector's business.

pub mod document;
pub mod web;

pub use document::{DidDocument, Relationship, Service, VerificationMethod};
pub use web::DidWeb;

/// Why a DID or DID document cannot be used. Each says which step failed, for refusals and the audit log.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DidError {
    #[error("not a did:web identifier: {0}")]
    NotDidWeb(String),
    #[error("malformed did:web identifier {did:?}: {why}")]
    Malformed { did: String, why: String },
    #[error("the DID document is not one: {0}")]
    Document(String),
    #[error("the DID document is for {found:?}, not {expected:?}")]
    WrongSubject { expected: String, found: String },
    #[error("no key {kid:?} in the DID document for {relationship}")]
    KeyNotAuthorised {
        kid: String,
        relationship: &'static str,
    },
    #[error(
        "the DID document has {count} keys for {relationship}; a token without kid is ambiguous"
    )]
    KeyAmbiguous {
        count: usize,
        relationship: &'static str,
    },
    #[error("key {kid:?} is controlled by {controller:?}, not by the document's subject")]
    ForeignController { kid: String, controller: String },
    #[error("key {kid:?} has no publicKeyJwk (other key formats are not supported)")]
    UnsupportedKey { kid: String },
}
