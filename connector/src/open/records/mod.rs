//! OGC API – Records Part 1 (Core), a searchable catalogue under `/records`: landing page, conformance, the
//! OpenAPI definition, one collection (`catalogue`) whose items are the open catalogue's records, searched with
//! the core query parameters. JSON only; every URL it hands out is built from the public URL, never from the
//! request's Host header.

mod api;
mod collections;
mod error;
mod items;
mod landing;
mod links;
mod query;
mod render;
mod values;

use axum::routing::get;
use axum::Router;

use super::RECORDS_PATH;
use crate::catalogue::public::OpenCatalogue;

/// The one collection of records.
pub const COLLECTION_ID: &str = crate::paths::RECORDS_COLLECTION;

const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";
/// Written without a space before `version`: OWSLib compares the link type as a string.
const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

pub fn routes() -> Router<OpenCatalogue> {
    let p = |rest: &str| format!("{RECORDS_PATH}{rest}");
    Router::new()
        .route(RECORDS_PATH, get(landing::page))
        // OWSLib adds a slash to the URL it is given before it reads the landing page.
        .route(&p("/"), get(landing::page))
        .route(&p("/conformance"), get(landing::conformance))
        .route(&p("/api"), get(api::document))
        .route(&p("/collections"), get(collections::list))
        .route(&p("/collections/{collection}"), get(collections::one))
        .route(&p("/collections/{collection}/items"), get(items::list))
        // A catch-all, so an IRI id sent with its slashes unencoded still finds its record.
        .route(&p("/collections/{collection}/items/{*id}"), get(items::one))
        // The catch-all does not match an empty id; the answer is still the standard's exception.
        .route(
            &p("/collections/{collection}/items/"),
            get(|| async { error::RecordsError::not_found("a record id is needed after items/") }),
        )
}
