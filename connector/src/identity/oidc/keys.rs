//! The provider's signing keys as josekit JWKs, and the choice of verifier for a token's `alg`. Keys the provider
//! publishes for other uses (encryption, symmetric, private halves by mistake) are left out.

use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsVerifier, ES256, ES384, PS256, PS384, PS512, RS256, RS384, RS512};
use openidconnect::core::CoreJsonWebKeySet;

/// The public signing keys of the provider, by `kid`.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<(String, Jwk)>,
}

impl KeySet {
    /// Keeps the keys a token can name and be verified with: a `kid`, public, and for signatures.
    pub fn from_provider(set: &CoreJsonWebKeySet) -> KeySet {
        let mut keys = Vec::new();
        for key in set.keys() {
            let Ok(serde_json::Value::Object(map)) = serde_json::to_value(key) else {
                continue;
            };
            let kid = map.get("kid").and_then(|v| v.as_str()).map(str::to_owned);
            let usable = map.get("use").is_none_or(|u| u == "sig")
                && !map.contains_key("d")
                && map.get("kty").is_some_and(|k| k != "oct");
            match (kid, usable) {
                (Some(kid), true) => match Jwk::from_map(map) {
                    Ok(jwk) => keys.push((kid, jwk)),
                    Err(e) => {
                        tracing::warn!(kid, error = %e, "ignoring a provider key josekit cannot read")
                    }
                },
                (None, _) => tracing::warn!("ignoring a provider key without kid"),
                (Some(kid), false) => {
                    tracing::debug!(kid, "ignoring a provider key not meant for signatures")
                }
            }
        }
        KeySet { keys }
    }

    pub fn get(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|(k, _)| k == kid).map(|(_, jwk)| jwk)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// A verifier for `alg` with `jwk`; josekit refuses keys whose type, curve, `alg` or `use` do not fit.
pub fn verifier_for(alg: &str, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, String> {
    let verifier: Result<Box<dyn JwsVerifier>, _> = match alg {
        "RS256" => RS256.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "RS384" => RS384.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "RS512" => RS512.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "PS256" => PS256.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "PS384" => PS384.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "PS512" => PS512.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "ES256" => ES256.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "ES384" => ES384.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        "EdDSA" => EdDSA.verifier_from_jwk(jwk).map(|v| Box::new(v) as _),
        other => return Err(format!("token algorithm {other} is not supported")),
    };
    verifier.map_err(|_| format!("the provider's key does not fit algorithm {alg}"))
}

#[cfg(test)]
mod tests {
    use josekit::jwk::alg::ec::EcCurve;
    use josekit::jwk::Jwk;

    use super::{verifier_for, KeySet};

    fn public(jwk: Jwk, kid: &str) -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::to_value(jwk.to_public_key().unwrap()).unwrap();
        v["kid"] = kid.into();
        v["use"] = "sig".into();
        v
    }

    #[test]
    fn keeps_public_signing_keys_with_kid_only() {
        let rsa = Jwk::generate_rsa_key(2048).unwrap();
        let ec = Jwk::generate_ec_key(EcCurve::P256).unwrap();
        let ed = Jwk::generate_ed_key(josekit::jwk::alg::ed::EdCurve::Ed25519).unwrap();
        let mut enc = public(Jwk::generate_ec_key(EcCurve::P256).unwrap(), "enc");
        enc["use"] = "enc".into();
        let mut no_kid = public(Jwk::generate_ec_key(EcCurve::P256).unwrap(), "x");
        no_kid.as_object_mut().unwrap().remove("kid");
        let mut private: serde_json::Value = serde_json::to_value(&ec).unwrap();
        private["kid"] = "private".into();
        let doc = serde_json::json!({"keys": [
            public(rsa, "rsa"), public(ec, "ec"), public(ed, "ed"), enc, no_kid, private,
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ]});
        let set: openidconnect::core::CoreJsonWebKeySet = serde_json::from_value(doc).unwrap();
        let keys = KeySet::from_provider(&set);
        assert_eq!(keys.len(), 3);
        assert!(verifier_for("RS256", keys.get("rsa").unwrap()).is_ok());
        assert!(verifier_for("ES256", keys.get("ec").unwrap()).is_ok());
        assert!(verifier_for("EdDSA", keys.get("ed").unwrap()).is_ok());
        assert!(verifier_for("ES256", keys.get("rsa").unwrap()).is_err());
        assert!(verifier_for("HS256", keys.get("rsa").unwrap()).is_err());
        assert!(keys.get("enc").is_none() && keys.get("private").is_none());
        assert!(keys.get("hmac").is_none());
    }
}
