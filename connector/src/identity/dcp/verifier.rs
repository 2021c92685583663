//! The verifier's side of DCP: a partner calls us with a self-issued ID token. We resolve its DID, check the token
//! against the key its document lists (and that the token was never used before), then ask the Credential Service
//! its document names for the credentials we require, with the access token the partner gave us wrapped in a token
//! of our own, and verify what comes back: the presentation's holder and signature, each credential's issuer (one
//! we trust for that type), validity, holder binding and status. Every refusal names the step that failed.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use twinport_contracts::credentials::{
    parse_presentation, verify_presentation_each, PresentationCheck, VerifiedCredential,
};
use twinport_contracts::dcp::{parse_presentation_response, presentation_query, DcpError, Scope};
use twinport_contracts::did::Relationship;
use twinport_contracts::identity::{
    issue_si_token, unverified_si_token, verify_si_token, TokenError, TokenValidation,
};

use super::{Dcp, Refusal, LEEWAY, MAX_TOKEN_LIFETIME, QUERY_TOKEN_LIFETIME};
use twinport_contracts::credentials::CredentialError;

/// Presentations accepted in one answer.
const MAX_PRESENTATIONS: usize = 8;
/// Credentials accepted in one answer, over all its presentations: each may make us fetch a status list.
const MAX_CREDENTIALS: usize = 32;
/// The longest the credential phase of one verification may take, over all its fetches.
const VERIFY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// Why a caller was not verified: refused, or our database failed (which is not the caller's fault).
#[derive(Debug)]
pub enum CallerError {
    Refused(Refusal),
    Storage(crate::storage::StorageError),
}

impl From<Refusal> for CallerError {
    fn from(r: Refusal) -> Self {
        CallerError::Refused(r)
    }
}
use crate::config::KeyRelationships;
use crate::storage::{Store, TokenUse};

/// A partner whose token and credentials checked out.
#[derive(Debug, Clone)]
pub struct VerifiedCaller {
    pub did: String,
    pub credentials: Vec<VerifiedCredential>,
}

impl Dcp {
    /// Authenticates a DSP request's self-issued ID token (the bearer, without `Bearer `), asking the partner for
    /// the required credentials and those of `wanted` (which it need not have).
    pub async fn verify_caller(
        &self,
        token: &str,
        store: &Store,
        wanted: &[String],
    ) -> Result<VerifiedCaller, CallerError> {
        let now = OffsetDateTime::now_utc();
        let (did, _) =
            unverified_si_token(token).map_err(|e| Refusal::new("token", e.to_string()))?;
        let doc = self.resolver().resolve(&did).await?;
        let si = verify_si_token(
            token,
            &doc,
            &TokenValidation {
                audience: self.did().to_string(),
                expected_issuer: did.clone(),
                now,
                leeway: LEEWAY,
                max_lifetime: MAX_TOKEN_LIFETIME,
            },
            self.token_relationships(),
        )
        .map_err(token_refusal)?;
        let mut types = self.config().required_credentials.clone();
        for t in wanted {
            if !types.contains(t) {
                types.push(t.clone());
            }
        }
        // The replay check and the presentation query are independent: run side by side, the query's round trip
        // hides the write. A replayed token is refused whatever the query found.
        let (used, credentials) = tokio::join!(
            store.record_token_use(
                &si.claims.iss,
                &si.claims.jti,
                si.claims.exp,
                now.unix_timestamp(),
            ),
            tokio::time::timeout(
                VERIFY_DEADLINE,
                self.query_credentials(&did, &doc, &si.access_token, &types, now),
            )
        );
        match used {
            Ok(TokenUse::Fresh) => {}
            Ok(TokenUse::Replayed) => {
                return Err(
                    Refusal::new("replay", "the token was already used (jti seen before)").into(),
                )
            }
            Err(e) => return Err(CallerError::Storage(e)),
        }
        // From here on the caller has proven it is the DID: a refusal is about its credentials.
        let credentials = credentials
            .unwrap_or_else(|_| {
                Err(Refusal::new(
                    "credential-service",
                    "verifying the credentials took too long",
                ))
            })
            .and_then(|presented| presented.require(&did, &self.config().required_credentials))
            .map_err(Refusal::of_proven_caller)?;
        Ok(VerifiedCaller { did, credentials })
    }

    /// The relationships a partner's token key may be listed under.
    pub(super) fn token_relationships(&self) -> &'static [Relationship] {
        match self.config().key_relationships {
            KeyRelationships::Strict => &[Relationship::CapabilityInvocation],
            KeyRelationships::Lenient => &[
                Relationship::CapabilityInvocation,
                Relationship::Authentication,
            ],
        }
    }

    async fn query_credentials(
        &self,
        did: &str,
        doc: &std::sync::Arc<twinport_contracts::did::DidDocument>,
        access_token: &str,
        types: &[String],
        now: OffsetDateTime,
    ) -> Result<Presented, Refusal> {
        let base = doc.service_endpoint("CredentialService").ok_or_else(|| {
            Refusal::new(
                "credential-service",
                format!("the DID document of {did} names no CredentialService"),
            )
        })?;
        let url = format!("{}/presentations/query", base.trim_end_matches('/'));
        let ours = issue_si_token(&twinport_contracts::identity::SiTokenRequest {
            key: self.identity().key(),
            did: self.did(),
            key_id: &self.key_id(),
            audience: did,
            access_token,
            now,
            lifetime: QUERY_TOKEN_LIFETIME,
        })
        .map_err(|e| Refusal::new("internal", e.to_string()))?;
        let scopes: Vec<Scope> = types.iter().map(|t| Scope::for_type(t)).collect();
        // What went wrong at the far end is logged, not told: the URL came from the caller's own document, and
        // the difference between "refused", "timed out" and "answered 503" would map our network for it.
        let unreachable = |detail: String| {
            tracing::warn!(partner = did, url = %url, detail = %detail, "credential service failed");
            Refusal::new(
                "credential-service",
                format!("the Credential Service at {url} did not answer the presentation query"),
            )
        };
        let (status, body) = self
            .fetcher()
            .post_json(&url, &ours, &presentation_query(&scopes))
            .await
            .map_err(unreachable)?;
        if !(200..300).contains(&status) {
            return Err(unreachable(format!("HTTP {status}")));
        }
        let body: Value = serde_json::from_slice(&body).map_err(|_| {
            Refusal::new(
                "presentation",
                format!("{url} answered with something other than JSON"),
            )
        })?;
        // An empty answer is refused below as the missing credential it is, which says more than "empty".
        let presentations = match parse_presentation_response(&body) {
            Err(DcpError::EmptyPresentation) => Vec::new(),
            other => other.map_err(|e| Refusal::new("presentation", e.to_string()))?,
        };
        if presentations.len() > MAX_PRESENTATIONS {
            return Err(Refusal::new(
                "presentation",
                format!(
                    "{} presentations, more than the {MAX_PRESENTATIONS} accepted",
                    presentations.len()
                ),
            ));
        }
        let mut verified = Vec::new();
        let mut set_aside = Vec::new();
        let mut seen = 0;
        for vp in &presentations {
            let parsed = parse_presentation(vp).map_err(credential_refusal)?;
            seen += parsed.credentials().len();
            if seen > MAX_CREDENTIALS {
                return Err(Refusal::new(
                    "presentation",
                    format!("more than the {MAX_CREDENTIALS} credentials accepted"),
                ));
            }
            // Nothing is fetched for a presentation that cannot pass: another holder, or an issuer we do not
            // trust (whose DID could otherwise make us fetch from anywhere).
            if parsed.holder() != did {
                return Err(credential_refusal(CredentialError::HolderMismatch {
                    expected: did.to_string(),
                    found: parsed.holder().to_string(),
                }));
            }
            // A credential from an issuer we do not trust for any of its types is set aside unread: its issuer's
            // DID could otherwise make us fetch from anywhere.
            let trusted: Vec<bool> = parsed
                .credentials()
                .iter()
                .map(|c| self.trusted().allows_any(c.issuer(), c.types()))
                .collect();
            let mut docs = vec![doc.clone()];
            for (c, ok) in parsed.credentials().iter().zip(&trusted) {
                if *ok && c.issuer() != did && !docs.iter().any(|d| d.id == c.issuer()) {
                    docs.push(self.resolver().resolve(c.issuer()).await?);
                }
            }
            let found = |d: &str| docs.iter().find(|doc| doc.id == d).map(|doc| doc.as_ref());
            let each = verify_presentation_each(
                &parsed,
                &PresentationCheck {
                    holder: did,
                    audience: self.did(),
                    now,
                    leeway: LEEWAY,
                    trusted: self.trusted(),
                    lenient_issuer_keys: self.config().key_relationships
                        == KeyRelationships::Lenient,
                },
                &found,
            )
            .map_err(credential_refusal)?;
            // Each credential stands or falls alone: one that fails is set aside with its reason, which becomes
            // the refusal only if a required type is then missing (a bad optional credential costs only its
            // own claims).
            for (c, result) in parsed.credentials().iter().zip(each) {
                let checked = match result {
                    Ok(v) => match self.status_lists().check(&v, self.resolver(), now).await {
                        Ok(()) => Ok(v),
                        Err(refusal) => Err(refusal),
                    },
                    Err(e) => Err(credential_refusal(e)),
                };
                match checked {
                    Ok(v) => verified.push(v),
                    Err(refusal) => {
                        tracing::info!(partner = did, types = ?c.types(), step = refusal.step, reason = %refusal.reason, "credential set aside");
                        set_aside.push((c.types().to_vec(), refusal));
                    }
                }
            }
        }
        Ok(Presented {
            verified,
            set_aside,
        })
    }
}

/// What a partner's Credential Service presented: the credentials that passed, and those set aside, each with the
/// types it claimed and why it failed.
struct Presented {
    verified: Vec<VerifiedCredential>,
    set_aside: Vec<(Vec<String>, Refusal)>,
}

impl Presented {
    /// Refuses unless every required type is among the verified credentials; for a missing type, the reason a
    /// credential claiming it was set aside says more than "missing".
    fn require(self, did: &str, required: &[String]) -> Result<Vec<VerifiedCredential>, Refusal> {
        for r in required {
            if self.verified.iter().any(|c| c.types.contains(r)) {
                continue;
            }
            if let Some((_, refusal)) = self.set_aside.iter().find(|(types, _)| types.contains(r)) {
                return Err(refusal.clone());
            }
            return Err(Refusal::new(
                "credential-missing",
                format!("{did} presented no valid {r}"),
            ));
        }
        Ok(self.verified)
    }
}

fn token_refusal(e: TokenError) -> Refusal {
    let step = match &e {
        TokenError::UnknownKey(_) => "key-not-authorised",
        TokenError::BadSignature | TokenError::AlgorithmNotAllowed(_) => "signature",
        TokenError::Expired | TokenError::NotYetValid | TokenError::LifetimeTooLong { .. } => {
            "token-time"
        }
        TokenError::WrongAudience { .. } => "audience",
        _ => "token",
    };
    Refusal::new(step, e.to_string())
}

fn credential_refusal(e: twinport_contracts::credentials::CredentialError) -> Refusal {
    Refusal::new(e.step(), e.to_string())
}

/// Claims from the operator's entry plus the credentials (see [`super::claims`]).
pub fn caller_claims(
    configured: &Map<String, Value>,
    caller: &VerifiedCaller,
) -> Map<String, Value> {
    super::claims::claims_of(configured, &caller.credentials)
}
