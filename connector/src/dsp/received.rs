//! Every DSP answer names the audit entry that recorded the request it answers (`twinport-audit-entry`), so the
//! partner knows which receipt to ask for; the entry is noted by whoever records the message (see
//! [`crate::audit::received`]).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::audit::received::{within_request, ENTRY_HEADER};

/// The largest request body the DSP listener buffers (axum's own default for `Bytes` bodies).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Middleware for the DSP router: buffers the body (bounded), runs the handler inside the scope, and adds
/// [`ENTRY_HEADER`] when the handler recorded the message.
pub async fn stamp_entry(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let request = Request::from_parts(parts, Body::from(body.clone()));
    let (mut response, entry) = within_request(body, next.run(request)).await;
    if let Some(index) = entry {
        if let Ok(v) = HeaderValue::from_str(&index.to_string()) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(ENTRY_HEADER), v);
        }
    }
    response
}
