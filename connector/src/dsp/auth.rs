//! The authenticated partner behind a DSP request, as an axum extractor. Catalogue endpoints answer a failed check
//! with 401 and a `CatalogError` naming the problem, as the binding allows.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::CatalogError;
use super::DspState;
use crate::audit::{AuditEvent, EventKind};
use crate::identity::dcp::Refusal;
use crate::identity::{authenticate, AuthError, AuthenticatedPartner};
use crate::tls::TlsPeer;

/// A partner authenticated for a catalogue request.
pub struct Partner(pub AuthenticatedPartner);

impl FromRequestParts<DspState> for Partner {
    type Rejection = CatalogError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &DspState,
    ) -> Result<Self, Self::Rejection> {
        match check(parts, state).await {
            Ok(partner) => Ok(Partner(partner)),
            Err(AuthError::Storage(e)) => {
                tracing::error!(error = %e, "token check failed on storage");
                Err(CatalogError::internal())
            }
            Err(e) => {
                tracing::warn!(reason = %e, "refused catalogue request");
                Err(CatalogError::unauthorized(e.to_string()))
            }
        }
    }
}

/// Authenticates the bearer token of a DSP request; shared by the catalogue and the process extractors, which
/// differ only in how they answer a refusal. With mutual TLS the connection's client certificate must also be the
/// one configured for the partner the token names: a valid token over another connector's certificate fails.
pub(super) async fn check(
    parts: &Parts,
    state: &DspState,
) -> Result<AuthenticatedPartner, AuthError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // With DCP, partners are also asked for the credential types our policies read.
    let wanted = match (state.contracting.partners().directory().dcp(), header) {
        (Some(_), Some(h)) if by_did(h, state) => {
            state.contracting.policy_credential_types().await?
        }
        _ => Default::default(),
    };
    let partner = match authenticate(
        header,
        state.contracting.participant_id(),
        state.contracting.partners().directory(),
        state.contracting.store(),
        &wanted,
    )
    .await
    {
        Ok(p) => p,
        Err(AuthError::Dcp { did, refusal }) => {
            audit_refusal(state, &did, &refusal, parts.uri.path()).await;
            return Err(AuthError::Dcp { did, refusal });
        }
        Err(e) => return Err(e),
    };
    if let Some(peers) = state.tls.peer_check() {
        peers.check(&partner.id, TlsPeer::of(&parts.extensions))?;
    }
    Ok(partner)
}

/// Records in the audit log which DCP step refused a partner (at most once a minute per partner and step, so
/// refused requests cannot flood the log).
async fn audit_refusal(state: &DspState, did: &str, refusal: &Refusal, path: &str) {
    let Some(dcp) = state.contracting.partners().directory().dcp() else {
        return;
    };
    if !dcp.should_audit_refusal(did, refusal) {
        return;
    }
    let mut event = AuditEvent::new(
        EventKind::IdentityRefused,
        serde_json::json!({"step": refusal.step, "reason": refusal.reason, "path": path}),
    );
    // An unproven DID is whatever the token said: kept short.
    event.partner = Some(did.chars().take(200).collect());
    if let Err(e) = state.contracting.audit().append(event).await {
        tracing::error!(error = %e, "cannot record a DCP refusal in the audit log");
    }
}

/// Whether the bearer token names a partner known by DID (only those are asked for credentials).
fn by_did(authorization: &str, state: &DspState) -> bool {
    authorization
        .strip_prefix("Bearer ")
        .or_else(|| authorization.strip_prefix("bearer "))
        .and_then(|t| twinport_contracts::identity::unverified_issuer(t.trim()).ok())
        .and_then(|iss| state.contracting.partners().get(&iss))
        .is_some_and(|p| matches!(p.keys, crate::config::PartnerKeys::Did))
}
