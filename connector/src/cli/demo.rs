//! `twinport demo`: two cities' connectors on loopback with embedded defaults, in a temporary directory. The first
//! city sits in front of a small sample LDT platform; the second reads its catalogue over DSP 2025-1, authenticated
//! with its own key, and prints what a partner sees.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;
use twinport_contracts::identity::{Jwks, KeyAlgorithm};

use super::init::write_connector_dir;
use super::sample_backend;
use crate::config::{Config, LogFormat};

const CITY_A: &str = "https://city-a.example/twinport";
const CITY_B: &str = "https://city-b.example/twinport";

pub async fn run() -> anyhow::Result<()> {
    crate::telemetry::init(LogFormat::Human);
    let tmp = tempdir()?;
    let (backend, _platform) = sample_backend::start().await?;
    println!("== Twinport demo (working directory {})", tmp.display());
    println!("   City A's LDT platform (sample) runs at {backend}");

    let dir_a = tmp.join("city-a");
    let dir_b = tmp.join("city-b");
    let key_a = write_connector_dir(
        &dir_a,
        CITY_A,
        KeyAlgorithm::EdDsa,
        "127.0.0.1:0",
        "127.0.0.1:0",
        &backend,
        "",
    )?;
    let key_b = write_connector_dir(
        &dir_b,
        CITY_B,
        KeyAlgorithm::Es256,
        "127.0.0.1:0",
        "127.0.0.1:0",
        &backend,
        &partner_toml(CITY_A, &key_a.jwks())?,
    )?;
    append(
        &dir_a.join("twinport.toml"),
        &partner_toml(CITY_B, &key_b.jwks())?,
    )?;

    let city_a = crate::app::start(Config::load(&dir_a.join("twinport.toml"))?)
        .await
        .context("starting city A")?;
    println!(
        "1. City A's connector is up: DSP at {}, participant {CITY_A}",
        city_a.public_url()
    );

    // City B learns where city A listens only now that A has bound its port.
    let mut config_b = Config::load(&dir_b.join("twinport.toml"))?;
    if let Some(p) = config_b.partners.iter_mut().find(|p| p.id == CITY_A) {
        p.url = Some(city_a.public_url().to_string());
    }
    let token_b = config_b.management_token.clone();
    let city_b = crate::app::start(config_b)
        .await
        .context("starting city B")?;
    println!(
        "2. City B's connector is up: DSP at {}, participant {CITY_B}",
        city_b.public_url()
    );

    println!("3. City B asks its own connector for city A's catalogue (GET /api/v1/partners/{{A}}/catalog);");
    println!("   its connector discovers A's DSP endpoint and sends a CatalogRequestMessage with a signed token.");
    let url = format!(
        "{}/api/v1/partners/{}/catalog",
        city_b.management_url(),
        crate::client::encode_segment(CITY_A)
    );
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&token_b)
        .send()
        .await?;
    let status = response.status();
    let catalog: Value = response.json().await?;
    if !status.is_success() {
        anyhow::bail!("city B could not read city A's catalogue: {catalog}");
    }
    print_catalog(&catalog);

    println!(
        "4. Each side's audit log: B witnesses A's signed checkpoint, then both logs are verified."
    );
    crate::audit::witness::check_partner(&city_b.state, CITY_A).await?;
    super::audit::show_and_verify("City A", &city_a.state).await?;
    super::audit::show_and_verify("City B", &city_b.state).await?;

    city_b.stop().await;
    city_a.stop().await;
    println!("== Demo finished: both connectors stopped cleanly.");
    Ok(())
}

fn print_catalog(catalog: &Value) {
    println!();
    println!(
        "   City A's catalogue as city B sees it ({}):",
        text(catalog, "dct:title")
    );
    println!("   participantId: {}", text(catalog, "participantId"));
    let datasets = catalog
        .get("dataset")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for d in &datasets {
        let kind = d
            .get("https://w3id.org/twinport/ldt#resourceKind")
            .and_then(|k| k.get("@id"))
            .and_then(Value::as_str)
            .and_then(|iri| iri.rsplit('#').next())
            .unwrap_or("?");
        let stage = d
            .get("https://w3id.org/twinport/ldt#stage")
            .and_then(|k| k.get("@id"))
            .and_then(Value::as_str)
            .and_then(|iri| iri.rsplit('#').next())
            .map(|s| format!(", stage {s}"))
            .unwrap_or_default();
        println!("   - {} [{kind}{stage}]", text(d, "dct:title"));
        println!("     id {}", text(d, "@id"));
        for offer in d
            .get("hasPolicy")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            println!(
                "     offer {}: {}",
                text(offer, "@id"),
                summarise_offer(offer)
            );
        }
    }
    println!(
        "   ({} resources; backend locations are never shown to partners)",
        datasets.len()
    );
    println!();
}

fn summarise_offer(offer: &Value) -> String {
    let mut parts = Vec::new();
    for (kind, word) in [
        ("permission", "may"),
        ("prohibition", "may not"),
        ("obligation", "must"),
    ] {
        for rule in offer
            .get(kind)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let action = rule
                .get("action")
                .map(|a| a.as_str().map(str::to_string).unwrap_or(a.to_string()))
                .unwrap_or_default();
            let constraints = rule
                .get("constraint")
                .and_then(Value::as_array)
                .map(|c| c.len())
                .unwrap_or(0);
            let suffix = if constraints > 0 {
                format!(" (with {constraints} constraint(s))")
            } else {
                String::new()
            };
            parts.push(format!("{word} {action}{suffix}"));
        }
    }
    parts.join("; ")
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
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

fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("twinport-demo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
