//! A small stand-in for a city's LDT platform, for the demo: a few NGSI-LD entities, an OGC API Processes
//! description and a published GeoJSON output, on loopback; and for `twinport bench dataplane`, a 1 KB response
//! (`/bench/kb`) and a generated stream of any size (`/bench/stream?mb=N`) that is never held in memory.

use axum::body::Body;
use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// Starts the sample platform; returns its base URL and the server task.
pub async fn start() -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let app = Router::new()
        .route("/ngsi-ld/v1/entities", get(entities))
        .route("/processes/flood-simulation", get(process))
        .route("/outputs/heat-2040.geojson", get(heat_output))
        .route("/bench/kb", get(kilobyte))
        .route("/bench/stream", get(stream));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, task))
}

async fn entities() -> Json<Value> {
    Json(json!([
        {"id": "urn:ngsi-ld:TrafficFlowObserved:segment-12", "type": "TrafficFlowObserved",
         "intensity": {"type": "Property", "value": 412}, "dateObserved": {"type": "Property", "value": "2026-11-24T08:00:00Z"}},
        {"id": "urn:ngsi-ld:TrafficFlowObserved:segment-13", "type": "TrafficFlowObserved",
         "intensity": {"type": "Property", "value": 198}, "dateObserved": {"type": "Property", "value": "2026-11-24T08:00:00Z"}}
    ]))
}

async fn process() -> Json<Value> {
    Json(
        json!({"id": "flood-simulation", "title": "Pluvial flood simulation", "version": "1.0.0",
                "inputs": {"rainfall_mm_per_hour": {"schema": {"type": "number"}}}}),
    )
}

async fn heat_output() -> Json<Value> {
    Json(json!({"type": "FeatureCollection", "features": []}))
}

/// The same 1 KB for every request.
async fn kilobyte() -> impl IntoResponse {
    static KB: [u8; 1024] = [b'x'; 1024];
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        &KB[..],
    )
}

#[derive(serde::Deserialize)]
struct StreamSize {
    mb: u64,
}

/// `mb` MiB generated in 64 KiB chunks as the client reads them.
async fn stream(Query(size): Query<StreamSize>) -> impl IntoResponse {
    const CHUNK: usize = 64 * 1024;
    let chunks = size.mb.min(64 * 1024) * 16;
    let chunk = bytes::Bytes::from(vec![7u8; CHUNK]);
    let body = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, (chunks * CHUNK as u64).to_string()),
        ],
        Body::from_stream(body),
    )
}
