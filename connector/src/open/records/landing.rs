//! `GET /records` (landing page) and `GET /records/conformance`: where a Records client starts. The landing page's
//! `service-desc` link carries the media type exactly as OWSLib compares it
//! (`application/vnd.oai.openapi+json;version=3.0`, no space), or the client never finds the API document.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::RecordsError;
use super::links::{link, Ctx};
use super::{query, JSON, OPENAPI};
use crate::catalogue::public::OpenCatalogue;

/// The conformance classes: the final table URIs of Records Part 1, the pre-final `…/conf/core` that pycsw and
/// pygeoapi advertise (clients written against them look for it), and the Features and Common classes the
/// Records API builds on.
pub const CONFORMANCE: [&str; 15] = [
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/searchable-catalog",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-core",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-collection",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-core-query-parameters",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-api",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

pub async fn page(State(open): State<OpenCatalogue>, RawQuery(raw): RawQuery) -> Response {
    if let Err(e) = query::only_format(raw.as_deref()) {
        return e.into_response();
    }
    let ctx = Ctx {
        public_url: open.public_url(),
        info: open.info(),
    };
    let base = ctx.base();
    let mut body = json!({
        "title": ctx.info.title,
        "links": [
            link("self", base.clone(), Some(JSON), Some("This document")),
            link("service-desc", format!("{base}/api"), Some(OPENAPI), Some("The API definition (OpenAPI 3.0)")),
            link("service-doc", format!("{base}/api"), Some(OPENAPI),
                Some("The API documentation: the OpenAPI 3.0 definition, with every parameter described")),
            link("conformance", format!("{base}/conformance"), Some(JSON), Some("Conformance classes")),
            link("http://www.opengis.net/def/rel/ogc/1.0/conformance", format!("{base}/conformance"), Some(JSON),
                Some("Conformance classes")),
            link("data", format!("{base}/collections"), Some(JSON), Some("The catalogues")),
            link("http://www.opengis.net/def/rel/ogc/1.0/data", format!("{base}/collections"), Some(JSON),
                Some("The catalogues")),
            link("child", ctx.collection_url(), Some(JSON), Some(&ctx.info.title)),
        ],
    });
    if let Some(d) = &ctx.info.description {
        body["description"] = d.clone().into();
    }
    ([(header::CONTENT_TYPE, JSON)], body.to_string()).into_response()
}

pub async fn conformance(RawQuery(raw): RawQuery) -> Result<Response, RecordsError> {
    query::only_format(raw.as_deref())?;
    let body = json!({"conformsTo": CONFORMANCE});
    Ok(([(header::CONTENT_TYPE, JSON)], body.to_string()).into_response())
}
