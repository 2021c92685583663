//! Who is calling the management API. Today: the static bearer token from the config, for embedded and development
//! use. The [`Principal`] carries roles so that OIDC-authenticated people can slot in without touching handlers.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::ApiError;

/// Roles a caller can hold; each handler states the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Operator,
    Legal,
    Auditor,
    Viewer,
}

/// An authenticated caller of the management API.
#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: String,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.roles.contains(&role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "{} lacks the {role:?} role",
                self.subject
            )))
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
            .ok_or_else(|| ApiError::Unauthorized("authorization is not a bearer token".into()))?;
        // Comparing digests keeps the comparison time independent of where the strings differ.
        let given = Sha256::digest(token.trim().as_bytes());
        let expected = Sha256::digest(state.config().management_token.as_bytes());
        if given != expected {
            return Err(ApiError::Unauthorized("invalid token".into()));
        }
        Ok(Principal {
            subject: "static-token".into(),
            roles: vec![Role::Operator, Role::Legal, Role::Auditor, Role::Viewer],
        })
    }
}
