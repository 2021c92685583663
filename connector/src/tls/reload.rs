//! Certificate renewal without a restart: on SIGHUP the connector reads its certificate and key files again.
//! A failed reload is logged and the certificate in use stays.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Tls;

/// Reloads `tls` on every SIGHUP until `stopped` turns true. Spawned for every connector, with TLS or without:
/// while no handler is installed, SIGHUP's default action ends the process (exit 129, nothing logged).
pub fn spawn_reload_on_sighup(tls: Arc<Tls>, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut hangups = match signal(SignalKind::hangup()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGHUP: certificates reload only on restart");
                    return;
                }
            };
            loop {
                tokio::select! {
                    _ = stopped.wait_for(|s| *s) => return,
                    got = hangups.recv() => {
                        if got.is_none() {
                            return;
                        }
                        reload_and_log(&tls);
                    }
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = (tls, stopped.wait_for(|s| *s).await);
        }
    })
}

/// Reloads and says how it went; the result is for callers that report it elsewhere.
pub fn reload_and_log(tls: &Tls) -> bool {
    if !tls.has_certificates() {
        tracing::info!("SIGHUP received: no [tls] certificates to reload");
        return true;
    }
    match tls.reload() {
        Ok(Some(fingerprint)) => {
            tracing::info!(%fingerprint, "TLS certificate reloaded");
            true
        }
        Ok(None) => true,
        Err(e) => {
            tracing::error!(error = %e, "TLS certificate reload failed; still serving the previous certificate");
            false
        }
    }
}
