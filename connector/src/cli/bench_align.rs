//! `twinport bench align`: what an alignment check costs. First the comparison itself ([`crate::align::check`]) of
//! one model input (a JSON Schema, a unit per property, a CRS with an extent, a window and a resolution) with one
//! dataset that needs every kind of conversion (another unit, CRS and step); then whole checks through city B's
//! management API as an operator or `twinport align` makes them: of a model and dataset in B's own catalogue, and of
//! city A's model and dataset read from A's DSP catalogue over loopback. Each API check is recorded in B's audit
//! log and store, as in production. The target: one input against one dataset in at most 5 ms p50.

use std::time::Instant;

use serde_json::{json, Value};

use super::measure::Run;
use super::pair::{Pair, CITY_A};
use crate::catalogue::descriptor::{need, Described};
use crate::catalogue::Resource;
use crate::storage::ResourceSource;

const MODEL: &str = "urn:ldt:bench:flood-model";
const RAIN: &str = "urn:ldt:bench:rainfall";

fn model() -> Value {
    json!({
        "id": MODEL, "kind": "model-or-service", "title": "Flood model",
        "description": "Water depth from rainfall.",
        "distributions": [{"format": "application/json", "backend": "http://127.0.0.1:9"}],
        "offers": [{"policy": "partner-use"}],
        "model": {"api": "ogc-api-processes", "process": "flood",
                  "inputs": {"rainfall": {
                      "schema": {"type": "object", "required": ["intensity", "station"],
                                 "properties": {"intensity": {"type": "number"}, "station": {"type": "string"}}},
                      "units": {"intensity": "mm/h"}, "crs": "EPSG:28992",
                      "extent": {"bbox": [115_000.0, 480_000.0, 130_000.0, 492_000.0]},
                      "temporal": {"start": "2030-07-01", "end": "2030-07-31"}, "resolution": "PT1H"}},
                  "outputs": {"depths": {"schema": {"type": "object"}}}}
    })
}

fn rainfall() -> Value {
    json!({
        "id": RAIN, "kind": "dataset", "stage": "raw", "title": "Rain gauges",
        "description": "Rain intensity per gauge.", "bbox": [4.6, 52.2, 5.2, 52.6],
        "temporal": {"start": "2030-06-01", "end": "2030-08-31"},
        "distributions": [{"format": "application/geo+json", "backend": "http://127.0.0.1:9/rain"}],
        "offers": [{"policy": "partner-use"}],
        "data": {"attributes": {"intensity": {"type": "number", "unit": "[in_i]/h"},
                                "station": {"type": "string"}},
                 "resolution": "PT15M"}
    })
}

pub async fn run(requests: usize) -> anyhow::Result<()> {
    let flood: Resource = serde_json::from_value(model())?;
    let rain: Resource = serde_json::from_value(rainfall())?;
    let port = flood
        .model
        .as_ref()
        .and_then(|m| m.inputs.get("rainfall"))
        .ok_or_else(|| anyhow::anyhow!("the bench model has no rainfall input"))?;
    let have = Described::of(&rain)
        .ok_or_else(|| anyhow::anyhow!("the bench dataset describes nothing"))?
        .have();
    let input = need(port);
    // Warm: the first comparison reads the EPSG definitions and the unit tables.
    let _ = crate::align::check(&input, &have);
    let pure = timed(requests * 10, || {
        std::hint::black_box(crate::align::check(&input, &have));
    });

    let pair = Pair::start("http://127.0.0.1:9").await?;
    for (city, r) in [
        (&pair.a, model()),
        (&pair.a, rainfall()),
        (&pair.b, model()),
        (&pair.b, rainfall()),
    ] {
        let id = r["id"].as_str().unwrap_or_default().to_string();
        let kind = r["kind"].as_str().unwrap_or_default().to_string();
        city.state
            .store()
            .put_resource(&id, &kind, ResourceSource::Api, &r)
            .await?;
    }
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/alignment", pair.b.management_url());
    let api = |partner: Option<&'static str>| {
        let client = client.clone();
        let url = url.clone();
        let token = pair.token_b.clone();
        async move {
            let body = json!({"model": {"id": MODEL, "partner": partner},
                              "inputs": {"rainfall": {"id": RAIN, "partner": partner}}});
            let mut latencies = Vec::with_capacity(requests);
            let start = Instant::now();
            for _ in 0..requests {
                let t0 = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 201, "alignment check answered {}", r.status());
                r.bytes().await?;
                latencies.push(t0.elapsed());
            }
            latencies.sort();
            anyhow::Ok(Run {
                latencies,
                elapsed: start.elapsed(),
            })
        }
    };
    let local = api(None).await?;
    let partner = api(Some(CITY_A)).await?;

    println!("alignment check of one model input against one dataset (units, CRS, step and window to convert)");
    println!("{:<44} {:>10} {:>10} {:>10}", "", "p50", "p90", "p99");
    for (name, run) in [
        ("comparison (align::check)", &pure),
        ("API, both in our catalogue (recorded)", &local),
        ("API, both in city A's DSP catalogue", &partner),
    ] {
        println!(
            "{name:<44} {:>8.3}ms {:>8.3}ms {:>8.3}ms",
            ms(run, 0.5),
            ms(run, 0.9),
            ms(run, 0.99)
        );
    }
    println!("target: at most 5 ms p50 for one input against one dataset");
    pair.stop().await;
    Ok(())
}

fn timed(n: usize, mut f: impl FnMut()) -> Run {
    let mut latencies = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        f();
        latencies.push(t0.elapsed());
    }
    latencies.sort();
    Run {
        latencies,
        elapsed: start.elapsed(),
    }
}

fn ms(run: &Run, p: f64) -> f64 {
    run.pct(p).as_secs_f64() * 1000.0
}
