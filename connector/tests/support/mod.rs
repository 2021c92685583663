//! What the tests that run the `twinport` binary share: the command, free ports, a started `serve`, and a
//! client small enough to need no crate.
#![allow(dead_code)] // each test binary uses some of these

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn twinport() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twinport"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn serve(dir: &Path, dsp: u16, mgmt: u16) -> Child {
    let child = twinport()
        .args(["serve", "--config"])
        .arg(dir.join("twinport.toml"))
        .env("TWINPORT_LISTEN", format!("127.0.0.1:{dsp}"))
        .env("TWINPORT_MANAGEMENT_LISTEN", format!("127.0.0.1:{mgmt}"))
        .env(
            "TWINPORT_LOCAL_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(dsp, "GET", "/readyz", None, "").map(|(s, _)| s) != Ok(200) {
        assert!(
            Instant::now() < deadline,
            "twinport serve did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// A minimal HTTP/1.1 request, so the test needs no client crate: (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, String), String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let status = out
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or("no status line")?;
    Ok((status, out))
}
