//! Fixtures for running a partner's model through the data plane (OGC API - Processes): city A's model-or-service
//! resource served by a model server, a started pull transfer of it, the stub model server the connector's
//! benchmark uses (it keeps what reached it), and pygeoapi as a real one (`tests/python/processes_server.py`, in
//! the virtual environment `.ci/run` names in `TWINPORT_PY_PROCESSES`).

use std::io::BufRead;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

pub use twinport::cli::process_stub::{self, ProcessStub, Received};

use crate::{pull_transfer_of, City, PullTransfer, CITY_A};

/// A model-or-service resource (no offers: [`crate::offer`] adds one) whose distribution is the OGC API -
/// Processes server at `backend`, with only `processes` visible to partners.
pub fn processes_model(id: &str, backend: &str, processes: &[&str]) -> Value {
    json!({
        "id": id, "kind": "model-or-service", "title": "Partner model",
        "description": "A model of city A, run by partners through the data plane.",
        "distributions": [{"format": "application/json", "backend": backend,
                           "ogc_api_processes": {"processes": processes}}]
    })
}

/// City A offers the model at `backend` under `policy`; city B negotiates it and starts a pull transfer.
pub async fn model_transfer(
    a: &City,
    b: &City,
    id: &str,
    policy: Value,
    backend: &str,
    processes: &[&str],
) -> PullTransfer {
    pull_transfer_of(
        a,
        b,
        CITY_A,
        processes_model(id, backend, processes),
        policy,
        None,
    )
    .await
}

/// B's local endpoint for its transfer: what a city application calls.
pub fn local_endpoint(b: &City, p: &PullTransfer) -> String {
    format!(
        "{}/transfers/{}",
        b.running.local_url(),
        twinport::client::encode_segment(&p.consumer_transfer)
    )
}

/// pygeoapi serving `hello-world` (and `echo`) on loopback, stopped when dropped.
pub struct Pygeoapi {
    /// The landing page.
    pub url: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Pygeoapi {
    /// Starts pygeoapi with `python` (a virtual environment's interpreter holding it) and waits until it answers.
    pub async fn start(python: &Path) -> Pygeoapi {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = crate::open_catalogue::repository().join("tests/python/processes_server.py");
        let log = dir.path().join("server.log");
        let mut child = std::process::Command::new(python)
            .arg(script)
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("pygeoapi starts");
        let stdout = child.stdout.take().expect("stdout");
        let url = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .map(|_| line.trim().to_string())
        })
        .await
        .expect("reader")
        .ok()
        .filter(|u| u.starts_with("http://"))
        .unwrap_or_else(|| {
            panic!(
                "pygeoapi did not start; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        let server = Pygeoapi {
            url,
            child,
            _dir: dir,
        };
        let client = reqwest::Client::new();
        for _ in 0..600 {
            let up = client
                .get(format!("{}/conformance", server.url))
                .header("accept", "application/json")
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "pygeoapi did not answer at {} within 60 s; its log:\n{}",
            server.url,
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
}

impl Drop for Pygeoapi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
