//! The management API's door: a JSON media type and a bounded size for every body, and problem+json for every
//! error, including those the HTTP layer makes itself (axum's plain-text rejections, an unknown method).

use axum::extract::Request;
use axum::http::{header, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::openapi::ROUTE_ROLES;
use crate::error::ApiError;
use crate::server::body::{error_text, json_body, BodyRefusal};

pub async fn guard(request: Request, next: Next) -> Response {
    // Inside the nested router the path has lost its `/api/v1`; the client's own target is kept aside.
    let path = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(
            || request.uri().path().to_string(),
            |u| u.path().to_string(),
        );
    let method = request.method().clone();
    let request = match json_body(request).await {
        Ok(request) => request,
        Err(refusal) => return refused(refusal).into_response(),
    };
    let response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        return not_allowed(&method, &path);
    }
    as_problem(response).await
}

/// A 405 naming the methods `path` takes, as the routes' table states them (the router adds its `Allow` header
/// only after this layer, and the same again).
fn not_allowed(method: &axum::http::Method, path: &str) -> Response {
    let allowed: Vec<String> = ROUTE_ROLES
        .iter()
        .filter(|(_, template, _)| matches_template(template, path))
        .map(|(m, _, _)| m.to_uppercase())
        .collect();
    let detail = if allowed.is_empty() {
        format!("{method} is not allowed on {path}")
    } else {
        format!(
            "{method} is not allowed on {path}; it takes {}",
            allowed.join(", ")
        )
    };
    ApiError::Rejected {
        status: StatusCode::METHOD_NOT_ALLOWED,
        detail,
    }
    .into_response()
}

/// Whether `path` is an instance of the route `template` (`{x}` standing for one segment).
fn matches_template(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// What a request for no route of the management API gets: a 404 problem that says why when the path only has a
/// trailing slash too many (no route ends with one).
pub async fn unknown_route(uri: Uri) -> ApiError {
    let path = uri.path();
    let trimmed = path.trim_end_matches('/');
    if path.len() > trimmed.len() && trimmed.len() > "/api/v1".len() {
        return ApiError::Rejected {
            status: StatusCode::NOT_FOUND,
            detail: format!(
                "no route {path}: management API paths take no trailing slash (try {trimmed})"
            ),
        };
    }
    ApiError::Rejected {
        status: StatusCode::NOT_FOUND,
        detail: format!("no route {path} in the management API (see /api/v1/docs)"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_405_names_the_methods_of_the_route_the_path_is_an_instance_of() {
        assert!(matches_template(
            "/api/v1/transfers/{id}/suspend",
            "/api/v1/transfers/urn:uuid:1/suspend"
        ));
        assert!(!matches_template(
            "/api/v1/transfers/{id}",
            "/api/v1/transfers/"
        ));
        assert!(!matches_template(
            "/api/v1/transfers/{id}",
            "/api/v1/transfers/a/b"
        ));
        let r = not_allowed(&axum::http::Method::DELETE, "/api/v1/negotiations");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem = ApiError::Rejected {
            status: StatusCode::METHOD_NOT_ALLOWED,
            detail: String::new(),
        }
        .problem();
        assert_eq!(
            problem.kind,
            "https://w3id.org/twinport/problems/method-not-allowed"
        );
    }
}
