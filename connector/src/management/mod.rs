//! The management API (`/api/v1`): plain JSON for the city's own operators and tools — resources, policies,
//! partners — with RFC 9457 problem details for every error and an OpenAPI 3.1 document generated from this code.

mod alignment;
mod audit;
mod auth;
mod body;
mod created;
mod dry_run;
mod duties;
mod guard;
mod identity;
pub mod metrics;
mod openapi;
mod paging;
mod partners;
mod policies;
mod processes;
mod receipts;
mod reference;
mod resources;

use axum::routing::get;
use axum::Router;

use crate::contracting::Contracting;
use crate::dataplane::DataPlaneState;

pub use audit::{record_management_action, ManagementEntry};
pub use auth::{Access, Principal, Role};
pub use partners::entry as partner_entry;
pub use partners::validated as validated_partner;
pub use processes::AgreementExport;

/// What the management API works with; handlers extract only the part they use.
#[derive(Clone, axum::extract::FromRef)]
pub struct ManagementState {
    pub contracting: Contracting,
    /// The open catalogue: its defaults decide whether a discoverable resource has all it must.
    pub open: crate::catalogue::public::OpenCatalogue,
    /// The consumer side's stored receipts.
    pub data_plane: DataPlaneState,
    pub access: Access,
}

pub fn router(state: ManagementState) -> Router {
    let api = Router::new()
        .route("/resources", get(resources::list).post(resources::create))
        .route(
            "/resources/{id}",
            get(resources::read)
                .put(resources::update)
                .delete(resources::delete),
        )
        .route("/policies", get(policies::list).post(policies::create))
        .route(
            "/policies/{id}",
            get(policies::read)
                .put(policies::update)
                .delete(policies::delete),
        )
        .route("/policies/{id}/versions", get(policies::versions))
        .route(
            "/policies/{id}/dry-run",
            axum::routing::post(dry_run::dry_run),
        )
        .route("/partners", get(partners::list).post(partners::create))
        .route(
            "/partners/{id}",
            get(partners::read)
                .put(partners::update)
                .delete(partners::delete),
        )
        .route("/alignment", axum::routing::post(alignment::check))
        .route("/alignment/{id}", get(alignment::read))
        .route("/identity", get(identity::read))
        .route("/identity/credentials", axum::routing::post(identity::add))
        .route(
            "/identity/credentials/{file}",
            axum::routing::delete(identity::remove),
        )
        .route("/partners/{id}/catalog", get(partners::catalog))
        .route(
            "/negotiations",
            get(processes::list_negotiations).post(processes::start_negotiation),
        )
        .route(
            "/negotiations/offers",
            axum::routing::post(processes::offer_negotiation),
        )
        .route("/negotiations/{id}", get(processes::read_negotiation))
        .route(
            "/negotiations/{id}/accept",
            axum::routing::post(processes::accept),
        )
        .route(
            "/negotiations/{id}/counter",
            axum::routing::post(processes::counter),
        )
        .route(
            "/negotiations/{id}/approve",
            axum::routing::post(processes::approve),
        )
        .route(
            "/negotiations/{id}/terminate",
            axum::routing::post(processes::terminate),
        )
        .route("/agreements", get(processes::list_agreements))
        .route("/agreements/{id}", get(processes::read_agreement))
        .route("/agreements/{id}/duties", get(duties::list))
        .route(
            "/agreements/{id}/duties/{duty}",
            axum::routing::put(duties::record),
        )
        .route(
            "/transfers",
            get(processes::list_transfers).post(processes::start_transfer),
        )
        .route("/transfers/{id}", get(processes::read_transfer))
        .route(
            "/transfers/{id}/suspend",
            axum::routing::post(processes::suspend),
        )
        .route(
            "/transfers/{id}/resume",
            axum::routing::post(processes::resume),
        )
        .route(
            "/transfers/{id}/complete",
            axum::routing::post(processes::complete),
        )
        .route(
            "/transfers/{id}/terminate",
            axum::routing::post(processes::terminate_transfer),
        )
        .route("/transfers/{id}/receipts", get(receipts::list))
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(reference::page))
        .merge(audit::routes())
        .layer(axum::middleware::from_fn(guard::guard));
    Router::new()
        .nest("/api/v1", api)
        .fallback(guard::unknown_route)
        .with_state(state)
}
