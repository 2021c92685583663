//! Shared plumbing for every DSP message: the [`DspMessage`] trait, the error a malformed message produces, and
//! the envelope checks (`@context`, `@type`) and field readers the concrete message types build on.
//!
//! Parsing is deliberately lenient where the protocol allows variation between peers (context as string or
//! array, `dspace:`-prefixed types, unknown extra properties) and strict where a wrong value would change
//! meaning (missing or mistyped required fields).

use serde_json::{Map, Value};

use crate::dsp::DSP_CONTEXT;

/// A DSP message with one fixed `@type` that converts to and from its compact 2025-1 JSON form.
pub trait DspMessage: Sized {
    /// The bare `@type` value, e.g. `"CatalogRequestMessage"`.
    const TYPE: &'static str;

    /// The compact 2025-1 form: `"@context": [DSP_CONTEXT]`, bare `@type`, no empty arrays, no nulls.
    fn to_json(&self) -> Value;

    /// Parses a received message; the error names the offending field.
    fn from_json(v: &Value) -> Result<Self, MessageError>;
}

/// Why a received JSON document is not the expected DSP message.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    #[error("message: expected a json object")]
    NotAnObject,
    #[error("@context: missing")]
    MissingContext,
    #[error("@context: must be or contain \"{DSP_CONTEXT}\"")]
    WrongContext,
    #[error("@type: expected \"{expected}\", found {found}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("{0}: missing")]
    MissingField(String),
    #[error("{field}: expected {expected}")]
    WrongKind {
        field: String,
        expected: &'static str,
    },
    #[error("{field}: {reason}")]
    InvalidValue { field: String, reason: String },
}

impl MessageError {
    pub(crate) fn wrong_kind(field: &str, expected: &'static str) -> Self {
        MessageError::WrongKind {
            field: field.to_owned(),
            expected,
        }
    }

    /// Prefixes the field name of an error from a nested object, so it reads `offer.@id: missing`.
    pub(crate) fn within(self, parent: &str) -> Self {
        match self {
            MessageError::MissingField(f) => MessageError::MissingField(format!("{parent}.{f}")),
            MessageError::WrongKind { field, expected } => MessageError::WrongKind {
                field: format!("{parent}.{field}"),
                expected,
            },
            MessageError::InvalidValue { field, reason } => MessageError::InvalidValue {
                field: format!("{parent}.{field}"),
                reason,
            },
            other => other,
        }
    }

    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        MessageError::InvalidValue {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Starts the JSON form of a message: `@context` and `@type`, in the order the official examples use.
pub(crate) fn envelope(type_name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "@context".into(),
        Value::Array(vec![Value::String(DSP_CONTEXT.into())]),
    );
    m.insert("@type".into(), Value::String(type_name.into()));
    m
}

/// Checks `@context` and `@type` of a received message and hands back its members.
pub(crate) fn open_envelope<'a>(
    v: &'a Value,
    type_name: &'static str,
) -> Result<&'a Map<String, Value>, MessageError> {
    let m = v.as_object().ok_or(MessageError::NotAnObject)?;
    no_nul(v, "message")?;
    check_context(m)?;
    check_type(m, "@type", type_name)?;
    Ok(m)
}

/// Checks the `@context` of a message object; DSP 2025-1 allows a single string or an array containing it.
pub(crate) fn check_context(m: &Map<String, Value>) -> Result<(), MessageError> {
    match m.get("@context") {
        None | Some(Value::Null) => Err(MessageError::MissingContext),
        Some(Value::String(s)) if s == DSP_CONTEXT => Ok(()),
        Some(Value::Array(items)) if items.iter().any(|i| i.as_str() == Some(DSP_CONTEXT)) => {
            Ok(())
        }
        Some(_) => Err(MessageError::WrongContext),
    }
}

/// Checks a `@type` member (top-level or nested), accepting the `dspace:` compact IRI and the expanded IRI too.
pub(crate) fn check_type(
    m: &Map<String, Value>,
    field: &str,
    type_name: &'static str,
) -> Result<(), MessageError> {
    let found = match m.get("@type") {
        None | Some(Value::Null) => return Err(MessageError::MissingField(field.to_owned())),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(MessageError::wrong_kind(field, "a string")),
    };
    if is_type(found, type_name) {
        Ok(())
    } else {
        Err(MessageError::WrongType {
            expected: type_name,
            found: format!("\"{found}\""),
        })
    }
}

/// True when `found` names `type_name` bare, as `dspace:` compact IRI or as full IRI in the dspace namespace.
pub(crate) fn is_type(found: &str, type_name: &str) -> bool {
    found == type_name
        || found.strip_prefix("dspace:") == Some(type_name)
        || found.strip_prefix(crate::dsp::DSPACE_NS) == Some(type_name)
}

/// A required string member.
pub(crate) fn required_str(m: &Map<String, Value>, field: &str) -> Result<String, MessageError> {
    optional_str(m, field)?.ok_or_else(|| MessageError::MissingField(field.to_owned()))
}

/// An optional string member; an explicit `null` counts as absent because some peers emit it.
///
/// Every string a message is read for passes through here, so every one is checked: identifiers against the id
/// rule ([`crate::ids`]), addresses as URLs, anything else as bounded text.
pub(crate) fn optional_str(
    m: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, MessageError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            check_member(field, s)?;
            Ok(Some(s.clone()))
        }
        Some(_) => Err(MessageError::wrong_kind(field, "a string")),
    }
}

/// The members that name something (a process, an agreement, a dataset, an offer, a party) and so obey the id rule.
const ID_MEMBERS: &[&str] = &[
    "providerPid",
    "consumerPid",
    "agreementId",
    "dataset",
    "@id",
    "target",
    "assigner",
    "assignee",
];

/// The members that are addresses this connector will call.
const URL_MEMBERS: &[&str] = &["callbackAddress"];

fn check_member(field: &str, value: &str) -> Result<(), MessageError> {
    let checked = if ID_MEMBERS.contains(&field) {
        crate::ids::check_id(value)
    } else if URL_MEMBERS.contains(&field) {
        crate::ids::check_url(value)
    } else {
        crate::ids::check_text(value, crate::ids::MAX_TEXT_BYTES)
    };
    checked.map_err(|e| MessageError::invalid(field, e.to_string()))
}

/// The most `reason` entries kept from a message; a partner explains a refusal in a few sentences, not thousands.
const MAX_REASONS: usize = 32;

/// Refuses a NUL anywhere in a message, in keys and nested values alike: no store can hold it as text
/// (PostgreSQL refuses it), and nothing legitimate needs it.
fn no_nul(v: &Value, path: &str) -> Result<(), MessageError> {
    match v {
        Value::String(s) if s.contains('\0') => {
            Err(MessageError::invalid(path, "contains a NUL character"))
        }
        Value::Array(items) => items.iter().try_for_each(|i| no_nul(i, path)),
        Value::Object(m) => m.iter().try_for_each(|(k, i)| {
            if k.contains('\0') {
                return Err(MessageError::invalid(
                    path,
                    "a member name contains a NUL character",
                ));
            }
            no_nul(i, k)
        }),
        _ => Ok(()),
    }
}

/// An optional array member, absent meaning empty.
pub(crate) fn optional_array(
    m: &Map<String, Value>,
    field: &str,
) -> Result<Vec<Value>, MessageError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(_) => Err(MessageError::wrong_kind(field, "an array")),
    }
}

/// A `reason` array. The schemas leave items free-form: plain strings are kept, JSON-LD `{"@value": ..}` literals
/// are unwrapped, and anything else is kept as its JSON text, because a termination must never be refused over
/// how its explanation is spelled. For the same reason an overlong or oddly written explanation is made safe
/// rather than refused: at most [`MAX_REASONS`] entries are kept, each cut to [`crate::ids::MAX_TEXT_BYTES`], with
/// control and bidirectional characters replaced.
pub(crate) fn reason_strings(
    m: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, MessageError> {
    let items = match m.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(one @ Value::String(_)) => std::slice::from_ref(one),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(MessageError::wrong_kind(field, "an array")),
    };
    Ok(items
        .iter()
        .take(MAX_REASONS)
        .map(|item| match item {
            Value::String(s) => s.clone(),
            Value::Object(o) => match o.get("@value") {
                Some(Value::String(s)) => s.clone(),
                _ => item.to_string(),
            },
            other => other.to_string(),
        })
        .map(|reason| crate::ids::sanitize_text(&reason, crate::ids::MAX_TEXT_BYTES))
        .collect())
}

/// Both process ids, which every message after the first carries.
pub(crate) fn pids(m: &Map<String, Value>) -> Result<(String, String), MessageError> {
    Ok((
        required_str(m, "providerPid")?,
        required_str(m, "consumerPid")?,
    ))
}

/// Adds both process ids.
pub(crate) fn put_pids(m: &mut Map<String, Value>, provider_pid: &str, consumer_pid: &str) {
    m.insert("providerPid".into(), Value::String(provider_pid.into()));
    m.insert("consumerPid".into(), Value::String(consumer_pid.into()));
}

/// Declares a message that carries only the two process ids.
macro_rules! pid_message {
    ($(#[$doc:meta])* $name:ident, $type_name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            pub provider_pid: String,
            pub consumer_pid: String,
        }

        impl $crate::message::DspMessage for $name {
            const TYPE: &'static str = $type_name;

            fn to_json(&self) -> serde_json::Value {
                let mut m = $crate::message::envelope(Self::TYPE);
                $crate::message::put_pids(&mut m, &self.provider_pid, &self.consumer_pid);
                serde_json::Value::Object(m)
            }

            fn from_json(v: &serde_json::Value) -> Result<Self, $crate::message::MessageError> {
                let m = $crate::message::open_envelope(v, Self::TYPE)?;
                let (provider_pid, consumer_pid) = $crate::message::pids(m)?;
                Ok(Self { provider_pid, consumer_pid })
            }
        }
    };
}

/// Declares a message that carries the two process ids plus an optional `code` and `reason` list
/// (terminations, suspensions and protocol errors all share this shape).
macro_rules! coded_message {
    ($(#[$doc:meta])* $name:ident, $type_name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            pub provider_pid: String,
            pub consumer_pid: String,
            pub code: Option<String>,
            pub reason: Vec<String>,
        }

        impl $crate::message::DspMessage for $name {
            const TYPE: &'static str = $type_name;

            fn to_json(&self) -> serde_json::Value {
                let mut m = $crate::message::envelope(Self::TYPE);
                $crate::message::put_pids(&mut m, &self.provider_pid, &self.consumer_pid);
                $crate::message::put_opt_str(&mut m, "code", &self.code);
                $crate::message::put_strings(&mut m, "reason", &self.reason);
                serde_json::Value::Object(m)
            }

            fn from_json(v: &serde_json::Value) -> Result<Self, $crate::message::MessageError> {
                let m = $crate::message::open_envelope(v, Self::TYPE)?;
                let (provider_pid, consumer_pid) = $crate::message::pids(m)?;
                Ok(Self {
                    provider_pid,
                    consumer_pid,
                    code: $crate::message::optional_str(m, "code")?,
                    reason: $crate::message::reason_strings(m, "reason")?,
                })
            }
        }
    };
}

pub(crate) use {coded_message, pid_message};

/// Adds a string member only when present, so the output carries no nulls.
pub(crate) fn put_opt_str(m: &mut Map<String, Value>, field: &str, v: &Option<String>) {
    if let Some(s) = v {
        m.insert(field.into(), Value::String(s.clone()));
    }
}

/// Adds an array member only when non-empty, matching the compact form the official examples use.
pub(crate) fn put_array(m: &mut Map<String, Value>, field: &str, items: Vec<Value>) {
    if !items.is_empty() {
        m.insert(field.into(), Value::Array(items));
    }
}

/// Adds a list of strings as an array member only when non-empty.
pub(crate) fn put_strings(m: &mut Map<String, Value>, field: &str, items: &[String]) {
    put_array(m, field, items.iter().cloned().map(Value::String).collect());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn context_accepts_string_and_array_forms() {
        let as_string = json!({"@context": DSP_CONTEXT, "@type": "X"});
        let as_array =
            json!({"@context": ["https://example.org/other", DSP_CONTEXT], "@type": "X"});
        assert!(open_envelope(&as_string, "X").is_ok());
        assert!(open_envelope(&as_array, "X").is_ok());
    }

    #[test]
    fn context_missing_or_foreign_is_rejected() {
        assert_eq!(
            open_envelope(&json!({"@type": "X"}), "X"),
            Err(MessageError::MissingContext)
        );
        let foreign =
            json!({"@context": ["https://w3id.org/dspace/2024/1/context.json"], "@type": "X"});
        assert_eq!(
            open_envelope(&foreign, "X"),
            Err(MessageError::WrongContext)
        );
    }

    #[test]
    fn type_accepts_prefixed_forms_and_rejects_others() {
        for t in ["X", "dspace:X", "https://w3id.org/dspace/2025/1/X"] {
            assert!(
                open_envelope(&json!({"@context": [DSP_CONTEXT], "@type": t}), "X").is_ok(),
                "{t}"
            );
        }
        let err =
            open_envelope(&json!({"@context": [DSP_CONTEXT], "@type": "Y"}), "X").unwrap_err();
        assert_eq!(err.to_string(), "@type: expected \"X\", found \"Y\"");
        let missing = open_envelope(&json!({"@context": [DSP_CONTEXT]}), "X").unwrap_err();
        assert_eq!(missing, MessageError::MissingField("@type".into()));
    }

    #[test]
    fn ids_in_messages_obey_the_id_rule() {
        let msg = |pid: &str| json!({"@context": [DSP_CONTEXT], "@type": "X", "providerPid": pid, "consumerPid": "c"});
        let read = |v: &Value| open_envelope(v, "X").and_then(pids);
        assert!(read(&msg("urn:uuid:1")).is_ok());
        for bad in [
            "",
            "a b",
            "rtl\u{202E}txt",
            &"p".repeat(crate::ids::MAX_ID_BYTES + 1),
        ] {
            let err = read(&msg(bad)).unwrap_err().to_string();
            assert!(err.starts_with("providerPid: "), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_nul_anywhere_refuses_the_message() {
        let nested = json!({"@context": [DSP_CONTEXT], "@type": "X", "offer": {"permission": [{"note": "a\u{0}b"}]}});
        assert!(open_envelope(&nested, "X")
            .unwrap_err()
            .to_string()
            .contains("NUL"));
        let key = json!({"@context": [DSP_CONTEXT], "@type": "X", "a\u{0}": 1});
        assert!(open_envelope(&key, "X")
            .unwrap_err()
            .to_string()
            .contains("NUL"));
    }

    #[test]
    fn callback_address_must_be_an_http_url() {
        let m = json!({"callbackAddress": "javascript:alert(1)"});
        let err = optional_str(m.as_object().unwrap(), "callbackAddress").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("callbackAddress: is not an absolute http(s) URL"),
            "{err}"
        );
    }

    #[test]
    fn reasons_are_bounded_and_made_safe_not_refused() {
        let many: Vec<Value> = (0..100).map(|i| json!(format!("r{i}\u{202E}"))).collect();
        let m = json!({ "reason": many });
        let reasons = reason_strings(m.as_object().unwrap(), "reason").unwrap();
        assert_eq!(reasons.len(), MAX_REASONS);
        assert_eq!(reasons[0], "r0\u{FFFD}");
    }

    #[test]
    fn non_object_is_rejected() {
        assert_eq!(
            open_envelope(&json!([1]), "X"),
            Err(MessageError::NotAnObject)
        );
    }

    #[test]
    fn reason_keeps_strings_unwraps_literals_and_stringifies_the_rest() {
        let m = json!({"reason": ["a", {"@value": "b", "@language": "en"}, 1, {"k": "v"}]});
        let m = m.as_object().expect("literal object");
        assert_eq!(
            reason_strings(m, "reason"),
            Ok(vec![
                "a".to_owned(),
                "b".to_owned(),
                "1".to_owned(),
                "{\"k\":\"v\"}".to_owned()
            ])
        );
        let bad = json!({"reason": 1});
        let bad = bad.as_object().expect("literal object");
        assert_eq!(
            reason_strings(bad, "reason").unwrap_err().to_string(),
            "reason: expected an array"
        );
    }
}
