//! SIGHUP is how operators ask a running connector to reload; a connector without `[tls]` used to die of it (the
//! signal's default action: exit 129, nothing logged) because nothing listened for it.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{free_port, http, serve, twinport};

#[test]
fn sighup_does_not_kill_a_connector_without_tls() {
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    let out = twinport().args(["init"]).arg(&city).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let (dsp, mgmt) = (free_port(), free_port());
    let mut child = serve(&city, dsp, mgmt);
    for _ in 0..2 {
        let sent = Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            child.try_wait().unwrap().is_none(),
            "the connector ended on SIGHUP: {:?}",
            child.try_wait()
        );
        assert_eq!(
            http(dsp, "GET", "/readyz", None, "").map(|(s, _)| s),
            Ok(200)
        );
    }
    child.kill().unwrap();
    let _ = child.wait();
}
