//! Where data is fetched from (pull, in the provider's start message) or pushed to (push, in the consumer's
//! request): the DSP `DataAddress` with its endpoint properties such as the bearer token.

use serde_json::{Map, Value};

use crate::message::{optional_str, required_str, MessageError};

/// The `endpointType` of plain HTTP endpoints.
pub const HTTP_ENDPOINT_TYPE: &str = "https://w3id.org/idsa/v4.1/HTTP";

/// One named endpoint property, e.g. `authorization` or `authType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointProperty {
    pub name: String,
    pub value: String,
}

/// A data address.
#[derive(Clone, PartialEq, Eq)]
pub struct DataAddress {
    pub endpoint_type: String,
    pub endpoint: Option<String>,
    pub endpoint_properties: Vec<EndpointProperty>,
}

impl std::fmt::Debug for DataAddress {
    /// Property values are credentials (the `authorization` token), so only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .endpoint_properties
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        f.debug_struct("DataAddress")
            .field("endpoint_type", &self.endpoint_type)
            .field("endpoint", &self.endpoint)
            .field("endpoint_property_names", &names)
            .finish()
    }
}

impl DataAddress {
    /// The value of the first property called `name`.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.endpoint_properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }

    /// The JSON object; an empty property list is omitted (the schema wants at least one item).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("@type".into(), Value::String("DataAddress".into()));
        m.insert(
            "endpointType".into(),
            Value::String(self.endpoint_type.clone()),
        );
        if let Some(endpoint) = &self.endpoint {
            m.insert("endpoint".into(), Value::String(endpoint.clone()));
        }
        if !self.endpoint_properties.is_empty() {
            let props = self
                .endpoint_properties
                .iter()
                .map(|p| {
                    let mut pm = Map::new();
                    pm.insert("@type".into(), Value::String("EndpointProperty".into()));
                    pm.insert("name".into(), Value::String(p.name.clone()));
                    pm.insert("value".into(), Value::String(p.value.clone()));
                    Value::Object(pm)
                })
                .collect();
            m.insert("endpointProperties".into(), Value::Array(props));
        }
        Value::Object(m)
    }

    /// Parses a `dataAddress` member; error fields read `dataAddress.<member>`.
    pub fn from_json(v: &Value) -> Result<DataAddress, MessageError> {
        let m = v
            .as_object()
            .ok_or_else(|| MessageError::wrong_kind("dataAddress", "an object"))?;
        check_nested_type(m, "dataAddress", "DataAddress")?;
        let endpoint_type = required_str(m, "endpointType").map_err(|e| e.within("dataAddress"))?;
        let endpoint = optional_str(m, "endpoint").map_err(|e| e.within("dataAddress"))?;
        let items = match m.get("endpointProperties") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(_) => {
                return Err(MessageError::wrong_kind(
                    "dataAddress.endpointProperties",
                    "an array",
                ))
            }
        };
        let mut endpoint_properties = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = format!("dataAddress.endpointProperties[{i}]");
            let pm = item
                .as_object()
                .ok_or_else(|| MessageError::wrong_kind(&field, "an object"))?;
            // Some peers omit the property @type; it carries no information, so only a wrong one is refused.
            if pm.contains_key("@type") {
                check_nested_type(pm, &field, "EndpointProperty")?;
            }
            endpoint_properties.push(EndpointProperty {
                name: required_str(pm, "name").map_err(|e| e.within(&field))?,
                value: required_str(pm, "value").map_err(|e| e.within(&field))?,
            });
        }
        Ok(DataAddress {
            endpoint_type,
            endpoint,
            endpoint_properties,
        })
    }
}

fn check_nested_type(
    m: &Map<String, Value>,
    field: &str,
    expected: &str,
) -> Result<(), MessageError> {
    match m.get("@type") {
        Some(Value::String(t)) if crate::message::is_type(t, expected) => Ok(()),
        None => Err(MessageError::MissingField(format!("{field}.@type"))),
        Some(other) => Err(MessageError::invalid(
            &format!("{field}.@type"),
            format!("expected \"{expected}\", found {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::official_schemas::assert_schema_valid;
    use serde_json::json;

    fn pull_address() -> DataAddress {
        DataAddress {
            endpoint_type: HTTP_ENDPOINT_TYPE.into(),
            endpoint: Some("https://city-a.example/data/transfers/1".into()),
            endpoint_properties: vec![
                EndpointProperty {
                    name: "authorization".into(),
                    value: "secret-token".into(),
                },
                EndpointProperty {
                    name: "authType".into(),
                    value: "bearer".into(),
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_passes_the_schema() {
        let a = pull_address();
        assert_schema_valid("transfer/data-address-schema.json", &a.to_json());
        assert_eq!(DataAddress::from_json(&a.to_json()), Ok(a.clone()));
        assert_eq!(a.property("authType"), Some("bearer"));
        let bare = DataAddress {
            endpoint_type: HTTP_ENDPOINT_TYPE.into(),
            endpoint: None,
            endpoint_properties: vec![],
        };
        assert_eq!(
            bare.to_json(),
            json!({"@type": "DataAddress", "endpointType": HTTP_ENDPOINT_TYPE})
        );
        assert_schema_valid("transfer/data-address-schema.json", &bare.to_json());
    }

    #[test]
    fn debug_hides_property_values() {
        let debug = format!("{:?}", pull_address());
        assert!(!debug.contains("secret-token"), "{debug}");
        assert!(debug.contains("authorization"));
    }

    #[test]
    fn malformed_properties_are_named() {
        let v = json!({"@type": "DataAddress", "endpointType": "x", "endpointProperties": [{"@type": "EndpointProperty", "name": "a"}]});
        assert_eq!(
            DataAddress::from_json(&v).unwrap_err().to_string(),
            "dataAddress.endpointProperties[0].value: missing"
        );
        let v = json!({"@type": "DataAddress"});
        assert_eq!(
            DataAddress::from_json(&v).unwrap_err().to_string(),
            "dataAddress.endpointType: missing"
        );
        let v = json!({"endpointType": "x"});
        assert_eq!(
            DataAddress::from_json(&v).unwrap_err().to_string(),
            "dataAddress.@type: missing"
        );
    }
}
