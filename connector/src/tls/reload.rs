//! Certificate renewal without a restart: on SIGHUP (see `app::reload`, which listens for it) the connector reads
//! its certificate and key files again. A failed reload is logged and the certificate in use stays.

use super::Tls;

/// How a certificate reload went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsReload {
    /// No `[tls]` certificates are configured.
    NoCertificates,
    /// The files were read again; the fingerprint of the certificate served from now on.
    Reloaded(String),
    /// The files are unchanged.
    Unchanged,
    /// The files could not be used; the previous certificate is still served.
    Failed(String),
}

/// Reloads and logs one line saying how it went.
pub fn reload_and_log(tls: &Tls) -> TlsReload {
    if !tls.has_certificates() {
        tracing::info!("reload: no [tls] certificates to reload");
        return TlsReload::NoCertificates;
    }
    match tls.reload() {
        Ok(Some(fingerprint)) => {
            tracing::info!(%fingerprint, "reload: TLS certificate reloaded");
            TlsReload::Reloaded(fingerprint.to_string())
        }
        Ok(None) => {
            tracing::info!("reload: TLS certificate unchanged");
            TlsReload::Unchanged
        }
        Err(e) => {
            tracing::error!(error = %e, "reload: TLS certificate reload failed; still serving the previous certificate");
            TlsReload::Failed(e.to_string())
        }
    }
}
