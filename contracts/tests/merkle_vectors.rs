//! Runs every transparency-dev/merkle inclusion and consistency vector under `shared/testdata/merkle` through our
//! verifier: happy paths must verify, every mutation must be refused.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;
use twinport_contracts::transparency::merkle::{verify_consistency, verify_inclusion, Hash};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/merkle")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn bytes(v: &Value, k: &str) -> Vec<u8> {
    STANDARD
        .decode(v[k].as_str().unwrap_or_default())
        .expect("vector field is base64")
}

/// A proof element that is not 32 bytes cannot be represented in our API: such a proof is refused.
fn proof(v: &Value) -> Option<Vec<Hash>> {
    v["proof"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| {
                    STANDARD
                        .decode(h.as_str().unwrap_or_default())
                        .ok()?
                        .try_into()
                        .ok()
                })
                .collect()
        })
        .unwrap_or(Some(vec![]))
}

fn run(kind: &str, check: impl Fn(&Value) -> bool) -> usize {
    let dir = vectors_dir().join(kind);
    if !dir.exists() {
        println!(
            "skipping: merkle test vectors not found at {}",
            dir.display()
        );
        return 0;
    }
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    let mut failures = Vec::new();
    for f in &files {
        let v: Value =
            serde_json::from_slice(&std::fs::read(f).expect("readable")).expect("vector is json");
        let want_err = v["wantErr"].as_bool().expect("wantErr");
        if check(&v) == want_err {
            failures.push(format!("{} (wantErr {want_err})", f.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors wrong:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    files.len()
}

#[test]
fn every_inclusion_vector() {
    let n = run("inclusion", |v| {
        let (Some(p), Ok(leaf)) = (proof(v), Hash::try_from(bytes(v, "leafHash"))) else {
            return false;
        };
        let idx = v["leafIdx"].as_u64().expect("leafIdx");
        let size = v["treeSize"].as_u64().expect("treeSize");
        verify_inclusion(idx, size, &leaf, &p, &bytes(v, "root")).is_ok()
    });
    println!("{n} inclusion vectors checked");
}

#[test]
fn every_consistency_vector() {
    let n = run("consistency", |v| {
        let Some(p) = proof(v) else { return false };
        let s1 = v["size1"].as_u64().expect("size1");
        let s2 = v["size2"].as_u64().expect("size2");
        verify_consistency(s1, s2, &p, &bytes(v, "root1"), &bytes(v, "root2")).is_ok()
    });
    println!("{n} consistency vectors checked");
}
