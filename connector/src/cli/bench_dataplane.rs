//! `twinport bench dataplane`: two connectors on loopback (SQLite), city B holding a started pull transfer of a
//! resource on the sample backend. In one run, against that same backend: N concurrent clients fetch 1 KB
//! directly, then through city A's data plane (token, transfer state, agreement in the access scope, count
//! reservation, audit entry and receipt on every request); throughput and p50/p99 latency of both. Then one
//! large body streams through the data plane while the process's resident memory (VmRSS, VmHWM) is sampled.
//! A third row, a bare forwarder (the same two HTTP hops through hyper, no checks, no records), shows
//! what the extra hop alone costs on this machine, so the data plane's own share can be told apart. A fourth, the
//! consumer's local endpoint (what a city application calls: city B relays to A's data plane, then fetches, checks
//! and records A's receipt for each response), on kept-alive connections as applications keep them.
//!
//! With `--pin`, the load generator and the backend run on one half of the CPUs and the connectors (and the bare
//! forwarder) on the other, each on a runtime of its own: a sidecar is deployed with CPU of its own, and when it
//! shares cores with the load generator and the backend every cycle it spends is taken from them, so the "direct"
//! run is faster for reasons that have nothing to do with the proxy. Both placements are worth reporting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::measure::{memory, Run};
use super::pair::{Pair, CITY_A};
use super::sample_backend;
use crate::app::AppState;
use crate::contracting::{negotiation, transfer};
use crate::storage::ResourceSource;

const DATASET: &str = "urn:ldt:sample-city:bench-kb";

/// Where the two sides of the benchmark run.
struct Placement {
    /// Load generator and backend; `None`: the caller's runtime.
    load: Option<tokio::runtime::Runtime>,
    /// Connectors and the bare forwarder; `None`: the caller's runtime.
    proxy: Option<tokio::runtime::Runtime>,
    /// The CPUs of the proxies (nginx's workers are pinned to them); empty when not pinned.
    proxy_cpus: Vec<usize>,
    /// The CPUs of the load generator (`wrk` is pinned to them); empty when not pinned.
    load_cpus: Vec<usize>,
}

impl Placement {
    fn shared() -> Placement {
        Placement {
            load: None,
            proxy: None,
            proxy_cpus: Vec::new(),
            load_cpus: Vec::new(),
        }
    }

    /// The first half of the CPUs for the load, the rest for the proxies.
    fn pinned() -> anyhow::Result<Placement> {
        let cores = core_affinity::get_core_ids().unwrap_or_default();
        if cores.len() < 2 {
            anyhow::bail!(
                "--pin needs at least 2 CPUs, this process may use {}",
                cores.len()
            );
        }
        let (load, proxy) = cores.split_at(cores.len() / 2);
        println!(
            "pinned: load generator and backend on CPU {:?}, connectors and bare forwarder on CPU {:?}",
            load.iter().map(|c| c.id).collect::<Vec<_>>(),
            proxy.iter().map(|c| c.id).collect::<Vec<_>>(),
        );
        Ok(Placement {
            load: Some(pinned_runtime("bench-load", load.to_vec())?),
            proxy: Some(pinned_runtime("bench-proxy", proxy.to_vec())?),
            proxy_cpus: proxy.iter().map(|c| c.id).collect(),
            load_cpus: load.iter().map(|c| c.id).collect(),
        })
    }

    /// Runs `f` on `rt` (or here) and waits for it.
    async fn on<F>(rt: &Option<tokio::runtime::Runtime>, f: F) -> anyhow::Result<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(match rt {
            Some(rt) => rt.spawn(f).await?,
            None => f.await,
        })
    }

    fn shutdown(self) {
        for rt in [self.load, self.proxy].into_iter().flatten() {
            rt.shutdown_background();
        }
    }
}

/// A runtime with one worker per CPU in `cores`, every thread of it (blocking ones too, and threads they start,
/// such as SQLite's) confined to those CPUs.
fn pinned_runtime(
    name: &str,
    cores: Vec<core_affinity::CoreId>,
) -> anyhow::Result<tokio::runtime::Runtime> {
    let workers = cores.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .on_thread_start(move || {
            // A thread may only be placed on one CPU by this crate; spreading them keeps every core busy.
            let core = cores[next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % cores.len()];
            core_affinity::set_for_current(core);
        })
        .enable_all()
        .build()?)
}

/// What to measure, from the command line.
pub struct Settings {
    pub requests: usize,
    pub concurrency: usize,
    pub stream_mb: u64,
    pub pin: bool,
    /// What each 1 KB answer costs the backend: waiting (no CPU), then CPU.
    pub backend_wait_us: u64,
    pub backend_work_us: u64,
    /// A PostgreSQL URL: city A keeps its state (audit log, receipts) in a new schema there.
    pub postgres: Option<String>,
}

/// The most requests the local-endpoint run makes: each one costs the consumer a receipt fetch, check and record,
/// so it is far slower than the other rows.
const LOCAL_REQUESTS: usize = 5_000;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let placement = if settings.pin {
        Placement::pinned()?
    } else {
        Placement::shared()
    };
    let result = measure(&placement, &settings).await;
    placement.shutdown();
    result
}

async fn measure(placement: &Placement, settings: &Settings) -> anyhow::Result<()> {
    let Settings {
        requests,
        concurrency,
        stream_mb,
        ..
    } = *settings;
    let (backend, _platform) = Placement::on(&placement.load, sample_backend::start()).await??;
    let storage_a = match &settings.postgres {
        Some(base) => Some(crate::storage::new_postgres_schema(base, "bench").await?),
        None => None,
    };
    println!(
        "city A (provider) on {}",
        if storage_a.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let pair = {
        let backend = backend.clone();
        Placement::on(&placement.proxy, async move {
            Pair::start_on(&backend, false, storage_a).await
        })
        .await??
    };
    let resource = json!({
        "id": DATASET, "kind": "dataset", "stage": "raw", "title": "Benchmark payloads",
        "description": "Payloads of the data plane benchmark.",
        "distributions": [{"format": "application/octet-stream", "backend": format!("{backend}/bench")}],
        "offers": [{"policy": "partner-use"}]
    });
    pair.a
        .state
        .store()
        .put_resource(DATASET, "dataset", ResourceSource::Api, &resource)
        .await?;
    let (endpoint, token, transfer) = pull(&pair.b.state).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .build()?;
    let cost = format!(
        "?wait_us={}&work_us={}",
        settings.backend_wait_us, settings.backend_work_us
    );
    println!(
        "backend cost per 1 KB answer: {} us waiting (tokio's timer rounds up to whole milliseconds), {} us of CPU{}",
        settings.backend_wait_us,
        settings.backend_work_us,
        if settings.backend_wait_us + settings.backend_work_us == 0 {
            " (answers at once: the proxy's worst case)"
        } else {
            ""
        }
    );
    let direct_url = format!("{backend}/bench/kb{cost}");
    let proxied_url = format!("{endpoint}/kb{cost}");
    // What a city application calls: B's local endpoint, no token; B relays to A's data plane, then fetches,
    // checks and records A's receipt for every response.
    let local_url = format!(
        "{}/transfers/{}/kb{cost}",
        pair.b.local_url(),
        crate::client::encode_segment(&transfer)
    );
    let local_requests = requests.min(LOCAL_REQUESTS);

    let bare_url = format!(
        "{}/kb{cost}",
        Placement::on(
            &placement.proxy,
            bare_forwarder(
                format!("{backend}/bench"),
                pair.a.state.tls().backend_client_config()
            )
        )
        .await??
    );
    // nginx in front of the same backend, the hop an operator would otherwise deploy; skipped without nginx.
    let nginx = super::nginx::Nginx::start(&backend, &placement.proxy_cpus)?;
    if nginx.is_none() {
        println!(
            "nginx: not found (PATH, /usr/sbin), so no nginx row; install nginx to compare with it"
        );
    }
    let nginx_url = nginx.as_ref().map(|n| format!("{}/bench/kb{cost}", n.url));
    let run = |url: &str, token: Option<&str>, count: usize| {
        let (client, url, token) = (client.clone(), url.to_string(), token.map(str::to_string));
        Placement::on(&placement.load, async move {
            load(&client, &url, token.as_deref(), count, concurrency).await
        })
    };

    // Warm-up: connection pools, prepared statements.
    run(&direct_url, None, 200).await??;
    run(&bare_url, None, 200).await??;
    run(&proxied_url, Some(&token), 200).await??;
    run(&local_url, None, 200).await??;
    if let Some(url) = &nginx_url {
        run(url, None, 200).await??;
    }
    let direct = run(&direct_url, None, requests).await??;
    let via_nginx = match &nginx_url {
        Some(url) => Some(run(url, None, requests).await??),
        None => None,
    };
    let bare = run(&bare_url, None, requests).await??;
    let (entries_before, batches_before) = (
        pair.a.state.audit().size(),
        pair.a.state.audit().batches_written(),
    );
    let proxied = run(&proxied_url, Some(&token), requests).await??;
    report("direct ", &direct);
    if let Some(n) = &via_nginx {
        report("nginx  ", n);
    }
    report("bare   ", &bare);
    report("proxied", &proxied);
    // Served accesses are recorded just after their responses: wait for the last ones before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let audit = pair.a.state.audit();
    println!(
        "provider audit log: {} entries in {} transactions during the proxied run",
        audit.size() - entries_before,
        audit.batches_written() - batches_before,
    );
    if let Some(n) = &via_nginx {
        println!(
            "data plane vs nginx on the same hop: {:.2}x its throughput (target >= 0.5x), {:+.3} ms p50 over it (target <= 0.3 ms), {:+.3} ms p99",
            proxied.rate() / n.rate(),
            proxied.added_ms(n, 0.5),
            proxied.added_ms(n, 0.99),
        );
    }
    if let (Some(wrk), Some(nginx_url)) = (super::wrk::binary(), &nginx_url) {
        with_wrk(
            wrk,
            &placement.load_cpus,
            [&direct_url, nginx_url, &proxied_url],
            &token,
        )
        .await?;
    }
    drop(nginx);
    let local = run(&local_url, None, local_requests).await??;
    report("local  ", &local);
    println!(
        "bare forwarder (the extra hop alone): {:.2}x direct throughput, {:+.3} ms added p50; data plane vs bare forwarder: {:.2}x throughput, {:+.3} ms p50",
        bare.rate() / direct.rate(),
        bare.added_ms(&direct, 0.5),
        proxied.rate() / bare.rate(),
        proxied.added_ms(&bare, 0.5),
    );
    println!(
        "data plane: {:.2}x direct throughput (target >= 0.8x), {:+.3} ms added p50 (target <= 1 ms), {:+.3} ms added p99",
        proxied.rate() / direct.rate(),
        proxied.added_ms(&direct, 0.5),
        proxied.added_ms(&direct, 0.99),
    );
    println!(
        "consumer local endpoint (B relays to A, checks and records every receipt): {:.2}x the provider data plane's throughput, {:+.3} ms p50 over it ({} requests on kept-alive connections)",
        local.rate() / proxied.rate(),
        local.added_ms(&proxied, 0.5),
        local_requests,
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
    Placement::on(&placement.proxy, pair.stop()).await?;
    Ok(())
}

/// The direct, nginx and data-plane rows again with `wrk` as the load generator (see [`super::wrk`]).
async fn with_wrk(
    wrk: std::path::PathBuf,
    cpus: &[usize],
    [direct, nginx, proxied]: [&str; 3],
    token: &str,
) -> anyhow::Result<()> {
    const CONNECTIONS: usize = 16;
    const SECONDS: u64 = 4;
    let auth = format!("Authorization: Bearer {token}");
    let mut rows = Vec::new();
    for (label, url, header) in [
        ("direct ", direct, None),
        ("nginx  ", nginx, None),
        ("proxied", proxied, Some(auth.as_str())),
    ] {
        let (wrk, url, header, cpus) = (
            wrk.clone(),
            url.to_string(),
            header.map(str::to_string),
            cpus.to_vec(),
        );
        // wrk runs as its own process; waiting for it must not hold one of the runtime's workers.
        let measured = tokio::task::spawn_blocking(move || {
            super::wrk::run(&wrk, &url, header.as_deref(), CONNECTIONS, SECONDS, &cpus)
        })
        .await??;
        if measured.failures > 0 {
            anyhow::bail!("wrk {label}: {} failed requests", measured.failures);
        }
        println!(
            "1 KB {label} (wrk, {CONNECTIONS} connections, {SECONDS} s): {:.0}/s; p50 {:.3} ms, p99 {:.3} ms",
            measured.requests_per_second,
            measured.p50.as_secs_f64() * 1000.0,
            measured.p99.as_secs_f64() * 1000.0,
        );
        rows.push(measured);
    }
    let (nginx, proxied) = (&rows[1], &rows[2]);
    println!(
        "with wrk, data plane vs nginx on the same hop: {:.2}x its throughput (target >= 0.5x), {:+.3} ms p50 over it (target <= 0.3 ms)",
        proxied.requests_per_second / nginx.requests_per_second,
        (proxied.p50.as_secs_f64() - nginx.p50.as_secs_f64()) * 1000.0,
    );
    Ok(())
}

/// A forwarder with nothing of the data plane in it: each request to `<it>/<path>` is sent to `<target>/<path>`
/// with the data plane's own backend client and the answer streamed back. Returns its base URL.
async fn bare_forwarder(target: String, tls: rustls::ClientConfig) -> anyhow::Result<String> {
    use crate::dataplane::backend_client::{self, BackendClient};
    use axum::extract::{Path, State};
    use axum::response::IntoResponse;

    async fn forward(
        State((client, target)): State<(BackendClient, Arc<str>)>,
        Path(path): Path<String>,
        uri: axum::http::Uri,
    ) -> axum::response::Response {
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let Ok(uri) = format!("{target}/{path}{query}").parse::<axum::http::Uri>() else {
            return axum::http::StatusCode::BAD_REQUEST.into_response();
        };
        let mut request = axum::http::Request::new(backend_client::outgoing(None));
        *request.uri_mut() = uri;
        match client.send(request).await {
            Ok(r) => {
                let (parts, body) = r.into_parts();
                let mut out = axum::response::Response::new(axum::body::Body::from_stream(
                    backend_client::incoming(body),
                ));
                *out.status_mut() = parts.status;
                out
            }
            Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
        }
    }

    let client = BackendClient::new(Duration::from_secs(10), tls);
    let app = axum::Router::new()
        .route("/{*path}", axum::routing::get(forward))
        .with_state((client, Arc::<str>::from(target.as_str())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

/// Negotiates the benchmark dataset as city B and starts a pull transfer; returns the data address, the token and
/// B's transfer id (which names it on B's local endpoint).
async fn pull(b: &AppState) -> anyhow::Result<(String, String, String)> {
    pull_of(b, DATASET).await
}

/// Negotiates `resource` of city A as city B under its first offer and starts a pull transfer; returns the data
/// address, the token and B's transfer id.
pub(super) async fn pull_of(
    b: &AppState,
    resource: &str,
) -> anyhow::Result<(String, String, String)> {
    let partner = b
        .partners()
        .get(CITY_A)
        .ok_or_else(|| anyhow::anyhow!("partner missing"))?;
    let dataset = b.client().dataset(&partner, resource).await?;
    let offer = dataset["hasPolicy"][0].clone();
    let mut events = b.events().subscribe();
    let n = negotiation::start(b.contracting(), CITY_A, resource, offer, None)
        .await
        .map_err(|e| anyhow::anyhow!("negotiation: {e}"))?;
    wait(&mut events, &n.id, "FINALIZED").await?;
    let agreement = b
        .store()
        .negotiation(&n.id)
        .await?
        .and_then(|n| n.agreement_id)
        .ok_or_else(|| anyhow::anyhow!("no agreement"))?;
    let t = transfer::request(b.contracting(), &agreement, transfer::PULL, None)
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
    // The token is kept apart from the data address, where only the data plane reads it.
    let token = b
        .store()
        .pull_token(&t.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no token"))?
        .token;
    Ok((endpoint, token, t.id))
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
        "1 KB {label}: {} requests in {:.2} s = {:.0}/s; p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        run.latencies.len(),
        run.elapsed.as_secs_f64(),
        run.rate(),
        ms(run.pct(0.5)),
        ms(run.pct(0.99)),
        ms(run.pct(1.0)),
    );
}
