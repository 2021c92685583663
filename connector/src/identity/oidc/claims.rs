//! The checks on a signature-verified access token's claims: issuer, audience, validity window, subject, and the
//! Twinport roles its roles claim grants. Pure, so every rule is unit-tested without a provider.

use serde_json::{Map, Value};

use crate::config::OidcConfig;
use crate::config::Role;

/// The person an accepted access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub roles: Vec<Role>,
}

/// Checks `claims` at unix time `now`; the error says which rule failed, without echoing the token.
pub fn check_claims(
    claims: &Map<String, Value>,
    config: &OidcConfig,
    now: i64,
) -> Result<Person, String> {
    match claims.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == config.issuer => {}
        Some(_) => return Err("token was issued by another issuer".into()),
        None => return Err("token has no iss claim".into()),
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => config.audiences.iter().any(|a| a == aud),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|aud| config.audiences.iter().any(|a| a == aud)),
        _ => return Err("token has no aud claim".into()),
    };
    if !audience_ok {
        return Err("token is not meant for this connector (audience)".into());
    }
    let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(0);
    let exp = numeric_date(claims, "exp")?.ok_or("token has no exp claim")?;
    if now >= exp.saturating_add(leeway) {
        return Err("token has expired".into());
    }
    if let Some(nbf) = numeric_date(claims, "nbf")? {
        if now < nbf.saturating_sub(leeway) {
            return Err("token is not valid yet (nbf)".into());
        }
    }
    let subject = match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() => sub.to_owned(),
        _ => return Err("token has no sub claim".into()),
    };
    let text = |key: &str| claims.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(Person {
        subject,
        name: text("name").or_else(|| text("preferred_username")),
        email: text("email"),
        roles: roles(claims, config),
    })
}

/// RFC 7519 NumericDate: seconds, possibly fractional. A present but malformed value refuses the token.
fn numeric_date(claims: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match claims.get(key) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            // Fractions round down; the leeway dwarfs them.
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| format!("token's {key} claim is not a date")),
        Some(_) => Err(format!("token's {key} claim is not a date")),
    }
}

/// The Twinport roles granted by the claim at `config.roles_claim`: an array of strings (Keycloak's
/// `realm_access.roles`, Entra ID's `roles`) or a single string. A missing claim grants nothing.
fn roles(claims: &Map<String, Value>, config: &OidcConfig) -> Vec<Role> {
    let mut node = None;
    let mut map = Some(claims);
    for segment in &config.roles_claim {
        node = map.and_then(|m| m.get(segment));
        map = node.and_then(Value::as_object);
    }
    let values: Vec<&str> = match node {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    };
    let mut granted: Vec<Role> = config
        .role_map
        .iter()
        .filter(|(value, _)| values.contains(&value.as_str()))
        .map(|(_, role)| *role)
        .collect();
    granted.sort();
    granted.dedup();
    granted
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{json, Map, Value};

    use super::check_claims;
    use crate::config::OidcConfig;
    use crate::config::Role;

    const NOW: i64 = 1_800_000_000;

    fn config(roles_claim: &str) -> OidcConfig {
        OidcConfig {
            issuer: "https://id.city.example/realms/city".into(),
            audiences: vec!["twinport".into(), "api://twinport".into()],
            roles_claim: roles_claim.split('.').map(str::to_owned).collect(),
            algorithms: vec!["RS256".into()],
            leeway: Duration::from_secs(30),
            key_refresh_interval: Duration::from_secs(30),
            key_cache: Duration::from_secs(600),
            role_map: vec![
                ("tp-op".into(), Role::Operator),
                ("tp-legal".into(), Role::Legal),
                ("tp-audit".into(), Role::Auditor),
                ("tp-read".into(), Role::Viewer),
                ("city-admins".into(), Role::Operator),
            ],
        }
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let mut c = json!({
            "iss": "https://id.city.example/realms/city",
            "aud": "twinport",
            "sub": "0b7d-alice",
            "exp": NOW + 300,
            "nbf": NOW - 10,
            "name": "Alice Jansen",
            "email": "alice@city.example",
            "roles": ["tp-op", "unrelated"],
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c.as_object().unwrap().clone()
    }

    fn refusal(extra: Value) -> String {
        check_claims(&claims(extra), &config("roles"), NOW).expect_err("should be refused")
    }

    #[test]
    fn valid_token_yields_person_with_mapped_roles() {
        let p = check_claims(&claims(json!({})), &config("roles"), NOW).unwrap();
        assert_eq!(p.subject, "0b7d-alice");
        assert_eq!(p.name.as_deref(), Some("Alice Jansen"));
        assert_eq!(p.email.as_deref(), Some("alice@city.example"));
        assert_eq!(p.roles, vec![Role::Operator]);
    }

    #[test]
    fn issuer_audience_and_subject_must_match() {
        assert!(refusal(json!({"iss": "https://evil.example"})).contains("another issuer"));
        assert!(refusal(json!({"iss": null})).contains("no iss"));
        assert!(refusal(json!({"aud": "other-app"})).contains("audience"));
        assert!(refusal(json!({"aud": ["a", "b"]})).contains("audience"));
        assert!(refusal(json!({"aud": null})).contains("no aud"));
        assert!(refusal(json!({"sub": ""})).contains("no sub"));
        let listed = check_claims(
            &claims(json!({"aud": ["account", "api://twinport"]})),
            &config("roles"),
            NOW,
        );
        assert!(listed.is_ok());
    }

    #[test]
    fn validity_window_honours_the_leeway_only() {
        assert!(refusal(json!({"exp": NOW - 31})).contains("expired"));
        assert!(refusal(json!({"exp": NOW - 30})).contains("expired"));
        assert!(check_claims(&claims(json!({"exp": NOW - 29})), &config("roles"), NOW).is_ok());
        assert!(refusal(json!({"exp": null})).contains("no exp"));
        assert!(refusal(json!({"exp": "tomorrow"})).contains("not a date"));
        assert!(refusal(json!({"nbf": NOW + 31})).contains("not valid yet"));
        assert!(check_claims(&claims(json!({"nbf": NOW + 29})), &config("roles"), NOW).is_ok());
        assert!(check_claims(&claims(json!({"nbf": null})), &config("roles"), NOW).is_ok());
    }

    #[test]
    fn roles_come_from_nested_paths_and_plain_strings() {
        let keycloak = claims(json!({
            "roles": null,
            "realm_access": {"roles": ["tp-legal", "tp-audit", "offline_access"]},
        }));
        let p = check_claims(&keycloak, &config("realm_access.roles"), NOW).unwrap();
        assert_eq!(p.roles, vec![Role::Legal, Role::Auditor]);
        let single = claims(json!({"roles": "tp-read"}));
        assert_eq!(
            check_claims(&single, &config("roles"), NOW).unwrap().roles,
            vec![Role::Viewer]
        );
        let twice = claims(json!({"roles": ["tp-op", "city-admins"]}));
        assert_eq!(
            check_claims(&twice, &config("roles"), NOW).unwrap().roles,
            vec![Role::Operator]
        );
        let none = claims(json!({"roles": null}));
        assert!(check_claims(&none, &config("roles"), NOW)
            .unwrap()
            .roles
            .is_empty());
        let wrong_shape = claims(json!({"realm_access": ["tp-op"]}));
        assert!(
            check_claims(&wrong_shape, &config("realm_access.roles"), NOW)
                .unwrap()
                .roles
                .is_empty()
        );
    }
}
