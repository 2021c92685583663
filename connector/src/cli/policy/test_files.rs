//! `twinport policy test PATH`: one test file, or every `*.test.json` under a directory, each case decided with the
//! connector's engine on the context the connector's request builder makes; one line per case and scope, then
//! `N passed, N failed`.

use std::path::{Path, PathBuf};

use twinport_policy::testing::{parse_test_file, run_test_file};
use twinport_policy::{Engine, EngineSettings};

use super::inputs::{load_policy, read};

/// Every `*.test.json` under `dir`, sorted so the output is the same on every machine.
fn find(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            find(&path, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".test.json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

pub fn run(path: &Path, settings: EngineSettings) -> Result<u8, String> {
    let (files, base) = if path.is_dir() {
        let mut files = Vec::new();
        find(path, &mut files)?;
        files.sort();
        if files.is_empty() {
            return Err(format!("{}: no *.test.json files found", path.display()));
        }
        (files, path.to_path_buf())
    } else if path.is_file() {
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        (vec![path.to_path_buf()], base)
    } else {
        return Err(format!("{}: no such file or directory", path.display()));
    };
    let engine = Engine::new(settings);
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in &files {
        let shown = file
            .strip_prefix(&base)
            .unwrap_or(file)
            .display()
            .to_string();
        // A test file that cannot be run counts as one failure, so a broken file can never look like a pass.
        let loaded = read(file)
            .and_then(|text| parse_test_file(&text).map_err(|e| e.to_string()))
            .and_then(|test| {
                let dir = file.parent().unwrap_or(Path::new("."));
                let policy = load_policy(&dir.join(&test.policy))?;
                Ok((test, policy))
            });
        let (test, policy) = match loaded {
            Ok(x) => x,
            Err(e) => {
                say!("FAIL {shown}: {e}");
                failed += 1;
                continue;
            }
        };
        match &test.description {
            Some(d) => say!("# {shown}: {d}"),
            None => say!("# {shown}"),
        }
        for outcome in run_test_file(&test, &policy, &engine) {
            if outcome.passed {
                say!("ok   {}", outcome.name);
                passed += 1;
            } else {
                say!("FAIL {}: {}", outcome.name, outcome.detail);
                failed += 1;
            }
        }
    }
    say!("{passed} passed, {failed} failed");
    Ok(if failed > 0 { 1 } else { 0 })
}
