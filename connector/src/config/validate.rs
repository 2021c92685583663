//! Turns a [`RawConfig`] into a [`Config`], checking each key and naming it in the error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawConfig, RawPartner};
use super::{CatalogueInfo, Config, LogFormat, PartnerConfig, PartnerKeys};
use crate::iri::is_absolute_uri;

/// Why a configuration was refused. Each message names the key and the problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {message}")]
    Read { path: String, message: String },
    #[error("config file is not valid TOML: {message}")]
    Syntax { message: String },
    #[error("{key}: {problem}")]
    Invalid { key: String, problem: String },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

pub fn validate(raw: RawConfig, base: &Path) -> Result<Config, ConfigError> {
    let participant_id = raw.participant_id.ok_or_else(|| {
        invalid(
            "participant_id",
            "required (an absolute URI, e.g. https://city.example/twinport)",
        )
    })?;
    if !is_absolute_uri(&participant_id) {
        return Err(invalid(
            "participant_id",
            format!("must be an absolute URI, got {participant_id:?}"),
        ));
    }
    let public_url = match raw.public_url {
        Some(url) => Some(http_url("public_url", &url)?),
        None => None,
    };
    let listen = socket_addr("listen", raw.listen.as_deref().unwrap_or("127.0.0.1:8080"))?;
    let management_listen = socket_addr(
        "management_listen",
        raw.management_listen.as_deref().unwrap_or("127.0.0.1:8081"),
    )?;
    let local_listen = socket_addr(
        "local_listen",
        raw.local_listen.as_deref().unwrap_or("127.0.0.1:8082"),
    )?;
    let data_dir = resolve(base, raw.data_dir.as_deref().unwrap_or("data"));
    let storage_url = match raw.storage_url {
        Some(url) => storage_url(&url, base)?,
        None => format!("sqlite://{}", data_dir.join("twinport.db").display()),
    };
    let signing_key_path = resolve(
        base,
        &raw.signing_key.ok_or_else(|| {
            invalid(
                "signing_key",
                "required (path to a PKCS#8 PEM Ed25519 or P-256 key)",
            )
        })?,
    );
    let catalogue_dir = resolve(base, raw.catalogue_dir.as_deref().unwrap_or("catalogue"));
    let management_token = raw.management_token.ok_or_else(|| {
        invalid(
            "management_token",
            "required (a random secret of at least 16 characters)",
        )
    })?;
    if management_token.len() < 16 {
        return Err(invalid(
            "management_token",
            "must be at least 16 characters long",
        ));
    }
    let log_format = match raw.log_format.as_deref().unwrap_or("human") {
        "human" => LogFormat::Human,
        "json" => LogFormat::Json,
        other => {
            return Err(invalid(
                "log_format",
                format!("must be \"human\" or \"json\", got {other:?}"),
            ))
        }
    };
    let backend_timeout = backend_timeout(raw.backend_timeout_seconds.as_ref())?;
    let catalogue = CatalogueInfo {
        title: raw
            .catalogue
            .title
            .unwrap_or_else(|| "Local Digital Twin resource catalogue".into()),
        description: raw.catalogue.description,
        publisher_id: match raw.catalogue.publisher_id {
            Some(id) if is_absolute_uri(&id) => id,
            Some(id) => {
                return Err(invalid(
                    "catalogue.publisher_id",
                    format!("must be an absolute URI, got {id:?}"),
                ))
            }
            None => participant_id.clone(),
        },
        publisher_name: raw
            .catalogue
            .publisher_name
            .unwrap_or_else(|| participant_id.clone()),
    };
    let mut partners = Vec::with_capacity(raw.partners.len());
    for (i, partner) in raw.partners.into_iter().enumerate() {
        let p = partner_config(i, partner)?;
        if p.id == participant_id {
            return Err(invalid(
                format!("partners[{i}].id"),
                "is this connector's own participant_id",
            ));
        }
        if partners.iter().any(|q: &PartnerConfig| q.id == p.id) {
            return Err(invalid(
                format!("partners[{i}].id"),
                format!("{} is configured twice", p.id),
            ));
        }
        partners.push(p);
    }
    Ok(Config {
        participant_id,
        public_url,
        listen,
        management_listen,
        local_listen,
        data_dir,
        storage_url,
        signing_key_path,
        catalogue_dir,
        management_token,
        log_format,
        catalogue,
        partners,
        backend_timeout,
    })
}

/// `backend_timeout_seconds`: 1 to 3600, default 30; the env override arrives as a string.
fn backend_timeout(value: Option<&toml::Value>) -> Result<std::time::Duration, ConfigError> {
    let seconds = match value {
        None => 30,
        Some(toml::Value::Integer(n)) => *n,
        Some(toml::Value::String(s)) => s.trim().parse::<i64>().map_err(|_| {
            invalid(
                "backend_timeout_seconds",
                format!("must be a whole number of seconds, got {s:?}"),
            )
        })?,
        Some(other) => {
            return Err(invalid(
                "backend_timeout_seconds",
                format!("must be a whole number of seconds, got {other}"),
            ))
        }
    };
    if !(1..=3600).contains(&seconds) {
        return Err(invalid(
            "backend_timeout_seconds",
            format!("must be between 1 and 3600, got {seconds}"),
        ));
    }
    Ok(std::time::Duration::from_secs(seconds as u64))
}

fn partner_config(i: usize, raw: RawPartner) -> Result<PartnerConfig, ConfigError> {
    let key = |field: &str| format!("partners[{i}].{field}");
    let id = raw
        .id
        .ok_or_else(|| invalid(key("id"), "required (the partner's participant id)"))?;
    if !is_absolute_uri(&id) {
        return Err(invalid(
            key("id"),
            format!("must be an absolute URI, got {id:?}"),
        ));
    }
    let url = match raw.url {
        Some(url) => Some(http_url(&key("url"), &url)?),
        None => None,
    };
    let keys = match (raw.jwks, raw.jwks_url) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                key("jwks"),
                "give either jwks or jwks_url, not both",
            ))
        }
        (None, None) => {
            return Err(invalid(
                key("jwks"),
                "required: the partner's public keys (jwks) or where to fetch them (jwks_url)",
            ))
        }
        (Some(inline), None) => {
            let json =
                serde_json::to_string(&inline).map_err(|e| invalid(key("jwks"), e.to_string()))?;
            let jwks = twinport_contracts::identity::Jwks::from_json_str(&json)
                .map_err(|e| invalid(key("jwks"), e.to_string()))?;
            if jwks.keys.is_empty() {
                return Err(invalid(key("jwks"), "has no keys"));
            }
            PartnerKeys::Inline(jwks)
        }
        (None, Some(url)) => PartnerKeys::Url {
            url: http_url(&key("jwks_url"), &url)?,
            cache_for: Duration::from_secs(raw.jwks_cache_seconds.unwrap_or(300)),
        },
    };
    let claims = serde_json::to_value(&raw.claims)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    Ok(PartnerConfig {
        id,
        name: raw.name,
        url,
        keys,
        claims,
    })
}

fn socket_addr(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        invalid(
            key,
            format!("must be an address like 127.0.0.1:8080, got {value:?}"),
        )
    })
}

fn http_url(key: &str, value: &str) -> Result<String, ConfigError> {
    let url =
        url::Url::parse(value).map_err(|e| invalid(key, format!("not a URL ({e}): {value:?}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(
            key,
            format!("must be an http or https URL, got {value:?}"),
        ));
    }
    Ok(value.trim_end_matches('/').to_string())
}

fn storage_url(value: &str, base: &Path) -> Result<String, ConfigError> {
    if let Some(path) = value.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(invalid(
                "storage_url",
                "sqlite:// needs a file path, e.g. sqlite://data/twinport.db",
            ));
        }
        let (file, query) = path
            .split_once('?')
            .map_or((path, None), |(f, q)| (f, Some(q)));
        let resolved = resolve(base, file);
        return Ok(match query {
            Some(q) => format!("sqlite://{}?{q}", resolved.display()),
            None => format!("sqlite://{}", resolved.display()),
        });
    }
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        url::Url::parse(value)
            .map_err(|e| invalid("storage_url", format!("not a valid PostgreSQL URL: {e}")))?;
        return Ok(value.to_string());
    }
    Err(invalid(
        "storage_url",
        format!("must start with sqlite:// or postgres://, got {value:?}"),
    ))
}

fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError, LogFormat};
    use std::path::Path;

    const MINIMAL: &str = r#"
participant_id = "https://city-a.example/twinport"
signing_key = "key.pem"
management_token = "0123456789abcdef0123"
"#;

    fn load(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Config::from_toml(text, Path::new("/etc/twinport"), &vars)
    }

    fn error_of(text: &str) -> String {
        load(text, &[])
            .expect_err("config should be refused")
            .to_string()
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = load(MINIMAL, &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.management_listen.to_string(), "127.0.0.1:8081");
        assert_eq!(c.local_listen.to_string(), "127.0.0.1:8082");
        assert_eq!(c.storage_url, "sqlite:///etc/twinport/data/twinport.db");
        assert_eq!(c.signing_key_path, Path::new("/etc/twinport/key.pem"));
        assert_eq!(c.catalogue_dir, Path::new("/etc/twinport/catalogue"));
        assert_eq!(c.log_format, LogFormat::Human);
        assert!(c.partners.is_empty());
    }

    #[test]
    fn environment_overrides_file_and_ignores_unknown_variables() {
        let c = load(
            MINIMAL,
            &[
                ("TWINPORT_LISTEN", "0.0.0.0:9000"),
                ("TWINPORT_STORAGE_URL", "postgres://db/twinport"),
                ("TWINPORT_CATALOGUE_TITLE", "City A"),
                ("TWINPORT_TEST_DATABASE_URL", "postgres://elsewhere"),
            ],
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.storage_url, "postgres://db/twinport");
        assert_eq!(c.catalogue.title, "City A");
    }

    #[test]
    fn bad_values_name_their_key() {
        assert!(
            error_of("signing_key = \"k\"\nmanagement_token = \"0123456789abcdef\"")
                .starts_with("participant_id: required")
        );
        let bad_id = MINIMAL.replace("https://city-a.example/twinport", "city-a");
        assert!(error_of(&bad_id).starts_with("participant_id: must be an absolute URI"));
        assert!(error_of(&format!("{MINIMAL}listen = \"nowhere\"")).starts_with("listen:"));
        assert!(error_of(&format!("{MINIMAL}local_listen = \"localhost\""))
            .starts_with("local_listen:"));
        let moved = load(MINIMAL, &[("TWINPORT_LOCAL_LISTEN", "10.0.0.5:9082")]).unwrap();
        assert_eq!(moved.local_listen.to_string(), "10.0.0.5:9082");
        assert!(
            error_of(&format!("{MINIMAL}storage_url = \"mysql://x\"")).starts_with("storage_url:")
        );
        assert!(error_of(&format!("{MINIMAL}log_format = \"xml\"")).starts_with("log_format:"));
        assert!(error_of(&format!("{MINIMAL}public_url = \"ftp://x\"")).starts_with("public_url:"));
        let short = MINIMAL.replace("0123456789abcdef0123", "short");
        assert!(error_of(&short).starts_with("management_token:"));
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_refused() {
        assert!(error_of(&format!("{MINIMAL}listen_adress = \"x\""))
            .contains("unknown field `listen_adress`"));
        assert!(error_of("participant_id = ").contains("not valid TOML"));
    }

    #[test]
    fn partners_need_keys_and_unique_absolute_ids() {
        let no_keys = format!("{MINIMAL}[[partners]]\nid = \"https://city-b.example\"\n");
        assert!(error_of(&no_keys).starts_with("partners[0].jwks: required"));
        let relative =
            format!("{MINIMAL}[[partners]]\nid = \"city-b\"\njwks_url = \"https://b/jwks\"\n");
        assert!(error_of(&relative).starts_with("partners[0].id: must be an absolute URI"));
        let twice = format!(
            "{MINIMAL}[[partners]]\nid = \"https://b.example\"\njwks_url = \"https://b/j\"\n[[partners]]\nid = \"https://b.example\"\njwks_url = \"https://b/j\"\n"
        );
        assert!(error_of(&twice).starts_with("partners[1].id:"));
        let ok = format!(
            "{MINIMAL}[[partners]]\nid = \"https://b.example\"\njwks_url = \"https://b.example/.well-known/jwks.json\"\nclaims = {{ region = \"NL\" }}\n"
        );
        let c = load(&ok, &[]).unwrap();
        assert_eq!(c.partners[0].claims["region"], "NL");
    }

    #[test]
    fn backend_timeout_defaults_reads_env_and_names_its_key() {
        assert_eq!(load(MINIMAL, &[]).unwrap().backend_timeout.as_secs(), 30);
        let c = load(&format!("{MINIMAL}backend_timeout_seconds = 5"), &[]).unwrap();
        assert_eq!(c.backend_timeout.as_secs(), 5);
        let c = load(MINIMAL, &[("TWINPORT_BACKEND_TIMEOUT_SECONDS", "7")]).unwrap();
        assert_eq!(c.backend_timeout.as_secs(), 7);
        assert!(error_of(&format!("{MINIMAL}backend_timeout_seconds = 0"))
            .starts_with("backend_timeout_seconds:"));
        assert!(
            error_of(&format!("{MINIMAL}backend_timeout_seconds = \"soon\""))
                .starts_with("backend_timeout_seconds:")
        );
    }
}
