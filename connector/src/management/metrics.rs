//! `GET /metrics` on the management listener. Prometheus scrapers usually carry no token, and the page holds only
//! counts and route templates (no ids, no partners, no payloads), so it is open unless `telemetry.metrics_token`
//! is set; then it needs `Authorization: Bearer <that token>`, separate from the management token so a scraper's
//! secret cannot manage the connector.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::telemetry::metrics::CONTENT_TYPE;

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
    let stats = state.store().stats().await;
    match state
        .telemetry()
        .metrics()
        .encode(stats, state.audit().size())
        .await
    {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics scrape failed");
            ApiError::Unavailable(e.to_string()).into_response()
        }
    }
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
