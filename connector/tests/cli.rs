//! The `twinport` binary as an operator meets it: help and version (with the commit), completions and manual
//! pages, `init` then `serve` with a start line naming every listener and the storage, a clean stop on SIGTERM,
//! logs without colour codes unless on a terminal, a bad config refused with the key named before any port is
//! bound, and `config check` listing every problem of a config without starting anything.

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
    let version = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        version.starts_with(&format!("twinport {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let commit = version
        .trim_end()
        .strip_suffix(')')
        .and_then(|v| v.rsplit_once("(commit "))
        .map(|(_, c)| c.to_string())
        .unwrap();
    assert_eq!(commit, twinport::telemetry::COMMIT);
    // Built from a git checkout here, so the commit is known.
    if std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.git")).exists() {
        assert!(
            commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "{commit}"
        );
    }
    let out = twinport().arg("version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), version);
    for sub in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["init", "--help"],
        vec!["demo", "--help"],
        vec!["config", "check", "--help"],
        vec!["completions", "--help"],
        vec!["man", "--help"],
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

#[test]
fn completions_for_each_shell_and_manual_pages() {
    for (shell, marker) in [
        ("bash", "_twinport()"),
        ("zsh", "#compdef twinport"),
        ("fish", "complete -c twinport"),
    ] {
        let out = twinport().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        // Subcommands and their flags are in it, nested ones included.
        assert!(
            script.contains("serve") && script.contains("check"),
            "{shell}"
        );
    }
    let out = twinport().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown shell is misuse");
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcsh"));

    let out = twinport().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.contains(".TH twinport 1") && page.contains("config"),
        "{page}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = twinport()
        .args(["man", "--dir"])
        .arg(dir.path().join("man1"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for page in [
        "twinport.1",
        "twinport-serve.1",
        "twinport-config-check.1",
        "twinport-audit-verify.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join("man1").join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH "), "{page}");
    }
}

/// `twinport init` into a fresh directory; returns the directory holding `twinport.toml`.
fn initialised(dir: &std::path::Path) -> std::path::PathBuf {
    let city = dir.join("city");
    let out = twinport().arg("init").arg(&city).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    city
}

#[test]
fn serve_logs_a_start_line_naming_every_listener_and_no_colour_into_a_pipe() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let city = initialised(dir.path());
    let (dsp, mgmt, local) = (free_port(), free_port(), free_port());
    let mut child = twinport()
        .args(["serve", "--config"])
        .arg(city.join("twinport.toml"))
        .env("TWINPORT_LISTEN", format!("127.0.0.1:{dsp}"))
        .env("TWINPORT_MANAGEMENT_LISTEN", format!("127.0.0.1:{mgmt}"))
        .env("TWINPORT_LOCAL_LISTEN", format!("127.0.0.1:{local}"))
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    let started = loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.contains("twinport started") => break line,
            Ok(line) => log.push(line),
            Err(_) => panic!("no start line in {log:#?}"),
        }
    };
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    log.push(started.clone());
    log.extend(rx.try_iter());
    for line in &log {
        assert!(
            !line.contains('\x1b'),
            "escape codes in a piped log: {line:?}"
        );
    }
    let db = city.join("data/twinport.db");
    for field in [
        format!("dsp=http://127.0.0.1:{dsp}/dsp/2025-1"),
        format!("data_plane=http://127.0.0.1:{dsp}/data"),
        format!("management=http://127.0.0.1:{mgmt}"),
        format!("local=http://127.0.0.1:{local}"),
        format!("storage=sqlite {}", db.display()),
    ] {
        assert!(started.contains(&field), "{field} missing in {started}");
    }
}

#[test]
fn log_colour_only_on_a_terminal_and_never_with_no_color() {
    // A port already taken: `serve` logs its first lines (audit key, catalogue), then stops at the bind.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let city = initialised(dir.path());
    let command = format!(
        "{} serve --config {}",
        env!("CARGO_BIN_EXE_twinport"),
        city.join("twinport.toml").display()
    );
    let run = |terminal: bool, no_color: Option<&str>| {
        let mut c = if terminal {
            // util-linux `script` gives the command a pseudo-terminal.
            let mut c = Command::new("script");
            c.args(["-qec", &command, "/dev/null"]);
            c
        } else {
            let mut c = twinport();
            c.args(["serve", "--config"])
                .arg(city.join("twinport.toml"));
            c
        };
        c.env("TWINPORT_LISTEN", taken.local_addr().unwrap().to_string())
            .env(
                "TWINPORT_MANAGEMENT_LISTEN",
                format!("127.0.0.1:{}", free_port()),
            )
            .env_remove("NO_COLOR")
            .env_remove("RUST_LOG");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let out = c.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("cannot listen on"), "{text}");
        assert!(text.contains("INFO"), "{text}");
        text
    };
    assert!(!run(false, None).contains('\x1b'));
    assert!(!run(false, Some("1")).contains('\x1b'));
    if Command::new("script").arg("--version").output().is_err() {
        println!("skipped: the terminal half (util-linux `script` is not installed)");
        return;
    }
    assert!(run(true, None).contains("\x1b["), "a terminal gets colour");
    assert!(
        !run(true, Some("1")).contains('\x1b'),
        "NO_COLOR wins on a terminal"
    );
}

#[test]
fn config_check_passes_a_good_config_without_starting_anything() {
    let dir = tempfile::tempdir().unwrap();
    let city = initialised(dir.path());
    let port = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = twinport()
        .args(["config", "check"])
        .env("TWINPORT_CONFIG", city.join("twinport.toml"))
        // A port in use does not matter: nothing is bound.
        .env("TWINPORT_LISTEN", port.local_addr().unwrap().to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(": OK"));
    assert!(
        !city.join("data").exists(),
        "the check created the data directory"
    );
}

#[test]
fn config_check_lists_every_problem_with_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let city = initialised(dir.path());
    let config = city.join("twinport.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "participant_id = \"https://city.example/twinport\"",
            "participant_id = \"city-a\"",
        )
        .replace(
            "log_format = \"human\"",
            "log_format = \"fancy\"\nlisten_backlog = 5",
        )
        .replace(
            "signing_key = \"signing-key.pem\"",
            "signing_key = \"gone.pem\"",
        );
    std::fs::write(&config, text).unwrap();
    let catalogue = city.join("catalogue");
    std::fs::write(
        catalogue.join("policies/misspelt.json"),
        r#"{"permission": [{"action": "use", "constraints": []}]}"#,
    )
    .unwrap();
    std::fs::write(catalogue.join("policies/garbled.json"), "{not json").unwrap();
    std::fs::write(catalogue.join("resources/broken.toml"), "id = 5\n").unwrap();

    let out = twinport()
        .args(["config", "check", "--config"])
        .arg(&config)
        .env("TWINPORT_MANAGEMENT_LISTEN", "nowhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = config.display().to_string();
    for expected in [
        format!("{file}: participant_id: must be an absolute URI"),
        format!("{file}: listen_backlog: unknown field `listen_backlog`"),
        format!("{file}: log_format: must be \"human\" or \"json\""),
        format!("{file}: signing_key: cannot read"),
        "TWINPORT_MANAGEMENT_LISTEN (environment): management_listen: must be an address"
            .to_string(),
        format!(
            "{}: permission[0].constraints: unknown key \"constraints\"",
            catalogue.join("policies/misspelt.json").display()
        ),
        format!(
            "{}: not valid JSON",
            catalogue.join("policies/garbled.json").display()
        ),
        format!("{}: ", catalogue.join("resources/broken.toml").display()),
        format!("{file}: 8 problems"),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
    assert!(!city.join("data").exists());

    // A file that is not TOML at all: one problem, with its line.
    std::fs::write(
        &config,
        "participant_id = \"https://a.example/\"\nlisten = [\n",
    )
    .unwrap();
    let out = twinport()
        .args(["config", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not valid TOML (line "), "{stderr}");

    // A problem between keys ends the key checks, and says so; the exit code is still 1.
    std::fs::write(
        &config,
        "participant_id = \"https://a.example/\"\nsigning_key = \"k.pem\"\nmode = \"production\"\n",
    )
    .unwrap();
    let out = twinport()
        .args(["config", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(": oidc: required in production mode"),
        "{stderr}"
    );
    assert!(stderr.contains("were not checked"), "{stderr}");
    // The files the keys locate are checked all the same.
    assert!(stderr.contains(": signing_key: cannot read"), "{stderr}");
    assert!(
        stderr.contains("misspelt.json: permission[0].constraints"),
        "{stderr}"
    );
}
