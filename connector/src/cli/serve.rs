//! `twinport serve`: load and validate the config, start, and stop cleanly on SIGTERM or Ctrl-C.

use std::path::Path;

use anyhow::Context;

use crate::config::Config;

pub async fn run(path: &Path) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    crate::telemetry::init(config.log_format);
    // Registered before anything listens: a SIGTERM that arrives the moment /readyz first answers must stop the
    // connector cleanly, not kill it with the signal's default action.
    let stop = ShutdownSignal::register().context("cannot listen for SIGTERM")?;
    let running = crate::app::start_from_file(config, path.to_path_buf())
        .await
        .context("twinport did not start")?;
    stop.received().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

/// SIGTERM and Ctrl-C (SIGINT), listened for from the moment it is made.
struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn register() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    #[cfg(unix)]
    async fn received(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {},
            _ = self.interrupt.recv() => {},
        }
    }

    #[cfg(not(unix))]
    async fn received(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
