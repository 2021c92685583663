//! A stand-in for the city's OpenID Connect provider, served in the test process on `127.0.0.1:0`: a discovery
//! document, a JWKS that tests can rotate or take down, a count of key-set fetches, and access tokens signed with
//! josekit the way Keycloak or Entra ID would sign them.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use josekit::jwk::alg::ec::EcCurve;
use josekit::jwk::Jwk;
use josekit::jws::{JwsHeader, ES256, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::{json, Value};

/// The audience the stand-in's tokens carry unless a test says otherwise.
pub const AUDIENCE: &str = "twinport-management";

/// A private signing key with its `kid` and algorithm.
#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    pub alg: &'static str,
    jwk: Jwk,
}

impl TestKey {
    pub fn rsa(kid: &str) -> TestKey {
        TestKey {
            kid: kid.into(),
            alg: "RS256",
            jwk: Jwk::generate_rsa_key(2048).expect("rsa key"),
        }
    }

    pub fn p256(kid: &str) -> TestKey {
        TestKey {
            kid: kid.into(),
            alg: "ES256",
            jwk: Jwk::generate_ec_key(EcCurve::P256).expect("ec key"),
        }
    }

    /// The public half as published in a JWKS.
    pub fn public_jwk(&self) -> Value {
        let mut v =
            serde_json::to_value(self.jwk.to_public_key().expect("public key")).expect("jwk");
        v["kid"] = json!(self.kid);
        v["alg"] = json!(self.alg);
        v["use"] = json!("sig");
        v
    }

    /// A compact JWS over `claims`, with this key's `kid` and `alg` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(&self.kid);
        let payload = JwtPayload::from_map(claims.as_object().expect("claims object").clone())
            .expect("payload");
        match self.alg {
            "RS256" => {
                let signer = RS256.signer_from_jwk(&self.jwk).expect("signer");
                jwt::encode_with_signer(&payload, &header, &signer).expect("token")
            }
            _ => {
                let signer = ES256.signer_from_jwk(&self.jwk).expect("signer");
                jwt::encode_with_signer(&payload, &header, &signer).expect("token")
            }
        }
    }
}

struct Published {
    keys: Vec<TestKey>,
    up: bool,
    key_fetches: usize,
}

/// The running stand-in.
pub struct OidcProvider {
    issuer: String,
    state: Arc<Mutex<Published>>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    issuer: String,
    state: Arc<Mutex<Published>>,
}

impl OidcProvider {
    /// Starts serving with one RSA key, `kid` "key-1".
    pub async fn start() -> OidcProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        // A realm path like Keycloak's, so discovery has to join the well-known suffix onto a path.
        let issuer = format!(
            "http://{}/realms/city",
            listener.local_addr().expect("addr")
        );
        let state = Arc::new(Mutex::new(Published {
            keys: vec![TestKey::rsa("key-1")],
            up: true,
            key_fetches: 0,
        }));
        let shared = Shared {
            issuer: issuer.clone(),
            state: state.clone(),
        };
        let app = Router::new()
            .route(
                "/realms/city/.well-known/openid-configuration",
                get(discovery),
            )
            .route("/realms/city/protocol/openid-connect/certs", get(jwks))
            .with_state(shared);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        OidcProvider {
            issuer,
            state,
            server,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `[oidc]` section pointing at this provider, with `extra` lines appended inside it.
    pub fn config_section(&self, extra: &str) -> String {
        format!(
            "\n[oidc]\nissuer = \"{}\"\naudience = [\"{AUDIENCE}\", \"api://twinport\"]\n{extra}\n",
            self.issuer
        )
    }

    /// Claims of a valid access token for `subject` holding the claim values `roles`.
    pub fn claims(&self, subject: &str, roles: &[&str]) -> Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        json!({
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 300,
            "name": format!("{subject} (test person)"),
            "email": format!("{subject}@city-a.example"),
            "roles": roles,
        })
    }

    /// Signs `claims` with the provider's current (first published) key.
    pub fn sign(&self, claims: &Value) -> String {
        self.current_key().sign(claims)
    }

    /// A valid token for `subject` with `roles`.
    pub fn token(&self, subject: &str, roles: &[&str]) -> String {
        self.sign(&self.claims(subject, roles))
    }

    pub fn current_key(&self) -> TestKey {
        self.state.lock().expect("state").keys[0].clone()
    }

    /// Replaces the published keys with a fresh P-256 key and returns it.
    pub fn rotate(&self, kid: &str) -> TestKey {
        let key = TestKey::p256(kid);
        self.state.lock().expect("state").keys = vec![key.clone()];
        key
    }

    /// While down, discovery and the key set answer 503.
    pub fn set_up(&self, up: bool) {
        self.state.lock().expect("state").up = up;
    }

    /// How many times the key set was fetched.
    pub fn key_fetches(&self) -> usize {
        self.state.lock().expect("state").key_fetches
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn discovery(State(s): State<Shared>) -> Response {
    if !s.state.lock().expect("state").up {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let base = &s.issuer;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/protocol/openid-connect/auth"),
        "token_endpoint": format!("{base}/protocol/openid-connect/token"),
        "jwks_uri": format!("{base}/protocol/openid-connect/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
    .into_response()
}

async fn jwks(State(s): State<Shared>) -> Response {
    let mut published = s.state.lock().expect("state");
    if !published.up {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    published.key_fetches += 1;
    let keys: Vec<Value> = published.keys.iter().map(TestKey::public_jwk).collect();
    Json(json!({ "keys": keys })).into_response()
}

/// A connector trusting `provider`, in a fresh directory. In production mode its config has no management token;
/// in development mode it keeps the one `twinport init` wrote, so both ways in work.
pub struct OidcConnector {
    pub running: twinport::app::RunningConnector,
    pub static_token: Option<String>,
    pub dir: tempfile::TempDir,
}

impl OidcConnector {
    pub async fn start(
        provider: &OidcProvider,
        production: bool,
        oidc_extra: &str,
    ) -> OidcConnector {
        let dir = tempfile::tempdir().expect("temp dir");
        write_config(dir.path(), provider, production, oidc_extra);
        let config = twinport::config::Config::load(&dir.path().join("twinport.toml"))
            .expect("config loads");
        let static_token = config.management_token.clone();
        let running = twinport::app::start(config)
            .await
            .expect("connector starts");
        OidcConnector {
            running,
            static_token,
            dir,
        }
    }

    /// A management API request carrying `token`.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.running.management_url()))
            .bearer_auth(token)
    }
}

/// Writes a connector directory whose config trusts `provider`; production mode drops the static token.
pub fn write_config(
    dir: &std::path::Path,
    provider: &OidcProvider,
    production: bool,
    oidc_extra: &str,
) {
    twinport::cli::init::write_connector_dir(
        dir,
        crate::CITY_A,
        twinport_contracts::identity::KeyAlgorithm::EdDsa,
        "127.0.0.1:0",
        "127.0.0.1:0",
        "http://127.0.0.1:9",
        "",
    )
    .expect("write connector dir");
    let path = dir.join("twinport.toml");
    let written = std::fs::read_to_string(&path).expect("config");
    let mut text = String::new();
    if production {
        text.push_str("mode = \"production\"\n");
        for line in written.lines() {
            if !line.starts_with("management_token") {
                text.push_str(line);
                text.push('\n');
            }
        }
    } else {
        text.push_str(&written);
    }
    text.push_str(&provider.config_section(oidc_extra));
    std::fs::write(&path, text).expect("write config");
}
