//! `twinport init DIR`: a config, a fresh signing key and a sample catalogue, ready for `twinport serve`.

use std::path::Path;

use anyhow::{bail, Context};
use twinport_contracts::identity::{KeyAlgorithm, SigningKey};

use super::sample;

pub fn run(dir: &Path, participant_id: &str, algorithm: &str) -> anyhow::Result<()> {
    let alg: KeyAlgorithm = algorithm
        .parse()
        .map_err(|_| anyhow::anyhow!("--algorithm must be EdDSA or ES256, got {algorithm:?}"))?;
    if !crate::iri::is_absolute_uri(participant_id) {
        bail!("--participant-id must be an absolute URI, got {participant_id:?}");
    }
    write_connector_dir(
        dir,
        participant_id,
        alg,
        "127.0.0.1:8080",
        "127.0.0.1:8081",
        "http://127.0.0.1:1026",
        "",
    )?;
    println!("Wrote a Twinport connector to {}.", dir.display());
    println!(
        "Start it with:  twinport serve --config {}",
        dir.join("twinport.toml").display()
    );
    Ok(())
}

/// Writes config, key and catalogue. `partners` is appended verbatim to the config (TOML `[[partners]]` tables).
pub fn write_connector_dir(
    dir: &Path,
    participant_id: &str,
    alg: KeyAlgorithm,
    listen: &str,
    management_listen: &str,
    backend: &str,
    partners: &str,
) -> anyhow::Result<SigningKey> {
    if dir.exists()
        && dir
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} exists and is not empty; choose a new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir.join("catalogue/resources"))
        .context("creating the catalogue directory")?;
    std::fs::create_dir_all(dir.join("catalogue/policies"))
        .context("creating the catalogue directory")?;
    let key = SigningKey::generate(alg)?;
    write_private(&dir.join("signing-key.pem"), &key.to_pkcs8_pem())?;
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let local_listen = local_listen_beside(management_listen);
    let config = format!(
        r#"# Twinport connector configuration. Every key is described in docs/configuration.md.
participant_id = "{participant_id}"
listen = "{listen}"
management_listen = "{management_listen}"
local_listen = "{local_listen}"   # the local data endpoint for this city's own applications
# public_url = "https://twinport.city.example"   # how partners reach `listen`; derived from it when unset
data_dir = "data"
# storage_url = "postgres://twinport@db/twinport"  # default: an SQLite file in data_dir
signing_key = "signing-key.pem"
catalogue_dir = "catalogue"
management_token = "{token}"
log_format = "human"

[catalogue]
title = "Sample City Local Digital Twin"
description = "Data, models and outputs of Sample City's Local Digital Twin, shared with partner cities under contract."
publisher_name = "Sample City"
# The city's or the twin's web page.
homepage = "https://city.example/"
# ISO 639-1 codes of the catalogue's languages, the default of its resources.
language = ["en"]
# Default licence of the resources (EU licence table code such as CC_BY_4_0, or an SPDX licence IRI).
license = "CC_BY_4_0"

# Whom portals and partners ask about the catalogue (and about each resource that names no contact of its own).
[catalogue.contact_point]
name = "Sample City Digital Twin team"
email = "digital-twin@city.example"

# A partner connector this city trusts:
# [[partners]]
# id = "https://other-city.example/twinport"
# url = "https://twinport.other-city.example"
# jwks_url = "https://twinport.other-city.example/.well-known/jwks.json"
# claims = {{ membership = "ldt-network", region = "NL" }}
{partners}"#
    );
    std::fs::write(dir.join("twinport.toml"), config).context("writing twinport.toml")?;
    for (name, body) in sample::POLICIES {
        std::fs::write(dir.join("catalogue/policies").join(name), body)?;
    }
    for (name, body) in sample::RESOURCES {
        std::fs::write(
            dir.join("catalogue/resources").join(name),
            body.replace("{backend}", backend),
        )?;
    }
    Ok(key)
}

/// The local data endpoint goes next to the management API: same interface, the following port (or an
/// ephemeral port when the management API uses one, as tests and the demo do).
fn local_listen_beside(management_listen: &str) -> String {
    match management_listen.parse::<std::net::SocketAddr>() {
        Ok(mut addr) => {
            if addr.port() != 0 {
                addr.set_port(addr.port().wrapping_add(1));
            }
            addr.to_string()
        }
        Err(_) => "127.0.0.1:8082".into(),
    }
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
