//! The `twinport` binary as an operator meets it: help and version, `init` then `serve`, a clean stop on SIGTERM,
//! and a bad config refused with the key named before any port is bound.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn twinport() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twinport"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn version_and_help_on_every_subcommand() {
    let out = twinport().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("twinport "));
    for sub in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["init", "--help"],
        vec!["demo", "--help"],
    ] {
        let out = twinport().args(&sub).output().unwrap();
        assert!(out.status.success(), "{sub:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{sub:?}"
        );
    }
}

#[test]
fn init_then_serve_then_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("city");
    let out = twinport().args(["init"]).arg(&target).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(target.join("twinport.toml").is_file() && target.join("signing-key.pem").is_file());

    let again = twinport().args(["init"]).arg(&target).output().unwrap();
    assert!(
        !again.status.success(),
        "init must not overwrite a connector"
    );

    let (dsp, mgmt) = (free_port(), free_port());
    let mut child = twinport()
        .args(["serve", "--config"])
        .arg(target.join("twinport.toml"))
        .env("TWINPORT_LISTEN", format!("127.0.0.1:{dsp}"))
        .env("TWINPORT_MANAGEMENT_LISTEN", format!("127.0.0.1:{mgmt}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        if let Ok(body) = http_get(dsp, "/readyz") {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "twinport serve did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(ready.contains("\"ready\""), "{ready}");
    let version = http_get(dsp, "/.well-known/dspace-version").unwrap();
    assert!(version.contains("2025-1"));
    assert!(
        target.join("data/twinport.db").is_file(),
        "SQLite file created on first start"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "twinport did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "clean shutdown exits 0, got {exit:?}");
}

#[test]
fn bad_config_is_refused_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twinport.toml");
    std::fs::write(&path, "participant_id = \"city-a\"\nsigning_key = \"k.pem\"\nmanagement_token = \"0123456789abcdef\"\n").unwrap();
    let out = twinport()
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("participant_id: must be an absolute URI"),
        "{stderr}"
    );

    let out = twinport()
        .args(["serve"])
        .env("TWINPORT_CONFIG", dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));
}

/// A minimal HTTP/1.1 GET, so the test needs no client crate.
fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    if out.starts_with("HTTP/1.1 200") {
        Ok(out)
    } else {
        Err(std::io::Error::other(out))
    }
}

#[test]
fn audit_verify_with_a_wrong_storage_url_creates_no_database_and_raises_no_false_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    let out = twinport().args(["init"]).arg(&city).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let missing = dir.path().join("elsewhere/twinport.db");
    for command in [
        &["audit", "verify", "--config"][..],
        &["audit", "query", "--config"][..],
    ] {
        let out = twinport()
            .args(command)
            .arg(city.join("twinport.toml"))
            .env(
                "TWINPORT_STORAGE_URL",
                format!("sqlite://{}", missing.display()),
            )
            .output()
            .unwrap();
        assert!(!out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no database at"), "{stderr}");
        assert!(
            !missing.exists(),
            "a read-only command created {}",
            missing.display()
        );
        assert!(!missing.parent().unwrap().exists());
    }
}
