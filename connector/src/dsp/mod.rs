//! The Dataspace Protocol 2025-1 HTTPS binding, both roles on one base: the unauthenticated version, key and
//! extension documents; the authenticated catalogue; the negotiation and transfer endpoints (our pids tell which
//! role a path is for); and the audit endpoints partners call. The surface works with [`DspState`] only.

mod answer_first;
mod audit;
mod auth;
mod catalog;
mod did;
mod error;
mod guard;
mod negotiation;
mod process_auth;
mod pull_token;
mod received;
mod transfer;
mod well_known;

use axum::routing::{get, post};
use axum::Router;

use std::sync::Arc;

use crate::config::CatalogueInfo;
use crate::contracting::Contracting;
use crate::tls::Tls;

pub use crate::error::dsp_refusal as refusal;
pub use auth::Partner;
pub use error::CatalogError;

pub use crate::paths::DSP_PATH;

/// What the DSP surface works with: the contracting service, the partner-certificate check of mutual TLS, and what
/// the catalogue says about itself. Handlers extract only the part they use.
#[derive(Clone, axum::extract::FromRef)]
pub struct DspState {
    pub contracting: Contracting,
    pub tls: Arc<Tls>,
    pub catalogue_info: Arc<CatalogueInfo>,
}

/// The DSP routes (the audit endpoints partners call among them), each answering errors as DSP error messages.
pub fn router(state: DspState) -> Router {
    let did_routes = match state.contracting.partners().directory().dcp() {
        Some(dcp) => did::routes(dcp),
        None => Router::new(),
    };
    Router::new()
        .route("/.well-known/dspace-version", get(well_known::version))
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route(crate::paths::EXTENSIONS_PATH, get(well_known::twinport))
        .route(
            &format!("{DSP_PATH}/catalog/request"),
            post(catalog::request),
        )
        .route(
            &format!("{DSP_PATH}/catalog/datasets/{{id}}"),
            get(catalog::dataset),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/request"),
            post(negotiation::request),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/offers"),
            post(negotiation::initial_offer),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/{{pid}}"),
            get(negotiation::get),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/{{pid}}/request"),
            post(negotiation::counter_request),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/{{pid}}/offers"),
            post(negotiation::counter_offer),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/{{pid}}/events"),
            post(negotiation::events),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/{{pid}}/agreement"),
            post(negotiation::agreement),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/{{pid}}/agreement/verification"),
            post(negotiation::verification),
        )
        .route(
            &format!("{DSP_PATH}/negotiations/{{pid}}/termination"),
            post(negotiation::termination),
        )
        .route(
            &format!("{DSP_PATH}/transfers/request"),
            post(transfer::request),
        )
        .route(&format!("{DSP_PATH}/transfers/{{pid}}"), get(transfer::get))
        .route(
            &format!("{DSP_PATH}/transfers/{{pid}}/start"),
            post(transfer::start),
        )
        .route(
            &format!("{DSP_PATH}/transfers/{{pid}}/completion"),
            post(transfer::completion),
        )
        .route(
            &format!("{DSP_PATH}/transfers/{{pid}}/suspension"),
            post(transfer::suspension),
        )
        .route(
            &format!("{DSP_PATH}/transfers/{{pid}}/termination"),
            post(transfer::termination),
        )
        .route(
            &format!("{DSP_PATH}/transfers/{{pid}}/pull-token"),
            post(pull_token::renew),
        )
        .merge(audit::routes())
        .merge(did_routes)
        // Every answer names the audit entry that recorded the request, for the partner's receipt.
        .layer(axum::middleware::from_fn(received::stamp_entry))
        // Outermost: stamp_entry and the handlers see only bounded JSON bodies.
        .layer(axum::middleware::from_fn(guard::guard))
        .with_state(state)
}
