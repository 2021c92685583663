//! Two cities' connectors on loopback, set up the way `twinport init` sets up one, trusting each other with inline
//! keys: the stage for the demo and the benchmarks.

use std::path::{Path, PathBuf};

use anyhow::Context;
use twinport_contracts::identity::{Jwks, KeyAlgorithm};

use super::init::write_connector_dir;
use crate::app::RunningConnector;
use crate::config::Config;

pub const CITY_A: &str = "https://city-a.example/twinport";
pub const CITY_B: &str = "https://city-b.example/twinport";
/// The cities' DIDs when they speak DCP ([`Pair::start_dcp`]).
pub const DID_A: &str = "did:web:city-a.test";
pub const DID_B: &str = "did:web:city-b.test";

/// City A (provider, in front of `backend`) and city B (consumer).
pub struct Pair {
    pub dir: PathBuf,
    pub a: RunningConnector,
    pub b: RunningConnector,
    /// City B's management API token.
    pub token_b: String,
    /// City A's participant id, as city B knows it.
    pub provider: String,
}

impl Pair {
    pub async fn start(backend: &str) -> anyhow::Result<Pair> {
        Self::start_with(backend, false).await
    }

    /// Like [`Pair::start`]; with `tls`, a development PKI in the pair's directory (`pki/`) and both cities on
    /// HTTPS, requiring each other's certificate (mutual TLS, pinned by fingerprint).
    pub async fn start_with(backend: &str, tls: bool) -> anyhow::Result<Pair> {
        Self::start_on(backend, tls, None).await
    }

    /// Like [`Pair::start_with`], with city A's storage at `storage_a` (a database URL) instead of its directory.
    pub async fn start_on(
        backend: &str,
        tls: bool,
        storage_a: Option<String>,
    ) -> anyhow::Result<Pair> {
        let dir = std::env::temp_dir().join(format!("twinport-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        let (dir_a, dir_b) = write_cities(&dir, backend, ["127.0.0.1:0", "127.0.0.1:0"], None)?;
        let mut config_a = Config::load(&dir_a.join("twinport.toml"))?;
        let mut config_b = Config::load(&dir_b.join("twinport.toml"))?;
        if let Some(url) = storage_a {
            config_a.storage_url = url;
        }
        if tls {
            let names = ["city-a", "city-b"].map(String::from);
            let pki = super::certs::generate(&dir.join("pki"), &names, false)?;
            config_a.tls = pki.tls_config("city-a", &[(CITY_B, "city-b")], true)?;
            config_b.tls = pki.tls_config("city-b", &[(CITY_A, "city-a")], true)?;
        }
        let a = crate::app::start(config_a)
            .await
            .context("starting city A")?;
        // Each city learns where the other listens only once it has bound its port.
        if let Some(p) = config_b.partners.iter_mut().find(|p| p.id == CITY_A) {
            p.url = Some(a.public_url().to_string());
        }
        let token_b = config_b
            .management_token
            .clone()
            .context("city B has no management_token")?;
        let b = crate::app::start(config_b)
            .await
            .context("starting city B")?;
        a.state.set_partner_url(CITY_B, b.public_url());
        Ok(Pair {
            dir,
            a,
            b,
            token_b,
            provider: CITY_A.into(),
        })
    }

    /// Like [`Pair::start`], with the cities known to each other only by DID ([`DID_A`], [`DID_B`]): no
    /// `[[partners]]` at all, each holding a membership credential from `issuer`, which both trust, and each DID
    /// resolved over loopback.
    pub async fn start_dcp(
        backend: &str,
        issuer: &super::issuer::DevIssuer,
    ) -> anyhow::Result<Pair> {
        let dir = std::env::temp_dir().join(format!("twinport-{}", uuid::Uuid::new_v4().simple()));
        let mut configs = Vec::new();
        for (name, did, alg) in [
            ("city-a", DID_A, KeyAlgorithm::EdDsa),
            ("city-b", DID_B, KeyAlgorithm::Es256),
        ] {
            let d = dir.join(name);
            write_connector_dir(&d, did, alg, "127.0.0.1:0", "127.0.0.1:0", backend, "")?;
            append(
                &d.join("twinport.toml"),
                &issuer.dcp_section(&["city-a.test", "city-b.test"]),
            )?;
            std::fs::create_dir_all(d.join("credentials"))?;
            std::fs::write(
                d.join("credentials/membership.jwt"),
                issuer.membership(did, "partner-city")?,
            )?;
            configs.push(Config::load(&d.join("twinport.toml"))?);
        }
        let config_b = configs.pop().context("city B")?;
        let config_a = configs.pop().context("city A")?;
        let token_b = config_b
            .management_token
            .clone()
            .context("city B has no management_token")?;
        let a = crate::app::start(config_a)
            .await
            .context("starting city A")?;
        let b = crate::app::start(config_b)
            .await
            .context("starting city B")?;
        for (city, host, other) in [(&a, "city-b.test", &b), (&b, "city-a.test", &a)] {
            city.state
                .partners()
                .directory()
                .dcp()
                .context("DCP is configured")?
                .map_origin_for_tests(host, other.public_url())
                .map_err(anyhow::Error::msg)?;
        }
        Ok(Pair {
            dir,
            a,
            b,
            token_b,
            provider: DID_A.into(),
        })
    }

    /// Stops both connectors and removes their directory.
    pub async fn stop(self) {
        self.b.stop().await;
        self.a.stop().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// City A's and city B's directories under `dir` (`city-a`, `city-b`), as `twinport init` writes them, each
/// trusting the other's inline keys: A listening on `a_listen` (DSP, management), B on ephemeral ports, and B told
/// A's root URL when `a_url` is given.
pub(super) fn write_cities(
    dir: &Path,
    backend: &str,
    a_listen: [&str; 2],
    a_url: Option<&str>,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (dir_a, dir_b) = (dir.join("city-a"), dir.join("city-b"));
    let key_a = write_connector_dir(
        &dir_a,
        CITY_A,
        KeyAlgorithm::EdDsa,
        a_listen[0],
        a_listen[1],
        backend,
        "",
    )?;
    let mut partner_a: toml::Table = partner_toml(CITY_A, &key_a.jwks())?.parse()?;
    if let (Some(url), Some(toml::Value::Array(partners))) = (a_url, partner_a.get_mut("partners"))
    {
        if let Some(toml::Value::Table(a)) = partners.first_mut() {
            a.insert("url".into(), toml::Value::String(url.into()));
        }
    }
    let key_b = write_connector_dir(
        &dir_b,
        CITY_B,
        KeyAlgorithm::Es256,
        "127.0.0.1:0",
        "127.0.0.1:0",
        backend,
        &format!("\n{}", toml::to_string(&partner_a)?),
    )?;
    append(
        &dir_a.join("twinport.toml"),
        &partner_toml(CITY_B, &key_b.jwks())?,
    )?;
    Ok((dir_a, dir_b))
}

/// A `[[partners]]` table trusting `id` with the given keys.
pub fn partner_toml(id: &str, jwks: &Jwks) -> anyhow::Result<String> {
    let jwks = toml::Value::try_from(jwks).context("encoding partner keys")?;
    let mut table = toml::Table::new();
    table.insert("id".into(), toml::Value::String(id.into()));
    table.insert("jwks".into(), jwks);
    let mut doc = toml::Table::new();
    doc.insert(
        "partners".into(),
        toml::Value::Array(vec![toml::Value::Table(table)]),
    );
    Ok(format!("\n{}", toml::to_string(&doc)?))
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut current = std::fs::read_to_string(path)?;
    current.push_str(text);
    std::fs::write(path, current)?;
    Ok(())
}
