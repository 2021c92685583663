//! Identity by DID and verifiable credentials: the Decentralized Claims Protocol (DCP 1.0) in both roles. As a
//! verifier ([`verifier`]) we authenticate partners known by `did:web` through their self-issued tokens and the
//! credentials their Credential Service presents, checked against the issuers `[dcp]` trusts; as a holder we serve
//! our DID document ([`document`]) and a Credential Service ([`credential_service`]) presenting our credentials
//! ([`wallet`]). Fetching is bounded and cached ([`fetch`], [`resolver`], [`status`]); what credentials say about a
//! partner becomes its claims in policy evaluation ([`claims`]).

mod claims;
mod credential_service;
pub mod document;
mod fetch;
mod resolver;
mod status;
mod verifier;
pub mod wallet;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use twinport_contracts::credentials::TrustedIssuers;

pub use credential_service::QueryRefusal;
pub use verifier::VerifiedCaller;
pub use wallet::{HeldCredential, Wallet};

use super::LocalIdentity;
use crate::config::DcpConfig;

/// Clock skew tolerated on tokens, presentations and credentials.
pub const LEEWAY: Duration = Duration::from_secs(30);
/// Longest self-issued token lifetime accepted.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Lifetime of the token we send with a presentation query: it is used at once.
const QUERY_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// Lifetime of the presentations we sign: the verifier checks them at once.
const PRESENTATION_LIFETIME: Duration = Duration::from_secs(60);
/// A refusal of the same step for the same DID is written to the audit log at most this often.
const AUDIT_REFUSAL_INTERVAL: Duration = Duration::from_secs(60);

/// Why a partner was not authenticated by DCP: the step that failed (stable, for the audit log and metrics) and a
/// reason a person understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{step}: {reason}")]
pub struct Refusal {
    pub step: &'static str,
    pub reason: String,
}

impl Refusal {
    pub fn new(step: &'static str, reason: impl Into<String>) -> Refusal {
        Refusal {
            step,
            reason: reason.into(),
        }
    }
}

/// A partner's claims from its credentials, and until when they hold (the first credential's expiry).
type Remembered = (Map<String, Value>, time::OffsetDateTime);

/// The DCP service; cheap to clone.
#[derive(Clone)]
pub struct Dcp(Arc<Inner>);

impl std::fmt::Debug for Dcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dcp")
            .field("did", &self.did())
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: DcpConfig,
    identity: LocalIdentity,
    wallet: Arc<Wallet>,
    fetcher: fetch::Fetcher,
    resolver: resolver::Resolver,
    status: status::StatusLists,
    trusted: TrustedIssuers,
    /// What each DCP partner's credentials said when it last authenticated, and until when that holds.
    verified: Mutex<HashMap<String, Remembered>>,
    audited: Mutex<HashMap<(String, &'static str), Instant>>,
}

impl Dcp {
    pub fn new(
        config: DcpConfig,
        identity: LocalIdentity,
        wallet: Arc<Wallet>,
        http: reqwest::Client,
    ) -> Dcp {
        let fetcher = fetch::Fetcher::new(http, config.resolve.clone());
        let trusted = TrustedIssuers::new(
            config
                .trusted_issuers
                .iter()
                .map(|t| (t.id.clone(), t.types.clone())),
        );
        Dcp(Arc::new(Inner {
            resolver: resolver::Resolver::new(
                fetcher.clone(),
                config.insecure_http_hosts.clone(),
                config.did_cache,
            ),
            status: status::StatusLists::new(fetcher.clone(), config.status_cache),
            fetcher,
            trusted,
            config,
            identity,
            wallet,
            verified: Default::default(),
            audited: Default::default(),
        }))
    }

    pub fn config(&self) -> &DcpConfig {
        &self.0.config
    }

    /// Our DID.
    pub fn did(&self) -> &str {
        &self.0.identity.participant_id
    }

    /// The DID URL of our key.
    pub fn key_id(&self) -> String {
        self.0.identity.key_id()
    }

    pub fn identity(&self) -> &LocalIdentity {
        &self.0.identity
    }

    pub fn wallet(&self) -> &Wallet {
        &self.0.wallet
    }

    fn fetcher(&self) -> &fetch::Fetcher {
        &self.0.fetcher
    }

    fn resolver(&self) -> &resolver::Resolver {
        &self.0.resolver
    }

    fn status_lists(&self) -> &status::StatusLists {
        &self.0.status
    }

    fn trusted(&self) -> &TrustedIssuers {
        &self.0.trusted
    }

    /// Test only: fetch what `authority` (`host[:port]` of a DID or URL) names from `base` instead. Refused unless
    /// the config already uses the test-only `[dcp] resolve` map, which production mode forbids.
    pub fn map_origin_for_tests(&self, authority: &str, base: &str) -> Result<(), String> {
        if self.0.config.resolve.is_empty() {
            return Err("[dcp] resolve is not configured: origins are not remapped".into());
        }
        self.0.fetcher.map_origin(authority, base);
        Ok(())
    }

    /// Our DID document, for `public_url`.
    pub fn document(&self, public_url: &str) -> Value {
        document::did_document(
            self.did(),
            &self.key_id(),
            &self.0.identity.key().public_jwk(),
            public_url,
        )
    }

    /// The DID document of `did` (cached).
    pub async fn resolve(
        &self,
        did: &str,
    ) -> Result<Arc<twinport_contracts::did::DidDocument>, Refusal> {
        self.0.resolver.resolve(did).await
    }

    /// Where a partner known by DID says its connector is: the `DataService` of its DID document (its
    /// `/.well-known/dspace-version`), as the connector's root URL.
    pub async fn connector_url(&self, did: &str) -> Result<String, Refusal> {
        let doc = self.resolve(did).await?;
        let endpoint = doc.service_endpoint("DataService").ok_or_else(|| {
            Refusal::new(
                "did-document",
                format!("the DID document of {did} names no DataService"),
            )
        })?;
        Ok(endpoint
            .trim_end_matches('/')
            .trim_end_matches("/.well-known/dspace-version")
            .to_string())
    }

    /// Remembers what a partner's credentials say, until the first of them expires.
    pub fn remember(
        &self,
        caller: &VerifiedCaller,
        configured: &Map<String, Value>,
    ) -> Map<String, Value> {
        let claims = verifier::caller_claims(configured, caller);
        let until = caller
            .credentials
            .iter()
            .filter_map(|c| c.valid_until)
            .min()
            .unwrap_or_else(|| time::OffsetDateTime::now_utc() + time::Duration::days(1));
        if let Ok(mut m) = self.0.verified.lock() {
            m.insert(caller.did.clone(), (claims.clone(), until));
        }
        claims
    }

    /// The claims a partner's credentials made when it last authenticated, while they are valid.
    pub fn claims(&self, did: &str) -> Option<Map<String, Value>> {
        let m = self.0.verified.lock().ok()?;
        let (claims, until) = m.get(did)?;
        (time::OffsetDateTime::now_utc() < *until).then(|| claims.clone())
    }

    /// Whether a refusal of `step` for `did` should be written to the audit log now: each at most once a minute,
    /// so a caller cannot flood the log with refused requests.
    pub fn should_audit(&self, did: &str, step: &'static str) -> bool {
        let Ok(mut m) = self.0.audited.lock() else {
            return false;
        };
        let now = Instant::now();
        if m.len() > 4096 {
            m.retain(|_, at| now.duration_since(*at) < AUDIT_REFUSAL_INTERVAL);
        }
        match m.get(&(did.to_string(), step)) {
            Some(at) if now.duration_since(*at) < AUDIT_REFUSAL_INTERVAL => false,
            _ => {
                m.insert((did.to_string(), step), now);
                true
            }
        }
    }
}

/// Checks our credentials' expiry once a day for as long as the connector runs, warning in the log ahead of it.
pub fn warn_before_expiry(dcp: Dcp) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(86_400));
        // The first tick is immediate and start-up already warned.
        every.tick().await;
        loop {
            every.tick().await;
            dcp.wallet()
                .warn_expiring(time::OffsetDateTime::now_utc(), dcp.config().expiry_warning);
        }
    });
}
