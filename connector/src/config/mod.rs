//! Configuration: the raw TOML file plus `TWINPORT_...` environment overrides, validated into a typed [`Config`]
//! before any port is bound. Every problem names the key it concerns, so a bad deployment stops with a message an
//! operator can act on.

mod contact;
mod dcp;
mod env;
mod fingerprint;
mod oidc;
mod raw;
mod roles;
mod telemetry;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use contact::ContactPoint;
pub use dcp::{DcpConfig, KeyRelationships, PresentationFormat, TrustedIssuer};
pub use fingerprint::{Fingerprint, FingerprintError};
pub use oidc::{OidcConfig, DEFAULT_ALGORITHMS, SUPPORTED_ALGORITHMS};
pub use raw::RawConfig;
pub use roles::Role;
pub use telemetry::TelemetryConfig;
pub use validate::{partner_from_json, ConfigError};

/// How the connector logs: human-readable lines or one JSON object per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// A validated configuration. Paths are absolute (resolved against the config file's directory).
#[derive(Debug, Clone)]
pub struct Config {
    /// This connector's participant id (an absolute URI), the `iss` of every token it sends.
    pub participant_id: String,
    /// The URL partners use to reach the DSP listener; `None` means "derive it from the bound address".
    pub public_url: Option<String>,
    pub listen: SocketAddr,
    pub management_listen: SocketAddr,
    /// The consumer-side data plane for the city's own applications (no tokens; keep it internal).
    pub local_listen: SocketAddr,
    pub data_dir: PathBuf,
    pub storage_url: String,
    pub signing_key_path: PathBuf,
    pub catalogue_dir: PathBuf,
    /// The static bearer token for embedded and development use; refused in production mode.
    pub management_token: Option<String>,
    pub log_format: LogFormat,
    /// How often every configured partner's audit checkpoint is checked for a split view; `None` = never.
    pub audit_witness_interval: Option<Duration>,
    pub catalogue: CatalogueInfo,
    pub partners: Vec<PartnerConfig>,
    /// Metrics access and OpenTelemetry traces (`[telemetry]`).
    pub telemetry: TelemetryConfig,
    /// Transport security: our certificates, whom we trust, and whether partners must present a certificate.
    pub tls: TlsConfig,
    pub mode: Mode,
    /// The OIDC provider whose access tokens people use on the management API.
    pub oidc: Option<OidcConfig>,
    /// Data plane: how long to wait for a backend's response headers before answering 504.
    pub backend_timeout: Duration,
    /// How long a stop lets requests in flight finish before it ends the connections still open.
    pub shutdown_drain: Duration,
    /// Data plane: the largest body accepted from a provider pushing to us, in MiB (larger ones are refused with
    /// 413 and nothing is kept).
    pub max_push_mb: u64,
    /// The time zone usage policies are read in (dates are whole local days, `dayOfWeek`, `timeOfDay`), unless
    /// a policy names its own.
    pub policy_time_zone: twinport_policy::zone::PolicyZone,
    /// Host names (lowercase, without port) the local endpoint answers to: anything else is refused, so a web page
    /// cannot reach it under a host name of its own (DNS rebinding).
    pub local_hosts: Vec<String>,
    /// Web origins (`https://dashboard.city.example`) whose pages may call the local endpoint from a browser;
    /// other cross-site browser requests are refused.
    pub local_allowed_origins: Vec<String>,
    /// What one client may take of a listener.
    pub limits: Limits,
    /// `[contracts]` and the partners' `accept_policy` keys.
    pub contracts: ContractsConfig,
    /// `[dcp]`: identity by DID and verifiable credentials; `None` = partners authenticate by configured keys only.
    pub dcp: Option<DcpConfig>,
}

/// `[contracts] pull_token_lifetime_seconds` when not set: 15 minutes.
pub const DEFAULT_PULL_TOKEN_LIFETIME_SECONDS: u64 = 900;

/// How this connector takes part in negotiations and transfers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractsConfig {
    /// How long a partner's message that is only legal once our in-flight message is acknowledged waits for that
    /// acknowledgement before it is judged (a partner may answer us and send its next message at once).
    pub ack_wait: Duration,
    /// The policy an offer must satisfy to be accepted without the operator, for partners without their own.
    pub accept_policy: Option<String>,
    /// Per-partner acceptance policies, by partner id.
    pub partner_accept_policies: std::collections::BTreeMap<String, String>,
    /// Provider side: a verification without the consumer's countersignature ends the negotiation instead of
    /// finalizing it, for cities whose legal team wants every agreement signed by both parties.
    pub require_countersignature: bool,
    /// Consumer side: negotiations for a partner's model, or for a dataset checked as a model's input, need a
    /// passing alignment check of the current descriptions first.
    pub require_alignment: bool,
    /// How long such a check stays good.
    pub alignment_max_age: Duration,
    /// Provider side: how long a pull token lasts. Consumers that know the `pull-token-renewal` extension renew it
    /// before it expires; a short lifetime limits what a leaked token is worth.
    pub pull_token_lifetime: Duration,
}

impl Default for ContractsConfig {
    fn default() -> Self {
        ContractsConfig {
            ack_wait: Duration::from_millis(1000),
            accept_policy: None,
            partner_accept_policies: Default::default(),
            require_countersignature: false,
            require_alignment: false,
            alignment_max_age: Duration::from_secs(24 * 3600),
            pull_token_lifetime: Duration::from_secs(DEFAULT_PULL_TOKEN_LIFETIME_SECONDS),
        }
    }
}

impl ContractsConfig {
    /// The acceptance policy that applies to offers from `partner`, if any.
    pub fn accept_policy_for(&self, partner: &str) -> Option<&str> {
        self.partner_accept_policies
            .get(partner)
            .or(self.accept_policy.as_ref())
            .map(String::as_str)
    }
}

/// `[limits]`, applied to every listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client has to send a request's headers; an idle kept-alive connection is closed after it too.
    pub header_timeout: Duration,
    /// Connections each listener serves at once; further clients wait in the accept queue.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// The `[tls]` table and the partners' `tls_fingerprint` / `tls_ca` keys. Without `cert` and `key` every listener
/// serves plain HTTP (development); the trust settings still apply to our outgoing requests.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// Certificate chain and private key served on every listener.
    pub server: Option<CertKeyFiles>,
    /// What we present to partners as a client; defaults to `server`.
    pub client: Option<CertKeyFiles>,
    /// PEM bundle of CAs trusted to issue partner connectors' certificates (as servers and as clients).
    pub ca: Option<PathBuf>,
    /// PEM bundle of CAs trusted to issue the certificates of https backends (the city's own platforms).
    pub backend_ca: Option<PathBuf>,
    /// Whether the DSP/public listener requires a client certificate matching the authenticated partner.
    pub mutual: bool,
    /// Whether outgoing requests also trust the built-in public roots (Mozilla's list).
    pub system_roots: bool,
    /// Per-partner certificate expectations, in `partners` order.
    pub partners: Vec<PartnerTls>,
}

/// A certificate chain file and its private key file (PEM), with the config keys they came from.
#[derive(Debug, Clone)]
pub struct CertKeyFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub cert_key: &'static str,
    pub key_key: &'static str,
}

/// How a partner's certificate is recognised: pinned by SHA-256 fingerprint, issued by its CA, or either.
#[derive(Debug, Clone)]
pub struct PartnerTls {
    pub partner: String,
    /// The config key prefix, `partners[i]`, for messages.
    pub key: String,
    pub fingerprint: Option<Fingerprint>,
    pub ca: Option<PathBuf>,
}

/// Development accepts the static management token; production requires OIDC and refuses the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

/// Catalogue-level metadata published with the DCAT-AP catalogue.
#[derive(Debug, Clone)]
pub struct CatalogueInfo {
    pub title: String,
    pub description: Option<String>,
    pub publisher_id: String,
    pub publisher_name: String,
    pub homepage: Option<String>,
    /// Never empty: English unless configured.
    pub language: Vec<crate::authority::Language>,
    pub license: Option<crate::authority::Licence>,
    pub contact_point: Option<ContactPoint>,
}

/// Where a partner's public keys come from.
#[derive(Debug, Clone)]
pub enum PartnerKeys {
    Inline(twinport_contracts::identity::Jwks),
    Url {
        url: String,
        cache_for: Duration,
    },
    /// The partner is known by its DID: its keys are in its DID document, its claims in its credentials (DCP).
    Did,
}

/// A partner connector this connector trusts.
#[derive(Debug, Clone)]
pub struct PartnerConfig {
    pub id: String,
    pub name: Option<String>,
    /// Root URL of the partner's connector (where `/.well-known/dspace-version` lives).
    pub url: Option<String>,
    pub keys: PartnerKeys,
    /// Claims this connector attests for the partner (membership, region, ...), as policies see them.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl Config {
    /// Reads `path`, applies the process environment and validates.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let vars: Vec<(String, String)> = std::env::vars().collect();
        Self::from_toml(&text, path.parent().unwrap_or(Path::new(".")), &vars)
    }

    /// Parses and validates a config text; `base` resolves relative paths and `vars` are the environment.
    pub fn from_toml(
        text: &str,
        base: &Path,
        vars: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut doc: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    message: e.message().to_string(),
                })?;
        env::apply_overrides(&mut doc, vars)?;
        let raw: RawConfig = toml::Value::Table(doc)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Syntax {
                message: e.message().to_string(),
            })?;
        validate::validate(raw, base)
    }

    /// The partner with this participant id, if configured.
    pub fn partner(&self, id: &str) -> Option<&PartnerConfig> {
        self.partners.iter().find(|p| p.id == id)
    }
}
