//! `twinport certs dev DIR`: a development PKI for running connectors over HTTPS with mutual TLS on one machine or
//! in tests. One CA, and per connector one certificate valid as server and as client (names `localhost`,
//! `127.0.0.1`, `::1` and the connector's name). Never for production: see certs/README.md.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use crate::config::{CertKeyFiles, PartnerTls, TlsConfig};
use crate::tls::Fingerprint;

/// How long development certificates are valid: long enough for a project, short enough to be noticed.
const CA_VALIDITY: Duration = Duration::days(5 * 365);
const LEAF_VALIDITY: Duration = Duration::days(2 * 365);

/// What `certs dev` wrote.
#[derive(Debug, Clone)]
pub struct DevPki {
    pub ca: PathBuf,
    pub ca_key: PathBuf,
    pub connectors: Vec<DevCert>,
}

/// One connector's certificate and key files.
#[derive(Debug, Clone)]
pub struct DevCert {
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub fingerprint: Fingerprint,
}

impl DevPki {
    pub fn connector(&self, name: &str) -> Option<&DevCert> {
        self.connectors.iter().find(|c| c.name == name)
    }

    /// The `[tls]` table for connector `name`: its certificate, the development CA, and mutual TLS if asked.
    pub fn tls_toml(&self, name: &str, mutual: bool) -> Option<String> {
        let c = self.connector(name)?;
        Some(format!(
            "\n[tls]\ncert = {}\nkey = {}\nca = {}\nmutual = {mutual}\n",
            toml_path(&c.cert),
            toml_path(&c.key),
            toml_path(&self.ca)
        ))
    }
}

/// A `[[partners]]` entry as `twinport pair` writes it, with the partner's certificate pinned by fingerprint.
pub fn pinned_partner_toml(
    id: &str,
    jwks: &twinport_contracts::identity::Jwks,
    fingerprint: Fingerprint,
) -> anyhow::Result<String> {
    let mut doc: toml::Table = super::pair::partner_toml(id, jwks)?.parse()?;
    let entries = doc
        .get_mut("partners")
        .and_then(|p| p.as_array_mut())
        .context("partner entry")?;
    for entry in entries.iter_mut().filter_map(|e| e.as_table_mut()) {
        entry.insert(
            "tls_fingerprint".into(),
            toml::Value::String(fingerprint.to_string()),
        );
    }
    Ok(format!("\n{}", toml::to_string(&doc)?))
}

impl DevPki {
    /// The TLS settings of connector `own`: its certificate, the development CA, and each partner (participant
    /// id, name in this PKI) pinned by fingerprint; the same as [`DevPki::tls_toml`] plus pins, for code that
    /// builds a [`Config`](crate::config::Config) directly.
    pub fn tls_config(
        &self,
        own: &str,
        partners: &[(&str, &str)],
        mutual: bool,
    ) -> anyhow::Result<TlsConfig> {
        let c = self
            .connector(own)
            .with_context(|| format!("no certificate for {own}"))?;
        let files = CertKeyFiles {
            cert: c.cert.clone(),
            key: c.key.clone(),
            cert_key: "tls.cert",
            key_key: "tls.key",
        };
        let mut pins = Vec::new();
        for (i, (id, name)) in partners.iter().enumerate() {
            let partner = self
                .connector(name)
                .with_context(|| format!("no certificate for {name}"))?;
            pins.push(PartnerTls {
                partner: id.to_string(),
                key: format!("partners[{i}]"),
                fingerprint: Some(partner.fingerprint),
                ca: None,
            });
        }
        Ok(TlsConfig {
            server: Some(files.clone()),
            client: Some(files),
            ca: Some(self.ca.clone()),
            backend_ca: None,
            mutual,
            system_roots: false,
            partners: pins,
        })
    }
}

fn toml_path(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

/// Writes the CA and one certificate per name into `dir` (created if needed). Existing files are kept and the
/// command fails, unless `force`.
pub fn generate(dir: &Path, names: &[String], force: bool) -> anyhow::Result<DevPki> {
    if names.is_empty() {
        bail!("give at least one --name");
    }
    for name in names {
        let valid = !name.is_empty()
            && name.len() <= 63
            && !name.starts_with('-')
            && !name.ends_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            bail!("--name {name:?}: use a DNS label (lower-case letters, digits and '-'), e.g. city-a");
        }
    }
    let ca_path = dir.join("ca.pem");
    let ca_key_path = dir.join("ca-key.pem");
    let mut outputs = vec![ca_path.clone(), ca_key_path.clone()];
    for name in names {
        outputs.push(dir.join(format!("{name}.pem")));
        outputs.push(dir.join(format!("{name}-key.pem")));
    }
    if !force {
        if let Some(existing) = outputs.iter().find(|p| p.exists()) {
            bail!(
                "{} already exists; use --force to replace the development PKI in {}",
                existing.display(),
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let now = OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate().context("cannot generate the CA key")?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = dn("Twinport development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - Duration::hours(1);
    ca_params.not_after = now + CA_VALIDITY;
    let ca = ca_params.self_signed(&ca_key)?;
    write(&ca_path, &ca.pem(), false)?;
    write(&ca_key_path, &ca_key.serialize_pem(), true)?;

    let mut connectors = Vec::new();
    for name in names {
        let key = KeyPair::generate().context("cannot generate a connector key")?;
        let sans = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
            name.clone(),
        ];
        let mut params = CertificateParams::new(sans)?;
        params.distinguished_name = dn(name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - Duration::hours(1);
        params.not_after = now + LEAF_VALIDITY;
        let cert = params.signed_by(&key, &ca, &ca_key)?;
        let cert_path = dir.join(format!("{name}.pem"));
        let key_path = dir.join(format!("{name}-key.pem"));
        write(&cert_path, &cert.pem(), false)?;
        write(&key_path, &key.serialize_pem(), true)?;
        connectors.push(DevCert {
            name: name.clone(),
            cert: cert_path,
            key: key_path,
            fingerprint: Fingerprint::of(cert.der()),
        });
    }
    Ok(DevPki {
        ca: ca_path,
        ca_key: ca_key_path,
        connectors,
    })
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Twinport development");
    dn.push(DnType::CommonName, common_name);
    dn
}

fn write(path: &Path, text: &str, secret: bool) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    use std::io::Write;
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The command: generate, then print the files, fingerprints and the config to use.
pub fn run(dir: &Path, names: &[String], force: bool) -> anyhow::Result<()> {
    let pki = generate(dir, names, force)?;
    println!(
        "Development PKI written to {} (not for production):",
        dir.display()
    );
    println!("  CA certificate  {}", pki.ca.display());
    println!(
        "  CA key          {} (keep it private; only needed to issue more)",
        pki.ca_key.display()
    );
    for c in &pki.connectors {
        println!(
            "  {:<15} {} + {}",
            c.name,
            c.cert.display(),
            c.key.display()
        );
        println!("  {:<15} SHA-256 {}", "", c.fingerprint.colon_hex());
    }
    for c in &pki.connectors {
        println!("\n# twinport.toml of {}:", c.name);
        if let Some(tls) = pki.tls_toml(&c.name, true) {
            print!("{}", tls.trim_start());
        }
        for other in pki.connectors.iter().filter(|o| o.name != c.name) {
            println!(
                "# in the [[partners]] entry of {}:\n# tls_fingerprint = \"{}\"",
                other.name, other.fingerprint
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;

    #[test]
    fn writes_a_ca_and_a_certificate_per_name_and_keeps_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["city-a".to_string(), "city-b".to_string()];
        let pki = generate(dir.path(), &names, false).unwrap();
        for file in [
            "ca.pem",
            "ca-key.pem",
            "city-a.pem",
            "city-a-key.pem",
            "city-b-key.pem",
        ] {
            assert!(dir.path().join(file).is_file(), "{file}");
        }
        let a = pki.connector("city-a").unwrap();
        let der = std::fs::read(&a.cert).unwrap();
        let der = rustls::pki_types::CertificateDer::from_pem_slice(&der).unwrap();
        assert_eq!(Fingerprint::of(&der), a.fingerprint);
        assert_ne!(a.fingerprint, pki.connector("city-b").unwrap().fingerprint);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&a.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key readable by others");
        }

        let before = std::fs::read(&a.cert).unwrap();
        let err = generate(dir.path(), &names, false).unwrap_err().to_string();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&a.cert).unwrap(), before);
        let again = generate(dir.path(), &names, true).unwrap();
        assert_ne!(
            again.connector("city-a").unwrap().fingerprint,
            a.fingerprint
        );
    }

    #[test]
    fn names_must_be_dns_labels() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "City A", "../x", "-a"] {
            assert!(
                generate(dir.path(), &[bad.to_string()], false).is_err(),
                "{bad}"
            );
        }
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
