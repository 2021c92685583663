//! `twinport bench dcp`: what DCP costs. Two pairs of connectors on loopback (SQLite) read the same dataset by id
//! over DSP, one pair authenticating by configured keys (JWKS), the other known to each other only by DID with
//! membership credentials (DCP: self-issued token, DID document, a presentation query to the caller's Credential
//! Service, VP and VC checks, status list); requests alternate between the pairs so noise hits both alike. DID
//! documents and the status list are cached (the issuer serves `max-age=300`), as in steady operation. Then both
//! pairs negotiate contracts back to back.

use std::time::{Duration, Instant};

use axum::Router;

use super::bench;
use super::issuer::DevIssuer;
use super::pair::Pair;
use super::sample_backend;

const DATASET: &str = "urn:ldt:sample-city:traffic-counts";

pub async fn run(requests: usize, negotiations: usize) -> anyhow::Result<()> {
    let (backend, _platform) = sample_backend::start().await?;
    let issuer =
        DevIssuer::start("did:web:issuer.test", "public, max-age=300", Router::new()).await?;
    let jwks = Pair::start(&backend).await?;
    let dcp = Pair::start_dcp(&backend, &issuer).await?;
    let http = reqwest::Client::new();
    let mut timings = [Vec::with_capacity(requests), Vec::with_capacity(requests)];
    // Warm-up: connection pools, prepared statements, DID documents and the status list in the caches.
    for round in 0..(requests + 20) {
        for (i, pair) in [&jwks, &dcp].into_iter().enumerate() {
            let took = dataset_by_id(&http, pair).await?;
            if round >= 20 {
                timings[i].push(took);
            }
        }
    }
    let [by_keys, by_dcp] = timings.map(|mut t| {
        t.sort();
        t
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |l: &[Duration], p: f64| {
        l[((l.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(l.len() - 1)]
    };
    for (label, l) in [
        ("configured keys (JWKS)", &by_keys),
        ("DCP (DID + credentials)", &by_dcp),
    ] {
        println!(
            "dataset by id, {label}: {} requests, p50 {:.2} ms, p99 {:.2} ms",
            l.len(),
            ms(pct(l, 0.5)),
            ms(pct(l, 0.99))
        );
    }
    println!(
        "DCP adds {:.2} ms at p50 ({} status list fetches, the rest from cache)",
        ms(pct(&by_dcp, 0.5)) - ms(pct(&by_keys, 0.5)),
        issuer
            .status_fetches
            .load(std::sync::atomic::Ordering::SeqCst)
    );
    if negotiations > 0 {
        for (label, pair) in [("configured keys", &jwks), ("DCP on both sides", &dcp)] {
            bench::negotiate(pair, negotiations, 1, label).await?;
        }
    }
    jwks.stop().await;
    dcp.stop().await;
    Ok(())
}

/// One authenticated DSP request from city B to city A, token minting included.
async fn dataset_by_id(http: &reqwest::Client, pair: &Pair) -> anyhow::Result<Duration> {
    let url = format!(
        "{}/catalog/datasets/{}",
        pair.a.state.dsp_base(),
        crate::client::encode_segment(DATASET)
    );
    let t0 = Instant::now();
    let token = pair.b.state.identity().token_for(&pair.provider)?;
    let r = http.get(&url).bearer_auth(token).send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    let took = t0.elapsed();
    if !status.is_success() {
        anyhow::bail!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(took)
}
