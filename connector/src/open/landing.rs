//! `GET /`: the connector's landing document, naming every interface a city, a portal or a partner connector can
//! reach it through, by absolute URL.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

use super::{CSW_PATH, RECORDS_PATH};
use crate::catalogue::public::OpenCatalogue;

pub async fn document(State(open): State<OpenCatalogue>) -> impl IntoResponse {
    let base = open.public_url();
    let info = open.info();
    let link = |rel: &str, path: &str, media: &str, title: &str| json!({"rel": rel, "href": format!("{base}{path}"), "type": media, "title": title});
    let body = json!({
        "title": info.title,
        "description": info.description,
        "links": [
            link("self", "/", "application/json", "This document"),
            link("http://www.w3.org/ns/dcat#catalog", "/catalog.ttl", "text/turtle",
                "DCAT-AP 3 catalogue of the discoverable resources (CKAN harvesting); also /catalog.rdf and /catalog.jsonld, and ?profile=dcat-ap-nl for DCAT-AP-NL 3"),
            link("alternate", "/catalog.rdf", "application/rdf+xml", "DCAT-AP 3 catalogue, RDF/XML"),
            link("alternate", "/catalog.jsonld", "application/ld+json", "DCAT-AP 3 catalogue, JSON-LD"),
            link("http://www.opengis.net/def/rel/ogc/1.0/data", RECORDS_PATH, "application/json",
                "OGC API - Records: the searchable catalogue"),
            link("service", &format!("{CSW_PATH}?service=CSW&version=2.0.2&request=GetCapabilities"), "application/xml",
                "CSW 2.0.2 catalogue service"),
            link("describedby", crate::paths::VOCAB_PATH, "text/turtle",
                "The LDT resource kinds and dataset stages (SKOS)"),
            link("service-desc", "/.well-known/dspace-version", "application/json",
                "Dataspace Protocol 2025-1: versions and where the catalogue, negotiation and transfer endpoints are"),
        ],
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}
