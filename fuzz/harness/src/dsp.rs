//! `dsp_messages`: any JSON document read as every DSP 2025-1 message a connector receives (catalog, negotiation
//! and transfer). What a parser accepts is stored, signed and echoed to partners in its `to_json` form, so that
//! form must read back as the very same message, and every member that names something must obey the id rule
//! the parsers promise to apply.

use std::fmt::Debug;

use serde_json::Value;
use twinport_contracts::catalog::{CatalogError, CatalogRequestMessage, DatasetRequestMessage};
use twinport_contracts::ids::{check_id, check_text, check_url, MAX_TEXT_BYTES};
use twinport_contracts::message::DspMessage;
use twinport_contracts::negotiation::{
    Agreement, ContractAgreementMessage, ContractAgreementVerificationMessage, ContractNegotiation,
    ContractNegotiationError, ContractNegotiationEventMessage,
    ContractNegotiationTerminationMessage, ContractOfferKind, ContractOfferMessage,
    ContractRequestKind, ContractRequestMessage,
};
use twinport_contracts::transfer::{
    DataAddress, TransferCompletionMessage, TransferError, TransferProcess, TransferRequestMessage,
    TransferStartMessage, TransferSuspensionMessage, TransferTerminationMessage,
};

/// Reads `data` as JSON (anything else is not a message and is skipped) and then as every message type.
pub fn dsp_messages(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    check::<CatalogRequestMessage>(&v, |_| Vec::new());
    check::<DatasetRequestMessage>(&v, |m| vec![&m.dataset]);
    check::<CatalogError>(&v, |m| coded(&m.code, &m.reason));
    check::<ContractRequestMessage>(&v, |m| {
        let mut ids = vec![&m.consumer_pid];
        match &m.kind {
            ContractRequestKind::Initial { callback_address } => assert_url(callback_address),
            ContractRequestKind::Counter { provider_pid } => ids.push(provider_pid),
        }
        offer_ids(&m.offer, &mut ids);
        ids
    });
    check::<ContractOfferMessage>(&v, |m| {
        let mut ids = vec![&m.provider_pid];
        match &m.kind {
            ContractOfferKind::Initial { callback_address } => assert_url(callback_address),
            ContractOfferKind::Counter { consumer_pid } => ids.push(consumer_pid),
        }
        offer_ids(&m.offer, &mut ids);
        ids
    });
    check::<ContractAgreementMessage>(&v, |m| {
        let mut ids = vec![&m.provider_pid, &m.consumer_pid];
        agreement_ids(&m.agreement, &mut ids);
        ids
    });
    check::<ContractAgreementVerificationMessage>(&v, |m| vec![&m.provider_pid, &m.consumer_pid]);
    check::<ContractNegotiationEventMessage>(&v, |m| vec![&m.provider_pid, &m.consumer_pid]);
    check::<ContractNegotiationTerminationMessage>(&v, |m| {
        let mut ids = vec![&m.provider_pid, &m.consumer_pid];
        ids.extend(coded(&m.code, &m.reason));
        ids
    });
    check::<ContractNegotiationError>(&v, |m| {
        let mut ids = vec![&m.provider_pid, &m.consumer_pid];
        ids.extend(coded(&m.code, &m.reason));
        ids
    });
    check::<ContractNegotiation>(&v, |m| vec![&m.provider_pid, &m.consumer_pid]);
    check::<TransferRequestMessage>(&v, |m| {
        assert_url(&m.callback_address);
        assert_text(&m.format);
        address_text(m.data_address.as_ref());
        vec![&m.consumer_pid, &m.agreement_id]
    });
    check::<TransferStartMessage>(&v, |m| {
        address_text(m.data_address.as_ref());
        vec![&m.provider_pid, &m.consumer_pid]
    });
    check::<TransferSuspensionMessage>(&v, |m| {
        let mut ids = vec![&m.provider_pid, &m.consumer_pid];
        ids.extend(coded(&m.code, &m.reason));
        ids
    });
    check::<TransferCompletionMessage>(&v, |m| vec![&m.provider_pid, &m.consumer_pid]);
    check::<TransferTerminationMessage>(&v, |m| {
        let mut ids = vec![&m.provider_pid, &m.consumer_pid];
        ids.extend(coded(&m.code, &m.reason));
        ids
    });
    check::<TransferError>(&v, |m| {
        let mut ids = vec![&m.provider_pid, &m.consumer_pid];
        ids.extend(coded(&m.code, &m.reason));
        ids
    });
    check::<TransferProcess>(&v, |m| vec![&m.provider_pid, &m.consumer_pid]);
}

/// Parses `v` as `M`; when it parses, the message round-trips through its JSON form and every id it names passes
/// the id rule.
fn check<M: DspMessage + PartialEq + Debug>(
    v: &Value,
    ids: impl for<'a> Fn(&'a M) -> Vec<&'a String>,
) {
    let Ok(message) = M::from_json(v) else {
        return;
    };
    let written = message.to_json();
    match M::from_json(&written) {
        Ok(again) => assert_eq!(
            again,
            message,
            "{}: the written form reads back differently",
            M::TYPE
        ),
        Err(e) => panic!(
            "{}: the written form {written} does not read back: {e}",
            M::TYPE
        ),
    }
    assert_eq!(
        M::from_json(&written).map(|m| m.to_json()).ok(),
        Some(written.clone()),
        "{}: writing is not stable",
        M::TYPE
    );
    for id in ids(&message) {
        if let Err(e) = check_id(id) {
            panic!("{}: accepted id {id:?} breaks the id rule: {e}", M::TYPE);
        }
    }
}

/// A `code` is free text, not an id, so it is checked here as text and contributes no ids; the reasons were made
/// safe by the parser, so they must now pass the text rule unchanged.
fn coded<'a>(code: &'a Option<String>, reason: &'a [String]) -> Vec<&'a String> {
    if let Some(code) = code {
        assert_text(code);
    }
    for r in reason {
        assert_text(r);
    }
    Vec::new()
}

fn assert_text(text: &str) {
    if let Err(e) = check_text(text, MAX_TEXT_BYTES) {
        panic!("accepted text {text:?} breaks the text rule: {e}");
    }
}

fn assert_url(address: &str) {
    if let Err(e) = check_url(address) {
        panic!("accepted callback address {address:?} is not one: {e}");
    }
}

/// The offer's `@id` is required and its `target` optional; both are ids when they are strings.
fn offer_ids<'a>(offer: &'a Value, ids: &mut Vec<&'a String>) {
    match offer.get("@id") {
        Some(Value::String(id)) => ids.push(id),
        other => panic!("an accepted offer has no string @id: {other:?}"),
    }
    if let Some(Value::String(target)) = offer.get("target") {
        ids.push(target);
    }
}

fn agreement_ids<'a>(a: &'a Agreement, ids: &mut Vec<&'a String>) {
    ids.extend([&a.id, &a.target, &a.assigner, &a.assignee]);
    assert_text(&a.timestamp);
}

fn address_text(address: Option<&DataAddress>) {
    let Some(address) = address else {
        return;
    };
    assert_text(&address.endpoint_type);
    if let Some(endpoint) = &address.endpoint {
        assert_text(endpoint);
    }
    for p in &address.endpoint_properties {
        assert_text(&p.name);
        assert_text(&p.value);
    }
}
