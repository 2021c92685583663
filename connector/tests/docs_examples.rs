//! The shell examples in `docs/` and the README, run as a reader would run them: against two connectors started
//! from `twinport init` on loopback (city A, the provider the docs mostly speak of, and city B, its partner), with the
//! documented addresses pointed at them. Every example is either run here or listed in [`NOT_RUN`] with the reason,
//! so a new example cannot be left untried by accident, and a listed one that is gone from the docs fails the test.
//!
//! A block runs under `bash -euo pipefail` with `curl` made to fail on an HTTP error (`--fail-with-body`), so an
//! example that answers 4xx or 5xx fails the test just as one that does not parse.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, http, twinport};

/// audit.md's export and verify: run by [`audit_export_and_verify_as_documented`] with the real verifier key.
const AUDIT_EXPORT: &str =
    "twinport audit export --config twinport.toml --format jsonl --out audit-2026-03.jsonl";

/// Examples that cannot run on loopback in a test, by file and first line, with the reason.
const NOT_RUN: &[(&str, &str, &str)] = &[
    ("README.md", "cargo run --release -- demo", "a release build takes minutes; tests/tests/demo.rs runs the demo itself"),
    ("README.md", "cargo test --workspace", "the test command: this test is part of it"),
    ("README.md", "TWINPORT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --workspace", "the test command: this test is part of it"),
    ("README.md", "cargo run --release -- bench negotiation", "benchmarks take minutes in a release build; their figures are in the docs"),
    ("README.md", "cargo run --release -- bench dataplane --requests 50000 [--pin] [--backend-wait-us 1000] [--backend-work-us 100] [--postgres postgres://...]", "benchmarks take minutes in a release build, and the block lists options in brackets"),
    ("README.md", "cargo build --release -p twinport", "a release build takes minutes; this test starts the same `init` and `serve` from the debug binary"),
    ("docs/contracts.md", "cargo build --release -p twinport", "a release build and a benchmark take minutes"),
    ("docs/operators.md", "cargo build --release -p twinport", "a release build takes minutes, and the block writes to /etc"),
    ("docs/operators.md", "docker build -f deploy/Dockerfile -t twinport .", "needs a Docker daemon; the image's files are checked by tests/tests/deploy_compose.rs (its HEALTHCHECK run against a live connector)"),
    ("docs/operators.md", "docker compose -f deploy/compose.yaml up --build -d", "needs a Docker daemon; the compose file is validated by docker-compose in tests/tests/deploy_compose.rs"),
    ("docs/operators.md", "twinport init ./city --participant-id https://twin.example-city.eu/twinport   # or bring your own key", "needs a Kubernetes cluster; the chart is rendered and validated by tests/tests/deploy_chart.rs"),
    ("docs/operators.md", "helm install twinport deploy/helm/twinport -f my-sidecar-values.yaml   # form: sidecar, sidecar.workload, sidecar.podSelector", "needs a Kubernetes cluster; tests/tests/deploy_chart.rs renders the sidecar set and applies its patch with kubectl kustomize"),
    ("docs/operators.md", "python3 -m venv .venv && .venv/bin/pip install -r deploy/helm/requirements.txt", "downloads Helm's SDK from PyPI; .ci/setup-chart.sh installs it and tests/tests/deploy_chart.rs runs the same render and validation"),
    ("docs/operations.md", "twinport completions bash > /etc/bash_completion.d/twinport", "installs into system directories (/etc, zsh's fpath, /usr/local/share/man); connector/tests/cli.rs generates each script and page"),
    ("docs/configuration.md", "TWINPORT_MANAGEMENT_TOKEN=\"$(openssl rand -hex 32)\" \\", "a production start: PostgreSQL at db:5432 and a config under /etc"),
    ("docs/identity.md", "curl -s https://twinport.city-a.example/.well-known/did.json        # our DID document", "did:web needs the connector on its public HTTPS host; tests/tests/dcp.rs serves and reads the same documents"),
    ("docs/audit.md", AUDIT_EXPORT, "the --vkey is shown elided; this test runs the same export and verify in `audit_export_and_verify_as_documented`"),
    ("docs/contracts.md", "curl -s -H \"Authorization: Bearer $TOKEN\" \\", "the agreement id comes from a negotiation run before; tests/tests/management_api.rs makes and verifies one"),
    ("docs/contracts.md", "API=http://127.0.0.1:8081/api/v1", "ids (`urn:uuid:…`) come from the calls before them; tests/tests/management_api.rs runs each call"),
    ("docs/policies.md", "curl -s -H \"$AUTH\" $API/agreements/urn:uuid:…/duties          # the duties, their state, every record", "the agreement id comes from a negotiation run before; tests/tests/policy_duties.rs runs both calls"),
    ("docs/models.md", "# City B checks city A's flood model against A's rainfall and its own terrain model.", "names city A's rainfall and city B's terrain datasets, which the sample catalogues do not hold; tests/tests/model_alignment.rs runs the same command"),
    ("docs/models.md", "curl -s -X POST localhost:8081/api/v1/alignment -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\", "names city A's rainfall dataset, which the sample catalogue does not hold; tests/tests/model_alignment.rs makes the same request"),
];

/// Who a runnable example speaks as: city A (the documented `127.0.0.1:8080`/`8081` are A's), city B (they are B's),
/// or city B calling A's DSP endpoint with a token made by the docs' own `mktoken.sh`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    A,
    B,
    BWithToken,
    /// The README's quick start: run beside `./my-city`, which is city A.
    Readme,
}

/// Examples that run as a given side (all others in `docs/` run as A); and the one that is a script to write.
const SIDES: &[(&str, &str, Side)] = &[
    ("docs/partners.md", "# On city B's side; the provider's participant id is percent-encoded as one path segment.", Side::B),
    ("docs/partners.md", "curl -s -X POST https://twinport.city-a.example/dsp/2025-1/catalog/request \\", Side::BWithToken),
    ("docs/partners.md", "curl -s https://twinport.city-a.example/dsp/2025-1/catalog/datasets/urn:ldt:sample-city:traffic-counts \\", Side::BWithToken),
    ("docs/partners.md", MKTOKEN, Side::B),
];
const SCRIPTS: &[(&str, &str, &str)] = &[("docs/partners.md", "#!/bin/sh", "mktoken.sh")];

/// The docs' own command for a partner's token (partners.md), also run before each example that needs a fresh one
/// (a token is good for one request).
const MKTOKEN: &str = "TOKEN=$(./mktoken.sh signing-key.pem https://city-b.example/twinport https://city-a.example/twinport \"$KID\")";

struct Example {
    file: String,
    line: usize,
    body: String,
}

impl Example {
    fn first_line(&self) -> &str {
        self.body.lines().next().unwrap_or("")
    }
    fn is(&self, file: &str, first: &str) -> bool {
        self.file == file && self.first_line() == first
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every fenced `sh`/`bash`/`shell`/`console` block of the docs and the README, de-indented.
fn examples() -> Vec<Example> {
    let root = root();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    files.push(root.join("README.md"));
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let fence = lines[i].trim_start();
            let indent = lines[i].len() - fence.len();
            if matches!(fence, "```sh" | "```bash" | "```shell" | "```console") {
                let start = i + 1;
                let mut end = start;
                while end < lines.len() && lines[end].trim() != "```" {
                    end += 1;
                }
                let body = lines[start..end]
                    .iter()
                    .map(|l| {
                        l.get(indent.min(l.len() - l.trim_start().len())..)
                            .unwrap_or("")
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                out.push(Example {
                    file: name.clone(),
                    line: i + 1,
                    body,
                });
                i = end;
            }
            i += 1;
        }
    }
    out
}

/// A connector made by `twinport init`, serving on free ports.
struct City {
    dir: PathBuf,
    public: u16,
    management: u16,
    token: String,
    child: Child,
}

impl Drop for City {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn init(dir: &Path, participant: &str) {
    let out = twinport()
        .arg("init")
        .arg(dir)
        .args(["--participant-id", participant])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn management_token(dir: &Path) -> String {
    let config = std::fs::read_to_string(dir.join("twinport.toml")).unwrap();
    config
        .lines()
        .find_map(|l| l.strip_prefix("management_token = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("init writes a management_token")
        .to_string()
}

fn partner(config: &Path, id: &str, public: u16) {
    let mut text = std::fs::read_to_string(config).unwrap();
    text.push_str(&format!(
        "\n[[partners]]\nid = \"{id}\"\nurl = \"http://127.0.0.1:{public}\"\n\
         jwks_url = \"http://127.0.0.1:{public}/.well-known/jwks.json\"\n\
         claims = {{ membership = \"ldt-network\", region = \"NL\" }}\n"
    ));
    std::fs::write(config, text).unwrap();
}

fn serve(dir: &Path, public: u16, management: u16) -> Child {
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let child = twinport()
        .args(["serve", "--config"])
        .arg(dir.join("twinport.toml"))
        .env("TWINPORT_LISTEN", format!("127.0.0.1:{public}"))
        .env("TWINPORT_PUBLIC_URL", format!("http://127.0.0.1:{public}"))
        .env(
            "TWINPORT_MANAGEMENT_LISTEN",
            format!("127.0.0.1:{management}"),
        )
        .env(
            "TWINPORT_LOCAL_LISTEN",
            format!("127.0.0.1:{}", free_port()),
        )
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(public, "GET", "/readyz", None, "").map(|(s, _)| s) != Ok(200) {
        assert!(
            Instant::now() < deadline,
            "twinport serve did not become ready: {}",
            std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// City A (`https://city-a.example/twinport`, in `./my-city` as the README names it) and city B, each the other's
/// partner, as partners.md describes.
fn cities(scratch: &Path) -> (City, City) {
    let (a_dir, b_dir) = (scratch.join("my-city"), scratch.join("city-b"));
    init(&a_dir, "https://city-a.example/twinport");
    init(&b_dir, "https://city-b.example/twinport");
    let (a_public, a_management, b_public, b_management) =
        (free_port(), free_port(), free_port(), free_port());
    partner(
        &a_dir.join("twinport.toml"),
        "https://city-b.example/twinport",
        b_public,
    );
    partner(
        &b_dir.join("twinport.toml"),
        "https://city-a.example/twinport",
        a_public,
    );
    let a = City {
        child: serve(&a_dir, a_public, a_management),
        token: management_token(&a_dir),
        dir: a_dir,
        public: a_public,
        management: a_management,
    };
    let b = City {
        child: serve(&b_dir, b_public, b_management),
        token: management_token(&b_dir),
        dir: b_dir,
        public: b_public,
        management: b_management,
    };
    (a, b)
}

/// The JSON body of a small answer from [`http`] (headers, then one object, perhaps in one chunk).
fn json_body(response: &str) -> serde_json::Value {
    let body = &response[response.find("\r\n\r\n").expect("a header block") + 4..];
    let json = &body[body.find('{').expect("a JSON object")..=body.rfind('}').unwrap()];
    serde_json::from_str(json).unwrap()
}

fn key_id(city: &City) -> String {
    let (status, response) = http(city.public, "GET", "/.well-known/jwks.json", None, "").unwrap();
    assert_eq!(status, 200);
    let jwks = json_body(&response);
    jwks["keys"][0]["kid"].as_str().unwrap().to_string()
}

/// Runs one example's text as `side`, with the documented addresses pointed at the test's connectors.
fn run(
    example: &Example,
    side: Side,
    a: &City,
    b: &City,
    scratch: &Path,
    kid: &str,
) -> Result<(), String> {
    let (us, cwd) = match side {
        Side::A => (a, a.dir.clone()),
        Side::Readme => (a, scratch.to_path_buf()),
        Side::B | Side::BWithToken => (b, b.dir.clone()),
    };
    let mut body = example.body.clone();
    for (from, to) in [
        (
            "https://twinport.city-a.example",
            format!("http://127.0.0.1:{}", a.public),
        ),
        ("127.0.0.1:8080", format!("127.0.0.1:{}", us.public)),
        ("localhost:8080", format!("127.0.0.1:{}", us.public)),
        ("127.0.0.1:8081", format!("127.0.0.1:{}", us.management)),
        ("localhost:8081", format!("127.0.0.1:{}", us.management)),
    ] {
        body = body.replace(from, &to);
    }
    // `TOKEN=...` is the docs' placeholder for the token the reader copies from twinport.toml: it is in the
    // environment already.
    body = body
        .lines()
        .filter(|l| !l.trim_start().starts_with("TOKEN=..."))
        .collect::<Vec<_>>()
        .join("\n");
    if side == Side::BWithToken {
        body = format!("{MKTOKEN}\n{body}");
    }
    let script = format!(
        "curl() {{ command curl --fail-with-body --show-error --max-time 20 \"$@\"; }}\n{body}\n"
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(cwd)
        .env("PATH", path_with_twinport(scratch))
        .env("TOKEN", &us.token)
        .env("CITY_B_MANAGEMENT_TOKEN", &b.token)
        .env("TWINPORT_CONFIG", a.dir.join("twinport.toml"))
        .env("KID", kid)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}:{} exited {}\n--- script\n{script}\n--- stdout\n{}\n--- stderr\n{}",
            example.file,
            example.line,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `twinport` on the PATH, as an installed binary would be.
fn path_with_twinport(scratch: &Path) -> String {
    let bin = scratch.join("bin");
    if !bin.exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_twinport"), bin.join("twinport")).unwrap();
    }
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn every_shell_example_in_the_docs_runs_or_says_why_not() {
    let scratch = tempfile::tempdir().unwrap();
    let scratch = scratch.path();
    let all = examples();
    assert!(all.len() > 20, "found only {} examples", all.len());

    // The list of examples that do not run names only examples that exist.
    let listed = NOT_RUN.iter().map(|(f, l, _)| (*f, *l));
    let listed = listed.chain(SIDES.iter().map(|(f, l, _)| (*f, *l)));
    for (file, first) in listed.chain(SCRIPTS.iter().map(|(f, l, _)| (*f, *l))) {
        assert!(
            all.iter().any(|e| e.is(file, first)),
            "{file}: no example starts with {first:?} any more; update the list in this test"
        );
    }

    let (a, b) = cities(scratch);
    // What a resource file looks like (catalogue.md's example); operators.md posts it as `resource.json`.
    std::fs::write(
        a.dir.join("resource.json"),
        r#"{"id":"urn:ldt:sample-city:noise","kind":"dataset","stage":"workflow-ready","title":"Noise levels","description":"Hourly noise levels per district.","distributions":[{"format":"application/json","backend":"http://127.0.0.1:9/noise"}],"offers":[{"policy":"partner-use"}]}"#,
    )
    .unwrap();
    let kid = key_id(&b);
    // partners.md shows `mktoken.sh` below the examples that use its tokens: it is written first, as a reader
    // following the page would have it by then.
    for (file, first, name) in SCRIPTS {
        let script = all
            .iter()
            .find(|e| e.is(file, first))
            .expect("the script's example");
        let path = b.dir.join(name);
        std::fs::write(&path, format!("{}\n", script.body)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    let mut failures = Vec::new();
    let mut ran = 0;
    for example in &all {
        if NOT_RUN.iter().any(|(f, l, _)| example.is(f, l)) {
            continue;
        }
        if SCRIPTS.iter().any(|(f, l, _)| example.is(f, l)) {
            continue;
        }
        let side = SIDES
            .iter()
            .find(|(f, l, _)| example.is(f, l))
            .map(|(_, _, s)| *s)
            .unwrap_or(if example.file == "README.md" {
                Side::Readme
            } else {
                Side::A
            });
        ran += 1;
        if let Err(e) = run(example, side, &a, &b, scratch, &kid) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} examples failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(ran >= 12, "only {ran} examples ran");
}

/// audit.md's export and verify, with the verifier key the connector really has instead of the elided one.
#[test]
fn audit_export_and_verify_as_documented() {
    let scratch = tempfile::tempdir().unwrap();
    let (a, _b) = cities(scratch.path());
    // Something to log: a management read, then give the writer a checkpoint to sign.
    let _ = http(a.management, "GET", "/api/v1/resources", Some(&a.token), "");
    let example = examples()
        .into_iter()
        .find(|e| e.is("docs/audit.md", AUDIT_EXPORT))
        .expect("audit.md's export example");
    let export = example.body.lines().next().unwrap();
    let verify = example
        .body
        .lines()
        .find(|l| l.starts_with("twinport audit verify"))
        .unwrap();
    let (status, response) = http(
        a.management,
        "GET",
        "/api/v1/audit/checkpoint",
        Some(&a.token),
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{response}");
    let checkpoint = json_body(&response);
    let vkey = checkpoint["vkey"]
        .as_str()
        .expect("the checkpoint names its vkey");
    let verify = verify
        .split(" --vkey")
        .next()
        .map(|v| format!("{v} --vkey '{vkey}'"))
        .unwrap();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &format!("{export}\n{verify}\n")])
        .current_dir(&a.dir)
        .env("PATH", path_with_twinport(scratch.path()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("ok: "), "verify printed {printed:?}");
}
