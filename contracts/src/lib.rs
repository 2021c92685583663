//! What connectors exchange and sign: Dataspace Protocol 2025-1 messages, the negotiation and transfer state
//! machines as pure transition functions, RFC 8785 canonical JSON, JWS signing and the self-issued identity tokens
//! that authenticate one connector to another.
//!
//! Pure by design: no HTTP, no SQL, no clock reads — callers pass the time in.

pub mod canonical;
pub mod catalog;
pub mod credentials;
pub mod dcp;
pub mod did;
pub mod dsp;
pub mod identity;
pub mod ids;
pub mod jws;
pub mod message;
pub mod negotiation;
pub mod process;
pub mod receipt;
pub mod status_list;
pub mod transfer;
pub mod transparency;

#[cfg(any(test, feature = "official-schemas"))]
#[doc(hidden)]
pub mod official_schemas;
