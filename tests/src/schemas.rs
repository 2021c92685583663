//! The official DSP 2025-1 JSON Schemas from `../shared/testdata/dsp-2025-1/`, registered under their `$id`s so
//! cross-references resolve offline. Every message the connector answers is checked against them.
//!
//! The loader (with its repair of the published transfer schemas) is the contracts crate's, shared with its unit
//! tests; this module adds which schema a DSP message type has.

/// Panics with every violation if `instance` does not satisfy the official schema `rel`
/// (e.g. `"catalog/catalog-schema.json"`); does nothing when the test data is missing.
pub use twinport_contracts::official_schemas::assert_schema_valid as assert_valid;
/// Reads an official example, e.g. `"catalog/example/catalog.json"`.
pub use twinport_contracts::official_schemas::example;
/// The official DSP test data, or `None` (after saying so) when this checkout lacks it.
pub use twinport_contracts::official_schemas::testdata_dir;

/// The official schema for a DSP message, by its `@type`.
pub fn schema_for(message_type: &str) -> Option<&'static str> {
    Some(match message_type {
        "CatalogRequestMessage" => "catalog/catalog-request-message-schema.json",
        "DatasetRequestMessage" => "catalog/dataset-request-message-schema.json",
        "Catalog" => "catalog/catalog-schema.json",
        "Dataset" => "catalog/dataset-schema.json",
        "CatalogError" => "catalog/catalog-error-schema.json",
        "ContractRequestMessage" => "negotiation/contract-request-message-schema.json",
        "ContractOfferMessage" => "negotiation/contract-offer-message-schema.json",
        "ContractAgreementMessage" => "negotiation/contract-agreement-message-schema.json",
        "ContractAgreementVerificationMessage" => {
            "negotiation/contract-agreement-verification-message-schema.json"
        }
        "ContractNegotiationEventMessage" => {
            "negotiation/contract-negotiation-event-message-schema.json"
        }
        "ContractNegotiationTerminationMessage" => {
            "negotiation/contract-negotiation-termination-message-schema.json"
        }
        "ContractNegotiation" => "negotiation/contract-negotiation-schema.json",
        "ContractNegotiationError" => "negotiation/contract-negotiation-error-schema.json",
        "TransferRequestMessage" => "transfer/transfer-request-message-schema.json",
        "TransferStartMessage" => "transfer/transfer-start-message-schema.json",
        "TransferSuspensionMessage" => "transfer/transfer-suspension-message-schema.json",
        "TransferCompletionMessage" => "transfer/transfer-completion-message-schema.json",
        "TransferTerminationMessage" => "transfer/transfer-termination-message-schema.json",
        "TransferProcess" => "transfer/transfer-process-schema.json",
        "TransferError" => "transfer/transfer-error-schema.json",
        _ => return None,
    })
}
