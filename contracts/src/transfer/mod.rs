//! The transfer process protocol (DSP 2025-1 §7): its messages, data addresses, and the state machine that
//! decides which message may follow which.

mod data_address;
mod messages;
mod state;

pub use data_address::{DataAddress, EndpointProperty, HTTP_ENDPOINT_TYPE};
pub use messages::{
    TransferCompletionMessage, TransferError, TransferProcess, TransferRequestMessage,
    TransferStartMessage, TransferSuspensionMessage, TransferTerminationMessage,
};
pub use state::{transition, TransferMessageKind, TransferState, UnknownTransferState};
