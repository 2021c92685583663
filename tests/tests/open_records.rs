//! The open catalogue's OGC API Records face (`/records`), checked as Records clients use it: OWSLib's client reads
//! the deploy examples' catalogue (every kind and stage), pages through it and searches it; every document passes
//! the Records 1.0 and Features 1.0 schemas; bad input is refused with a 400 exception body (never a 500); and no
//! record carries a backend location. `.ci/run` installs OWSLib and jsonschema and sets `TWINPORT_PY_OWSLIB` and
//! `TWINPORT_PY_RDF`; without them the Python parts are skipped with the reason printed.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use twinport_e2e::open_catalogue::{example_pair, python, python_ok, repository};
use twinport_e2e::Storage;

const ALL: [&str; 8] = [
    "urn:ldt:example-city:air-quality-hourly",
    "urn:ldt:example-city:district-3d-tiles",
    "urn:ldt:example-city:flood-depths-2030",
    "urn:ldt:example-city:flood-model",
    "urn:ldt:example-city:heat-model-input-2040",
    "urn:ldt:example-city:heat-scenario-2040",
    "urn:ldt:example-city:heatwave-workflow",
    "urn:ldt:example-city:traffic-flow",
];

fn ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list of ids: {v}"))
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect()
}

fn short(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| format!("urn:ldt:example-city:{n}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owslib_reads_pages_and_searches_the_records_catalogue() {
    let Some(py) = python("TWINPORT_PY_OWSLIB") else {
        return;
    };
    for storage in Storage::all() {
        let (a, b) = example_pair(storage).await;
        let base = format!("{}/records", a.running.public_url());
        let out = python_ok(&py, "records_client.py", std::slice::from_ref(&base)).await;
        let r: Value = serde_json::from_str(&out).expect("the script prints JSON");
        assert!(
            ids(&r["api_paths"]).contains(&"/collections/{catalogId}/items"),
            "{out}"
        );
        assert!(ids(&r["conformance"])
            .contains(&"http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-core"));
        assert_eq!(ids(&r["catalogues"]), vec!["catalogue"]);
        assert_eq!(r["collection"]["type"], "Collection");
        assert_eq!(r["collection"]["itemType"], "record");
        assert_eq!(r["collection"]["title"], "Example City Local Digital Twin");
        // Two at a time, following the next links to the end: every record once, in id order.
        assert_eq!(r["paged"]["matched"], 8);
        assert_eq!(ids(&r["paged"]["ids"]), ALL.to_vec());
        assert_eq!(r["paged"]["pages"], serde_json::json!([2, 2, 2, 2]));
        for href in ids(&r["paged"]["next_hrefs"]) {
            assert!(
                href.starts_with(&format!("{base}/collections/catalogue/items?")),
                "{href}"
            );
        }
        // Every resource with a box is in the city centre; the workflow template has none.
        let located: Vec<&str> = ALL
            .iter()
            .copied()
            .filter(|id| !id.ends_with("heatwave-workflow"))
            .collect();
        assert_eq!(ids(&r["by_bbox_inside"]), located);
        assert!(ids(&r["by_bbox_elsewhere"]).is_empty());
        assert_eq!(
            ids(&r["by_q"]),
            short(&["flood-depths-2030", "flood-model"])
        );
        assert_eq!(
            ids(&r["by_q_any"]),
            short(&["flood-depths-2030", "flood-model", "traffic-flow"])
        );
        assert_eq!(ids(&r["by_type"]), short(&["flood-model"]));
        assert_eq!(
            ids(&r["by_types"]),
            short(&[
                "air-quality-hourly",
                "flood-depths-2030",
                "heat-model-input-2040",
                "heatwave-workflow",
                "traffic-flow"
            ])
        );
        // The 2040 summer scenario and the open-ended traffic series cover 1 July 2040.
        assert_eq!(
            ids(&r["by_datetime"]),
            short(&[
                "heat-model-input-2040",
                "heat-scenario-2040",
                "traffic-flow"
            ])
        );
        assert_eq!(ids(&r["by_ids"]), short(&["traffic-flow"]));
        assert_eq!(r["one"]["id"], "urn:ldt:example-city:flood-model");
        assert_eq!(r["one"]["type"], "model-or-service");
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_records_document_passes_the_ogc_schemas() {
    let Some(py) = python("TWINPORT_PY_RDF") else {
        return;
    };
    let testdata = repository().join("../shared/testdata");
    if !testdata.join("ogcapi-records-1").is_dir() {
        println!(
            "skipped: the OGC API Records schemas are not at {}",
            testdata.display()
        );
        return;
    }
    for storage in Storage::all() {
        let (a, b) = example_pair(storage).await;
        let base = format!("{}/records", a.running.public_url());
        let out = python_ok(
            &py,
            "records_schema.py",
            &[base, testdata.to_string_lossy().into_owned()],
        )
        .await;
        let report: Value = serde_json::from_str(&out).expect("the script prints JSON");
        assert_eq!(report["records"], 8, "{out}");
        // Landing page, conformance, collections, the catalogue twice, the items page, 8 records, an exception.
        assert_eq!(report["checked"], 15, "{out}");
        assert_eq!(
            report["errors"],
            serde_json::json!([]),
            "{}",
            serde_json::to_string_pretty(&report["errors"]).unwrap()
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// Each backend location the example resources declare (`distributions[].backend`).
fn example_backends() -> Vec<String> {
    let dir = repository().join("deploy/examples/catalogue/resources");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("example resources") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: Value = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => serde_json::from_str(&text).unwrap(),
            Some("toml") => {
                serde_json::to_value(toml::from_str::<toml::Value>(&text).unwrap()).unwrap()
            }
            _ => continue,
        };
        for d in v["distributions"].as_array().into_iter().flatten() {
            if let Some(b) = d["backend"].as_str() {
                out.push(b.to_string());
            }
        }
    }
    out
}

async fn get(url: &str) -> (StatusCode, String, Value) {
    let r = reqwest::get(url).await.expect("request");
    let status = r.status();
    let media = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, media, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_an_exception_and_records_hold_no_backend_location() {
    let backends = example_backends();
    assert!(backends.len() >= 8, "{backends:?}");
    for storage in Storage::all() {
        let (a, b) = example_pair(storage).await;
        let public = a.running.public_url().to_string();
        let items = format!("{public}/records/collections/catalogue/items");

        for (query, mentions) in [
            ("colour=red", "colour"),
            ("bbox=4.7,52.3,5.1", "four numbers"),
            ("bbox=a,b,c,d", "number"),
            ("bbox=4.7,52.5,5.1,52.3", "south"),
            ("bbox=4.7,52.3,0,5.1,52.5,10", "six"),
            ("datetime=yesterday", "datetime"),
            ("datetime=2025-01-01/2024-01-01", "ends before"),
            ("limit=100000", "limit"),
            ("limit=0", "limit"),
            ("offset=-3", "offset"),
            ("type=river", "river"),
            ("externalIds=doi:10.1/x", "externalIds"),
            ("q=a&q=b", "more than once"),
            ("f=html", "JSON"),
        ] {
            let (status, media, body) = get(&format!("{items}?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert_eq!(media, "application/json", "{query}");
            assert_eq!(body["code"], "InvalidParameterValue", "{query}: {body}");
            assert!(
                body["description"].as_str().unwrap().contains(mentions),
                "{query}: {body}"
            );
        }
        for url in [
            format!("{items}/urn:ldt:example-city:nothing"),
            format!("{public}/records/collections/other"),
            format!("{public}/records/collections/other/items"),
        ] {
            let (status, media, body) = get(&url).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{url}: {body}");
            assert_eq!(media, "application/json");
            assert_eq!(body["code"], "NotFound", "{url}");
        }

        // Paging links are absolute, from the public URL, whatever Host the request named.
        let r = reqwest::Client::new()
            .get(format!("{items}?limit=3&offset=3&q=&type=dataset,published-output,visualisation-asset,model-or-service,workflow-template"))
            .header("host", "attacker.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/geo+json");
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["type"], "FeatureCollection");
        assert_eq!(
            (
                page["numberMatched"].as_u64(),
                page["numberReturned"].as_u64()
            ),
            (Some(8), Some(3))
        );
        let link = |rel: &str| {
            page["links"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["rel"] == rel)
                .map(|l| l["href"].as_str().unwrap().to_string())
        };
        assert!(link("self").unwrap().starts_with(&format!("{items}?")));
        assert!(link("next").unwrap().contains("offset=6"));
        assert!(!link("prev").unwrap().contains("offset="));
        assert!(!page.to_string().contains("attacker.example"));

        // HEAD answers like GET, without a body.
        let head = reqwest::Client::new()
            .request(Method::HEAD, &items)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()["content-type"], "application/geo+json");

        // A percent-encoded id finds its record; the record and the whole page name no backend.
        let (status, _, record) = get(&format!(
            "{items}/urn%3Aldt%3Aexample-city%3Aair-quality-hourly"
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{record}");
        assert_eq!(record["properties"]["type"], "dataset");
        assert_eq!(record["properties"]["stage"], "workflow-ready");
        let (_, _, all) = get(&format!("{items}?limit=100")).await;
        assert_eq!(all["features"].as_array().unwrap().len(), 8);
        for text in [record.to_string(), all.to_string()] {
            for backend in &backends {
                assert!(!text.contains(backend.as_str()), "{backend} published");
            }
            for host in [
                "broker:1026",
                "outputs:8000",
                "models:5000",
                "tiles:8000",
                "file:///srv",
            ] {
                assert!(!text.contains(host), "{host} published");
            }
        }
        a.running.stop().await;
        b.running.stop().await;
    }
}
