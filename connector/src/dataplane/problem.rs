//! How the data plane says no: RFC 9457 `application/problem+json` with the status that tells the partner what to
//! do next (401 get a new token, 403 the agreement does not allow it, 409 the transfer is not running, 502/504 the
//! platform behind us failed). Policy refusals carry the compliance report's reasons.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

const PROBLEM_BASE: &str = "https://w3id.org/twinport/problems/";

/// A refused or failed data-plane request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {slug}: {detail}")]
pub struct Refusal {
    pub status: StatusCode,
    /// Our problem type below `https://w3id.org/twinport/problems/`, or the absolute type URI of a standard's own
    /// exception (OGC API - Processes' `no-such-process`, `no-such-job`), which clients of that standard act on.
    pub slug: &'static str,
    pub detail: String,
    /// The rules and constraints that failed, for a policy refusal.
    pub reasons: Vec<String>,
}

impl Refusal {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal {
            status,
            slug,
            detail: detail.into(),
            reasons: Vec::new(),
        }
    }
    pub fn unauthorized(detail: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::UNAUTHORIZED, "invalid-token", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::FORBIDDEN, "not-permitted", detail)
    }
    pub fn policy(reasons: Vec<String>) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            slug: "policy-denied",
            detail: "the agreement does not permit this access".into(),
            reasons,
        }
    }
    pub fn conflict(detail: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::CONFLICT, "transfer-not-started", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::NOT_FOUND, "not-found", detail)
    }
    pub fn bad_request(detail: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, "malformed-request", detail)
    }
    pub fn method(detail: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", detail)
    }
    pub fn bad_gateway(detail: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_GATEWAY, "backend-failed", detail)
    }
    pub fn timeout(detail: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::GATEWAY_TIMEOUT, "backend-timeout", detail)
    }
    /// An exception a standard defines, answered with its own absolute type URI so its clients recognise it
    /// (OWSLib and other OGC API - Processes clients read `no-such-process` and `no-such-job`).
    pub fn standard(
        status: StatusCode,
        type_uri: &'static str,
        detail: impl Into<String>,
    ) -> Refusal {
        Refusal::new(status, type_uri, detail)
    }
    /// Our own failure (storage, signing): the detail goes to the log, not to the partner.
    pub fn internal(detail: impl std::fmt::Display) -> Refusal {
        tracing::error!(error = %detail, "data plane failed");
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the data plane cannot decide right now; try again later",
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let title = self
            .status
            .canonical_reason()
            .unwrap_or("Refused")
            .to_string();
        let kind = if self.slug.contains("://") {
            self.slug.to_string()
        } else {
            format!("{PROBLEM_BASE}{}", self.slug)
        };
        let mut body = json!({
            "type": kind,
            "title": title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.reasons.is_empty() {
            body["reasons"] = json!(self.reasons);
        }
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            )],
            body.to_string(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"twinport-data\""),
            );
        }
        response
    }
}
