//! Liveness and readiness for orchestrators: `/healthz` answers while the process runs; `/readyz` only when storage
//! answers and the catalogue is loaded.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::storage::Store;

/// What readiness depends on: the store answering, and the catalogue loaded. The assembly sets the flag once the
/// catalogue directory is loaded (a start that cannot load it stops before any port is bound), so today only the
/// store can make `/readyz` fail.
#[derive(Clone)]
pub struct Readiness {
    pub store: Store,
    pub catalogue_loaded: Arc<AtomicBool>,
}

pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<Readiness>) -> (StatusCode, Json<Value>) {
    let storage = state.store.ping().await;
    let catalogue = state.catalogue_loaded.load(Ordering::Relaxed);
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
