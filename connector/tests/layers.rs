//! Keeps the connector's layering: every `crate::…` path in `connector/src` must name a module its own module may
//! import, as the layer table in `docs/architecture.md` says. The table is the input, so the shape is kept by this
//! test rather than by reviewers: an upward import (a domain module reaching for the assembly, a surface for
//! another surface) fails here with the file and line. Test code (`tests.rs`, and what follows `#[cfg(test)]`)
//! may reach anywhere, as the assembly does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module → the modules it may import, read from the table under "## Layers" in `docs/architecture.md`.
type Allowed = BTreeMap<String, BTreeSet<String>>;

#[test]
fn every_module_imports_only_what_its_layer_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("../docs/architecture.md"))
        .expect("docs/architecture.md");
    let allowed = read_table(&table);
    assert!(
        !allowed.is_empty(),
        "no layer table found in docs/architecture.md"
    );
    let mut files = Vec::new();
    collect_rs(&root.join("src"), &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(root.join("src")).expect("below src");
        let Some(module) = module_of(rel) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable source");
        let shown = format!("connector/src/{}", rel.display());
        problems.extend(violations(&shown, &module, &text, &allowed));
    }
    assert!(
        problems.is_empty(),
        "imports the layer table in docs/architecture.md does not allow:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn domain_modules_do_not_use_axum() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("../docs/architecture.md"))
        .expect("docs/architecture.md");
    let domain: BTreeSet<String> = doc
        .lines()
        .find_map(|l| l.strip_prefix("Without axum:"))
        .expect("a `Without axum:` line in docs/architecture.md")
        .split(',')
        .map(|m| m.trim().trim_matches('`').to_string())
        .collect();
    let mut files = Vec::new();
    collect_rs(&root.join("src"), &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(root.join("src")).expect("below src");
        if !module_of(rel).is_some_and(|m| domain.contains(&m)) {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        for (n, line) in code_lines(&text) {
            if line.contains("axum::") || line.contains("use axum") {
                problems.push(format!("connector/src/{}:{n}", rel.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "domain code using axum:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_layer_table_has_no_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("../docs/architecture.md"))
        .expect("docs/architecture.md");
    let allowed = read_table(&table);
    if let Some(cycle) = find_cycle(&allowed) {
        panic!("the layer table allows a cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn an_upward_import_is_reported() {
    let allowed = read_table(
        "## Layers\n\n| module | owns | may import |\n|---|---|---|\n| `storage` | rows | `config` |\n\
         | `config` | settings | — |\n| `app` | assembly | `storage`, `config` |\n",
    );
    let source = "//! uses the assembly\nuse crate::config::Config;\nuse crate::{app::AppState, storage};\n\
                  fn f() { crate::app::start(); }\n#[cfg(test)]\nmod tests { use crate::app::x; }\n";
    let found = violations("storage/mod.rs", "storage", source, &allowed);
    assert_eq!(
        found,
        vec![
            "storage/mod.rs:3: `storage` imports `app`".to_string(),
            "storage/mod.rs:4: `storage` imports `app`".to_string(),
        ]
    );
    let unknown = violations("cache.rs", "cache", "use crate::config::X;\n", &allowed);
    assert_eq!(
        unknown,
        vec!["cache.rs: module `cache` has no row in the layer table".to_string()]
    );
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// The top-level module a file belongs to; `None` for the crate roots and for whole-file test modules.
fn module_of(rel: &Path) -> Option<String> {
    let name = rel.file_name()?.to_str()?;
    if matches!(name, "tests.rs" | "test_support.rs") {
        return None;
    }
    let first = rel.components().next()?.as_os_str().to_str()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(module, "lib" | "main")).then(|| module.to_string())
}

fn read_table(markdown: &str) -> Allowed {
    let mut allowed = Allowed::new();
    let mut in_layers = false;
    for line in markdown.lines() {
        if line.starts_with("## ") {
            in_layers = line.trim() == "## Layers";
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !in_layers || cells.len() < 5 || !cells[1].starts_with('`') {
            continue;
        }
        let module = cells[1].trim_matches('`').to_string();
        let imports = cells[3]
            .split(',')
            .map(|c| c.trim().trim_matches('`').to_string())
            .filter(|c| !c.is_empty() && c != "—")
            .collect();
        allowed.insert(module, imports);
    }
    allowed
}

/// Every `crate::<module>` reference in `text` that `module` may not make, as `file:line: …`.
fn violations(file: &str, module: &str, text: &str, allowed: &Allowed) -> Vec<String> {
    let Some(may) = allowed.get(module) else {
        return vec![format!(
            "{file}: module `{module}` has no row in the layer table"
        )];
    };
    let mut found = Vec::new();
    for (n, line) in code_lines(text) {
        for target in referenced_modules(line) {
            if target != module && !may.contains(&target) {
                found.push(format!("{file}:{n}: `{module}` imports `{target}`"));
            }
        }
    }
    found
}

/// The lines of non-test code with their 1-based numbers: comments are skipped, and everything from the first
/// `#[cfg(test)]` on (test modules close their file).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(n, l)| (n + 1, l))
        .take_while(|(_, l)| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

/// The first segment after each `crate::` in a line, including each member of a `crate::{a, b::c}` group.
fn referenced_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut start = true;
            for (i, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        rest = &group[i..];
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphanumeric() || c == '_') => {
                        let ident: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        out.push(ident);
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                out.push(ident);
            }
        }
    }
    out.retain(|m| m != "self");
    out
}

fn find_cycle(allowed: &Allowed) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        allowed: &Allowed,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in allowed.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, allowed, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    allowed
        .keys()
        .find_map(|m| visit(m, allowed, &mut Vec::new(), &mut done))
}
