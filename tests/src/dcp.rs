//! DCP fixtures: a test credential issuer (its `did:web` document and a Bitstring status list whose bits a test
//! flips, served on `127.0.0.1:0`) and two connectors known only by `did:web` DIDs, resolved over loopback through
//! the test-only `[dcp] resolve` map, each holding the credentials the test gives it.

use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use serde_json::{json, Value};
use time::OffsetDateTime;
use twinport::cli::issuer::DevIssuer;
use twinport::config::Config;
use twinport_contracts::credentials::{issue_presentation, CredentialFormat, PresentationRequest};
use twinport_contracts::dcp::presentation_response;
use twinport_contracts::identity::KeyAlgorithm;
use twinport_contracts::identity::{issue_si_token, SiTokenRequest, SigningKey};

use crate::{append, start_at, City, Storage};

pub const ISSUER: &str = "did:web:issuer.test";
pub const DID_A: &str = "did:web:city-a.test";
pub const DID_B: &str = "did:web:city-b.test";

/// A credential issuer served in the test process (the connector's development issuer), which can also act as a
/// bare DCP participant: its own Credential Service presents what a test tells it to.
pub struct TestIssuer {
    inner: DevIssuer,
    /// What its own Credential Service presents when asked.
    presents: Arc<Mutex<Vec<String>>>,
    /// Every presentation query it received, with whether it was valid against the DCP schema.
    pub queries: Arc<Mutex<Vec<(Value, bool)>>>,
    /// While set, its Credential Service answers 503 (a wallet that is down).
    pub down: Arc<std::sync::atomic::AtomicBool>,
}

impl std::ops::Deref for TestIssuer {
    type Target = DevIssuer;
    fn deref(&self) -> &DevIssuer {
        &self.inner
    }
}

impl TestIssuer {
    pub async fn start(did: &str) -> TestIssuer {
        let presents: Arc<Mutex<Vec<String>>> = Arc::default();
        let queries: Arc<Mutex<Vec<(Value, bool)>>> = Arc::default();
        let down: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        // The Credential Service signs with the issuer's key, which exists only once the issuer does.
        let signer: Arc<OnceLock<(SigningKey, String)>> = Arc::default();
        let answer = {
            let (did, signer) = (did.to_string(), signer.clone());
            let (presents, queries, down) = (presents.clone(), queries.clone(), down.clone());
            move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                if down.load(std::sync::atomic::Ordering::SeqCst) {
                    return std::future::ready(Err(axum::http::StatusCode::SERVICE_UNAVAILABLE));
                }
                let valid = twinport_contracts::dcp::schemas::validate(
                    "presentation/presentation-query-message-schema.json",
                    &body.0,
                )
                .is_ok();
                queries.lock().unwrap().push((body.0, valid));
                // The verifier is whoever signed the bearer token; a fixture that exists to send what a test tells
                // it to need not check it.
                let verifier = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .and_then(|t| twinport_contracts::identity::unverified_issuer(t).ok())
                    .unwrap_or_default();
                let credentials = presents.lock().unwrap().clone();
                let (key, key_id) = signer.get().expect("issuer started");
                let vp = issue_presentation(&PresentationRequest {
                    key,
                    holder_did: &did,
                    key_id,
                    audience: &verifier,
                    credentials: &credentials,
                    now: OffsetDateTime::now_utc(),
                    lifetime: std::time::Duration::from_secs(60),
                    format: CredentialFormat::Vc11Jwt,
                })
                .unwrap();
                std::future::ready(Ok(axum::Json(presentation_response(vec![json!(vp)]))))
            }
        };
        let extra = Router::new().route("/dcp/presentations/query", axum::routing::post(answer));
        // The list changes when a test revokes: verifiers must not keep it.
        let inner = DevIssuer::start(did, "no-store", extra).await.unwrap();
        let _ = signer.set((inner.key.clone(), inner.key_id()));
        TestIssuer {
            inner,
            presents,
            queries,
            down,
        }
    }

    /// A credential for `holder` (see [`DevIssuer::credential`]).
    pub fn credential(
        &self,
        holder: &str,
        types: &[&str],
        claims: Value,
        from: OffsetDateTime,
        until: OffsetDateTime,
        format: CredentialFormat,
    ) -> (String, u64) {
        self.inner
            .credential(holder, types, claims, from, until, format)
            .unwrap()
    }

    /// A credential for `holder`, valid from yesterday for 30 days.
    pub fn valid(
        &self,
        holder: &str,
        types: &[&str],
        claims: Value,
        format: CredentialFormat,
    ) -> (String, u64) {
        let now = OffsetDateTime::now_utc();
        self.credential(
            holder,
            types,
            claims,
            now - time::Duration::days(1),
            now + time::Duration::days(30),
            format,
        )
    }

    /// A valid `MembershipCredential` for `holder` saying `membership`.
    pub fn membership(&self, holder: &str, membership: &str) -> String {
        self.inner.membership(holder, membership).unwrap()
    }

    /// What its Credential Service presents from now on.
    pub fn present(&self, credentials: Vec<String>) {
        *self.presents.lock().unwrap() = credentials;
    }

    /// A DCP self-issued token of this participant for `audience`, with an opaque access token.
    pub fn token_for(&self, audience: &str) -> String {
        issue_si_token(&SiTokenRequest {
            key: &self.key,
            did: &self.did,
            key_id: &self.key_id(),
            audience,
            access_token: "opaque-access-token",
            now: OffsetDateTime::now_utc(),
            lifetime: std::time::Duration::from_secs(60),
        })
        .unwrap()
    }
}

/// City A (provider) and city B (consumer), known to each other only by DID, both trusting `issuer` for
/// membership; A holds a membership credential, B holds `b_credentials`.
pub async fn dcp_pair(
    storage: Storage,
    issuer: &TestIssuer,
    b_credentials: Vec<String>,
    tweak: &dyn Fn(&mut Config),
) -> (City, City) {
    if std::env::var("TWINPORT_TEST_LOG").is_ok() {
        twinport::telemetry::init(twinport::config::LogFormat::Human);
    }
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let mut keys = Vec::new();
    for (dir, did, alg, credentials) in [
        (
            &dir_a,
            DID_A,
            KeyAlgorithm::EdDsa,
            vec![issuer.membership(DID_A, "partner-city")],
        ),
        (&dir_b, DID_B, KeyAlgorithm::Es256, b_credentials.clone()),
    ] {
        let key = twinport::cli::init::write_connector_dir(
            dir.path(),
            did,
            alg,
            "127.0.0.1:0",
            "127.0.0.1:0",
            "http://127.0.0.1:9",
            "",
        )
        .unwrap();
        append(&dir.path().join("twinport.toml"), &dcp_section(issuer));
        std::fs::create_dir_all(dir.path().join("credentials")).unwrap();
        for (i, c) in credentials.iter().enumerate() {
            std::fs::write(dir.path().join(format!("credentials/{i}.jwt")), c).unwrap();
        }
        keys.push(key);
    }
    let key_b = keys.pop().unwrap();
    let key_a = keys.pop().unwrap();
    let a = start_at(dir_a, key_a, storage, None, None, tweak).await;
    let b = start_at(dir_b, key_b, storage, None, None, tweak).await;
    // Each learns where the other's DID resolves only now that both listen.
    for (city, host, other) in [(&a, "city-b.test", &b), (&b, "city-a.test", &a)] {
        city.running
            .state
            .partners()
            .directory()
            .dcp()
            .expect("DCP is configured")
            .map_origin_for_tests(host, other.running.public_url())
            .unwrap();
    }
    (a, b)
}

/// The `[dcp]` section both test cities use.
pub fn dcp_section(issuer: &TestIssuer) -> String {
    issuer.dcp_section(&["rogue.test", "city-a.test", "city-b.test"])
}
