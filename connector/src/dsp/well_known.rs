//! Unauthenticated discovery: which DSP versions we speak and where (DSP 2025-1 §4.3), our public keys, so a
//! partner can verify our tokens and signatures, and which Twinport-only extensions we serve under the DSP base
//! (`/.well-known/twinport`), so a partner calls them only after finding them advertised.

use axum::extract::State;
use axum::Json;
use twinport_contracts::catalog::{ProtocolVersion, VersionResponse};
use twinport_contracts::dsp::DSP_VERSION;
use twinport_contracts::identity::Jwks;

use super::DSP_PATH;
use crate::contracting::Contracting;
use crate::partners::extensions::ExtensionsDocument;

pub async fn version() -> Json<VersionResponse> {
    Json(VersionResponse {
        protocol_versions: vec![ProtocolVersion {
            version: DSP_VERSION.to_string(),
            path: DSP_PATH.to_string(),
            binding: "HTTPS".to_string(),
        }],
    })
}

/// Kept apart from [`version`]: the TCK and other connectors read `dspace-version` strictly, so an extra entry
/// there could break them.
pub async fn twinport() -> Json<ExtensionsDocument> {
    Json(ExtensionsDocument::ours())
}

pub async fn jwks(State(state): State<Contracting>) -> Json<Jwks> {
    Json(state.identity().jwks())
}
