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
pub mod scopes;
mod status;
mod verifier;
pub mod wallet;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use twinport_contracts::credentials::TrustedIssuers;

pub use credential_service::QueryRefusal;
pub use verifier::{CallerError, VerifiedCaller};
pub use wallet::{HeldCredential, Wallet};

use super::LocalIdentity;
use crate::config::DcpConfig;
use crate::storage::{StorageError, Store};

/// Clock skew tolerated on tokens, presentations and credentials.
pub const LEEWAY: Duration = Duration::from_secs(30);
/// Longest self-issued token lifetime accepted: EDC's Secure Token Service and the DCP TCK issue 600 s tokens (their
/// `jti` is kept until they expire, so a longer life does not widen replay).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(600);
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
    /// Whether the caller had already proven it is the DID (its token checked out) and failed on its credentials:
    /// only then may the refusal change what we hold about that DID.
    pub caller_proven: bool,
}

impl Refusal {
    pub fn new(step: &'static str, reason: impl Into<String>) -> Refusal {
        Refusal {
            step,
            reason: reason.into(),
            caller_proven: false,
        }
    }

    /// The same refusal, of a caller whose token checked out.
    pub fn of_proven_caller(mut self) -> Refusal {
        self.caller_proven = true;
        self
    }
}

/// A partner's claims from its credentials, until when they hold (the first credential's expiry), and when this
/// process last agreed with the database on them.
type Remembered = (Map<String, Value>, time::OffsetDateTime, Instant);

/// How long this process trusts its own copy of a partner's claims before reading the database again: bounds how
/// long a change made at another replica (a refusal there, new claims) goes unseen here.
const CLAIMS_RECHECK: Duration = Duration::from_secs(60);

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
    /// How long our copy of a partner's claims is used without the database ([`CLAIMS_RECHECK`]).
    claims_recheck: Duration,
    audited: Mutex<HashMap<(String, &'static str), Instant>>,
}

impl Dcp {
    /// `http` must not follow redirects and, unless `allow_private_networks`, should resolve names with
    /// [`http_client`]'s rules: build it with that function.
    pub fn new(
        config: DcpConfig,
        identity: LocalIdentity,
        wallet: Arc<Wallet>,
        http: reqwest::Client,
    ) -> Dcp {
        let fetcher = fetch::Fetcher::new(
            http,
            config.resolve.clone(),
            config.insecure_http_hosts.clone(),
            config.allow_private_networks,
        );
        let lenient = config.key_relationships == crate::config::KeyRelationships::Lenient;
        let trusted = TrustedIssuers::new(
            config
                .trusted_issuers
                .iter()
                .map(|t| (t.id.clone(), t.types.clone())),
        );
        Dcp(Arc::new(Inner {
            resolver: resolver::Resolver::new(fetcher.clone(), config.did_cache),
            status: status::StatusLists::new(
                fetcher.clone(),
                config.status_cache,
                lenient,
                config.accept_unsigned_status_lists,
            ),
            fetcher,
            trusted,
            config,
            identity,
            wallet,
            verified: Default::default(),
            claims_recheck: CLAIMS_RECHECK,
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

    /// Whether we may send requests to `url`, which a partner known only by DID gave us (in its DID document, as
    /// a callback address or a data address): the rules every DCP fetch follows (https, no IP literals or private
    /// addresses unless allowed, no user info), and no fragment or query a path could be hidden behind.
    pub fn check_partner_url(&self, url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if parsed.fragment().is_some() || parsed.query().is_some() {
            return Err(format!("{url} has a query or fragment"));
        }
        self.0.fetcher.target(url).map(|_| ())
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
        self.check_partner_url(endpoint)
            .map_err(|why| Refusal::new("did-document", format!("its DataService: {why}")))?;
        Ok(endpoint
            .trim_end_matches('/')
            .trim_end_matches("/.well-known/dspace-version")
            .to_string())
    }

    /// Remembers what a partner's credentials say, until the first of them expires (a day at most without
    /// one), here and in the database (for a restart and the other replicas).
    pub async fn remember(
        &self,
        caller: &VerifiedCaller,
        configured: &Map<String, Value>,
        store: &Store,
    ) -> Result<Map<String, Value>, StorageError> {
        let claims = verifier::caller_claims(configured, caller);
        let now = time::OffsetDateTime::now_utc();
        let day = now + time::Duration::days(1);
        let until = caller
            .credentials
            .iter()
            .filter_map(|c| c.valid_until)
            .min()
            .unwrap_or(day)
            .min(day);
        // Most requests prove what the last one did: then there is nothing to write.
        let unchanged = self
            .0
            .verified
            .lock()
            .ok()
            .and_then(|m| m.get(&caller.did).cloned())
            .is_some_and(|(kept, kept_until, synced)| {
                kept == claims && kept_until == until && synced.elapsed() < self.0.claims_recheck
            });
        if unchanged {
            return Ok(claims);
        }
        store
            .put_dcp_claims(
                &caller.did,
                &claims,
                until.unix_timestamp(),
                now.unix_timestamp(),
            )
            .await?;
        if let Ok(mut m) = self.0.verified.lock() {
            m.insert(caller.did.clone(), (claims.clone(), until, Instant::now()));
        }
        Ok(claims)
    }

    /// Forgets what a partner's credentials said: it failed to prove them again.
    pub async fn forget(&self, did: &str, store: &Store) -> Result<(), StorageError> {
        if let Ok(mut m) = self.0.verified.lock() {
            m.remove(did);
        }
        store.forget_dcp_claims(did).await
    }

    /// The claims a partner's credentials made when it last authenticated, while they are valid, as this process
    /// knows them (see [`Dcp::claims_or_stored`] for what another replica may have learnt since).
    pub fn claims(&self, did: &str) -> Option<Map<String, Value>> {
        let m = self.0.verified.lock().ok()?;
        let (claims, until, _) = m.get(did)?;
        (time::OffsetDateTime::now_utc() < *until).then(|| claims.clone())
    }

    /// Whether this process's copy of `did`'s claims is recent enough to use without the database.
    pub fn claims_are_fresh(&self, did: &str) -> bool {
        self.0
            .verified
            .lock()
            .ok()
            .and_then(|m| {
                m.get(did)
                    .map(|(_, _, synced)| synced.elapsed() < self.0.claims_recheck)
            })
            .unwrap_or(false)
    }

    /// Like [`Dcp::claims`], reading the database when this process does not know them (after a restart, or when
    /// the partner authenticated at another replica).
    pub async fn claims_or_stored(
        &self,
        did: &str,
        store: &Store,
    ) -> Result<Option<Map<String, Value>>, StorageError> {
        if self.claims_are_fresh(did) {
            return Ok(self.claims(did));
        }
        let now = time::OffsetDateTime::now_utc();
        let stored = store.dcp_claims(did, now.unix_timestamp()).await?;
        let Ok(mut m) = self.0.verified.lock() else {
            return Ok(None);
        };
        match stored {
            Some((claims, until)) => {
                let until = time::OffsetDateTime::from_unix_timestamp(until).unwrap_or(now);
                m.insert(did.to_string(), (claims.clone(), until, Instant::now()));
                Ok(Some(claims))
            }
            // Forgotten elsewhere (a refusal at another replica) or expired.
            None => {
                m.remove(did);
                Ok(None)
            }
        }
    }

    /// Whether a refusal should be written to the audit log now. A caller that proved it is the DID (its token
    /// checked out) gets one entry per step a minute; for any other, the DID is only what the token claims, so
    /// each step is written at most once a minute whatever DID it names, and a flood of made-up tokens cannot fill
    /// the log.
    pub fn should_audit_refusal(&self, did: &str, refusal: &Refusal) -> bool {
        // Keyed by the DID's host: one domain can mint any number of path DIDs (did:web:host:1, :2, ...).
        let who = match (
            refusal.caller_proven,
            twinport_contracts::did::DidWeb::parse(did),
        ) {
            (true, Ok(d)) => d.authority(),
            _ => String::new(),
        };
        self.should_audit(&who, refusal.step)
    }

    fn should_audit(&self, did: &str, step: &'static str) -> bool {
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

/// The client DCP fetches with, from the connector's TLS-configured builder: no redirects (a document or list must
/// be where its identifier says), and names resolved to public addresses only unless `allow_private_networks`.
pub fn http_client(
    builder: reqwest::ClientBuilder,
    allow_private_networks: bool,
) -> reqwest::Result<reqwest::Client> {
    // No proxy either: a proxy would resolve names itself, out of reach of the address rules.
    let builder = builder
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if allow_private_networks {
        builder.build()
    } else {
        builder
            .dns_resolver(Arc::new(fetch::PublicAddresses))
            .build()
    }
}

/// Says at start what would make partners refuse us: no credentials to present, or a DID whose host is not where
/// partners reach this connector (they fetch our DID document from the DID's host, and our document names
/// `public_url`).
pub fn warn_about_setup(config: &DcpConfig, wallet: &Wallet, public_url: &str) {
    if wallet.list().is_empty() {
        tracing::warn!(dir = %config.credentials_dir.display(), "no credentials to present: partners that require one (a MembershipCredential, typically) will refuse this connector; add them as *.jwt files or through POST /api/v1/identity/credentials");
    }
    let served_at = url::Url::parse(public_url).ok().map(|u| {
        let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
        u.port().map_or(host.clone(), |p| format!("{host}:{p}"))
    });
    if served_at.as_deref() != Some(config.did.authority().as_str()) {
        tracing::warn!(did = %config.did, public_url, document = %config.did.document_url(true), "the DID names another host than public_url: partners fetch our DID document from the DID's host, so serve this connector there (or publish its /.well-known/did.json there) and set public_url to it");
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use serde_json::json;
    use twinport_contracts::credentials::VerifiedCredential;
    use twinport_contracts::identity::{KeyAlgorithm, SigningKey};

    use super::{Dcp, VerifiedCaller, Wallet};
    use crate::config::Config;
    use crate::identity::LocalIdentity;
    use crate::storage::test_support::replicas;

    const DID: &str = "did:web:city-a.test";
    const PARTNER: &str = "did:web:city-b.test";

    /// A DCP service as a replica runs it, re-reading the database after `recheck`.
    fn replica(recheck: Duration) -> Dcp {
        let config = Config::from_toml(
            &format!("participant_id = \"{DID}\"\nsigning_key = \"k.pem\"\nmanagement_token = \"0123456789abcdef0123\"\n[dcp]\n"),
            Path::new("/nonexistent"),
            &[],
        )
        .unwrap()
        .dcp
        .unwrap();
        let identity = LocalIdentity::new(
            DID.into(),
            SigningKey::generate(KeyAlgorithm::EdDsa).unwrap(),
        );
        let wallet = Arc::new(Wallet::load(Path::new("/nonexistent/credentials"), DID).unwrap());
        let dcp = Dcp::new(config, identity, wallet, reqwest::Client::new());
        let mut inner = Arc::try_unwrap(dcp.0).ok().expect("not shared yet");
        inner.claims_recheck = recheck;
        Dcp(Arc::new(inner))
    }

    fn caller(membership: &str) -> VerifiedCaller {
        VerifiedCaller {
            did: PARTNER.into(),
            credentials: vec![VerifiedCredential {
                id: None,
                types: vec!["MembershipCredential".into()],
                issuer: "did:web:issuer.test".into(),
                subject: json!({"id": PARTNER, "membership": membership})
                    .as_object()
                    .unwrap()
                    .clone(),
                valid_until: None,
                status: Vec::new(),
            }],
        }
    }

    #[tokio::test]
    async fn what_one_replica_learns_or_forgets_reaches_the_others_once_their_copy_is_due() {
        for (store_1, store_2, _dir) in replicas().await {
            let first = replica(Duration::from_secs(60));
            let second = replica(Duration::ZERO);
            let patient = replica(Duration::from_secs(3600));
            first
                .remember(&caller("partner-city"), &Default::default(), &store_1)
                .await
                .unwrap();
            for r in [&second, &patient] {
                let claims = r
                    .claims_or_stored(PARTNER, &store_2)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(claims["membership"], "partner-city");
            }
            // The first replica refuses the partner: the others stop honouring its claims once they look again.
            first.forget(PARTNER, &store_1).await.unwrap();
            assert_eq!(
                second.claims_or_stored(PARTNER, &store_2).await.unwrap(),
                None
            );
            assert!(second.claims(PARTNER).is_none());
            assert!(
                patient
                    .claims_or_stored(PARTNER, &store_2)
                    .await
                    .unwrap()
                    .is_some(),
                "within its recheck interval a replica uses its own copy"
            );
            // New claims proven at one replica are written even when another replica's copy says the same.
            second
                .remember(&caller("observer"), &Default::default(), &store_2)
                .await
                .unwrap();
            first
                .remember(&caller("observer"), &Default::default(), &store_1)
                .await
                .unwrap();
            first.forget(PARTNER, &store_1).await.unwrap();
            second
                .remember(&caller("observer"), &Default::default(), &store_2)
                .await
                .unwrap();
            let stored = store_1
                .dcp_claims(PARTNER, time::OffsetDateTime::now_utc().unix_timestamp())
                .await
                .unwrap();
            assert_eq!(
                stored.unwrap().0["membership"],
                "observer",
                "a copy due for a recheck is written again"
            );
        }
    }
}
