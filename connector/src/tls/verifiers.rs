//! Certificate verification with two ways to trust a partner: a CA that issues its certificates (checked by
//! webpki, with the name for servers), or its exact certificate pinned by SHA-256 fingerprint, which lets a city
//! use a self-signed certificate. The handshake signature is always checked, so a pinned certificate proves only
//! that the peer holds its private key.

use std::collections::HashSet;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore};
use rustls::{Error, SignatureScheme};

use super::{Fingerprint, TlsError};

/// What a peer's certificate may be trusted by.
#[derive(Debug, Clone)]
pub struct Trust {
    pub roots: RootCertStore,
    pub pins: HashSet<Fingerprint>,
}

impl Default for Trust {
    fn default() -> Trust {
        Trust {
            roots: RootCertStore::empty(),
            pins: HashSet::new(),
        }
    }
}

/// Verifies client certificates on the mutual-TLS listener: one is required, and it must be pinned or chain to a
/// trusted CA. Which partner it belongs to is checked later, once the request's token names the partner.
#[derive(Debug)]
pub struct ClientVerifier {
    ca: Option<Arc<dyn ClientCertVerifier>>,
    pins: HashSet<Fingerprint>,
    provider: Arc<CryptoProvider>,
}

impl ClientVerifier {
    pub fn new(trust: Trust, provider: Arc<CryptoProvider>) -> Result<ClientVerifier, TlsError> {
        Ok(ClientVerifier {
            ca: ca_client_verifier(trust.roots, &provider)?,
            pins: trust.pins,
            provider,
        })
    }

    /// Whether `end_entity` (with `intermediates`) is trusted by this verifier.
    pub fn accepts(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> bool {
        self.verify_client_cert(end_entity, intermediates, UnixTime::now())
            .is_ok()
    }
}

/// A webpki client verifier for `roots`, or `None` when there are no roots to trust.
pub fn ca_client_verifier(
    roots: RootCertStore,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, TlsError> {
    if roots.is_empty() {
        return Ok(None);
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map(Some)
        .map_err(|e| TlsError::Setup(format!("client certificate verifier: {e}")))
}

impl ClientCertVerifier for ClientVerifier {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    // No hints: a partner with a pinned self-signed certificate must not be told to hold it back.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        if self.pins.contains(&Fingerprint::of(end_entity)) {
            return Ok(ClientCertVerified::assertion());
        }
        match &self.ca {
            Some(ca) => ca.verify_client_cert(end_entity, intermediates, now),
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Verifies the servers we call: a pinned certificate is accepted as is; anything else must chain to a trusted
/// root and name the host we asked for.
#[derive(Debug)]
pub struct ServerVerifier {
    ca: Option<Arc<WebPkiServerVerifier>>,
    pins: HashSet<Fingerprint>,
    provider: Arc<CryptoProvider>,
}

impl ServerVerifier {
    pub fn new(trust: Trust, provider: Arc<CryptoProvider>) -> Result<ServerVerifier, TlsError> {
        let ca = if trust.roots.is_empty() {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(
                    Arc::new(trust.roots),
                    provider.clone(),
                )
                .build()
                .map_err(|e| TlsError::Setup(format!("server certificate verifier: {e}")))?,
            )
        };
        Ok(ServerVerifier {
            ca,
            pins: trust.pins,
            provider,
        })
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if self.pins.contains(&Fingerprint::of(end_entity)) {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.ca {
            Some(ca) => {
                ca.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
