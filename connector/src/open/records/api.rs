//! `GET /records/api`: the OpenAPI 3.0 definition of the Records endpoints, written by hand to say exactly what
//! the server does (which parameters, which limits, which errors), with the public URL as its server.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::RecordsError;
use super::links::Ctx;
use super::query::{self, DEFAULT_LIMIT, MAX_LIMIT};
use super::{COLLECTION_ID, GEOJSON, JSON, OPENAPI};
use crate::catalogue::kind::ResourceKind;
use crate::catalogue::public::OpenCatalogue;

pub async fn document(
    State(open): State<OpenCatalogue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, RecordsError> {
    query::only_format(raw.as_deref())?;
    let ctx = Ctx {
        public_url: open.public_url(),
        info: open.info(),
    };
    let body = definition(&ctx);
    Ok(([(header::CONTENT_TYPE, OPENAPI)], body.to_string()).into_response())
}

fn definition(ctx: &Ctx) -> Value {
    let kinds: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.as_str()).collect();
    let ok = |description: &str, media: &str| json!({"description": description, "content": {media: {"schema": {"type": "object"}}}});
    let errors = |mut responses: Value| {
        responses["400"] = json!({"$ref": "#/components/responses/InvalidParameter"});
        responses["500"] = json!({"$ref": "#/components/responses/ServerError"});
        responses
    };
    let f = || json!({"$ref": "#/components/parameters/f"});
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": format!("{} - OGC API Records", ctx.info.title),
            "description": "The open catalogue of this Local Digital Twin connector as an OGC API - Records searchable catalogue: one collection of records, one record per discoverable resource. Read-only and anonymous. The resource kind is properties.type (dataset, model-or-service, workflow-template, visualisation-asset, published-output) and a dataset's stage is properties.stage. Unknown query parameters are refused with 400.",
            "version": "1.0.0",
        },
        "servers": [{"url": ctx.base()}],
        "paths": {
            "/": {"get": {
                "summary": "Landing page", "operationId": "getLandingPage", "tags": ["Capabilities"],
                "parameters": [f()],
                "responses": errors(json!({"200": ok("The landing page", JSON)})),
            }},
            "/conformance": {"get": {
                "summary": "Conformance classes", "operationId": "getConformance", "tags": ["Capabilities"],
                "parameters": [f()],
                "responses": errors(json!({"200": ok("The conformance declaration", JSON)})),
            }},
            "/api": {"get": {
                "summary": "This API definition", "operationId": "getApi", "tags": ["Capabilities"],
                "parameters": [f()],
                "responses": errors(json!({"200": ok("The OpenAPI 3.0 definition", OPENAPI)})),
            }},
            "/collections": {"get": {
                "summary": "The catalogues (one)", "operationId": "getCollections", "tags": ["Catalogues"],
                "parameters": [f()],
                "responses": errors(json!({"200": ok("The catalogues", JSON)})),
            }},
            "/collections/{catalogId}": {"get": {
                "summary": "A catalogue", "operationId": "getCollection", "tags": ["Catalogues"],
                "parameters": [{"$ref": "#/components/parameters/catalogId"}, f()],
                "responses": errors(json!({
                    "200": ok("The catalogue", JSON),
                    "404": {"$ref": "#/components/responses/NotFound"},
                })),
            }},
            "/collections/{catalogId}/items": {"get": {
                "summary": "Search the records", "operationId": "getRecords", "tags": ["Records"],
                "description": "All conditions must hold. Records are in identifier order; follow the next link to page.",
                "parameters": [
                    {"$ref": "#/components/parameters/catalogId"},
                    {"name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "Records whose bounding box intersects west,south,east,north (CRS84). Six numbers (3D) and boxes across the antimeridian are refused with 400. A record without a box never matches.",
                     "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}}},
                    {"name": "datetime", "in": "query", "required": false,
                     "description": "An RFC 3339 date-time, a date (its whole day, UTC), or an interval start/end with .. for an open end. A record without temporal coverage is compared by its last change.",
                     "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "Terms separated by commas or spaces; a record matches when any term occurs in its title, description or keywords (case-insensitive).",
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "type", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "Resource kinds (comma-separated); an unknown kind is refused with 400.",
                     "schema": {"type": "array", "items": {"type": "string", "enum": kinds}}},
                    {"name": "ids", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "Record identifiers (comma-separated).",
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "limit", "in": "query", "required": false,
                     "description": format!("Records per page, 1 to {MAX_LIMIT}; a larger value is refused with 400."),
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
                    {"name": "offset", "in": "query", "required": false,
                     "description": "How many matching records to skip (the next and prev links set it).",
                     "schema": {"type": "integer", "minimum": 0, "default": 0}},
                    f(),
                ],
                "responses": errors(json!({
                    "200": ok("A page of records (GeoJSON FeatureCollection)", GEOJSON),
                    "404": {"$ref": "#/components/responses/NotFound"},
                })),
            }},
            "/collections/{catalogId}/items/{recordId}": {"get": {
                "summary": "One record", "operationId": "getRecord", "tags": ["Records"],
                "parameters": [
                    {"$ref": "#/components/parameters/catalogId"},
                    {"name": "recordId", "in": "path", "required": true,
                     "description": "The record's identifier (the resource's IRI or URN), percent-encoded.",
                     "schema": {"type": "string"}},
                    f(),
                ],
                "responses": errors(json!({
                    "200": ok("The record (GeoJSON Feature)", GEOJSON),
                    "404": {"$ref": "#/components/responses/NotFound"},
                })),
            }},
        },
        "components": {
            "parameters": {
                "catalogId": {"name": "catalogId", "in": "path", "required": true,
                    "description": "The catalogue's identifier.",
                    "schema": {"type": "string", "enum": [COLLECTION_ID]}},
                "f": {"name": "f", "in": "query", "required": false,
                    "description": "The response format; JSON is the only one served.",
                    "schema": {"type": "string", "enum": ["json"], "default": "json"}},
            },
            "schemas": {
                "exception": {
                    "type": "object", "required": ["code"],
                    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
                },
            },
            "responses": {
                "InvalidParameter": {"description": "A query parameter is unknown, repeated or has a value that cannot be used.",
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}},
                "NotFound": {"description": "No such catalogue or record.",
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}},
                "ServerError": {"description": "The catalogue could not be read.",
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_every_route_is_described() {
        let info = crate::config::CatalogueInfo {
            title: "City".into(),
            description: None,
            publisher_id: "https://city.example".into(),
            publisher_name: "City".into(),
            homepage: None,
            language: vec![],
            license: None,
            contact_point: None,
        };
        let doc = definition(&Ctx {
            public_url: "https://twin.example",
            info: &info,
        });
        assert_eq!(doc["servers"][0]["url"], "https://twin.example/records");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let pointer = r.strip_prefix('#').expect("local reference");
            assert!(doc.pointer(pointer).is_some(), "{r}");
        }
        for path in [
            "/",
            "/conformance",
            "/api",
            "/collections",
            "/collections/{catalogId}",
            "/collections/{catalogId}/items",
            "/collections/{catalogId}/items/{recordId}",
        ] {
            assert!(
                doc["paths"][path]["get"]["responses"]["200"].is_object(),
                "{path}"
            );
        }
    }
}
