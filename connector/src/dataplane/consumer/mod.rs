//! The consumer side of the data plane: the local endpoint (`local_listen`) through which this city's own
//! applications use an agreed pull transfer without handling tokens. Each request is forwarded to the provider
//! with the transfer's current data address, bodies stream both ways, and once the response has ended the
//! provider's signed receipt is fetched (with others, when the provider signs them in batches:
//! [`receipt_batches`]), checked against what actually arrived, stored, and recorded in our own audit log. Every request is first judged by the guard (host name, cross-site browser requests, CORS).
//! Pushed data arrives at `/push/{consumerPid}` on the partner listener ([`push`]). The pull token is kept apart from
//! the data address and renewed before it expires when the provider offers it ([`renewal`]).

mod guard;
mod links;
mod proxy;
pub mod push;
pub mod receipt_batches;
pub mod receipts;
mod record;
mod references;
pub mod renewal;

use axum::middleware::from_fn_with_state;
use axum::routing::any;
use axum::Router;

use crate::dataplane::DataPlaneState;

pub use receipts::{ReceiptCheck, StoredReceipt};
pub use record::{record_access, Access};

/// The router of the local listener. Nothing else is served there, so partners never reach it through the DSP
/// listener and the city's applications never reach the management API through it. The guard wraps the fallback
/// too, so a refused caller learns nothing, not even which paths exist.
pub fn router(state: DataPlaneState) -> Router {
    Router::new()
        .route("/transfers/{pid}", any(proxy::forward_root))
        .route("/transfers/{pid}/", any(proxy::forward_root))
        .route("/transfers/{pid}/{*path}", any(proxy::forward_path))
        .fallback(|| async {
            crate::error::ApiError::NotFound(
                "route (the local endpoint serves /transfers/{consumerPid}/{path})".into(),
            )
        })
        .layer(from_fn_with_state(state.clone(), guard::guard))
        .with_state(state)
}
