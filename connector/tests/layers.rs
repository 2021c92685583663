//! Keeps the connector's layering: every `crate::…` path in `connector/src` must name a module its own module may
//! import, as the layer table in `docs/architecture.md` says. The table is the input, so the shape is kept by this
//! test rather than by reviewers: an upward import (a domain module reaching for the assembly or for a surface)
//! fails here with the file and line. Test code (`tests.rs`, `test_support.rs`, and any item marked
//! `#[cfg(test)]`) may reach anywhere, as the assembly does.

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
        problems.extend(violations(&shown, &module, depth_of(rel), &text, &allowed));
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
            if line.contains("axum::") || line.contains("use axum") || line.contains("axum::{") {
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
                  fn f() { crate::app::start(); }\nuse crate::{\n    config::X,\n    app::Y,\n};\n\
                  use super::super::app::Z;\nuse super::sibling;\nuse crate::*;\n\
                  #[cfg(test)]\nmod tests {\n    use crate::app::x;\n}\n#[cfg(test)]\nmod test_support;\n\
                  fn after_the_tests() { crate::app::again(); }\n";
    // `storage/records.rs` sits two levels down: `super::super::` is the crate root, `super::` is `storage`.
    let found = violations("storage/records.rs", "storage", 2, source, &allowed);
    assert_eq!(
        found,
        vec![
            "storage/records.rs:3: `storage` imports `app`".to_string(),
            "storage/records.rs:4: `storage` imports `app`".to_string(),
            "storage/records.rs:5: `storage` imports `app`".to_string(),
            "storage/records.rs:9: `storage` imports `app`".to_string(),
            "storage/records.rs:11: `storage` imports everything at the crate root (`*`)"
                .to_string(),
            "storage/records.rs:18: `storage` imports `app`".to_string(),
        ]
    );
    let unknown = violations("cache.rs", "cache", 1, "use crate::config::X;\n", &allowed);
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

/// How deep a file's module sits below the crate root: `client.rs` and `contracting/mod.rs` are 1,
/// `contracting/negotiation.rs` is 2. A chain of that many `super::` lands on the crate root.
fn depth_of(rel: &Path) -> usize {
    let parts = rel.components().count();
    if rel.file_name().is_some_and(|n| n == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// Every top-level module `text` reaches that `module` may not, as `file:line: …`: through `crate::`, through a
/// `super::` chain that climbs to the crate root, or through a glob of the crate root.
fn violations(
    file: &str,
    module: &str,
    depth: usize,
    text: &str,
    allowed: &Allowed,
) -> Vec<String> {
    let Some(may) = allowed.get(module) else {
        return vec![format!(
            "{file}: module `{module}` has no row in the layer table"
        )];
    };
    let mut found = Vec::new();
    for (n, line) in code_lines(text) {
        for target in referenced_modules(&line, depth) {
            if target == "*" {
                found.push(format!(
                    "{file}:{n}: `{module}` imports everything at the crate root (`*`)"
                ));
            } else if target != module && !may.contains(&target) {
                found.push(format!("{file}:{n}: `{module}` imports `{target}`"));
            }
        }
    }
    found
}

/// The non-test code of a file, one entry per line with its 1-based number: comments are skipped, a `use`
/// spread over several lines is joined into its first, and an item marked `#[cfg(test)]` (a `mod tests { … }`,
/// a `mod test_support;`, a helper) is left out, since test code may reach anywhere.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let code = lines[i].trim_start();
        if code.starts_with("#[cfg(test)]") {
            i = end_of_item(&lines, i + 1);
            continue;
        }
        if code.starts_with("//") {
            i += 1;
            continue;
        }
        let mut joined = lines[i].to_string();
        let start = i;
        if is_use(code) {
            while !joined.trim_end().ends_with(';') && i + 1 < lines.len() {
                i += 1;
                joined.push(' ');
                joined.push_str(lines[i].trim());
            }
        }
        out.push((start + 1, joined));
        i += 1;
    }
    out
}

fn is_use(code: &str) -> bool {
    code.starts_with("use ") || code.starts_with("pub use ") || code.starts_with("pub(crate) use ")
}

/// The index of the line after the item that starts at (or after blank and attribute lines from) `from`: one line
/// for an item ending in `;`, up to the matching `}` for one with a body.
fn end_of_item(lines: &[&str], from: usize) -> usize {
    let mut depth = 0i64;
    let mut opened = false;
    for (i, line) in lines.iter().enumerate().skip(from) {
        for ch in line.chars() {
            match ch {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let code = line.trim();
        let still_attribute = code.is_empty() || code.starts_with("#[") || code.starts_with("//");
        if opened && depth <= 0 {
            return i + 1;
        }
        if !opened && !still_attribute && code.ends_with(';') {
            return i + 1;
        }
    }
    lines.len()
}

/// The top-level modules a line names: the first segment after each `crate::` (each member of a
/// `crate::{a, b::c}` group), the same after a `super::` chain that climbs `depth` levels to the crate root, and
/// `*` for a glob of the crate root.
fn referenced_modules(line: &str, depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut at = 0;
    while at < line.len() {
        let rest = &line[at..];
        let preceded_by_path = at > 0 && {
            let before = bytes[at - 1];
            before.is_ascii_alphanumeric() || before == b'_' || before == b':'
        };
        let after_root = if preceded_by_path {
            None
        } else if let Some(r) = rest.strip_prefix("crate::") {
            Some(r)
        } else if rest.starts_with("super::") {
            let mut r = rest;
            let mut climbed = 0;
            while let Some(next) = r.strip_prefix("super::") {
                r = next;
                climbed += 1;
            }
            (climbed == depth).then_some(r)
        } else {
            None
        };
        let Some(r) = after_root else {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        at = line.len() - r.len();
        out.extend(first_segments(r));
    }
    out.retain(|m| m != "self");
    out
}

/// The first segment of a path (`app` of `app::AppState`), or of each member of a `{…}` group; `*` for a glob.
fn first_segments(path: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    if path.starts_with('*') {
        return vec!["*".to_string()];
    }
    let Some(group) = path.strip_prefix('{') else {
        let first = ident(path);
        return if first.is_empty() {
            Vec::new()
        } else {
            vec![first]
        };
    };
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = true;
    for (i, ch) in group.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            '*' if start && depth == 0 => {
                out.push("*".to_string());
                start = false;
            }
            c if start && (c.is_alphanumeric() || c == '_') => {
                out.push(ident(&group[i..]));
                start = false;
            }
            _ => {}
        }
    }
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
