//! City A as a process of its own (`twinport serve`, this very binary), with city B in the calling process: for
//! measurements that must not mix the two connectors, above all the provider's memory while it serves. Set up as
//! [`super::pair::Pair`] sets up two cities (`twinport init`'s files, each trusting the other's inline keys), on
//! ports chosen up front since the child reports none.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::measure::Memory;
use super::nginx::free_port;
use super::pair::write_cities;
use crate::app::RunningConnector;
use crate::config::Config;
use crate::paths::DSP_PATH;
use anyhow::Context;

/// City A running as a child process, city B in this one.
pub struct ProviderProcess {
    a: ChildProcess,
    /// City A's DSP base (`http://127.0.0.1:<port>/dsp/2025-1`).
    pub dsp_base: String,
    /// City A's management API root and token.
    pub management: String,
    pub management_token: String,
    pub b: RunningConnector,
    /// City B's management API token.
    pub token_b: String,
}

impl ProviderProcess {
    /// Starts city A in front of `backend`, keeping its state at `storage` when given (SQLite in its directory
    /// otherwise), and city B here.
    pub async fn start(backend: &str, storage: Option<&str>) -> anyhow::Result<ProviderProcess> {
        let dir = std::env::temp_dir().join(format!("twinport-{}", uuid::Uuid::new_v4().simple()));
        let [dsp, management, local] = [free_port()?, free_port()?, free_port()?];
        let (dir_a, dir_b) = write_cities(
            &dir,
            backend,
            [
                &format!("127.0.0.1:{dsp}"),
                &format!("127.0.0.1:{management}"),
            ],
            Some(&format!("http://127.0.0.1:{dsp}")),
        )?;
        let management_token = Config::load(&dir_a.join("twinport.toml"))?
            .management_token
            .context("city A has no management_token")?;
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("serve")
            .arg("--config")
            .arg(dir_a.join("twinport.toml"))
            .env("TWINPORT_LOCAL_LISTEN", format!("127.0.0.1:{local}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("city-a.log"))?);
        if let Some(url) = storage {
            command.env("TWINPORT_STORAGE_URL", url);
        }
        let child = command.spawn().context("starting city A")?;
        let config_b = Config::load(&dir_b.join("twinport.toml"))?;
        let token_b = config_b
            .management_token
            .clone()
            .context("city B has no management_token")?;
        let b = crate::app::start(config_b)
            .await
            .context("starting city B")?;
        let provider = ProviderProcess {
            a: ChildProcess { child, dir },
            dsp_base: format!("http://127.0.0.1:{dsp}{DSP_PATH}"),
            management: format!("http://127.0.0.1:{management}"),
            management_token,
            b,
            token_b,
        };
        provider.wait_ready().await?;
        Ok(provider)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ready = http
                .get(format!("{}/readyz", self.management))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(self.a.dir.join("city-a.log")).unwrap_or_default();
        anyhow::bail!("city A did not become ready within 30 s:\n{log}")
    }

    /// City A's resident memory, from its /proc status.
    pub fn memory(&self) -> Memory {
        super::measure::memory_of(&format!("/proc/{}/status", self.a.child.id()))
    }

    /// Stops city B, then city A, and removes their directory.
    pub async fn stop(self) {
        self.b.stop().await;
        drop(self.a);
    }
}

/// The child process and its directory, both gone when dropped (also when setting up fails half way).
struct ChildProcess {
    child: Child,
    dir: PathBuf,
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
