//! The OpenAPI 3.1 description of the management API, generated from the handlers' annotations, with each
//! operation's required role stated in its `security` requirement (OpenAPI 3.1 allows role names there) and, when
//! `[oidc]` is configured, the provider's discovery URL as an `openIdConnect` scheme.

use axum::extract::State;
use axum::Json;
use utoipa::openapi::security::{
    HttpAuthScheme, HttpBuilder, OpenIdConnect, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use super::auth::Role;
use crate::app::AppState;

/// The role each operation needs, as its handler's `require` states it. `tests/tests/oidc.rs` checks the API's
/// behaviour against what the document says, and the unit test below that no documented operation is missing.
pub const ROUTE_ROLES: &[(&str, &str, Role)] = &[
    ("get", "/api/v1/resources", Role::Viewer),
    ("post", "/api/v1/resources", Role::Operator),
    ("get", "/api/v1/resources/{id}", Role::Viewer),
    ("put", "/api/v1/resources/{id}", Role::Operator),
    ("delete", "/api/v1/resources/{id}", Role::Operator),
    ("get", "/api/v1/policies", Role::Viewer),
    ("post", "/api/v1/policies", Role::Legal),
    ("get", "/api/v1/policies/{id}", Role::Viewer),
    ("put", "/api/v1/policies/{id}", Role::Legal),
    ("delete", "/api/v1/policies/{id}", Role::Legal),
    ("get", "/api/v1/policies/{id}/versions", Role::Viewer),
    ("post", "/api/v1/policies/{id}/dry-run", Role::Legal),
    ("get", "/api/v1/partners", Role::Viewer),
    ("get", "/api/v1/partners/{id}/catalog", Role::Operator),
    ("get", "/api/v1/negotiations", Role::Viewer),
    ("post", "/api/v1/negotiations", Role::Operator),
    ("post", "/api/v1/negotiations/offers", Role::Operator),
    ("get", "/api/v1/negotiations/{id}", Role::Viewer),
    ("post", "/api/v1/negotiations/{id}/accept", Role::Operator),
    ("post", "/api/v1/negotiations/{id}/approve", Role::Operator),
    (
        "post",
        "/api/v1/negotiations/{id}/terminate",
        Role::Operator,
    ),
    ("get", "/api/v1/agreements", Role::Viewer),
    ("get", "/api/v1/agreements/{id}", Role::Viewer),
    ("get", "/api/v1/agreements/{id}/duties", Role::Viewer),
    ("put", "/api/v1/agreements/{id}/duties/{duty}", Role::Legal),
    ("get", "/api/v1/transfers", Role::Viewer),
    ("post", "/api/v1/transfers", Role::Operator),
    ("get", "/api/v1/transfers/{id}", Role::Viewer),
    ("get", "/api/v1/transfers/{id}/receipts", Role::Viewer),
    ("post", "/api/v1/transfers/{id}/suspend", Role::Operator),
    ("post", "/api/v1/transfers/{id}/resume", Role::Operator),
    ("post", "/api/v1/transfers/{id}/complete", Role::Operator),
    ("post", "/api/v1/transfers/{id}/terminate", Role::Operator),
    ("get", "/api/v1/audit/entries", Role::Auditor),
    ("get", "/api/v1/audit/checkpoint", Role::Auditor),
    ("get", "/api/v1/audit/proofs/inclusion", Role::Auditor),
    ("get", "/api/v1/audit/proofs/consistency", Role::Auditor),
    ("get", "/api/v1/audit/receipts/{index}", Role::Auditor),
    ("post", "/api/v1/audit/partners/{id}/check", Role::Auditor),
];

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
        super::processes::list_agreements, super::processes::read_agreement, super::duties::list, super::duties::record,
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

pub async fn document(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(full_document(
        state.oidc().map(|o| o.config().issuer.as_str()),
    ))
}

/// The whole description; `issuer` adds the OIDC scheme as an alternative to the plain bearer scheme.
fn full_document(issuer: Option<&str>) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(<crate::audit::auditor_api::AuditApiDoc as OpenApi>::openapi());
    let mut schemes = vec!["bearer"];
    if let Some(issuer) = issuer {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "oidc",
                SecurityScheme::OpenIdConnect(OpenIdConnect::new(discovery)),
            );
        schemes.push("oidc");
    }
    for (method, path, role) in ROUTE_ROLES {
        let Some(item) = doc.paths.paths.get_mut(*path) else {
            continue;
        };
        let operation = match *method {
            "get" => item.get.as_mut(),
            "post" => item.post.as_mut(),
            "put" => item.put.as_mut(),
            "delete" => item.delete.as_mut(),
            _ => None,
        };
        if let Some(op) = operation {
            op.security = Some(
                schemes
                    .iter()
                    .map(|scheme| SecurityRequirement::new(*scheme, [role.name()]))
                    .collect(),
            );
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::{full_document, ROUTE_ROLES};

    #[test]
    fn every_documented_operation_states_its_role() {
        let doc = serde_json::to_value(full_document(Some("https://id.example/realms/c"))).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let role = ROUTE_ROLES
                    .iter()
                    .find(|(m, p, _)| m == method && p == path)
                    .unwrap_or_else(|| panic!("{method} {path}: add its role to ROUTE_ROLES"))
                    .2;
                assert_eq!(
                    op["security"],
                    serde_json::json!([{"bearer": [role.name()]}, {"oidc": [role.name()]}]),
                    "{method} {path}"
                );
            }
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["oidc"]["openIdConnectUrl"],
            "https://id.example/realms/c/.well-known/openid-configuration"
        );
    }
}
