//! Who is calling the management API: a person holding an access token from the city's OIDC provider (see
//! [`crate::identity::oidc`]), or, in development mode, whoever knows the static management token. Either way the
//! handler gets a [`Principal`] with roles and states the one it needs through [`Principal::require`].

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use std::sync::Arc;

use axum::extract::FromRef;

pub use crate::config::Role;
use crate::error::ApiError;
use crate::identity::oidc::{OidcError, OidcVerifier};

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

/// How callers of the management API prove who they are: the city's OIDC provider's access tokens, and in
/// development mode the static management token.
#[derive(Clone, Default)]
pub struct Access {
    management_token: Option<String>,
    oidc: Option<Arc<OidcVerifier>>,
}

impl Access {
    pub fn new(management_token: Option<String>, oidc: Option<Arc<OidcVerifier>>) -> Access {
        Access {
            management_token,
            oidc,
        }
    }

    /// The checker of people's access tokens, when `[oidc]` is configured.
    pub fn oidc(&self) -> Option<&OidcVerifier> {
        self.oidc.as_deref()
    }
}

impl<S> FromRequestParts<S> for Principal
where
    S: Send + Sync,
    Access: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
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
        let access = Access::from_ref(state);
        if let Some(expected) = &access.management_token {
            // Comparing digests keeps the comparison time independent of where the strings differ.
            if Sha256::digest(token.as_bytes()) == Sha256::digest(expected.as_bytes()) {
                return Ok(Principal::static_token());
            }
        }
        let Some(oidc) = access.oidc() else {
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
