//! `twinport bench negotiation`: two connectors on loopback with SQLite (the embedded defaults) negotiate contracts
//! back to back, and the command prints negotiations per second and the latency from the consumer's request to
//! FINALIZED on both sides (p50, p99).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::pair::Pair;
use super::sample_backend;
use crate::contracting::negotiation;

const DATASET: &str = "urn:ldt:sample-city:traffic-counts";

pub async fn negotiation(count: usize, concurrency: usize) -> anyhow::Result<()> {
    let (backend, _platform) = sample_backend::start().await?;
    let pair = Pair::start(&backend).await?;
    negotiate(&pair, count, concurrency, "").await?;
    pair.stop().await;
    Ok(())
}

/// Negotiates `count` contracts on `pair` one at a time (and `concurrency` at a time if more than one) and reports
/// each run, its label prefixed with `label`.
pub(super) async fn negotiate(
    pair: &Pair,
    count: usize,
    concurrency: usize,
    label: &str,
) -> anyhow::Result<()> {
    let partner = pair
        .b
        .state
        .partners()
        .get(&pair.provider)
        .ok_or_else(|| anyhow::anyhow!("partner missing"))?;
    let dataset = pair.b.state.client().dataset(&partner, DATASET).await?;
    let offer = dataset["hasPolicy"][0].clone();
    let prefix = if label.is_empty() {
        String::new()
    } else {
        format!("{label}, ")
    };
    // Warm-up: connection pools, prepared statements, discovery.
    run(pair, &offer, 5, 1).await?;
    let sequential = run(pair, &offer, count, 1).await?;
    report(&format!("{prefix}sequential"), &sequential);
    if concurrency > 1 {
        let parallel = run(pair, &offer, count, concurrency).await?;
        report(&format!("{prefix}{concurrency} in flight"), &parallel);
    }
    Ok(())
}

struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

/// Negotiates `count` contracts, `concurrency` at a time; each latency ends when both sides are FINALIZED.
async fn run(pair: &Pair, offer: &Value, count: usize, concurrency: usize) -> anyhow::Result<Run> {
    let mut consumer_events = pair.b.state.events().subscribe();
    let mut provider_events = pair.a.state.events().subscribe();
    let started = Instant::now();
    let mut begun: HashMap<String, Instant> = HashMap::new();
    let mut consumer_done: HashMap<String, Instant> = HashMap::new();
    let mut provider_done: Vec<Instant> = Vec::new();
    let mut latencies = Vec::with_capacity(count);
    let mut launched = 0;
    let mut in_flight = 0;
    while latencies.len() < count {
        while in_flight < concurrency && launched < count {
            let t0 = Instant::now();
            let n = negotiation::start(
                pair.b.state.contracting(),
                &pair.provider,
                DATASET,
                offer.clone(),
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("start: {e}"))?;
            begun.insert(n.id, t0);
            launched += 1;
            in_flight += 1;
        }
        tokio::select! {
            e = consumer_events.recv() => match e {
                Ok(e) if e.state == "FINALIZED" => { consumer_done.insert(e.process_id, Instant::now()); }
                Ok(e) if e.state == "TERMINATED" => anyhow::bail!("negotiation {} was terminated", e.process_id),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => anyhow::bail!("consumer stopped"),
            },
            e = provider_events.recv() => match e {
                Ok(e) if e.state == "FINALIZED" => provider_done.push(Instant::now()),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => anyhow::bail!("provider stopped"),
            },
            _ = tokio::time::sleep(Duration::from_secs(30)) => anyhow::bail!("no progress for 30 s"),
        }
        // Provider FINALIZED events are matched in order: the provider finalizes in the order verifications arrive,
        // and with one in flight that order is exact; with more, the pairing stays within the in-flight window.
        let finished: Vec<String> = consumer_done.keys().cloned().collect();
        for id in finished {
            let Some(provider_at) = provider_done.first().copied() else {
                break;
            };
            let (Some(c), Some(t0)) = (consumer_done.remove(&id), begun.remove(&id)) else {
                continue;
            };
            provider_done.remove(0);
            latencies.push(c.max(provider_at) - t0);
            in_flight -= 1;
        }
    }
    Ok(Run {
        latencies,
        elapsed: started.elapsed(),
    })
}

fn report(label: &str, run: &Run) {
    let mut l = run.latencies.clone();
    l.sort();
    let pct = |p: f64| {
        l[((l.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(l.len() - 1)]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "negotiation ({label}): {} negotiations in {:.2} s = {:.1}/s; request to FINALIZED on both sides: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        l.len(),
        run.elapsed.as_secs_f64(),
        l.len() as f64 / run.elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*l.last().unwrap_or(&Duration::ZERO)),
    );
}
