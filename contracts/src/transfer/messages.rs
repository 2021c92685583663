//! The transfer process messages of DSP 2025-1 §7.2 as typed values.

use serde_json::Value;

use crate::message::{
    coded_message, envelope, open_envelope, pid_message, pids, put_pids, required_str, DspMessage,
    MessageError,
};

use super::data_address::DataAddress;
use super::state::{TransferState, UnknownTransferState};

/// A consumer's request to transfer the dataset of agreement `agreement_id` in `format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequestMessage {
    pub consumer_pid: String,
    pub agreement_id: String,
    /// A `Distribution.format` of the agreed dataset, e.g. `HttpData-PULL`.
    pub format: String,
    pub callback_address: String,
    /// Only for push transfers: where the provider should deliver.
    pub data_address: Option<DataAddress>,
}

impl DspMessage for TransferRequestMessage {
    const TYPE: &'static str = "TransferRequestMessage";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        m.insert(
            "consumerPid".into(),
            Value::String(self.consumer_pid.clone()),
        );
        m.insert(
            "agreementId".into(),
            Value::String(self.agreement_id.clone()),
        );
        m.insert("format".into(), Value::String(self.format.clone()));
        if let Some(address) = &self.data_address {
            m.insert("dataAddress".into(), address.to_json());
        }
        m.insert(
            "callbackAddress".into(),
            Value::String(self.callback_address.clone()),
        );
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        Ok(Self {
            consumer_pid: required_str(m, "consumerPid")?,
            agreement_id: required_str(m, "agreementId")?,
            format: required_str(m, "format")?,
            callback_address: required_str(m, "callbackAddress")?,
            data_address: data_address(m)?,
        })
    }
}

fn data_address(m: &serde_json::Map<String, Value>) -> Result<Option<DataAddress>, MessageError> {
    match m.get("dataAddress") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => DataAddress::from_json(v).map(Some),
    }
}

/// Starts (or resumes) a transfer; for pull transfers the provider includes the data address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferStartMessage {
    pub provider_pid: String,
    pub consumer_pid: String,
    pub data_address: Option<DataAddress>,
}

impl DspMessage for TransferStartMessage {
    const TYPE: &'static str = "TransferStartMessage";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        put_pids(&mut m, &self.provider_pid, &self.consumer_pid);
        if let Some(address) = &self.data_address {
            m.insert("dataAddress".into(), address.to_json());
        }
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        let (provider_pid, consumer_pid) = pids(m)?;
        Ok(Self {
            provider_pid,
            consumer_pid,
            data_address: data_address(m)?,
        })
    }
}

coded_message!(
    /// Pauses a started transfer; `code` and `reason` say why.
    TransferSuspensionMessage,
    "TransferSuspensionMessage"
);

pid_message!(
    /// Signals that all data has been transferred.
    TransferCompletionMessage,
    "TransferCompletionMessage"
);

coded_message!(
    /// Ends a transfer for good; `code` and `reason` say why.
    TransferTerminationMessage,
    "TransferTerminationMessage"
);

coded_message!(
    /// The error body of a refused transfer message; it changes no state.
    TransferError,
    "TransferError"
);

/// The transfer ACK: both process ids and the state the sender now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferProcess {
    pub provider_pid: String,
    pub consumer_pid: String,
    pub state: TransferState,
}

impl DspMessage for TransferProcess {
    const TYPE: &'static str = "TransferProcess";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        put_pids(&mut m, &self.provider_pid, &self.consumer_pid);
        m.insert("state".into(), Value::String(self.state.as_str().into()));
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        let (provider_pid, consumer_pid) = pids(m)?;
        let state = required_str(m, "state")?
            .parse()
            .map_err(|e: UnknownTransferState| MessageError::invalid("state", e.to_string()))?;
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
    use crate::transfer::HTTP_ENDPOINT_TYPE;
    use serde_json::json;

    /// Parses an official example, checks our output reproduces it exactly and passes the official schema.
    fn round_trip<T: DspMessage + std::fmt::Debug + PartialEq>(
        example_file: &str,
        schema: &str,
    ) -> Option<T> {
        let ex = example(&format!("transfer/example/{example_file}"))?;
        let msg = T::from_json(&ex).unwrap_or_else(|e| panic!("{example_file}: {e}"));
        assert_eq!(
            msg.to_json(),
            ex,
            "{example_file}: output differs from the official example"
        );
        assert_schema_valid(&format!("transfer/{schema}"), &msg.to_json());
        assert_eq!(T::from_json(&msg.to_json()).as_ref(), Ok(&msg));
        Some(msg)
    }

    #[test]
    fn request_example_with_push_address() {
        let Some(msg) = round_trip::<TransferRequestMessage>(
            "transfer-request-message.json",
            "transfer-request-message-schema.json",
        ) else {
            return;
        };
        assert_eq!(msg.format, "example:HTTP_PUSH");
        let address = msg
            .data_address
            .as_ref()
            .expect("push request carries an address");
        assert_eq!(address.endpoint_type, HTTP_ENDPOINT_TYPE);
        assert_eq!(address.property("authorization"), Some("TOKEN-ABCDEFG"));
    }

    #[test]
    fn pull_request_without_address_is_valid() {
        let msg = TransferRequestMessage {
            consumer_pid: "urn:uuid:c".into(),
            agreement_id: "urn:uuid:a".into(),
            format: "HttpData-PULL".into(),
            callback_address: "https://city-b.example/dsp".into(),
            data_address: None,
        };
        assert_schema_valid(
            "transfer/transfer-request-message-schema.json",
            &msg.to_json(),
        );
        assert_eq!(TransferRequestMessage::from_json(&msg.to_json()), Ok(msg));
    }

    #[test]
    fn request_requires_its_members() {
        let full = json!({"@context": [DSP_CONTEXT], "@type": "TransferRequestMessage", "consumerPid": "c",
            "agreementId": "a", "format": "f", "callbackAddress": "https://x"});
        for name in ["consumerPid", "agreementId", "format", "callbackAddress"] {
            let mut v = full.clone();
            v.as_object_mut().expect("object").remove(name);
            assert_eq!(
                TransferRequestMessage::from_json(&v)
                    .unwrap_err()
                    .to_string(),
                format!("{name}: missing")
            );
        }
    }

    #[test]
    fn start_example_and_resume_without_address() {
        if let Some(msg) = round_trip::<TransferStartMessage>(
            "transfer-start-message.json",
            "transfer-start-message-schema.json",
        ) {
            assert!(msg.data_address.is_some());
        }
        let resume = TransferStartMessage {
            provider_pid: "p".into(),
            consumer_pid: "c".into(),
            data_address: None,
        };
        assert_schema_valid(
            "transfer/transfer-start-message-schema.json",
            &resume.to_json(),
        );
    }

    #[test]
    fn suspension_example() {
        if let Some(msg) = round_trip::<TransferSuspensionMessage>(
            "transfer-suspension-message.json",
            "transfer-suspension-message-schema.json",
        ) {
            assert_eq!(msg.reason, vec!["Policy violation".to_owned()]);
        }
    }

    #[test]
    fn completion_example() {
        round_trip::<TransferCompletionMessage>(
            "transfer-completion-message.json",
            "transfer-completion-message-schema.json",
        );
    }

    #[test]
    fn termination_example_and_minimal_form() {
        round_trip::<TransferTerminationMessage>(
            "transfer-termination-message.json",
            "transfer-termination-message-schema.json",
        );
        let bare = TransferTerminationMessage {
            provider_pid: "p".into(),
            consumer_pid: "c".into(),
            code: None,
            reason: vec![],
        };
        assert_schema_valid(
            "transfer/transfer-termination-message-schema.json",
            &bare.to_json(),
        );
    }

    #[test]
    fn transfer_process_example_and_every_state() {
        round_trip::<TransferProcess>("transfer-process.json", "transfer-process-schema.json");
        for state in TransferState::ALL {
            let ack = TransferProcess {
                provider_pid: "p".into(),
                consumer_pid: "c".into(),
                state,
            };
            assert_schema_valid("transfer/transfer-process-schema.json", &ack.to_json());
            assert_eq!(TransferProcess::from_json(&ack.to_json()), Ok(ack));
        }
    }

    #[test]
    fn transfer_error_example() {
        if let Some(msg) =
            round_trip::<TransferError>("transfer-error.json", "transfer-error-schema.json")
        {
            assert_eq!(msg.code.as_deref(), Some("99"));
        }
    }

    #[test]
    fn wrong_message_type_is_refused() {
        let v = json!({"@context": [DSP_CONTEXT], "@type": "TransferStartMessage", "providerPid": "p", "consumerPid": "c"});
        assert_eq!(
            TransferCompletionMessage::from_json(&v)
                .unwrap_err()
                .to_string(),
            "@type: expected \"TransferCompletionMessage\", found \"TransferStartMessage\""
        );
    }
}
