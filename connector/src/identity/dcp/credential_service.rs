//! Our Credential Service (DCP Presentation Query API): a partner verifying us asks, with a self-issued token of
//! its own that wraps the access token we gave it, for the credentials its scopes name. It gets them only if its
//! token checks out against its DID document, was never used before, and wraps an access token that we issued, for
//! that very partner, and that is still valid: a third party forwarding the access token gets nothing. What it gets
//! is what it asked for among what `[dcp] present` lets partners see, in one presentation signed for it.

use serde_json::Value;
use time::OffsetDateTime;
use twinport_contracts::credentials::{issue_presentation, CredentialFormat, PresentationRequest};
use twinport_contracts::dcp::{parse_presentation_query, presentation_response, ID_ALIAS};
use twinport_contracts::identity::{
    unverified_si_token, verify_si_token, verify_token, TokenValidation,
};

use super::{Dcp, LEEWAY, MAX_TOKEN_LIFETIME, PRESENTATION_LIFETIME};
use crate::config::PresentationFormat;
use crate::storage::{Store, TokenUse};

/// A query refused: the HTTP status and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRefusal {
    pub status: u16,
    pub message: String,
}

fn refuse(status: u16, message: impl Into<String>) -> QueryRefusal {
    QueryRefusal {
        status,
        message: message.into(),
    }
}

impl Dcp {
    /// Answers `POST <credential service>/presentations/query`.
    pub async fn answer_query(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        store: &Store,
    ) -> Result<Value, QueryRefusal> {
        let now = OffsetDateTime::now_utc();
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                refuse(
                    401,
                    "a self-issued ID token is required (Authorization: Bearer <token>)",
                )
            })?;
        let (verifier, _) = unverified_si_token(token).map_err(|e| refuse(401, e.to_string()))?;
        let doc = self
            .resolver()
            .resolve(&verifier)
            .await
            .map_err(|r| refuse(401, r.to_string()))?;
        let si = verify_si_token(
            token,
            &doc,
            &TokenValidation {
                audience: self.did().to_string(),
                expected_issuer: verifier.clone(),
                now,
                leeway: LEEWAY,
                max_lifetime: MAX_TOKEN_LIFETIME,
            },
            self.token_relationships(),
        )
        .map_err(|e| refuse(401, format!("self-issued token refused: {e}")))?;
        match store
            .record_token_use(
                &si.claims.iss,
                &si.claims.jti,
                si.claims.exp,
                now.unix_timestamp(),
            )
            .await
        {
            Ok(TokenUse::Fresh) => {}
            Ok(TokenUse::Replayed) => {
                return Err(refuse(401, "the token was already used (jti seen before)"))
            }
            Err(e) => {
                tracing::error!(error = %e, "credential service: token check failed on storage");
                return Err(refuse(503, "try again later"));
            }
        }
        // The access token must be ours and issued to the very party presenting it.
        verify_token(
            &si.access_token,
            &self.identity().jwks(),
            &TokenValidation {
                audience: verifier.clone(),
                expected_issuer: self.did().to_string(),
                now,
                leeway: LEEWAY,
                max_lifetime: MAX_TOKEN_LIFETIME,
            },
        )
        .map_err(|e| {
            refuse(
                403,
                format!("the access token is not one we issued to {verifier}: {e}"),
            )
        })?;
        let json: Value =
            serde_json::from_slice(body).map_err(|_| refuse(400, "the body is not JSON"))?;
        let query =
            parse_presentation_query(&json).map_err(|e| refuse(e.status(), e.to_string()))?;
        let mut types = Vec::new();
        let mut ids = Vec::new();
        for scope in &query.scopes {
            if scope.is_type_alias() {
                types.push(scope.credential_type.clone());
            } else if scope.alias == ID_ALIAS {
                ids.push(scope.credential_type.clone());
            }
        }
        let credentials = self.wallet().select(&types, &ids, &self.config().present);
        tracing::info!(verifier = %verifier, asked = ?types, given = credentials.len(), "credential service answered a presentation query");
        if credentials.is_empty() {
            return Ok(presentation_response(Vec::new()));
        }
        let vp = issue_presentation(&PresentationRequest {
            key: self.identity().key(),
            holder_did: self.did(),
            key_id: &self.key_id(),
            audience: &verifier,
            credentials: &credentials,
            now,
            lifetime: PRESENTATION_LIFETIME,
            format: match self.config().presentation_format {
                PresentationFormat::Vc11Jwt => CredentialFormat::Vc11Jwt,
                PresentationFormat::Vc20Jose => CredentialFormat::Vc20Jose,
            },
        })
        .map_err(|e| {
            tracing::error!(error = %e, "credential service: cannot sign a presentation");
            refuse(500, "cannot sign the presentation")
        })?;
        Ok(presentation_response(vec![Value::String(vp)]))
    }
}
