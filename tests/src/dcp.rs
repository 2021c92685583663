//! DCP fixtures: a test credential issuer (its `did:web` document and a Bitstring status list whose bits a test
//! flips, served on `127.0.0.1:0`) and two connectors known only by `did:web` DIDs, resolved over loopback through
//! the test-only `[dcp] resolve` map, each holding the credentials the test gives it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use twinport::config::Config;
use twinport::identity::dcp::document::did_document;
use twinport_contracts::credentials::{
    issue_credential, issue_presentation, CredentialFormat, CredentialRequest, PresentationRequest,
};
use twinport_contracts::dcp::presentation_response;
use twinport_contracts::identity::{issue_si_token, KeyAlgorithm, SiTokenRequest, SigningKey};
use twinport_contracts::status_list::{StatusList, StatusListKind};

use crate::{append, start_at, City, Storage};

pub const ISSUER: &str = "did:web:issuer.test";
pub const DID_A: &str = "did:web:city-a.test";
pub const DID_B: &str = "did:web:city-b.test";
/// The status list every credential of the test issuer points to, by the URL its DID names.
const STATUS_LIST: &str = "https://issuer.test/status/1";

/// A credential issuer served in the test process.
pub struct TestIssuer {
    pub did: String,
    pub key: SigningKey,
    /// Where it listens (`http://127.0.0.1:<port>`).
    pub url: String,
    revoked: Arc<Mutex<Vec<u64>>>,
    next_index: AtomicU64,
    /// How often its status list was fetched.
    pub status_fetches: Arc<AtomicUsize>,
    /// What its own Credential Service presents when asked (it can act as a bare DCP participant, too).
    presents: Arc<Mutex<Vec<String>>>,
    /// Every presentation query it received, with whether it was valid against the DCP schema.
    pub queries: Arc<Mutex<Vec<(Value, bool)>>>,
}

impl TestIssuer {
    pub async fn start(did: &str) -> TestIssuer {
        let key = SigningKey::generate(KeyAlgorithm::Es256).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let revoked = Arc::new(Mutex::new(Vec::new()));
        let status_fetches = Arc::new(AtomicUsize::new(0));
        let key_id = format!("{did}#{}", key.kid());
        let document = did_document(did, &key_id, &key.public_jwk(), &url);
        let list = {
            let (key, key_id, did) = (key.clone(), key_id.clone(), did.to_string());
            let (revoked, fetches) = (revoked.clone(), status_fetches.clone());
            move || {
                fetches.fetch_add(1, Ordering::SeqCst);
                let set = revoked.lock().unwrap().clone();
                let mut subject =
                    StatusList::encode(StatusListKind::Bitstring, "revocation", &set, 16_384);
                subject["id"] = json!(format!("{STATUS_LIST}#list"));
                let now = OffsetDateTime::now_utc();
                let jwt = issue_credential(&CredentialRequest {
                    key: &key,
                    issuer_did: &did,
                    key_id: &key_id,
                    id: STATUS_LIST,
                    types: &["BitstringStatusListCredential"],
                    subject: &subject,
                    valid_from: now - Duration::hours(1),
                    valid_until: Some(now + Duration::days(1)),
                    status: None,
                    format: CredentialFormat::Vc20Jose,
                })
                .unwrap();
                // The issuer flips bits at will: verifiers must not keep the list.
                (
                    [
                        ("cache-control", "no-store"),
                        ("content-type", "application/vc+jwt"),
                    ],
                    jwt,
                )
            }
        };
        let presents: Arc<Mutex<Vec<String>>> = Arc::default();
        let queries: Arc<Mutex<Vec<(Value, bool)>>> = Arc::default();
        let answer = {
            let (key, key_id, did) = (key.clone(), key_id.clone(), did.to_string());
            let (presents, queries) = (presents.clone(), queries.clone());
            move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                let valid = twinport_contracts::dcp::schemas::validate(
                    "presentation/presentation-query-message-schema.json",
                    &body.0,
                )
                .is_ok();
                queries.lock().unwrap().push((body.0, valid));
                // The verifier is whoever signed the bearer token; a bare participant trusts it blindly here, which
                // is fine for a fixture that exists to send what a test tells it to.
                let verifier = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .and_then(|t| twinport_contracts::identity::unverified_issuer(t).ok())
                    .unwrap_or_default();
                let credentials = presents.lock().unwrap().clone();
                let vp = issue_presentation(&PresentationRequest {
                    key: &key,
                    holder_did: &did,
                    key_id: &key_id,
                    audience: &verifier,
                    credentials: &credentials,
                    now: OffsetDateTime::now_utc(),
                    lifetime: std::time::Duration::from_secs(60),
                    format: CredentialFormat::Vc11Jwt,
                })
                .unwrap();
                std::future::ready(axum::Json(presentation_response(vec![json!(vp)])))
            }
        };
        let app = Router::new()
            .route("/dcp/presentations/query", axum::routing::post(answer))
            .route(
                "/.well-known/did.json",
                get(move || {
                    let d = document.clone();
                    async move { axum::Json(d) }
                }),
            )
            .route("/status/1", get(move || std::future::ready(list())));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestIssuer {
            did: did.to_string(),
            key,
            url,
            revoked,
            next_index: AtomicU64::new(1),
            status_fetches,
            presents,
            queries,
        }
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

    pub fn key_id(&self) -> String {
        format!("{}#{}", self.did, self.key.kid())
    }

    /// A credential for `holder` of `types` with `claims` in its subject, valid from `from` to `until`, with a
    /// status entry of its own; returns it and its status index.
    pub fn credential(
        &self,
        holder: &str,
        types: &[&str],
        claims: Value,
        from: OffsetDateTime,
        until: OffsetDateTime,
        format: CredentialFormat,
    ) -> (String, u64) {
        let index = self.next_index.fetch_add(1, Ordering::SeqCst);
        let mut subject = claims;
        subject["id"] = json!(holder);
        let status = json!({
            "id": format!("{STATUS_LIST}#{index}"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": index.to_string(),
            "statusListCredential": STATUS_LIST,
        });
        let jwt = issue_credential(&CredentialRequest {
            key: &self.key,
            issuer_did: &self.did,
            key_id: &self.key_id(),
            id: &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            types,
            subject: &subject,
            valid_from: from,
            valid_until: Some(until),
            status: Some(&status),
            format,
        })
        .unwrap();
        (jwt, index)
    }

    /// A valid `MembershipCredential` for `holder` saying `membership`.
    pub fn membership(&self, holder: &str, membership: &str) -> String {
        let now = OffsetDateTime::now_utc();
        self.credential(
            holder,
            &["MembershipCredential"],
            json!({"membership": membership}),
            now - Duration::days(1),
            now + Duration::days(30),
            CredentialFormat::Vc11Jwt,
        )
        .0
    }

    pub fn revoke(&self, index: u64) {
        self.revoked.lock().unwrap().push(index);
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
    format!(
        r#"
[dcp]
credentials_dir = "credentials"
insecure_http_hosts = ["issuer.test", "rogue.test", "city-a.test", "city-b.test"]
[dcp.resolve]
"issuer.test" = "{}"
[[dcp.trusted_issuers]]
id = "{}"
types = ["MembershipCredential"]
"#,
        issuer.url, issuer.did
    )
}
