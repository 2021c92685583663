//! `twinport bench catalogue`: city A publishes a catalogue of N resources (10 000 by default: datasets at every
//! stage, models, templates, visualisation assets and outputs, under policies that show some of them to city B and
//! hide others, a few under a policy that reads the clock), and city B reads it over loopback as a partner
//! connector does: pages of 50 at random offsets, datasets by id, the whole catalogue page by page at the default
//! page size and at the largest one, and the whole catalogue through B's management API (what an operator or the
//! console asks for). Every request carries a fresh token and is recorded in A's audit log, as in production. Every
//! resource is discoverable too, and the open catalogue is read as portals read it: OGC API Records searches and
//! DCAT-AP pages of 100.
//! City A runs as a process of its own, so its resident memory, sampled after each phase, is its alone; its
//! catalogue is stored through its management API.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use futures_util::{StreamExt, TryStreamExt};

use super::measure::Run;
use super::pair::CITY_A;
use super::provider_process::ProviderProcess;
use super::sample_backend;
use crate::app::AppState;

/// What to measure, from the command line.
pub struct Settings {
    pub resources: usize,
    /// City A's storage: a PostgreSQL URL (a new schema is made in it); SQLite when absent.
    pub postgres: Option<String>,
    /// Page and by-id requests per run.
    pub requests: usize,
}

const KINDS: [(&str, Option<&str>); 8] = [
    ("dataset", Some("raw")),
    ("dataset", Some("workflow-ready")),
    ("dataset", Some("model-input")),
    ("dataset", Some("model-output")),
    ("model-or-service", None),
    ("workflow-template", None),
    ("visualisation-asset", None),
    ("published-output", None),
];

/// A policy only partners with a membership claim may see: city B has none, so these resources are hidden from it.
const MEMBERS_ONLY: &str = "bench-members-only";
/// A policy with an end date: its decision depends on the clock, so it is never decided in advance.
const UNTIL_2100: &str = "bench-until-2100";

/// Which policy resource `i` is offered under: most are open to partners, one in ten is for members only (hidden
/// from B), one in fifty ends at a date.
fn policy_of(i: usize) -> &'static str {
    match i % 50 {
        0 => UNTIL_2100,
        n if n % 10 == 5 => MEMBERS_ONLY,
        n if n % 2 == 0 => "partner-use",
        _ => "research-only",
    }
}

/// Subjects the resources' titles are about, so a word search on the open catalogue matches one in twenty.
const SUBJECTS: [&str; 20] = [
    "traffic",
    "noise",
    "parking",
    "flooding",
    "heat",
    "trees",
    "energy",
    "waste",
    "cycling",
    "buildings",
    "air",
    "water",
    "transit",
    "housing",
    "schools",
    "health",
    "solar",
    "wind",
    "roads",
    "parks",
];

/// Where resource `i` lies: one of a hundred cells of 0.01 degree over the city, so a box search finds a few.
fn cell(i: usize) -> [f64; 4] {
    let (x, y) = ((i % 10) as f64, ((i / 10) % 10) as f64);
    let (west, south) = (4.80 + x * 0.01, 52.30 + y * 0.01);
    [west, south, west + 0.01, south + 0.01]
}

fn resource(i: usize, backend: &str) -> Value {
    let (kind, stage) = KINDS[i % KINDS.len()];
    let subject = SUBJECTS[i % SUBJECTS.len()];
    let mut r = json!({
        "id": format!("urn:ldt:bench-city:resource-{i:05}"),
        "kind": kind,
        "title": format!("Bench resource {i} on {subject}"),
        "description": "A resource of the catalogue benchmark, with the fields a city fills in.",
        // All of them on the open catalogue too, which the benchmark reads as portals do.
        "discoverable": true,
        "license": "CC_BY_4_0",
        "contact_point": {"name": "Bench City data team", "email": "data@bench-city.example"},
        "keywords": ["bench", kind, subject],
        "themes": [{"id": "http://publications.europa.eu/resource/authority/data-theme/TRAN", "label": "Transport"}],
        "bbox": cell(i),
        "temporal": {"start": format!("{}-01-01", 2000 + i % 25), "end": format!("{}-12-31", 2000 + i % 25)},
        "update_frequency": "daily",
        "distributions": [{"format": "application/json", "backend": format!("{backend}/bench/kb")}],
        "offers": [{"policy": policy_of(i)}]
    });
    if let Some(stage) = stage {
        r["stage"] = json!(stage);
    }
    if kind == "model-or-service" {
        r["endpoint_description"] = json!("https://models.bench-city.example/processes/bench");
    }
    r
}

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let (backend, _platform) = sample_backend::start().await?;
    let storage = match &settings.postgres {
        Some(base) => Some(crate::storage::new_postgres_schema(base, "bench").await?),
        None => None,
    };
    let cities = ProviderProcess::start(&backend, storage.as_deref()).await?;
    println!(
        "city A in a process of its own, on {}; city B in this one",
        if storage.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let result = measure(&cities, &backend, &settings).await;
    cities.stop().await;
    result
}

/// Stores `body` through city A's management API (`POST /api/v1/{what}`), as an operator would.
async fn create(
    http: &reqwest::Client,
    a: &ProviderProcess,
    what: &str,
    body: &Value,
) -> anyhow::Result<()> {
    http.post(format!("{}/api/v1/{what}", a.management))
        .bearer_auth(&a.management_token)
        .json(body)
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("creating {what}"))?;
    Ok(())
}

async fn measure(a: &ProviderProcess, backend: &str, settings: &Settings) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    create(
        &http,
        a,
        "policies",
        &json!({"id": MEMBERS_ONLY, "policy": {"permission": [{"action": "use", "constraint": [
            {"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "ldt-network"}]}]}}),
    )
    .await?;
    create(
        &http,
        a,
        "policies",
        &json!({"id": UNTIL_2100, "policy": {"permission": [{"action": "use", "constraint": [
            {"leftOperand": "dateTime", "operator": "lt", "rightOperand": {"@value": "2100-01-01T00:00:00Z", "@type": "xsd:dateTime"}}]}]}}),
    )
    .await?;
    let dsp = a.dsp_base.clone();
    let b = &a.b.state;
    // The sample resources `twinport init` writes are in the catalogue too.
    let samples = page(&http, b, &dsp, 0, 500).await?;
    let n = settings.resources;
    let loading = Instant::now();
    futures_util::stream::iter((0..n).map(|i| {
        let http = http.clone();
        async move { create(&http, a, "resources", &resource(i, backend)).await }
    }))
    .buffer_unordered(8)
    .try_collect::<Vec<()>>()
    .await?;
    let visible = samples + (0..n).filter(|i| policy_of(*i) != MEMBERS_ONLY).count();
    println!(
        "catalogue: {n} resources stored in {:.1} s besides {samples} samples; city B may see {visible} (one in ten is \
         for members only), {} under a policy that ends at a date",
        loading.elapsed().as_secs_f64(),
        (0..n).filter(|i| policy_of(*i) == UNTIL_2100).count(),
    );
    let idle = a.memory();

    // The first request after a change decides visibility for the whole catalogue: reported on its own.
    let t0 = Instant::now();
    let first = page(&http, b, &dsp, 0, 50).await?;
    println!(
        "first page after the catalogue changed: {:.1} ms ({} datasets); VmRSS {}",
        ms(t0.elapsed()),
        first,
        rss_growth(a, &idle)
    );

    let count = settings.requests;
    let offsets: Vec<usize> = (0..count)
        .map(|k| (k * 7919) % visible.saturating_sub(50).max(1))
        .collect();
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for offset in &offsets {
        let t = Instant::now();
        let shown = page(&http, b, &dsp, *offset, 50).await?;
        if shown != 50.min(visible - offset) {
            anyhow::bail!("page at {offset} showed {shown} datasets");
        }
        latencies.push(t.elapsed());
    }
    report("page of 50", &sorted(latencies, started.elapsed()));
    println!("  VmRSS {}", rss_growth(a, &idle));

    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for k in 0..count {
        let i = (k * 7919) % n;
        let id = format!("urn:ldt:bench-city:resource-{i:05}");
        let t = Instant::now();
        let status = by_id(&http, b, &dsp, &id).await?;
        let expected = if policy_of(i) == MEMBERS_ONLY {
            404
        } else {
            200
        };
        if status != expected {
            anyhow::bail!("dataset {id}: {status}, expected {expected}");
        }
        latencies.push(t.elapsed());
    }
    report("dataset by id", &sorted(latencies, started.elapsed()));
    println!("  VmRSS {}", rss_growth(a, &idle));

    for limit in [50, 500] {
        let mut times = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let mut offset = 0;
            loop {
                let shown = page(&http, b, &dsp, offset, limit).await?;
                offset += shown;
                if shown < limit {
                    break;
                }
            }
            if offset != visible {
                anyhow::bail!(
                    "the whole catalogue at {limit} per page showed {offset} of {visible} datasets"
                );
            }
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "whole catalogue ({visible} datasets), {limit} per page ({} requests): {:.0} ms (median of 3 runs)",
            visible.div_ceil(limit),
            ms(times[1])
        );
        println!("  VmRSS {}", rss_growth(a, &idle));
    }

    let management = format!(
        "{}/api/v1/partners/{}/catalog",
        a.b.management_url(),
        crate::client::encode_segment(CITY_A)
    );
    let t = Instant::now();
    let all = http
        .get(&management)
        .bearer_auth(&a.token_b)
        .send()
        .await?
        .error_for_status()
        .context("B's management API")?
        .bytes()
        .await?;
    let elapsed = t.elapsed();
    println!("  VmRSS {} with the answer held", rss_growth(a, &idle));
    let shown = serde_json::from_slice::<Value>(&all)?["dataset"]
        .as_array()
        .map_or(0, Vec::len);
    if shown != visible {
        anyhow::bail!("B's management API showed {shown} of {visible} datasets");
    }
    drop(all);
    println!(
        "whole catalogue through B's management API (B pages through A at the default size, merges, answers): {:.0} ms",
        ms(elapsed)
    );
    open_catalogue(&http, a, settings, &idle).await?;

    // The allocator (mimalloc) returns freed memory to the system a second after it was freed, when it next
    // allocates or frees: settled is after a quiet 1.5 s and one more page, as a connector between partners' reads.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    page(&http, b, &dsp, 0, 50).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = a.memory();
    println!(
        "memory of city A (its own process): VmRSS {} KiB idle with the catalogue stored -> {} KiB after serving, \
         settled (growth {:.1} MiB, target <= 30 MiB); VmHWM {} KiB",
        idle.rss_kb,
        after.rss_kb,
        (after.rss_kb as f64 - idle.rss_kb as f64) / 1024.0,
        after.hwm_kb,
    );
    Ok(())
}

/// The open catalogue, read as portals read it: OGC API Records searches (words, a box, a time interval, a kind)
/// and DCAT-AP pages of 100 in Turtle, as CKAN's harvester asks for them. Every resource is discoverable.
async fn open_catalogue(
    http: &reqwest::Client,
    a: &ProviderProcess,
    settings: &Settings,
    idle: &super::measure::Memory,
) -> anyhow::Result<()> {
    let root = a
        .dsp_base
        .strip_suffix(crate::paths::DSP_PATH)
        .unwrap_or(&a.dsp_base)
        .to_string();
    let n = settings.resources;
    let get = |url: String| {
        let http = http.clone();
        async move {
            let r = http.get(&url).send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            if !status.is_success() {
                anyhow::bail!("{url}: {status}: {}", String::from_utf8_lossy(&body));
            }
            Ok::<_, anyhow::Error>(body)
        }
    };
    // The first request after a change reads the index: reported on its own.
    let t = Instant::now();
    get(format!(
        "{root}/records/collections/catalogue/items?limit=10"
    ))
    .await?;
    println!(
        "open catalogue, first search after the catalogue changed: {:.1} ms",
        ms(t.elapsed())
    );
    let count = settings.requests;
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for k in 0..count {
        // Each search is built from one resource's own facts, so it matches at least that resource.
        let i = (k * 7919) % n;
        let subject = SUBJECTS[i % SUBJECTS.len()];
        let [w, s, e, n_] = cell(i);
        let year = 2000 + i % 25;
        let kind = KINDS[i % KINDS.len()].0;
        let query = match k % 4 {
            0 => format!("q={subject}"),
            1 => format!("bbox={w},{s},{e},{n_}"),
            2 => format!("q={subject}&datetime={year}-03-01T00:00:00Z/{year}-04-01T00:00:00Z"),
            _ => format!("type={kind}&bbox={w},{s},{e},{n_}&q={subject}"),
        };
        let t = Instant::now();
        let body = get(format!(
            "{root}/records/collections/catalogue/items?{query}&limit=10"
        ))
        .await?;
        latencies.push(t.elapsed());
        let matched = serde_json::from_slice::<Value>(&body)?["numberMatched"]
            .as_u64()
            .unwrap_or(0);
        if matched == 0 {
            anyhow::bail!("Records search {query} matched nothing");
        }
    }
    report(
        &format!(
            "Records search ({n} discoverable resources; q, bbox, datetime, type; 10 per page)"
        ),
        &sorted(latencies, started.elapsed()),
    );
    println!("  VmRSS {}", rss_growth(a, idle));
    let pages = n.div_ceil(100);
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for k in 0..count {
        let page = 1 + (k * 37) % pages;
        let t = Instant::now();
        let body = get(format!("{root}/catalog.ttl?page={page}")).await?;
        latencies.push(t.elapsed());
        if !body.windows(12).any(|w| w == b"dcat:Dataset") {
            anyhow::bail!("DCAT page {page} holds no dataset");
        }
    }
    report(
        "DCAT-AP page of 100 (Turtle)",
        &sorted(latencies, started.elapsed()),
    );
    println!("  VmRSS {}", rss_growth(a, idle));
    Ok(())
}

/// City A's resident memory now, and its growth since `idle`.
fn rss_growth(a: &ProviderProcess, idle: &super::measure::Memory) -> String {
    let now = a.memory();
    format!(
        "{} KiB ({:+.1} MiB)",
        now.rss_kb,
        (now.rss_kb as f64 - idle.rss_kb as f64) / 1024.0
    )
}

/// One DSP catalogue request from B to A; the number of datasets on the page.
async fn page(
    http: &reqwest::Client,
    b: &AppState,
    dsp: &str,
    offset: usize,
    limit: usize,
) -> anyhow::Result<usize> {
    let body: Value = http
        .post(format!(
            "{dsp}/catalog/request?offset={offset}&limit={limit}"
        ))
        .bearer_auth(b.identity().token_for(CITY_A)?)
        .json(&json!({
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "CatalogRequestMessage",
            "filter": []
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(body["dataset"].as_array().map_or(0, Vec::len))
}

/// One DSP dataset request from B to A; the status it was answered with.
async fn by_id(http: &reqwest::Client, b: &AppState, dsp: &str, id: &str) -> anyhow::Result<u16> {
    let response = http
        .get(format!(
            "{dsp}/catalog/datasets/{}",
            crate::client::encode_segment(id)
        ))
        .bearer_auth(b.identity().token_for(CITY_A)?)
        .send()
        .await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}

fn sorted(mut latencies: Vec<Duration>, elapsed: Duration) -> Run {
    latencies.sort();
    Run { latencies, elapsed }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(label: &str, run: &Run) {
    println!(
        "{label}: {} requests, p50 {:.2} ms, p99 {:.2} ms",
        run.latencies.len(),
        ms(run.pct(0.5)),
        ms(run.pct(0.99)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_hides_one_in_ten_and_dates_one_in_fifty() {
        let hidden = (0..1000).filter(|i| policy_of(*i) == MEMBERS_ONLY).count();
        let dated = (0..1000).filter(|i| policy_of(*i) == UNTIL_2100).count();
        assert_eq!((hidden, dated), (100, 20));
    }
}
