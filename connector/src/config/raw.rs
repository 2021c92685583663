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
    /// Data plane: seconds to wait for a backend's response headers (integer, or a numeric string from the env).
    pub backend_timeout_seconds: Option<toml::Value>,
    #[serde(default)]
    pub catalogue: RawCatalogue,
    #[serde(default)]
    pub partners: Vec<RawPartner>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawCatalogue {
    pub title: Option<String>,
    pub description: Option<String>,
    pub publisher_id: Option<String>,
    pub publisher_name: Option<String>,
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
}
