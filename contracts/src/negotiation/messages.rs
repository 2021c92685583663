//! The contract negotiation messages of DSP 2025-1 §6.3 as typed values. Offers keep their ODRL policy as raw
//! JSON (the policy crate interprets it); the agreement is typed for its identifying members only.

use serde_json::{Map, Value};

use crate::message::{
    coded_message, envelope, open_envelope, optional_str, pid_message, pids, put_pids,
    required_str, DspMessage, MessageError,
};

use super::agreement::Agreement;
use super::state::{NegotiationMessageKind, NegotiationState};

/// Whether a contract request starts a negotiation or counters an offer in an existing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractRequestKind {
    /// Starts a negotiation; the provider answers to the consumer's `callbackAddress`.
    Initial { callback_address: String },
    /// A counter-request in the negotiation the provider knows as `provider_pid`.
    Counter { provider_pid: String },
}

/// A consumer's request for a contract on the terms of `offer`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractRequestMessage {
    pub consumer_pid: String,
    pub kind: ContractRequestKind,
    /// The ODRL `Offer` (with `@id`, `@type` and rules), passed through untouched.
    pub offer: Value,
}

impl ContractRequestMessage {
    /// The `@id` of the requested offer (checked to be present when parsed).
    pub fn offer_id(&self) -> Option<&str> {
        self.offer.get("@id").and_then(Value::as_str)
    }

    /// The dataset the offer is for, if stated.
    pub fn offer_target(&self) -> Option<&str> {
        self.offer.get("target").and_then(Value::as_str)
    }
}

impl DspMessage for ContractRequestMessage {
    const TYPE: &'static str = "ContractRequestMessage";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        if let ContractRequestKind::Counter { provider_pid } = &self.kind {
            m.insert("providerPid".into(), Value::String(provider_pid.clone()));
        }
        m.insert(
            "consumerPid".into(),
            Value::String(self.consumer_pid.clone()),
        );
        m.insert("offer".into(), self.offer.clone());
        if let ContractRequestKind::Initial { callback_address } = &self.kind {
            m.insert(
                "callbackAddress".into(),
                Value::String(callback_address.clone()),
            );
        }
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        let consumer_pid = required_str(m, "consumerPid")?;
        let kind = match (
            optional_str(m, "callbackAddress")?,
            optional_str(m, "providerPid")?,
        ) {
            (Some(callback_address), None) => ContractRequestKind::Initial { callback_address },
            (None, Some(provider_pid)) => ContractRequestKind::Counter { provider_pid },
            (Some(_), Some(_)) => {
                return Err(MessageError::invalid(
                    "callbackAddress",
                    "must not be sent together with providerPid",
                ))
            }
            (None, None) => {
                return Err(MessageError::MissingField(
                    "callbackAddress or providerPid".into(),
                ))
            }
        };
        let offer = message_offer(m, false)?;
        Ok(Self {
            consumer_pid,
            kind,
            offer,
        })
    }
}

/// Whether a contract offer starts a negotiation (provider-initiated) or counters a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractOfferKind {
    /// Starts a negotiation; the consumer answers to the provider's `callbackAddress`.
    Initial { callback_address: String },
    /// A counter-offer in the negotiation the consumer knows as `consumer_pid`.
    Counter { consumer_pid: String },
}

/// A provider's offer; `offer` must carry `@id` and `target`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractOfferMessage {
    pub provider_pid: String,
    pub kind: ContractOfferKind,
    pub offer: Value,
}

impl ContractOfferMessage {
    pub fn offer_id(&self) -> Option<&str> {
        self.offer.get("@id").and_then(Value::as_str)
    }

    pub fn offer_target(&self) -> Option<&str> {
        self.offer.get("target").and_then(Value::as_str)
    }
}

impl DspMessage for ContractOfferMessage {
    const TYPE: &'static str = "ContractOfferMessage";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        m.insert(
            "providerPid".into(),
            Value::String(self.provider_pid.clone()),
        );
        if let ContractOfferKind::Counter { consumer_pid } = &self.kind {
            m.insert("consumerPid".into(), Value::String(consumer_pid.clone()));
        }
        m.insert("offer".into(), self.offer.clone());
        if let ContractOfferKind::Initial { callback_address } = &self.kind {
            m.insert(
                "callbackAddress".into(),
                Value::String(callback_address.clone()),
            );
        }
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        let provider_pid = required_str(m, "providerPid")?;
        let kind = match (
            optional_str(m, "callbackAddress")?,
            optional_str(m, "consumerPid")?,
        ) {
            (Some(callback_address), None) => ContractOfferKind::Initial { callback_address },
            (None, Some(consumer_pid)) => ContractOfferKind::Counter { consumer_pid },
            (Some(_), Some(_)) => {
                return Err(MessageError::invalid(
                    "callbackAddress",
                    "must not be sent together with consumerPid",
                ))
            }
            (None, None) => {
                return Err(MessageError::MissingField(
                    "callbackAddress or consumerPid".into(),
                ))
            }
        };
        let offer = message_offer(m, true)?;
        Ok(Self {
            provider_pid,
            kind,
            offer,
        })
    }
}

/// Checks the `offer` member: an object typed `Offer` with an `@id` (and a `target` where the schema wants one).
fn message_offer(m: &Map<String, Value>, require_target: bool) -> Result<Value, MessageError> {
    let offer = match m.get("offer") {
        None | Some(Value::Null) => return Err(MessageError::MissingField("offer".into())),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(MessageError::wrong_kind("offer", "an object")),
    };
    match offer.get("@type") {
        Some(Value::String(t)) if is_odrl_type(t, "Offer") => {}
        None => return Err(MessageError::MissingField("offer.@type".into())),
        Some(other) => {
            return Err(MessageError::invalid(
                "offer.@type",
                format!("expected \"Offer\", found {other}"),
            ))
        }
    }
    required_str(offer, "@id").map_err(|e| e.within("offer"))?;
    if require_target {
        required_str(offer, "target").map_err(|e| e.within("offer"))?;
    } else {
        optional_str(offer, "target").map_err(|e| e.within("offer"))?;
    }
    Ok(Value::Object(offer.clone()))
}

/// True for the bare ODRL term and its `odrl:` compact and full IRI forms.
pub(crate) fn is_odrl_type(found: &str, term: &str) -> bool {
    found == term
        || found.strip_prefix("odrl:") == Some(term)
        || found.strip_prefix("http://www.w3.org/ns/odrl/2/") == Some(term)
}

/// The provider's agreement, sent when it accepts the latest offer.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractAgreementMessage {
    pub provider_pid: String,
    pub consumer_pid: String,
    pub agreement: Agreement,
}

impl DspMessage for ContractAgreementMessage {
    const TYPE: &'static str = "ContractAgreementMessage";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        put_pids(&mut m, &self.provider_pid, &self.consumer_pid);
        m.insert("agreement".into(), self.agreement.to_json());
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        let (provider_pid, consumer_pid) = pids(m)?;
        let agreement = match m.get("agreement") {
            None | Some(Value::Null) => return Err(MessageError::MissingField("agreement".into())),
            Some(a) => Agreement::from_json(a)?,
        };
        Ok(Self {
            provider_pid,
            consumer_pid,
            agreement,
        })
    }
}

pid_message!(
    /// The consumer's confirmation that it accepts the agreement it received.
    ContractAgreementVerificationMessage,
    "ContractAgreementVerificationMessage"
);

/// The two negotiation events: the consumer accepting an offer, the provider finalizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NegotiationEvent {
    Accepted,
    Finalized,
}

impl NegotiationEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NegotiationEvent::Accepted => "ACCEPTED",
            NegotiationEvent::Finalized => "FINALIZED",
        }
    }
}

/// A negotiation event notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractNegotiationEventMessage {
    pub provider_pid: String,
    pub consumer_pid: String,
    pub event_type: NegotiationEvent,
}

impl ContractNegotiationEventMessage {
    /// The state-machine input this event stands for.
    pub fn kind(&self) -> NegotiationMessageKind {
        match self.event_type {
            NegotiationEvent::Accepted => NegotiationMessageKind::AcceptedEvent,
            NegotiationEvent::Finalized => NegotiationMessageKind::FinalizedEvent,
        }
    }
}

impl DspMessage for ContractNegotiationEventMessage {
    const TYPE: &'static str = "ContractNegotiationEventMessage";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        put_pids(&mut m, &self.provider_pid, &self.consumer_pid);
        m.insert(
            "eventType".into(),
            Value::String(self.event_type.as_str().into()),
        );
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        let (provider_pid, consumer_pid) = pids(m)?;
        let raw = required_str(m, "eventType")?;
        let event_type = match raw.strip_prefix("dspace:").unwrap_or(&raw) {
            "ACCEPTED" => NegotiationEvent::Accepted,
            "FINALIZED" => NegotiationEvent::Finalized,
            _ => {
                return Err(MessageError::invalid(
                    "eventType",
                    format!("expected ACCEPTED or FINALIZED, found \"{raw}\""),
                ))
            }
        };
        Ok(Self {
            provider_pid,
            consumer_pid,
            event_type,
        })
    }
}

coded_message!(
    /// Ends a negotiation; `code` and `reason` tell the partner why.
    ContractNegotiationTerminationMessage,
    "ContractNegotiationTerminationMessage"
);

coded_message!(
    /// The error body of a refused negotiation message; it changes no state.
    ContractNegotiationError,
    "ContractNegotiationError"
);

/// The negotiation ACK: both process ids and the state the sender now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractNegotiation {
    pub provider_pid: String,
    pub consumer_pid: String,
    pub state: NegotiationState,
}

impl DspMessage for ContractNegotiation {
    const TYPE: &'static str = "ContractNegotiation";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        put_pids(&mut m, &self.provider_pid, &self.consumer_pid);
        m.insert("state".into(), Value::String(self.state.as_str().into()));
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        let (provider_pid, consumer_pid) = pids(m)?;
        let state = required_str(m, "state")?.parse().map_err(
            |e: super::state::UnknownNegotiationState| {
                MessageError::invalid("state", e.to_string())
            },
        )?;
        Ok(Self {
            provider_pid,
            consumer_pid,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::DSP_CONTEXT;
    use crate::official_schemas::{assert_schema_valid, example};
    use serde_json::json;

    /// Parses an official example, checks our output reproduces it exactly and passes the official schema.
    fn round_trip<T: DspMessage + std::fmt::Debug + PartialEq>(
        example_file: &str,
        schema: &str,
    ) -> Option<T> {
        let ex = example(&format!("negotiation/example/{example_file}"))?;
        let msg = T::from_json(&ex).unwrap_or_else(|e| panic!("{example_file}: {e}"));
        assert_eq!(
            msg.to_json(),
            ex,
            "{example_file}: output differs from the official example"
        );
        assert_schema_valid(&format!("negotiation/{schema}"), &msg.to_json());
        assert_eq!(T::from_json(&msg.to_json()).as_ref(), Ok(&msg));
        Some(msg)
    }

    #[test]
    fn contract_request_initial_example() {
        let Some(msg) = round_trip::<ContractRequestMessage>(
            "contract-request-message_initial.json",
            "contract-request-message-schema.json",
        ) else {
            return;
        };
        assert_eq!(
            msg.kind,
            ContractRequestKind::Initial {
                callback_address: "https://example.com/callback".into()
            }
        );
        assert_eq!(
            msg.offer_id(),
            Some("urn:uuid:2828282:3dd1add8-4d2d-569e-d634-8394a8836a89")
        );
        assert_eq!(
            msg.offer_target(),
            Some("urn:uuid:3dd1add8-4d2d-569e-d634-8394a8836a88")
        );
    }

    #[test]
    fn contract_request_counter_example() {
        let Some(msg) = round_trip::<ContractRequestMessage>(
            "contract-request-message.json",
            "contract-request-message-schema.json",
        ) else {
            return;
        };
        assert_eq!(
            msg.kind,
            ContractRequestKind::Counter {
                provider_pid: "urn:uuid:a343fcbf-99fc-4ce8-8e9b-148c97605aab".into()
            }
        );
    }

    fn offer() -> Value {
        json!({"@type": "Offer", "@id": "urn:offer:1", "target": "urn:dataset:1", "permission": [{"action": "use"}]})
    }

    #[test]
    fn contract_request_needs_exactly_one_of_callback_and_provider_pid() {
        let both = json!({"@context": [DSP_CONTEXT], "@type": "ContractRequestMessage", "consumerPid": "c",
            "providerPid": "p", "callbackAddress": "https://x", "offer": offer()});
        assert_eq!(
            ContractRequestMessage::from_json(&both)
                .unwrap_err()
                .to_string(),
            "callbackAddress: must not be sent together with providerPid"
        );
        let neither = json!({"@context": [DSP_CONTEXT], "@type": "ContractRequestMessage", "consumerPid": "c",
            "offer": offer()});
        assert_eq!(
            ContractRequestMessage::from_json(&neither)
                .unwrap_err()
                .to_string(),
            "callbackAddress or providerPid: missing"
        );
    }

    #[test]
    fn contract_request_offer_is_checked() {
        let mut no_id = offer();
        no_id.as_object_mut().expect("object").remove("@id");
        let msg = json!({"@context": [DSP_CONTEXT], "@type": "ContractRequestMessage", "consumerPid": "c",
            "callbackAddress": "https://x", "offer": no_id});
        assert_eq!(
            ContractRequestMessage::from_json(&msg)
                .unwrap_err()
                .to_string(),
            "offer.@id: missing"
        );
        let wrong_type = json!({"@context": [DSP_CONTEXT], "@type": "ContractRequestMessage", "consumerPid": "c",
            "callbackAddress": "https://x", "offer": {"@type": "Agreement", "@id": "x"}});
        assert!(ContractRequestMessage::from_json(&wrong_type)
            .unwrap_err()
            .to_string()
            .starts_with("offer.@type:"));
        let odrl_prefixed = json!({"@context": [DSP_CONTEXT], "@type": "ContractRequestMessage", "consumerPid": "c",
            "callbackAddress": "https://x", "offer": {"@type": "odrl:Offer", "@id": "x"}});
        assert!(ContractRequestMessage::from_json(&odrl_prefixed).is_ok());
    }

    #[test]
    fn contract_offer_examples() {
        if let Some(msg) = round_trip::<ContractOfferMessage>(
            "contract-offer-message_initial.json",
            "contract-offer-message-schema.json",
        ) {
            assert_eq!(
                msg.kind,
                ContractOfferKind::Initial {
                    callback_address: "https://example.com/callback".into()
                }
            );
        }
        if let Some(msg) = round_trip::<ContractOfferMessage>(
            "contract-offer-message.json",
            "contract-offer-message-schema.json",
        ) {
            assert_eq!(
                msg.kind,
                ContractOfferKind::Counter {
                    consumer_pid: "urn:uuid:32541fe6-c580-409e-85a8-8a9a32fbe833".into()
                }
            );
            assert_eq!(
                msg.offer_id(),
                Some("urn:uuid:6bcea82e-c509-443d-ba8c-8eef25984c07")
            );
        }
    }

    #[test]
    fn contract_offer_requires_target_and_exactly_one_route() {
        let mut no_target = offer();
        no_target.as_object_mut().expect("object").remove("target");
        let msg = json!({"@context": [DSP_CONTEXT], "@type": "ContractOfferMessage", "providerPid": "p",
            "consumerPid": "c", "offer": no_target});
        assert_eq!(
            ContractOfferMessage::from_json(&msg)
                .unwrap_err()
                .to_string(),
            "offer.target: missing"
        );
        let both = json!({"@context": [DSP_CONTEXT], "@type": "ContractOfferMessage", "providerPid": "p",
            "consumerPid": "c", "callbackAddress": "https://x", "offer": offer()});
        assert!(ContractOfferMessage::from_json(&both).is_err());
    }

    #[test]
    fn contract_agreement_examples() {
        for file in [
            "contract-agreement-message.json",
            "contract-agreement-message-full.json",
        ] {
            if let Some(msg) = round_trip::<ContractAgreementMessage>(
                file,
                "contract-agreement-message-schema.json",
            ) {
                assert_eq!(
                    msg.agreement.id,
                    "urn:uuid:e8dc8655-44c2-46ef-b701-4cffdc2faa44"
                );
                assert_eq!(msg.agreement.assigner, "http://example.com/Provider");
            }
        }
    }

    #[test]
    fn contract_agreement_requires_agreement() {
        let msg = json!({"@context": [DSP_CONTEXT], "@type": "ContractAgreementMessage", "providerPid": "p",
            "consumerPid": "c"});
        assert_eq!(
            ContractAgreementMessage::from_json(&msg)
                .unwrap_err()
                .to_string(),
            "agreement: missing"
        );
    }

    #[test]
    fn verification_example() {
        round_trip::<ContractAgreementVerificationMessage>(
            "contract-agreement-verification-message.json",
            "contract-agreement-verification-message-schema.json",
        );
        let no_consumer = json!({"@context": [DSP_CONTEXT], "@type": "ContractAgreementVerificationMessage",
            "providerPid": "p"});
        assert_eq!(
            ContractAgreementVerificationMessage::from_json(&no_consumer)
                .unwrap_err()
                .to_string(),
            "consumerPid: missing"
        );
    }

    #[test]
    fn event_example_and_both_event_types() {
        if let Some(msg) = round_trip::<ContractNegotiationEventMessage>(
            "contract-negotiation-event-message.json",
            "contract-negotiation-event-message-schema.json",
        ) {
            assert_eq!(msg.kind(), NegotiationMessageKind::AcceptedEvent);
        }
        let finalized = ContractNegotiationEventMessage {
            provider_pid: "p".into(),
            consumer_pid: "c".into(),
            event_type: NegotiationEvent::Finalized,
        };
        assert_eq!(finalized.kind(), NegotiationMessageKind::FinalizedEvent);
        assert_schema_valid(
            "negotiation/contract-negotiation-event-message-schema.json",
            &finalized.to_json(),
        );
        let legacy = json!({"@context": DSP_CONTEXT, "@type": "ContractNegotiationEventMessage", "providerPid": "p",
            "consumerPid": "c", "eventType": "dspace:FINALIZED"});
        assert_eq!(
            ContractNegotiationEventMessage::from_json(&legacy),
            Ok(finalized)
        );
        let bad = json!({"@context": DSP_CONTEXT, "@type": "ContractNegotiationEventMessage", "providerPid": "p",
            "consumerPid": "c", "eventType": "AGREED"});
        assert_eq!(
            ContractNegotiationEventMessage::from_json(&bad)
                .unwrap_err()
                .to_string(),
            "eventType: expected ACCEPTED or FINALIZED, found \"AGREED\""
        );
    }

    #[test]
    fn termination_example_and_minimal_form() {
        if let Some(msg) = round_trip::<ContractNegotiationTerminationMessage>(
            "contract-negotiation-termination-message.json",
            "contract-negotiation-termination-message-schema.json",
        ) {
            assert_eq!(msg.code.as_deref(), Some("99"));
            assert_eq!(msg.reason, vec!["License model does not fit.".to_owned()]);
        }
        let bare = ContractNegotiationTerminationMessage {
            provider_pid: "p".into(),
            consumer_pid: "c".into(),
            code: None,
            reason: vec![],
        };
        // An empty reason array would violate minItems: 1, so it is omitted.
        assert!(bare.to_json().get("reason").is_none());
        assert_schema_valid(
            "negotiation/contract-negotiation-termination-message-schema.json",
            &bare.to_json(),
        );
    }

    #[test]
    fn negotiation_ack_example_and_every_state() {
        round_trip::<ContractNegotiation>(
            "contract-negotiation.json",
            "contract-negotiation-schema.json",
        );
        for state in NegotiationState::ALL {
            let ack = ContractNegotiation {
                provider_pid: "p".into(),
                consumer_pid: "c".into(),
                state,
            };
            assert_schema_valid(
                "negotiation/contract-negotiation-schema.json",
                &ack.to_json(),
            );
            assert_eq!(ContractNegotiation::from_json(&ack.to_json()), Ok(ack));
        }
        let bad = json!({"@context": DSP_CONTEXT, "@type": "ContractNegotiation", "providerPid": "p",
            "consumerPid": "c", "state": "PENDING"});
        assert_eq!(
            ContractNegotiation::from_json(&bad)
                .unwrap_err()
                .to_string(),
            "state: unknown negotiation state \"PENDING\""
        );
    }

    #[test]
    fn negotiation_error_example() {
        if let Some(msg) = round_trip::<ContractNegotiationError>(
            "contract-negotiation-error.json",
            "contract-negotiation-error-schema.json",
        ) {
            assert_eq!(
                msg.reason,
                vec!["Catalog not provisioned for this requester.".to_owned()]
            );
        }
    }
}
