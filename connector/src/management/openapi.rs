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
use super::Access;

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
    ("post", "/api/v1/partners", Role::Operator),
    ("get", "/api/v1/partners/{id}", Role::Viewer),
    ("put", "/api/v1/partners/{id}", Role::Operator),
    ("delete", "/api/v1/partners/{id}", Role::Operator),
    ("post", "/api/v1/alignment", Role::Operator),
    ("get", "/api/v1/alignment/{id}", Role::Viewer),
    ("get", "/api/v1/partners/{id}/catalog", Role::Operator),
    ("get", "/api/v1/identity", Role::Viewer),
    ("post", "/api/v1/identity/credentials", Role::Operator),
    (
        "delete",
        "/api/v1/identity/credentials/{file}",
        Role::Operator,
    ),
    ("get", "/api/v1/negotiations", Role::Viewer),
    ("post", "/api/v1/negotiations", Role::Operator),
    ("post", "/api/v1/negotiations/offers", Role::Operator),
    ("get", "/api/v1/negotiations/{id}", Role::Viewer),
    ("post", "/api/v1/negotiations/{id}/accept", Role::Operator),
    ("post", "/api/v1/negotiations/{id}/counter", Role::Operator),
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
    info(title = "Twinport management API", description = "The city's own operators, legal team and auditors manage a Twinport connector here: \
the catalogue's resources and the usage policies they are offered under, partner connectors, contract negotiations, \
agreements and transfers with partner cities, the connector's identity, alignment checks and the audit log. Bodies are \
plain JSON; every error is an RFC 9457 problem (`application/problem+json`). Lists are JSON arrays paged with `limit` \
and `cursor`, the next page named by a `Link: <...>; rel=\"next\"` header; a query parameter an operation does not \
take is refused with 400. A browsable form of this document is served at `/api/v1/docs`."),
    tags(
        (name = "resources", description = "The catalogue's resources (the five OASC MIM8 kinds), as partners see them through their policies"),
        (name = "policies", description = "ODRL usage policies, versioned and never rewritten, and dry runs of their decisions"),
        (name = "partners", description = "Partner connectors this city trusts, and their catalogues as they publish them to us"),
        (name = "negotiations", description = "Contract negotiations (DSP 2025-1 §6) in both roles"),
        (name = "agreements", description = "Signed contract agreements and the duties partners took on"),
        (name = "transfers", description = "Transfer processes (DSP 2025-1 §7) in both roles, and the receipts of data received"),
        (name = "alignment", description = "Alignment checks of a model's inputs against datasets, or an output against a visualisation asset"),
        (name = "identity", description = "This connector's identity to partners and, with DCP, the credentials it presents"),
        (name = "audit", description = "The append-only audit log for auditors: entries, signed checkpoints, proofs and receipts, and partners' logs witnessed"),
    ),
    paths(
        super::resources::list, super::resources::read, super::resources::create, super::resources::update, super::resources::delete,
        super::policies::list, super::policies::read, super::policies::versions, super::policies::create, super::policies::update, super::policies::delete,
        super::dry_run::dry_run,
        super::partners::list, super::partners::catalog, super::partners::read, super::partners::create, super::partners::update, super::partners::delete,
        super::alignment::check, super::alignment::read,
        super::identity::read, super::identity::add, super::identity::remove,
        super::processes::list_negotiations, super::processes::read_negotiation, super::processes::start_negotiation,
        super::processes::offer_negotiation, super::processes::accept, super::processes::counter, super::processes::approve, super::processes::terminate,
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

pub async fn document(State(access): State<Access>) -> Json<serde_json::Value> {
    Json(served(&access))
}

/// The document as `GET /api/v1/openapi.json` serves it (and `/api/v1/docs` renders it).
pub fn served(access: &Access) -> serde_json::Value {
    let doc = full_document(access.oidc().map(|o| o.config().issuer.as_str()));
    with_problem_responses(serde_json::to_value(doc).unwrap_or_default())
}

/// Errors every operation can answer whatever its handler does: the request guards' (400 unreadable target or
/// body, 413, 414, 415), authentication's (401, 403), an unknown id (404) and a failed check (422).
const COMMON_ERRORS: &[(&str, &str)] = &[
    (
        "400",
        "Malformed request: unreadable JSON, a NUL or control character in the target or body",
    ),
    ("401", "No valid bearer token"),
    ("403", "The token lacks the operation's role"),
    ("404", "No such resource"),
    ("413", "Request body larger than 2 MiB"),
    (
        "414",
        "Request target longer than 8 KiB, or a path segment longer than 1 KiB",
    ),
    (
        "415",
        "A body that is not JSON (send Content-Type: application/json)",
    ),
    ("422", "Validation failed; `errors` names each field"),
];

/// A schema that flattens a strict one (`allOf: [{"$ref": Resource}, {extra}]`) cannot be satisfied: the strict
/// part forbids the extra members. Such views get the strict schema's members merged with their own instead.
fn merge_flattened_views(doc: &mut serde_json::Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    else {
        return;
    };
    let originals = schemas.clone();
    for schema in schemas.values_mut() {
        let Some(parts) = schema.get("allOf").and_then(|a| a.as_array()).cloned() else {
            continue;
        };
        let mut merged = serde_json::json!({"type": "object", "properties": {}, "required": []});
        for part in &parts {
            let part = match part.get("$ref").and_then(|r| r.as_str()) {
                Some(r) => originals
                    .get(r.trim_start_matches("#/components/schemas/"))
                    .cloned()
                    .unwrap_or_default(),
                None => part.clone(),
            };
            if let Some(props) = part.get("properties").and_then(|p| p.as_object()) {
                for (k, v) in props {
                    merged["properties"][k] = v.clone();
                }
            }
            if let Some(required) = part.get("required").and_then(|r| r.as_array()) {
                if let Some(all) = merged["required"].as_array_mut() {
                    all.extend(required.iter().cloned());
                }
            }
        }
        if let Some(description) = schema.get("description").cloned() {
            merged["description"] = description;
        }
        *schema = merged;
    }
}

/// States what the API does: every error is `application/problem+json` (utoipa would say `application/json`),
/// and every operation lists the errors any request may get.
fn with_problem_responses(mut doc: serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    merge_flattened_views(&mut doc);
    let problem =
        json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return doc;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let responses = op
                .as_object_mut()
                .map(|o| o.entry("responses").or_insert_with(|| json!({})));
            let Some(responses) = responses.and_then(|r| r.as_object_mut()) else {
                continue;
            };
            for (status, description) in COMMON_ERRORS {
                responses
                    .entry(*status)
                    .or_insert_with(|| json!({"description": description}));
            }
            for (status, response) in responses.iter_mut() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if let (true, Some(r)) = (is_error, response.as_object_mut()) {
                    r.insert("content".into(), problem.clone());
                }
            }
        }
    }
    doc
}

/// The whole description; `issuer` adds the OIDC scheme as an alternative to the plain bearer scheme.
fn full_document(issuer: Option<&str>) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(<super::audit::AuditApiDoc as OpenApi>::openapi());
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
    use super::{full_document, with_problem_responses, ROUTE_ROLES};

    #[test]
    fn every_error_is_documented_as_problem_json() {
        let doc = with_problem_responses(serde_json::to_value(full_document(None)).unwrap());
        assert!(doc["components"]["schemas"]["Problem"].is_object());
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for status in ["400", "401", "413", "415", "422"] {
                    assert_eq!(
                        op["responses"][status]["content"]["application/problem+json"]["schema"]
                            ["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
                for (status, r) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert!(
                            r["content"].get("application/json").is_none(),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }

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
