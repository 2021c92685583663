//! Reads the PEM files the `[tls]` keys point at. Every error names the config key, so a bad file stops start-up
//! (or a reload) with a message saying which setting to fix.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::RootCertStore;

use super::TlsError;

/// All certificates in a PEM file, in order (the end-entity certificate first for a chain).
pub fn certificates(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(key, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::file(key, path, format!("not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::file(key, path, "holds no CERTIFICATE block"));
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(key: &str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(key, path)?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|e| TlsError::file(key, path, format!("holds no usable private key: {e}")))
}

/// Adds every certificate of a CA bundle to `roots`; each must be usable as a trust anchor.
pub fn add_roots(roots: &mut RootCertStore, key: &str, path: &Path) -> Result<(), TlsError> {
    for cert in certificates(key, path)? {
        roots
            .add(cert)
            .map_err(|e| TlsError::file(key, path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(())
}

fn read(key: &str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::file(key, path, format!("cannot read: {e}")))
}
