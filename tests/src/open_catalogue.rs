//! Fixtures for the open catalogue's tests: a city pair whose city A publishes the deploy examples' catalogue
//! (every kind, every stage, all discoverable) with the example config's `[catalogue]` settings, and a runner for
//! the real Python clients (OWSLib, pyshacl, ckanext-dcat) that `.ci/run` installs into virtual environments.

use std::path::{Path, PathBuf};
use std::process::Output;

use twinport::config::Config;

use crate::{city_pair_with, City, Storage};

/// The repository's root.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_path_buf()
}

/// `deploy/examples/twinport.toml`, validated.
pub fn example_config() -> Config {
    let dir = repository().join("deploy/examples");
    let text = std::fs::read_to_string(dir.join("twinport.toml")).expect("example config");
    Config::from_toml(&text, &dir, &[]).expect("the example config is valid")
}

/// Cities A and B; A's catalogue is the deploy examples' (eight resources, all discoverable).
pub async fn example_pair(storage: Storage) -> (City, City) {
    let example = example_config();
    city_pair_with(storage, move |config: &mut Config| {
        if config.participant_id == crate::CITY_A {
            config.catalogue = example.catalogue.clone();
            config.catalogue_dir = example.catalogue_dir.clone();
        }
    })
    .await
}

/// The Python interpreter of the virtual environment named by `variable` (set by `.ci/run`), or `None` with the
/// reason printed, so a developer without it sees the test was skipped and why.
pub fn python(variable: &str) -> Option<PathBuf> {
    match std::env::var(variable) {
        Ok(dir) => Some(Path::new(&dir).join("bin/python")),
        Err(_) => {
            println!(
                "skipped: {variable} is not set (.ci/run installs the Python clients and sets it)"
            );
            None
        }
    }
}

/// Runs `tests/python/<script>` with `args` under `python`, off the async runtime.
pub async fn run_python(python: &Path, script: &str, args: &[String]) -> Output {
    let python = python.to_path_buf();
    let script = repository().join("tests/python").join(script);
    let args = args.to_vec();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .args(args)
            .output()
    })
    .await
    .expect("python runs")
    .expect("python starts")
}

/// Runs a script and returns its standard output, failing the test with both streams when it fails.
pub async fn python_ok(python: &Path, script: &str, args: &[String]) -> String {
    let out = run_python(python, script, args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
