//! `twinport certs dev` as an operator uses it: the files it writes are accepted by `twinport serve` (configured
//! through the `TWINPORT_TLS_*` environment), the served certificate is the one whose fingerprint it printed, an
//! existing PKI is not overwritten without `--force`, and a renewed certificate is picked up on SIGHUP.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use twinport::tls::Fingerprint;

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

fn certs_dev(dir: &Path, force: bool) -> String {
    let mut cmd = twinport();
    cmd.args(["certs", "dev"])
        .arg(dir)
        .args(["--name", "city-a", "--name", "city-b"]);
    if force {
        cmd.arg("--force");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The colon-hex fingerprint `certs dev` printed for `name`.
fn printed_fingerprint(stdout: &str, name: &str) -> Fingerprint {
    let mut lines = stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(name));
    lines.next().expect("certificate line");
    let line = lines.next().expect("fingerprint line");
    let hex = line.split("SHA-256").nth(1).expect("SHA-256 label").trim();
    Fingerprint::parse(hex).unwrap()
}

/// A client trusting the given CA files, reporting the certificate the server presented.
fn client(cas: &[Vec<u8>]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().tls_info(true);
    for ca in cas {
        builder = builder.add_root_certificate(reqwest::Certificate::from_pem(ca).unwrap());
    }
    builder.build().unwrap()
}

async fn served(client: &reqwest::Client, url: &str) -> Option<Fingerprint> {
    let r = client.get(url).send().await.ok()?;
    let info = r.extensions().get::<reqwest::tls::TlsInfo>()?;
    Some(Fingerprint::of(info.peer_certificate()?))
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn dev_certificates_are_served_and_renewed_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let stdout = certs_dev(&pki, false);
    assert!(
        stdout.contains("[tls]") && stdout.contains("tls_fingerprint"),
        "{stdout}"
    );
    let first = printed_fingerprint(&stdout, "city-a");
    assert_ne!(first, printed_fingerprint(&stdout, "city-b"));

    let again = twinport()
        .args(["certs", "dev"])
        .arg(&pki)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "certs dev must not overwrite a PKI"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    let target = dir.path().join("city");
    let out = twinport().args(["init"]).arg(&target).output().unwrap();
    assert!(out.status.success());
    let mgmt = free_port();
    let child = twinport()
        .args(["serve", "--config"])
        .arg(target.join("twinport.toml"))
        .env("TWINPORT_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("TWINPORT_MANAGEMENT_LISTEN", format!("127.0.0.1:{mgmt}"))
        .env("TWINPORT_TLS_CERT", pki.join("city-a.pem"))
        .env("TWINPORT_TLS_KEY", pki.join("city-a-key.pem"))
        .env("TWINPORT_TLS_CA", pki.join("ca.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Killed(child);
    let url = format!("https://127.0.0.1:{mgmt}/healthz");
    let old_ca = std::fs::read(pki.join("ca.pem")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let served_first = loop {
        if let Some(fp) = served(&client(std::slice::from_ref(&old_ca)), &url).await {
            break fp;
        }
        assert!(
            Instant::now() < deadline,
            "twinport serve did not come up over HTTPS"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(served_first, first);

    // Renew in place (a new CA and certificates), then SIGHUP: new connections get the new certificate.
    let stdout = certs_dev(&pki, true);
    let renewed = printed_fingerprint(&stdout, "city-a");
    assert_ne!(renewed, first);
    let new_ca = std::fs::read(pki.join("ca.pem")).unwrap();
    // A fresh client each time: a resumed TLS session would report the certificate of the first handshake.
    let both = || client(&[old_ca.clone(), new_ca.clone()]);
    assert_eq!(
        served(&both(), &url).await,
        Some(first),
        "nothing changes before the signal"
    );
    let status = Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = served(&both(), &url).await;
        if now == Some(renewed) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still serving {now:?} after SIGHUP"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
