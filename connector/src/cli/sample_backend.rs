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

/// What answering a request costs a real platform, for benchmarks: `wait_us` waiting on its own database or
/// disk (no CPU), then `work_us` of CPU (query evaluation, serialisation). Each is capped at one second.
#[derive(serde::Deserialize, Default)]
struct Cost {
    #[serde(default)]
    wait_us: u64,
    #[serde(default)]
    work_us: u64,
}

const MAX_COST_US: u64 = 1_000_000;

/// The same 1 KB for every request, after the requested cost.
async fn kilobyte(Query(cost): Query<Cost>) -> impl IntoResponse {
    static KB: [u8; 1024] = [b'x'; 1024];
    if cost.wait_us > 0 {
        tokio::time::sleep(std::time::Duration::from_micros(
            cost.wait_us.min(MAX_COST_US),
        ))
        .await;
    }
    if cost.work_us > 0 {
        // Real work, not a sleep, and on a thread of its own: the kernel time-slices it like the separate process
        // a platform is, where a busy async worker would hold up every task queued behind it (the load
        // generator's, and without `--pin` the connectors').
        let work = std::time::Duration::from_micros(cost.work_us.min(MAX_COST_US));
        let _ = tokio::task::spawn_blocking(move || {
            use sha2::Digest;
            let until = std::time::Instant::now() + work;
            let mut digest = sha2::Sha256::digest(KB);
            while std::time::Instant::now() < until {
                digest = sha2::Sha256::digest(digest);
            }
            std::hint::black_box(digest);
        })
        .await;
    }
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
