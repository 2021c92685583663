//! Liveness and readiness for orchestrators: `/healthz` answers while the process runs; `/readyz` only when storage
//! answers and the catalogue is loaded.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let storage = state.store().ping().await;
    let catalogue = state.catalogue_loaded();
    let status = if storage && catalogue {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if status == StatusCode::OK { "ready" } else { "not ready" },
            "storage": if storage { "ok" } else { "unreachable" },
            "catalogue": if catalogue { "loaded" } else { "not loaded" },
        })),
    )
}
