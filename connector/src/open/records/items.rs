//! `GET /records/collections/catalogue/items` (a page of records as a GeoJSON `FeatureCollection`, with
//! `numberMatched`, `numberReturned`, `timeStamp` and self/prev/next links built from the public URL, never from
//! the request's Host) and `GET …/items/{recordId}` (one record).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::collections::check_collection;
use super::error::RecordsError;
use super::links::{link, Ctx};
use super::query::{self, ItemsQuery};
use super::{render, values};
use super::{GEOJSON, JSON};
use crate::catalogue::public::OpenCatalogue;

pub async fn list(
    State(open): State<OpenCatalogue>,
    collection: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Response, RecordsError> {
    check_collection(collection)?;
    let q = query::items(raw.as_deref())?;
    let page = open.search(&q.search, q.offset, q.limit).await?;
    let ctx = Ctx {
        public_url: open.public_url(),
        info: open.info(),
    };
    let features: Vec<Value> = page
        .records
        .iter()
        .map(|r| render::feature(r, &ctx))
        .collect();
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).ok();
    let mut links = vec![
        link(
            "self",
            page_url(&ctx, &q, q.offset),
            Some(GEOJSON),
            Some("This page"),
        ),
        link(
            "collection",
            ctx.collection_url(),
            Some(JSON),
            Some("The catalogue"),
        ),
    ];
    let next = q.offset.saturating_add(q.limit);
    if next < page.matched {
        links.push(link(
            "next",
            page_url(&ctx, &q, next),
            Some(GEOJSON),
            Some("Next page"),
        ));
    }
    if q.offset > 0 {
        // From past the end, "previous" is the last page that has records.
        let prev = q.offset.min(page.matched).saturating_sub(q.limit);
        links.push(link(
            "prev",
            page_url(&ctx, &q, prev),
            Some(GEOJSON),
            Some("Previous page"),
        ));
    }
    let body = json!({
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": page.matched,
        "numberReturned": page.records.len(),
        "timeStamp": now.and_then(values::format_utc),
        "links": links,
    });
    Ok(([(header::CONTENT_TYPE, GEOJSON)], body.to_string()).into_response())
}

pub async fn one(
    State(open): State<OpenCatalogue>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Response, RecordsError> {
    let (collection, id) = match path {
        Ok(Path((c, id))) => (Ok(Path(c)), id),
        Err(_) => {
            return Err(RecordsError::not_found(
                "the record id is not valid percent-encoded UTF-8",
            ))
        }
    };
    check_collection(collection)?;
    query::only_format(raw.as_deref())?;
    let record = open
        .record(&id)
        .await?
        .ok_or_else(|| RecordsError::not_found(format!("no record {id:?} in this catalogue")))?;
    let ctx = Ctx {
        public_url: open.public_url(),
        info: open.info(),
    };
    let body = render::feature(&record, &ctx);
    Ok(([(header::CONTENT_TYPE, GEOJSON)], body.to_string()).into_response())
}

/// The items URL with the search's parameters, `limit` and `offset`.
fn page_url(ctx: &Ctx, q: &ItemsQuery, offset: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &q.echo {
        query.append_pair(k, v);
    }
    query.append_pair("limit", &q.limit.to_string());
    if offset > 0 {
        query.append_pair("offset", &offset.to_string());
    }
    format!("{}?{}", ctx.items_url(), query.finish())
}
