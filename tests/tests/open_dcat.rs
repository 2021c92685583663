//! The open catalogue's DCAT-AP face, checked as portals check it: the deploy examples' catalogue (every kind and
//! stage, all discoverable) read page by page and validated with pyshacl against the DCAT-AP 3 and DCAT-AP-NL 3
//! shapes; ckanext-dcat's own RDF parser harvesting it as CKAN's DCAT harvester does; and the HTTP behaviour
//! harvesters rely on (formats, `Accept`, HEAD, paging, `modified_since`, refusals). `.ci/run` installs pyshacl and
//! ckanext-dcat and sets `TWINPORT_PY_RDF` and `TWINPORT_PY_CKAN`.

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::open_catalogue::{example_pair, python, python_ok, repository};
use twinport_e2e::{City, Storage};

/// Warnings the SHACL shapes still give the deploy examples and the `twinport init` sample (profile, class of the
/// node, property), and why each cannot or should not be met. Any other finding fails the test.
const EXPECTED_WARNINGS: &[(&str, &str, &str, &str)] = &[
    ("dcat-ap", "Distribution", "http://data.europa.eu/r5r/availability",
        "planned availability is the operator's promise to make; no example declares one and Twinport does not invent it"),
    ("dcat-ap", "PeriodOfTime", "http://www.w3.org/ns/dcat#endDate",
        "the traffic counts are an ongoing series: their coverage has a start and no end"),
    ("dcat-ap", "Dataset", "http://purl.org/dc/terms/spatial",
        "the heatwave workflow template is meant for any city: it covers no area"),
    ("dcat-ap", "Dataset", "http://purl.org/dc/terms/temporal",
        "the heatwave workflow template covers no period either"),
    ("dcat-ap", "DataService", "http://www.w3.org/ns/dcat#servesDataset",
        "the flood model computes results on request; it serves no stored dataset"),
    ("dcat-ap", "Location", "http://www.w3.org/ns/dcat#bbox",
        "a named place (the EU place authority's Amsterdam) is published by its IRI; its geometry is the authority's to give, and the resource's own box is on a location of its own"),
    ("dcat-ap", "Location", "http://www.w3.org/ns/dcat#centroid",
        "the same named place"),
    ("dcat-ap-nl", "Distribution", "http://www.w3.org/ns/dcat#downloadURL",
        "data is obtained under a contract through the Dataspace Protocol: there is no open download URL to give"),
    ("dcat-ap-nl", "Distribution", "http://purl.org/dc/terms/conformsTo",
        "the outputs, the model input and the workflow follow no published data model or schema"),
    ("dcat-ap-nl", "Dataset", "http://purl.org/dc/terms/conformsTo",
        "the same four resources, at the dataset level"),
];

/// The shared test data (the SHACL shapes), or `None` with the reason printed.
fn testdata() -> Option<String> {
    let dir = repository().join("../shared/testdata");
    if dir.join("dcat-ap-3").is_dir() {
        Some(dir.to_string_lossy().into_owned())
    } else {
        println!("skipped: the DCAT-AP shapes are not at {}", dir.display());
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_catalogue_is_valid_dcat_ap_3_and_dcat_ap_nl_3() {
    let (Some(py), Some(testdata)) = (python("TWINPORT_PY_RDF"), testdata()) else {
        return;
    };
    let (a, b) = example_pair(Storage::Sqlite).await;
    // City A publishes the deploy examples (seven datasets, the flood model); city B the sample `twinport init`
    // writes (the traffic counts and the flood model are discoverable).
    let (examples, sample) = (a.running.public_url(), b.running.public_url());
    for (profile, url, datasets) in [
        ("dcat-ap", format!("{examples}/catalog.ttl"), 7),
        (
            "dcat-ap-nl",
            format!("{examples}/catalog.rdf?profile=dcat-ap-nl"),
            7,
        ),
        ("dcat-ap", format!("{sample}/catalog.jsonld"), 1),
        (
            "dcat-ap-nl",
            format!("{sample}/catalog.ttl?profile=dcat-ap-nl"),
            1,
        ),
    ] {
        let out = python_ok(
            &py,
            "shacl_dcat.py",
            &[url, profile.into(), testdata.clone()],
        )
        .await;
        let report: Value = serde_json::from_str(&out).expect("report");
        assert_eq!(report["datasets"], datasets, "{profile}: {out}");
        // The two models and services: the flood model and the connector's own DSP endpoint.
        assert_eq!(report["services"], 2, "{profile}: {out}");
        assert_eq!(
            report["violations"].as_array().unwrap().len(),
            0,
            "{profile}: {}",
            serde_json::to_string_pretty(&report["violations"]).unwrap()
        );
        let unexpected: Vec<&Value> = report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| {
                !EXPECTED_WARNINGS.iter().any(|(p, class, path, _)| {
                    *p == profile
                        && w["focus_class"]
                            .as_str()
                            .unwrap_or("")
                            .split(',')
                            .any(|c| c == *class)
                        && w["path"].as_str() == Some(path)
                })
            })
            .collect();
        assert!(
            unexpected.is_empty(),
            "{profile}: {}",
            serde_json::to_string_pretty(&unexpected).unwrap()
        );
    }
    a.running.stop().await;
    b.running.stop().await;
}

/// A discoverable dataset, `n`, for filling pages.
fn filler(n: usize) -> Value {
    json!({
        "id": format!("urn:ldt:example-city:sensor-{n:04}"), "kind": "dataset", "stage": "raw",
        "title": format!("Noise sensor {n}"), "description": "Sound levels every minute at one sensor.",
        "discoverable": true, "themes": ["ENVI"], "keywords": ["noise"],
        "distributions": [{"format": "application/json", "backend": format!("http://sensors:9000/{n}")}],
        "offers": [{"policy": "partner-use"}]
    })
}

async fn add(city: &City, body: Value) -> reqwest::Response {
    city.management(Method::POST, "/api/v1/resources")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ckan_harvests_every_discoverable_dataset_across_pages() {
    let Some(py) = python("TWINPORT_PY_CKAN") else {
        return;
    };
    for storage in Storage::all() {
        let (a, b) = example_pair(storage).await;
        for n in 0..120 {
            assert_eq!(add(&a, filler(n)).await.status(), 201);
        }
        // One not marked discoverable: partners see it, portals do not.
        let mut hidden = filler(999);
        hidden["discoverable"] = json!(false);
        assert_eq!(add(&a, hidden).await.status(), 201);
        let url = format!("{}/catalog.ttl", a.running.public_url());
        let out = python_ok(&py, "ckan_harvest.py", &[url]).await;
        let harvest: Value = serde_json::from_str(&out).expect("harvest");
        assert_eq!(harvest["pages"], 2, "{storage:?}");
        assert!(harvest["heads"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h == 200));
        let datasets = harvest["datasets"].as_array().unwrap();
        assert_eq!(
            datasets.len(),
            127,
            "{storage:?}: 7 examples and 120 sensors"
        );
        for d in datasets {
            let extra = |key: &str| {
                d["extras"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["key"] == key)
                    .map(|e| e["value"].as_str().unwrap_or("").to_string())
                    .unwrap_or_default()
            };
            let uri = extra("uri");
            assert!(uri.starts_with("urn:ldt:example-city:"), "{d}");
            assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()), "{d}");
            assert!(d["notes"].as_str().is_some_and(|t| !t.is_empty()), "{d}");
            assert!(extra("theme").contains("data-theme/"), "{uri}: themes");
            assert!(extra("dcat_type").contains("/vocab/ldt#"), "{uri}: kind");
            let resources = d["resources"].as_array().unwrap();
            assert!(!resources.is_empty(), "{uri}: distributions");
            for r in resources {
                assert!(
                    r["license"]
                        .as_str()
                        .is_some_and(|l| l.contains("licence/") || l.contains("spdx.org")),
                    "{uri}: licence {r}"
                );
                assert_eq!(
                    r["access_url"],
                    format!("{}/dsp/2025-1", a.running.public_url())
                );
            }
            assert_ne!(uri, "urn:ldt:example-city:sensor-0999");
        }
        // Backend locations are never published.
        assert!(
            !out.contains("sensors:9000")
                && !out.contains("broker:1026")
                && !out.contains("file:///")
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_answers_harvesters_as_ckan_does() {
    let (a, b) = example_pair(Storage::Sqlite).await;
    let base = a.running.public_url().to_string();
    let http = reqwest::Client::new();
    // Each syntax by extension and by Accept, with the media type rdflib reads.
    for (path, accept, media) in [
        ("/catalog.ttl", "*/*", "text/turtle"),
        ("/catalog.rdf", "*/*", "application/rdf+xml"),
        ("/catalog.xml", "*/*", "application/rdf+xml"),
        ("/catalog.jsonld", "*/*", "application/ld+json"),
        ("/catalog", "application/ld+json", "application/ld+json"),
        (
            "/catalog",
            "application/rdf+xml;q=0.9, text/turtle;q=0.5",
            "application/rdf+xml",
        ),
        ("/catalog", "*/*", "text/turtle"),
    ] {
        for method in [Method::HEAD, Method::GET] {
            let r = http
                .request(method.clone(), format!("{base}{path}"))
                .header("accept", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{method} {path}");
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            assert!(ct.starts_with(media), "{path} {accept}: {ct}");
        }
    }
    let ttl = |q: &str| {
        let http = http.clone();
        let url = format!("{base}/catalog.ttl{q}");
        async move { http.get(url).send().await.unwrap() }
    };
    // The whole example catalogue on one page, with its kinds and stages.
    let body = ttl("").await.text().await.unwrap();
    assert!(
        body.contains(&format!("{base}/vocab/ldt#model-input")),
        "{body}"
    );
    assert!(body.contains("hydra:totalItems 8"), "{body}");
    // Nothing changed since tomorrow: an empty page, still a valid catalogue.
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1)).date();
    let empty = ttl(&format!("?modified_since={tomorrow}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        empty.contains("hydra:totalItems 0") && !empty.contains("dcat:dataset"),
        "{empty}"
    );
    assert!(ttl("?modified_since=2000-01-01")
        .await
        .text()
        .await
        .unwrap()
        .contains("hydra:totalItems 8"));
    // The vocabulary the kinds come from dereferences.
    let vocab = http.get(format!("{base}/vocab/ldt")).send().await.unwrap();
    assert_eq!(
        vocab.headers()["content-type"],
        "text/turtle; charset=utf-8"
    );
    assert!(vocab
        .text()
        .await
        .unwrap()
        .contains(&format!("@base <{base}/vocab/ldt>")));
    // Refusals: problem+json 4xx, never a 5xx.
    for (q, status) in [
        ("?page=0", 400),
        ("?page=abc", 400),
        ("?page=2", 404),
        ("?modified_since=last-week", 400),
        ("?profile=dcat-us", 400),
        ("?limit=100000", 400),
        ("?q=flood", 400),
    ] {
        let r = ttl(q).await;
        assert_eq!(r.status(), status, "{q}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{q}"
        );
    }
    let r = http
        .get(format!("{base}/catalog"))
        .header("accept", "image/png")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    // A resource refused at the API when it would be published without what DCAT-AP-NL requires.
    let mut model = filler(1);
    model["kind"] = json!("model-or-service");
    model.as_object_mut().unwrap().remove("stage");
    let r = add(&a, model).await;
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        problem["errors"][0]["field"], "endpoint_description",
        "{problem}"
    );
    let mut undescribed = filler(2);
    undescribed.as_object_mut().unwrap().remove("description");
    let problem: Value = add(&a, undescribed).await.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "description", "{problem}");
    a.running.stop().await;
    b.running.stop().await;
}
