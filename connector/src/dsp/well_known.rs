//! Unauthenticated discovery: which DSP versions we speak and where (DSP 2025-1 §4.3), our public keys, so a
//! partner can verify our tokens and signatures, and which Twinport-only extensions we serve under the DSP base
//! (`/.well-known/twinport`), so a partner calls them only after finding them advertised.

use axum::extract::State;
use axum::Json;
use twinport_contracts::catalog::{ProtocolVersion, VersionAuth, VersionResponse};
use twinport_contracts::identity::Jwks;

use super::DSP_PATH;
use crate::contracting::Contracting;
use crate::partners::extensions::ExtensionsDocument;

/// Without `[dcp]`, one entry as before (no `auth`: strict readers know it). With it, two entries for the same
/// endpoint: DCP 1.0 with `did:web` identifiers first (what EDC-family connectors pick), then Twinport's
/// self-issued JWT checked against a configured JWKS, which partners without DCP keep using.
pub async fn version(State(state): State<Contracting>) -> Json<VersionResponse> {
    let plain = ProtocolVersion::dsp_2025_1(DSP_PATH);
    let protocol_versions = match state.partners().directory().dcp() {
        None => vec![plain],
        Some(_) => vec![
            ProtocolVersion {
                identifier_type: Some("did:web".into()),
                auth: Some(VersionAuth {
                    protocol: "DCP".into(),
                    version: "1.0".into(),
                    profile: vec!["vc11-sl2021/jwt".into(), "vc20-bssl/jwt".into()],
                }),
                ..plain.clone()
            },
            ProtocolVersion {
                auth: Some(VersionAuth {
                    protocol: "twinport-self-issued-jwt".into(),
                    version: "1".into(),
                    profile: vec!["jwks".into()],
                }),
                ..plain
            },
        ],
    };
    Json(VersionResponse { protocol_versions })
}

/// Kept apart from [`version`]: the TCK and other connectors read `dspace-version` strictly, so an extra entry
/// there could break them.
pub async fn twinport() -> Json<ExtensionsDocument> {
    Json(ExtensionsDocument::ours())
}

pub async fn jwks(State(state): State<Contracting>) -> Json<Jwks> {
    Json(state.identity().jwks())
}
