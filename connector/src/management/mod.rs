//! The management API (`/api/v1`): plain JSON for the city's own operators and tools — resources, policies,
//! partners — with RFC 9457 problem details for every error and an OpenAPI 3.1 document generated from this code.

mod auth;
mod body;
mod openapi;
mod partners;
mod policies;
mod resources;

use axum::routing::get;
use axum::Router;

use crate::app::AppState;

pub use auth::{Principal, Role};

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/resources", get(resources::list).post(resources::create))
        .route(
            "/resources/{id}",
            get(resources::read)
                .put(resources::update)
                .delete(resources::delete),
        )
        .route("/policies", get(policies::list).post(policies::create))
        .route(
            "/policies/{id}",
            get(policies::read)
                .put(policies::update)
                .delete(policies::delete),
        )
        .route("/policies/{id}/versions", get(policies::versions))
        .route("/partners", get(partners::list))
        .route("/partners/{id}/catalog", get(partners::catalog))
        .route("/openapi.json", get(openapi::document))
        .merge(crate::audit::auditor_api::routes());
    Router::new()
        .nest("/api/v1", api)
        .fallback(|| async { crate::error::ApiError::NotFound("route".into()) })
        .with_state(state)
}
