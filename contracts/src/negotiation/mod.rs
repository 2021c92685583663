//! The contract negotiation protocol (DSP 2025-1 §6): its messages, the agreement and how both parties sign it,
//! and the state machine that decides which message may follow which.

mod agreement;
mod messages;
mod signature;
mod state;

pub use agreement::Agreement;
pub use messages::{
    ContractAgreementMessage, ContractAgreementVerificationMessage, ContractNegotiation,
    ContractNegotiationError, ContractNegotiationEventMessage,
    ContractNegotiationTerminationMessage, ContractOfferKind, ContractOfferMessage,
    ContractRequestKind, ContractRequestMessage, NegotiationEvent,
};
pub use signature::{
    agreement_signing_input, sign_agreement, verify_agreement_signature, AgreementSignatureError,
};
pub use state::{transition, NegotiationMessageKind, NegotiationState, UnknownNegotiationState};
