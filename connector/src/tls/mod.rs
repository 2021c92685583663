//! Transport security with rustls: HTTPS on every listener from certificate and key files (reloaded on SIGHUP),
//! optional mutual TLS on the public (DSP and data plane) listener with each partner's certificate matched to the
//! partner its token names, and the outgoing client that presents our certificate and trusts partners' CAs or
//! pinned certificates. Without a `[tls]` certificate everything stays plain HTTP, for development.

mod cert_store;
mod files;
mod listener;
mod peer;
mod reload;
mod verifiers;

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::NoClientAuth;
use rustls::{ClientConfig, ServerConfig};

pub use crate::config::{Fingerprint, FingerprintError};
pub use cert_store::CertStore;
pub use listener::TlsListener;
pub use peer::{PeerCheck, PeerError, TlsPeer};
pub use reload::{reload_and_log, TlsReload};

use crate::config::TlsConfig;
use verifiers::{ClientVerifier, ServerVerifier, Trust};

/// Why TLS could not be set up; names the config key of the offending file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key}: {path}: {message}")]
    File {
        key: String,
        path: String,
        message: String,
    },
    #[error("tls: {0}")]
    Setup(String),
}

impl TlsError {
    fn file(key: &str, path: &Path, message: impl Into<String>) -> TlsError {
        TlsError::File {
            key: key.to_string(),
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// Which listener a server configuration is for: only the public one asks partners for certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerRole {
    /// DSP and data plane, reached by partner connectors.
    Public,
    /// Management and other listeners for people and local systems.
    Internal,
}

/// The loaded transport security of a connector.
#[derive(Debug)]
pub struct Tls {
    provider: Arc<CryptoProvider>,
    server: Option<Served>,
    client_identity: Option<Arc<CertStore>>,
    peer_check: Option<PeerCheck>,
    client: ClientConfig,
    backends: ClientConfig,
}

#[derive(Debug)]
struct Served {
    store: Arc<CertStore>,
    public: Arc<ServerConfig>,
    internal: Arc<ServerConfig>,
}

impl Tls {
    /// Reads every file the config names and builds the server and client configurations.
    pub fn load(config: &TlsConfig) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let trust = trust(config)?;
        let server = match &config.server {
            None => None,
            Some(files) => {
                let store = Arc::new(CertStore::load(files, provider.clone())?);
                let internal = server_config(&provider, store.clone(), None)?;
                let public = if config.mutual {
                    let verifier = ClientVerifier::new(trust.clone(), provider.clone())?;
                    server_config(&provider, store.clone(), Some(Arc::new(verifier)))?
                } else {
                    internal.clone()
                };
                Some(Served {
                    store,
                    public,
                    internal,
                })
            }
        };
        // One store when we present the server certificate as a client too, so one reload covers both.
        let same_files = |c: &crate::config::CertKeyFiles| {
            config
                .server
                .as_ref()
                .is_some_and(|s| s.cert == c.cert && s.key == c.key)
        };
        let client_identity = match (&config.client, &server) {
            (Some(c), Some(s)) if same_files(c) => Some(s.store.clone()),
            (Some(c), _) => Some(Arc::new(CertStore::load(c, provider.clone())?)),
            (None, _) => None,
        };
        let peer_check = if config.mutual {
            Some(PeerCheck::new(&config.partners, &provider)?)
        } else {
            None
        };
        let mut outgoing = trust;
        if config.system_roots {
            outgoing
                .roots
                .extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        let client = client_config(&provider, outgoing, client_identity.clone())?;
        let backends = backend_config(&provider, config)?;
        Ok(Tls {
            provider,
            server,
            client_identity,
            peer_check,
            client,
            backends,
        })
    }

    /// The server configuration for a listener, or `None` to serve plain HTTP.
    pub fn server_config(&self, role: ListenerRole) -> Option<Arc<ServerConfig>> {
        self.server.as_ref().map(|s| match role {
            ListenerRole::Public => s.public.clone(),
            ListenerRole::Internal => s.internal.clone(),
        })
    }

    /// `https` when the listeners serve TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.server.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The partner-certificate check of the mutual-TLS listener; `None` when mutual TLS is off.
    pub fn peer_check(&self) -> Option<&PeerCheck> {
        self.peer_check.as_ref()
    }

    /// Whether there are certificate files to reload (served, or presented to partners).
    pub fn has_certificates(&self) -> bool {
        self.server.is_some() || self.client_identity.is_some()
    }

    /// Fingerprint of the certificate the listeners serve now.
    pub fn served_fingerprint(&self) -> Option<Fingerprint> {
        self.server.as_ref().map(|s| s.store.fingerprint())
    }

    /// Reads our certificate and key files again (server and client identity); on error the old ones stay.
    /// Returns the fingerprint now served, if any.
    pub fn reload(&self) -> Result<Option<Fingerprint>, TlsError> {
        let served = match &self.server {
            Some(s) => Some(s.store.reload()?),
            None => None,
        };
        if let Some(client) = &self.client_identity {
            let shared = self
                .server
                .as_ref()
                .is_some_and(|s| Arc::ptr_eq(&s.store, client));
            if !shared {
                client.reload()?;
            }
        }
        Ok(served)
    }

    /// An HTTP client builder using our outgoing TLS settings.
    pub fn http_client(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder.use_preconfigured_tls(self.client.clone())
    }

    /// What the data plane's client verifies https backends with: `backend_ca` and, unless `system_roots` is off,
    /// the public roots. Partners' CAs and pins are not trusted for backends, nor is our certificate presented.
    pub fn backend_client_config(&self) -> ClientConfig {
        self.backends.clone()
    }

    pub fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }
}

/// The CAs and pins configured for partners: `[tls] ca` and every partner's `tls_ca` and `tls_fingerprint`.
fn trust(config: &TlsConfig) -> Result<Trust, TlsError> {
    let mut trust = Trust::default();
    if let Some(ca) = &config.ca {
        files::add_roots(&mut trust.roots, "tls.ca", ca)?;
    }
    for p in &config.partners {
        if let Some(ca) = &p.ca {
            files::add_roots(&mut trust.roots, &format!("{}.tls_ca", p.key), ca)?;
        }
        if let Some(pin) = p.fingerprint {
            trust.pins.insert(pin);
        }
    }
    Ok(trust)
}

/// The client configuration for backends; its ALPN list is left empty for the HTTP client to fill in.
fn backend_config(
    provider: &Arc<CryptoProvider>,
    config: &TlsConfig,
) -> Result<ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = &config.backend_ca {
        files::add_roots(&mut roots, "tls.backend_ca", ca)?;
    }
    if config.system_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    Ok(ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn server_config(
    provider: &Arc<CryptoProvider>,
    store: Arc<CertStore>,
    clients: Option<Arc<ClientVerifier>>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let builder = match clients {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_client_cert_verifier(Arc::new(NoClientAuth)),
    };
    let mut config = builder.with_cert_resolver(store);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn client_config(
    provider: &Arc<CryptoProvider>,
    trust: Trust,
    identity: Option<Arc<CertStore>>,
) -> Result<ClientConfig, TlsError> {
    let verifier = ServerVerifier::new(trust, provider.clone())?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(store) => builder.with_client_cert_resolver(store),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
