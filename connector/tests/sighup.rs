//! SIGHUP is how operators ask a running connector to reload; a connector without `[tls]` used to die of it (the
//! signal's default action: exit 129, nothing logged) because nothing listened for it. Here the real binary gets
//! the real signal, with and without TLS: it keeps serving, and reloads its catalogue files, its policy files (a
//! bad one keeps the version in force) and the config file's partners; a broken config file changes nothing.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{free_port, http, serve, twinport};

const PARKING: &str = "urn:ldt:sample-city:parking";
const CITY_C: &str = "https://city-c.example/twinport";

fn hup(child: &Child) {
    let sent = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

fn token(city: &Path) -> String {
    let text = std::fs::read_to_string(city.join("twinport.toml")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("management_token = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("init writes a management token")
        .to_string()
}

/// Waits (a reload runs in the background) until `check` holds, or fails saying `what`.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "after SIGHUP: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn parking_file(city: &Path) -> std::path::PathBuf {
    city.join("catalogue/resources/parking.json")
}

fn write_parking(city: &Path) {
    let resource = serde_json::json!({"id": PARKING, "kind": "dataset", "stage": "raw",
        "title": "Parking occupancy", "description": "Free places per car park, every 5 minutes.",
        "distributions": [{"format": "application/json", "backend": "http://127.0.0.1:9/parking"}],
        "offers": [{"policy": "partner-use"}]});
    std::fs::write(parking_file(city), resource.to_string()).unwrap();
}

fn city_c_partner() -> String {
    let key = twinport_contracts::identity::SigningKey::generate(
        twinport_contracts::identity::KeyAlgorithm::EdDsa,
    )
    .unwrap();
    twinport::cli::pair::partner_toml(CITY_C, &key.jwks()).unwrap()
}

fn body(answer: &str) -> Value {
    let json = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    // Answers may be chunked: the JSON document is the line that parses.
    json.lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null)
}

#[test]
fn sighup_reloads_a_connector_without_tls_and_a_broken_config_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    let out = twinport().args(["init"]).arg(&city).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = token(&city);
    let (dsp, mgmt) = (free_port(), free_port());
    let mut child = serve(&city, dsp, mgmt);
    let get = |path: &str| http(mgmt, "GET", path, Some(&token), "").unwrap();

    // Nothing to change: the connector keeps serving (it used to die of the signal).
    for _ in 0..2 {
        hup(&child);
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            child.try_wait().unwrap().is_none(),
            "the connector ended on SIGHUP"
        );
        assert_eq!(
            http(dsp, "GET", "/readyz", None, "").map(|(s, _)| s),
            Ok(200)
        );
    }

    // A new resource file, a policy file broken by a misspelt key, a partner added to the config file.
    let (_, policy) = get("/api/v1/policies/partner-use");
    let version = body(&policy)["version"].clone();
    assert_eq!(version, 1);
    write_parking(&city);
    std::fs::write(
        city.join("catalogue/policies/partner-use.json"),
        r#"{"permission": [{"action": "use", "constrant": []}]}"#,
    )
    .unwrap();
    let config = city.join("twinport.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{original}{}", city_c_partner())).unwrap();
    hup(&child);
    let resource = format!("/api/v1/resources/{}", PARKING.replace(':', "%3A"));
    eventually("the new resource is served", || get(&resource).0 == 200);
    eventually("the partner added to the file is trusted", || {
        body(&get("/api/v1/partners").1)
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p["id"] == CITY_C && p["source"] == "file"))
    });
    let (_, policy) = get("/api/v1/policies/partner-use");
    assert_eq!(
        body(&policy)["version"],
        version,
        "the bad policy file keeps the version in force"
    );

    // A broken config file: nothing changes, not even the catalogue, and the connector keeps serving.
    std::fs::remove_file(parking_file(&city)).unwrap();
    std::fs::write(&config, format!("{original}\nlisten = [not toml")).unwrap();
    hup(&child);
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none());
    assert_eq!(
        get(&resource).0,
        200,
        "nothing reloaded from a broken config"
    );
    // Fixed again (without C): the removed resource and partner go.
    std::fs::write(&config, &original).unwrap();
    hup(&child);
    eventually("the removed resource is gone", || get(&resource).0 == 404);
    let partners = body(&get("/api/v1/partners").1);
    assert!(
        partners
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != CITY_C),
        "{partners}"
    );
    child.kill().unwrap();
    let _ = child.wait();
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sighup_reloads_a_connector_with_tls() {
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
    let out = twinport().args(["init"]).arg(&city).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = token(&city);
    let mgmt = free_port();
    let child = Killed(
        twinport()
            .args(["serve", "--config"])
            .arg(city.join("twinport.toml"))
            .env("TWINPORT_LISTEN", format!("127.0.0.1:{}", free_port()))
            .env("TWINPORT_MANAGEMENT_LISTEN", format!("127.0.0.1:{mgmt}"))
            .env(
                "TWINPORT_LOCAL_LISTEN",
                format!("127.0.0.1:{}", free_port()),
            )
            .env("TWINPORT_TLS_CERT", pki.join("city-a.pem"))
            .env("TWINPORT_TLS_KEY", pki.join("city-a-key.pem"))
            .env("TWINPORT_TLS_CA", pki.join("ca.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ca = std::fs::read(pki.join("ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let resource = format!(
        "https://127.0.0.1:{mgmt}/api/v1/resources/{}",
        PARKING.replace(':', "%3A")
    );
    let status = |url: String| {
        let client = client.clone();
        let token = token.clone();
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .ok()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(format!("https://127.0.0.1:{mgmt}/healthz")).await != Some(200) {
        assert!(
            Instant::now() < deadline,
            "twinport serve did not come up over HTTPS"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status(resource.clone()).await, Some(404));
    write_parking(&city);
    hup(&child.0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(resource.clone()).await != Some(200) {
        assert!(
            Instant::now() < deadline,
            "the new resource is not served after SIGHUP"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut child = child;
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "still running over HTTPS"
    );
}
