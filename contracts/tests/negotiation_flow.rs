//! Drives a whole consumer-initiated negotiation and pull transfer through the public API only, the way a
//! connector uses this crate: authenticate each call with a self-issued token, parse the message, run it through
//! the state machine, sign and countersign the agreement.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use twinport_contracts::dsp::DSP_VERSION;
use twinport_contracts::identity::{
    issue_token, unverified_issuer, verify_token, KeyAlgorithm, SigningKey, TokenValidation,
};
use twinport_contracts::message::DspMessage;
use twinport_contracts::negotiation::{
    self, Agreement, ContractAgreementMessage, ContractAgreementVerificationMessage,
    ContractNegotiationEventMessage, ContractRequestKind, ContractRequestMessage, NegotiationEvent,
    NegotiationMessageKind, NegotiationState,
};
use twinport_contracts::process::Role;
use twinport_contracts::transfer::{
    self, DataAddress, EndpointProperty, TransferMessageKind, TransferRequestMessage,
    TransferStartMessage, TransferState, HTTP_ENDPOINT_TYPE,
};

const PROVIDER: &str = "https://city-a.example/dsp";
const CONSUMER: &str = "https://city-b.example/dsp";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).expect("valid timestamp")
}

/// What the receiving connector does with a bearer token before looking at the body.
fn authenticate(token: &str, sender_key: &SigningKey, receiver: &str) -> String {
    let issuer = unverified_issuer(token).expect("issuer readable");
    let validation = TokenValidation {
        audience: receiver.into(),
        expected_issuer: issuer.clone(),
        now: now(),
        leeway: Duration::from_secs(5),
        max_lifetime: Duration::from_secs(300),
    };
    verify_token(token, &sender_key.jwks(), &validation)
        .expect("token verifies")
        .iss
}

#[test]
fn consumer_initiated_negotiation_and_pull_transfer() {
    assert_eq!(DSP_VERSION, "2025-1");
    let provider_key = SigningKey::generate(KeyAlgorithm::Es256).expect("provider key");
    let consumer_key = SigningKey::generate(KeyAlgorithm::EdDsa).expect("consumer key");
    let lifetime = Duration::from_secs(60);

    // 1. Consumer → provider: initial contract request.
    let request = ContractRequestMessage {
        consumer_pid: "urn:uuid:c-1".into(),
        kind: ContractRequestKind::Initial {
            callback_address: CONSUMER.into(),
        },
        offer: json!({"@type": "Offer", "@id": "urn:offer:traffic", "target": "urn:dataset:traffic",
            "permission": [{"action": "use"}]}),
    };
    let token = issue_token(&consumer_key, CONSUMER, PROVIDER, now(), lifetime).expect("token");
    assert_eq!(authenticate(&token, &consumer_key, PROVIDER), CONSUMER);
    let received = ContractRequestMessage::from_json(&request.to_json()).expect("request parses");
    let mut provider_state = negotiation::transition(
        None,
        NegotiationMessageKind::ContractRequest,
        Role::Consumer,
    )
    .expect("new negotiation");
    assert_eq!(provider_state, NegotiationState::Requested);

    // 2. Provider → consumer: signed agreement.
    let agreement = Agreement {
        id: "urn:agreement:1".into(),
        target: received.offer_target().expect("target").into(),
        assigner: PROVIDER.into(),
        assignee: CONSUMER.into(),
        timestamp: Agreement::format_timestamp(now()),
        profile: None,
        permission: vec![json!({"action": "use"})],
        prohibition: vec![],
        obligation: vec![],
        terms: serde_json::Map::new(),
    };
    let agreement_msg = ContractAgreementMessage {
        provider_pid: "urn:uuid:p-1".into(),
        consumer_pid: "urn:uuid:c-1".into(),
        agreement,
    };
    let provider_signature =
        negotiation::sign_agreement(&provider_key, &agreement_msg.agreement.to_json())
            .expect("provider signs");
    let wire = agreement_msg.to_json();
    let on_consumer = ContractAgreementMessage::from_json(&wire).expect("agreement parses");
    let mut consumer_state = negotiation::transition(
        Some(NegotiationState::Requested),
        NegotiationMessageKind::ContractAgreement,
        Role::Provider,
    )
    .expect("agreement accepted");
    provider_state = consumer_state;
    assert_eq!(consumer_state, NegotiationState::Agreed);
    negotiation::verify_agreement_signature(
        &provider_signature,
        &wire["agreement"],
        &provider_key.jwks(),
    )
    .expect("consumer checks the provider signature");
    let countersignature = negotiation::sign_agreement(&consumer_key, &wire["agreement"])
        .expect("consumer countersigns");
    assert_eq!(on_consumer.agreement.id, "urn:agreement:1");

    // 3. Consumer → provider: verification (with the countersignature alongside).
    let verification = ContractAgreementVerificationMessage {
        provider_pid: on_consumer.provider_pid.clone(),
        consumer_pid: on_consumer.consumer_pid.clone(),
    };
    ContractAgreementVerificationMessage::from_json(&verification.to_json())
        .expect("verification parses");
    negotiation::verify_agreement_signature(
        &countersignature,
        &agreement_msg.agreement.to_json(),
        &consumer_key.jwks(),
    )
    .expect("provider checks the countersignature");
    provider_state = negotiation::transition(
        Some(provider_state),
        NegotiationMessageKind::ContractAgreementVerification,
        Role::Consumer,
    )
    .expect("verified");

    // 4. Provider → consumer: FINALIZED.
    let finalized = ContractNegotiationEventMessage {
        provider_pid: "urn:uuid:p-1".into(),
        consumer_pid: "urn:uuid:c-1".into(),
        event_type: NegotiationEvent::Finalized,
    };
    let event =
        ContractNegotiationEventMessage::from_json(&finalized.to_json()).expect("event parses");
    consumer_state = negotiation::transition(Some(provider_state), event.kind(), Role::Provider)
        .expect("finalized");
    assert_eq!(consumer_state, NegotiationState::Finalized);
    let late = negotiation::transition(
        Some(consumer_state),
        NegotiationMessageKind::Termination,
        Role::Consumer,
    );
    assert!(late.is_err(), "a finalized negotiation accepts nothing");

    // 5. Pull transfer under the agreement.
    let transfer_request = TransferRequestMessage {
        consumer_pid: "urn:uuid:tc-1".into(),
        agreement_id: on_consumer.agreement.id.clone(),
        format: "HttpData-PULL".into(),
        callback_address: CONSUMER.into(),
        data_address: None,
    };
    TransferRequestMessage::from_json(&transfer_request.to_json())
        .expect("transfer request parses");
    let state = transfer::transition(None, TransferMessageKind::TransferRequest, Role::Consumer)
        .expect("requested");
    let start = TransferStartMessage {
        provider_pid: "urn:uuid:tp-1".into(),
        consumer_pid: "urn:uuid:tc-1".into(),
        data_address: Some(DataAddress {
            endpoint_type: HTTP_ENDPOINT_TYPE.into(),
            endpoint: Some("https://city-a.example/data/tp-1".into()),
            endpoint_properties: vec![
                EndpointProperty {
                    name: "authorization".into(),
                    value: "short-lived".into(),
                },
                EndpointProperty {
                    name: "authType".into(),
                    value: "bearer".into(),
                },
            ],
        }),
    };
    let started = TransferStartMessage::from_json(&start.to_json()).expect("start parses");
    let state = transfer::transition(
        Some(state),
        TransferMessageKind::TransferStart,
        Role::Provider,
    )
    .expect("started");
    assert_eq!(state, TransferState::Started);
    assert_eq!(
        started
            .data_address
            .and_then(|a| a.property("authorization").map(str::to_owned))
            .as_deref(),
        Some("short-lived")
    );
}
