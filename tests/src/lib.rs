//! Shared fixtures for the end-to-end tests: real Twinport connectors started in-process on `127.0.0.1:0`, each in
//! a temporary directory written by `twinport init`'s own code, and the official DSP schemas to check every
//! response against.

pub mod counterparty;
pub mod counterparty_provider;
pub mod dcp;
pub mod model_server;
pub mod models;
pub mod oidc_provider;
pub mod open_catalogue;
pub mod platform;
pub mod proxy;
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
        self.http_client()
            .request(method, format!("{}{path}", self.running.management_url()))
            .bearer_auth(&self.management_token)
    }

    pub fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("twinport.toml")
    }

    /// A client for this city's listeners: plain, or trusting the development CA of a [`tls_pair`] (`pki/`).
    pub fn http_client(&self) -> reqwest::Client {
        match std::fs::read(self.dir.path().join(PKI_DIR).join("ca.pem")) {
            Ok(ca) => reqwest::Client::builder()
                .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("dev CA"))
                .build()
                .expect("client"),
            Err(_) => reqwest::Client::new(),
        }
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
    city_pair_with(storage, |_| {}).await
}

/// Like [`city_pair`], with `tweak` applied to each city's validated config before it starts.
pub async fn city_pair_with(storage: Storage, tweak: impl Fn(&mut Config)) -> (City, City) {
    start_pair(storage, "http://127.0.0.1:9", inline_partners, &tweak).await
}

/// Each city's partner entry for the other, trusting its inline keys: what to append to A's config and to B's.
fn inline_partners(_: &Path, _: &Path, key_a: &SigningKey, key_b: &SigningKey) -> [String; 2] {
    [
        twinport::cli::pair::partner_toml(CITY_B, &key_b.jwks()).unwrap(),
        twinport::cli::pair::partner_toml(CITY_A, &key_a.jwks()).unwrap(),
    ]
}

/// The construction every city pair shares: writes city A's (EdDSA) and city B's (ES256) directories with their
/// sample catalogues pointing at `backend`, appends what `partners` returns (given both directories and keys) to
/// A's config and to B's, starts A, then B knowing where A listens, and finally tells A where B listens.
async fn start_pair(
    storage: Storage,
    backend: &str,
    partners: impl FnOnce(&Path, &Path, &SigningKey, &SigningKey) -> [String; 2],
    tweak: &dyn Fn(&mut Config),
) -> (City, City) {
    if std::env::var("TWINPORT_TEST_LOG").is_ok() {
        twinport::telemetry::init(twinport::config::LogFormat::Human);
    }
    let dir_a = tempfile::tempdir().expect("temp dir");
    let dir_b = tempfile::tempdir().expect("temp dir");
    let key_a = write_connector_dir(
        dir_a.path(),
        CITY_A,
        KeyAlgorithm::EdDsa,
        "127.0.0.1:0",
        "127.0.0.1:0",
        backend,
        "",
    )
    .expect("write city A");
    let key_b = write_connector_dir(
        dir_b.path(),
        CITY_B,
        KeyAlgorithm::Es256,
        "127.0.0.1:0",
        "127.0.0.1:0",
        backend,
        "",
    )
    .expect("write city B");
    let [to_a, to_b] = partners(dir_a.path(), dir_b.path(), &key_a, &key_b);
    append(&dir_a.path().join("twinport.toml"), &to_a);
    append(&dir_b.path().join("twinport.toml"), &to_b);
    let a = start_at(dir_a, key_a, storage, None, None, tweak).await;
    let b = start_at(
        dir_b,
        key_b,
        storage,
        Some((CITY_A, a.running.public_url().to_string())),
        None,
        tweak,
    )
    .await;
    // City A started first, on a port city B could not know: now A learns where B listens.
    a.running
        .state
        .set_partner_url(CITY_B, b.running.public_url());
    (a, b)
}

pub(crate) async fn start_at(
    dir: TempDir,
    key: SigningKey,
    storage: Storage,
    partner_url: Option<(&str, String)>,
    public_url: Option<String>,
    tweak: &dyn Fn(&mut Config),
) -> City {
    let mut config = Config::load(&dir.path().join("twinport.toml")).expect("config loads");
    tweak(&mut config);
    if public_url.is_some() {
        config.public_url = public_url;
    }
    if let Storage::Postgres = storage {
        config.storage_url = postgres_url().await;
    }
    if let Some((id, url)) = partner_url {
        if let Some(p) = config.partners.iter_mut().find(|p| p.id == id) {
            p.url = Some(url);
        }
    }
    let management_token = config
        .management_token
        .clone()
        .expect("test configs have a management token");
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

pub(crate) fn append(path: &Path, text: &str) {
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

/// Waits (without polling) until process `id` of `city` is in `state`, or panics after `timeout`.
pub async fn wait_for_state(city: &City, id: &str, state: &str, timeout: std::time::Duration) {
    let mut events = city.running.state.events().subscribe();
    let current = current_state(city, id).await;
    if current.as_deref() == Some(state) {
        return;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(e)) if e.process_id == id && e.state == state => return,
            Ok(Ok(_)) => {}
            Ok(Err(_)) => {
                if current_state(city, id).await.as_deref() == Some(state) {
                    return;
                }
            }
            Err(_) => {
                let now = current_state(city, id).await;
                let history = city
                    .running
                    .state
                    .store()
                    .history(id)
                    .await
                    .unwrap_or_default();
                panic!("{id} did not reach {state} in {timeout:?}; it is {now:?}; history: {history:#?}");
            }
        }
    }
}

async fn current_state(city: &City, id: &str) -> Option<String> {
    let store = city.running.state.store();
    if let Ok(Some(n)) = store.negotiation(id).await {
        return Some(n.state);
    }
    store.transfer(id).await.ok().flatten().map(|t| t.state)
}

/// The provider-side negotiation that answers consumer pid `consumer_pid`.
pub async fn provider_negotiation(
    city: &City,
    consumer_pid: &str,
) -> Option<twinport::storage::NegotiationRecord> {
    city.running
        .state
        .store()
        .negotiations()
        .await
        .ok()?
        .into_iter()
        .find(|n| n.consumer_pid.as_deref() == Some(consumer_pid))
}

/// A city that was stopped, kept to start again on the same addresses with the same storage and keys.
pub struct StoppedCity {
    pub id: String,
    pub dsp: std::net::SocketAddr,
    pub management: std::net::SocketAddr,
    pub storage_url: String,
    key: SigningKey,
    management_token: String,
    dir: TempDir,
}

impl StoppedCity {
    /// Stops `city` (cleanly) and keeps what it needs to start again.
    pub async fn stop(city: City) -> StoppedCity {
        let stopped = StoppedCity {
            id: city.id,
            dsp: city.running.dsp_addr,
            management: city.running.management_addr,
            storage_url: city.running.state.config().storage_url.clone(),
            key: city.key,
            management_token: city.management_token,
            dir: city.dir,
        };
        city.running.stop().await;
        stopped
    }

    /// The root URL partners reach it at (the same after a restart).
    pub fn public_url(&self) -> String {
        format!("http://{}", self.dsp)
    }

    /// Starts the city again from its directory, pointing it at `partner` = (id, root URL) if given.
    pub async fn start(self, partner: Option<(&str, &str)>) -> City {
        let mut config =
            Config::load(&self.dir.path().join("twinport.toml")).expect("config loads");
        config.listen = self.dsp;
        config.management_listen = self.management;
        config.storage_url = self.storage_url;
        let running = twinport::app::start(config).await.expect("restart");
        if let Some((id, url)) = partner {
            running.state.set_partner_url(id, url);
        }
        City {
            id: self.id,
            running,
            key: self.key,
            management_token: self.management_token,
            dir: self.dir,
        }
    }
}

/// `from` speaking DSP to `to` by hand, with its own token: a POST to `to`'s DSP base, answered with the status
/// and the JSON body (`null` when there is none).
pub async fn dsp_post(
    from: &City,
    to: &City,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let token = from.running.state.identity().token_for(&to.id).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}{path}", to.dsp_base()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Publishes on A a dataset whose offer needs its operator's approval, has B ask for it, and returns B's
/// negotiation id with A's side of it once A waits for the approval (still REQUESTED).
pub async fn awaiting_operator_approval(
    a: &City,
    b: &City,
) -> (String, twinport::storage::NegotiationRecord) {
    let manual = serde_json::json!({
        "id": "urn:ldt:sample-city:energy", "kind": "dataset", "stage": "model-input",
        "title": "Energy use per building", "description": "Metered energy use per building, yearly.",
        "distributions": [{"format": "application/json", "backend": "http://platform/energy"}],
        "offers": [{"policy": "partner-use", "approval": "manual"}]
    });
    let r = a
        .management(reqwest::Method::POST, "/api/v1/resources")
        .json(&manual)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = start_negotiation(
        b,
        CITY_A,
        "urn:ldt:sample-city:energy",
        "urn:ldt:sample-city:energy:offer:partner-use",
        None,
    )
    .await;
    for _ in 0..200 {
        let waiting = provider_negotiation(a, &id).await.filter(|n| {
            n.waiting_for
                .as_deref()
                .is_some_and(|w| w.starts_with("operator approval"))
        });
        if let Some(provider) = waiting {
            return (id, provider);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("A never waited for its operator's approval of {id}");
}

/// Starts a negotiation through the consumer's management API and returns its id.
pub async fn start_negotiation(
    consumer: &City,
    provider: &str,
    dataset: &str,
    offer_id: &str,
    purpose: Option<&str>,
) -> String {
    let mut body =
        serde_json::json!({"partner": provider, "dataset": dataset, "offer_id": offer_id});
    if let Some(p) = purpose {
        body["purpose"] = serde_json::json!(p);
    }
    let r = consumer
        .management(reqwest::Method::POST, "/api/v1/negotiations")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Like [`city_pair`], but every DSP message between the two cities passes a recording proxy, in both directions.
pub async fn proxied_pair() -> (City, City, proxy::Recorder, proxy::Recorder) {
    let to_a = proxy::Recorder::start().await;
    let to_b = proxy::Recorder::start().await;
    let dir_a = tempfile::tempdir().expect("temp dir");
    let dir_b = tempfile::tempdir().expect("temp dir");
    let key_a = write_connector_dir(
        dir_a.path(),
        CITY_A,
        KeyAlgorithm::EdDsa,
        "127.0.0.1:0",
        "127.0.0.1:0",
        "http://127.0.0.1:9",
        "",
    )
    .expect("write city A");
    let key_b = write_connector_dir(
        dir_b.path(),
        CITY_B,
        KeyAlgorithm::Es256,
        "127.0.0.1:0",
        "127.0.0.1:0",
        "http://127.0.0.1:9",
        "",
    )
    .expect("write city B");
    append(
        &dir_a.path().join("twinport.toml"),
        &twinport::cli::pair::partner_toml(CITY_B, &key_b.jwks()).unwrap(),
    );
    append(
        &dir_b.path().join("twinport.toml"),
        &twinport::cli::pair::partner_toml(CITY_A, &key_a.jwks()).unwrap(),
    );
    let a = start_at(
        dir_a,
        key_a,
        Storage::Sqlite,
        None,
        Some(to_a.url.clone()),
        &|_| {},
    )
    .await;
    to_a.forward_to(&format!("http://{}", a.running.dsp_addr));
    let b = start_at(
        dir_b,
        key_b,
        Storage::Sqlite,
        Some((CITY_A, to_a.url.clone())),
        Some(to_b.url.clone()),
        &|_| {},
    )
    .await;
    to_b.forward_to(&format!("http://{}", b.running.dsp_addr));
    a.running.state.set_partner_url(CITY_B, &to_b.url);
    (a, b, to_a, to_b)
}

/// Where [`tls_pair`] puts the development PKI, inside each city's directory.
pub const PKI_DIR: &str = "pki";

/// City A (provider) and city B (consumer) over HTTPS on every listener, with certificates from the development
/// PKI that `twinport certs dev` writes (in each city's `pki/`: `ca.pem`, `city-a.pem`, `city-b.pem`,
/// `city-c.pem` and their `-key.pem`). With `mutual`, each requires the other's client certificate, pinned by
/// fingerprint; `city-c` is issued by the same CA but belongs to neither partner.
pub async fn tls_pair(mutual: bool) -> (City, City) {
    start_pair(
        Storage::Sqlite,
        "https://127.0.0.1:9",
        |dir_a, dir_b, key_a, key_b| {
            let names: Vec<String> = ["city-a", "city-b", "city-c"].map(String::from).into();
            let pki_a = twinport::cli::certs::generate(&dir_a.join(PKI_DIR), &names, false)
                .expect("dev PKI");
            std::fs::create_dir_all(dir_b.join(PKI_DIR)).expect("pki dir");
            for file in std::fs::read_dir(dir_a.join(PKI_DIR)).expect("pki") {
                let file = file.expect("pki file").path();
                let to = dir_b.join(PKI_DIR).join(file.file_name().expect("name"));
                std::fs::copy(&file, to).expect("copy pki");
            }
            let pki_b = twinport::cli::certs::DevPki {
                ca: dir_b.join(PKI_DIR).join("ca.pem"),
                ca_key: dir_b.join(PKI_DIR).join("ca-key.pem"),
                connectors: pki_a
                    .connectors
                    .iter()
                    .map(|c| twinport::cli::certs::DevCert {
                        cert: dir_b.join(PKI_DIR).join(c.cert.file_name().expect("name")),
                        key: dir_b.join(PKI_DIR).join(c.key.file_name().expect("name")),
                        ..c.clone()
                    })
                    .collect(),
            };
            [
                ("city-a", CITY_B, key_b, &pki_a),
                ("city-b", CITY_A, key_a, &pki_b),
            ]
            .map(|(own, partner, partner_key, pki)| {
                let other = if own == "city-a" { "city-b" } else { "city-a" };
                let pin = pki.connector(other).expect("partner cert").fingerprint;
                let mut text =
                    twinport::cli::certs::pinned_partner_toml(partner, &partner_key.jwks(), pin)
                        .unwrap();
                text.push_str(&pki.tls_toml(own, mutual).expect("own cert"));
                text
            })
        },
        &|_| {},
    )
    .await
}

/// A client that trusts `city`'s development CA and presents the `pki/` certificate `name` (none if `None`);
/// `tls_info` is on, so tests can read the certificate the server presented.
pub fn pki_client(city: &City, name: Option<&str>) -> reqwest::Client {
    let pki = city.dir.path().join(PKI_DIR);
    let ca = std::fs::read(pki.join("ca.pem")).expect("dev CA");
    let mut builder = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("dev CA"))
        .tls_info(true);
    if let Some(name) = name {
        let mut pem = std::fs::read(pki.join(format!("{name}.pem"))).expect("cert");
        pem.extend(std::fs::read(pki.join(format!("{name}-key.pem"))).expect("key"));
        builder = builder.identity(reqwest::Identity::from_pem(&pem).expect("identity"));
    }
    builder.build().expect("client")
}

/// A started pull transfer as both sides see it: the consumer's data address and the provider's transfer.
pub struct PullTransfer {
    pub agreement_id: String,
    /// The consumer's transfer id.
    pub consumer_transfer: String,
    /// The provider's transfer id (its providerPid).
    pub provider_transfer: String,
    pub endpoint: String,
    pub token: String,
}

/// `city` stores `policy` as `policy_id` and publishes `resource` (a resource body without offers) with one offer
/// under it, both through its management API.
pub async fn offer(
    city: &City,
    policy_id: &str,
    policy: serde_json::Value,
    resource: serde_json::Value,
) {
    let r = city
        .management(reqwest::Method::POST, "/api/v1/policies")
        .json(&serde_json::json!({"id": policy_id, "policy": policy}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let mut resource = resource;
    resource["offers"] = serde_json::json!([{"policy": policy_id}]);
    let r = city
        .management(reqwest::Method::POST, "/api/v1/resources")
        .json(&resource)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// City A stores `policy` and a dataset `resource_id` with the given distribution; city B negotiates it (with
/// `purpose`), requests a pull transfer and reads the data address from its own management API.
pub async fn pull_transfer(
    a: &City,
    b: &City,
    resource_id: &str,
    policy: serde_json::Value,
    distribution: serde_json::Value,
    purpose: Option<&str>,
) -> PullTransfer {
    pull_transfer_from(a, b, CITY_A, resource_id, policy, distribution, purpose).await
}

/// Like [`pull_transfer`], with city A known to B as `provider`.
pub async fn pull_transfer_from(
    a: &City,
    b: &City,
    provider: &str,
    resource_id: &str,
    policy: serde_json::Value,
    distribution: serde_json::Value,
    purpose: Option<&str>,
) -> PullTransfer {
    let resource = serde_json::json!({"id": resource_id, "kind": "dataset", "stage": "raw",
        "description": "A resource of the tests.", "title": resource_id, "distributions": [distribution]});
    pull_transfer_of(a, b, provider, resource, policy, purpose).await
}

/// City A stores `policy` and publishes `resource` (a resource body without offers, of any kind) under it; city B,
/// knowing A as `provider`, negotiates it (with `purpose`), requests a pull transfer and reads the data address
/// from its own management API.
pub async fn pull_transfer_of(
    a: &City,
    b: &City,
    provider: &str,
    resource: serde_json::Value,
    policy: serde_json::Value,
    purpose: Option<&str>,
) -> PullTransfer {
    let policy_id = format!("p-{}", uuid::Uuid::new_v4().simple());
    let resource_id = resource["id"]
        .as_str()
        .expect("the resource has an id")
        .to_string();
    let resource_id = resource_id.as_str();
    offer(a, &policy_id, policy, resource).await;
    let offer = format!("{resource_id}:offer:{policy_id}");
    pull_transfer_offered(a, b, provider, resource_id, &offer, purpose).await
}

/// City B negotiates `offer` on `resource_id`, which city A (known to B as `provider`) already publishes, requests a
/// pull transfer and reads the data address from its own management API.
pub async fn pull_transfer_offered(
    a: &City,
    b: &City,
    provider: &str,
    resource_id: &str,
    offer: &str,
    purpose: Option<&str>,
) -> PullTransfer {
    use reqwest::Method;
    use serde_json::{json, Value};
    let t = std::time::Duration::from_secs(20);
    let id = start_negotiation(b, provider, resource_id, offer, purpose).await;
    wait_for_state(b, &id, "FINALIZED", t).await;
    let view: Value = b
        .management(Method::GET, &format!("/api/v1/negotiations/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let agreement_id = view["agreement_id"].as_str().unwrap().to_string();
    let r = b
        .management(Method::POST, "/api/v1/transfers")
        .json(&json!({"agreement_id": agreement_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let tid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_state(b, &tid, "STARTED", t).await;
    let started: Value = b
        .management(Method::GET, &format!("/api/v1/transfers/{tid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let address = &started["data_address"];
    let endpoint = address["endpoint"].as_str().unwrap().to_string();
    let token = pull_token(b, &tid).await;
    let provider = a
        .running
        .state
        .store()
        .transfer_by_token_hash(&twinport::contracting::transfer::token_hash(&token))
        .await
        .unwrap()
        .expect("provider transfer");
    PullTransfer {
        agreement_id,
        consumer_transfer: tid,
        provider_transfer: provider.id,
        endpoint,
        token,
    }
}

/// `city`'s audit entries of `kind`, as their leaf JSON, oldest first.
pub async fn audit_leaves(city: &City, kind: &str) -> Vec<serde_json::Value> {
    city.running
        .state
        .store()
        .audit_entries_from(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str(&e.leaf).unwrap())
        .collect()
}

/// The `twinport-request-id` a data-plane response names (its receipt and audit entries carry the same id).
pub fn request_id(headers: &reqwest::header::HeaderMap) -> String {
    headers["twinport-request-id"]
        .to_str()
        .expect("request id is text")
        .to_string()
}

/// Stops `running` cleanly and reopens its database as the next start would find it: the store (close it when
/// done) and every audit leaf in it, oldest first. For what a stop must not lose.
pub async fn stop_and_reopen(
    running: RunningConnector,
) -> (twinport::storage::Store, Vec<serde_json::Value>) {
    let url = running.state.config().storage_url.clone();
    running.stop().await;
    let store = twinport::storage::Store::connect(&url)
        .await
        .expect("the stopped connector's database opens");
    let leaves = store
        .audit_entries_from(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str(&e.leaf).unwrap())
        .collect();
    (store, leaves)
}

/// `city`'s `data_access` audit entries, as their leaf JSON, oldest first.
pub async fn data_accesses(city: &City) -> Vec<serde_json::Value> {
    audit_leaves(city, "data_access").await
}

/// The `receipt_received` entries in `city`'s audit log that record access receipts (they name the request;
/// receipts for DSP messages are `receipt_received` entries too).
pub async fn access_receipts_received(city: &City) -> Vec<serde_json::Value> {
    audit_leaves(city, "receipt_received")
        .await
        .into_iter()
        .filter(|leaf| leaf["details"]["request_id"].is_string())
        .collect()
}

/// Waits until city A's audit log holds a `data_access` entry for `request_id`, and returns it.
pub async fn data_access(a: &City, request_id: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(e) = data_accesses(a)
            .await
            .into_iter()
            .find(|e| e["details"]["request_id"] == request_id)
        {
            return e;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no data_access entry for {request_id}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Like [`city_pair`], but city A's sample catalogue points at `backend` (a real platform the test started), so
/// its data plane has something to serve.
pub async fn city_pair_backed(storage: Storage, backend: &str) -> (City, City) {
    city_pair_backed_with(storage, backend, |_| {}).await
}

/// Like [`city_pair_backed`], with `tweak` applied to each city's validated config before it starts.
pub async fn city_pair_backed_with(
    storage: Storage,
    backend: &str,
    tweak: impl Fn(&mut Config),
) -> (City, City) {
    start_pair(storage, backend, inline_partners, &tweak).await
}

/// The live pull token of `city`'s consumer transfer `transfer`, as its data plane keeps it (apart from the data
/// address, which shows no token).
pub async fn pull_token(city: &City, transfer: &str) -> String {
    city.running
        .state
        .store()
        .pull_token(transfer)
        .await
        .expect("pull tokens read")
        .expect("the transfer has a pull token")
        .token
}

/// The first of `city`'s transfers that `which` picks.
pub async fn transfer_where(
    city: &City,
    which: impl Fn(&twinport::storage::TransferRecord) -> bool,
) -> twinport::storage::TransferRecord {
    city.running
        .state
        .store()
        .transfers()
        .await
        .expect("transfers read")
        .into_iter()
        .find(|t| which(t))
        .expect("such a transfer")
}
