//! `twinport policy ...` as a legal team runs it: eval on a request as the connector knows it (or a hand-written
//! context) with the documented exit codes, simulate over every scope, explain refusing a policy with errors, lint
//! naming every misspelling with the word meant, the template library's tests passing from a file or a directory,
//! a failing test file failing the run, diff for sign-off, and malformed input named precisely.

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

fn run(args: &[&str], paths: &[&Path]) -> Output {
    let mut c = twinport();
    c.arg("policy").args(args);
    for p in paths {
        c.arg(p);
    }
    c.output().unwrap()
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

const RESEARCH: &str = r#"{"partner":{"id":"did:web:uu.nl"},"resource":{"id":"urn:ldt:traffic-counts"},
    "purpose":"https://w3id.org/dpv#AcademicResearch","at":"2026-11-24T09:00:00Z"}"#;
const MARKETING: &str = r#"{"partner":{"id":"did:web:adco.example"},"resource":{"id":"urn:ldt:traffic-counts"},
    "purpose":"https://w3id.org/dpv#Marketing","at":"2026-11-24T09:00:00Z"}"#;

#[test]
fn eval_decides_on_the_context_the_connector_builds_and_exits_0_on_permit_3_on_deny() {
    let dir = tempfile::tempdir().unwrap();
    let policy = examples().join("research-only.policy.json");

    let permit = eval(&policy, &write(dir.path(), "r.json", RESEARCH), &[]);
    assert_eq!(permit.status.code(), Some(0), "{}", stderr(&permit));
    let text = stdout(&permit);
    assert!(
        text.starts_with("context: {\"time\":\"2026-11-24T09:00:00Z\",\"action\":\"read\""),
        "the access scope asks for what a GET does: {text}"
    );
    assert!(text.contains("decision: PERMIT (scope access"), "{text}");
    assert!(
        text.contains("[ok  ] permission[0].constraint[0]"),
        "{text}"
    );

    let deny = eval(&policy, &write(dir.path(), "m.json", MARKETING), &[]);
    assert_eq!(deny.status.code(), Some(3), "{}", stderr(&deny));
    let text = stdout(&deny);
    assert!(text.contains("decision: DENY"), "{text}");
    assert!(
        text.contains("reasons:\n  - the permission \"research use\": the declared purpose is Marketing; the rule requires: for Research and Development, or a narrower purpose"),
        "{text}"
    );

    // The catalogue shows the offer to the marketer (a purpose is judged at negotiation), and negotiation refuses.
    let catalogue = eval(
        &policy,
        &dir.path().join("m.json"),
        &["--scope", "catalogue"],
    );
    assert_eq!(catalogue.status.code(), Some(0), "{}", stdout(&catalogue));
    assert!(stdout(&catalogue).contains("\"action\":[\"use\"]"));
    let negotiation = eval(
        &policy,
        &dir.path().join("m.json"),
        &["--scope", "negotiation"],
    );
    assert_eq!(negotiation.status.code(), Some(3));
}

#[test]
fn eval_json_is_the_compliance_report_with_its_context() {
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
    assert_eq!(report["actions"], serde_json::json!(["use"]));
    assert_eq!(
        report["context"]["agreement"]["start"],
        "2026-11-24T09:00:00Z"
    );
    assert_eq!(
        report["policyId"],
        "https://city.example/policies/research-only"
    );

    // A hand-written context is decided as it is.
    let context = write(
        dir.path(),
        "c.json",
        r#"{"action":"read","resource":{"id":"urn:ldt:traffic-counts"},"purpose":"https://w3id.org/dpv#Marketing"}"#,
    );
    let deny = twinport()
        .args(["policy", "eval", "--json", "--policy"])
        .arg(&policy)
        .arg("--context")
        .arg(&context)
        .output()
        .unwrap();
    assert_eq!(deny.status.code(), Some(3), "{}", stderr(&deny));
    let report: serde_json::Value = serde_json::from_slice(&deny.stdout).unwrap();
    assert_eq!(report["decidingRules"][0], "closed-world");
    assert!(report.get("context").is_none());
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
    // Settings from a file: the formal-semantics reading, where an unrecorded duty blocks.
    let settings = write(dir.path(), "s.json", r#"{"dutyNotSetBlocks": true}"#);
    let push = write(
        dir.path(),
        "push.json",
        r#"{"partner":{"id":"did:web:x"},"resource":{"id":"urn:ldt:street-trees"},"flow":"push"}"#,
    );
    let policy = examples().join("attribution-duty.policy.json");
    assert_eq!(eval(&policy, &push, &[]).status.code(), Some(0));
    let strict = eval(&policy, &push, &["--settings", settings.to_str().unwrap()]);
    assert_eq!(strict.status.code(), Some(3), "{}", stdout(&strict));
    // A misspelt setting is an error, not a silently ignored one.
    let typo = write(dir.path(), "t.json", r#"{"dutyNotSetBlock": true}"#);
    let out = eval(&policy, &push, &["--settings", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("dutyNotSetBlock"), "{}", stderr(&out));
}

#[test]
fn simulate_shows_every_scope_with_its_context() {
    let out = twinport()
        .args(["policy", "simulate"])
        .arg(examples().join("partner-region.policy.json"))
        .args([
            "--partner",
            "did:web:amersfoort.nl",
            "--claims",
            "membership=partner-city,region=NL-UT",
            "--at",
            "2026-11-24T09:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let verdicts: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' ') && (l.contains("PERMIT") || l.contains("DENY")))
        .collect();
    assert_eq!(verdicts.len(), 5, "{text}");
    assert!(verdicts.iter().all(|l| l.contains("PERMIT")), "{text}");
    assert!(
        text.contains("catalogue    PERMIT  may the partner see the offer?"),
        "{text}"
    );
    assert!(text.contains("\"claims\":{\"membership\":\"partner-city\",\"region\":\"NL-UT\"}"));

    let out = twinport()
        .args(["policy", "simulate", "--json"])
        .arg(examples().join("partner-region.policy.json"))
        .args([
            "--partner",
            "did:web:gent.be",
            "--claims",
            r#"{"membership":"partner-city","region":"BE-VOV"}"#,
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5);
    assert!(steps.iter().all(|s| s["decision"] == "deny"));
    assert_eq!(steps[0]["scope"], "catalogue");
    assert!(steps[0]["reasons"].as_array().unwrap().iter().any(|r| r
        .as_str()
        .unwrap()
        .contains("the partner's region is Oost-Vlaanderen (BE-VOV)")));
}

#[test]
fn a_misspelt_key_is_refused_everywhere_with_the_word_meant() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write(
        dir.path(),
        "typo.json",
        r#"{"@id":"urn:p","@type":"Offer","assigner":"did:web:city.example","permission":[{"action":"use","target":"urn:ldt:x",
            "constraints":[{"leftOperand":"purpose","operator":"isAnyOf","rightOperand":["https://w3id.org/dpv#NonCommercialPurpose"]}]}]}"#,
    );
    let lint = run(&["lint"], &[&typo]);
    assert_eq!(lint.status.code(), Some(1), "{}", stdout(&lint));
    assert_eq!(
        stdout(&lint),
        "error permission[0].constraints: unknown key \"constraints\" in a permission (did you mean \"constraint\"?)\n"
    );
    let explain = run(&["explain"], &[&typo]);
    assert_eq!(explain.status.code(), Some(1));
    assert!(stdout(&explain).starts_with("not explained: the policy has errors"));
    assert!(!stdout(&explain).contains("may use"));
    let request = write(
        dir.path(),
        "r.json",
        r#"{"partner":{"id":"did:web:x"},"purpose":"https://w3id.org/dpv#CommercialPurpose"}"#,
    );
    let out = eval(&typo, &request, &[]);
    assert_eq!(out.status.code(), Some(2), "refused, never permitted");
    assert!(
        stderr(&out).contains("did you mean \"constraint\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_input_is_named_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let request = write(dir.path(), "r.json", RESEARCH);
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"@type":"Set","permission":[{"action":"use","constraint":[{"leftOperand":"purpose","operator":"isAnyof","rightOperand":["x"]}]}]}"#,
    );
    let out = eval(&bad, &request, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error permission[0].constraint[0].operator: unknown operator \"isAnyof\" (did you mean \"isAnyOf\"?)"),
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
        r#"{"partner":{"claim":{"membership":"partner-city"}}}"#,
    );
    let out = eval(
        &examples().join("research-only.policy.json"),
        &bad_request,
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("partner.claim: unknown field `claim`"),
        "{}",
        stderr(&out)
    );

    let out = eval(&dir.path().join("missing.json"), &request, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.json"));

    let out = eval(
        &examples().join("research-only.policy.json"),
        &request,
        &["--time-zone", "Europe/Amsterdan"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean \"Europe/Amsterdam\""));
}

#[test]
fn explain_says_what_eval_does() {
    let out = run(
        &["explain"],
        &[&examples().join("time-limited.policy.json")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Anyone may read urn:ldt:3d-buildings from the start of 1 January 2026, Amsterdam time, until the end of 31 December 2027, Amsterdam time.\n"
    );
    let out = run(
        &["explain"],
        &[&examples().join("deletion-duty.policy.json")],
    );
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains("The partner must delete the data after 30 days from the agreement."),
        "{text}"
    );
}

#[test]
fn lint_flags_errors_with_their_path_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"@id":"urn:p","@type":"Offer","permission":[{"action":"use","target":"urn:ldt:x",
            "constraint":[{"leftOperand":"dateTime","operator":"gteq","rightOperand":"next year"},
                          {"leftOperand":"claim:region","operator":"isPartOf","rightOperand":"EU27"}]}]}"#,
    );
    let out = run(&["lint"], &[&bad]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.lines()
            .all(|l| l.starts_with("error ") || l.starts_with("warning ")),
        "{text}"
    );
    for want in [
        "error assigner: an offer or agreement must name its assigner",
        "error permission[0].constraint[0].rightOperand: dateTime needs",
        "error permission[0].constraint[1].rightOperand: unknown region \"EU27\"",
    ] {
        assert!(text.contains(want), "missing {want:?} in {text}");
    }
    let not_json = write(dir.path(), "broken.json", "{");
    let out = run(&["lint"], &[&not_json]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("error $: invalid json"));

    // A policy kept in a connector's catalogue gets its target and assigner from the offer.
    let stored = write(
        dir.path(),
        "stored.json",
        r#"{"permission":[{"action":"use"}]}"#,
    );
    assert_eq!(run(&["lint"], &[&stored]).status.code(), Some(0));
    assert_eq!(
        stdout(&run(&["lint", "--catalogue"], &[&stored])),
        "ok: no errors or warnings\n"
    );
}

#[test]
fn the_template_library_tests_pass_from_a_directory_or_one_file() {
    let out = run(&["test"], &[&examples()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let last = text.lines().last().unwrap_or_default();
    let (passed, rest) = last.split_once(" passed, ").unwrap();
    assert!(passed.parse::<usize>().unwrap() >= 60, "{last}");
    assert_eq!(rest, "0 failed");
    assert!(!text.contains("FAIL"), "{text}");
    let one = run(&["test"], &[&examples().join("max-accesses.test.json")]);
    assert_eq!(one.status.code(), Some(0), "{}", stdout(&one));
    assert!(stdout(&one).starts_with("# max-accesses.test.json: "));
    assert!(stdout(&one).contains("ok   the 101st access is refused [access]"));
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
        r#"{"policy":"../research-only.policy.json","scope":"negotiation","cases":[
            {"name":"research is fine","request":{"resource":{"id":"urn:ldt:traffic-counts"},"purpose":"https://w3id.org/dpv#ScientificResearch"},"expect":"permit"},
            {"name":"marketing wrongly expected to pass","request":{"resource":{"id":"urn:ldt:traffic-counts"},"purpose":"https://w3id.org/dpv#Marketing"},"expect":"permit"}]}"#,
    );
    let out = run(&["test"], &[dir.path()]);
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
    let out = run(&["test"], &[dir.path()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("FAIL orphan.test.json: "), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 2 failed"));

    let empty = tempfile::tempdir().unwrap();
    let out = run(&["test"], &[empty.path()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no *.test.json files"));
    let out = run(&["test"], &[&empty.path().join("none.test.json")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such file or directory"));
}

#[test]
fn diff_prints_the_change_in_meaning_for_sign_off() {
    let dir = tempfile::tempdir().unwrap();
    let old = examples().join("research-only.policy.json");
    let new = write(
        dir.path(),
        "new.json",
        r#"{"@type":"Offer","@id":"https://city.example/policies/research-only","assigner":"did:web:city.example",
            "permission":[{"action":"use","target":"urn:ldt:traffic-counts","constraint":[
                {"leftOperand":"purpose","operator":"isAnyOf","rightOperand":["https://w3id.org/dpv#ResearchAndDevelopment"]},
                {"leftOperand":"count","operator":"lteq","rightOperand":1000}]}]}"#,
    );
    let out = run(&["diff"], &[&old, &new]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "~ the permission to use urn:ldt:traffic-counts: now also has the condition \u{201c}at most 1000 times\u{201d}\n"
    );
    let same = run(&["diff"], &[&old, &old]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(stdout(&same), "no change in meaning\n");
}
