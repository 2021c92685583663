//! Configuration: the raw TOML file plus `TWINPORT_...` environment overrides, validated into a typed [`Config`]
//! before any port is bound. Every problem names the key it concerns, so a bad deployment stops with a message an
//! operator can act on.

mod env;
mod raw;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use raw::RawConfig;
pub use validate::ConfigError;

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
    pub management_token: String,
    pub log_format: LogFormat,
    pub catalogue: CatalogueInfo,
    pub partners: Vec<PartnerConfig>,
    /// Data plane: how long to wait for a backend's response headers before answering 504.
    pub backend_timeout: Duration,
}

/// Catalogue-level metadata published with the DCAT-AP catalogue.
#[derive(Debug, Clone)]
pub struct CatalogueInfo {
    pub title: String,
    pub description: Option<String>,
    pub publisher_id: String,
    pub publisher_name: String,
}

/// Where a partner's public keys come from.
#[derive(Debug, Clone)]
pub enum PartnerKeys {
    Inline(twinport_contracts::identity::Jwks),
    Url { url: String, cache_for: Duration },
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
