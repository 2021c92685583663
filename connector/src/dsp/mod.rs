//! The Dataspace Protocol 2025-1 HTTPS binding as a provider: the unauthenticated version and key endpoints, and
//! the authenticated catalogue. Negotiation and transfer endpoints join here as they land.

mod auth;
mod catalog;
mod error;
mod well_known;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use auth::Partner;
pub use error::CatalogError;

/// Path of the 2025-1 binding under the connector's root, as advertised in `/.well-known/dspace-version`.
pub const DSP_PATH: &str = "/dsp/2025-1";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/dspace-version", get(well_known::version))
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route(
            &format!("{DSP_PATH}/catalog/request"),
            post(catalog::request),
        )
        .route(
            &format!("{DSP_PATH}/catalog/datasets/{{id}}"),
            get(catalog::dataset),
        )
        .merge(crate::audit::partner_api::routes())
}
