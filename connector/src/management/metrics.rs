//! `GET /metrics` on the management listener. Prometheus scrapers usually carry no token, and the page holds only
//! counts and route templates (no ids, no partners, no payloads), so it is open unless `telemetry.metrics_token`
//! is set; then it needs `Authorization: Bearer <that token>`, separate from the management token so a scraper's
//! secret cannot manage the connector. The page is OpenMetrics unless the scraper prefers the Prometheus text
//! format 0.0.4 (`Accept: text/plain;version=0.0.4`, as older Prometheus servers and other scrapers send).

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::telemetry::metrics::Format;

pub const PATH: &str = "/metrics";

/// What a scrape reads: the counters (and the store's and the log's sizes) through the contracting service, and
/// the scrape token when one is set.
#[derive(Clone)]
struct Scrape {
    contracting: Contracting,
    token: Option<String>,
}

pub fn router(contracting: Contracting, token: Option<String>) -> Router {
    Router::new()
        .route(PATH, get(metrics))
        .with_state(Scrape { contracting, token })
}

async fn metrics(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    let state = &scrape.contracting;
    if let Some(expected) = &scrape.token {
        if !bearer_matches(&headers, expected) {
            return ApiError::Unauthorized(
                "/metrics needs the bearer token set in telemetry.metrics_token".into(),
            )
            .into_response();
        }
    }
    let format = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let stats = state.store().stats().await;
    match state
        .telemetry()
        .metrics()
        .encode(stats, state.audit().size(), format)
        .await
    {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, format.content_type()),
                (header::VARY, "Accept"),
            ],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics scrape failed");
            ApiError::Unavailable(e.to_string()).into_response()
        }
    }
}

/// The format the `Accept` header prefers, by quality value (RFC 9110 §12.5.1); OpenMetrics on a tie, for `*/*`,
/// without the header, or when it names neither format (answering something is more useful to a scraper than 406).
fn negotiate(accept: Option<&str>) -> Format {
    let mut best = (Format::OpenMetrics, -1.0_f32);
    for range in accept.unwrap_or("").split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0_f32;
        let mut text_version_ok = true;
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "q" => q = value.trim().parse().unwrap_or(0.0),
                "version" => text_version_ok = value.trim().trim_matches('"') == "0.0.4",
                _ => {}
            }
        }
        let format = match media.as_str() {
            "application/openmetrics-text" => Format::OpenMetrics,
            "text/plain" if text_version_ok => Format::Text,
            "*/*" | "application/*" => Format::OpenMetrics,
            "text/*" => Format::Text,
            _ => continue,
        };
        if q > 0.0 && (q > best.1 || (q == best.1 && format == Format::OpenMetrics)) {
            best = (format, q);
        }
    }
    best.0
}

/// Compares digests so the time taken says nothing about how much of the token was right.
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_header_chooses_the_format() {
        for (accept, want) in [
            (None, Format::OpenMetrics),
            (Some("*/*"), Format::OpenMetrics),
            (Some("text/plain;version=0.0.4"), Format::Text),
            (Some("text/plain"), Format::Text),
            (Some("text/plain; version=0.0.4; charset=utf-8"), Format::Text),
            (Some("application/openmetrics-text; version=1.0.0"), Format::OpenMetrics),
            // What Prometheus sends: OpenMetrics first.
            (
                Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                Format::OpenMetrics,
            ),
            // Prometheus told to prefer the classic format.
            (
                Some("text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5"),
                Format::Text,
            ),
            (Some("application/openmetrics-text;q=0, text/plain"), Format::Text),
            (Some("text/plain;version=9.9"), Format::OpenMetrics),
            (Some("application/json"), Format::OpenMetrics),
        ] {
            assert_eq!(negotiate(accept), want, "{accept:?}");
        }
    }

    #[test]
    fn only_the_exact_bearer_token_matches() {
        let mut h = HeaderMap::new();
        assert!(!bearer_matches(&h, "scrape-secret-0123"));
        h.insert(
            header::AUTHORIZATION,
            "Bearer scrape-secret-0123".parse().unwrap(),
        );
        assert!(bearer_matches(&h, "scrape-secret-0123"));
        assert!(!bearer_matches(&h, "scrape-secret-012"));
        h.insert(
            header::AUTHORIZATION,
            "Basic scrape-secret-0123".parse().unwrap(),
        );
        assert!(!bearer_matches(&h, "scrape-secret-0123"));
    }
}
