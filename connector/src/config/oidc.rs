//! The `[oidc]` section: which OpenID Connect provider the management API trusts, which audience its access tokens
//! must carry, where the roles are in them and how claim values map to Twinport roles. Validation refuses anything
//! that would let a token through that should not pass (no audience, `none` or HMAC algorithms, a huge leeway).

use std::time::Duration;

use super::raw::{RawOidc, RawOidcRoles};
use super::validate::{invalid, ConfigError};
use crate::config::Role;

/// Signature algorithms accepted unless `oidc.algorithms` says otherwise.
pub const DEFAULT_ALGORITHMS: &[&str] = &["RS256", "ES256", "EdDSA"];

/// Every algorithm the verifier can check. Symmetric (HS*) and `none` are absent on purpose: a token signed with a
/// shared secret could be minted by any client of the provider that knows it.
pub const SUPPORTED_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

const MAX_LEEWAY_SECONDS: u64 = 300;

/// A validated `[oidc]` section.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider's issuer identifier, verbatim: tokens' `iss` must equal it exactly.
    pub issuer: String,
    /// A token is accepted when its `aud` contains at least one of these.
    pub audiences: Vec<String>,
    /// Path to the roles claim, split on dots (`realm_access.roles` → `["realm_access", "roles"]`).
    pub roles_claim: Vec<String>,
    pub algorithms: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Least time between two fetches of the provider's metadata or keys that requests trigger (an unknown `kid`,
    /// a failed discovery), so a flood of made-up key ids cannot hammer the provider.
    pub key_refresh_interval: Duration,
    /// How long fetched keys are used before they are fetched again; a key the provider withdrew stops working
    /// after at most this long.
    pub key_cache: Duration,
    /// Claim value → the Twinport role it grants.
    pub role_map: Vec<(String, Role)>,
}

pub fn validate_oidc(raw: RawOidc, production: bool) -> Result<OidcConfig, ConfigError> {
    let issuer = raw.issuer.ok_or_else(|| {
        invalid(
            "oidc.issuer",
            "required (the provider's issuer URL, e.g. https://id.city.example/realms/city)",
        )
    })?;
    let parsed = url::Url::parse(&issuer)
        .map_err(|e| invalid("oidc.issuer", format!("not a URL ({e}): {issuer:?}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if !production || is_loopback(&parsed) => {}
        "http" => {
            return Err(invalid(
                "oidc.issuer",
                "must be an https URL in production mode (plain http only on a loopback address)",
            ))
        }
        _ => {
            return Err(invalid(
                "oidc.issuer",
                format!("must be an http or https URL, got {issuer:?}"),
            ))
        }
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(
            "oidc.issuer",
            "must not have a query or fragment (OpenID Connect Discovery 1.0, section 2)",
        ));
    }
    let audiences = audiences(raw.audience)?;
    let roles_claim_text = raw.roles_claim.unwrap_or_else(|| "roles".into());
    let roles_claim: Vec<String> = roles_claim_text.split('.').map(str::to_owned).collect();
    if roles_claim.iter().any(String::is_empty) {
        return Err(invalid(
            "oidc.roles_claim",
            format!("must be a claim name or a dotted path like realm_access.roles, got {roles_claim_text:?}"),
        ));
    }
    let algorithms = match raw.algorithms {
        None => DEFAULT_ALGORITHMS.iter().map(|a| (*a).to_owned()).collect(),
        Some(list) if list.is_empty() => {
            return Err(invalid(
                "oidc.algorithms",
                "must list at least one algorithm",
            ))
        }
        Some(list) => {
            for alg in &list {
                if !SUPPORTED_ALGORITHMS.contains(&alg.as_str()) {
                    let why = if alg.eq_ignore_ascii_case("none") || alg.starts_with("HS") {
                        "unsigned and shared-secret (HS*) tokens are never accepted"
                    } else {
                        "not a supported algorithm"
                    };
                    return Err(invalid(
                        "oidc.algorithms",
                        format!(
                            "{alg:?}: {why}; choose from {}",
                            SUPPORTED_ALGORITHMS.join(", ")
                        ),
                    ));
                }
            }
            list
        }
    };
    let leeway_seconds = raw.leeway_seconds.unwrap_or(30);
    if leeway_seconds > MAX_LEEWAY_SECONDS {
        return Err(invalid(
            "oidc.leeway_seconds",
            format!("must be at most {MAX_LEEWAY_SECONDS}, got {leeway_seconds}"),
        ));
    }
    let refresh_seconds = raw.key_refresh_seconds.unwrap_or(30);
    if refresh_seconds == 0 {
        return Err(invalid(
            "oidc.key_refresh_seconds",
            "must be at least 1 (it limits how often requests make the connector call the provider)",
        ));
    }
    let cache_seconds = raw.key_cache_seconds.unwrap_or(600);
    if cache_seconds < refresh_seconds {
        return Err(invalid(
            "oidc.key_cache_seconds",
            format!("must be at least oidc.key_refresh_seconds ({refresh_seconds})"),
        ));
    }
    Ok(OidcConfig {
        issuer,
        audiences,
        roles_claim,
        algorithms,
        leeway: Duration::from_secs(leeway_seconds),
        key_refresh_interval: Duration::from_secs(refresh_seconds),
        key_cache: Duration::from_secs(cache_seconds),
        role_map: role_map(raw.roles)?,
    })
}

/// Plain http to the provider is tolerated in production only when it cannot leave the host (a local proxy).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn audiences(raw: Option<toml::Value>) -> Result<Vec<String>, ConfigError> {
    let required = || {
        invalid(
            "oidc.audience",
            "required: the audience (client id or API identifier) the provider puts in tokens meant for Twinport; \
             a string or a list of strings",
        )
    };
    let list = match raw.ok_or_else(required)? {
        toml::Value::String(s) => vec![s],
        toml::Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s),
                other => Err(invalid(
                    "oidc.audience",
                    format!("list items must be strings, got {other}"),
                )),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(invalid(
                "oidc.audience",
                format!("must be a string or a list of strings, got {other}"),
            ))
        }
    };
    if list.is_empty() || list.iter().any(|a| a.trim().is_empty()) {
        return Err(required());
    }
    Ok(list)
}

fn role_map(raw: RawOidcRoles) -> Result<Vec<(String, Role)>, ConfigError> {
    let mut map = Vec::new();
    for (role, values) in [
        (Role::Operator, raw.operator),
        (Role::Legal, raw.legal),
        (Role::Auditor, raw.auditor),
        (Role::Viewer, raw.viewer),
    ] {
        // Namespaced defaults, so a provider-wide role that merely happens to be called "operator" grants nothing.
        let values = values.unwrap_or_else(|| vec![format!("twinport-{role}")]);
        for value in values {
            if value.is_empty() {
                return Err(invalid(
                    format!("oidc.roles.{role}"),
                    "claim values must not be empty",
                ));
            }
            map.push((value, role));
        }
    }
    Ok(map)
}
