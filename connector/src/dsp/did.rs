//! DCP on the public listener: our DID document where our `did:web` DID says it is (and under
//! `/.well-known/did.json`, where tools look first), and our Credential Service's presentation query endpoint
//! (`/dcp/presentations/query`). Both exist only with `[dcp]`; the document is public, the query authenticated
//! by the verifier's self-issued token wrapping the access token we gave it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use twinport_contracts::did::DidWeb;

use super::DspState;
use crate::identity::dcp::document::CREDENTIAL_SERVICE_PATH;
use crate::identity::dcp::Dcp;

/// The routes, for a connector speaking DCP as `dcp`.
pub fn routes(dcp: &Dcp) -> Router<DspState> {
    let mut paths = vec!["/.well-known/did.json".to_string()];
    if let Ok(did) = DidWeb::parse(dcp.did()) {
        let path = did.document_path();
        if !paths.contains(&path) {
            // A DID with a path: its document, and the `.well-known` form some resolvers try under that path.
            let well_known = path.replace("/did.json", "/.well-known/did.json");
            paths.push(path);
            paths.push(well_known);
        }
    }
    let mut router = Router::new().route(
        &format!("{CREDENTIAL_SERVICE_PATH}/presentations/query"),
        post(query),
    );
    for path in paths {
        router = router.route(&path, get(document));
    }
    router
}

fn dcp(state: &DspState) -> Option<&Dcp> {
    state.contracting.partners().directory().dcp()
}

async fn document(State(state): State<DspState>) -> Response {
    let Some(dcp) = dcp(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (CONTENT_TYPE, "application/did+json"),
            // Partners may keep it a while; a key rotation reaches them within this time.
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        Json(dcp.document(state.contracting.public_url())),
    )
        .into_response()
}

async fn query(State(state): State<DspState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(dcp) = dcp(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    match dcp
        .answer_query(authorization, &body, state.contracting.store())
        .await
    {
        Ok(answer) => Json(answer).into_response(),
        Err(refusal) => {
            tracing::warn!(status = refusal.status, reason = %refusal.message, "credential service refused a presentation query");
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
            (
                status,
                [(CONTENT_TYPE, "application/problem+json")],
                Json(serde_json::json!({
                    "type": "about:blank",
                    "title": status.canonical_reason().unwrap_or("refused"),
                    "status": refusal.status,
                    "detail": refusal.message,
                })),
            )
                .into_response()
        }
    }
}
