//! `GET /records/collections` and `GET /records/collections/catalogue`: the one catalogue (a Records collection
//! with `itemType: "record"` as a string, which OWSLib's `records()` requires) with its spatial and temporal extent
//! taken from the index.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::error::RecordsError;
use super::links::{link, Ctx};
use super::values;
use super::{query, COLLECTION_ID, GEOJSON, JSON};
use crate::catalogue::public::{Index, OpenCatalogue};

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const GREGORIAN: &str = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian";

pub async fn list(
    State(open): State<OpenCatalogue>,
    RawQuery(raw): RawQuery,
) -> Result<Response, RecordsError> {
    query::only_format(raw.as_deref())?;
    let index = open.index().await?;
    let ctx = Ctx {
        public_url: open.public_url(),
        info: open.info(),
    };
    let base = ctx.base();
    let body = json!({
        "collections": [catalogue(&ctx, &index)],
        "links": [
            link("self", format!("{base}/collections"), Some(JSON), Some("The catalogues")),
            link("root", base, Some(JSON), Some("The landing page")),
        ],
    });
    Ok(([(header::CONTENT_TYPE, JSON)], body.to_string()).into_response())
}

pub async fn one(
    State(open): State<OpenCatalogue>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Response, RecordsError> {
    check_collection(id)?;
    query::only_format(raw.as_deref())?;
    let index = open.index().await?;
    let ctx = Ctx {
        public_url: open.public_url(),
        info: open.info(),
    };
    let body = catalogue(&ctx, &index);
    Ok(([(header::CONTENT_TYPE, JSON)], body.to_string()).into_response())
}

/// 404 unless the path names our one catalogue.
pub fn check_collection(id: Result<Path<String>, PathRejection>) -> Result<(), RecordsError> {
    match id {
        Ok(Path(id)) if id == COLLECTION_ID => Ok(()),
        Ok(Path(id)) => Err(RecordsError::not_found(format!(
            "no catalogue {id:?}; this server has one, {COLLECTION_ID:?}"
        ))),
        Err(_) => Err(RecordsError::not_found(format!(
            "no such catalogue; this server has one, {COLLECTION_ID:?}"
        ))),
    }
}

/// The catalogue as a Records collection (`collection.yaml`).
fn catalogue(ctx: &Ctx, index: &Index) -> Value {
    let info = ctx.info;
    let mut c = Map::new();
    c.insert("id".into(), COLLECTION_ID.into());
    c.insert("type".into(), "Collection".into());
    c.insert("itemType".into(), "record".into());
    c.insert("title".into(), info.title.clone().into());
    if let Some(d) = &info.description {
        c.insert("description".into(), d.clone().into());
    }
    c.insert("extent".into(), extent(index));
    if let Some(created) = index.issued.and_then(values::format_utc) {
        c.insert("created".into(), created.into());
    }
    if let Some(updated) = index.modified.and_then(values::format_utc) {
        c.insert("updated".into(), updated.into());
    }
    if let Some(l) = info.language.first() {
        c.insert("language".into(), values::language(l));
    }
    let mut contacts = Vec::new();
    if let Some(cp) = &info.contact_point {
        contacts.push(values::contact_point(cp));
    }
    contacts.push(json!({
        "organization": info.publisher_name,
        "identifier": info.publisher_id,
        "roles": ["publisher"],
    }));
    c.insert("contacts".into(), Value::Array(contacts));
    let mut links = vec![
        link("self", ctx.collection_url(), Some(JSON), Some(&info.title)),
        link("root", ctx.base(), Some(JSON), Some("The landing page")),
        link("items", ctx.items_url(), Some(GEOJSON), Some("The records")),
        link(
            "alternate",
            format!("{}/catalog.ttl", ctx.public_url),
            Some("text/turtle"),
            Some("The same catalogue as DCAT-AP 3 (Turtle)"),
        ),
    ];
    if let Some(l) = &info.license {
        c.insert("license".into(), values::spdx_or_other(l).into());
        links.push(link("license", l.iri(), None, Some(&l.label())));
    }
    if let Some(home) = &info.homepage {
        links.push(link(
            "about",
            home.clone(),
            Some("text/html"),
            Some("Publisher"),
        ));
    }
    c.insert("links".into(), Value::Array(links));
    Value::Object(c)
}

/// The union of the records' boxes (the whole world when none has one) and of their temporal coverage.
fn extent(index: &Index) -> Value {
    let b = index.extent.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    let mut e = json!({"spatial": {"bbox": [b], "crs": CRS84}});
    let timed: Vec<_> = index
        .entries
        .iter()
        .filter(|e| e.start.is_some() || e.end.is_some())
        .collect();
    if !timed.is_empty() {
        // An open end on any record leaves the catalogue's interval open on that side.
        let start = if timed.iter().all(|e| e.start.is_some()) {
            timed.iter().filter_map(|e| e.start).min()
        } else {
            None
        };
        let end = if timed.iter().all(|e| e.end.is_some()) {
            timed.iter().filter_map(|e| e.end).max()
        } else {
            None
        };
        let text = |t: Option<time::OffsetDateTime>| t.and_then(values::format_utc);
        e["temporal"] = json!({"interval": [[text(start), text(end)]], "trs": GREGORIAN});
    }
    e
}
