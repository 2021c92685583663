//! The peer behind a TLS connection, as handlers see it, and the check that a partner's client certificate is
//! the one configured for that partner (pinned fingerprint or issued by its CA).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::ConnectInfo;
use axum::http::Extensions;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use super::verifiers::{ClientVerifier, Trust};
use super::{files, Fingerprint, TlsError};
use crate::config::PartnerTls;

/// Who is on the other end of a connection: its address and, on a mutual-TLS listener, its certificate chain
/// (end-entity first). Available to handlers as `ConnectInfo<TlsPeer>`.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    pub remote: SocketAddr,
    pub certificates: Arc<Vec<CertificateDer<'static>>>,
}

impl TlsPeer {
    /// The peer of the connection a request came in on, if it was served over TLS.
    pub fn of(extensions: &Extensions) -> Option<&TlsPeer> {
        extensions
            .get::<ConnectInfo<TlsPeer>>()
            .map(|ConnectInfo(peer)| peer)
    }

    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.certificates.first().map(|c| Fingerprint::of(c))
    }
}

/// Why a partner's certificate was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeerError {
    #[error("no client certificate on the connection")]
    NoCertificate,
    #[error("no certificate is configured for partner {0}")]
    NotConfigured(String),
    #[error("client certificate {fingerprint} does not belong to partner {partner}")]
    Mismatch {
        partner: String,
        fingerprint: Fingerprint,
    },
}

/// Per-partner certificate expectations, built once at start-up.
#[derive(Debug, Clone)]
pub struct PeerCheck {
    partners: Arc<HashMap<String, ClientVerifier>>,
}

impl PeerCheck {
    pub fn new(
        partners: &[PartnerTls],
        provider: &Arc<CryptoProvider>,
    ) -> Result<PeerCheck, TlsError> {
        let mut map = HashMap::new();
        for p in partners {
            let mut trust = Trust::default();
            if let Some(pin) = p.fingerprint {
                trust.pins.insert(pin);
            }
            if let Some(ca) = &p.ca {
                let mut roots = RootCertStore::empty();
                files::add_roots(&mut roots, &format!("{}.tls_ca", p.key), ca)?;
                trust.roots = roots;
            }
            map.insert(
                p.partner.clone(),
                ClientVerifier::new(trust, provider.clone())?,
            );
        }
        Ok(PeerCheck {
            partners: Arc::new(map),
        })
    }

    /// Accepts the connection's certificate for `partner` only if it is pinned for it or issued by its CA.
    pub fn check(&self, partner: &str, peer: Option<&TlsPeer>) -> Result<(), PeerError> {
        let chain = peer
            .map(|p| p.certificates.as_slice())
            .filter(|c| !c.is_empty())
            .ok_or(PeerError::NoCertificate)?;
        let verifier = self
            .partners
            .get(partner)
            .ok_or_else(|| PeerError::NotConfigured(partner.to_string()))?;
        if verifier.accepts(&chain[0], &chain[1..]) {
            Ok(())
        } else {
            Err(PeerError::Mismatch {
                partner: partner.to_string(),
                fingerprint: Fingerprint::of(&chain[0]),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;

    fn peer(path: &std::path::Path) -> TlsPeer {
        TlsPeer {
            remote: "127.0.0.1:1".parse().unwrap(),
            certificates: Arc::new(vec![CertificateDer::from_pem_file(path).unwrap()]),
        }
    }

    #[test]
    fn a_partner_is_recognised_by_its_pin_or_its_ca_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["a", "b"].map(String::from);
        let ours = crate::cli::certs::generate(&dir.path().join("one"), &names, false).unwrap();
        let other_ca = crate::cli::certs::generate(&dir.path().join("two"), &names, false).unwrap();
        let rules = vec![
            PartnerTls {
                partner: "by-ca".into(),
                key: "partners[0]".into(),
                fingerprint: None,
                ca: Some(ours.ca.clone()),
            },
            PartnerTls {
                partner: "by-pin".into(),
                key: "partners[1]".into(),
                fingerprint: Some(ours.connector("b").unwrap().fingerprint),
                ca: None,
            },
        ];
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let check = PeerCheck::new(&rules, &provider).unwrap();
        let a = peer(&ours.connector("a").unwrap().cert);
        let b = peer(&ours.connector("b").unwrap().cert);
        let foreign = peer(&other_ca.connector("a").unwrap().cert);

        assert_eq!(check.check("by-ca", Some(&a)), Ok(()));
        assert_eq!(check.check("by-ca", Some(&b)), Ok(()));
        assert!(matches!(
            check.check("by-ca", Some(&foreign)),
            Err(PeerError::Mismatch { .. })
        ));
        assert_eq!(check.check("by-pin", Some(&b)), Ok(()));
        assert_eq!(
            check.check("by-pin", Some(&a)),
            Err(PeerError::Mismatch {
                partner: "by-pin".into(),
                fingerprint: a.fingerprint().unwrap()
            })
        );
        assert_eq!(check.check("by-pin", None), Err(PeerError::NoCertificate));
        assert_eq!(
            check.check("stranger", Some(&a)),
            Err(PeerError::NotConfigured("stranger".into()))
        );
    }

    #[test]
    fn a_bad_partner_ca_file_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let rules = vec![PartnerTls {
            partner: "p".into(),
            key: "partners[3]".into(),
            fingerprint: None,
            ca: Some(missing),
        }];
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let e = PeerCheck::new(&rules, &provider).unwrap_err().to_string();
        assert!(e.starts_with("partners[3].tls_ca:"), "{e}");
    }
}
