//! `odrl_policy`: any text read as a policy file or API body is, through the strict JSON reader and the strict
//! ODRL reader, then linted, explained and decided in every scope for one fixed partner. A legal team's `policy
//! test`, the dry-run endpoint and the running connector read the same text, so reading must be deterministic
//! (the same text, the same policy or the same error), and the written form must read back as the same policy.

use std::sync::OnceLock;

use serde_json::{json, Value};
use twinport_policy::lint::{lint, lint_with, LintOptions};
use twinport_policy::request::Facts;
use twinport_policy::simulate::{default_nth, simulate};
use twinport_policy::{explain, json_text, Engine, EngineSettings, Policy};

/// Reads `data` as a policy and, when it reads, lints, explains and decides it.
pub fn odrl_policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = Policy::from_json_str(text);
    let second = Policy::from_json_str(text);
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the same text read twice gives different policies"),
        (Err(a), Err(b)) => assert_eq!(
            a.to_string(),
            b.to_string(),
            "the same text read twice gives different errors"
        ),
        _ => panic!("the same text read twice is accepted once and refused once"),
    }
    let Ok(value) = json_text::parse(text) else {
        assert!(first.is_err(), "a policy read from text that is not JSON");
        return;
    };
    // Whatever the strict reader accepts, the ordinary reader the rest of the connector uses must read alike.
    let lenient: Value = serde_json::from_str(text).expect("strict JSON is JSON");
    assert_eq!(
        lenient, value,
        "the strict and the ordinary JSON reader disagree"
    );

    let problems = Policy::problems(&value);
    assert_eq!(
        problems.is_empty(),
        first.is_ok(),
        "problems() and from_json disagree on whether the policy reads: {problems:?}"
    );
    let diagnostics = lint(&value);
    assert_eq!(diagnostics, lint(&value), "linting is not deterministic");
    lint_with(
        &value,
        LintOptions {
            offered_by_connector: true,
        },
    );

    let Ok(policy) = first else {
        return;
    };
    let written = policy.to_json();
    match Policy::from_json(&written) {
        Ok(again) => assert_eq!(
            again, policy,
            "the written form {written} reads back differently"
        ),
        Err(e) => panic!("the written form {written} does not read back: {e}"),
    }
    explain(&policy);
    let _ = policy.offered_on("urn:ldt:traffic-counts");
    let nth = default_nth(&policy);
    for engine in engines() {
        let steps = simulate(engine, &policy, facts(), nth);
        for step in &steps {
            step.report.to_text();
            step.report.reasons();
        }
        let again = simulate(engine, &policy, facts(), nth);
        let decisions = |s: &[twinport_policy::simulate::Step]| -> Vec<_> {
            s.iter().map(|s| s.report.decision()).collect()
        };
        assert_eq!(
            decisions(&steps),
            decisions(&again),
            "the same request decided twice gives different decisions"
        );
    }
}

/// The two readings the connector ships: formal semantics (its default) and the SolidLab test suite's.
fn engines() -> &'static [Engine; 2] {
    static ENGINES: OnceLock<[Engine; 2]> = OnceLock::new();
    ENGINES.get_or_init(|| {
        [
            Engine::new(EngineSettings::formal_semantics()),
            Engine::new(EngineSettings::solidlab()),
        ]
    })
}

/// One realistic partner with every fact a policy can ask about, so constraints are evaluated rather than failing
/// closed for want of a value.
fn facts() -> &'static Facts {
    static FACTS: OnceLock<Facts> = OnceLock::new();
    FACTS.get_or_init(|| {
        serde_json::from_value(json!({
            "partner": {"id": "did:web:uu.nl", "claims": {"membership": "partner-city", "region": "NL-UT"}},
            "resource": {"id": "urn:ldt:traffic-counts", "kind": "dataset", "stage": "raw"},
            "purpose": "https://w3id.org/dpv#AcademicResearch",
            "at": "2026-11-24T09:00:00Z",
            "agreedAt": "2026-11-20T09:00:00Z",
            "agreement": "urn:uuid:e8dc8655-44c2-46ef-b701-4cffdc2faa44",
            "accesses": 3,
            "duties": {"attribute": "fulfilled"}
        }))
        .expect("the fixed facts are valid")
    })
}
