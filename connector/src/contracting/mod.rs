//! Contracting: DSP 2025-1 contract negotiation and transfer processes in both roles. Incoming messages are checked
//! against the pure state machines of `twinport-contracts`, policies are evaluated with `twinport-policy`, and every
//! state change commits together with its history line and the messages it causes, which the [`outbox`] then
//! delivers. Nothing polls: the HTTP answer goes first, the follow-up message right after.

mod acceptance;
pub mod acknowledgement;
mod audit_trail;
pub mod catalogue_views;
pub mod creation;
pub mod decision;
pub mod error;
pub mod events;
pub mod follow_up;
pub mod negotiation;
pub mod offers;
pub mod outbox;
mod peer_urls;
mod pids;
pub mod pull_token;
mod service;
pub mod transfer;
pub mod visibility;

pub use error::ProcessError;
pub use service::{Contracting, ContractingParts, PushStarter};

/// HTTP header carrying a detached JWS over the RFC 8785 form of the agreement: the provider's signature on
/// `ContractAgreementMessage`, the consumer's countersignature on `ContractAgreementVerificationMessage`. Peers
/// that do not know it ignore it.
pub const SIGNATURE_HEADER: &str = "twinport-agreement-signature";

/// Extension property of a `ContractRequestMessage` carrying the consumer's declared purpose; DSP has no field for
/// it and peers ignore unknown properties.
pub const PURPOSE_PROPERTY: &str = "https://w3id.org/twinport/ldt#purpose";

/// A fresh process id.
pub fn new_pid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// Our role in a process, as stored.
pub const PROVIDER: &str = "provider";
pub const CONSUMER: &str = "consumer";
