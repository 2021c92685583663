//! `GET /api/v1/transfers/{id}/receipts`: the provider receipts this connector received as a consumer for one
//! transfer, each with how it verified on arrival and how it verifies now.

use axum::extract::{Path, State};
use axum::Json;

use super::{Principal, Role};
use crate::dataplane::consumer::receipts::{self, ReceiptView};
use crate::dataplane::DataPlaneState;
use crate::error::ApiError;

/// List a transfer's receipts
///
/// The provider receipts received as consumer for one transfer, oldest first, each with how it verified on
/// arrival and how it verifies now.
#[utoipa::path(get, path = "/api/v1/transfers/{id}/receipts", tag = "transfers", operation_id = "list_transfer_receipts",
    params(("id" = String, Path, description = "the transfer id, percent-encoded")),
    responses((status = 200, description = "The receipts", body = [ReceiptView]),
              (status = 404, description = "No such transfer", body = crate::error::Problem)))]
pub async fn list(
    State(state): State<DataPlaneState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<ReceiptView>>, ApiError> {
    who.require(Role::Viewer)?;
    state
        .store()
        .transfer(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("transfer {id}")))?;
    let found = receipts::list(&state, &id)
        .await
        .map_err(|e| ApiError::Internal(format!("reading the stored receipts of {id}: {e}")))?;
    Ok(Json(found))
}
