//! Shared fixtures for the end-to-end tests: real Twinport connectors started in-process on `127.0.0.1:0`, each in
//! a temporary directory written by `twinport init`'s own code, and the official DSP schemas to check every
//! response against.

pub mod schemas;

use std::path::Path;

use tempfile::TempDir;
use twinport::app::RunningConnector;
use twinport::cli::init::write_connector_dir;
use twinport::config::Config;
use twinport_contracts::identity::{KeyAlgorithm, SigningKey};

pub const CITY_A: &str = "https://city-a.example/twinport";
pub const CITY_B: &str = "https://city-b.example/twinport";

/// A running connector and what a test needs to talk to it.
pub struct City {
    pub id: String,
    pub running: RunningConnector,
    pub key: SigningKey,
    pub management_token: String,
    pub dir: TempDir,
}

impl City {
    pub fn dsp_base(&self) -> String {
        self.running.state.dsp_base()
    }

    /// A management API request with the operator's token.
    pub fn management(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.running.management_url()))
            .bearer_auth(&self.management_token)
    }

    pub fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("twinport.toml")
    }
}

/// Where a test's connectors keep their state.
#[derive(Clone, Copy, Debug)]
pub enum Storage {
    /// An SQLite file in the connector's directory (the embedded default).
    Sqlite,
    /// A fresh schema in `TWINPORT_TEST_DATABASE_URL`.
    Postgres,
}

impl Storage {
    /// The backends to run a test on: SQLite always, PostgreSQL when the test database is configured.
    pub fn all() -> Vec<Storage> {
        let mut out = vec![Storage::Sqlite];
        if std::env::var("TWINPORT_TEST_DATABASE_URL").is_ok() {
            out.push(Storage::Postgres);
        } else {
            println!("PostgreSQL run skipped: TWINPORT_TEST_DATABASE_URL is not set");
        }
        out
    }
}

/// City A (provider, with the sample catalogue) and city B (consumer), trusting each other with inline keys.
pub async fn city_pair(storage: Storage) -> (City, City) {
    let dir_a = tempfile::tempdir().expect("temp dir");
    let dir_b = tempfile::tempdir().expect("temp dir");
    let a_path = dir_a.path().to_path_buf();
    let b_path = dir_b.path().to_path_buf();
    let key_a = write_connector_dir(
        &a_path,
        CITY_A,
        KeyAlgorithm::EdDsa,
        "127.0.0.1:0",
        "127.0.0.1:0",
        "http://127.0.0.1:9",
        "",
    )
    .expect("write city A");
    let key_b = write_connector_dir(
        &b_path,
        CITY_B,
        KeyAlgorithm::Es256,
        "127.0.0.1:0",
        "127.0.0.1:0",
        "http://127.0.0.1:9",
        "",
    )
    .expect("write city B");
    append(
        &a_path.join("twinport.toml"),
        &twinport::cli::demo::partner_toml(CITY_B, &key_b.jwks()).unwrap(),
    );
    append(
        &b_path.join("twinport.toml"),
        &twinport::cli::demo::partner_toml(CITY_A, &key_a.jwks()).unwrap(),
    );
    let a = start(dir_a, key_a, storage, None).await;
    let b = start(
        dir_b,
        key_b,
        storage,
        Some((CITY_A, a.running.public_url().to_string())),
    )
    .await;
    (a, b)
}

async fn start(
    dir: TempDir,
    key: SigningKey,
    storage: Storage,
    partner_url: Option<(&str, String)>,
) -> City {
    let mut config = Config::load(&dir.path().join("twinport.toml")).expect("config loads");
    if let Storage::Postgres = storage {
        config.storage_url = postgres_url().await;
    }
    if let Some((id, url)) = partner_url {
        if let Some(p) = config.partners.iter_mut().find(|p| p.id == id) {
            p.url = Some(url);
        }
    }
    let management_token = config.management_token.clone();
    let id = config.participant_id.clone();
    let running = twinport::app::start(config)
        .await
        .expect("connector starts");
    City {
        id,
        running,
        key,
        management_token,
        dir,
    }
}

/// A PostgreSQL URL pointing at a new, empty schema of the test database.
pub async fn postgres_url() -> String {
    let base = std::env::var("TWINPORT_TEST_DATABASE_URL").expect("TWINPORT_TEST_DATABASE_URL");
    let schema = format!("e2e_{}", uuid::Uuid::new_v4().simple());
    sqlx_create_schema(&base, &schema).await;
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

async fn sqlx_create_schema(base: &str, schema: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(base)
        .await
        .expect("connect to TWINPORT_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create schema");
    conn.close().await.ok();
}

fn append(path: &Path, text: &str) {
    let mut current = std::fs::read_to_string(path).expect("config");
    current.push_str(text);
    std::fs::write(path, current).expect("write config");
}

/// Signs arbitrary claims with `key`, so tests can present tokens the connector's own issuer would never make.
pub fn craft_token(key: &SigningKey, claims: serde_json::Value) -> String {
    use josekit::jws::{JwsHeader, ES256};
    use josekit::jwt::{self, JwtPayload};
    let pem = key.to_pkcs8_pem();
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id(key.kid());
    let payload =
        JwtPayload::from_map(claims.as_object().expect("claims object").clone()).expect("payload");
    match key.algorithm() {
        KeyAlgorithm::EdDsa => {
            let signer = josekit::jws::EdDSA
                .signer_from_pem(pem.as_bytes())
                .expect("signer");
            jwt::encode_with_signer(&payload, &header, &signer).expect("token")
        }
        KeyAlgorithm::Es256 => {
            let signer = ES256.signer_from_pem(pem.as_bytes()).expect("signer");
            jwt::encode_with_signer(&payload, &header, &signer).expect("token")
        }
    }
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A CatalogRequestMessage with the given filters, in the compact 2025-1 form.
pub fn catalog_request(filter: Vec<serde_json::Value>) -> serde_json::Value {
    use twinport_contracts::message::DspMessage;
    twinport_contracts::catalog::CatalogRequestMessage { filter }.to_json()
}
