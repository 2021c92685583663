//! The configuration file as written: every key optional where a default exists, unknown keys rejected so typos
//! surface at start-up instead of being silently ignored.

use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub participant_id: Option<String>,
    pub public_url: Option<String>,
    pub listen: Option<String>,
    pub management_listen: Option<String>,
    pub local_listen: Option<String>,
    pub data_dir: Option<String>,
    pub storage_url: Option<String>,
    pub signing_key: Option<String>,
    pub catalogue_dir: Option<String>,
    pub management_token: Option<String>,
    pub log_format: Option<String>,
    pub audit_witness_interval_seconds: Option<u64>,
    /// Data plane: seconds to wait for a backend's response headers (integer, or a numeric string from the env).
    pub backend_timeout_seconds: Option<toml::Value>,
    /// Seconds a stop lets requests in flight finish before ending their connections (integer, or a numeric
    /// string from the env).
    pub shutdown_drain_seconds: Option<toml::Value>,
    /// Data plane: the largest body a provider may push to us, in MiB (integer, or a numeric string from the env).
    pub max_push_mb: Option<toml::Value>,
    /// IANA time zone usage policies are read in, unless a policy names its own.
    pub policy_time_zone: Option<String>,
    /// Host names (without port) the local endpoint answers to.
    pub local_hosts: Option<Vec<String>>,
    /// Web origins whose pages may call the local endpoint from a browser.
    pub local_allowed_origins: Option<Vec<String>>,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub contracts: RawContracts,
    #[serde(default)]
    pub catalogue: RawCatalogue,
    #[serde(default)]
    pub partners: Vec<RawPartner>,
    #[serde(default)]
    pub telemetry: super::telemetry::RawTelemetry,
    #[serde(default)]
    pub tls: RawTls,
    pub mode: Option<String>,
    pub oidc: Option<RawOidc>,
    pub dcp: Option<RawDcp>,
}

/// `[limits]`: what one client may take of a listener.
/// `[contracts]`: how this connector takes part in negotiations and transfers.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawContracts {
    /// Milliseconds a partner's message, arriving while our own message for that process awaits acknowledgement,
    /// waits for that acknowledgement before it is judged.
    pub ack_wait_ms: Option<toml::Value>,
    /// Id of a policy an offer must satisfy to be accepted without the operator (consumer side).
    pub accept_policy: Option<String>,
    /// Provider side: finalize only agreements the consumer countersigned.
    pub require_countersignature: Option<bool>,
    /// Consumer side: a negotiation for a partner's model, or for a dataset checked as a model's input, goes out
    /// only after a passing alignment check of the current descriptions.
    pub require_alignment: Option<bool>,
    /// Hours an alignment check stays good for `require_alignment`.
    pub alignment_max_age_hours: Option<toml::Value>,
    /// Provider side: seconds a pull token lasts before the consumer must renew it.
    pub pull_token_lifetime_seconds: Option<toml::Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Seconds a client has to send a request's headers (and an idle kept-alive connection to start the next).
    pub header_timeout_seconds: Option<toml::Value>,
    /// Connections each listener serves at once; more wait to be accepted.
    pub max_connections: Option<toml::Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert: Option<String>,
    pub key: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    pub ca: Option<String>,
    pub backend_ca: Option<String>,
    pub mutual: Option<bool>,
    pub system_roots: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCatalogue {
    pub title: Option<String>,
    pub description: Option<String>,
    pub publisher_id: Option<String>,
    pub publisher_name: Option<String>,
    /// The city's or the twin's web page.
    pub homepage: Option<String>,
    /// ISO 639-1 codes of the catalogue's languages, the default for its resources.
    pub language: Option<Vec<String>>,
    /// Default licence of the resources (EU licence table code or IRI, or SPDX licence IRI).
    pub license: Option<String>,
    /// Default contact point of the resources, and the catalogue's own.
    pub contact_point: Option<super::ContactPoint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPartner {
    pub id: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub jwks: Option<toml::Value>,
    pub jwks_url: Option<String>,
    pub jwks_cache_seconds: Option<u64>,
    #[serde(default)]
    pub claims: toml::Table,
    pub tls_fingerprint: Option<String>,
    pub tls_ca: Option<String>,
    /// This partner's acceptance policy, instead of `[contracts] accept_policy`.
    pub accept_policy: Option<String>,
}

/// `[oidc]`: the city's OpenID Connect provider whose access tokens the management API accepts.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    pub issuer: Option<String>,
    /// One audience (a string) or a list of them.
    pub audience: Option<toml::Value>,
    pub roles_claim: Option<String>,
    pub algorithms: Option<Vec<String>>,
    pub leeway_seconds: Option<u64>,
    pub key_refresh_seconds: Option<u64>,
    pub key_cache_seconds: Option<u64>,
    #[serde(default)]
    pub roles: RawOidcRoles,
}

/// `[oidc.roles]`: for each Twinport role, the claim values that grant it.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawOidcRoles {
    pub operator: Option<Vec<String>>,
    pub legal: Option<Vec<String>>,
    pub auditor: Option<Vec<String>>,
    pub viewer: Option<Vec<String>>,
}

/// `[dcp]`: identity by DID and verifiable credentials (DCP 1.0).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDcp {
    #[serde(default)]
    pub trusted_issuers: Vec<RawTrustedIssuer>,
    pub required_credentials: Option<Vec<String>>,
    pub credentials_dir: Option<String>,
    #[serde(default)]
    pub present: Vec<String>,
    pub key_relationships: Option<String>,
    pub presentation_format: Option<String>,
    pub did_cache_seconds: Option<u64>,
    pub status_cache_seconds: Option<u64>,
    pub expiry_warning_days: Option<u64>,
    #[serde(default)]
    pub insecure_http_hosts: Vec<String>,
    #[serde(default)]
    pub resolve: std::collections::BTreeMap<String, String>,
    pub allow_private_networks: Option<bool>,
    pub accept_unsigned_status_lists: Option<bool>,
}

/// One `[[dcp.trusted_issuers]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrustedIssuer {
    pub id: Option<String>,
    pub types: Option<Vec<String>>,
}
