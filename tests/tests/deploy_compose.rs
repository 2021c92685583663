//! The container image and the two-city Compose file (`deploy/Dockerfile`, `deploy/compose.yaml`) as an operator
//! runs them: the image exposes every listener and checks its health with `twinport health` (run against live
//! connectors by connector/tests/health.rs), and each city's config, read with
//! the environment Compose gives it, loads and keeps every key (signing key, audit log key) in a named volume that
//! the image's user can write, so a recreated container keeps its identity.
//!
//! The Compose checks need TWINPORT_COMPOSE (Debian's docker-compose, which validates and normalises the file without
//! a Docker daemon) and TWINPORT_CHART_PYTHON (to read its YAML), both from `.ci/setup-chart.sh`; without them they
//! print "skipped: ..." and return.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use twinport::config::Config;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn dockerfile() -> String {
    std::fs::read_to_string(repo().join("deploy/Dockerfile")).expect("deploy/Dockerfile")
}

/// The exec-form command of the final stage's HEALTHCHECK (continuation lines joined).
fn healthcheck_command() -> Vec<String> {
    let joined = dockerfile().replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| l.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    let json = &line[line.find("CMD").expect("CMD") + 3..];
    serde_json::from_str(json.trim()).expect("the exec form: a JSON array")
}

#[test]
fn the_image_exposes_every_listener_and_runs_as_its_own_user() {
    let file = dockerfile();
    let expose = file
        .lines()
        .find(|l| l.starts_with("EXPOSE"))
        .expect("EXPOSE");
    for port in ["8080", "8081", "8082"] {
        assert!(
            expose.split_whitespace().any(|p| p == port),
            "{expose} lacks {port}"
        );
    }
    assert!(file.contains("\nUSER 10001:10001\n"));
    assert!(file.contains("chown twinport:twinport /var/lib/twinport"));
    // The image has no HTTP client: the connector asks itself (run against live connectors, plain and HTTPS, by
    // connector/tests/health.rs), with the config the image's CMD serves.
    assert_eq!(healthcheck_command(), ["twinport", "health"]);
    assert!(file.contains("\nENV TWINPORT_CONFIG=/etc/twinport/twinport.toml\n"));
    assert!(file.contains("\nCMD [\"serve\"]\n"));
}

struct Tools {
    compose: PathBuf,
    python: PathBuf,
}

fn tools() -> Option<Tools> {
    match (
        std::env::var_os("TWINPORT_COMPOSE"),
        std::env::var_os("TWINPORT_CHART_PYTHON"),
    ) {
        (Some(compose), Some(python)) => Some(Tools {
            compose: compose.into(),
            python: python.into(),
        }),
        _ => {
            println!("skipped: TWINPORT_COMPOSE and TWINPORT_CHART_PYTHON are not set (source .ci/setup-chart.sh)");
            None
        }
    }
}

/// `docker-compose config`: the file validated against the Compose schema, anchors and merges resolved, as JSON.
fn compose_config(tools: &Tools) -> Value {
    let out = Command::new(&tools.compose)
        .arg("-f")
        .arg(repo().join("deploy/compose.yaml"))
        .arg("config")
        .output()
        .expect("run docker-compose");
    assert!(
        out.status.success(),
        "docker-compose config refused deploy/compose.yaml: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut python = Command::new(&tools.python)
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    use std::io::Write;
    python.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let json = python.wait_with_output().unwrap();
    assert!(json.status.success());
    serde_json::from_slice(&json.stdout).expect("JSON")
}

/// (source, target) of each of a service's volumes, from the normalised `source:target[:mode]` form.
fn volumes(service: &Value) -> Vec<(String, String)> {
    service["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .map(|v| {
            let parts: Vec<&str> = v.as_str().expect("short form").split(':').collect();
            (parts[0].to_string(), parts[1].to_string())
        })
        .collect()
}

#[test]
fn each_city_keeps_its_keys_in_named_volumes_it_can_write() {
    let Some(tools) = tools() else { return };
    let config = compose_config(&tools);
    let named: Vec<&String> = config["volumes"]
        .as_object()
        .expect("top-level volumes")
        .keys()
        .collect();
    let mut data_volumes = Vec::new();
    for city in ["city-a", "city-b"] {
        let service = &config["services"][city];
        assert!(
            service.get("user").is_none(),
            "{city} runs as the image's user, uid 10001"
        );
        let mounts = volumes(service);
        let (file, _) = mounts
            .iter()
            .find(|(_, target)| target == "/etc/twinport/twinport.toml")
            .expect("the config file is mounted");
        let text = std::fs::read_to_string(file).unwrap();
        let env: Vec<(String, String)> = service["environment"]
            .as_object()
            .map(|e| {
                e.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let loaded = Config::from_toml(&text, Path::new("/etc/twinport"), &env)
            .unwrap_or_else(|e| panic!("{city}: {file} does not load: {e}"));

        // The one directory the connector writes (the SQLite file, the audit log key) is a named volume of its own.
        let data = loaded.data_dir.display().to_string();
        let (source, _) = mounts
            .iter()
            .find(|(_, target)| *target == data)
            .unwrap_or_else(|| panic!("{city}: nothing mounted at data_dir {data}"));
        assert!(
            named.contains(&source),
            "{city}: data_dir is on {source}, not a named volume"
        );
        data_volumes.push(source.clone());

        let key = loaded.signing_key_path.display().to_string();
        let (source, _) = mounts
            .iter()
            .find(|(_, target)| key.starts_with(&format!("{target}/")))
            .unwrap_or_else(|| panic!("{city}: signing key {key} is not in a volume"));
        assert!(named.contains(&source), "{city}: signing key on {source}");

        let ports = service["ports"].to_string();
        let local = loaded.local_listen.port();
        assert!(
            ports.contains(&format!(":{local}/tcp")),
            "{city}: local endpoint port {local} not published: {ports}"
        );
    }
    assert_ne!(
        data_volumes[0], data_volumes[1],
        "each city has its own data volume"
    );
    // The key generator runs once as root and hands the keys to uid 10001.
    let keys = config["services"]["keys"]["command"].to_string();
    assert!(keys.contains("chown -R 10001:10001 /keys"), "{keys}");
}
