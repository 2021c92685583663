//! Alignment checks across catalogues (MIM8 C3): city B checks city A's flood model against A's rainfall dataset
//! and its own terrain model, gets a verdict and a reason per dimension, and finds the check in its audit log;
//! with `require_alignment`, a negotiation for the model waits for a passing check of its current description.

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::models::{flood_model, rainfall, terrain, AROUND_AMSTERDAM};
use twinport_e2e::{audit_leaves, city_pair, city_pair_with, offer, City, Storage, CITY_A};

const MODEL: &str = "urn:ldt:city-a:flood-model";
const RAIN: &str = "urn:ldt:city-a:rainfall";
const TERRAIN: &str = "urn:ldt:city-b:terrain";

fn open_policy() -> Value {
    json!({"permission": [{"action": "use"}]})
}

async fn publish(city: &City, resource: Value) {
    let id = resource["id"].as_str().unwrap().replace(':', "-");
    offer(city, &format!("p-{id}"), open_policy(), resource).await;
}

async fn align(city: &City, body: Value) -> (u16, Value) {
    let r = city
        .management(Method::POST, "/api/v1/alignment")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn run(rain: &str, terrain: &str) -> Value {
    json!({"model": {"id": MODEL, "partner": CITY_A},
           "inputs": {"rainfall": {"id": rain, "partner": CITY_A}, "terrain": {"id": terrain}}})
}

fn finding<'a>(report: &'a Value, input: &str, dimension: &str) -> &'a Value {
    report["pairings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["input"] == input)
        .and_then(|p| p["findings"].as_array())
        .and_then(|f| f.iter().find(|f| f["dimension"] == dimension))
        .unwrap_or_else(|| panic!("no {dimension} finding for {input}: {report:#}"))
}

#[tokio::test]
async fn a_partners_model_is_checked_against_datasets_in_both_catalogues() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        publish(&a, flood_model(MODEL, "http://127.0.0.1:9")).await;
        // Inches per hour every 15 minutes, in CRS84 around the city: usable after conversion and aggregation.
        publish(&a, rainfall(RAIN, "[in_i]/h", "PT15M", AROUND_AMSTERDAM)).await;
        publish(&b, terrain(TERRAIN, "cm")).await;

        let (status, report) = align(&b, run(RAIN, TERRAIN)).await;
        assert_eq!(status, 201, "{report:#}");
        assert_eq!(report["verdict"], "convertible", "{report:#}");
        assert!(report.get("unchecked_inputs").is_none(), "{report:#}");

        let units = finding(&report, "rainfall", "units");
        assert_eq!(units["verdict"], "convertible", "{units:#}");
        let conversion = &units["details"]["conversions"][0];
        assert!(
            (conversion["factor"].as_f64().unwrap() - 25.4).abs() < 1e-9,
            "{units:#}"
        );
        let time = finding(&report, "rainfall", "time");
        assert_eq!(time["verdict"], "convertible", "{time:#}");
        assert_eq!(time["details"]["factor"], 4, "{time:#}");
        let space = finding(&report, "rainfall", "space");
        assert_eq!(space["verdict"], "convertible", "{space:#}");
        assert!(
            (space["details"]["coverage"].as_f64().unwrap() - 1.0).abs() < 1e-9,
            "{space:#}"
        );
        assert_eq!(finding(&report, "rainfall", "schema")["verdict"], "aligned");
        // Integer heights in centimetres for a number in metres.
        assert_eq!(finding(&report, "terrain", "schema")["verdict"], "aligned");
        let heights = finding(&report, "terrain", "units");
        assert!(
            (heights["details"]["conversions"][0]["factor"]
                .as_f64()
                .unwrap()
                - 0.01)
                .abs()
                < 1e-12
        );
        assert_eq!(finding(&report, "terrain", "space")["verdict"], "aligned");

        // Recorded: in the audit log with the digests of both descriptions, and readable by id.
        let entries = audit_leaves(&b, "alignment_check").await;
        assert_eq!(entries.len(), 1);
        let details = &entries[0]["details"];
        assert_eq!(details["check"], report["id"]);
        assert_eq!(details["model"]["digest"], report["model"]["digest"]);
        assert_eq!(details["model"]["digest"].as_str().unwrap().len(), 64);
        assert_eq!(details["pairings"][0]["dimensions"]["units"], "convertible");
        let again: Value = b
            .management(
                Method::GET,
                &format!("/api/v1/alignment/{}", report["id"].as_str().unwrap()),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(again, report);
        // The partner's published description is what was checked: the digest matches A's own.
        let a_dataset = a
            .running
            .state
            .store()
            .resource(MODEL)
            .await
            .unwrap()
            .expect("model");
        let stored: twinport::catalogue::Resource = serde_json::from_value(a_dataset.body).unwrap();
        let own = twinport::catalogue::descriptor::Described::of(&stored)
            .unwrap()
            .digest();
        assert_eq!(report["model"]["digest"], own);
    }
}

#[tokio::test]
async fn misaligned_data_is_explained_per_dimension() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    publish(&a, flood_model(MODEL, "http://127.0.0.1:9")).await;
    // Seconds for a rain intensity, daily steps for an hourly model, and a box east of the city.
    publish(&a, rainfall(RAIN, "s", "P1D", [5.0, 52.2, 5.5, 52.6])).await;
    publish(&b, terrain(TERRAIN, "m")).await;
    let (status, report) = align(&b, run(RAIN, TERRAIN)).await;
    assert_eq!(status, 201, "{report:#}");
    assert_eq!(report["verdict"], "misaligned");
    for dimension in ["units", "time", "space"] {
        let f = finding(&report, "rainfall", dimension);
        assert_eq!(f["verdict"], "misaligned", "{f:#}");
        assert!(!f["reason"].as_str().unwrap().is_empty());
    }
    let space = finding(&report, "rainfall", "space");
    let coverage = space["details"]["coverage"].as_f64().unwrap();
    assert!(coverage > 0.0 && coverage < 1.0, "{space:#}");
    assert_eq!(finding(&report, "terrain", "units")["verdict"], "aligned");
}

#[tokio::test]
async fn a_negotiation_for_a_model_waits_for_a_passing_check_of_its_current_description() {
    let (a, b) = city_pair_with(Storage::Sqlite, |c| c.contracts.require_alignment = true).await;
    publish(&a, flood_model(MODEL, "http://127.0.0.1:9")).await;
    publish(&a, rainfall(RAIN, "mm/h", "PT1H", AROUND_AMSTERDAM)).await;
    publish(&b, terrain(TERRAIN, "m")).await;
    let offer_id = format!("{MODEL}:offer:p-{}", MODEL.replace(':', "-"));
    let negotiate = || async {
        let r = b
            .management(Method::POST, "/api/v1/negotiations")
            .json(&json!({"partner": CITY_A, "dataset": MODEL, "offer_id": offer_id}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (status, body) = negotiate().await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("twinport align --model"), "{body}");

    // Only one input checked: the run is not fully checked, so it does not count.
    let (status, partial) = align(
        &b,
        json!({"model": {"id": MODEL, "partner": CITY_A}, "inputs": {"rainfall": {"id": RAIN, "partner": CITY_A}}}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(partial["unchecked_inputs"], json!(["terrain"]));
    assert_eq!(negotiate().await.0, 409);

    // Convertible (CRS84 rain for an RD New model) passes: the conversion is stated.
    let (_, report) = align(&b, run(RAIN, TERRAIN)).await;
    assert_eq!(report["verdict"], "convertible", "{report:#}");
    let (status, body) = negotiate().await;
    assert_eq!(status, 201, "{body}");

    // City A changes the model's inputs: the old check no longer counts.
    let mut changed = flood_model(MODEL, "http://127.0.0.1:9");
    changed["model"]["inputs"]["rainfall"]["resolution"] = json!("PT30M");
    changed["offers"] = json!([{"policy": format!("p-{}", MODEL.replace(':', "-"))}]);
    let r = a
        .management(
            Method::PUT,
            &format!("/api/v1/resources/{}", urlencode(MODEL)),
        )
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (status, body) = negotiate().await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("changed its description"), "{body}");
}

#[tokio::test]
async fn an_output_is_checked_against_the_visualisation_asset_that_shows_it() {
    let (_a, b) = city_pair(Storage::Sqlite).await;
    let output = json!({
        "id": "urn:ldt:city-b:flood-depths", "kind": "published-output", "title": "Flood depths",
        "description": "Maximum depth per cell.", "derived_from": [MODEL],
        "temporal": {"start": "2030-07-14T12:00:00Z", "end": "2030-07-14T18:00:00Z"},
        "distributions": [{"format": "application/geo+json", "backend": "http://platform.invalid/depths.geojson"},
                          {"format": "text/csv", "backend": "http://platform.invalid/depths.csv"}],
        "data": {"attributes": {"depth": {"type": "number", "unit": "m"}}, "crs": "EPSG:28992",
                 "extent": {"bbox": [118_000.0, 484_000.0, 124_000.0, 489_000.0]}}
    });
    let scene = json!({
        "id": "urn:ldt:city-b:scene", "kind": "visualisation-asset", "title": "3D scene of the centre",
        "description": "Web map of the centre.", "bbox": [4.87, 52.36, 4.92, 52.38],
        // The hours of the cloudburst the scene animates.
        "temporal": {"start": "2030-07-14T12:00:00Z", "end": "2030-07-14T15:00:00Z"},
        "distributions": [{"format": "application/json", "backend": "http://platform.invalid/scene.json"}],
        "data": {"crs": "EPSG:3857"}
    });
    publish(&b, output).await;
    publish(&b, scene).await;
    let (status, report) = align(
        &b,
        json!({"output": {"id": "urn:ldt:city-b:flood-depths"}, "visualisation": {"id": "urn:ldt:city-b:scene"}}),
    )
    .await;
    assert_eq!(status, 201, "{report:#}");
    let findings = report["pairings"][0]["findings"].as_array().unwrap();
    let dims: Vec<&str> = findings
        .iter()
        .map(|f| f["dimension"].as_str().unwrap())
        .collect();
    assert_eq!(dims, ["space", "time"]);
    assert_eq!(findings[0]["verdict"], "convertible", "{report:#}");
    assert_eq!(findings[1]["verdict"], "aligned", "{report:#}");
}

#[tokio::test]
async fn bad_alignment_requests_and_descriptors_are_refused_naming_the_field() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    publish(&a, flood_model(MODEL, "http://127.0.0.1:9")).await;
    publish(&b, terrain(TERRAIN, "m")).await;
    let cases = [
        (
            json!({"model": {"id": MODEL, "partner": CITY_A}, "inputs": {"rain": {"id": TERRAIN}}}),
            422,
            "inputs.rain",
        ),
        (
            json!({"model": {"id": TERRAIN}, "inputs": {"rainfall": {"id": TERRAIN}}}),
            422,
            "model",
        ),
        (
            json!({"model": {"id": MODEL, "partner": CITY_A}, "inputs": {"terrain": {"id": MODEL, "partner": CITY_A}}}),
            422,
            "inputs.terrain",
        ),
        (
            json!({"model": {"id": MODEL, "partner": CITY_A}}),
            422,
            "inputs",
        ),
        (json!({"output": {"id": TERRAIN}}), 422, "visualisation"),
        (
            json!({"model": {"id": MODEL, "partner": "https://nobody.example"}, "inputs": {"terrain": {"id": TERRAIN}}}),
            404,
            "",
        ),
        (
            json!({"model": {"id": MODEL, "partner": CITY_A}, "inputs": {"terrain": {"id": TERRAIN}}, "extra": 1}),
            422,
            "extra",
        ),
    ];
    for (body, status, field) in cases {
        let (got, problem) = align(&b, body.clone()).await;
        assert_eq!(got, status, "{body}: {problem:#}");
        if !field.is_empty() {
            let fields: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{problem:#}"))
                .iter()
                .filter_map(|e| e["field"].as_str())
                .collect();
            assert_eq!(fields, [field], "{body}: {problem:#}");
        }
    }
    // Descriptors the checks could not read are refused when the resource is written.
    let mut bad = terrain("urn:ldt:city-b:bad", "furlong/fortnight");
    bad["data"]["crs"] = json!("EPSG:123456789");
    bad["offers"] = json!([{"policy": format!("p-{}", TERRAIN.replace(':', "-"))}]);
    let r = b
        .management(Method::POST, "/api/v1/resources")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().await.unwrap();
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["data.attributes.height.unit", "data.crs"],
        "{problem:#}"
    );
}

#[tokio::test]
async fn the_align_command_exits_by_verdict() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    publish(&a, flood_model(MODEL, "http://127.0.0.1:9")).await;
    publish(&a, rainfall(RAIN, "mm/h", "PT1H", AROUND_AMSTERDAM)).await;
    publish(
        &a,
        rainfall("urn:ldt:city-a:daily-rain", "mm/h", "P1D", AROUND_AMSTERDAM),
    )
    .await;
    publish(&b, terrain(TERRAIN, "m")).await;
    let command = |dataset: &str| {
        let config = b.config_path().display().to_string();
        let url = b.running.management_url();
        let token = b.management_token.clone();
        let dataset = dataset.to_string();
        tokio::task::spawn_blocking(move || {
            std::env::set_var("TWINPORT_MANAGEMENT_TOKEN", token);
            twinport::cli::main_with([
                "twinport",
                "align",
                "--config",
                &config,
                "--url",
                &url,
                "--model",
                &format!("{MODEL}@{CITY_A}"),
                "--input",
                "rainfall",
                "--dataset",
                &format!("{dataset}@{CITY_A}"),
                "--input",
                "terrain",
                "--dataset",
                TERRAIN,
            ])
        })
    };
    assert_eq!(
        command(RAIN).await.unwrap(),
        std::process::ExitCode::SUCCESS
    );
    assert_eq!(
        command("urn:ldt:city-a:daily-rain").await.unwrap(),
        std::process::ExitCode::from(1)
    );
    assert_eq!(
        command("urn:ldt:city-a:nothing").await.unwrap(),
        std::process::ExitCode::from(2)
    );
}

fn urlencode(s: &str) -> String {
    twinport::client::encode_segment(s)
}

#[tokio::test]
async fn a_model_published_without_a_descriptor_is_still_held_to_the_alignment_rule() {
    let (a, b) = city_pair_with(Storage::Sqlite, |c| c.contracts.require_alignment = true).await;
    let mut bare = flood_model(MODEL, "http://127.0.0.1:9");
    bare.as_object_mut().unwrap().remove("model");
    publish(&a, bare).await;
    let offer_id = format!("{MODEL}:offer:p-{}", MODEL.replace(':', "-"));
    let r = b
        .management(Method::POST, "/api/v1/negotiations")
        .json(&json!({"partner": CITY_A, "dataset": MODEL, "offer_id": offer_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("publishes no model descriptor"), "{body}");
}

#[tokio::test]
async fn a_partners_offer_of_its_model_waits_for_the_operator_and_the_alignment_rule() {
    let (a, b) = city_pair_with(Storage::Sqlite, |c| {
        c.contracts.require_alignment = true;
        c.contracts.accept_policy = Some("partner-use".into());
    })
    .await;
    publish(&a, flood_model(MODEL, "http://127.0.0.1:9")).await;
    let offer_id = format!("{MODEL}:offer:p-{}", MODEL.replace(':', "-"));
    let r = a
        .management(Method::POST, "/api/v1/negotiations/offers")
        .json(&json!({"partner": twinport_e2e::CITY_B, "dataset": MODEL, "offer_id": offer_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let provider_pid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut offered = None;
    for _ in 0..200 {
        let list: Value = b
            .management(Method::GET, "/api/v1/negotiations")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        offered = list
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["provider_pid"] == provider_pid.as_str() && n["state"] == "OFFERED")
            .map(|n| n["id"].as_str().unwrap().to_string());
        if offered.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let id = offered.expect("city B holds the offer, not accepted on its own");
    let r = b
        .management(Method::POST, &format!("/api/v1/negotiations/{id}/accept"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("twinport align"));
}

#[tokio::test]
async fn a_dataset_checked_for_two_inputs_passes_only_if_it_fits_both() {
    let (a, b) = city_pair_with(Storage::Sqlite, |c| c.contracts.require_alignment = true).await;
    publish(&a, flood_model(MODEL, "http://127.0.0.1:9")).await;
    publish(&a, rainfall(RAIN, "mm/h", "PT1H", AROUND_AMSTERDAM)).await;
    // The rain dataset fits `rainfall` but not `terrain` (no height).
    let (_, report) = align(
        &b,
        json!({"model": {"id": MODEL, "partner": CITY_A},
               "inputs": {"rainfall": {"id": RAIN, "partner": CITY_A}, "terrain": {"id": RAIN, "partner": CITY_A}}}),
    )
    .await;
    assert_eq!(report["verdict"], "misaligned", "{report:#}");
    let offer_id = format!("{RAIN}:offer:p-{}", RAIN.replace(':', "-"));
    for _ in 0..5 {
        let r = b
            .management(Method::POST, "/api/v1/negotiations")
            .json(&json!({"partner": CITY_A, "dataset": RAIN, "offer_id": offer_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "the worst pairing decides, every time");
    }
}
