//! `TWINPORT_...` environment overrides. Only the documented keys are read, so unrelated variables that share the
//! prefix (for example `TWINPORT_TEST_DATABASE_URL` in CI) never break a deployment.

use super::ConfigError;

/// Environment variable → top-level key (or `section.key`) it overrides.
pub const OVERRIDES: &[(&str, &str)] = &[
    ("TWINPORT_PARTICIPANT_ID", "participant_id"),
    ("TWINPORT_PUBLIC_URL", "public_url"),
    ("TWINPORT_LISTEN", "listen"),
    ("TWINPORT_MANAGEMENT_LISTEN", "management_listen"),
    ("TWINPORT_LOCAL_LISTEN", "local_listen"),
    ("TWINPORT_DATA_DIR", "data_dir"),
    ("TWINPORT_STORAGE_URL", "storage_url"),
    ("TWINPORT_SIGNING_KEY", "signing_key"),
    ("TWINPORT_CATALOGUE_DIR", "catalogue_dir"),
    ("TWINPORT_MANAGEMENT_TOKEN", "management_token"),
    ("TWINPORT_LOG_FORMAT", "log_format"),
    (
        "TWINPORT_AUDIT_WITNESS_INTERVAL_SECONDS",
        "audit_witness_interval_seconds",
    ),
    (
        "TWINPORT_BACKEND_TIMEOUT_SECONDS",
        "backend_timeout_seconds",
    ),
    ("TWINPORT_SHUTDOWN_DRAIN_SECONDS", "shutdown_drain_seconds"),
    ("TWINPORT_MAX_PUSH_MB", "max_push_mb"),
    ("TWINPORT_POLICY_TIME_ZONE", "policy_time_zone"),
    (
        "TWINPORT_LIMITS_HEADER_TIMEOUT_SECONDS",
        "limits.header_timeout_seconds",
    ),
    ("TWINPORT_LIMITS_MAX_CONNECTIONS", "limits.max_connections"),
    ("TWINPORT_CONTRACTS_ACK_WAIT_MS", "contracts.ack_wait_ms"),
    (
        "TWINPORT_CONTRACTS_REQUIRE_COUNTERSIGNATURE",
        "contracts.require_countersignature",
    ),
    (
        "TWINPORT_CONTRACTS_REQUIRE_ALIGNMENT",
        "contracts.require_alignment",
    ),
    (
        "TWINPORT_CONTRACTS_ALIGNMENT_MAX_AGE_HOURS",
        "contracts.alignment_max_age_hours",
    ),
    (
        "TWINPORT_CONTRACTS_PULL_TOKEN_LIFETIME_SECONDS",
        "contracts.pull_token_lifetime_seconds",
    ),
    (
        "TWINPORT_CONTRACTS_ACCEPT_POLICY",
        "contracts.accept_policy",
    ),
    ("TWINPORT_CATALOGUE_TITLE", "catalogue.title"),
    ("TWINPORT_CATALOGUE_PUBLISHER_ID", "catalogue.publisher_id"),
    (
        "TWINPORT_CATALOGUE_PUBLISHER_NAME",
        "catalogue.publisher_name",
    ),
    (
        "TWINPORT_TELEMETRY_OTLP_ENDPOINT",
        "telemetry.otlp_endpoint",
    ),
    ("TWINPORT_TELEMETRY_SERVICE_NAME", "telemetry.service_name"),
    ("TWINPORT_TELEMETRY_SAMPLE_RATIO", "telemetry.sample_ratio"),
    (
        "TWINPORT_TELEMETRY_METRICS_TOKEN",
        "telemetry.metrics_token",
    ),
    ("TWINPORT_TLS_CERT", "tls.cert"),
    ("TWINPORT_TLS_KEY", "tls.key"),
    ("TWINPORT_TLS_CLIENT_CERT", "tls.client_cert"),
    ("TWINPORT_TLS_CLIENT_KEY", "tls.client_key"),
    ("TWINPORT_TLS_CA", "tls.ca"),
    ("TWINPORT_TLS_BACKEND_CA", "tls.backend_ca"),
    ("TWINPORT_TLS_MUTUAL", "tls.mutual"),
    ("TWINPORT_TLS_SYSTEM_ROOTS", "tls.system_roots"),
    ("TWINPORT_MODE", "mode"),
    ("TWINPORT_OIDC_ISSUER", "oidc.issuer"),
    ("TWINPORT_OIDC_AUDIENCE", "oidc.audience"),
    ("TWINPORT_OIDC_ROLES_CLAIM", "oidc.roles_claim"),
];

/// Overridden keys whose value is a boolean, given in the environment as `true` or `false`.
const BOOLEAN_KEYS: &[&str] = &[
    "tls.mutual",
    "tls.system_roots",
    "contracts.require_countersignature",
    "contracts.require_alignment",
];

pub fn apply_overrides(
    doc: &mut toml::Table,
    vars: &[(String, String)],
) -> Result<(), ConfigError> {
    for (var, key) in OVERRIDES {
        let Some((_, value)) = vars.iter().find(|(name, _)| name == var) else {
            continue;
        };
        let value = if BOOLEAN_KEYS.contains(key) {
            match value.as_str() {
                "true" => toml::Value::Boolean(true),
                "false" => toml::Value::Boolean(false),
                other => {
                    return Err(ConfigError::Invalid {
                        key: (*key).to_string(),
                        problem: format!("{var} must be true or false, got {other:?}"),
                    })
                }
            }
        // Durations are whole numbers in the file; their variables must be too.
        } else if key.ends_with("_seconds") {
            toml::Value::Integer(value.trim().parse().map_err(|_| ConfigError::Invalid {
                key: (*key).to_string(),
                problem: format!("{var} must be a whole number of seconds, got {value:?}"),
            })?)
        } else {
            toml::Value::String(value.clone())
        };
        match key.split_once('.') {
            None => {
                doc.insert((*key).to_string(), value);
            }
            Some((section, field)) => {
                let entry = doc
                    .entry(section.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let table = entry.as_table_mut().ok_or_else(|| ConfigError::Invalid {
                    key: section.to_string(),
                    problem: format!("must be a table to apply {var}"),
                })?;
                table.insert(field.to_string(), value);
            }
        }
    }
    Ok(())
}
