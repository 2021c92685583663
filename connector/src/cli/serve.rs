//! `twinport serve`: load and validate the config, start, and stop cleanly on SIGTERM or Ctrl-C.

use std::path::Path;

use anyhow::Context;

use crate::config::Config;

pub async fn run(path: &Path) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    crate::telemetry::init(config.log_format);
    let running = crate::app::start(config)
        .await
        .context("twinport did not start")?;
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
