//! Who is calling the management API: a person holding an access token from the city's OIDC provider (see
//! [`crate::identity::oidc`]), or, in development mode, whoever knows the static management token. Either way the
//! handler gets a [`Principal`] with roles and states the one it needs through [`Principal::require`].

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::ApiError;
use crate::identity::oidc::OidcError;

/// Roles a caller can hold; each handler states the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Resources, partners, settings, negotiations, transfers.
    Operator,
    /// Policies and dry-runs.
    Legal,
    /// The audit log, its proofs and exports.
    Auditor,
    /// Read-only catalogue and processes.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Operator, Role::Legal, Role::Auditor, Role::Viewer];

    /// The name used in configuration, tokens' mapped values and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Legal => "legal",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    /// Whether holding `self` is enough where `needed` is required. Every role includes viewer, since each needs
    /// to see what it acts on; otherwise roles are separate duties: an operator cannot rewrite policies, a legal
    /// officer cannot start transfers, and only auditors read the audit log.
    pub fn grants(self, needed: Role) -> bool {
        self == needed || needed == Role::Viewer
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An authenticated caller of the management API.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Stable identifier: the token's `sub`, or `static-token`.
    pub subject: String,
    /// Display name and e-mail from the token, when present; personal data, kept only where it can be erased.
    pub name: Option<String>,
    pub email: Option<String>,
    pub roles: Vec<Role>,
}

/// Subject recorded for actions taken with the static management token.
pub const STATIC_TOKEN_SUBJECT: &str = "static-token";

impl Principal {
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.roles.iter().any(|held| held.grants(role)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "{} lacks the {role} role",
                self.subject
            )))
        }
    }

    fn static_token() -> Principal {
        Principal {
            subject: STATIC_TOKEN_SUBJECT.into(),
            name: None,
            email: None,
            roles: Role::ALL.to_vec(),
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::Unauthorized("authorization is not a bearer token".into()))?
            .trim();
        if let Some(expected) = &state.config().management_token {
            // Comparing digests keeps the comparison time independent of where the strings differ.
            if Sha256::digest(token.as_bytes()) == Sha256::digest(expected.as_bytes()) {
                return Ok(Principal::static_token());
            }
        }
        let Some(oidc) = state.oidc() else {
            return Err(ApiError::Unauthorized("invalid token".into()));
        };
        match oidc.verify(token).await {
            Ok(person) => Ok(Principal {
                subject: person.subject,
                name: person.name,
                email: person.email,
                roles: person.roles,
            }),
            Err(OidcError::Rejected(why)) => {
                tracing::debug!(reason = %why, "management API refused an access token");
                Err(ApiError::Unauthorized(why))
            }
            Err(OidcError::Unavailable(why)) => Err(ApiError::Unavailable(format!(
                "cannot check access tokens: {why}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Principal, Role};
    use crate::error::ApiError;

    fn holding(roles: &[Role]) -> Principal {
        Principal {
            subject: "alice".into(),
            name: None,
            email: None,
            roles: roles.to_vec(),
        }
    }

    #[test]
    fn every_role_reads_but_duties_stay_separate() {
        for role in Role::ALL {
            assert!(holding(&[role]).require(Role::Viewer).is_ok(), "{role}");
        }
        let operator = holding(&[Role::Operator]);
        assert!(operator.require(Role::Operator).is_ok());
        assert!(operator.require(Role::Legal).is_err());
        assert!(operator.require(Role::Auditor).is_err());
        assert!(holding(&[Role::Legal]).require(Role::Operator).is_err());
        assert!(holding(&[Role::Viewer]).require(Role::Operator).is_err());
        assert!(holding(&[]).require(Role::Viewer).is_err());
    }

    #[test]
    fn refusal_names_the_missing_role() {
        match holding(&[Role::Viewer]).require(Role::Auditor) {
            Err(ApiError::Forbidden(m)) => assert_eq!(m, "alice lacks the auditor role"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
