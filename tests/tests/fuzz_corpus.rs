//! Replays the fuzzers' findings on stable, in every CI run: each file of `fuzz/corpus/<target>/` (the minimised
//! inputs that reach the parsers' corners) and of `fuzz/regressions/<target>/` (crashes once found, kept so they
//! stay fixed) goes through the same harness function the fuzz target calls. Fuzzing itself needs nightly and
//! hours; this keeps what it found from regressing in seconds.

use std::path::{Path, PathBuf};

use twinport_fuzz_harness::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files directly in `dir`, sorted so a failure names the same input on every machine; none when absent.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Feeds every corpus and regression input of `target` to `harness`. An empty or missing corpus fails: a replay
/// that tests nothing must not pass.
fn replay(target: &str, harness: fn(&[u8])) {
    let corpus = files(&fuzz_dir().join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target}/ is missing or empty: run the fuzzer and `cargo +nightly fuzz cmin {target}`"
    );
    let regressions = files(&fuzz_dir().join("regressions").join(target));
    for input in corpus.iter().chain(&regressions) {
        let data = std::fs::read(input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let outcome = std::panic::catch_unwind(|| harness(&data));
        assert!(
            outcome.is_ok(),
            "{target}: {} breaks an invariant (reproduce with `cargo +nightly fuzz run {target} {}`)",
            input.display(),
            input.display()
        );
    }
}

#[test]
fn dsp_messages() {
    replay("dsp_messages", twinport_fuzz_harness::dsp_messages);
}

#[test]
fn odrl_policy() {
    replay("odrl_policy", twinport_fuzz_harness::odrl_policy);
}

#[test]
fn canonical_json() {
    replay("canonical_json", twinport_fuzz_harness::canonical_json);
}

#[test]
fn config() {
    replay("config", twinport_fuzz_harness::config);
}

#[test]
fn path_checks() {
    replay("path_checks", twinport_fuzz_harness::path_checks);
}

#[test]
fn ngsi_ld_query() {
    replay("ngsi_ld_query", twinport_fuzz_harness::ngsi_ld_query);
}

#[test]
fn ngsi_ld_link() {
    replay("ngsi_ld_link", twinport_fuzz_harness::ngsi_ld_link);
}

/// Every target has a replay test above and every corpus directory a target, so a new fuzz target cannot go
/// unreplayed and a renamed one cannot leave a dead corpus behind.
#[test]
fn every_target_is_replayed_and_every_corpus_has_a_target() {
    let replayed = [
        "dsp_messages",
        "odrl_policy",
        "canonical_json",
        "config",
        "path_checks",
        "ngsi_ld_query",
        "ngsi_ld_link",
    ];
    let targets: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(targets, replayed);
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir)) else {
            continue;
        };
        for entry in entries {
            let name = entry.expect("a readable directory entry").file_name();
            let name = name.to_string_lossy();
            assert!(
                targets.contains(&name.as_ref()),
                "fuzz/{dir}/{name} belongs to no fuzz target"
            );
        }
    }
    let fuzz_targets = files(&fuzz_dir().join("fuzz_targets"));
    let mut stems: Vec<String> = fuzz_targets
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    stems.sort();
    let mut expected: Vec<String> = replayed.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(
        stems, expected,
        "fuzz/fuzz_targets/ and the harness disagree"
    );
}
