//! The `[dcp]` section: identity by DID and verifiable credentials (DCP 1.0). Present, it makes this connector a
//! DCP participant: its `participant_id` must be a `did:web` DID (served by the connector itself), partners known
//! only by DID authenticate with credentials from the issuers listed here, and the connector's own credentials are
//! presented to partners. The two test-only resolver settings are refused in production mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use twinport_contracts::did::DidWeb;

use super::raw::{RawDcp, RawTrustedIssuer};
use super::validate::{invalid, ConfigError};

/// Which verification relationships may hold the key of a partner's self-issued token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRelationships {
    /// `capabilityInvocation` only, as DCP requires (and the DCP TCK checks).
    Strict,
    /// `capabilityInvocation` or `authentication`: Tractus-X wallets list their keys under `authentication` only.
    Lenient,
}

/// The format our presentations are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresentationFormat {
    /// DCP profile `vc11-sl2021/jwt` (VCDM 1.1, what most EDC-based wallets send).
    Vc11Jwt,
    /// DCP profile `vc20-bssl/jwt` (VCDM 2.0 JOSE).
    Vc20Jose,
}

/// One trusted issuer and the credential types it is trusted for (`*` = any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    pub id: String,
    pub types: Vec<String>,
}

/// A validated `[dcp]` section.
#[derive(Debug, Clone)]
pub struct DcpConfig {
    /// Our DID (the participant id), parsed.
    pub did: DidWeb,
    /// Issuers whose credentials we accept, each for its types.
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// Credential types every partner must present on every DSP request.
    pub required_credentials: Vec<String>,
    /// Files holding our own credentials (compact JWS VCs, one per file).
    pub credentials_dir: PathBuf,
    /// Credential types we let partners query; empty = every type we hold.
    pub present: Vec<String>,
    pub key_relationships: KeyRelationships,
    pub presentation_format: PresentationFormat,
    /// Longest time a partner's DID document is reused (its HTTP caching headers may shorten it).
    pub did_cache: Duration,
    /// Longest time a status list is reused (its HTTP caching headers may shorten it).
    pub status_cache: Duration,
    /// How long before our own credential expires the log starts warning.
    pub expiry_warning: Duration,
    /// Test only: did:web hosts resolved over plain HTTP.
    pub insecure_http_hosts: Vec<String>,
    /// Test only: did:web host (with port if any, as in the DID) → the base URL it is fetched from instead.
    pub resolve: BTreeMap<String, String>,
    /// Whether partners' documents may point us at IP addresses and at names resolving to loopback, private or
    /// link-local addresses (a data space on a private network); off, only public addresses are fetched.
    pub allow_private_networks: bool,
    /// Whether status lists served as plain JSON (not signed) are accepted from their issuer's own host.
    pub accept_unsigned_status_lists: bool,
}

impl DcpConfig {
    /// Whether credentials of `credential_type` from `issuer` are accepted.
    pub fn trusts(&self, issuer: &str, credential_type: &str) -> bool {
        self.trusted_issuers
            .iter()
            .any(|t| t.id == issuer && t.types.iter().any(|k| k == "*" || k == credential_type))
    }
}

pub fn validate_dcp(
    raw: RawDcp,
    participant_id: &str,
    base: &Path,
    production: bool,
) -> Result<DcpConfig, ConfigError> {
    let did = DidWeb::parse(participant_id).map_err(|e| {
        invalid(
            "participant_id",
            format!("with [dcp], must be a did:web DID (e.g. did:web:city.example): {e}"),
        )
    })?;
    let mut trusted_issuers = Vec::with_capacity(raw.trusted_issuers.len());
    for (i, t) in raw.trusted_issuers.into_iter().enumerate() {
        trusted_issuers.push(trusted_issuer(i, t)?);
    }
    let required_credentials = raw
        .required_credentials
        .unwrap_or_else(|| vec!["MembershipCredential".into()]);
    if required_credentials.is_empty() {
        return Err(invalid(
            "dcp.required_credentials",
            "must name at least one credential type: without one, anyone with a did:web would authenticate",
        ));
    }
    for (i, t) in required_credentials.iter().enumerate() {
        credential_type(&format!("dcp.required_credentials[{i}]"), t)?;
    }
    for (i, t) in raw.present.iter().enumerate() {
        credential_type(&format!("dcp.present[{i}]"), t)?;
    }
    let key_relationships = match raw.key_relationships.as_deref().unwrap_or("strict") {
        "strict" => KeyRelationships::Strict,
        "lenient" => KeyRelationships::Lenient,
        other => {
            return Err(invalid(
                "dcp.key_relationships",
                format!("must be \"strict\" or \"lenient\", got {other:?}"),
            ))
        }
    };
    let presentation_format = match raw
        .presentation_format
        .as_deref()
        .unwrap_or("vc11-sl2021/jwt")
    {
        "vc11-sl2021/jwt" | "vc10-sl2021/jwt" => PresentationFormat::Vc11Jwt,
        "vc20-bssl/jwt" => PresentationFormat::Vc20Jose,
        other => {
            return Err(invalid(
                "dcp.presentation_format",
                format!("must be \"vc11-sl2021/jwt\" or \"vc20-bssl/jwt\", got {other:?}"),
            ))
        }
    };
    let seconds = |key: &str, v: Option<u64>, default: u64, max: u64| {
        let n = v.unwrap_or(default);
        if n == 0 || n > max {
            Err(invalid(
                key,
                format!("must be between 1 and {max} seconds, got {n}"),
            ))
        } else {
            Ok(Duration::from_secs(n))
        }
    };
    if production && (!raw.insecure_http_hosts.is_empty() || !raw.resolve.is_empty()) {
        let key = if raw.resolve.is_empty() {
            "dcp.insecure_http_hosts"
        } else {
            "dcp.resolve"
        };
        return Err(invalid(
            key,
            "a test-only setting, not allowed in production mode: did:web documents are fetched over HTTPS \
             from the host the DID names",
        ));
    }
    let mut resolve = BTreeMap::new();
    for (host, url) in raw.resolve {
        let key = format!("dcp.resolve.{host}");
        let parsed = url::Url::parse(&url)
            .map_err(|e| invalid(&key, format!("not a URL ({e}): {url:?}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(invalid(
                &key,
                format!("must be an http(s) base URL, got {url:?}"),
            ));
        }
        resolve.insert(
            host.to_ascii_lowercase(),
            url.trim_end_matches('/').to_string(),
        );
    }
    Ok(DcpConfig {
        did,
        trusted_issuers,
        required_credentials,
        credentials_dir: super::validate::resolve(
            base,
            raw.credentials_dir.as_deref().unwrap_or("credentials"),
        ),
        present: raw.present,
        key_relationships,
        presentation_format,
        did_cache: seconds("dcp.did_cache_seconds", raw.did_cache_seconds, 300, 86_400)?,
        status_cache: seconds(
            "dcp.status_cache_seconds",
            raw.status_cache_seconds,
            900,
            86_400,
        )?,
        expiry_warning: Duration::from_secs(
            86_400 * raw.expiry_warning_days.unwrap_or(14).min(365),
        ),
        insecure_http_hosts: raw
            .insecure_http_hosts
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        resolve,
        allow_private_networks: raw.allow_private_networks.unwrap_or(false),
        accept_unsigned_status_lists: raw.accept_unsigned_status_lists.unwrap_or(false),
    })
}

fn trusted_issuer(i: usize, raw: RawTrustedIssuer) -> Result<TrustedIssuer, ConfigError> {
    let key = format!("dcp.trusted_issuers[{i}]");
    let id = raw
        .id
        .ok_or_else(|| invalid(format!("{key}.id"), "required (the issuer's DID)"))?;
    if !id.starts_with("did:") {
        return Err(invalid(
            format!("{key}.id"),
            format!("must be a DID, got {id:?}"),
        ));
    }
    let types = raw.types.unwrap_or_else(|| vec!["*".into()]);
    if types.is_empty() {
        return Err(invalid(
            format!("{key}.types"),
            "must name at least one credential type (or \"*\" for any)",
        ));
    }
    for (j, t) in types.iter().enumerate() {
        if t != "*" {
            credential_type(&format!("{key}.types[{j}]"), t)?;
        }
    }
    Ok(TrustedIssuer { id, types })
}

/// A credential type as scopes carry it: no colon (the scope separator), no whitespace.
fn credential_type(key: &str, t: &str) -> Result<(), ConfigError> {
    if t.is_empty() || t.contains(':') || t.chars().any(char::is_whitespace) {
        return Err(invalid(
            key,
            format!("must be a credential type name such as MembershipCredential, got {t:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, KeyRelationships, PartnerKeys, PresentationFormat};

    const BASE: &str = r#"
participant_id = "did:web:city-a.example"
signing_key = "key.pem"
"#;
    const DEV: &str = "management_token = \"0123456789abcdef0123\"\n";
    const PROD: &str = "mode = \"production\"\n[oidc]\nissuer = \"https://id.city.example/realms/city\"\naudience = \"twinport\"\n";

    fn load(text: &str) -> Result<Config, String> {
        Config::from_toml(text, Path::new("/etc/twinport"), &[]).map_err(|e| e.to_string())
    }

    #[test]
    fn a_dcp_section_has_safe_defaults() {
        let c = load(&format!(
            "{BASE}{DEV}[dcp]\n[[dcp.trusted_issuers]]\nid = \"did:web:authority.example\"\n"
        ))
        .unwrap();
        let d = c.dcp.unwrap();
        assert_eq!(d.did.as_str(), "did:web:city-a.example");
        assert_eq!(d.required_credentials, vec!["MembershipCredential"]);
        assert_eq!(d.key_relationships, KeyRelationships::Strict);
        assert_eq!(d.presentation_format, PresentationFormat::Vc11Jwt);
        assert_eq!(d.credentials_dir, Path::new("/etc/twinport/credentials"));
        assert!(d.trusts("did:web:authority.example", "AnyCredential"));
        assert!(!d.trusts("did:web:other.example", "MembershipCredential"));
        assert!(d.insecure_http_hosts.is_empty() && d.resolve.is_empty());
    }

    #[test]
    fn what_would_weaken_dcp_is_refused_with_the_key_named() {
        for (extra, key) in [
            (
                "[dcp]\nrequired_credentials = []\n",
                "dcp.required_credentials",
            ),
            (
                "[dcp]\nrequired_credentials = [\"a:b\"]\n",
                "dcp.required_credentials[0]",
            ),
            (
                "[dcp]\nkey_relationships = \"loose\"\n",
                "dcp.key_relationships",
            ),
            (
                "[dcp]\npresentation_format = \"ldp\"\n",
                "dcp.presentation_format",
            ),
            ("[dcp]\ndid_cache_seconds = 0\n", "dcp.did_cache_seconds"),
            (
                "[dcp]\n[[dcp.trusted_issuers]]\nid = \"https://authority.example\"\n",
                "dcp.trusted_issuers[0].id",
            ),
            (
                "[dcp]\n[[dcp.trusted_issuers]]\nid = \"did:web:a.example\"\ntypes = []\n",
                "dcp.trusted_issuers[0].types",
            ),
            (
                "[dcp]\nresolve = { \"a.test\" = \"ftp://127.0.0.1\" }\n",
                "dcp.resolve.a.test",
            ),
            ("[dcp]\nunknown = 1\n", "unknown field"),
        ] {
            let e = load(&format!("{BASE}{DEV}{extra}")).expect_err(extra);
            assert!(e.contains(key), "{extra}: {e}");
        }
        let e = load(&format!(
            "participant_id = \"https://city-a.example\"\nsigning_key = \"k.pem\"\n{DEV}[dcp]\n"
        ))
        .unwrap_err();
        assert!(
            e.starts_with("participant_id: with [dcp], must be a did:web DID"),
            "{e}"
        );
    }

    #[test]
    fn the_test_only_resolver_settings_are_refused_in_production() {
        for extra in [
            "insecure_http_hosts = [\"localhost\"]\n",
            "resolve = { \"city-b.test\" = \"http://127.0.0.1:9000\" }\n",
        ] {
            let e = load(&format!("{BASE}{PROD}[dcp]\n{extra}")).unwrap_err();
            assert!(
                e.contains("test-only setting, not allowed in production mode"),
                "{e}"
            );
            assert!(load(&format!("{BASE}{DEV}[dcp]\n{extra}")).is_ok());
        }
        assert!(load(&format!("{BASE}{PROD}[dcp]\n")).is_ok());
    }

    #[test]
    fn a_partner_known_by_did_needs_no_keys_only_with_dcp() {
        let partner = "[[partners]]\nid = \"did:web:city-b.example\"\nname = \"City B\"\n";
        let c = load(&format!("{BASE}{DEV}{partner}[dcp]\n")).unwrap();
        assert!(matches!(c.partners[0].keys, PartnerKeys::Did));
        let e = load(&format!("{BASE}{DEV}{partner}")).unwrap_err();
        assert!(
            e.starts_with("partners[0].jwks: required") && e.contains("[dcp]"),
            "{e}"
        );
        let e = load(&format!(
            "{BASE}{DEV}[[partners]]\nid = \"https://city-b.example\"\n[dcp]\n"
        ))
        .unwrap_err();
        assert!(e.starts_with("partners[0].jwks: required"), "{e}");
    }
}
