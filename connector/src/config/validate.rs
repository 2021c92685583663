//! Turns a [`RawConfig`] into a [`Config`], checking each key and naming it in the error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawConfig, RawPartner, RawTls};
use super::{
    CatalogueInfo, CertKeyFiles, Config, LogFormat, Mode, PartnerConfig, PartnerKeys, PartnerTls,
    TlsConfig,
};
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

pub(super) fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

/// Longest allowed period between automatic partner checkpoint checks: a split view should not stay hidden longer.
const MAX_WITNESS_INTERVAL_SECONDS: u64 = 7 * 24 * 3600;

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
    let mode = match raw.mode.as_deref().unwrap_or("development") {
        "development" => Mode::Development,
        "production" => Mode::Production,
        other => {
            return Err(invalid(
                "mode",
                format!("must be \"development\" or \"production\", got {other:?}"),
            ))
        }
    };
    let production = mode == Mode::Production;
    let oidc = match raw.oidc {
        Some(section) => Some(super::oidc::validate_oidc(section, production)?),
        None if production => {
            return Err(invalid(
                "oidc",
                "required in production mode: people sign in to the management API through the city's OIDC provider",
            ))
        }
        None => None,
    };
    let management_token =
        match raw.management_token {
            Some(_) if production => return Err(invalid(
                "management_token",
                "not allowed in production mode (a shared secret names nobody in the audit log); \
                 remove it and use [oidc], or set mode = \"development\"",
            )),
            Some(token) if token.len() < 16 => {
                return Err(invalid(
                    "management_token",
                    "must be at least 16 characters long",
                ))
            }
            Some(token) => Some(token),
            None if oidc.is_none() => return Err(invalid(
                "management_token",
                "required unless [oidc] is configured (a random secret of at least 16 characters)",
            )),
            None => None,
        };
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
    let audit_witness_interval = match raw.audit_witness_interval_seconds.unwrap_or(300) {
        0 => None,
        s if s > MAX_WITNESS_INTERVAL_SECONDS => {
            return Err(invalid(
                "audit_witness_interval_seconds",
                format!("must be at most {MAX_WITNESS_INTERVAL_SECONDS} (one week), or 0 to turn the checks off"),
            ))
        }
        s => Some(Duration::from_secs(s)),
    };
    let backend_timeout = std::time::Duration::from_secs(whole_number(
        "backend_timeout_seconds",
        "a whole number of seconds",
        raw.backend_timeout_seconds.as_ref(),
        30,
        1..=3600,
    )?);
    let shutdown_drain = std::time::Duration::from_secs(whole_number(
        "shutdown_drain_seconds",
        "a whole number of seconds",
        raw.shutdown_drain_seconds.as_ref(),
        DEFAULT_SHUTDOWN_DRAIN_SECONDS,
        1..=3600,
    )?);
    let max_push_mb = whole_number(
        "max_push_mb",
        "a whole number of MiB",
        raw.max_push_mb.as_ref(),
        DEFAULT_MAX_PUSH_MB,
        1..=MAX_PUSH_MB,
    )?;
    let limits = super::Limits {
        header_timeout: std::time::Duration::from_secs(whole_number(
            "limits.header_timeout_seconds",
            "a whole number of seconds",
            raw.limits.header_timeout_seconds.as_ref(),
            30,
            1..=3600,
        )?),
        max_connections: usize::try_from(whole_number(
            "limits.max_connections",
            "a whole number of connections",
            raw.limits.max_connections.as_ref(),
            1024,
            1..=1_000_000,
        )?)
        .unwrap_or(1024),
    };
    let local_hosts = local_hosts(raw.local_hosts.as_deref(), &local_listen)?;
    let local_allowed_origins = origins(raw.local_allowed_origins.as_deref().unwrap_or(&[]))?;
    let policy_time_zone = match raw.policy_time_zone.as_deref() {
        None => twinport_policy::zone::PolicyZone::utc(),
        Some(name) => twinport_policy::zone::PolicyZone::named(name)
            .map_err(|e| invalid("policy_time_zone", e))?,
    };
    for (key, value) in [
        ("catalogue.title", &raw.catalogue.title),
        ("catalogue.description", &raw.catalogue.description),
        ("catalogue.publisher_name", &raw.catalogue.publisher_name),
    ] {
        if let Some(v) = value {
            if v.trim().is_empty() {
                return Err(invalid(
                    key,
                    "must not be empty (leave the key out for the default)",
                ));
            }
            if let Some(problem) = crate::iri::text_problem(v) {
                return Err(invalid(key, problem));
            }
        }
    }
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
        homepage: match raw.catalogue.homepage {
            Some(url) if crate::iri::is_web_url(&url) => Some(url),
            Some(url) => {
                return Err(invalid(
                    "catalogue.homepage",
                    format!("must be an http(s) URL, got {url:?}"),
                ))
            }
            None => None,
        },
        language: match raw.catalogue.language {
            None => vec![crate::authority::Language::parse("en")
                .expect("English is in the language table")],
            Some(codes) if codes.is_empty() => {
                return Err(invalid("catalogue.language", "must list at least one language"))
            }
            Some(codes) => codes
                .iter()
                .map(|c| {
                    crate::authority::Language::parse(c).ok_or_else(|| {
                        invalid(
                            "catalogue.language",
                            format!(
                                "unknown language {c:?} (one of {})",
                                crate::authority::Language::known()
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        },
        license: match raw.catalogue.license {
            None => None,
            Some(l) => Some(crate::authority::Licence::parse(&l).ok_or_else(|| {
                invalid(
                    "catalogue.license",
                    format!("{l:?} is neither an EU licence table code or IRI (such as CC_BY_4_0) nor an SPDX licence IRI"),
                )
            })?),
        },
        contact_point: match raw.catalogue.contact_point {
            None => None,
            Some(c) => {
                if let Some((field, problem)) = c.problems("catalogue.contact_point").first() {
                    return Err(invalid(field.clone(), problem.clone()));
                }
                Some(c)
            }
        },
    };
    let mut contracts = super::ContractsConfig {
        ack_wait: std::time::Duration::from_millis(whole_number(
            "contracts.ack_wait_ms",
            "a whole number of milliseconds",
            raw.contracts.ack_wait_ms.as_ref(),
            1000,
            0..=30_000,
        )?),
        accept_policy: policy_id("contracts.accept_policy", raw.contracts.accept_policy)?,
        partner_accept_policies: Default::default(),
        require_countersignature: raw.contracts.require_countersignature.unwrap_or(false),
        require_alignment: raw.contracts.require_alignment.unwrap_or(false),
        alignment_max_age: std::time::Duration::from_secs(
            3600 * whole_number(
                "contracts.alignment_max_age_hours",
                "a whole number of hours",
                raw.contracts.alignment_max_age_hours.as_ref(),
                24,
                1..=24 * 365,
            )?,
        ),
        // At least 2 s, so a consumer renewing at two thirds of the lifetime has time to do it; at most a day.
        pull_token_lifetime: std::time::Duration::from_secs(whole_number(
            "contracts.pull_token_lifetime_seconds",
            "a whole number of seconds",
            raw.contracts.pull_token_lifetime_seconds.as_ref(),
            super::DEFAULT_PULL_TOKEN_LIFETIME_SECONDS,
            2..=86_400,
        )?),
    };
    let mut partners = Vec::with_capacity(raw.partners.len());
    let mut partner_tls = Vec::new();
    for (i, mut partner) in raw.partners.into_iter().enumerate() {
        let accept_policy = policy_id(
            &format!("partners[{i}].accept_policy"),
            partner.accept_policy.take(),
        )?;
        let (p, tls) = partner_tls_of(i, partner, base)?;
        let p = partner_config(&format!("partners[{i}]."), p)?;
        if let Some(policy) = accept_policy {
            contracts
                .partner_accept_policies
                .insert(p.id.clone(), policy);
        }
        if let Some(mut tls) = tls {
            tls.partner = p.id.clone();
            partner_tls.push(tls);
        }
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
    let dcp = match raw.dcp {
        Some(d) => Some(super::dcp::validate_dcp(
            d,
            &participant_id,
            base,
            production,
        )?),
        None => None,
    };
    for (i, p) in partners.iter().enumerate() {
        if matches!(p.keys, PartnerKeys::Did) && dcp.is_none() {
            return Err(invalid(
                format!("partners[{i}].jwks"),
                "required: the partner's public keys (jwks) or where to fetch them (jwks_url); \
                 a partner known only by its DID needs a [dcp] section",
            ));
        }
    }
    let telemetry = super::telemetry::validate(raw.telemetry)?;
    let tls = tls_config(raw.tls, base, &partners, partner_tls)?;
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
        audit_witness_interval,
        catalogue,
        partners,
        backend_timeout,
        shutdown_drain,
        max_push_mb,
        policy_time_zone,
        local_hosts,
        local_allowed_origins,
        limits,
        contracts,
        mode,
        oidc,
        telemetry,
        tls,
        dcp,
    })
}

/// A policy id named in the config. Whether it exists is known only when an offer arrives: an unknown one leaves
/// the offer to the operator, with that reason recorded (fail closed).
fn policy_id(key: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        None => Ok(None),
        Some(id) => twinport_contracts::ids::check_id(&id)
            .map(|()| Some(id))
            .map_err(|e| invalid(key, e.to_string())),
    }
}

/// Splits a partner's TLS keys off, so the rest of its entry validates as before.
fn partner_tls_of(
    i: usize,
    mut raw: RawPartner,
    base: &Path,
) -> Result<(RawPartner, Option<PartnerTls>), ConfigError> {
    let fingerprint = match raw.tls_fingerprint.take() {
        Some(text) => Some(
            crate::config::Fingerprint::parse(&text)
                .map_err(|e| invalid(format!("partners[{i}].tls_fingerprint"), e.to_string()))?,
        ),
        None => None,
    };
    let ca = raw.tls_ca.take().map(|p| resolve(base, &p));
    let tls = (fingerprint.is_some() || ca.is_some()).then(|| PartnerTls {
        partner: String::new(),
        key: format!("partners[{i}]"),
        fingerprint,
        ca,
    });
    Ok((raw, tls))
}

fn tls_config(
    raw: RawTls,
    base: &Path,
    partners: &[PartnerConfig],
    partner_tls: Vec<PartnerTls>,
) -> Result<TlsConfig, ConfigError> {
    let pair = |cert: Option<String>,
                key: Option<String>,
                cert_key: &'static str,
                key_key: &'static str|
     -> Result<Option<CertKeyFiles>, ConfigError> {
        match (cert, key) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(invalid(
                key_key,
                format!("required with {cert_key} (PEM private key file)"),
            )),
            (None, Some(_)) => Err(invalid(
                cert_key,
                format!("required with {key_key} (PEM certificate chain file)"),
            )),
            (Some(cert), Some(key)) => Ok(Some(CertKeyFiles {
                cert: resolve(base, &cert),
                key: resolve(base, &key),
                cert_key,
                key_key,
            })),
        }
    };
    let server = pair(raw.cert, raw.key, "tls.cert", "tls.key")?;
    let client = pair(
        raw.client_cert,
        raw.client_key,
        "tls.client_cert",
        "tls.client_key",
    )?;
    let mutual = raw.mutual.unwrap_or(false);
    if mutual {
        if server.is_none() {
            return Err(invalid(
                "tls.mutual",
                "needs tls.cert and tls.key: mutual TLS is served over HTTPS",
            ));
        }
        // Fail closed: a partner we could not recognise by certificate could never be authenticated.
        for (i, p) in partners.iter().enumerate() {
            if !partner_tls.iter().any(|t| t.partner == p.id) {
                return Err(invalid(
                    format!("partners[{i}].tls_fingerprint"),
                    "required when tls.mutual = true: the partner's certificate SHA-256 fingerprint (or tls_ca, the CA that issues it)",
                ));
            }
        }
    }
    Ok(TlsConfig {
        client: client.or_else(|| server.clone()),
        server,
        ca: raw.ca.map(|p| resolve(base, &p)),
        backend_ca: raw.backend_ca.map(|p| resolve(base, &p)),
        mutual,
        system_roots: raw.system_roots.unwrap_or(true),
        partners: partner_tls,
    })
}

/// A stop lets requests finish for 10 s, then ends their connections and takes up to 10 s more to record what
/// was served: well within Kubernetes' default grace period of 30 s, so the process is not killed mid-record.
const DEFAULT_SHUTDOWN_DRAIN_SECONDS: u64 = 10;

/// Pushed bodies up to 4 GiB by default: a published simulation output or a 3D city model can be large, but
/// without a bound one partner could fill the disk.
const DEFAULT_MAX_PUSH_MB: u64 = 4096;
/// 1 TiB: beyond any single LDT artefact.
const MAX_PUSH_MB: u64 = 1024 * 1024;

/// The host names the local endpoint answers to: the loopback names, the address it listens on, and any listed
/// (lowercase, without port).
fn local_hosts(
    listed: Option<&[String]>,
    listen: &std::net::SocketAddr,
) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    out.push(listen.ip().to_string());
    for (i, h) in listed.unwrap_or(&[]).iter().enumerate() {
        let h = h
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let ok = !h.is_empty()
            && h.len() <= 253
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !ok {
            return Err(invalid(
                format!("local_hosts[{i}]"),
                format!("must be a host name or IP address without scheme or port, got {h:?}"),
            ));
        }
        out.push(h);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Web origins as browsers send them: `scheme://host[:port]`, no path.
fn origins(listed: &[String]) -> Result<Vec<String>, ConfigError> {
    listed
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let parsed = url::Url::parse(o).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && !o.trim_end().ends_with('/')
            });
            match parsed {
                Some(u) => Ok(u.origin().ascii_serialization()),
                None => Err(invalid(
                    format!("local_allowed_origins[{i}]"),
                    format!("must be a web origin such as \"https://dashboard.city.example\", got {o:?}"),
                )),
            }
        })
        .collect()
}

/// A whole-number setting within `range`, `default` when absent; an environment override arrives as a string.
fn whole_number(
    key: &str,
    what: &str,
    value: Option<&toml::Value>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let n = match value {
        None => return Ok(default),
        Some(toml::Value::Integer(n)) => *n,
        Some(toml::Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| invalid(key, format!("must be {what}, got {s:?}")))?,
        Some(other) => return Err(invalid(key, format!("must be {what}, got {other}"))),
    };
    u64::try_from(n)
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            invalid(
                key,
                format!(
                    "must be between {} and {}, got {n}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// A partner described in JSON, as the management API receives it: the same checks as a `[[partners]]` entry,
/// each problem naming the field. Certificates and acceptance policies decide how connections and offers are
/// accepted, so they stay in the config file.
pub fn partner_from_json(value: serde_json::Value) -> Result<PartnerConfig, ConfigError> {
    let raw: RawPartner = serde_json::from_value(value).map_err(|e| ConfigError::Syntax {
        message: e.to_string(),
    })?;
    for (field, set) in [
        ("tls_fingerprint", raw.tls_fingerprint.is_some()),
        ("tls_ca", raw.tls_ca.is_some()),
        ("accept_policy", raw.accept_policy.is_some()),
    ] {
        if set {
            return Err(invalid(
                field,
                "can be set only in the config file's [[partners]] entry",
            ));
        }
    }
    partner_config("", raw)
}

fn partner_config(prefix: &str, raw: RawPartner) -> Result<PartnerConfig, ConfigError> {
    let key = |field: &str| format!("{prefix}{field}");
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
        // Keys from the DID document; whether that is allowed (a [dcp] section) is checked once all is read.
        (None, None) if id.starts_with("did:web:") => PartnerKeys::Did,
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

pub(super) fn http_url(key: &str, value: &str) -> Result<String, ConfigError> {
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

pub(super) fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Role;
    use crate::config::{Config, ConfigError, LogFormat, Mode};
    use std::path::Path;
    use std::time::Duration;

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
        assert_eq!(c.audit_witness_interval, Some(Duration::from_secs(300)));
    }

    #[test]
    fn witness_interval_can_be_set_or_turned_off_and_is_bounded() {
        let c = load(
            &format!("audit_witness_interval_seconds = 5\n{MINIMAL}"),
            &[],
        )
        .unwrap();
        assert_eq!(c.audit_witness_interval, Some(Duration::from_secs(5)));
        let c = load(
            &format!("audit_witness_interval_seconds = 0\n{MINIMAL}"),
            &[],
        )
        .unwrap();
        assert_eq!(c.audit_witness_interval, None);
        assert!(error_of(&format!(
            "audit_witness_interval_seconds = 99999999\n{MINIMAL}"
        ))
        .starts_with("audit_witness_interval_seconds:"));
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

    const FP: &str = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

    #[test]
    fn tls_is_off_by_default_and_keys_come_in_pairs() {
        let c = load(MINIMAL, &[]).unwrap();
        assert!(c.tls.server.is_none() && !c.tls.mutual && c.tls.system_roots);
        assert!(error_of(&format!("{MINIMAL}[tls]\ncert = \"a.pem\"\n"))
            .starts_with("tls.key: required with tls.cert"));
        assert!(error_of(&format!("{MINIMAL}[tls]\nkey = \"a.pem\"\n")).starts_with("tls.cert:"));
        assert!(
            error_of(&format!("{MINIMAL}[tls]\nclient_cert = \"a.pem\"\n"))
                .starts_with("tls.client_key:")
        );
        assert!(error_of(&format!("{MINIMAL}[tls]\nmutual = true\n")).starts_with("tls.mutual:"));
        assert!(error_of(&format!("{MINIMAL}[tls]\nport = 1\n")).contains("unknown field `port`"));
        let c = load(
            &format!("{MINIMAL}[tls]\ncert = \"tls/a.pem\"\nkey = \"tls/a-key.pem\"\n"),
            &[],
        )
        .unwrap();
        let server = c.tls.server.as_ref().unwrap();
        assert_eq!(server.cert, Path::new("/etc/twinport/tls/a.pem"));
        assert_eq!(c.tls.client.as_ref().unwrap().key, server.key);
    }

    #[test]
    fn mutual_tls_needs_a_certificate_rule_for_every_partner() {
        let tls = "[tls]\ncert = \"a.pem\"\nkey = \"k.pem\"\nmutual = true\n";
        let partner = "[[partners]]\nid = \"https://b.example\"\njwks_url = \"https://b/j\"\n";
        assert!(error_of(&format!("{MINIMAL}{partner}{tls}"))
            .starts_with("partners[0].tls_fingerprint: required when tls.mutual"));
        let pinned = format!("{MINIMAL}{partner}tls_fingerprint = \"{FP}\"\n{tls}");
        let c = load(&pinned, &[]).unwrap();
        assert!(c.tls.mutual);
        assert_eq!(c.tls.partners[0].partner, "https://b.example");
        assert_eq!(
            c.tls.partners[0].fingerprint.unwrap().to_string(),
            FP.replace(':', "").to_lowercase()
        );
        let by_ca = format!("{MINIMAL}{partner}tls_ca = \"b-ca.pem\"\n{tls}");
        let c = load(&by_ca, &[]).unwrap();
        assert_eq!(
            c.tls.partners[0].ca.as_deref(),
            Some(Path::new("/etc/twinport/b-ca.pem"))
        );
        let bad = format!("{MINIMAL}{partner}tls_fingerprint = \"abc\"\n");
        assert!(error_of(&bad).starts_with("partners[0].tls_fingerprint:"));
    }

    #[test]
    fn tls_environment_overrides_parse_booleans() {
        let c = load(
            MINIMAL,
            &[
                ("TWINPORT_TLS_CERT", "c.pem"),
                ("TWINPORT_TLS_KEY", "k.pem"),
                ("TWINPORT_TLS_MUTUAL", "true"),
                ("TWINPORT_TLS_SYSTEM_ROOTS", "false"),
            ],
        )
        .unwrap();
        assert!(c.tls.mutual && !c.tls.system_roots);
        let e = load(MINIMAL, &[("TWINPORT_TLS_MUTUAL", "yes")]).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("tls.mutual: TWINPORT_TLS_MUTUAL must be true or false"));
    }

    const OIDC: &str = r#"
[oidc]
issuer = "https://id.city.example/realms/city"
audience = "twinport"
"#;

    #[test]
    fn production_refuses_the_static_token_and_requires_oidc() {
        let with_token = format!("{MINIMAL}mode = \"production\"\n{OIDC}");
        let e = error_of(&with_token);
        assert!(
            e.starts_with("management_token: not allowed in production mode"),
            "{e}"
        );
        let env = load(
            &format!("{MINIMAL}{OIDC}"),
            &[("TWINPORT_MODE", "production")],
        )
        .expect_err("the environment can switch to production too");
        assert!(env.to_string().starts_with("management_token:"));
        let no_token = MINIMAL.replace("management_token = \"0123456789abcdef0123\"\n", "");
        let e = error_of(&format!("{no_token}mode = \"production\"\n"));
        assert!(e.starts_with("oidc: required in production mode"), "{e}");
        let c = load(&format!("{no_token}mode = \"production\"\n{OIDC}"), &[]).unwrap();
        assert_eq!(c.mode, Mode::Production);
        assert!(c.management_token.is_none());
        let plain_http = OIDC.replace("https://", "http://");
        assert!(
            error_of(&format!("{no_token}mode = \"production\"\n{plain_http}"))
                .starts_with("oidc.issuer: must be an https URL")
        );
        assert!(error_of(&format!("{MINIMAL}mode = \"staging\"\n")).starts_with("mode:"));
        assert!(error_of(&no_token).starts_with("management_token: required unless [oidc]"));
    }

    #[test]
    fn oidc_section_gets_safe_defaults_and_refuses_weak_settings() {
        let c = load(&format!("{MINIMAL}{OIDC}"), &[]).unwrap();
        assert_eq!(c.mode, Mode::Development);
        let o = c.oidc.unwrap();
        assert_eq!(o.audiences, vec!["twinport"]);
        assert_eq!(o.roles_claim, vec!["roles"]);
        assert_eq!(o.algorithms, vec!["RS256", "ES256", "EdDSA"]);
        assert!(o
            .role_map
            .contains(&("twinport-auditor".to_string(), Role::Auditor)));
        let custom = format!(
            "{MINIMAL}{OIDC}roles_claim = \"realm_access.roles\"\nalgorithms = [\"PS256\"]\n[oidc.roles]\noperator = [\"ops\", \"admins\"]\n"
        )
        .replace("audience = \"twinport\"", "audience = [\"twinport\", \"api://twinport\"]");
        let o = load(&custom, &[]).unwrap().oidc.unwrap();
        assert_eq!(o.roles_claim, vec!["realm_access", "roles"]);
        assert_eq!(o.audiences.len(), 2);
        assert_eq!(
            o.role_map
                .iter()
                .filter(|(_, r)| *r == Role::Operator)
                .count(),
            2
        );
        let with = |extra: &str| error_of(&format!("{MINIMAL}{OIDC}{extra}\n"));
        assert!(with("algorithms = [\"HS256\"]")
            .starts_with("oidc.algorithms: \"HS256\": unsigned and shared-secret"));
        assert!(with("algorithms = [\"none\"]").starts_with("oidc.algorithms:"));
        assert!(with("algorithms = []").starts_with("oidc.algorithms:"));
        assert!(with("leeway_seconds = 3600").starts_with("oidc.leeway_seconds:"));
        assert!(with("key_refresh_seconds = 0").starts_with("oidc.key_refresh_seconds:"));
        assert!(with("roles_claim = \"realm_access..roles\"").starts_with("oidc.roles_claim:"));
        assert!(with("clock = 1").contains("unknown field `clock`"));
        let no_aud = OIDC.replace("audience = \"twinport\"\n", "");
        assert!(error_of(&format!("{MINIMAL}{no_aud}")).starts_with("oidc.audience: required"));
        let no_issuer = OIDC.replace("issuer = \"https://id.city.example/realms/city\"\n", "");
        assert!(error_of(&format!("{MINIMAL}{no_issuer}")).starts_with("oidc.issuer: required"));
        let env = load(
            MINIMAL,
            &[
                ("TWINPORT_OIDC_ISSUER", "https://id.example"),
                ("TWINPORT_OIDC_AUDIENCE", "tp"),
                ("TWINPORT_OIDC_ROLES_CLAIM", "groups"),
            ],
        )
        .unwrap()
        .oidc
        .unwrap();
        assert_eq!(
            (env.issuer.as_str(), env.roles_claim[0].as_str()),
            ("https://id.example", "groups")
        );
    }

    #[test]
    fn max_push_defaults_reads_env_and_is_bounded() {
        assert_eq!(load(MINIMAL, &[]).unwrap().max_push_mb, 4096);
        assert_eq!(
            load(&format!("{MINIMAL}max_push_mb = 10"), &[])
                .unwrap()
                .max_push_mb,
            10
        );
        assert_eq!(
            load(MINIMAL, &[("TWINPORT_MAX_PUSH_MB", "3")])
                .unwrap()
                .max_push_mb,
            3
        );
        for bad in ["0", "-1", "2000000", "\"big\""] {
            let e = error_of(&format!("{MINIMAL}max_push_mb = {bad}"));
            assert!(e.starts_with("max_push_mb:"), "{bad}: {e}");
        }
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

    #[test]
    fn the_shutdown_drain_defaults_to_10_s_reads_env_and_names_its_key() {
        assert_eq!(load(MINIMAL, &[]).unwrap().shutdown_drain.as_secs(), 10);
        let c = load(&format!("{MINIMAL}shutdown_drain_seconds = 1"), &[]).unwrap();
        assert_eq!(c.shutdown_drain.as_secs(), 1);
        let c = load(MINIMAL, &[("TWINPORT_SHUTDOWN_DRAIN_SECONDS", "40")]).unwrap();
        assert_eq!(c.shutdown_drain.as_secs(), 40);
        assert!(error_of(&format!("{MINIMAL}shutdown_drain_seconds = 7200"))
            .starts_with("shutdown_drain_seconds:"));
        assert!(error_of(&format!("{MINIMAL}shutdown_drain_seconds = 0"))
            .starts_with("shutdown_drain_seconds:"));
    }

    #[test]
    fn the_pull_token_lifetime_defaults_to_15_minutes_reads_env_and_names_its_key() {
        let lifetime = |c: &Config| c.contracts.pull_token_lifetime.as_secs();
        assert_eq!(lifetime(&load(MINIMAL, &[]).unwrap()), 900);
        let c = load(
            &format!("{MINIMAL}[contracts]\npull_token_lifetime_seconds = 3\n"),
            &[],
        )
        .unwrap();
        assert_eq!(lifetime(&c), 3);
        let c = load(
            MINIMAL,
            &[("TWINPORT_CONTRACTS_PULL_TOKEN_LIFETIME_SECONDS", "120")],
        )
        .unwrap();
        assert_eq!(lifetime(&c), 120);
        for bad in ["1", "86401", "\"soon\""] {
            assert!(
                error_of(&format!(
                    "{MINIMAL}[contracts]\npull_token_lifetime_seconds = {bad}\n"
                ))
                .starts_with("contracts.pull_token_lifetime_seconds:"),
                "{bad}"
            );
        }
    }

    #[test]
    fn contracts_ack_wait_and_acceptance_policies() {
        let c = load(MINIMAL, &[]).unwrap();
        assert_eq!(c.contracts, crate::config::ContractsConfig::default());
        assert_eq!(c.contracts.ack_wait.as_millis(), 1000);
        assert_eq!(c.contracts.accept_policy_for("https://b.example"), None);
        let partner = "[[partners]]\nid = \"https://b.example\"\njwks_url = \"https://b/j\"\naccept_policy = \"b-terms\"\n";
        let c = load(
            &format!("{MINIMAL}[contracts]\nack_wait_ms = 250\naccept_policy = \"standard-terms\"\n{partner}"),
            &[],
        )
        .unwrap();
        assert_eq!(c.contracts.ack_wait.as_millis(), 250);
        assert!(!c.contracts.require_countersignature);
        assert_eq!(
            c.contracts.accept_policy_for("https://b.example"),
            Some("b-terms")
        );
        assert_eq!(
            c.contracts.accept_policy_for("https://c.example"),
            Some("standard-terms")
        );
        let c = load(MINIMAL, &[("TWINPORT_CONTRACTS_ACK_WAIT_MS", "0")]).unwrap();
        assert!(c.contracts.ack_wait.is_zero());
        assert!(
            error_of(&format!("{MINIMAL}[contracts]\nack_wait_ms = 60000\n"))
                .starts_with("contracts.ack_wait_ms:")
        );
        assert!(error_of(&format!(
            "{MINIMAL}[contracts]\naccept_policy = \"bad\\u0007id\"\n"
        ))
        .starts_with("contracts.accept_policy:"));
        assert!(
            error_of(&format!("{MINIMAL}[contracts]\nack_wiat_ms = 5\n")).contains("ack_wiat_ms")
        );
    }

    #[test]
    fn local_hosts_origins_and_limits() {
        let c = load(MINIMAL, &[]).unwrap();
        assert_eq!(c.local_hosts, vec!["127.0.0.1", "::1", "localhost"]);
        assert!(c.local_allowed_origins.is_empty());
        assert_eq!(c.limits, crate::config::Limits::default());
        let c = load(
            &format!(
                "{MINIMAL}local_hosts = [\"Twinport-Local.City.Internal\"]\nlocal_allowed_origins = [\"https://dashboard.city.example\"]\n[limits]\nheader_timeout_seconds = 5\nmax_connections = 10\n"
            ),
            &[("TWINPORT_LIMITS_MAX_CONNECTIONS", "20")],
        )
        .unwrap();
        assert!(c
            .local_hosts
            .contains(&"twinport-local.city.internal".to_string()));
        assert_eq!(
            c.local_allowed_origins,
            vec!["https://dashboard.city.example"]
        );
        assert_eq!(c.limits.header_timeout, std::time::Duration::from_secs(5));
        assert_eq!(c.limits.max_connections, 20);
        for (bad, key) in [
            ("local_hosts = [\"http://x\"]", "local_hosts[0]"),
            (
                "local_allowed_origins = [\"https://x.example/app\"]",
                "local_allowed_origins[0]",
            ),
            (
                "local_allowed_origins = [\"*\"]",
                "local_allowed_origins[0]",
            ),
            (
                "[limits]\nheader_timeout_seconds = 0",
                "limits.header_timeout_seconds",
            ),
            ("[limits]\nmax_conections = 5", "unknown field"),
        ] {
            let e = error_of(&format!("{MINIMAL}{bad}"));
            assert!(e.contains(key), "{bad}: {e}");
        }
    }
}
