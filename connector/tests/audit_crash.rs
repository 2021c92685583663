//! A connector killed with SIGKILL while management actions are being acknowledged restarts with every
//! acknowledged action in its audit log, and the log verifies (`twinport audit verify --config`); its export
//! verifies offline and an edited export is refused naming the entry.

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{free_port, http, serve, twinport};

#[test]
fn sigkill_during_appends_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("city");
    let out = twinport().args(["init"]).arg(&target).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = std::fs::read_to_string(target.join("twinport.toml")).unwrap();
    let token = toml
        .lines()
        .find_map(|l| l.strip_prefix("management_token = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("init writes a management token")
        .to_owned();

    let (dsp, mgmt) = (free_port(), free_port());
    let mut child = serve(&target, dsp, mgmt);
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (acknowledged, stop, token) = (acknowledged.clone(), stop.clone(), token.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("crash-{w}-{n}");
                    let body = format!(
                        r#"{{"id":"{id}","policy":{{"permission":[{{"action":"use"}}]}}}}"#
                    );
                    match http(mgmt, "POST", "/api/v1/policies", Some(&token), &body) {
                        Ok((201, _)) => {
                            acknowledged.lock().unwrap().insert(id);
                        }
                        // Anything but 201 was not acknowledged, so the log owes it nothing.
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    // Kill while the workers are mid-flight, once enough actions were acknowledged to make the check meaningful.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 40 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "too few actions before the kill: {}",
        acknowledged.len()
    );

    // Restarting re-verifies the stored log against its latest checkpoint before accepting anything.
    let mut child = serve(&target, dsp, mgmt);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().unwrap();

    let mut logged = HashSet::new();
    for offset in (0..).step_by(1000) {
        let out = twinport()
            .args([
                "audit",
                "query",
                "--kind",
                "management_action",
                "--limit",
                "1000",
                "--offset",
            ])
            .arg(offset.to_string())
            .arg("--config")
            .arg(target.join("twinport.toml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            let leaf: serde_json::Value =
                serde_json::from_str(e["leaf"].as_str().unwrap()).unwrap();
            if let Some(id) = leaf["details"]["change"]["policy"].as_str() {
                logged.insert(id.to_owned());
            }
        }
        if text.lines().count() < 1000 {
            break;
        }
    }
    let lost: Vec<_> = acknowledged.difference(&logged).collect();
    assert!(lost.is_empty(), "acknowledged but not logged: {lost:?}");

    let out = twinport()
        .args(["audit", "verify", "--config"])
        .arg(target.join("twinport.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));

    // The export verifies with no database; an edited copy fails, naming the entry.
    let export = dir.path().join("audit.jsonl");
    let out = twinport()
        .args(["audit", "export", "--format", "jsonl", "--config"])
        .arg(target.join("twinport.toml"))
        .arg("--out")
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = twinport()
        .args(["audit", "verify"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&export).unwrap();
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, text.replacen("policy.save", "policy.kept", 1)).unwrap();
    let out = twinport()
        .args(["audit", "verify"])
        .arg(&tampered)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: entry ") && stderr.contains("content does not match"),
        "{stderr}"
    );
}
