//! Our own certificate and key, swappable while the connector runs: every listener and the outgoing client ask
//! this store on each handshake, so a reload (SIGHUP) takes effect for the next connection without a restart.

use std::sync::{Arc, RwLock};

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;

use super::{files, Fingerprint, TlsError};
use crate::config::CertKeyFiles;

/// A certificate chain and key loaded from files, reloadable in place.
#[derive(Debug)]
pub struct CertStore {
    files: CertKeyFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertStore {
    pub fn load(
        files: &CertKeyFiles,
        provider: Arc<CryptoProvider>,
    ) -> Result<CertStore, TlsError> {
        let current = load_key(files, &provider)?;
        Ok(CertStore {
            files: files.clone(),
            provider,
            current: RwLock::new(Arc::new(current)),
        })
    }

    /// Reads the files again. On any error the certificate in use stays, so a half-written renewal cannot take
    /// the connector off the air.
    pub fn reload(&self) -> Result<Fingerprint, TlsError> {
        let fresh = Arc::new(load_key(&self.files, &self.provider)?);
        let fingerprint = leaf_fingerprint(&fresh);
        match self.current.write() {
            Ok(mut current) => *current = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(fingerprint)
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Fingerprint of the end-entity certificate served now.
    pub fn fingerprint(&self) -> Fingerprint {
        leaf_fingerprint(&self.current())
    }
}

fn leaf_fingerprint(key: &CertifiedKey) -> Fingerprint {
    Fingerprint::of(key.cert.first().map(|c| c.as_ref()).unwrap_or_default())
}

fn load_key(files: &CertKeyFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = files::certificates(files.cert_key, &files.cert)?;
    let key = files::private_key(files.key_key, &files.key)?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        TlsError::file(
            files.key_key,
            &files.key,
            format!(
                "does not fit the certificate in {}: {e}",
                files.cert.display()
            ),
        )
    })
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl ResolvesClientCert for CertStore {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // rustls itself sends no certificate when the server accepts none of our key's signature schemes.
        Some(self.current())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
