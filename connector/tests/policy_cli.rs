//! `twinport policy ...` as a legal team runs it: eval in text and JSON with the documented exit codes, explain
//! one sentence per rule, lint findings with their path, the template library's tests passing, a failing test
//! file failing the run, and malformed input named precisely.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn twinport() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twinport"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/examples")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn eval(policy: &Path, request: &Path, extra: &[&str]) -> Output {
    twinport()
        .args(["policy", "eval", "--policy"])
        .arg(policy)
        .arg("--request")
        .arg(request)
        .args(extra)
        .output()
        .unwrap()
}

const RESEARCH: &str =
    r#"{"action":"use","resource":{"id":"urn:ldt:traffic-counts"},"purpose":"research"}"#;
const MARKETING: &str =
    r#"{"action":"use","resource":{"id":"urn:ldt:traffic-counts"},"purpose":"marketing"}"#;

#[test]
fn eval_prints_a_readable_report_and_exits_0_on_permit_3_on_deny() {
    let dir = tempfile::tempdir().unwrap();
    let policy = examples().join("research-only.policy.json");

    let permit = eval(&policy, &write(dir.path(), "r.json", RESEARCH), &[]);
    assert_eq!(permit.status.code(), Some(0), "{}", stderr(&permit));
    let text = stdout(&permit);
    assert!(text.starts_with("decision: PERMIT (scope access"), "{text}");
    assert!(
        text.contains("[ok  ] permission[0].constraint[0]"),
        "{text}"
    );

    let deny = eval(&policy, &write(dir.path(), "m.json", MARKETING), &[]);
    assert_eq!(deny.status.code(), Some(3), "{}", stderr(&deny));
    let text = stdout(&deny);
    assert!(text.starts_with("decision: DENY"), "{text}");
    assert!(
        text.contains("purpose \"marketing\" does not satisfy isAnyOf"),
        "{text}"
    );
    assert!(text.contains("reasons:\n  - permission "), "{text}");
}

#[test]
fn eval_json_is_the_compliance_report() {
    let dir = tempfile::tempdir().unwrap();
    let policy = examples().join("research-only.policy.json");

    let permit = eval(
        &policy,
        &write(dir.path(), "r.json", RESEARCH),
        &["--json", "--scope", "negotiation"],
    );
    assert_eq!(permit.status.code(), Some(0), "{}", stderr(&permit));
    let report: serde_json::Value = serde_json::from_slice(&permit.stdout).unwrap();
    assert_eq!(report["decision"], "permit");
    assert_eq!(report["scope"], "negotiation");
    assert_eq!(
        report["policyId"],
        "https://city.example/policies/research-only"
    );
    assert_eq!(report["rules"][0]["constraints"][0]["value"], "research");

    let deny = eval(
        &policy,
        &write(dir.path(), "m.json", MARKETING),
        &["--json"],
    );
    assert_eq!(deny.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&deny.stdout).unwrap();
    assert_eq!(report["decision"], "deny");
    assert_eq!(report["decidingRules"][0], "closed-world");
    let constraint = &report["rules"][0]["constraints"][0];
    assert_eq!(constraint["satisfied"], false);
    assert!(constraint["reason"]
        .as_str()
        .unwrap()
        .contains("purpose \"marketing\" does not satisfy isAnyOf"));
}

#[test]
fn eval_adds_rego_rules_for_the_scope_and_settings_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let request = write(dir.path(), "r.json", RESEARCH);
    let rego = write(
        dir.path(),
        "members.rego",
        "package twinport.access\n\ndeny contains msg if {\n    not input.counterparty.claims.membership\n    msg := \"the partner has no membership claim\"\n}\n",
    );
    let out = eval(
        &examples().join("research-only.policy.json"),
        &request,
        &["--rego", rego.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("rego: the partner has no membership claim"),
        "{}",
        stdout(&out)
    );

    // A module for another scope is refused as unusable input, not silently ignored.
    let out = eval(
        &examples().join("research-only.policy.json"),
        &request,
        &["--rego", rego.to_str().unwrap(), "--scope", "transfer"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected package twinport.transfer"));

    // The connector lets an unrecorded duty pass; the formal-semantics setting makes it block.
    let policy = examples().join("attribution-duty.policy.json");
    let request = write(
        dir.path(),
        "d.json",
        r#"{"action":"distribute","resource":{"id":"urn:ldt:street-trees"}}"#,
    );
    assert_eq!(eval(&policy, &request, &[]).status.code(), Some(0));
    let settings = write(dir.path(), "s.json", r#"{"dutyNotSetBlocks": true}"#);
    let out = eval(
        &policy,
        &request,
        &["--settings", settings.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout(&out).contains("is not yet fulfilled"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn malformed_input_is_named_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let request = write(dir.path(), "r.json", RESEARCH);
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"@type":"Set","permission":[{"action":"use","constraint":[{"leftOperand":"purpose","operator":"equals","rightOperand":"x"}]}]}"#,
    );
    let out = eval(&bad, &request, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("permission[0].constraint[0].operator: unknown operator \"equals\""),
        "{}",
        stderr(&out)
    );

    let not_json = write(dir.path(), "broken.json", "{\"permission\": [");
    let out = eval(&not_json, &request, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid json"), "{}", stderr(&out));

    let bad_request = write(
        dir.path(),
        "typo.json",
        r#"{"counterparty":{"claim":{"membership":"partner-city"}}}"#,
    );
    let out = eval(
        &examples().join("research-only.policy.json"),
        &bad_request,
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("counterparty.claim: unknown field `claim`"),
        "{}",
        stderr(&out)
    );

    let out = eval(&dir.path().join("missing.json"), &request, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.json"));

    let out = twinport()
        .args(["policy", "explain"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("permission[0].constraint[0].operator"));
}

#[test]
fn explain_prints_one_sentence_per_rule() {
    let out = twinport()
        .args(["policy", "explain"])
        .arg(examples().join("non-commercial.policy.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "Anyone may use urn:ldt:air-quality.",
            "Anyone must not use urn:ldt:air-quality for commercial, marketing or resale.",
        ]
    );

    let out = twinport()
        .args(["policy", "explain"])
        .arg(examples().join("deletion-duty.policy.json"))
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("must delete"), "{text}");
}

#[test]
fn lint_flags_errors_with_their_path_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"@id":"urn:p","@type":"Offer","permission":[{"action":"usee","target":"urn:ldt:x",
            "constraint":[{"leftOperand":"dateTime","operator":"gteq","rightOperand":"next year"}]}]}"#,
    );
    let out = twinport()
        .args(["policy", "lint"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.lines()
            .all(|l| l.starts_with("error ") || l.starts_with("warning ")),
        "{text}"
    );
    assert!(
        text.contains("error assigner: an offer or agreement must name its assigner"),
        "{text}"
    );
    assert!(
        text.contains("error permission[0].action: unknown action \"usee\""),
        "{text}"
    );
    assert!(
        text.contains("error permission[0].constraint[0].rightOperand: dateTime needs"),
        "{text}"
    );

    let not_json = write(dir.path(), "broken.json", "{");
    let out = twinport()
        .args(["policy", "lint"])
        .arg(&not_json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("error $: invalid json"));

    let out = twinport()
        .args(["policy", "lint"])
        .arg(examples().join("time-limited.policy.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out), "ok: no errors or warnings\n");
}

#[test]
fn the_template_library_tests_pass() {
    let out = twinport()
        .args(["policy", "test"])
        .arg(examples())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let last = text.lines().last().unwrap_or_default();
    let (passed, rest) = last.split_once(" passed, ").unwrap();
    assert!(passed.parse::<usize>().unwrap() >= 7, "{last}");
    assert_eq!(rest, "0 failed");
    assert!(
        text.contains("ok   a university doing research may use it"),
        "{text}"
    );
    assert!(!text.contains("FAIL"), "{text}");
}

#[test]
fn a_failing_case_or_a_broken_test_file_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        examples().join("research-only.policy.json"),
        dir.path().join("research-only.policy.json"),
    )
    .unwrap();
    let nested = dir.path().join("nested");
    std::fs::create_dir(&nested).unwrap();
    write(
        &nested,
        "wrong.test.json",
        r#"{"policy":"../research-only.policy.json","cases":[
            {"name":"research is fine","context":{"action":"use","resource":{"id":"urn:ldt:traffic-counts"},"purpose":"research"},"expect":"permit"},
            {"name":"marketing wrongly expected to pass","context":{"action":"use","resource":{"id":"urn:ldt:traffic-counts"},"purpose":"marketing"},"expect":"permit"}]}"#,
    );
    let out = twinport()
        .args(["policy", "test"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ok   research is fine"), "{text}");
    assert!(
        text.contains("FAIL marketing wrongly expected to pass: expected permit, got deny"),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"));

    // A test file whose policy is missing counts as a failure rather than vanishing from the count.
    write(
        dir.path(),
        "orphan.test.json",
        r#"{"policy":"nowhere.json","cases":[{"name":"x","expect":"deny"}]}"#,
    );
    let out = twinport()
        .args(["policy", "test"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("FAIL orphan.test.json: "), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 2 failed"));

    let empty = tempfile::tempdir().unwrap();
    let out = twinport()
        .args(["policy", "test"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no *.test.json files"));
}
