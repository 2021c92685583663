//! `GET /vocab/ldt`: Twinport's LDT vocabulary (`vocab/ldt.ttl`), with our public URL as its base, so the concept
//! IRIs the catalogue publishes (`<public URL>/vocab/ldt#raw`) dereference to their definitions.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::catalogue::public::OpenCatalogue;

const VOCABULARY: &str = include_str!("../../vocab/ldt.ttl");

pub async fn turtle(State(open): State<OpenCatalogue>) -> impl IntoResponse {
    let base = format!("{}{}", open.public_url(), crate::paths::VOCAB_PATH);
    (
        [
            (header::CONTENT_TYPE, "text/turtle; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        format!("@base <{base}> .\n{VOCABULARY}"),
    )
}
