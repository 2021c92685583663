//! Checks every request on every listener before routing: one `Host` header, a request target of bounded length,
//! and no control characters in the decoded path or query. What passes can be looked up, stored and logged
//! safely (PostgreSQL refuses NUL in text; a megabyte path would outgrow its audit entry); what fails gets a 400
//! or 414 in the form its surface speaks (a DSP error message on DSP paths, problem+json elsewhere).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use crate::error::ApiError;
use crate::paths::DSP_PATH;

/// The longest request target (path and query) accepted, in bytes.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;

/// The longest path segment accepted once percent-decoded, in bytes: the id rule's bound.
pub const MAX_SEGMENT_BYTES: usize = twinport_contracts::ids::MAX_ID_BYTES;

/// Wraps `app` so every request passes [`check`] first.
pub fn layer(app: axum::Router) -> axum::Router {
    app.layer(axum::middleware::from_fn(guard))
}

async fn guard(request: Request, next: Next) -> Response {
    match check(&request) {
        Ok(()) => next.run(request).await,
        Err((status, reason)) => refuse(request.uri().path(), status, &reason),
    }
}

/// Why a request is refused before routing, with the status to answer.
pub fn check(request: &Request) -> Result<(), (StatusCode, String)> {
    if request.headers().get_all(header::HOST).iter().count() > 1 {
        return Err((
            StatusCode::BAD_REQUEST,
            "the request has more than one Host header".into(),
        ));
    }
    let uri = request.uri();
    let target = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Err((
            StatusCode::URI_TOO_LONG,
            format!(
                "the request target is {target} bytes; at most {MAX_TARGET_BYTES} are accepted"
            ),
        ));
    }
    for segment in uri.path().split('/') {
        let decoded = decode(segment, "path")?;
        if decoded.len() > MAX_SEGMENT_BYTES {
            return Err((
                StatusCode::URI_TOO_LONG,
                format!(
                    "a path segment is {} bytes once decoded; at most {MAX_SEGMENT_BYTES} are accepted",
                    decoded.len()
                ),
            ));
        }
    }
    if let Some(query) = uri.query() {
        for pair in query.split('&') {
            decode(&pair.replace('+', " "), "query")?;
        }
    }
    Ok(())
}

/// Percent-decodes one part of the target, refusing what is not UTF-8 or holds a control character.
fn decode(part: &str, what: &str) -> Result<String, (StatusCode, String)> {
    let decoded = percent_decode_str(part).decode_utf8().map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            format!("the {what} is not UTF-8 once percent-decoded"),
        )
    })?;
    if let Some(c) = decoded.chars().find(|c| c.is_control()) {
        return Err((
            StatusCode::BAD_REQUEST,
            format!(
                "the {what} contains a control character (U+{:04X}) once percent-decoded",
                c as u32
            ),
        ));
    }
    Ok(decoded.into_owned())
}

/// The path of a request to the DSP surface, kept to answer it in DSP's terms should no route match it.
pub fn dsp_path<B>(request: &axum::http::Request<B>) -> Option<String> {
    let path = request.uri().path();
    path.starts_with(DSP_PATH).then(|| path.to_string())
}

/// A request no DSP route matched (a trailing slash, a mistyped path) never passes the DSP surface's own layers and
/// gets the router's bare 404: on a DSP path it is answered as the protocol's error message instead.
pub fn unrouted(dsp_path: Option<String>, response: Response) -> Response {
    let bare = response.status() == StatusCode::NOT_FOUND
        && response.headers().get(header::CONTENT_TYPE).is_none();
    match dsp_path {
        Some(path) if bare => crate::error::dsp_refusal(
            &path,
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no DSP endpoint at {path}"),
        ),
        _ => response,
    }
}

fn refuse(path: &str, status: StatusCode, reason: &str) -> Response {
    if path.starts_with(DSP_PATH) {
        return crate::error::dsp_refusal(path, status, "bad-request", reason);
    }
    let error = match status {
        StatusCode::URI_TOO_LONG => ApiError::UriTooLong(reason.to_string()),
        StatusCode::BAD_REQUEST => ApiError::Malformed(reason.to_string()),
        status => ApiError::Rejected {
            status,
            detail: reason.to_string(),
        },
    };
    error.into_response()
}
