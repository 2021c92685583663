//! No misspelling of a key, an operator, an action or a left operand ever turns a deny into a permit. For every
//! template of `policy/examples`, every word in those positions is misspelt in every one-letter way (a letter left
//! out, doubled, swapped with its neighbour, replaced, inserted, or its case flipped); each misspelt policy must be
//! refused by the linter (as the connector refuses it), or still deny every request its test file says is denied.
//! A misspelling that happens to be another valid word in that position (`eq` → `neq`) is a different policy, not
//! a misspelling, and is left out.

use std::path::{Path, PathBuf};

use serde_json::Value;
use twinport_policy::lint::{lint, Severity};
use twinport_policy::model::{is_odrl_action, LeftOperand, Operator};
use twinport_policy::request::build;
use twinport_policy::testing::parse_test_file;
use twinport_policy::{Decision, Engine, EngineSettings, Policy, RequestContext, Scope};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Where a word sits in the document, which decides what counts as "another valid word" there.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Site {
    Key,
    Operator,
    LeftOperand,
    Action,
}

/// A word of the document and how to reach it: the path of object keys / array indices, and for a key, the key.
#[derive(Debug, Clone)]
struct Word {
    site: Site,
    path: Vec<Step>,
    text: String,
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn words(v: &Value, path: &mut Vec<Step>, out: &mut Vec<Word>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                if k != "@context" {
                    out.push(Word {
                        site: Site::Key,
                        path: path.clone(),
                        text: k.clone(),
                    });
                }
                let site = match k.as_str() {
                    "operator" => Some(Site::Operator),
                    "leftOperand" => Some(Site::LeftOperand),
                    "action" => Some(Site::Action),
                    _ => None,
                };
                if let (Some(site), Value::String(s)) = (site, child) {
                    let mut p = path.clone();
                    p.push(Step::Key(k.clone()));
                    out.push(Word {
                        site,
                        path: p,
                        text: s.clone(),
                    });
                }
                path.push(Step::Key(k.clone()));
                words(child, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(Step::Index(i));
                words(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Step::Key(k) => cur.get_mut(k.as_str())?,
            Step::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// The document with `word` replaced by `to`.
fn with(doc: &Value, word: &Word, to: &str) -> Option<Value> {
    let mut copy = doc.clone();
    let target = at(&mut copy, &word.path)?;
    match word.site {
        Site::Key => {
            let obj = target.as_object_mut()?;
            if obj.contains_key(to) {
                return None;
            }
            let value = obj.remove(&word.text)?;
            obj.insert(to.to_string(), value);
        }
        _ => *target = Value::String(to.to_string()),
    }
    Some(copy)
}

/// Every one-letter misspelling of `w`.
fn misspellings(w: &str) -> Vec<String> {
    let chars: Vec<char> = w.chars().collect();
    let letters: Vec<char> = ('a'..='z').collect();
    let mut out = Vec::new();
    let join = |c: &[char]| c.iter().collect::<String>();
    for i in 0..chars.len() {
        let mut c = chars.clone();
        c.remove(i);
        out.push(join(&c));
        let mut c = chars.clone();
        c.insert(i, chars[i]);
        out.push(join(&c));
        if i + 1 < chars.len() {
            let mut c = chars.clone();
            c.swap(i, i + 1);
            out.push(join(&c));
        }
        let flipped: String = if chars[i].is_uppercase() {
            chars[i].to_lowercase().collect()
        } else {
            chars[i].to_uppercase().collect()
        };
        let mut c = chars.clone();
        c.splice(i..=i, flipped.chars());
        out.push(join(&c));
        for l in &letters {
            let mut c = chars.clone();
            c[i] = *l;
            out.push(join(&c));
        }
    }
    for i in 0..=chars.len() {
        for l in &letters {
            let mut c = chars.clone();
            c.insert(i, *l);
            out.push(join(&c));
        }
    }
    out.sort();
    out.dedup();
    out.retain(|m| m != w && !m.is_empty());
    out
}

/// True when `m` is itself a valid word in the position of `word`: a different policy, not a misspelling.
fn valid_elsewhere(site: Site, m: &str) -> bool {
    match site {
        Site::Operator => Operator::from_term(m).is_some(),
        Site::Action => is_odrl_action(m),
        Site::LeftOperand => LeftOperand::from_term(m).is_known(),
        Site::Key => false,
    }
}

/// The requests each template's test file expects to be denied, as the contexts the engine decides on.
fn denied(policy: &Policy, test: &Path, engine: &Engine) -> Vec<(Scope, RequestContext)> {
    let file = parse_test_file(&read(test)).unwrap_or_else(|e| panic!("{}: {e}", test.display()));
    let mut out = Vec::new();
    for case in &file.cases {
        for (scope, expect) in case.expectations(file.scope) {
            if expect != Decision::Deny {
                continue;
            }
            let ctx = match (&case.context, &case.request) {
                (Some(c), _) => c.clone(),
                (None, Some(f)) => build(scope, f, policy),
                (None, None) => RequestContext::default(),
            };
            assert!(
                !engine.evaluate(policy, &ctx, scope).is_permit(),
                "{}: {} is expected to deny",
                test.display(),
                case.name
            );
            out.push((scope, ctx));
        }
    }
    out
}

#[test]
fn misspelling_never_widens_access() {
    let engine = Engine::new(EngineSettings::solidlab());
    let mut tried = 0usize;
    let mut refused = 0usize;
    let mut templates = 0usize;
    let mut tests: Vec<PathBuf> = std::fs::read_dir(examples())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.json"))
        .collect();
    tests.sort();
    for test in &tests {
        let file = parse_test_file(&read(test)).unwrap_or_else(|e| panic!("{e}"));
        let policy_path = test
            .parent()
            .map(|d| d.join(&file.policy))
            .unwrap_or_default();
        let doc: Value =
            serde_json::from_str(&read(&policy_path)).unwrap_or_else(|e| panic!("{e}"));
        let policy = Policy::from_json(&doc).unwrap_or_else(|e| panic!("{e}"));
        let deny = denied(&policy, test, &engine);
        assert!(!deny.is_empty(), "{}: no denied case", test.display());
        templates += 1;
        let mut sites = Vec::new();
        words(&doc, &mut Vec::new(), &mut sites);
        for word in &sites {
            for m in misspellings(&word.text) {
                if valid_elsewhere(word.site, &m) {
                    continue;
                }
                let Some(mutated) = with(&doc, word, &m) else {
                    continue;
                };
                tried += 1;
                if lint(&mutated).iter().any(|d| d.severity == Severity::Error) {
                    refused += 1;
                    continue;
                }
                // Not refused: it must still deny everything the original denies. (A policy the engine cannot
                // read at all denies too, but the linter refuses those first.)
                let Ok(p) = Policy::from_json(&mutated) else {
                    continue;
                };
                for (scope, ctx) in &deny {
                    let report = engine.evaluate(&p, ctx, *scope);
                    assert!(
                        !report.is_permit(),
                        "{}: {:?} {:?} -> {m:?} is accepted and permits in scope {scope}: {:#?}",
                        policy_path.display(),
                        word.site,
                        word.text,
                        report.reasons()
                    );
                }
            }
        }
    }
    assert_eq!(templates, 8);
    println!(
        "{tried} misspellings of {templates} templates: {refused} refused, the rest still deny"
    );
    assert!(tried > 50_000, "{tried}");
    assert!(refused * 10 > tried * 9, "{refused} of {tried} refused");
}
