//! DID documents (DID Core 1.0) as DCP reads them: the verification methods with their public keys (JWK), which of
//! them may be used for what (a self-issued token is signed with a `capabilityInvocation` key, a presentation
//! with an `authentication` key, a credential with an `assertionMethod` key), and the services a participant
//! publishes (its `CredentialService`, its DSP `DataService`). Fails closed: a key named only in
//! `verificationMethod`, or controlled by another DID, signs nothing.

use serde::Deserialize;
use serde_json::Value;

use super::DidError;
use crate::identity::Jwks;

/// What a key is used for (DID Core verification relationships).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    Authentication,
    AssertionMethod,
    CapabilityInvocation,
}

impl Relationship {
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Authentication => "authentication",
            Relationship::AssertionMethod => "assertionMethod",
            Relationship::CapabilityInvocation => "capabilityInvocation",
        }
    }
}

/// A DID document.
#[derive(Debug, Clone, Deserialize)]
pub struct DidDocument {
    pub id: String,
    #[serde(default, rename = "verificationMethod")]
    pub verification_method: Vec<VerificationMethod>,
    #[serde(default)]
    authentication: Vec<MethodRef>,
    #[serde(default, rename = "assertionMethod")]
    assertion_method: Vec<MethodRef>,
    #[serde(default, rename = "capabilityInvocation")]
    capability_invocation: Vec<MethodRef>,
    #[serde(default)]
    pub service: Vec<Service>,
}

/// A verification method: a key and who controls it.
#[derive(Debug, Clone, Deserialize)]
pub struct VerificationMethod {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub controller: String,
    #[serde(default, rename = "publicKeyJwk")]
    pub public_key_jwk: Option<Value>,
}

/// A relationship names a method by id, or embeds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum MethodRef {
    Id(String),
    Embedded(VerificationMethod),
}

/// A service a participant publishes.
#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: OneOrMany,
    #[serde(rename = "serviceEndpoint")]
    pub endpoint: Value,
}

/// A service type: one string or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn contains(&self, kind: &str) -> bool {
        match self {
            OneOrMany::One(k) => k == kind,
            OneOrMany::Many(ks) => ks.iter().any(|k| k == kind),
        }
    }
}

impl DidDocument {
    /// Parses the document fetched for `did`; a document for another subject is refused.
    pub fn parse(bytes: &[u8], did: &str) -> Result<DidDocument, DidError> {
        let doc: DidDocument =
            serde_json::from_slice(bytes).map_err(|e| DidError::Document(e.to_string()))?;
        if doc.id != did {
            return Err(DidError::WrongSubject {
                expected: did.to_string(),
                found: doc.id.chars().take(200).collect(),
            });
        }
        Ok(doc)
    }

    /// A method id as written (absolute, or `#fragment` relative to the document).
    fn absolute(&self, id: &str) -> String {
        if id.starts_with('#') {
            format!("{}{id}", self.id)
        } else {
            id.to_string()
        }
    }

    /// The methods usable for `relationship`, with their absolute ids.
    fn methods(&self, relationship: Relationship) -> Vec<(String, &VerificationMethod)> {
        let refs = match relationship {
            Relationship::Authentication => &self.authentication,
            Relationship::AssertionMethod => &self.assertion_method,
            Relationship::CapabilityInvocation => &self.capability_invocation,
        };
        refs.iter()
            .filter_map(|r| match r {
                MethodRef::Embedded(m) => Some((self.absolute(&m.id), m)),
                MethodRef::Id(id) => {
                    let id = self.absolute(id);
                    self.verification_method
                        .iter()
                        .find(|m| self.absolute(&m.id) == id)
                        .map(|m| (id, m))
                }
            })
            .collect()
    }

    /// The key that `kid` (a DID URL `<did>#<key>`, or `#<key>`) names for `relationship`, as a one-key JWK Set
    /// whose `kid` is the one given, ready for the JWS checks. Without a `kid`, only a document with exactly one
    /// key for that relationship answers.
    pub fn key(&self, kid: Option<&str>, relationship: Relationship) -> Result<Jwks, DidError> {
        let candidates = self.methods(relationship);
        let (id, method) = match kid {
            Some(kid) => {
                let wanted = self.absolute(kid);
                candidates
                    .into_iter()
                    .find(|(id, _)| *id == wanted)
                    .ok_or_else(|| DidError::KeyNotAuthorised {
                        kid: kid.chars().take(200).collect(),
                        relationship: relationship.as_str(),
                    })?
            }
            None => match candidates.len() {
                1 => candidates.into_iter().next().expect("one"),
                count => {
                    return Err(DidError::KeyAmbiguous {
                        count,
                        relationship: relationship.as_str(),
                    })
                }
            },
        };
        if method.controller != self.id {
            return Err(DidError::ForeignController {
                kid: id,
                controller: method.controller.clone(),
            });
        }
        let mut jwk = method
            .public_key_jwk
            .clone()
            .filter(Value::is_object)
            .ok_or_else(|| DidError::UnsupportedKey { kid: id.clone() })?;
        jwk["kid"] = Value::String(kid.map_or(id, str::to_string));
        Jwks::from_json_str(&serde_json::json!({ "keys": [jwk] }).to_string())
            .map_err(|e| DidError::Document(e.to_string()))
    }

    /// Every usable key listed for `relationship`, each under its DID URL and under its bare fragment: what a
    /// signature by this participant outside DCP (an agreement, a receipt, whose `kid` is the key's own id) is
    /// checked against. Keys controlled by anyone else or without a JWK are left out.
    pub fn keys(&self, relationship: Relationship) -> Jwks {
        let mut keys = Vec::new();
        for (id, method) in self.methods(relationship) {
            if method.controller != self.id {
                continue;
            }
            let Some(jwk) = method.public_key_jwk.clone().filter(Value::is_object) else {
                continue;
            };
            let fragment = id.rsplit_once('#').map(|(_, f)| f.to_string());
            for kid in std::iter::once(id.clone()).chain(fragment) {
                let mut k = jwk.clone();
                k["kid"] = Value::String(kid);
                keys.push(k);
            }
        }
        Jwks::from_json_str(&serde_json::json!({ "keys": keys }).to_string())
            .unwrap_or_else(|_| Jwks { keys: Vec::new() })
    }

    /// The endpoint of the first service of type `kind` given as a URL string (`CredentialService`,
    /// `DataService`).
    pub fn service_endpoint(&self, kind: &str) -> Option<&str> {
        self.service
            .iter()
            .filter(|s| s.kind.contains(kind))
            .find_map(|s| s.endpoint.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{KeyAlgorithm, SigningKey};
    use serde_json::json;

    const DID: &str = "did:web:localhost%3A4711:holder";

    /// The shape the DCP TCK and DSIH publish (reference/dcp.md §7), with two keys.
    fn document(sign: &SigningKey, other: &SigningKey) -> Value {
        let mut k1 = sign.jwks().keys[0].clone();
        k1.as_object_mut().unwrap().remove("kid");
        let k2 = other.jwks().keys[0].clone();
        json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],
            "id": DID,
            "verificationMethod": [
                {"id": format!("{DID}#k1"), "type": "JsonWebKey2020", "controller": DID, "publicKeyJwk": k1},
                {"id": "#k2", "type": "JsonWebKey2020", "controller": DID, "publicKeyJwk": k2}
            ],
            "authentication": [format!("{DID}#k1")],
            "assertionMethod": ["#k1"],
            "capabilityInvocation": [format!("{DID}#k1")],
            "service": [
                {"id": format!("{DID}#cs"), "type": "CredentialService", "serviceEndpoint": "https://localhost:4711/holder/cs"},
                {"id": format!("{DID}#dsp"), "type": ["DataService"], "serviceEndpoint": "https://localhost:4711/.well-known/dspace-version"}
            ]
        })
    }

    #[test]
    fn a_key_is_found_by_kid_for_each_relationship_it_is_listed_under() {
        let (sign, other) = (
            SigningKey::generate(KeyAlgorithm::Es256).unwrap(),
            SigningKey::generate(KeyAlgorithm::EdDsa).unwrap(),
        );
        let doc = DidDocument::parse(document(&sign, &other).to_string().as_bytes(), DID).unwrap();
        let kid = format!("{DID}#k1");
        for relationship in [
            Relationship::Authentication,
            Relationship::AssertionMethod,
            Relationship::CapabilityInvocation,
        ] {
            let jwks = doc.key(Some(&kid), relationship).unwrap();
            assert!(jwks.find(&kid).is_some());
            assert_eq!(doc.key(Some("#k1"), relationship).unwrap().keys.len(), 1);
            assert_eq!(
                doc.key(None, relationship).unwrap().keys.len(),
                1,
                "one key: no kid needed"
            );
        }
        assert_eq!(
            doc.service_endpoint("CredentialService"),
            Some("https://localhost:4711/holder/cs")
        );
        assert_eq!(
            doc.service_endpoint("DataService"),
            Some("https://localhost:4711/.well-known/dspace-version")
        );
        assert_eq!(doc.service_endpoint("Other"), None);
    }

    #[test]
    fn a_key_outside_the_relationship_or_controlled_by_another_did_signs_nothing() {
        let (sign, other) = (
            SigningKey::generate(KeyAlgorithm::Es256).unwrap(),
            SigningKey::generate(KeyAlgorithm::EdDsa).unwrap(),
        );
        let doc = DidDocument::parse(document(&sign, &other).to_string().as_bytes(), DID).unwrap();
        // k2 is a verification method, but nothing authorises it for anything.
        assert!(matches!(
            doc.key(Some("#k2"), Relationship::CapabilityInvocation),
            Err(DidError::KeyNotAuthorised { .. })
        ));
        assert!(matches!(
            doc.key(
                Some("did:web:elsewhere.example#k1"),
                Relationship::Authentication
            ),
            Err(DidError::KeyNotAuthorised { .. })
        ));

        let mut foreign = document(&sign, &other);
        foreign["verificationMethod"][0]["controller"] = json!("did:web:elsewhere.example");
        let doc = DidDocument::parse(foreign.to_string().as_bytes(), DID).unwrap();
        assert!(matches!(
            doc.key(Some("#k1"), Relationship::Authentication),
            Err(DidError::ForeignController { .. })
        ));

        let mut two = document(&sign, &other);
        two["authentication"] = json!(["#k1", "#k2"]);
        let doc = DidDocument::parse(two.to_string().as_bytes(), DID).unwrap();
        assert!(matches!(
            doc.key(None, Relationship::Authentication),
            Err(DidError::KeyAmbiguous { count: 2, .. })
        ));
        assert!(doc.key(Some("#k2"), Relationship::Authentication).is_ok());

        let mut no_jwk = document(&sign, &other);
        no_jwk["verificationMethod"][0]
            .as_object_mut()
            .unwrap()
            .remove("publicKeyJwk");
        no_jwk["verificationMethod"][0]["publicKeyMultibase"] = json!("z6Mk...");
        let doc = DidDocument::parse(no_jwk.to_string().as_bytes(), DID).unwrap();
        assert!(matches!(
            doc.key(Some("#k1"), Relationship::Authentication),
            Err(DidError::UnsupportedKey { .. })
        ));

        let mut private = document(&sign, &other);
        private["verificationMethod"][0]["publicKeyJwk"]["d"] = json!("secret");
        let doc = DidDocument::parse(private.to_string().as_bytes(), DID).unwrap();
        assert!(
            doc.key(Some("#k1"), Relationship::Authentication).is_err(),
            "private key material published"
        );
    }

    #[test]
    fn a_document_for_another_subject_or_not_a_document_is_refused() {
        let (sign, other) = (
            SigningKey::generate(KeyAlgorithm::Es256).unwrap(),
            SigningKey::generate(KeyAlgorithm::EdDsa).unwrap(),
        );
        let body = document(&sign, &other).to_string();
        assert!(matches!(
            DidDocument::parse(body.as_bytes(), "did:web:localhost%3A4711:verifier"),
            Err(DidError::WrongSubject { .. })
        ));
        assert!(matches!(
            DidDocument::parse(b"<html>", DID),
            Err(DidError::Document(_))
        ));
    }
}
