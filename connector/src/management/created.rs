//! The answer to a request that created something: `201 Created` with the new thing's address in `Location`
//! (RFC 9110 §15.3.2), and the thing as it was stored, so a client need not guess where to read it back.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// The address of `id` in the management API's `collection` (e.g. `negotiations`), the id percent-encoded as one
/// path segment.
pub fn address(collection: &str, id: &str) -> String {
    format!("/api/v1/{collection}/{}", crate::client::encode_segment(id))
}

/// 201 with `Location: location` and `body`.
pub fn created(location: &str, body: impl Serialize) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_with_reserved_characters_is_one_segment_of_the_address() {
        assert_eq!(
            address("resources", "https://city-a.example/d/1?x"),
            "/api/v1/resources/https%3A%2F%2Fcity-a.example%2Fd%2F1%3Fx"
        );
        let r = created(
            "/api/v1/negotiations/urn:uuid:1",
            serde_json::json!({"id": 1}),
        );
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/api/v1/negotiations/urn:uuid:1"
        );
    }
}
