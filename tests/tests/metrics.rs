//! Operations telemetry between two real connectors: after a negotiation, each one's `/metrics` parses as strict
//! Prometheus/OpenMetrics text and shows its DSP requests by route template and status, policy decisions,
//! negotiations by state and the audit log; `telemetry.metrics_token` closes the page; the page is served in both
//! exposition formats by `Accept`, with HELP on every family, the `process_*` metrics and the build's commit, and
//! both pass promtool (when `TWINPORT_PROMTOOL` names it, as `.ci/setup-promtool.sh` sets); and with an in-process
//! OTLP/HTTP collector, the provider's server span continues the trace the consumer's outgoing call started.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;
use twinport_e2e::{
    city_pair, city_pair_with, provider_negotiation, start_negotiation, wait_for_state, City,
    Storage, CITY_A,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const T: Duration = Duration::from_secs(10);

/// One sample line: metric name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the exposition text strictly: every line is a known comment or a well-formed sample, label values may
/// hold any escaped text (route templates contain `{` and `}`), and OpenMetrics output ends with `# EOF`.
fn parse_exposition(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    if lines.last() != Some(&"# EOF") {
        return Err("missing the closing # EOF".into());
    }
    for (n, line) in lines.iter().enumerate() {
        let fail = |why: &str| Err(format!("line {}: {why}: {line:?}", n + 1));
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap_or("");
            if !matches!(kind, "HELP" | "TYPE" | "UNIT" | "EOF") {
                return fail("unknown comment");
            }
            if kind == "TYPE" {
                let t = comment.split(' ').nth(2).unwrap_or("");
                if !matches!(
                    t,
                    "counter" | "gauge" | "histogram" | "summary" | "info" | "stateset" | "unknown"
                ) {
                    return fail("unknown metric type");
                }
            }
            continue;
        }
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(line.len());
        let name = &line[..name_end];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return fail("bad metric name");
        }
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(after) = rest.strip_prefix('{') {
            let mut chars = after.char_indices().peekable();
            loop {
                let key_start = match chars.peek() {
                    Some((_, '}')) => {
                        chars.next();
                        break;
                    }
                    Some((i, _)) => *i,
                    None => return fail("unterminated labels"),
                };
                let mut key_end = key_start;
                for (i, c) in chars.by_ref() {
                    if c == '=' {
                        key_end = i;
                        break;
                    }
                    if !(c.is_ascii_alphanumeric() || c == '_') {
                        return fail("bad label name");
                    }
                }
                let key = after[key_start..key_end].to_string();
                if key.is_empty() || chars.next().map(|(_, c)| c) != Some('"') {
                    return fail("label value must be quoted");
                }
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, '\\')) => value.push('\\'),
                            Some((_, '"')) => value.push('"'),
                            Some((_, 'n')) => value.push('\n'),
                            _ => return fail("bad escape in label value"),
                        },
                        Some((_, '"')) => break,
                        Some((_, c)) => value.push(c),
                        None => return fail("unterminated label value"),
                    }
                }
                labels.insert(key, value);
                match chars.next() {
                    Some((_, ',')) => {}
                    Some((_, '}')) => break,
                    _ => return fail("expected , or } after a label"),
                }
            }
            let consumed = chars.peek().map_or(after.len(), |(i, _)| *i);
            rest = &after[consumed..];
        }
        let mut parts = rest.strip_prefix(' ').map(|r| r.split(' '));
        let Some(value) = parts.as_mut().and_then(|p| p.next()) else {
            return fail("missing value");
        };
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => match v.parse::<f64>() {
                Ok(v) => v,
                Err(_) => return fail("value is not a number"),
            },
        };
        if parts.and_then(|mut p| p.nth(1)).is_some() {
            return fail("trailing text after the timestamp");
        }
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    Ok(samples)
}

/// The sum of the samples named `name` whose labels include all of `want`.
fn total(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            want.iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(city: &City) -> Vec<Sample> {
    let r = reqwest::get(format!("{}/metrics", city.running.management_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Scrapes until `check` passes: a request is counted just after its response is produced, which can be a moment
/// after the partner already acted on it. Gives up (and fails) after five seconds.
async fn scrape_until(city: &City, check: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let samples = scrape(city).await;
        if check(&samples) || tokio::time::Instant::now() > deadline {
            return samples;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const REQUESTS: &str = "twinport_http_requests_total";

#[tokio::test]
async fn a_negotiation_shows_in_both_connectors_metrics() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
        wait_for_state(&b, &id, "FINALIZED", T).await;
        let provider = provider_negotiation(&a, &id).await.expect("provider side");
        wait_for_state(&a, &provider.id, "FINALIZED", T).await;
        // A request no route matches, with an id-like path that must not become a label.
        let stray = reqwest::get(format!(
            "{}/dsp/2025-1/nowhere/stray-4711",
            a.running.public_url()
        ))
        .await
        .unwrap();
        assert_eq!(stray.status(), 404);

        let verification = "/dsp/2025-1/negotiations/{pid}/agreement/verification";
        let provider_side = scrape_until(&a, |s| {
            total(s, REQUESTS, &[("endpoint", verification)]) >= 1.0
                && total(s, REQUESTS, &[("endpoint", "unmatched")]) >= 1.0
                // The last outbox row is marked delivered just after the partner has answered.
                && total(s, "twinport_outbox_pending_messages", &[]) == 0.0
        })
        .await;
        let request_route = [
            ("listener", "dsp"),
            ("method", "POST"),
            ("endpoint", "/dsp/2025-1/negotiations/request"),
            ("status", "201"),
        ];
        assert_eq!(total(&provider_side, REQUESTS, &request_route), 1.0);
        assert_eq!(
            total(
                &provider_side,
                REQUESTS,
                &[("endpoint", verification), ("status", "200")]
            ),
            1.0
        );
        assert_eq!(
            total(
                &provider_side,
                REQUESTS,
                &[("endpoint", "unmatched"), ("status", "404")]
            ),
            1.0
        );
        assert!(
            total(
                &provider_side,
                "twinport_http_request_duration_seconds_count",
                &[("endpoint", "/dsp/2025-1/negotiations/request")]
            ) >= 1.0
        );
        // Route templates only: no process id or stray path segment ever appears as a label value.
        for s in &provider_side {
            for v in s.labels.values() {
                assert!(
                    !v.contains(&provider.id) && !v.contains(&id) && !v.contains("stray-4711"),
                    "{s:?}"
                );
            }
        }
        assert!(
            total(
                &provider_side,
                "twinport_policy_decisions_total",
                &[("scope", "negotiation"), ("outcome", "permit")]
            ) >= 1.0
        );
        assert_eq!(
            total(
                &provider_side,
                "twinport_negotiations",
                &[("role", "provider"), ("state", "FINALIZED")]
            ),
            1.0
        );

        let consumer_side = scrape_until(&b, |s| {
            total(
                s,
                REQUESTS,
                &[("endpoint", "/dsp/2025-1/negotiations/{pid}/events")],
            ) >= 1.0
                && total(s, "twinport_outbox_pending_messages", &[]) == 0.0
        })
        .await;
        for route in ["{pid}/agreement", "{pid}/events"] {
            let endpoint = format!("/dsp/2025-1/negotiations/{route}");
            assert_eq!(
                total(
                    &consumer_side,
                    REQUESTS,
                    &[
                        ("listener", "dsp"),
                        ("endpoint", &endpoint),
                        ("status", "200")
                    ]
                ),
                1.0,
                "{endpoint}"
            );
        }
        assert_eq!(
            total(
                &consumer_side,
                REQUESTS,
                &[
                    ("listener", "management"),
                    ("method", "POST"),
                    ("endpoint", "/api/v1/negotiations"),
                    ("status", "201")
                ]
            ),
            1.0
        );
        assert_eq!(
            total(
                &consumer_side,
                "twinport_negotiations",
                &[("role", "consumer"), ("state", "FINALIZED")]
            ),
            1.0
        );

        for side in [&provider_side, &consumer_side] {
            assert!(total(side, "twinport_audit_log_entries", &[]) > 0.0);
            assert!(total(side, "twinport_audit_append_duration_seconds_count", &[]) > 0.0);
            assert_eq!(total(side, "twinport_outbox_pending_messages", &[]), 0.0);
            assert_eq!(
                total(
                    side,
                    "twinport_build_info",
                    &[("version", env!("CARGO_PKG_VERSION"))]
                ),
                1.0
            );
        }
        // The management listener's own metrics page needs no management token (scrapers carry none).
        assert_eq!(
            total(
                &consumer_side,
                REQUESTS,
                &[("listener", "management"), ("endpoint", "/metrics")]
            ) + 1.0,
            total(
                &scrape(&b).await,
                REQUESTS,
                &[("listener", "management"), ("endpoint", "/metrics")]
            )
        );
    }
}

#[tokio::test]
async fn a_metrics_token_closes_the_page() {
    let (a, _b) = city_pair_with(Storage::Sqlite, |c| {
        c.telemetry.metrics_token = Some("scrape-secret-0123456789".into());
    })
    .await;
    let url = format!("{}/metrics", a.running.management_url());
    let client = reqwest::Client::new();
    for token in [
        None,
        Some("wrong-secret-0123456789"),
        Some(a.management_token.as_str()),
    ] {
        let mut r = client.get(&url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{token:?}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let r = client
        .get(&url)
        .bearer_auth("scrape-secret-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    parse_exposition(&r.text().await.unwrap()).unwrap();
}

/// The page as answered for `accept`: (Content-Type, body).
async fn scrape_raw(city: &City, accept: Option<&str>) -> (String, String) {
    let mut request =
        reqwest::Client::new().get(format!("{}/metrics", city.running.management_url()));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    (content_type, r.text().await.unwrap())
}

/// The Prometheus text format 0.0.4: the OpenMetrics grammar of sample lines, no `# EOF` or `# UNIT`, and only
/// the types 0.0.4 knows.
fn parse_text_format(text: &str) -> Result<Vec<Sample>, String> {
    for line in text.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            return Err(format!("OpenMetrics-only line in 0.0.4 text: {line:?}"));
        }
        if let Some(kind) = line
            .strip_prefix("# TYPE ")
            .and_then(|rest| rest.split(' ').nth(1))
        {
            if !matches!(
                kind,
                "counter" | "gauge" | "histogram" | "summary" | "untyped"
            ) {
                return Err(format!("type {kind} is not in 0.0.4: {line:?}"));
            }
        }
    }
    parse_exposition(&format!("{text}# EOF"))
}

/// The family a 0.0.4 sample belongs to, as a 0.0.4 reader (promtool's) finds it: the sample's own name, or a
/// histogram's name without `_bucket`, `_sum` or `_count`.
fn family_of<'a>(name: &'a str, histograms: &[&str]) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if histograms.contains(&base) {
                return base;
            }
        }
    }
    name
}

fn metadata_names<'a>(text: &'a str, keyword: &str) -> Vec<&'a str> {
    let prefix = format!("# {keyword} ");
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix.as_str()))
        .filter_map(|rest| rest.split(' ').next())
        .collect()
}

#[tokio::test]
async fn both_formats_carry_help_process_metrics_and_the_commit_and_pass_promtool() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    // Traffic, so the counter families have samples.
    let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;

    let (om_type, om) = scrape_raw(&a, None).await;
    assert!(
        om_type.starts_with("application/openmetrics-text; version=1.0.0"),
        "{om_type}"
    );
    let (asked_type, _) = scrape_raw(&a, Some("application/openmetrics-text; version=1.0.0")).await;
    assert_eq!(asked_type, om_type);
    // What Prometheus sends by default still gets OpenMetrics.
    let (prometheus_type, _) = scrape_raw(
        &a,
        Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
    )
    .await;
    assert_eq!(prometheus_type, om_type);
    let (text_type, text) = scrape_raw(&a, Some("text/plain;version=0.0.4")).await;
    assert_eq!(text_type, "text/plain; version=0.0.4; charset=utf-8");

    let om_samples = parse_exposition(&om).unwrap_or_else(|e| panic!("{e}\n{om}"));
    let text_samples = parse_text_format(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(
        text.contains("# TYPE twinport_http_requests_total counter\n")
            && text.contains("# TYPE twinport_policy_decisions_total counter\n"),
        "{text}"
    );
    // Every sample in the 0.0.4 text has HELP and TYPE for its family, which is what promtool checks first.
    let helps = metadata_names(&text, "HELP");
    let types = metadata_names(&text, "TYPE");
    let histograms: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|r| r.strip_suffix(" histogram"))
        .collect();
    for s in &text_samples {
        let family = family_of(&s.name, &histograms);
        assert!(
            helps.contains(&family) && types.contains(&family),
            "{} has no HELP/TYPE\n{text}",
            s.name
        );
    }

    let commit = twinport::telemetry::COMMIT;
    assert!(!commit.is_empty());
    for samples in [&om_samples, &text_samples] {
        assert_eq!(
            total(
                samples,
                "twinport_build_info",
                &[("version", env!("CARGO_PKG_VERSION")), ("commit", commit)]
            ),
            1.0
        );
        assert!(total(samples, REQUESTS, &[]) >= 1.0);
        if cfg!(target_os = "linux") {
            for name in [
                "process_cpu_seconds_total",
                "process_resident_memory_bytes",
                "process_virtual_memory_bytes",
                "process_open_fds",
                "process_start_time_seconds",
            ] {
                assert!(total(samples, name, &[]) > 0.0, "{name}");
            }
            assert!(samples.iter().any(|s| s.name == "process_max_fds"));
        }
    }

    let Ok(promtool) = std::env::var("TWINPORT_PROMTOOL") else {
        println!("skipped: promtool (TWINPORT_PROMTOOL is not set; .ci/setup-promtool.sh sets it)");
        return;
    };
    // The 0.0.4 text passes promtool's linter without a single finding.
    let (ok, findings) = promtool_check_metrics(&promtool, &text);
    assert!(
        ok && findings.trim().is_empty(),
        "promtool check metrics: {findings}\n{text}"
    );
    // promtool's linter reads 0.0.4 only: in OpenMetrics a counter's family is named without `_total`, so it reports
    // each counter's samples as lacking HELP. That, and nothing else, is what it may say of the OpenMetrics page.
    let (_, findings) = promtool_check_metrics(&promtool, &om);
    let om_types = metadata_names(&om, "TYPE");
    for line in findings.lines().filter(|l| !l.trim().is_empty()) {
        let counter = line
            .strip_suffix(" no help text")
            .and_then(|n| n.strip_suffix("_total"))
            .unwrap_or_else(|| panic!("promtool on OpenMetrics: {line}\n{om}"));
        assert!(
            om_types.contains(&counter) && om.contains(&format!("# TYPE {counter} counter\n")),
            "{line}"
        );
        assert!(om.contains(&format!("# HELP {counter} ")), "{line}");
    }
    // The OpenMetrics page through Prometheus's own OpenMetrics parser (the backfill importer, which wants a
    // timestamp on every sample).
    let dir = tempfile::tempdir().unwrap();
    let stamped: String = om
        .lines()
        .map(|l| {
            if l.starts_with('#') {
                format!("{l}\n")
            } else {
                format!("{l} 1700000000\n")
            }
        })
        .collect();
    let input = dir.path().join("page.om");
    std::fs::write(&input, stamped).unwrap();
    let out = std::process::Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(dir.path().join("blocks"))
        .output()
        .expect("TWINPORT_PROMTOOL runs");
    assert!(
        out.status.success(),
        "promtool's OpenMetrics parser refused the page: {}{}\n{om}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `promtool check metrics` with `page` on stdin: (exit status success, everything it printed).
fn promtool_check_metrics(promtool: &str, page: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("TWINPORT_PROMTOOL runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_parser_refuses_what_prometheus_would() {
    assert!(parse_exposition("x 1\n# EOF").is_ok());
    assert!(parse_exposition("x{a=\"}{\\\"\"} 1\n# EOF").is_ok());
    for bad in [
        "x 1",
        "x one\n# EOF",
        "x{a=b} 1\n# EOF",
        "x{a=\"b\" 1\n# EOF",
        "1x 1\n# EOF",
        "# NOTE x\n# EOF",
        "x{a=\"\\q\"} 1\n# EOF",
    ] {
        assert!(parse_exposition(bad).is_err(), "{bad}");
    }
}

/// A span as the collector stand-in received it.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
}

/// An OTLP/HTTP collector stand-in: accepts protobuf `ExportTraceServiceRequest`s on `/v1/traces`.
async fn collector() -> (String, Arc<Mutex<Vec<ReceivedSpan>>>) {
    let spans: Arc<Mutex<Vec<ReceivedSpan>>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            post(
                |State(spans): State<Arc<Mutex<Vec<ReceivedSpan>>>>, body: Bytes| async move {
                    let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                    let mut spans = spans.lock().unwrap();
                    for resource_spans in request.resource_spans {
                        let service = resource_spans
                            .resource
                            .iter()
                            .flat_map(|r| &r.attributes)
                            .find(|kv| kv.key == "service.name")
                            .and_then(|kv| kv.value.as_ref()?.value.as_ref())
                            .map(|v| match v {
                                any_value::Value::StringValue(s) => s.clone(),
                                other => format!("{other:?}"),
                            })
                            .unwrap_or_default();
                        for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                            spans.push(ReceivedSpan {
                                service: service.clone(),
                                name: span.name,
                                trace_id: hex(&span.trace_id),
                                span_id: hex(&span.span_id),
                                parent_span_id: hex(&span.parent_span_id),
                            });
                        }
                    }
                    axum::http::StatusCode::OK
                },
            ),
        )
        .with_state(spans.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, spans)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn one_trace_spans_both_connectors_of_a_dsp_exchange() {
    let (endpoint, spans) = collector().await;
    let (a, b) = city_pair_with(Storage::Sqlite, |c| {
        c.telemetry.otlp_endpoint = Some(endpoint.clone());
        c.telemetry.service_name = if c.participant_id == CITY_A {
            "city-a".into()
        } else {
            "city-b".into()
        };
    })
    .await;
    let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let provider = provider_negotiation(&a, &id).await.expect("provider side");
    wait_for_state(&a, &provider.id, "FINALIZED", T).await;
    // Stopping flushes the batched spans to the collector.
    a.running.stop().await;
    b.running.stop().await;

    let spans = spans.lock().unwrap().clone();
    let find = |service: &str, name: &str| {
        spans
            .iter()
            .find(|s| s.service == service && s.name == name)
            .unwrap_or_else(|| panic!("no span {name} from {service} in {spans:#?}"))
            .clone()
    };
    // The consumer's request for a contract, and the provider answering it: one trace, parent and child.
    let sent = find("city-b", "dsp ContractRequestMessage");
    let handled = find("city-a", "POST /dsp/2025-1/negotiations/request");
    assert_eq!(handled.trace_id, sent.trace_id);
    assert_eq!(handled.parent_span_id, sent.span_id);
    assert!(
        sent.parent_span_id.is_empty(),
        "the outbox starts the trace"
    );
    // The other way round: the provider's agreement, handled by the consumer.
    let sent = find("city-a", "dsp ContractAgreementMessage");
    let handled = find("city-b", "POST /dsp/2025-1/negotiations/{pid}/agreement");
    assert_eq!(handled.trace_id, sent.trace_id);
    assert_eq!(handled.parent_span_id, sent.span_id);
    // Each exchange is a trace of its own.
    assert_ne!(
        find("city-b", "dsp ContractRequestMessage").trace_id,
        sent.trace_id
    );
}
