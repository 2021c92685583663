//! What a partner's verified credentials say about it, as policies read it (`claim:NAME`, see
//! `docs/policy-context.md`): `credentials` lists the types it holds; each credential's subject (less its `id`)
//! appears whole under its type's name (`claim:MembershipCredential.membership`), and its members also at the top
//! level (`claim:membership`) when every credential that has it agrees and the operator's own entry for the
//! partner did not set that name: what the city's config attests is never overridden by a credential. A subject member cannot take the
//! place of a credential: names ending in `Credential`, and `credentials`, are set from verified types only.

use serde_json::{Map, Value};
use twinport_contracts::credentials::VerifiedCredential;

/// The claims of a partner: `configured` (from its `[[partners]]` entry, if any) plus its credentials'.
pub fn claims_of(
    configured: &Map<String, Value>,
    credentials: &[VerifiedCredential],
) -> Map<String, Value> {
    let mut claims = configured.clone();
    let mut types: Vec<Value> = Vec::new();
    // Types first, members after: a member can then never stand in for a credential of that name.
    for c in credentials {
        let mut subject = c.subject.clone();
        subject.remove("id");
        for t in &c.types {
            if !types.iter().any(|v| v == t) {
                types.push(Value::String(t.clone()));
            }
            claims
                .entry(t.clone())
                .or_insert_with(|| Value::Object(subject.clone()));
        }
    }
    claims.entry("credentials").or_insert(Value::Array(types));
    // A member at the top level says what every credential that has it agrees on: were credentials to disagree,
    // the holder would choose the answer by the order it presents them in (an issuer trusted only for city codes
    // could then settle `membership`). Disagreeing members are left to the per-type claims.
    let mut members: Map<String, Value> = Map::new();
    let mut disputed: Vec<String> = Vec::new();
    for c in credentials {
        for (name, value) in &c.subject {
            if name == "id" || name == "credentials" || name.ends_with("Credential") {
                continue;
            }
            match members.get(name) {
                Some(seen) if seen != value => disputed.push(name.clone()),
                Some(_) => {}
                None => {
                    members.insert(name.clone(), value.clone());
                }
            }
        }
    }
    for (name, value) in members {
        if !disputed.contains(&name) {
            claims.entry(name).or_insert(value);
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn credential(types: &[&str], subject: Value) -> VerifiedCredential {
        VerifiedCredential {
            id: None,
            types: types.iter().map(|t| t.to_string()).collect(),
            issuer: "did:web:issuer.test".into(),
            subject: subject.as_object().unwrap().clone(),
            valid_until: None,
            status: Vec::new(),
        }
    }

    #[test]
    fn credentials_become_claims_without_overriding_the_operator() {
        let configured = json!({"region": "NL-UT"}).as_object().unwrap().clone();
        let claims = claims_of(
            &configured,
            &[
                credential(
                    &["MembershipCredential"],
                    json!({"id": "did:web:b.test", "membership": "partner-city", "region": "DE"}),
                ),
                credential(
                    &["CityCredential"],
                    json!({"id": "did:web:b.test", "membership": "other", "cityCode": "GM0307"}),
                ),
            ],
        );
        assert_eq!(claims["region"], "NL-UT");
        // The two credentials disagree on membership: neither settles it at the top level.
        assert!(claims.get("membership").is_none());
        assert_eq!(claims["CityCredential"]["membership"], "other");
        assert_eq!(claims["cityCode"], "GM0307");
        assert_eq!(
            claims["credentials"],
            json!(["MembershipCredential", "CityCredential"])
        );
        assert_eq!(
            claims["MembershipCredential"],
            json!({"membership": "partner-city", "region": "DE"})
        );
        assert!(claims.get("id").is_none());
    }

    #[test]
    fn a_subject_member_cannot_pose_as_a_credential() {
        let claims = claims_of(
            &Map::new(),
            &[credential(
                &["CityCredential"],
                json!({"id": "did:web:b.test", "MembershipCredential": {"membership": "partner-city"},
                       "credentials": ["MembershipCredential"]}),
            )],
        );
        assert!(claims.get("MembershipCredential").is_none());
        assert_eq!(claims["credentials"], json!(["CityCredential"]));
    }
}
