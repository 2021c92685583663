//! The management API's door: a JSON media type and a bounded size for every body, and problem+json for every
//! error, including those the HTTP layer makes itself (axum's plain-text rejections, an unknown method).

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::server::body::{error_text, json_body, BodyRefusal};

pub async fn guard(request: Request, next: Next) -> Response {
    let request = match json_body(request).await {
        Ok(request) => request,
        Err(refusal) => return refused(refusal).into_response(),
    };
    as_problem(next.run(request).await).await
}

fn refused(r: BodyRefusal) -> ApiError {
    match r.status.as_u16() {
        413 => ApiError::TooLarge(r.reason),
        415 => ApiError::UnsupportedMediaType(r.reason),
        400 => ApiError::Malformed(r.reason),
        _ => ApiError::Rejected {
            status: r.status,
            detail: r.reason,
        },
    }
}

/// Rewrites an error answer that is not problem+json yet into one, keeping its status and text.
async fn as_problem(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = error_text(body).await;
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("refused").to_string()
    } else {
        text
    };
    let mut answer = ApiError::Rejected { status, detail }.into_response();
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, v.clone());
        }
    }
    answer
}
