//! Catalog protocol messages (DSP 2025-1 §5) and the version metadata response (§4.3): what a consumer sends to
//! browse a provider's catalog and what the provider answers when it cannot.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dsp::DSP_VERSION;
use crate::message::{
    envelope, open_envelope, optional_array, optional_str, put_array, put_opt_str, put_strings,
    reason_strings, required_str, DspMessage, MessageError,
};

/// A request for the whole catalog; `filter` is implementation-specific and passed through untouched.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogRequestMessage {
    pub filter: Vec<Value>,
}

impl DspMessage for CatalogRequestMessage {
    const TYPE: &'static str = "CatalogRequestMessage";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        put_array(&mut m, "filter", self.filter.clone());
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        Ok(Self {
            filter: optional_array(m, "filter")?,
        })
    }
}

/// A request for a single dataset by its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRequestMessage {
    pub dataset: String,
}

impl DspMessage for DatasetRequestMessage {
    const TYPE: &'static str = "DatasetRequestMessage";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        m.insert("dataset".into(), Value::String(self.dataset.clone()));
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        Ok(Self {
            dataset: required_str(m, "dataset")?,
        })
    }
}

/// The body of a failed catalog request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogError {
    pub code: Option<String>,
    pub reason: Vec<String>,
}

impl DspMessage for CatalogError {
    const TYPE: &'static str = "CatalogError";

    fn to_json(&self) -> Value {
        let mut m = envelope(Self::TYPE);
        put_opt_str(&mut m, "code", &self.code);
        put_strings(&mut m, "reason", &self.reason);
        Value::Object(m)
    }

    fn from_json(v: &Value) -> Result<Self, MessageError> {
        let m = open_envelope(v, Self::TYPE)?;
        Ok(Self {
            code: optional_str(m, "code")?,
            reason: reason_strings(m, "reason")?,
        })
    }
}

/// One protocol version a connector serves, as listed in `/.well-known/dspace-version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolVersion {
    pub version: String,
    pub path: String,
    /// Always `"HTTPS"` in 2025-1, the only binding the schema allows.
    pub binding: String,
    /// How participants are identified on this entry (`did:web` with DCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_type: Option<String>,
    /// How callers authenticate on this entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<VersionAuth>,
}

/// The authentication protocol a version entry expects (DSP 2025-1 `Auth`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionAuth {
    pub protocol: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
}

impl ProtocolVersion {
    /// The 2025-1 HTTPS entry served under `path`.
    pub fn dsp_2025_1(path: impl Into<String>) -> Self {
        Self {
            version: DSP_VERSION.into(),
            path: path.into(),
            binding: "HTTPS".into(),
            identifier_type: None,
            auth: None,
        }
    }
}

/// The version metadata document; unlike messages it carries no `@context` in 2025-1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionResponse {
    pub protocol_versions: Vec<ProtocolVersion>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::official_schemas::{assert_schema_valid, example};
    use serde_json::json;

    #[test]
    fn catalog_request_example_parses_and_round_trips_valid() {
        let Some(ex) = example("catalog/example/catalog-request-message.json") else {
            return;
        };
        let msg = CatalogRequestMessage::from_json(&ex).expect("official example parses");
        assert!(msg.filter.is_empty());
        // The official example carries an empty filter array; our compact form drops it.
        assert_eq!(
            msg.to_json(),
            json!({"@context": [crate::dsp::DSP_CONTEXT], "@type": "CatalogRequestMessage"})
        );
        assert_schema_valid(
            "catalog/catalog-request-message-schema.json",
            &msg.to_json(),
        );
        let with_filter = CatalogRequestMessage {
            filter: vec![json!({"keyword": "traffic"})],
        };
        assert_schema_valid(
            "catalog/catalog-request-message-schema.json",
            &with_filter.to_json(),
        );
        assert_eq!(
            CatalogRequestMessage::from_json(&with_filter.to_json()),
            Ok(with_filter)
        );
    }

    #[test]
    fn catalog_request_rejects_non_array_filter() {
        let v = json!({"@context": [crate::dsp::DSP_CONTEXT], "@type": "CatalogRequestMessage", "filter": {}});
        assert_eq!(
            CatalogRequestMessage::from_json(&v)
                .unwrap_err()
                .to_string(),
            "filter: expected an array"
        );
    }

    #[test]
    fn dataset_request_example_parses_and_round_trips_valid() {
        let Some(ex) = example("catalog/example/dataset-request-message.json") else {
            return;
        };
        let msg = DatasetRequestMessage::from_json(&ex).expect("official example parses");
        assert_eq!(msg.dataset, "urn:uuid:3afeadd8-ed2d-569e-d634-8394a8836d57");
        assert_eq!(msg.to_json(), ex);
        assert_schema_valid(
            "catalog/dataset-request-message-schema.json",
            &msg.to_json(),
        );
    }

    #[test]
    fn dataset_request_requires_dataset_and_ignores_unknown_members() {
        let missing =
            json!({"@context": crate::dsp::DSP_CONTEXT, "@type": "DatasetRequestMessage"});
        assert_eq!(
            DatasetRequestMessage::from_json(&missing)
                .unwrap_err()
                .to_string(),
            "dataset: missing"
        );
        let extra = json!({"@context": crate::dsp::DSP_CONTEXT, "@id": "urn:x", "@type": "dspace:DatasetRequestMessage",
            "dataset": "urn:d", "foo": 1});
        assert_eq!(
            DatasetRequestMessage::from_json(&extra).map(|m| m.dataset),
            Ok("urn:d".to_owned())
        );
    }

    #[test]
    fn catalog_error_example_parses_and_round_trips_valid() {
        let Some(ex) = example("catalog/example/catalog-error.json") else {
            return;
        };
        let msg = CatalogError::from_json(&ex).expect("official example parses");
        assert_eq!(msg.code.as_deref(), Some("123-A"));
        assert_eq!(
            msg.reason,
            vec!["Catalog not provisioned for this requester.".to_owned()]
        );
        assert_eq!(msg.to_json(), ex);
        assert_schema_valid("catalog/catalog-error-schema.json", &msg.to_json());
        let bare = CatalogError::default().to_json();
        assert_eq!(
            bare,
            json!({"@context": [crate::dsp::DSP_CONTEXT], "@type": "CatalogError"})
        );
        assert_schema_valid("catalog/catalog-error-schema.json", &bare);
    }

    #[test]
    fn version_response_serializes_to_schema_valid_json() {
        let resp = VersionResponse {
            protocol_versions: vec![ProtocolVersion::dsp_2025_1("/dsp")],
        };
        let v = serde_json::to_value(&resp).expect("plain structs serialize");
        assert_eq!(
            v,
            json!({"protocolVersions": [{"version": "2025-1", "path": "/dsp", "binding": "HTTPS"}]})
        );
        assert_schema_valid("common/protocol-version-schema.json", &v);
    }

    #[test]
    fn version_response_reads_official_example() {
        let Some(ex) = example("common/example/protocol-version.json") else {
            return;
        };
        let resp: VersionResponse = serde_json::from_value(ex).expect("official example parses");
        assert_eq!(resp.protocol_versions.len(), 3);
        assert_eq!(resp.protocol_versions[0].path, "/some/path/2025-1");
    }
}
