//! Records the commit the connector is built from as `TWINPORT_COMMIT`, for `twinport --version`, `twinport
//! version` and the `twinport_build_info` metric. Packagers building from a tarball (no `.git`) set
//! `TWINPORT_BUILD_COMMIT`; without either the commit is "unknown", never a build failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=TWINPORT_BUILD_COMMIT");
    let commit = match std::env::var("TWINPORT_BUILD_COMMIT") {
        Ok(given) if is_plain(given.trim()) => given.trim().to_string(),
        Ok(given) => {
            println!(
                "cargo:warning=TWINPORT_BUILD_COMMIT={given:?} ignored: one token of letters, digits and .-_+ \
                 (at most 64)"
            );
            from_git().unwrap_or_else(|| "unknown".to_string())
        }
        Err(_) => from_git().unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=TWINPORT_COMMIT={commit}");
}

/// A commit goes into a version line and a metric label: one short token, nothing that needs escaping.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
}

fn from_git() -> Option<String> {
    let commit = git(&["rev-parse", "HEAD"])?;
    // Rebuild when HEAD moves (a checkout, or a commit on the current branch), not on every file change.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from) {
        watch(&dir.join("HEAD"));
        watch(&dir.join("packed-refs"));
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch(&dir.join(branch));
        }
    }
    is_plain(&commit).then_some(commit)
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}
