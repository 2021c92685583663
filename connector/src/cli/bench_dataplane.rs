//! `twinport bench dataplane`: two connectors on loopback (SQLite), city B holding a started pull transfer of a
//! resource on the sample backend. In one run, against that same backend: N concurrent clients fetch 1 KB
//! directly, then through city A's data plane (token, transfer state, agreement in the access scope, count
//! reservation, audit entry and signed receipt on every request); throughput and p50/p99 latency of both. Then one
//! large body streams through the data plane while the process's resident memory (VmRSS, VmHWM) is sampled.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::pair::{Pair, CITY_A};
use super::sample_backend;
use crate::app::AppState;
use crate::contracting::{negotiation, transfer};
use crate::storage::ResourceSource;

const DATASET: &str = "urn:ldt:sample-city:bench-kb";

pub async fn run(requests: usize, concurrency: usize, stream_mb: u64) -> anyhow::Result<()> {
    let (backend, _platform) = sample_backend::start().await?;
    let pair = Pair::start(&backend).await?;
    let resource = json!({
        "id": DATASET, "kind": "dataset", "stage": "raw", "title": "Benchmark payloads",
        "distributions": [{"format": "application/octet-stream", "backend": format!("{backend}/bench")}],
        "offers": [{"policy": "partner-use"}]
    });
    pair.a
        .state
        .store()
        .put_resource(DATASET, "dataset", ResourceSource::Api, &resource)
        .await?;
    let (endpoint, token) = pull(&pair.b.state).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .build()?;
    let direct_url = format!("{backend}/bench/kb");
    let proxied_url = format!("{endpoint}/kb");

    // Warm-up: connection pools, prepared statements.
    load(&client, &direct_url, None, 200, concurrency).await?;
    load(&client, &proxied_url, Some(&token), 200, concurrency).await?;
    let direct = load(&client, &direct_url, None, requests, concurrency).await?;
    let proxied = load(&client, &proxied_url, Some(&token), requests, concurrency).await?;
    report("direct ", &direct);
    report("proxied", &proxied);
    let (d50, p50) = (direct.pct(0.5), proxied.pct(0.5));
    println!(
        "data plane: {:.2}x direct throughput (target >= 0.8x), {:+.3} ms added p50 (target <= 1 ms), {:+.3} ms added p99",
        proxied.rate() / direct.rate(),
        (p50 - d50).as_secs_f64() * 1000.0,
        (proxied.pct(0.99) - direct.pct(0.99)).as_secs_f64() * 1000.0,
    );

    // Let the receipts of the load run settle so their memory does not count as streaming growth.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = memory();
    let started = Instant::now();
    let response = client
        .get(format!("{endpoint}/stream?mb={stream_mb}"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?;
    let mut body = response.bytes_stream();
    let mut bytes: u64 = 0;
    let mut peak_rss = before.rss_kb;
    let mut next_sample = 0u64;
    while let Some(chunk) = body.next().await {
        bytes += chunk?.len() as u64;
        if bytes >= next_sample {
            peak_rss = peak_rss.max(memory().rss_kb);
            next_sample += 16 * 1024 * 1024;
        }
    }
    let elapsed = started.elapsed();
    let after = memory();
    println!(
        "stream: {} MiB through the data plane in {:.2} s ({:.0} MiB/s); VmRSS {} -> peak {} KiB (growth {:.1} MiB, target <= 32 MiB); VmHWM {} -> {} KiB",
        bytes / (1024 * 1024),
        elapsed.as_secs_f64(),
        bytes as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64(),
        before.rss_kb,
        peak_rss.max(after.rss_kb),
        (peak_rss.max(after.rss_kb).saturating_sub(before.rss_kb)) as f64 / 1024.0,
        before.hwm_kb,
        after.hwm_kb,
    );
    pair.stop().await;
    Ok(())
}

/// Negotiates the benchmark dataset as city B and starts a pull transfer; returns the data address and token.
async fn pull(b: &AppState) -> anyhow::Result<(String, String)> {
    let partner = b
        .partners()
        .get(CITY_A)
        .ok_or_else(|| anyhow::anyhow!("partner missing"))?;
    let dataset = b.client().dataset(&partner, DATASET).await?;
    let offer = dataset["hasPolicy"][0].clone();
    let mut events = b.events().subscribe();
    let n = negotiation::start(b, CITY_A, DATASET, offer, None)
        .await
        .map_err(|e| anyhow::anyhow!("negotiation: {e}"))?;
    wait(&mut events, &n.id, "FINALIZED").await?;
    let agreement = b
        .store()
        .negotiation(&n.id)
        .await?
        .and_then(|n| n.agreement_id)
        .ok_or_else(|| anyhow::anyhow!("no agreement"))?;
    let t = transfer::request(b, &agreement, transfer::PULL, None)
        .await
        .map_err(|e| anyhow::anyhow!("transfer: {e}"))?;
    wait(&mut events, &t.id, "STARTED").await?;
    let address: Value = b
        .store()
        .transfer(&t.id)
        .await?
        .and_then(|t| t.data_address)
        .ok_or_else(|| anyhow::anyhow!("no data address"))?;
    let endpoint = address["endpoint"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no endpoint"))?
        .to_string();
    let token = address["endpointProperties"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "authorization"))
        .and_then(|p| p["value"].as_str())
        .ok_or_else(|| anyhow::anyhow!("no token"))?
        .to_string();
    Ok((endpoint, token))
}

async fn wait(
    events: &mut tokio::sync::broadcast::Receiver<crate::contracting::events::StateChanged>,
    id: &str,
    state: &str,
) -> anyhow::Result<()> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Err(_) => anyhow::bail!("{id} did not reach {state}"),
            Ok(Ok(e)) if e.process_id == id && e.state == state => return Ok(()),
            Ok(Ok(e)) if e.process_id == id && e.state == "TERMINATED" => {
                anyhow::bail!("{id} was terminated")
            }
            Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) => anyhow::bail!("connector stopped"),
        }
    }
}

struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Run {
    fn pct(&self, p: f64) -> Duration {
        let l = &self.latencies;
        l[((l.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(l.len() - 1)]
    }
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// `count` GETs of `url` by `concurrency` clients; every response must be 200 with its whole body read.
async fn load(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Run> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, token, next) = (
            client.clone(),
            url.to_string(),
            token.map(str::to_string),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                let t0 = Instant::now();
                let mut req = client.get(&url);
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                let r = req.send().await?;
                let status = r.status();
                let body = r.bytes().await?;
                if !status.is_success() || body.len() != 1024 {
                    anyhow::bail!("{url}: {status}, {} bytes", body.len());
                }
                latencies.push(t0.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    for w in workers {
        latencies.extend(w.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(Run { latencies, elapsed })
}

fn report(label: &str, run: &Run) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "1 KB {label}: {} requests in {:.2} s = {:.0}/s; p50 {:.3} ms, p99 {:.3} ms",
        run.latencies.len(),
        run.elapsed.as_secs_f64(),
        run.rate(),
        ms(run.pct(0.5)),
        ms(run.pct(0.99)),
    );
}

struct Memory {
    rss_kb: u64,
    hwm_kb: u64,
}

/// This process's resident set and its high-water mark, from /proc/self/status (0 where unavailable).
fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kb: field("VmRSS:"),
        hwm_kb: field("VmHWM:"),
    }
}
