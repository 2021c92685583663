//! The open catalogue's HTTP surface on the public (DSP) listener: anonymous and read-only, outside the DSP
//! binding's guard, each interface answering in its own standard's media types and error bodies. It serves the
//! landing document (`/`), Twinport's LDT vocabulary (`/vocab/ldt`), the DCAT-AP catalogue for CKAN-style
//! harvesters (`/catalog.{ttl,rdf,jsonld}`), OGC API Records (`/records`) and CSW 2.0.2 (`/csw`). The surface
//! works with [`OpenCatalogue`] only.

pub mod csw;
mod dcat;
mod landing;
pub mod records;
mod vocab;

use axum::routing::get;
use axum::Router;

use crate::catalogue::public::OpenCatalogue;

pub use crate::paths::{CSW_PATH, RECORDS_PATH};

pub fn router(open: OpenCatalogue) -> Router {
    Router::new()
        .route("/", get(landing::document))
        .route(crate::paths::VOCAB_PATH, get(vocab::turtle))
        .route(
            &format!("{}.ttl", crate::paths::VOCAB_PATH),
            get(vocab::turtle),
        )
        .merge(dcat::routes())
        .merge(records::routes())
        .merge(csw::routes())
        .with_state(open)
        .layer(axum::middleware::map_response(readable_anywhere))
}

/// Public, anonymous metadata: a portal's page in any browser may read it (simple GET requests need no preflight).
async fn readable_anywhere(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        axum::http::HeaderValue::from_static("*"),
    );
    response
}
