//! Our DID document, as the connector serves it for its `did:web` DID: our signing key (the one every token,
//! presentation and agreement we sign uses) under all three relationships DCP reads (`capabilityInvocation` for
//! self-issued tokens, `authentication` for presentations, `assertionMethod` for anything we assert), our
//! Credential Service, and our DSP version metadata for discovery by DID.

use serde_json::{json, Value};

/// Where our Credential Service lives under the public URL; queries go to `<this>/presentations/query`.
pub const CREDENTIAL_SERVICE_PATH: &str = "/dcp";

/// The DID document of `did`, whose key is `key_id` (`<did>#<kid>`) with public JWK `jwk`.
pub fn did_document(did: &str, key_id: &str, jwk: &Value, public_url: &str) -> Value {
    let mut jwk = jwk.clone();
    if let Some(m) = jwk.as_object_mut() {
        // The method's id names the key; a second name inside the JWK could only disagree with it.
        m.remove("kid");
    }
    let base = public_url.trim_end_matches('/');
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],
        "id": did,
        "verificationMethod": [{
            "id": key_id,
            "type": "JsonWebKey2020",
            "controller": did,
            "publicKeyJwk": jwk,
        }],
        "authentication": [key_id],
        "assertionMethod": [key_id],
        "capabilityInvocation": [key_id],
        "service": [
            {
                "id": format!("{did}#credential-service"),
                "type": "CredentialService",
                "serviceEndpoint": format!("{base}{CREDENTIAL_SERVICE_PATH}"),
            },
            {
                "id": format!("{did}#dsp"),
                "type": "DataService",
                "serviceEndpoint": format!("{base}/.well-known/dspace-version"),
            },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use twinport_contracts::did::{DidDocument, Relationship};
    use twinport_contracts::identity::{KeyAlgorithm, SigningKey};

    #[test]
    fn our_document_lists_our_key_for_every_relationship_and_our_services() {
        let key = SigningKey::generate(KeyAlgorithm::Es256).unwrap();
        let did = "did:web:city-a.test";
        let key_id = format!("{did}#{}", key.kid());
        let doc = did_document(did, &key_id, &key.public_jwk(), "https://city-a.test/");
        let parsed = DidDocument::parse(doc.to_string().as_bytes(), did).unwrap();
        for r in [
            Relationship::Authentication,
            Relationship::AssertionMethod,
            Relationship::CapabilityInvocation,
        ] {
            let jwks = parsed.key(Some(&key_id), r).unwrap();
            assert_eq!(jwks.keys[0]["x"], key.public_jwk()["x"]);
        }
        assert_eq!(
            parsed.service_endpoint("CredentialService"),
            Some("https://city-a.test/dcp")
        );
        assert_eq!(
            parsed.service_endpoint("DataService"),
            Some("https://city-a.test/.well-known/dspace-version")
        );
    }
}
