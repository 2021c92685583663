//! The DSP binding's door: a JSON media type and a bounded size for every message, and a DSP error message
//! (`CatalogError`, `ContractNegotiationError`, `TransferError`, by path) for every error the HTTP layer makes
//! itself, so a partner's client never has to read plain text.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::server::body::{error_text, json_body};

pub async fn guard(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let request = match json_body(request).await {
        Ok(request) => request,
        Err(r) => return super::refusal(&path, r.status, r.code, r.reason),
    };
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(crate::server::body::is_json_media_type);
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = error_text(body).await;
    let reason = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_string()
    } else {
        text
    };
    let code = match status.as_u16() {
        404 => "not-found",
        405 => "method-not-allowed",
        401 => "unauthorized",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "bad-request",
    };
    let mut answer = super::refusal(&path, status, code, reason);
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, v.clone());
        }
    }
    answer
}
