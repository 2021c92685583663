//! `twinport bench processes`: what proxying a model's execution costs. Two connectors on loopback (SQLite), city
//! B holding a started pull transfer of a model served as OGC API - Processes by a stub model server that
//! answers at once ([`super::process_stub`]), so every millisecond measured beyond the direct call is the data
//! plane's: the call judged, the job registry, the agreement in the access scope (the execution counted when the
//! agreement limits them), the inputs parsed, digested and passed on in RFC 8785 form, the answer's links
//! rewritten, the access recorded with its receipt. One client executes `hello-world` synchronously, alternately
//! direct and through city A's data plane (interleaved A/B, so both see the same machine at the same moment),
//! then (fewer) through city B's local endpoint, as a city application would. With `counted`, the agreement limits
//! executions (`odrl:count`, far above the run), so each execution also takes its number in the database. The
//! issue's target: an execution proxied adds at most 1 ms p50 to the model server's own time.

use std::time::{Duration, Instant};

use serde_json::json;

use super::measure::Run;
use super::pair::Pair;
use crate::storage::ResourceSource;

const MODEL: &str = "urn:ldt:sample-city:bench-model";

/// How many executions go through the consumer's local endpoint at most (each also costs a receipt check).
const LOCAL_REQUESTS: usize = 1_000;

pub async fn run(requests: usize, counted: bool) -> anyhow::Result<()> {
    let stub = super::process_stub::start(false).await?;
    let pair = Pair::start_on(&stub.url, false, None).await?;
    let policy = if counted {
        let limited = json!({"permission": [{"action": "use", "constraint": [
            {"leftOperand": "count", "operator": "lteq", "rightOperand": 1_000_000_000u64}]}]});
        pair.a
            .state
            .store()
            .put_policy("bench-counted", ResourceSource::Api, &limited)
            .await?;
        "bench-counted"
    } else {
        "partner-use"
    };
    println!(
        "agreement: {}",
        if counted {
            "executions counted against an odrl:count limit"
        } else {
            "no count limit"
        }
    );
    let resource = json!({
        "id": MODEL, "kind": "model-or-service", "title": "Benchmark model",
        "description": "A model server that answers at once.",
        "distributions": [{"format": "application/json", "backend": stub.url,
                           "ogc_api_processes": {"processes": ["hello-world"]}}],
        "offers": [{"policy": policy}]
    });
    pair.a
        .state
        .store()
        .put_resource(MODEL, "model-or-service", ResourceSource::Api, &resource)
        .await?;
    let (endpoint, token, transfer) = super::bench_dataplane::pull_of(&pair.b.state, MODEL).await?;
    let client = reqwest::Client::builder().build()?;
    let body = json!({"inputs": {"name": "bench", "message": "measured"}, "response": "document"})
        .to_string();
    let direct_url = format!("{}/processes/hello-world/execution", stub.url);
    let proxied_url = format!("{endpoint}/processes/hello-world/execution");
    let local_url = format!(
        "{}/transfers/{}/processes/hello-world/execution",
        pair.b.local_url(),
        crate::client::encode_segment(&transfer)
    );
    let execute = |url: &str, token: Option<&str>| {
        let mut req = client
            .post(url)
            .header("content-type", "application/json")
            .header("prefer", "respond-sync")
            .body(body.clone());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let t0 = Instant::now();
            let r = req.send().await?;
            let status = r.status();
            let bytes = r.bytes().await?;
            if status != 200 || !bytes.starts_with(b"{\"echo\"") {
                anyhow::bail!(
                    "execution answered {status}: {}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            Ok::<_, anyhow::Error>(t0.elapsed())
        }
    };
    // Warm-up: connection pools, caches, prepared statements.
    for _ in 0..200 {
        execute(&direct_url, None).await?;
        execute(&proxied_url, Some(&token)).await?;
    }
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    let started = Instant::now();
    for i in 0..requests {
        // A then B, then B then A: neither always goes first.
        if i % 2 == 0 {
            direct.push(execute(&direct_url, None).await?);
            proxied.push(execute(&proxied_url, Some(&token)).await?);
        } else {
            proxied.push(execute(&proxied_url, Some(&token)).await?);
            direct.push(execute(&direct_url, None).await?);
        }
    }
    let elapsed = started.elapsed();
    let mut local = Vec::new();
    let local_started = Instant::now();
    for _ in 0..requests.min(LOCAL_REQUESTS) {
        local.push(execute(&local_url, None).await?);
    }
    let local_elapsed = local_started.elapsed();
    let run = |mut l: Vec<Duration>, elapsed: Duration| {
        l.sort();
        Run {
            latencies: l,
            elapsed,
        }
    };
    let (direct, proxied, local) = (
        run(direct, elapsed / 2),
        run(proxied, elapsed / 2),
        run(local, local_elapsed),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (label, r) in [
        ("direct ", &direct),
        ("proxied", &proxied),
        ("local  ", &local),
    ] {
        println!(
            "execute {label}: {} calls; p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            r.latencies.len(),
            ms(r.pct(0.5)),
            ms(r.pct(0.9)),
            ms(r.pct(0.99)),
            ms(r.pct(1.0)),
        );
    }
    println!(
        "data plane: {:+.3} ms added p50 to the model server's own time (target <= 1 ms), {:+.3} ms p99",
        proxied.added_ms(&direct, 0.5),
        proxied.added_ms(&direct, 0.99),
    );
    println!(
        "consumer local endpoint (B relays to A, checks and records the receipt): {:+.3} ms p50 over the direct call",
        local.added_ms(&direct, 0.5),
    );
    pair.stop().await;
    Ok(())
}
