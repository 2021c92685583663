//! The OpenAPI 3.1 description of the management API, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Twinport management API", description = "Resources, policies and partners of a Twinport connector."),
    paths(
        super::resources::list, super::resources::read, super::resources::create, super::resources::update, super::resources::delete,
        super::policies::list, super::policies::read, super::policies::versions, super::policies::create, super::policies::update, super::policies::delete,
        super::dry_run::dry_run,
        super::partners::list, super::partners::catalog,
        super::processes::list_negotiations, super::processes::read_negotiation, super::processes::start_negotiation,
        super::processes::offer_negotiation, super::processes::accept, super::processes::approve, super::processes::terminate,
        super::processes::list_agreements, super::processes::read_agreement,
        super::processes::list_transfers, super::processes::read_transfer, super::processes::start_transfer,
        super::processes::suspend, super::processes::resume, super::processes::complete, super::processes::terminate_transfer,
        super::receipts::list,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(<crate::audit::auditor_api::AuditApiDoc as OpenApi>::openapi());
    Json(doc)
}
