//! Conformance: the 68 cases of the SolidLab ODRL-Test-Suite. The Turtle policies, requests and states of the
//! world are converted here (with oxttl) into the engine's compact JSON-LD and request context, evaluated with
//! `EngineSettings::solidlab()` (a duty blocks only once violated), and compared with the expected reports on
//! rule activation, on every premise report (target, party, action, each constraint's satisfaction and the
//! left-operand value it saw), and on the permit/deny reduction "active prohibition ⇒ deny; else active
//! permission ⇒ permit; else deny".

use oxrdf::{NamedOrBlankNode, Term};
use oxttl::TurtleParser;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use twinport_policy::context::{CounterpartyContext, DutyState, ResourceContext};
use twinport_policy::value::parse_time;
use twinport_policy::{
    ConstraintReport, Engine, EngineSettings, Policy, RequestContext, RuleKind, RuleReport, Scope,
};

const ODRL: &str = "http://www.w3.org/ns/odrl/2/";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const REPORT: &str = "https://w3id.org/force/compliance-report#";
const EX: &str = "http://example.org/";

/// Cases this engine is known not to reproduce, with the reason. Must match the failures exactly.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Iri(String),
    Blank(String),
    Literal { value: String, datatype: String },
}

impl Node {
    fn key(&self) -> String {
        match self {
            Node::Iri(s) => s.clone(),
            Node::Blank(b) => format!("_:{b}"),
            Node::Literal { value, .. } => value.clone(),
        }
    }
}

#[derive(Default)]
struct Graph {
    triples: Vec<(String, String, Node)>,
}

impl Graph {
    fn parse(text: &str) -> Graph {
        let mut g = Graph::default();
        for t in TurtleParser::new().for_slice(text.as_bytes()) {
            let t = t.unwrap_or_else(|e| panic!("turtle: {e}"));
            let s = match t.subject {
                NamedOrBlankNode::NamedNode(n) => n.into_string(),
                NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
            };
            let o = match t.object {
                Term::NamedNode(n) => Node::Iri(n.into_string()),
                Term::BlankNode(b) => Node::Blank(b.as_str().to_string()),
                Term::Literal(l) => Node::Literal {
                    value: l.value().to_string(),
                    datatype: l.datatype().as_str().to_string(),
                },
                #[allow(unreachable_patterns)]
                _ => continue,
            };
            g.triples.push((s, t.predicate.into_string(), o));
        }
        g
    }

    fn objects(&self, s: &str, p: &str) -> Vec<&Node> {
        self.triples
            .iter()
            .filter(|(ts, tp, _)| ts == s && tp == p)
            .map(|(_, _, o)| o)
            .collect()
    }

    fn object(&self, s: &str, p: &str) -> Option<&Node> {
        self.objects(s, p).into_iter().next()
    }

    fn subjects(&self, p: &str, o: &str) -> Vec<&str> {
        self.triples
            .iter()
            .filter(|(_, tp, to)| tp == p && to.key() == o)
            .map(|(s, _, _)| s.as_str())
            .collect()
    }

    fn has_type(&self, s: &str, t: &str) -> bool {
        self.objects(s, RDF_TYPE).iter().any(|o| o.key() == t)
    }
}

fn odrl(t: &str) -> String {
    format!("{ODRL}{t}")
}

fn constraint_json(g: &Graph, node: &str) -> Value {
    for op in ["and", "or", "xone", "andSequence"] {
        let items = g.objects(node, &odrl(op));
        if !items.is_empty() {
            let children: Vec<Value> = items.iter().map(|c| constraint_json(g, &c.key())).collect();
            return json!({ "@id": node, op: children });
        }
    }
    let ro = match g.object(node, &odrl("rightOperand")) {
        Some(Node::Literal { value, datatype }) => json!({ "@value": value, "@type": datatype }),
        Some(other) => json!({ "@id": other.key() }),
        None => Value::Null,
    };
    json!({
        "@id": node,
        "leftOperand": g.object(node, &odrl("leftOperand")).map(Node::key),
        "operator": g.object(node, &odrl("operator")).map(Node::key),
        "rightOperand": ro,
    })
}

fn member_json(g: &Graph, iri: &str, collection: &str) -> Value {
    if g.has_type(iri, &odrl(collection)) {
        json!({ "@type": collection, "@id": iri })
    } else {
        json!(iri)
    }
}

fn rule_json(g: &Graph, node: &str) -> Value {
    let mut o = Map::new();
    o.insert("@id".into(), json!(node));
    if let Some(a) = g.object(node, &odrl("action")) {
        o.insert("action".into(), json!(a.key()));
    }
    if let Some(t) = g.object(node, &odrl("target")) {
        o.insert("target".into(), member_json(g, &t.key(), "AssetCollection"));
    }
    if let Some(p) = g.object(node, &odrl("assignee")) {
        o.insert(
            "assignee".into(),
            member_json(g, &p.key(), "PartyCollection"),
        );
    }
    let cs: Vec<Value> = g
        .objects(node, &odrl("constraint"))
        .iter()
        .map(|c| constraint_json(g, &c.key()))
        .collect();
    if !cs.is_empty() {
        o.insert("constraint".into(), Value::Array(cs));
    }
    let ds: Vec<Value> = g
        .objects(node, &odrl("duty"))
        .iter()
        .map(|d| rule_json(g, &d.key()))
        .collect();
    if !ds.is_empty() {
        o.insert("duty".into(), Value::Array(ds));
    }
    Value::Object(o)
}

fn policy_json(g: &Graph) -> Value {
    let policy = g
        .triples
        .iter()
        .find(|(_, p, o)| {
            p == RDF_TYPE
                && ["Set", "Offer", "Agreement", "Policy"]
                    .iter()
                    .any(|t| o.key() == odrl(t))
        })
        .map(|(s, _, o)| (s.clone(), o.key()))
        .unwrap_or_else(|| panic!("no policy node"));
    let mut o = Map::new();
    o.insert("@id".into(), json!(policy.0));
    o.insert("@type".into(), json!(policy.1));
    for kind in ["permission", "prohibition", "obligation"] {
        let rules: Vec<Value> = g
            .objects(&policy.0, &odrl(kind))
            .iter()
            .map(|r| rule_json(g, &r.key()))
            .collect();
        if !rules.is_empty() {
            o.insert(kind.into(), Value::Array(rules));
        }
    }
    Value::Object(o)
}

fn request_context(request: &Graph, sotw: &Graph) -> RequestContext {
    let req = request
        .triples
        .iter()
        .find(|(_, p, o)| p == RDF_TYPE && o.key() == odrl("Request"))
        .map(|(s, _, _)| s.clone())
        .unwrap_or_else(|| panic!("no request node"));
    let perm = request
        .object(&req, &odrl("permission"))
        .map(Node::key)
        .unwrap_or_default();
    let party = request.object(&perm, &odrl("assignee")).map(Node::key);
    let target = request.object(&perm, &odrl("target")).map(Node::key);
    let action = request.object(&perm, &odrl("action")).map(Node::key);
    let part_of = |who: &Option<String>| -> Vec<String> {
        who.as_ref()
            .map(|w| {
                sotw.objects(w, &odrl("partOf"))
                    .iter()
                    .map(|n| n.key())
                    .collect()
            })
            .unwrap_or_default()
    };
    let time = sotw
        .object(
            "http://example.com/request/currentTime",
            "http://purl.org/dc/terms/issued",
        )
        .map(Node::key);
    let mut duties = BTreeMap::new();
    for report in sotw.subjects(RDF_TYPE, &format!("{REPORT}DutyReport")) {
        let rule = sotw
            .object(report, &format!("{REPORT}rule"))
            .map(Node::key)
            .unwrap_or_default();
        let state = match sotw
            .object(report, &format!("{REPORT}deonticState"))
            .map(Node::key)
            .as_deref()
        {
            Some(s) if s == format!("{REPORT}Fulfilled") => DutyState::Fulfilled,
            Some(s) if s == format!("{REPORT}Violated") => DutyState::Violated,
            _ => DutyState::NotSet,
        };
        duties.insert(rule, state);
    }
    RequestContext {
        time,
        action: action.map(twinport_policy::RequestedAction::One),
        resource: Some(ResourceContext {
            id: target.clone(),
            part_of: part_of(&target),
            ..Default::default()
        }),
        counterparty: Some(CounterpartyContext {
            id: party.clone(),
            part_of: part_of(&party),
            ..Default::default()
        }),
        duties,
        ..Default::default()
    }
}

fn find_constraint<'a>(reports: &'a [ConstraintReport], id: &str) -> Option<&'a ConstraintReport> {
    reports.iter().find_map(|c| {
        if c.id.as_deref() == Some(id) {
            Some(c)
        } else {
            find_constraint(&c.operands, id)
        }
    })
}

/// Compares the premise reports of the expected report (target, party, action, every constraint with the
/// left-operand value it saw) with ours.
fn premise_problem(expected: &Graph, ours: &RuleReport, checked: &mut usize) -> Option<String> {
    let satisfied = |node: &str| {
        expected
            .object(node, &format!("{REPORT}satisfactionState"))
            .map(Node::key)
            == Some(format!("{REPORT}Satisfied"))
    };
    for (class, got) in [
        ("TargetReport", ours.target_matched),
        ("PartyReport", ours.party_matched),
        ("ActionReport", ours.action_matched),
    ] {
        for node in expected.subjects(RDF_TYPE, &format!("{REPORT}{class}")) {
            if satisfied(node) != got {
                return Some(format!("{class}: expected {}, got {got}", satisfied(node)));
            }
        }
    }
    for node in expected.subjects(RDF_TYPE, &format!("{REPORT}ConstraintReport")) {
        let id = expected
            .object(node, &format!("{REPORT}constraint"))
            .map(Node::key)
            .unwrap_or_default();
        let all: Vec<ConstraintReport> = ours
            .constraints
            .iter()
            .chain(&ours.refinements)
            .cloned()
            .collect();
        let Some(c) = find_constraint(&all, &id) else {
            return Some(format!("constraint {id} missing from our report"));
        };
        *checked += 1;
        if c.satisfied != satisfied(node) {
            return Some(format!(
                "constraint {id}: expected satisfied={}, got {} ({})",
                satisfied(node),
                c.satisfied,
                c.reason
            ));
        }
        if let Some(Node::Literal { value, .. }) =
            expected.object(node, &format!("{REPORT}constraintLeftOperand"))
        {
            let ours_time = c.value.as_str().and_then(parse_time);
            if ours_time.is_none() || ours_time != parse_time(value) {
                return Some(format!(
                    "constraint {id}: left-operand value {value} expected, got {}",
                    c.value
                ));
            }
        }
    }
    None
}

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/odrl-test-suite");
    dir.is_dir().then_some(dir)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Maps the raw GitHub URLs in index.ttl to files of the local copy.
fn local(dir: &Path, url: &str) -> PathBuf {
    let rel = url
        .split("/data/")
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected source url {url}"));
    dir.join(rel)
}

#[test]
fn solidlab_odrl_test_suite() {
    let Some(dir) = data_dir() else {
        println!("skipping: ../shared/testdata/odrl-test-suite is absent");
        return;
    };
    let index = Graph::parse(&read(&dir.join("index.ttl")));
    let engine = Engine::new(EngineSettings::solidlab());
    let cases: Vec<(String, String)> = index
        .triples
        .iter()
        .filter(|(_, p, _)| p == &format!("{EX}expectedReportSource"))
        .map(|(s, _, o)| (s.clone(), o.key()))
        .collect();
    assert_eq!(cases.len(), 68, "index.ttl should list 68 cases");
    let mut failures: Vec<(String, String)> = Vec::new();
    let (mut permits, mut passed, mut constraints_checked) = (0, 0, 0);
    for (case, expected_url) in &cases {
        let src = |p: &str| {
            index
                .object(case, &format!("{EX}{p}"))
                .map(Node::key)
                .unwrap_or_default()
        };
        let case_file = local(&dir, expected_url);
        let name = case_file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let policy_graph = Graph::parse(&read(&local(&dir, &src("policySource"))));
        let request_graph = Graph::parse(&read(&local(&dir, &src("requestSource"))));
        let sotw_graph = Graph::parse(&read(&local(&dir, &src("sotwSource"))));
        let expected = Graph::parse(&read(&case_file));

        let policy = Policy::from_json(&policy_json(&policy_graph))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ctx = request_context(&request_graph, &sotw_graph);
        let report = engine.evaluate(&policy, &ctx, Scope::Access);

        let test_node = expected.subjects(RDF_TYPE, &format!("{EX}TestCase"));
        let exp_report = test_node
            .first()
            .and_then(|t| expected.object(t, &format!("{EX}expectedReport")))
            .map(Node::key)
            .unwrap_or_else(|| panic!("{name}: no expected report"));
        let rule_report = expected
            .object(&exp_report, &format!("{REPORT}ruleReport"))
            .map(Node::key)
            .unwrap_or_else(|| panic!("{name}: no rule report"));
        let rule_id = expected
            .object(&rule_report, &format!("{REPORT}rule"))
            .map(Node::key)
            .unwrap_or_default();
        let expected_active = expected
            .object(&rule_report, &format!("{REPORT}activationState"))
            .map(Node::key)
            == Some(format!("{REPORT}Active"));
        let is_prohibition = expected.has_type(&rule_report, &format!("{REPORT}ProhibitionReport"));
        let expected_permit = !is_prohibition && expected_active;

        let ours = report.rules.iter().find(|r| r.id == rule_id);
        let problem = match ours {
            None => Some(format!("rule {rule_id} missing from the report")),
            Some(r) if (r.kind == RuleKind::Prohibition) != is_prohibition => {
                Some("rule kind differs".into())
            }
            Some(r) if r.active != expected_active => Some(format!(
                "activation: expected {expected_active}, got {} ({})",
                r.active, r.reason
            )),
            Some(_) if report.is_permit() != expected_permit => Some(format!(
                "decision: expected permit={expected_permit}, got {}",
                report.summary
            )),
            Some(r) => premise_problem(&expected, r, &mut constraints_checked),
        };
        if expected_permit {
            permits += 1;
        }
        match problem {
            Some(p) => failures.push((name, p)),
            None => passed += 1,
        }
    }
    failures.sort();
    println!("solidlab suite: {passed}/68 passed, {permits} expected permits, {constraints_checked} constraint reports compared");
    assert!(constraints_checked > 30, "constraint reports were compared");
    let failed_names: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    let known: Vec<&str> = KNOWN_FAILURES.iter().map(|(n, _)| *n).collect();
    assert_eq!(failed_names, known, "failures: {failures:#?}");
    assert_eq!(permits, 27, "the suite reduces to 27 permits");
}
