//! Unauthenticated discovery: which DSP versions we speak and where (DSP 2025-1 §4.3), and our public keys, so a
//! partner can verify our tokens and signatures.

use axum::extract::State;
use axum::Json;
use twinport_contracts::catalog::{ProtocolVersion, VersionResponse};
use twinport_contracts::dsp::DSP_VERSION;
use twinport_contracts::identity::Jwks;

use super::DSP_PATH;
use crate::app::AppState;

pub async fn version() -> Json<VersionResponse> {
    Json(VersionResponse {
        protocol_versions: vec![ProtocolVersion {
            version: DSP_VERSION.to_string(),
            path: DSP_PATH.to_string(),
            binding: "HTTPS".to_string(),
        }],
    })
}

pub async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.identity().jwks())
}
