//! The ODRL `Agreement` a provider sends in a `ContractAgreementMessage`: typed identifying members (who agreed
//! with whom on which dataset and when), rules kept as raw JSON for the policy crate.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::message::{required_str, MessageError};

use super::messages::is_odrl_type;

/// A contract agreement between `assigner` (provider party) and `assignee` (consumer party) on `target`.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// The agreement `@id`, later referenced as `agreementId` by transfer requests.
    pub id: String,
    /// The dataset id.
    pub target: String,
    pub assigner: String,
    pub assignee: String,
    /// xsd:dateTime as sent; kept as text so re-serialising never changes the signed bytes.
    pub timestamp: String,
    /// ODRL `profile`: a string or an array of strings.
    pub profile: Option<Value>,
    pub permission: Vec<Value>,
    pub prohibition: Vec<Value>,
    pub obligation: Vec<Value>,
    /// Policy-wide terms beyond DSP's members that change what the rules mean (ODRL's `conflict`, a time zone the
    /// rules are read in, a label), kept as received so the signed form round-trips.
    pub terms: Map<String, Value>,
}

/// The members DSP gives an agreement; anything else is a policy-wide term.
const MEMBERS: [&str; 10] = [
    "@id",
    "@type",
    "target",
    "assigner",
    "assignee",
    "timestamp",
    "profile",
    "permission",
    "prohibition",
    "obligation",
];

impl Agreement {
    /// Formats an agreement time as the RFC 3339 / xsd:dateTime text the schema expects.
    pub fn format_timestamp(t: OffsetDateTime) -> String {
        // The UTC offset makes RFC 3339 formatting infallible for years 0..=9999; fall back to the debug form otherwise.
        t.to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| t.to_string())
    }

    /// The JSON object in the member order of the official examples; empty rule lists are omitted.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("@id".into(), Value::String(self.id.clone()));
        m.insert("@type".into(), Value::String("Agreement".into()));
        m.insert("target".into(), Value::String(self.target.clone()));
        if let Some(profile) = &self.profile {
            m.insert("profile".into(), profile.clone());
        }
        m.insert("timestamp".into(), Value::String(self.timestamp.clone()));
        m.insert("assigner".into(), Value::String(self.assigner.clone()));
        m.insert("assignee".into(), Value::String(self.assignee.clone()));
        for (name, rules) in [
            ("permission", &self.permission),
            ("prohibition", &self.prohibition),
            ("obligation", &self.obligation),
        ] {
            if !rules.is_empty() {
                m.insert(name.into(), Value::Array(rules.clone()));
            }
        }
        for (k, v) in &self.terms {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// Parses an agreement object; error fields read `agreement.<member>`.
    pub fn from_json(v: &Value) -> Result<Agreement, MessageError> {
        let m = v
            .as_object()
            .ok_or_else(|| MessageError::wrong_kind("agreement", "an object"))?;
        match m.get("@type") {
            Some(Value::String(t)) if is_odrl_type(t, "Agreement") => {}
            None => return Err(MessageError::MissingField("agreement.@type".into())),
            Some(other) => {
                return Err(MessageError::invalid(
                    "agreement.@type",
                    format!("expected \"Agreement\", found {other}"),
                ))
            }
        }
        let field = |name: &str| required_str(m, name).map_err(|e| e.within("agreement"));
        let profile = match m.get("profile") {
            None | Some(Value::Null) => None,
            Some(p @ (Value::String(_) | Value::Array(_))) => Some(p.clone()),
            Some(_) => {
                return Err(MessageError::wrong_kind(
                    "agreement.profile",
                    "a string or an array",
                ))
            }
        };
        let rules = |name: &str| -> Result<Vec<Value>, MessageError> {
            match m.get(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => Ok(items.clone()),
                Some(_) => Err(MessageError::wrong_kind(
                    &format!("agreement.{name}"),
                    "an array",
                )),
            }
        };
        let agreement = Agreement {
            id: field("@id")?,
            target: field("target")?,
            assigner: field("assigner")?,
            assignee: field("assignee")?,
            timestamp: field("timestamp")?,
            profile,
            permission: rules("permission")?,
            prohibition: rules("prohibition")?,
            obligation: rules("obligation")?,
            terms: m
                .iter()
                .filter(|(k, _)| !MEMBERS.contains(&k.as_str()) && k.as_str() != "@context")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        // An agreement without rules grants nothing; the schema requires at least one permission or prohibition.
        if agreement.permission.is_empty() && agreement.prohibition.is_empty() {
            return Err(MessageError::invalid(
                "agreement",
                "needs at least one permission or prohibition",
            ));
        }
        Ok(agreement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({"@id": "urn:agreement:1", "@type": "Agreement", "target": "urn:dataset:1",
            "timestamp": "2026-11-24T01:00:00Z", "assigner": "did:web:a", "assignee": "did:web:b",
            "permission": [{"action": "use"}]})
    }

    #[test]
    fn round_trips_in_example_order() {
        let a = Agreement::from_json(&sample()).expect("parses");
        assert_eq!(a.to_json(), sample());
        // Policy-wide terms survive, so a signature over the received form still verifies after a round trip.
        let mut with_terms = sample();
        with_terms["conflict"] = json!("prohibit");
        with_terms["twinport:timeZone"] = json!("Europe/Amsterdam");
        let a = Agreement::from_json(&with_terms).expect("parses");
        assert_eq!(a.terms.len(), 2);
        assert_eq!(a.to_json(), with_terms);
    }

    #[test]
    fn required_members_are_named_in_errors() {
        for name in [
            "@id",
            "target",
            "assigner",
            "assignee",
            "timestamp",
            "@type",
        ] {
            let mut v = sample();
            v.as_object_mut().expect("object").remove(name);
            assert_eq!(
                Agreement::from_json(&v).unwrap_err().to_string(),
                format!("agreement.{name}: missing")
            );
        }
    }

    #[test]
    fn agreement_without_rules_is_refused() {
        let mut v = sample();
        v.as_object_mut().expect("object").remove("permission");
        assert_eq!(
            Agreement::from_json(&v).unwrap_err().to_string(),
            "agreement: needs at least one permission or prohibition"
        );
    }

    #[test]
    fn timestamps_are_formatted_in_utc() {
        let t = time::macros::datetime!(2026-11-24 02:00:00 +01:00);
        assert_eq!(Agreement::format_timestamp(t), "2026-11-24T01:00:00Z");
    }
}
