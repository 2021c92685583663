//! The `[telemetry]` section: where traces go (`otlp_endpoint`, off when absent), under which `service_name`,
//! which share of new traces is kept (`sample_ratio`), and the optional bearer token `/metrics` asks for.

use serde::Deserialize;

use super::validate::{http_url, invalid};
use super::ConfigError;

/// `[telemetry]` as written. `sample_ratio` may arrive as a string from `TWINPORT_TELEMETRY_SAMPLE_RATIO`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawTelemetry {
    pub otlp_endpoint: Option<String>,
    pub service_name: Option<String>,
    pub sample_ratio: Option<toml::Value>,
    pub metrics_token: Option<String>,
}

/// Validated telemetry settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryConfig {
    /// Base URL of an OTLP/HTTP collector (`/v1/traces` is appended); `None` turns tracing off.
    pub otlp_endpoint: Option<String>,
    pub service_name: String,
    /// Share of traces started here that are kept, 0.0 to 1.0; a partner's sampled trace is always continued.
    pub sample_ratio: f64,
    /// When set, `/metrics` needs `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<String>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: None,
            service_name: "twinport".into(),
            sample_ratio: 1.0,
            metrics_token: None,
        }
    }
}

pub fn validate(raw: RawTelemetry) -> Result<TelemetryConfig, ConfigError> {
    let defaults = TelemetryConfig::default();
    let otlp_endpoint = match raw.otlp_endpoint.as_deref() {
        None | Some("") => None,
        Some(url) => Some(http_url("telemetry.otlp_endpoint", url)?),
    };
    let service_name = match raw.service_name {
        None => defaults.service_name,
        Some(name) if name.trim().is_empty() => {
            return Err(invalid("telemetry.service_name", "must not be empty"))
        }
        Some(name) => name,
    };
    let sample_ratio = match raw.sample_ratio {
        None => defaults.sample_ratio,
        Some(value) => ratio(&value)?,
    };
    let metrics_token = match raw.metrics_token {
        Some(t) if t.len() < 16 => {
            return Err(invalid(
                "telemetry.metrics_token",
                "must be at least 16 characters long",
            ))
        }
        other => other,
    };
    Ok(TelemetryConfig {
        otlp_endpoint,
        service_name,
        sample_ratio,
        metrics_token,
    })
}

fn ratio(value: &toml::Value) -> Result<f64, ConfigError> {
    let parsed = match value {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(invalid(
            "telemetry.sample_ratio",
            format!("must be a number from 0.0 to 1.0, got {value}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, TelemetryConfig};
    use std::path::Path;

    const MINIMAL: &str = r#"
participant_id = "https://city-a.example/twinport"
signing_key = "key.pem"
management_token = "0123456789abcdef0123"
"#;

    fn load(text: &str, vars: &[(&str, &str)]) -> Result<TelemetryConfig, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Config::from_toml(text, Path::new("/etc/twinport"), &vars)
            .map(|c| c.telemetry)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn telemetry_is_off_and_open_by_default() {
        assert_eq!(load(MINIMAL, &[]).unwrap(), TelemetryConfig::default());
    }

    #[test]
    fn keys_are_read_from_the_file_and_the_environment() {
        let file = format!(
            "{MINIMAL}[telemetry]\notlp_endpoint = \"http://collector:4318\"\nservice_name = \"city-a\"\nsample_ratio = 0.25\nmetrics_token = \"scrape-secret-0123\"\n"
        );
        let t = load(&file, &[]).unwrap();
        assert_eq!(t.otlp_endpoint.as_deref(), Some("http://collector:4318"));
        assert_eq!(t.service_name, "city-a");
        assert_eq!(t.sample_ratio, 0.25);
        assert_eq!(t.metrics_token.as_deref(), Some("scrape-secret-0123"));
        let t = load(
            &file,
            &[
                (
                    "TWINPORT_TELEMETRY_OTLP_ENDPOINT",
                    "https://otel.city.example",
                ),
                ("TWINPORT_TELEMETRY_SERVICE_NAME", "city-a-edge"),
                ("TWINPORT_TELEMETRY_SAMPLE_RATIO", "0.5"),
                ("TWINPORT_TELEMETRY_METRICS_TOKEN", "another-secret-4567"),
            ],
        )
        .unwrap();
        assert_eq!(
            t.otlp_endpoint.as_deref(),
            Some("https://otel.city.example")
        );
        assert_eq!(t.service_name, "city-a-edge");
        assert_eq!(t.sample_ratio, 0.5);
        assert_eq!(t.metrics_token.as_deref(), Some("another-secret-4567"));
        // An empty variable switches tracing off again, as an unset key would.
        let t = load(&file, &[("TWINPORT_TELEMETRY_OTLP_ENDPOINT", "")]).unwrap();
        assert_eq!(t.otlp_endpoint, None);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (body, key) in [
            (
                "otlp_endpoint = \"collector:4318\"",
                "telemetry.otlp_endpoint:",
            ),
            (
                "otlp_endpoint = \"grpc://collector:4317\"",
                "telemetry.otlp_endpoint:",
            ),
            ("service_name = \" \"", "telemetry.service_name:"),
            ("sample_ratio = 1.5", "telemetry.sample_ratio:"),
            ("sample_ratio = \"half\"", "telemetry.sample_ratio:"),
            ("metrics_token = \"short\"", "telemetry.metrics_token:"),
        ] {
            let err = load(&format!("{MINIMAL}[telemetry]\n{body}\n"), &[]).unwrap_err();
            assert!(err.starts_with(key), "{body}: {err}");
        }
        let err = load(&format!("{MINIMAL}[telemetry]\nendpoint = \"x\"\n"), &[]).unwrap_err();
        assert!(err.contains("unknown field `endpoint`"), "{err}");
    }
}
