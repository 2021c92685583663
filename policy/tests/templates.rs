//! The template library under `policy/examples/`: every `*.test.json` runs through `testing::run_test_file`
//! with the connector's settings and must pass, deciding in every scope; every template lints without errors or
//! warnings and explains in one sentence per rule.

use std::path::{Path, PathBuf};
use twinport_policy::lint::lint;
use twinport_policy::testing::{parse_test_file, run_test_file};
use twinport_policy::{explain, Engine, EngineSettings, Policy};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn template_test_files_pass() {
    let mut tests: Vec<PathBuf> = std::fs::read_dir(examples())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.json"))
        .collect();
    tests.sort();
    assert_eq!(tests.len(), 8, "one test file per template");
    // The settings a running connector decides with: only a violated duty blocks its permission.
    let engine = Engine::new(EngineSettings::solidlab());
    let mut failures = Vec::new();
    let mut cases = 0;
    for t in &tests {
        let file = parse_test_file(&read(t)).unwrap_or_else(|e| panic!("{}: {e}", t.display()));
        let policy_path = t.parent().map(|d| d.join(&file.policy)).unwrap_or_default();
        let policy_text = read(&policy_path);
        let policy = Policy::from_json_str(&policy_text)
            .unwrap_or_else(|e| panic!("{}: {e}", policy_path.display()));
        let mut scopes: Vec<twinport_policy::Scope> = file
            .cases
            .iter()
            .flat_map(|c| c.expectations(file.scope))
            .map(|(s, _)| s)
            .collect();
        scopes.sort();
        scopes.dedup();
        assert_eq!(
            scopes,
            twinport_policy::Scope::ALL.to_vec(),
            "{}: the template's cases must decide in every scope",
            t.display()
        );
        for outcome in run_test_file(&file, &policy, &engine) {
            cases += 1;
            if !outcome.passed {
                failures.push(format!(
                    "{}: {}: {}",
                    t.display(),
                    outcome.name,
                    outcome.detail
                ));
            }
        }
        let json: serde_json::Value = serde_json::from_str(&policy_text).unwrap_or_default();
        let findings = lint(&json);
        assert!(
            findings.is_empty(),
            "{}: {findings:?}",
            policy_path.display()
        );
        let sentences = explain(&policy);
        assert_eq!(sentences.len(), policy.rules().count());
        println!("{}:\n  {}", file.policy, sentences.join("\n  "));
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(cases >= 20, "{cases}");
}
