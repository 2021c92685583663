//! Authenticates a DSP request: the bearer token must be a self-issued token of a configured partner, signed with
//! one of its keys, addressed to us, fresh, short-lived and never seen before. A partner known by DID (with
//! `[dcp]`) is authenticated by DCP instead: its DID document and its verified credentials (see [`super::dcp`]).

use std::time::Duration;

use twinport_contracts::identity::{unverified_issuer, verify_token, TokenError, TokenValidation};

use super::dcp::{CallerError, Refusal};
use super::partners::{KeysError, PartnerDirectory};
use crate::config::PartnerKeys;
use crate::storage::{StorageError, Store, TokenUse};

/// Longest token lifetime we accept (the DSP profile we follow caps it at five minutes).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Clock skew tolerated between connectors.
pub const LEEWAY: Duration = Duration::from_secs(30);

/// A partner whose token checked out.
#[derive(Debug, Clone)]
pub struct AuthenticatedPartner {
    pub id: String,
    /// Whether it was authenticated by DCP (DID and credentials).
    pub by_dcp: bool,
}

/// Why a request was not authenticated. Logged in full; what the caller sees depends on the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("unknown partner {0}")]
    UnknownPartner(String),
    #[error("token rejected: {0}")]
    Token(#[from] TokenError),
    #[error("token replayed (jti already used)")]
    Replayed,
    #[error("partner keys unavailable: {0}")]
    Keys(String),
    #[error("storage unavailable: {0}")]
    Storage(#[from] StorageError),
    #[error("client certificate: {0}")]
    Certificate(#[from] crate::tls::PeerError),
    #[error("DCP refused {did}: {refusal}")]
    Dcp { did: String, refusal: Refusal },
}

/// `wanted`: credential types a DCP partner is asked for besides the required ones (those our policies read).
pub async fn authenticate(
    authorization: Option<&str>,
    own_id: &str,
    partners: &PartnerDirectory,
    store: &Store,
    wanted: &[String],
) -> Result<AuthenticatedPartner, AuthError> {
    let header = authorization.ok_or(AuthError::Missing)?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| AuthError::Malformed("authorization is not a bearer token".into()))?
        .trim();
    let issuer = unverified_issuer(token)?;
    let partner = partners
        .get(&issuer)
        .ok_or_else(|| AuthError::UnknownPartner(issuer.clone()))?;
    if let (PartnerKeys::Did, Some(dcp)) = (&partner.keys, partners.dcp()) {
        let refused = |refusal| AuthError::Dcp {
            did: issuer.clone(),
            refusal,
        };
        let caller = match dcp.verify_caller(token, store, wanted).await {
            Ok(caller) => caller,
            Err(CallerError::Storage(e)) => return Err(AuthError::Storage(e)),
            Err(CallerError::Refused(refusal)) => {
                // Its claims no longer hold: the data plane must not go on judging its transfers on them.
                if refusal.caller_proven {
                    dcp.forget(&issuer, store).await?;
                }
                return Err(refused(refusal));
            }
        };
        dcp.remember(&caller, &partners.configured_claims(&issuer), store)
            .await?;
        return Ok(AuthenticatedPartner {
            id: caller.did,
            by_dcp: true,
        });
    }
    let validation = TokenValidation {
        audience: own_id.to_string(),
        expected_issuer: issuer.clone(),
        now: time::OffsetDateTime::now_utc(),
        leeway: LEEWAY,
        max_lifetime: MAX_TOKEN_LIFETIME,
    };
    let keys = partners.keys(&issuer, false).await.map_err(keys_error)?;
    let claims = match verify_token(token, &with_did_urls(keys, &issuer), &validation) {
        Err(TokenError::UnknownKey(_)) => {
            // The partner may have rotated its key since we cached its set: fetch once more.
            let keys = partners.keys(&issuer, true).await.map_err(keys_error)?;
            verify_token(token, &with_did_urls(keys, &issuer), &validation)?
        }
        other => other?,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match store
        .record_token_use(&claims.iss, &claims.jti, claims.exp, now)
        .await?
    {
        TokenUse::Fresh => Ok(AuthenticatedPartner {
            id: claims.iss,
            by_dcp: false,
        }),
        TokenUse::Replayed => Err(AuthError::Replayed),
    }
}

/// Each key also under `<issuer>#<kid>`: a Twinport partner speaking DCP names its key by DID URL, and a partner
/// we verify by JWKS may do so too.
fn with_did_urls(
    mut keys: twinport_contracts::identity::Jwks,
    issuer: &str,
) -> twinport_contracts::identity::Jwks {
    let aliases: Vec<_> = keys
        .keys
        .iter()
        .filter_map(|k| {
            let kid = k.get("kid")?.as_str()?;
            let mut alias = k.clone();
            alias["kid"] = format!("{issuer}#{kid}").into();
            Some(alias)
        })
        .collect();
    keys.keys.extend(aliases);
    keys
}

fn keys_error(e: KeysError) -> AuthError {
    match e {
        KeysError::UnknownPartner => AuthError::UnknownPartner(String::new()),
        other => AuthError::Keys(other.to_string()),
    }
}
