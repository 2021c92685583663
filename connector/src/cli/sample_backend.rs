//! A small stand-in for a city's LDT platform, for the demo: a few NGSI-LD entities, an OGC API Processes
//! description and a published GeoJSON output, on loopback.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// Starts the sample platform; returns its base URL and the server task.
pub async fn start() -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let app = Router::new()
        .route("/ngsi-ld/v1/entities", get(entities))
        .route("/processes/flood-simulation", get(process))
        .route("/outputs/heat-2040.geojson", get(heat_output));
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
