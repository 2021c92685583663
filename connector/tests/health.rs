//! `twinport health`, the container HEALTHCHECK: ready over plain HTTP and over HTTPS (which a shell probe cannot
//! speak), not ready once the connector is gone, and a config it cannot read told apart from a connector that is down.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, twinport};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The same environment for `serve` and `health`, as in one container.
fn with_env(mut command: Command, env: &[(&str, String)]) -> Command {
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

fn health(config: &Path, env: &[(&str, String)]) -> (i32, String) {
    let mut command = with_env(twinport(), env);
    let out = command
        .args(["health", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn serve_until_healthy(config: &Path, env: &[(&str, String)]) -> Killed {
    let mut command = with_env(twinport(), env);
    let child = Killed(
        command
            .args(["serve", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, said) = health(config, env);
        if code == 0 {
            assert!(said.starts_with("ready: "), "{said}");
            return child;
        }
        assert_eq!(code, 1, "{said}");
        assert!(Instant::now() < deadline, "never healthy: {said}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn init(city: &Path) {
    let out = twinport().arg("init").arg(city).output().unwrap();
    assert!(out.status.success(), "{out:?}");
}

fn listeners() -> Vec<(&'static str, String)> {
    vec![
        ("TWINPORT_LISTEN", format!("127.0.0.1:{}", free_port())),
        (
            "TWINPORT_MANAGEMENT_LISTEN",
            format!("0.0.0.0:{}", free_port()),
        ),
        (
            "TWINPORT_LOCAL_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        ),
    ]
}

#[test]
fn health_says_ready_over_http_and_not_ready_once_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    init(&city);
    let config = city.join("twinport.toml");
    let env = listeners();
    let (code, said) = health(&config, &env);
    assert_eq!(code, 1, "nothing runs yet: {said}");
    assert!(said.starts_with("not ready: "), "{said}");

    let child = serve_until_healthy(&config, &env);
    drop(child);
    let (code, said) = health(&config, &env);
    assert_eq!(code, 1, "{said}");

    let (code, said) = health(&dir.path().join("missing.toml"), &env);
    assert_eq!(
        code, 2,
        "an unreadable config is not a connector that is down: {said}"
    );
}

#[test]
fn health_speaks_https_when_the_config_has_tls() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let out = twinport()
        .args(["certs", "dev"])
        .arg(&pki)
        .args(["--name", "city-a"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let city = dir.path().join("city");
    init(&city);
    let config = city.join("twinport.toml");
    let mut env = listeners();
    env.push((
        "TWINPORT_TLS_CERT",
        pki.join("city-a.pem").display().to_string(),
    ));
    env.push((
        "TWINPORT_TLS_KEY",
        pki.join("city-a-key.pem").display().to_string(),
    ));
    env.push(("TWINPORT_TLS_CA", pki.join("ca.pem").display().to_string()));
    let _child = serve_until_healthy(&config, &env);
    let (code, said) = health(&config, &env);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("https://127.0.0.1:"), "{said}");
}

/// The image's HEALTHCHECK (deploy/Dockerfile), run as the container would: its exec form with the image's
/// `TWINPORT_CONFIG`, here pointing at a connector this test starts.
#[test]
fn the_images_healthcheck_passes_on_a_ready_connector_and_fails_without_one() {
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/Dockerfile"))
            .unwrap()
            .replace("\\\n", " ");
    let line = dockerfile
        .lines()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    let exec: Vec<String> =
        serde_json::from_str(line[line.find("CMD").unwrap() + 3..].trim()).unwrap();
    assert_eq!(exec[0], "twinport", "the image's own binary");
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    init(&city);
    let mut env = listeners();
    env.push((
        "TWINPORT_CONFIG",
        city.join("twinport.toml").display().to_string(),
    ));
    let check = |env: &[(&str, String)]| {
        with_env(twinport(), env)
            .args(&exec[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    };
    let child = serve_until_healthy(&city.join("twinport.toml"), &env);
    assert!(check(&env), "HEALTHCHECK failed on a ready connector");
    drop(child);
    assert!(!check(&env), "HEALTHCHECK passed with nothing listening");
}
