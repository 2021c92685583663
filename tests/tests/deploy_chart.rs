//! The Helm chart (`deploy/helm/twinport`) as an operator gets it. Each committed CI value set
//! (`deploy/helm/twinport/ci/*-values.yaml`: gateway in development, gateway in production with two replicas on
//! PostgreSQL and OIDC, sidecar) is rendered by Helm's own engine (`deploy/helm/render.py`), every object is checked
//! by kubernetes-validate against the Kubernetes schemas, the properties that once broke are asserted on the objects,
//! the sidecar patch is applied to the example platform with kubectl's Kustomize, and the rendered `twinport.toml` is
//! started the way its pod would run it: files where the volume mounts put them, environment from the container spec.
//!
//! The tools come from `.ci/setup-chart.sh` (TWINPORT_CHART_PYTHON, TWINPORT_KUBE_VALIDATE, TWINPORT_KUBECTL). Without
//! them the tests print "skipped: ..." and return; with them, a tool that fails or refuses fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::{json, Value};
use twinport::config::Config;
use twinport_contracts::identity::{KeyAlgorithm, SigningKey};
use twinport_contracts::transparency::note::NoteSigner;
use twinport_e2e::oidc_provider::OidcProvider;

const SETS: [&str; 3] = ["gateway-dev", "gateway-production", "sidecar"];
const NAMESPACE: &str = "city";
const LOCAL_SERVICE_HOST: &str = "twinport-local.city.svc.cluster.local";

struct Tools {
    python: PathBuf,
    validate: PathBuf,
    kubectl: Option<PathBuf>,
}

fn tools() -> Option<Tools> {
    match (
        std::env::var_os("TWINPORT_CHART_PYTHON"),
        std::env::var_os("TWINPORT_KUBE_VALIDATE"),
    ) {
        (Some(python), Some(validate)) => Some(Tools {
            python: python.into(),
            validate: validate.into(),
            kubectl: std::env::var_os("TWINPORT_KUBECTL").map(PathBuf::from),
        }),
        _ => {
            println!("skipped: TWINPORT_CHART_PYTHON and TWINPORT_KUBE_VALIDATE are not set (source .ci/setup-chart.sh)");
            None
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// `helm template`'s output for a value set with `--set` overrides: Ok(stdout), or Err(stderr) when Helm refuses.
fn render_text(tools: &Tools, set: &str, sets: &[&str], json: bool) -> Result<String, String> {
    let mut cmd = Command::new(&tools.python);
    cmd.arg(repo().join("deploy/helm/render.py"))
        .arg(repo().join("deploy/helm/twinport"))
        .arg("-f")
        .arg(repo().join(format!("deploy/helm/twinport/ci/{set}-values.yaml")))
        .args(["--name", "twinport", "--namespace", NAMESPACE]);
    for s in sets {
        cmd.args(["--set", s]);
    }
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().expect("run deploy/helm/render.py");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).expect("utf-8"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `helm lint --strict` with a value set: Err(its findings) on any warning or error.
fn lint(tools: &Tools, set: &str) -> Result<(), String> {
    let out = Command::new(&tools.python)
        .arg(repo().join("deploy/helm/render.py"))
        .arg(repo().join("deploy/helm/twinport"))
        .arg("-f")
        .arg(repo().join(format!("deploy/helm/twinport/ci/{set}-values.yaml")))
        .args(["--namespace", NAMESPACE, "--lint"])
        .output()
        .expect("run deploy/helm/render.py --lint");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The rendered objects of a value set.
struct Rendered(Vec<Value>);

fn render(tools: &Tools, set: &str, sets: &[&str]) -> Rendered {
    let text = render_text(tools, set, sets, true)
        .unwrap_or_else(|e| panic!("{set} {sets:?} did not render: {e}"));
    let docs: Vec<Value> = serde_json::from_str(&text).expect("renderer JSON");
    assert!(!docs.is_empty(), "{set}: nothing rendered");
    Rendered(docs.into_iter().map(|d| d["object"].clone()).collect())
}

impl Rendered {
    fn all(&self, kind: &str) -> Vec<&Value> {
        self.0.iter().filter(|o| o["kind"] == kind).collect()
    }

    fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
    }

    fn one(&self, kind: &str, name: &str) -> &Value {
        self.find(kind, name)
            .unwrap_or_else(|| panic!("no {kind} {name} rendered"))
    }

    fn config(&self) -> String {
        self.one("ConfigMap", "twinport-config")["data"]["twinport.toml"]
            .as_str()
            .expect("twinport.toml")
            .to_string()
    }

    fn config_toml(&self) -> toml::Table {
        self.config()
            .parse()
            .expect("rendered twinport.toml is TOML")
    }

    /// The pod spec the connector runs in: the gateway Deployment's, or the sidecar patch's.
    fn pod(&self, tools: &Tools) -> Value {
        match self.find("Deployment", "twinport") {
            Some(d) => d["spec"]["template"]["spec"].clone(),
            None => self.patch(tools)["spec"]["template"]["spec"].clone(),
        }
    }

    fn patch(&self, tools: &Tools) -> Value {
        let text = self.one("ConfigMap", "twinport-sidecar")["data"]["patch.yaml"]
            .as_str()
            .expect("patch.yaml");
        yaml_documents(tools, text).remove(0)
    }
}

fn yaml_documents(tools: &Tools, yaml: &str) -> Vec<Value> {
    let mut child = Command::new(&tools.python)
        .args([
            "-c",
            "import json, sys, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "YAML did not parse");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn container(pod: &Value) -> &Value {
    pod["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .find(|c| c["name"] == "twinport")
        .expect("the twinport container")
}

fn env_names(container: &Value) -> Vec<&str> {
    container["env"]
        .as_array()
        .map(|e| e.iter().filter_map(|v| v["name"].as_str()).collect())
        .unwrap_or_default()
}

fn volume<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no volume {name}"))
}

fn mount<'a>(container: &'a Value, path: &str) -> &'a Value {
    container["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["mountPath"] == path)
        .unwrap_or_else(|| panic!("nothing mounted at {path}"))
}

fn port(container: &Value, name: &str) -> i64 {
    container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_i64())
        .unwrap_or_else(|| panic!("no container port {name}"))
}

/// Runs kubernetes-validate (strict: unknown fields are errors) on `yaml`; only custom resources, whose schemas it
/// does not ship, may be left unchecked.
fn validate(tools: &Tools, what: &str, yaml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(&tools.validate)
        .args(["--strict", "--quiet"])
        .arg(&file)
        .output()
        .expect("run kubernetes-validate");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what}: kubernetes-validate refused it:\n{report}"
    );
    for line in report.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.contains("kind ServiceMonitor with api version monitoring.coreos.com/v1"),
            "{what}: unexpected kubernetes-validate output: {line}"
        );
    }
}

#[test]
fn every_value_set_renders_objects_kubernetes_accepts() {
    let Some(tools) = tools() else { return };
    for set in SETS {
        let yaml = render_text(&tools, set, &[], false)
            .unwrap_or_else(|e| panic!("{set} did not render: {e}"));
        assert!(yaml.contains("# Source: twinport/templates/"), "{set}");
        validate(&tools, set, &yaml);
        lint(&tools, set).unwrap_or_else(|e| panic!("{set}: helm lint --strict: {e}"));
    }
    // The validator is not a formality: a wrongly typed field fails it.
    let yaml = render_text(&tools, "gateway-dev", &[], false).unwrap();
    let broken = yaml.replacen("  replicas: 1\n", "  replicas: one\n", 1);
    assert_ne!(yaml, broken);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.yaml"), broken).unwrap();
    let status = Command::new(&tools.validate)
        .args(["--strict", "--quiet"])
        .arg(dir.path().join("broken.yaml"))
        .output()
        .unwrap()
        .status;
    assert!(
        !status.success(),
        "kubernetes-validate accepted replicas: one"
    );
}

#[test]
fn production_runs_replicas_on_postgres_with_keys_from_secrets_and_no_static_token() {
    let Some(tools) = tools() else { return };
    let r = render(&tools, "gateway-production", &[]);
    let deployment = r.one("Deployment", "twinport");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_ne!(deployment["spec"]["strategy"]["type"], "Recreate");
    let pod = r.pod(&tools);
    let c = container(&pod);

    // mode = "production" refuses a management token: none may be injected.
    let env = env_names(c);
    assert!(!env.contains(&"TWINPORT_MANAGEMENT_TOKEN"), "{env:?}");
    let config = r.config_toml();
    assert_eq!(config["mode"].as_str(), Some("production"));
    assert!(!config.contains_key("management_token"));
    assert_eq!(
        config["oidc"]["issuer"].as_str(),
        Some("https://id.city-a.example/realms/city")
    );
    assert_eq!(
        config["oidc"]["roles"]["operator"],
        toml::Value::Array(vec!["ldt-platform-team".into()])
    );
    let storage = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "TWINPORT_STORAGE_URL")
        .expect("storage_url from the Secret");
    assert_eq!(
        storage["valueFrom"]["secretKeyRef"],
        json!({"name": "twinport-city-a", "key": "storage-url"})
    );

    // Replicas share no ReadWriteOnce volume: the data directory is the pod's own, the keys come from the Secret.
    assert!(r.all("PersistentVolumeClaim").is_empty());
    assert!(pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v.get("persistentVolumeClaim").is_none()));
    assert!(volume(&pod, "twinport-data").get("emptyDir").is_some());
    let keys = &volume(&pod, "twinport-keys")["secret"];
    assert_eq!(keys["secretName"], "twinport-city-a");
    assert_eq!(
        keys["items"],
        json!([
            {"key": "signing-key.pem", "path": "signing-key.pem"},
            {"key": "audit-log-key.pem", "path": "audit-log-key.pem"}
        ])
    );
    assert_eq!(mount(c, "/etc/twinport/keys")["name"], "twinport-keys");
    let audit_key = mount(c, "/var/lib/twinport/audit-log-key.pem");
    assert_eq!(audit_key["name"], "twinport-keys");
    assert_eq!(audit_key["subPath"], "audit-log-key.pem");
    assert_eq!(
        config["signing_key"].as_str(),
        Some("/etc/twinport/keys/signing-key.pem")
    );
    assert_eq!(config["data_dir"].as_str(), Some("/var/lib/twinport"));

    // What an operator adds: environment, Rego rules, resources.
    assert!(env.contains(&"TWINPORT_POLICY_TIME_ZONE"));
    assert!(env.contains(&"TWINPORT_TELEMETRY_METRICS_TOKEN"));
    assert_eq!(
        mount(c, "/etc/twinport/catalogue/rules/negotiation")["name"],
        "negotiation-rules"
    );
    assert_eq!(c["resources"]["limits"]["memory"], "256Mi");

    // Hardening, and what runs around the pods.
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["serviceAccountName"], "twinport");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(
        c["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    r.one("ServiceAccount", "twinport");
    assert_eq!(
        r.one("PodDisruptionBudget", "twinport")["spec"]["maxUnavailable"],
        1
    );
    let monitor = r.one("ServiceMonitor", "twinport");
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"], "management");
    assert_eq!(endpoint["path"], "/metrics");
    assert_eq!(
        endpoint["bearerTokenSecret"],
        json!({"name": "twinport-city-a", "key": "metrics-token"})
    );
    // It scrapes the management Service, the only one with the management port; never the DSP one.
    let selected = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap();
    let selects = |name: &str| {
        let labels = &r.one("Service", name)["metadata"]["labels"];
        selected.iter().all(|(k, v)| &labels[k] == v)
    };
    assert!(
        selects("twinport-management"),
        "the ServiceMonitor selects the management Service"
    );
    assert!(
        !selects("twinport"),
        "the ServiceMonitor selects the DSP Service"
    );
    assert!(
        !selects("twinport-local"),
        "the ServiceMonitor selects the local Service"
    );
}

#[test]
fn development_keeps_sqlite_on_one_volume_with_the_static_token() {
    let Some(tools) = tools() else { return };
    let r = render(&tools, "gateway-dev", &[]);
    let deployment = r.one("Deployment", "twinport");
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    let pod = r.pod(&tools);
    let c = container(&pod);
    let token = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "TWINPORT_MANAGEMENT_TOKEN")
        .expect("the static token in development");
    assert_eq!(
        token["valueFrom"]["secretKeyRef"]["key"],
        "management-token"
    );
    let claim = r.one("PersistentVolumeClaim", "twinport-data");
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert_eq!(
        volume(&pod, "twinport-data")["persistentVolumeClaim"]["claimName"],
        "twinport-data"
    );
    assert!(
        r.all("ServiceMonitor").is_empty(),
        "a ServiceMonitor only when enabled"
    );
    // Without auditLogKeyKey the connector creates the audit log key in the volume.
    assert!(c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["mountPath"] != "/var/lib/twinport/audit-log-key.pem"));
}

#[test]
fn every_form_serves_the_local_endpoint_and_is_probed_on_the_management_port() {
    let Some(tools) = tools() else { return };
    for set in SETS {
        let r = render(&tools, set, &[]);
        let pod = r.pod(&tools);
        let c = container(&pod);
        let config = r.config_toml();
        let local = port(c, "local");
        let management = port(c, "management");
        assert_eq!(
            config["local_listen"].as_str(),
            Some(format!("0.0.0.0:{local}").as_str()),
            "{set}"
        );
        assert_eq!(
            config["management_listen"].as_str(),
            Some(format!("0.0.0.0:{management}").as_str()),
            "{set}"
        );

        let service = r.one("Service", "twinport-local");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], local, "{set}");
        let hosts: Vec<&str> = config["local_hosts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h.as_str())
            .collect();
        assert!(hosts.contains(&LOCAL_SERVICE_HOST), "{set}: {hosts:?}");
        assert!(hosts.contains(&"127.0.0.1"), "{set}: {hosts:?}");

        // The three Services select the pods the connector runs in.
        let pod_labels = match r.find("Deployment", "twinport") {
            Some(d) => d["spec"]["template"]["metadata"]["labels"].clone(),
            None => json!({"app": "ldt-platform"}),
        };
        for name in ["twinport", "twinport-management", "twinport-local"] {
            for (k, v) in r.one("Service", name)["spec"]["selector"]
                .as_object()
                .unwrap()
            {
                assert_eq!(&pod_labels[k], v, "{set}: Service {name} selects the pod");
            }
        }

        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = &c[probe]["httpGet"];
            assert_eq!(get["path"], path, "{set}");
            assert_eq!(
                get["port"], management,
                "{set}: {probe} on the management port"
            );
            assert_eq!(get["scheme"], "HTTP", "{set}");
        }

        let test = r.one("Pod", "twinport-test-readiness");
        assert_eq!(test["metadata"]["annotations"]["helm.sh/hook"], "test");
        let args = test["spec"]["containers"][0]["args"].to_string();
        assert!(
            args.contains("http://twinport-management.city.svc.cluster.local:8081/readyz"),
            "{set}: {args}"
        );
    }
    let policy = render(&tools, "gateway-dev", &[]);
    let rules = policy.one("NetworkPolicy", "twinport")["spec"]["ingress"].to_string();
    assert!(rules.contains("8082"), "the local port is let in: {rules}");
}

#[test]
fn tls_in_the_connector_moves_the_probes_to_https() {
    let Some(tools) = tools() else { return };
    let sets = [
        "tls.enabled=true",
        "tls.secretName=twinport-tls",
        "tls.caKey=ca.crt",
        "tls.mutual=true",
    ];
    let r = render(&tools, "gateway-production", &sets);
    validate(
        &tools,
        "production with TLS",
        &render_text(&tools, "gateway-production", &sets, false).unwrap(),
    );
    let pod = r.pod(&tools);
    let c = container(&pod);
    for probe in ["livenessProbe", "readinessProbe"] {
        // Mutual TLS asks DSP clients for a certificate; the management listener never does.
        assert_eq!(c[probe]["httpGet"]["scheme"], "HTTPS");
        assert_eq!(c[probe]["httpGet"]["port"], port(c, "management"));
    }
    let config = r.config_toml();
    assert_eq!(config["tls"]["mutual"].as_bool(), Some(true));
    assert_eq!(
        config["tls"]["cert"].as_str(),
        Some("/etc/twinport/tls/tls.crt")
    );
    assert_eq!(
        config["tls"]["ca"].as_str(),
        Some("/etc/twinport/tls/ca.crt")
    );
    assert_eq!(mount(c, "/etc/twinport/tls")["name"], "twinport-tls");
    assert_eq!(
        volume(&pod, "twinport-tls")["secret"]["secretName"],
        "twinport-tls"
    );
    let args = r.one("Pod", "twinport-test-readiness")["spec"]["containers"][0]["args"].to_string();
    assert!(
        args.contains("https://twinport-management.city.svc.cluster.local:8081/readyz"),
        "{args}"
    );
}

#[tokio::test]
async fn oidc_issuer_and_audience_can_come_from_a_secret() {
    let Some(tools) = tools() else { return };
    let r = render(
        &tools,
        "gateway-production",
        &[
            "oidc.existingSecret=city-a-oidc",
            "oidc.issuer=",
            "oidc.audience=",
        ],
    );
    let pod = r.pod(&tools);
    for (name, key) in [
        ("TWINPORT_OIDC_ISSUER", "issuer"),
        ("TWINPORT_OIDC_AUDIENCE", "audience"),
    ] {
        let var = container(&pod)["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(
            var["valueFrom"]["secretKeyRef"],
            json!({"name": "city-a-oidc", "key": key})
        );
    }
    // The rendered [oidc] holds only the roles; with the Secret's values the config is a valid production one.
    let mut secrets = secrets(false).await;
    secrets.insert(
        "storage-url".into(),
        "postgres://twinport@db.city-a.internal/twinport".into(),
    );
    secrets.insert(
        "issuer".into(),
        "https://id.city-a.example/realms/city".into(),
    );
    secrets.insert("audience".into(), "twinport".into());
    let root = tempfile::tempdir().unwrap();
    let config = materialise(&r, &pod, root.path(), &secrets, &[]);
    let oidc = config.oidc.expect("[oidc] from the Secret");
    assert_eq!(oidc.issuer, "https://id.city-a.example/realms/city");
    assert_eq!(oidc.audiences, ["twinport"]);
    assert!(config.management_token.is_none());
}

#[test]
fn values_that_could_not_run_are_refused_naming_the_value() {
    let Some(tools) = tools() else { return };
    for (set, sets, named) in [
        ("gateway-dev", vec!["replicaCount=2"], "replicaCount"),
        (
            "gateway-production",
            vec!["secret.auditLogKeyKey="],
            "secret.auditLogKeyKey",
        ),
        ("gateway-production", vec!["oidc.issuer="], "oidc.issuer"),
        ("gateway-dev", vec!["config.mode=prod"], "config.mode"),
        ("gateway-dev", vec!["tls.mutual=true"], "tls.mutual"),
        (
            "sidecar",
            vec!["sidecar.workload.name="],
            "sidecar.workload.name",
        ),
        (
            "sidecar",
            vec!["networkPolicy.platformIngress[0].from[0].podSelector.matchLabels.app=web"],
            "networkPolicy.platformIngress[0]: name its ports",
        ),
        (
            "sidecar",
            vec!["networkPolicy.platformIngress[0].ports[0].port=8082"],
            "port 8082 is the connector's",
        ),
        (
            "sidecar",
            vec!["networkPolicy.platformIngress[0].ports[0].port=local"],
            "port local is the connector's",
        ),
        (
            "sidecar",
            vec!["networkPolicy.platformIngress[0].ports[0].port=8000,networkPolicy.platformIngress[0].ports[0].endPort=9000"],
            "port 8080 is the connector's",
        ),
        (
            "sidecar",
            vec!["networkPolicy.platformIngress[0].ports[0].protocol=TCP"],
            "every port entry needs a port",
        ),
    ] {
        match render_text(&tools, set, &sets, false) {
            Ok(_) => panic!("{set} {sets:?} rendered"),
            Err(e) => assert!(e.contains(named), "{set} {sets:?}: {e}"),
        }
    }
}

/// The example platform with `r`'s sidecar patch applied as docs/operators.md says (its kustomization, the patch
/// extracted from the ConfigMap), checked by kubernetes-validate; None without kubectl.
fn kustomized(tools: &Tools, what: &str, r: &Rendered) -> Option<Value> {
    let Some(kubectl) = &tools.kubectl else {
        println!("kustomize step skipped: TWINPORT_KUBECTL is not set");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    for file in ["platform.yaml", "kustomization.yaml"] {
        std::fs::copy(
            repo().join("deploy/examples/sidecar").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("twinport-sidecar-patch.yaml"),
        r.one("ConfigMap", "twinport-sidecar")["data"]["patch.yaml"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .expect("run kubectl kustomize");
    let patched = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: kubectl kustomize: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    validate(tools, what, &patched);
    let workload = yaml_documents(tools, &patched).remove(0);
    // The other way docs/operators.md gives, `kubectl patch --patch-file`, here on the file instead of the cluster.
    let out = Command::new(kubectl)
        .args(["patch", "--local", "-o", "json", "-f"])
        .arg(dir.path().join("platform.yaml"))
        .arg("--patch-file")
        .arg(dir.path().join("twinport-sidecar-patch.yaml"))
        .output()
        .expect("run kubectl patch --local");
    assert!(
        out.status.success(),
        "{what}: kubectl patch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let patched: Value = serde_json::from_slice(&out.stdout).expect("kubectl patch -o json");
    assert_eq!(
        patched["spec"], workload["spec"],
        "{what}: kubectl patch and kustomize differ"
    );
    Some(workload)
}

#[test]
fn the_sidecar_patch_adds_the_connector_to_the_platform() {
    let Some(tools) = tools() else { return };
    let r = render(&tools, "sidecar", &[]);
    for kind in [
        "Deployment",
        "PodDisruptionBudget",
        "ServiceAccount",
        "PersistentVolumeClaim",
    ] {
        assert!(r.all(kind).is_empty(), "no {kind} in sidecar form");
    }
    let patch = r.patch(&tools);
    assert_eq!(patch["kind"], "Deployment");
    assert_eq!(patch["metadata"]["name"], "ldt-platform");
    // On PostgreSQL the platform keeps its replicas and its rollout.
    assert!(patch["spec"].get("replicas").is_none(), "{patch}");
    assert!(patch["spec"].get("strategy").is_none(), "{patch}");
    let pod = &patch["spec"]["template"]["spec"];
    let c = container(pod);
    assert!(c["image"].as_str().unwrap().starts_with("twinport:"));
    // Every volume the container mounts is in the patch, and every ConfigMap it names is rendered.
    for m in c["volumeMounts"].as_array().unwrap() {
        let v = volume(pod, m["name"].as_str().unwrap());
        if let Some(name) = v["configMap"]["name"].as_str() {
            r.one("ConfigMap", name);
        }
    }
    assert_eq!(
        r.one("Service", "twinport")["spec"]["selector"],
        json!({"app": "ldt-platform"})
    );

    let Some(workload) = kustomized(&tools, "the patched platform", &r) else {
        return;
    };
    let spec = &workload["spec"]["template"]["spec"];
    let mut names: Vec<&str> = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["broker", "twinport"]);
    assert_eq!(
        spec["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "broker")
            .unwrap()["ports"][0]["containerPort"],
        1026,
        "the platform's own container is kept"
    );
    assert_eq!(
        volume(spec, "twinport-config")["configMap"]["name"],
        "twinport-config"
    );
    assert!(
        workload["spec"]["template"]["metadata"]["annotations"]["twinport/config-checksum"]
            .is_string()
    );
    assert_eq!(workload["spec"]["replicas"], 2);
    assert_eq!(workload["spec"]["strategy"]["type"], "RollingUpdate");
}

/// The sidecar set moved to SQLite on a claim, as an operator would write it.
const SIDECAR_ON_SQLITE: [&str; 2] = ["storage.urlSecretKey=", "secret.auditLogKeyKey="];

#[test]
fn a_sidecar_on_sqlite_is_its_workloads_only_pod_even_during_a_rollout() {
    let Some(tools) = tools() else { return };
    let r = render(&tools, "sidecar", &SIDECAR_ON_SQLITE);
    validate(
        &tools,
        "sidecar on SQLite",
        &render_text(&tools, "sidecar", &SIDECAR_ON_SQLITE, false).unwrap(),
    );
    r.one("PersistentVolumeClaim", "twinport-data");
    let patch = r.patch(&tools);
    assert_eq!(patch["spec"]["replicas"], 1);
    assert_eq!(patch["spec"]["strategy"]["type"], "Recreate");
    // The platform's RollingUpdate settings must go: Kubernetes refuses them beside Recreate.
    assert!(
        patch["spec"]["strategy"]
            .as_object()
            .unwrap()
            .get("rollingUpdate")
            .is_some_and(Value::is_null),
        "{patch}"
    );
    if let Some(workload) = kustomized(&tools, "the platform patched for SQLite", &r) {
        assert_eq!(
            workload["spec"]["replicas"], 1,
            "the example platform runs 2"
        );
        assert_eq!(workload["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(
            volume(&workload["spec"]["template"]["spec"], "twinport-data")["persistentVolumeClaim"]
                ["claimName"],
            "twinport-data"
        );
    }

    // A StatefulSet replaces a pod before starting its successor: one replica is enough, and it has no `strategy`.
    let mut sets = SIDECAR_ON_SQLITE.to_vec();
    sets.push("sidecar.workload.kind=StatefulSet");
    let patch = render(&tools, "sidecar", &sets).patch(&tools);
    assert_eq!(patch["kind"], "StatefulSet");
    assert_eq!(patch["spec"]["replicas"], 1);
    assert!(patch["spec"].get("strategy").is_none(), "{patch}");
    // A DaemonSet cannot be one pod: only PostgreSQL lets the connector into one.
    let mut sets = SIDECAR_ON_SQLITE.to_vec();
    sets.push("sidecar.workload.kind=DaemonSet");
    let refused =
        render_text(&tools, "sidecar", &sets, false).expect_err("a DaemonSet on SQLite rendered");
    assert!(refused.contains("sidecar.workload.kind"), "{refused}");
    let patch = render(&tools, "sidecar", &["sidecar.workload.kind=DaemonSet"]).patch(&tools);
    assert!(patch["spec"].get("replicas").is_none(), "{patch}");
}

/// The peers each rule of a NetworkPolicy admits to `port` (TCP): Some(from), or None for a rule admitting every
/// source (no `from`, or an empty one).
fn admitted(policy: &Value, port: i64) -> Vec<Option<Value>> {
    policy["spec"]["ingress"]
        .as_array()
        .expect("ingress rules")
        .iter()
        .filter(|rule| match rule["ports"].as_array() {
            None => true,
            Some(ports) if ports.is_empty() => true,
            Some(ports) => ports.iter().any(|p| {
                let tcp = p["protocol"].as_str().is_none_or(|proto| proto == "TCP");
                let covers = match (p["port"].as_i64(), p["endPort"].as_i64()) {
                    (None, _) => p.get("port").is_none(),
                    (Some(from), None) => from == port,
                    (Some(from), Some(to)) => (from..=to).contains(&port),
                };
                tcp && covers
            }),
        })
        .map(|rule| match rule["from"].as_array() {
            Some(from) if !from.is_empty() => Some(rule["from"].clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_local_endpoint_and_management_api_admit_only_the_listed_peers_in_both_forms() {
    let Some(tools) = tools() else { return };
    let namespace = json!([{"podSelector": {}}]);
    for set in SETS {
        let r = render(&tools, set, &[]);
        let policy = r.one("NetworkPolicy", "twinport");
        let pod_labels = match r.find("Deployment", "twinport") {
            Some(d) => d["spec"]["template"]["metadata"]["labels"].clone(),
            None => json!({"app": "ldt-platform"}),
        };
        assert_eq!(
            policy["spec"]["podSelector"]["matchLabels"], pod_labels,
            "{set}: the policy selects the connector's pods"
        );
        assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress"]), "{set}");
        for port in [8081, 8082] {
            assert_eq!(
                admitted(policy, port),
                vec![Some(namespace.clone())],
                "{set}: port {port} only from the namespace's pods"
            );
        }
        assert_eq!(admitted(policy, 8080), vec![None], "{set}: DSP is open");
    }
    // The platform's own port is let in by the rule the sidecar set gives it, and that rule names only it.
    let sidecar = render(&tools, "sidecar", &[]);
    let policy = sidecar.one("NetworkPolicy", "twinport");
    assert_eq!(admitted(policy, 1026), vec![Some(namespace.clone())]);
    assert_eq!(policy["spec"]["ingress"].as_array().unwrap().len(), 4);

    // The knobs are the gateway's: peers listed are the peers let in.
    let monitoring = json!([{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]);
    let r = render(
        &tools,
        "sidecar",
        &["networkPolicy.managementFrom[0].namespaceSelector.matchLabels.name=monitoring"],
    );
    let policy = r.one("NetworkPolicy", "twinport");
    assert_eq!(admitted(policy, 8081), vec![Some(monitoring)]);
    assert_eq!(admitted(policy, 8082), vec![Some(namespace.clone())]);
    // No peers listed means none let in: an empty `from` would have meant every source.
    for set in SETS {
        let r = render(
            &tools,
            set,
            &[
                "networkPolicy.localFrom=null",
                "networkPolicy.managementFrom=null",
            ],
        );
        let policy = r.one("NetworkPolicy", "twinport");
        assert!(admitted(policy, 8082).is_empty(), "{set}: {policy}");
        assert!(admitted(policy, 8081).is_empty(), "{set}: {policy}");
        validate(
            &tools,
            "no peers",
            &render_text(
                &tools,
                set,
                &[
                    "networkPolicy.localFrom=null",
                    "networkPolicy.managementFrom=null",
                ],
                false,
            )
            .unwrap(),
        );
    }
    let r = render(&tools, "sidecar", &["networkPolicy.enabled=false"]);
    assert!(r.all("NetworkPolicy").is_empty());
}

#[test]
fn exposing_dsp_exposes_neither_the_management_api_nor_the_local_endpoint() {
    let Some(tools) = tools() else { return };
    for (set, kind) in [
        ("gateway-dev", "LoadBalancer"),
        ("gateway-production", "NodePort"),
        ("sidecar", "LoadBalancer"),
    ] {
        let sets = [format!("service.type={kind}")];
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        let r = render(&tools, set, &sets);
        validate(
            &tools,
            set,
            &render_text(&tools, set, &sets, false).unwrap(),
        );
        let ports = |name: &str| -> Vec<(String, i64)> {
            r.one("Service", name)["spec"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["targetPort"].as_i64().unwrap(),
                    )
                })
                .collect()
        };
        let dsp = r.one("Service", "twinport");
        assert_eq!(dsp["spec"]["type"], kind, "{set}");
        assert_eq!(ports("twinport"), [("dsp".to_string(), 8080)], "{set}");
        assert_eq!(
            ports("twinport-management"),
            [("management".to_string(), 8081)],
            "{set}"
        );
        assert_eq!(
            ports("twinport-local"),
            [("local".to_string(), 8082)],
            "{set}"
        );
        for service in r.all("Service") {
            let name = service["metadata"]["name"].as_str().unwrap();
            if name != "twinport" {
                assert_eq!(service["spec"]["type"], "ClusterIP", "{set}: {name}");
            }
        }
        assert_eq!(r.all("Service").len(), 3, "{set}");
    }
}

/// The Secret's contents for a boot: fresh keys, tokens, and a PostgreSQL schema when the set uses one.
async fn secrets(postgres: bool) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    s.insert(
        "signing-key.pem".into(),
        SigningKey::generate(KeyAlgorithm::EdDsa)
            .unwrap()
            .to_pkcs8_pem(),
    );
    // Made as docs/operators.md tells operators to make it.
    let audit_key = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519"])
        .output()
        .expect("run openssl genpkey");
    assert!(audit_key.status.success(), "openssl genpkey failed");
    s.insert(
        "audit-log-key.pem".into(),
        String::from_utf8(audit_key.stdout).unwrap(),
    );
    s.insert(
        "management-token".into(),
        "chart-test-management-token-0123456789".into(),
    );
    s.insert(
        "metrics-token".into(),
        "chart-test-metrics-token-0123456789".into(),
    );
    if postgres {
        s.insert("storage-url".into(), twinport_e2e::postgres_url().await);
    }
    s
}

fn write(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// The files one volume (or one source of a projected volume) shows: a rendered ConfigMap's data, the connector's
/// Secret's `items`, or, for another Secret mounted whole, the entries of `secrets` named `<secret>/<key>`.
fn source_files(
    r: &Rendered,
    source: &Value,
    secrets: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    if let Some(name) = source["configMap"]["name"].as_str() {
        return r
            .find("ConfigMap", name)
            .and_then(|cm| cm["data"].as_object())
            .map(|d| {
                d.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default();
    }
    let Some(secret) = source.get("secret") else {
        return Vec::new();
    };
    match secret["items"].as_array() {
        Some(items) => items
            .iter()
            .map(|i| {
                let key = i["key"].as_str().unwrap();
                let content = secrets
                    .get(key)
                    .unwrap_or_else(|| panic!("the Secret has no {key}"));
                (i["path"].as_str().unwrap().to_string(), content.clone())
            })
            .collect(),
        None => {
            let name = secret["secretName"]
                .as_str()
                .or(secret["name"].as_str())
                .expect("the Secret's name");
            let prefix = format!("{name}/");
            let files: Vec<(String, String)> = secrets
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
                .collect();
            assert!(!files.is_empty(), "no Secret {name} given");
            files
        }
    }
}

/// Lays out under `root` what the pod's mounts show the container (ConfigMaps the chart does not render, such as
/// the city's own Rego rules, as empty directories) and returns the config as the container reads it: the rendered
/// twinport.toml with its paths moved under `root`, the container's environment, and listeners on free loopback ports.
fn materialise(
    r: &Rendered,
    pod: &Value,
    root: &Path,
    secrets: &BTreeMap<String, String>,
    more_env: &[(&str, &str)],
) -> Config {
    let c = container(pod);
    let mut mounts: Vec<&Value> = c["volumeMounts"].as_array().unwrap().iter().collect();
    mounts.sort_by_key(|m| m["mountPath"].as_str().unwrap().len());
    for m in mounts {
        let target = root.join(m["mountPath"].as_str().unwrap().trim_start_matches('/'));
        let sub_path = m["subPath"].as_str();
        let v = volume(pod, m["name"].as_str().unwrap());
        let files: Vec<(String, String)> = match v["projected"]["sources"].as_array() {
            Some(sources) => sources
                .iter()
                .flat_map(|source| source_files(r, source, secrets))
                .collect(),
            None => source_files(r, v, secrets),
        };
        match sub_path {
            Some(sub) => {
                let (_, content) = files
                    .iter()
                    .find(|(name, _)| name == sub)
                    .unwrap_or_else(|| panic!("volume has no {sub}"));
                write(&target, content);
            }
            None => {
                std::fs::create_dir_all(&target).unwrap();
                for (name, content) in &files {
                    write(&target.join(name), content);
                }
            }
        }
    }
    let mut vars: Vec<(String, String)> = Vec::new();
    for e in c["env"].as_array().unwrap() {
        let value = match e["value"].as_str() {
            Some(v) => v.to_string(),
            None => {
                let key = e["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap();
                secrets
                    .get(key)
                    .unwrap_or_else(|| panic!("the Secret has no {key}"))
                    .clone()
            }
        };
        vars.push((e["name"].as_str().unwrap().to_string(), value));
    }
    for (k, v) in [
        ("TWINPORT_LISTEN", "127.0.0.1:0"),
        ("TWINPORT_MANAGEMENT_LISTEN", "127.0.0.1:0"),
        ("TWINPORT_LOCAL_LISTEN", "127.0.0.1:0"),
        // The CI sets name partners on the internet: nothing here may call them.
        ("TWINPORT_AUDIT_WITNESS_INTERVAL_SECONDS", "0"),
    ]
    .iter()
    .chain(more_env)
    {
        vars.push((k.to_string(), v.to_string()));
    }
    let root_text = root.display().to_string();
    let text = r
        .config()
        .replace("/etc/twinport", &format!("{root_text}/etc/twinport"))
        .replace(
            "/var/lib/twinport",
            &format!("{root_text}/var/lib/twinport"),
        );
    Config::from_toml(&text, &root.join("etc/twinport"), &vars)
        .unwrap_or_else(|e| panic!("the rendered config does not load: {e}"))
}

async fn assert_ready(running: &twinport::app::RunningConnector) {
    let ready = reqwest::get(format!("{}/readyz", running.management_url()))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "/readyz on the management port");
}

/// The local endpoint answers requests addressed to its Service, and only to names it knows.
async fn assert_local_service_host(running: &twinport::app::RunningConnector) {
    let client = reqwest::Client::new();
    let url = format!("{}/transfers/no-such-transfer/data", running.local_url());
    let ours = client
        .get(&url)
        .header("Host", format!("{LOCAL_SERVICE_HOST}:8082"))
        .send()
        .await
        .unwrap();
    assert_ne!(ours.status(), 421, "the local Service's name is refused");
    let other = client
        .get(&url)
        .header("Host", "elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 421);
}

async fn resource_ids(running: &twinport::app::RunningConnector, token: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/resources", running.management_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_development_gateway_config_starts_as_its_pod_would() {
    let Some(tools) = tools() else { return };
    let r = render(&tools, "gateway-dev", &[]);
    let pod = r.pod(&tools);
    let secrets = secrets(false).await;
    let root = tempfile::tempdir().unwrap();
    let config = materialise(&r, &pod, root.path(), &secrets, &[]);
    let running = twinport::app::start(config).await.expect("starts");
    assert_ready(&running).await;
    assert_local_service_host(&running).await;
    let listed = resource_ids(&running, &secrets["management-token"]).await;
    assert!(listed.contains("urn:ldt:city-a:traffic-flow"), "{listed}");
    running.stop().await;
    assert!(
        root.path()
            .join("var/lib/twinport/audit-log-key.pem")
            .exists(),
        "the audit log key is created in the data volume"
    );
}

#[tokio::test]
async fn the_sidecar_config_starts_as_its_pod_would() {
    let Some(tools) = tools() else { return };
    if std::env::var("TWINPORT_TEST_DATABASE_URL").is_err() {
        println!(
            "skipped: the sidecar set runs on PostgreSQL and TWINPORT_TEST_DATABASE_URL is not set"
        );
        return;
    }
    let r = render(&tools, "sidecar", &[]);
    let pod = r.pod(&tools);
    let secrets = secrets(true).await;
    let root = tempfile::tempdir().unwrap();
    let config = materialise(&r, &pod, root.path(), &secrets, &[]);
    let running = twinport::app::start(config).await.expect("starts");
    assert_ready(&running).await;
    assert_local_service_host(&running).await;
    let listed = resource_ids(&running, &secrets["management-token"]).await;
    assert!(listed.contains("urn:ldt:city-a:air-quality"), "{listed}");
    running.stop().await;
}

#[tokio::test]
async fn production_replicas_start_from_the_rendered_config_sharing_the_secrets_keys() {
    let Some(tools) = tools() else { return };
    if std::env::var("TWINPORT_TEST_DATABASE_URL").is_err() {
        println!("skipped: the production set runs on PostgreSQL and TWINPORT_TEST_DATABASE_URL is not set");
        return;
    }
    let r = render(&tools, "gateway-production", &[]);
    let pod = r.pod(&tools);
    let secrets = secrets(true).await;
    // The provider stands in on loopback (production allows plain http there); everything else is as rendered.
    let idp = OidcProvider::start().await;
    let issuer = [("TWINPORT_OIDC_ISSUER", idp.issuer())];
    let token = |roles: &[&str]| {
        let mut claims = idp.claims("operator-1", &[]);
        claims["aud"] = json!("twinport");
        claims["realm_access"] = json!({ "roles": roles });
        idp.sign(&claims)
    };

    let first_root = tempfile::tempdir().unwrap();
    let first = twinport::app::start(materialise(&r, &pod, first_root.path(), &secrets, &issuer))
        .await
        .expect("the first replica starts");
    assert_ready(&first).await;
    assert_local_service_host(&first).await;
    let client = reqwest::Client::new();
    let refused = client
        .get(format!("{}/api/v1/resources", first.management_url()))
        .bearer_auth(&secrets["management-token"])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "no static token in production");
    let created = client
        .request(Method::POST, format!("{}/api/v1/resources", first.management_url()))
        .bearer_auth(token(&["ldt-platform-team"]))
        .json(&json!({
            "id": "urn:ldt:city-a:parking",
            "kind": "dataset",
            "stage": "raw",
            "title": "Parking occupancy",
            "description": "Free spaces in the city's car parks.",
            "distributions": [{"format": "application/json", "backend": "http://127.0.0.1:9/parking"}],
            "offers": [{"policy": "partner-use"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let checkpoint = client
        .get(format!(
            "{}/api/v1/audit/checkpoint",
            first.management_url()
        ))
        .bearer_auth(token(&["internal-audit"]))
        .send()
        .await
        .unwrap();
    assert_eq!(checkpoint.status(), 200, "the log has a signed checkpoint");

    // The second replica has a data directory of its own (an emptyDir) and the same Secret.
    let second_root = tempfile::tempdir().unwrap();
    let second = twinport::app::start(materialise(&r, &pod, second_root.path(), &secrets, &issuer))
        .await
        .expect("the second replica starts on the same database");
    assert_ready(&second).await;
    let listed = resource_ids(&second, &token(&["ldt-analysts"])).await;
    assert!(listed.contains("urn:ldt:city-a:parking"), "{listed}");
    let checkpoint = client
        .get(format!(
            "{}/api/v1/audit/checkpoint",
            second.management_url()
        ))
        .bearer_auth(token(&["internal-audit"]))
        .send()
        .await
        .unwrap();
    assert_eq!(checkpoint.status(), 200);

    // What sharing the key prevents: a replica whose audit log key is its own is refused.
    let mut other = secrets.clone();
    other.insert(
        "audit-log-key.pem".into(),
        NoteSigner::generate("chart-test")
            .unwrap()
            .to_pkcs8_pem()
            .to_string(),
    );
    let third_root = tempfile::tempdir().unwrap();
    let refused =
        twinport::app::start(materialise(&r, &pod, third_root.path(), &other, &issuer)).await;
    assert!(
        refused.is_err(),
        "a replica with another audit log key started"
    );

    second.stop().await;
    first.stop().await;
}

/// A resource whose backend URL carries credentials, as an operator keeps it out of the ConfigMap.
const PARKING_WITH_CREDENTIALS: &str = r#"id = "urn:ldt:city-a:parking"
kind = "dataset"
stage = "raw"
title = "Parking occupancy"
description = "Free spaces in the city's car parks, from the parking operator's API."
[[distributions]]
format = "application/json"
backend = "https://twinport:s3cret-backend-password@parking.city-a.internal/occupancy"
[[offers]]
policy = "partner-use"
"#;

#[tokio::test]
async fn resources_whose_backends_carry_credentials_come_from_a_secret() {
    let Some(tools) = tools() else { return };
    // Without the value the resources directory is the ConfigMap alone.
    let plain = render(&tools, "gateway-dev", &[]).pod(&tools);
    assert_eq!(
        volume(&plain, "twinport-resources")["configMap"]["name"],
        "twinport-resources"
    );

    let sets = ["catalogue.resourcesSecret=city-a-backends"];
    for set in SETS {
        validate(
            &tools,
            set,
            &render_text(&tools, set, &sets, false).unwrap(),
        );
        let r = render(&tools, set, &sets);
        let pod = r.pod(&tools);
        let c = container(&pod);
        let m = mount(c, "/etc/twinport/catalogue/resources");
        assert_eq!(m["name"], "twinport-resources", "{set}");
        assert_eq!(m["readOnly"], true, "{set}");
        let sources = &volume(&pod, "twinport-resources")["projected"]["sources"];
        assert_eq!(
            sources,
            &json!([
                {"configMap": {"name": "twinport-resources"}},
                {"secret": {"name": "city-a-backends"}}
            ]),
            "{set}"
        );
        // The credentials are in no rendered object.
        let text = render_text(&tools, set, &sets, false).unwrap();
        assert!(!text.contains("s3cret"), "{set}");
    }

    // The connector loads both: the ConfigMap's resource and the Secret's.
    let r = render(&tools, "gateway-dev", &sets);
    let pod = r.pod(&tools);
    let mut secrets = secrets(false).await;
    secrets.insert(
        "city-a-backends/parking.toml".into(),
        PARKING_WITH_CREDENTIALS.into(),
    );
    let root = tempfile::tempdir().unwrap();
    let config = materialise(&r, &pod, root.path(), &secrets, &[]);
    let running = twinport::app::start(config).await.expect("starts");
    let listed = resource_ids(&running, &secrets["management-token"]).await;
    assert!(listed.contains("urn:ldt:city-a:traffic-flow"), "{listed}");
    assert!(listed.contains("urn:ldt:city-a:parking"), "{listed}");
    running.stop().await;
}
