//! The whole MIM8 C3 chain between two cities: city A offers a flood model (OGC API - Processes) and a rainfall
//! dataset; city B checks the model's inputs against A's rainfall and its own terrain model, negotiates for both,
//! runs the model through the data plane passing the rainfall by reference (allowed only because the rainfall
//! agreement lets its data go to city A), publishes the result with what it was derived from and the run that made
//! it, and B's provenance export shows the chain. An agreement that keeps its data from being passed on refuses the
//! run, saying why.

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::model_server::{local_endpoint, process_stub};
use twinport_e2e::models::{flood_model, rainfall, terrain, AROUND_AMSTERDAM};
use twinport_e2e::platform::Platform;
use twinport_e2e::{
    audit_leaves, city_pair, offer, pull_transfer_of, pull_transfer_offered, City, Storage, CITY_A,
};

const MODEL: &str = "urn:ldt:city-a:flood-model";
const RAIN: &str = "urn:ldt:city-a:rainfall";
const SEALED_RAIN: &str = "urn:ldt:city-a:sealed-rainfall";
const TERRAIN: &str = "urn:ldt:city-b:terrain";
const OUTPUT: &str = "urn:ldt:city-b:flood-depths-2030";

/// A rainfall dataset A's platform serves as JSON.
fn rain(id: &str, platform: &str) -> Value {
    let mut r = rainfall(id, "mm/h", "PT15M", AROUND_AMSTERDAM);
    r["distributions"] =
        json!([{"format": "application/json", "backend": format!("{platform}/api/rain")}]);
    r
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn a_city_checks_negotiates_runs_a_partners_model_and_publishes_the_result_with_its_provenance(
) {
    for storage in Storage::all() {
        let platform = Platform::start().await;
        let stub = process_stub::start(true).await.unwrap();
        let (a, b) = city_pair(storage).await;
        let mut model = flood_model(MODEL, &stub.url);
        model["model"]["process"] = json!("hello-world");
        model["distributions"][0]["ogc_api_processes"]["processes"] = json!(["hello-world"]);
        offer(
            &b,
            "own",
            json!({"permission": [{"action": "use"}]}),
            terrain(TERRAIN, "m"),
        )
        .await;

        // 1. Alignment across both catalogues, before any negotiation.
        offer(
            &a,
            "model-use",
            json!({"permission": [{"action": "use"}]}),
            model.clone(),
        )
        .await;
        // Read anywhere; passed on only to city A (whose model will use it).
        let onward_to_a = json!({"permission": [
            {"action": "read"},
            {"action": "distribute", "constraint": [{"leftOperand": "recipient", "operator": "eq", "rightOperand": CITY_A}]}]});
        offer(
            &a,
            "rain-to-a",
            onward_to_a.clone(),
            rain(RAIN, &platform.url),
        )
        .await;
        let r = b
            .management(Method::POST, "/api/v1/alignment")
            .json(&json!({"model": {"id": MODEL, "partner": CITY_A},
                          "inputs": {"rainfall": {"id": RAIN, "partner": CITY_A}, "terrain": {"id": TERRAIN}}}))
            .send()
            .await
            .unwrap();
        let (status, report) = json_of(r).await;
        assert_eq!(status, 201, "{report:#}");
        assert_eq!(report["verdict"], "convertible", "{report:#}");

        // 2. Negotiate and start both transfers (the model, and the rainfall under its own agreement).
        let model_transfer = pull_transfer_offered(
            &a,
            &b,
            CITY_A,
            MODEL,
            &format!("{MODEL}:offer:model-use"),
            None,
        )
        .await;
        let rain_transfer = pull_transfer_of(
            &a,
            &b,
            CITY_A,
            rain("urn:ldt:city-a:rainfall-2", &platform.url),
            onward_to_a,
            None,
        )
        .await;

        // 3. Run the model through B's local endpoint, the rainfall passed by reference to B's own transfer.
        let local = local_endpoint(&b, &model_transfer);
        let rain_ref = local_endpoint(&b, &rain_transfer);
        let r = reqwest::Client::new()
            .post(format!("{local}/processes/hello-world/execution"))
            .header("prefer", "respond-async")
            .json(&json!({"inputs": {"name": {"href": rain_ref}, "message": "cloudburst"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let job = r.headers()["location"].to_str().unwrap().to_string();
        assert!(job.starts_with(&local), "{job}");
        // The model server received the rainfall itself, inline, and no address of B's.
        let executed = stub
            .seen
            .requests()
            .into_iter()
            .rev()
            .find(|q| q.method == "POST")
            .expect("the execution reached the model server");
        let sent: Value = serde_json::from_slice(&executed.body).unwrap();
        assert_eq!(
            sent["inputs"]["name"]["mediaType"], "application/json",
            "{sent:#}"
        );
        assert_eq!(
            sent["inputs"]["name"]["value"]["path"], "/api/rain",
            "{sent:#}"
        );
        assert!(!String::from_utf8_lossy(&executed.body).contains("/transfers/"));
        let onward = audit_leaves(&b, "policy_decision").await;
        let decision = onward
            .iter()
            .find(|e| e["details"]["scope"] == "onward")
            .expect("the onward decision is recorded");
        assert_eq!(decision["details"]["decision"], "permit");
        assert_eq!(decision["details"]["recipient"], CITY_A);
        let r = reqwest::Client::new()
            .get(format!("{job}/results"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);

        // 4. B publishes the result with what it was derived from and the run that produced it.
        let output = json!({
            "id": OUTPUT, "kind": "published-output", "title": "Flood depths, 2030 cloudburst",
            "description": "Water depth per cell from city A's flood model run on city A's rainfall.",
            "derived_from": [MODEL, "urn:ldt:city-a:rainfall-2", TERRAIN], "generated_by": job,
            "distributions": [{"format": "application/geo+json", "backend": "http://platform.invalid/depths.geojson"},
                              {"format": "text/csv", "backend": "http://platform.invalid/depths.csv"}],
            "data": {"attributes": {"depth": {"type": "number", "unit": "m"}}, "crs": "EPSG:28992"}
        });
        offer(
            &b,
            "publish",
            json!({"permission": [{"action": "use"}]}),
            output,
        )
        .await;

        // 5. The provenance graph: output ← run ← inputs, and the run's execution in B's own log.
        let prov = prov_of(&b).await;
        let graph = prov["@graph"].as_array().unwrap();
        let node = |id: &str| {
            graph
                .iter()
                .find(|n| n["@id"] == id)
                .unwrap_or_else(|| panic!("{id} in {prov:#}"))
        };
        let out = node(OUTPUT);
        assert_eq!(out["prov:wasGeneratedBy"]["@id"], job);
        let derived: Vec<&str> = out["prov:wasDerivedFrom"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["@id"].as_str())
            .collect();
        assert_eq!(derived, [MODEL, "urn:ldt:city-a:rainfall-2", TERRAIN]);
        let run = node(&job);
        assert_eq!(run["@type"], "prov:Activity");
        assert_eq!(run["prov:used"].as_array().unwrap().len(), 3);
        let accesses = audit_leaves(&b, "data_access").await;
        assert!(
            accesses.iter().any(|e| e["details"]["method"] == "POST"),
            "the execution is in B's log"
        );
        drop(platform);
    }
}

#[tokio::test]
async fn data_whose_agreement_keeps_it_from_being_passed_on_is_not_sent_to_a_partners_model() {
    let platform = Platform::start().await;
    let stub = process_stub::start(true).await.unwrap();
    let (a, b) = city_pair(Storage::Sqlite).await;
    let mut model = flood_model(MODEL, &stub.url);
    model["model"]["process"] = json!("hello-world");
    model["distributions"][0]["ogc_api_processes"]["processes"] = json!(["hello-world"]);
    let model_transfer = pull_transfer_of(
        &a,
        &b,
        CITY_A,
        model,
        json!({"permission": [{"action": "use"}]}),
        None,
    )
    .await;
    let sealed =
        json!({"permission": [{"action": "use"}], "prohibition": [{"action": "distribute"}]});
    let rain_transfer = pull_transfer_of(
        &a,
        &b,
        CITY_A,
        rain(SEALED_RAIN, &platform.url),
        sealed,
        None,
    )
    .await;
    let before = stub.seen.hits();
    let r = reqwest::Client::new()
        .post(format!(
            "{}/processes/hello-world/execution",
            local_endpoint(&b, &model_transfer)
        ))
        .json(&json!({"inputs": {"name": {"href": local_endpoint(&b, &rain_transfer)}}}))
        .send()
        .await
        .unwrap();
    let (status, problem) = json_of(r).await;
    assert_eq!(status, 403, "{problem:#}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("input name") && detail.contains(SEALED_RAIN) && detail.contains(CITY_A),
        "{detail}"
    );
    assert!(
        detail.contains("distribute"),
        "the policy's reason is given: {detail}"
    );
    assert_eq!(stub.seen.hits(), before, "nothing reached the model server");
    let decision = audit_leaves(&b, "policy_decision")
        .await
        .into_iter()
        .find(|e| e["details"]["scope"] == "onward")
        .expect("the refusal is recorded");
    assert_eq!(decision["details"]["decision"], "deny");

    // Passing on allowed, but to another city than the model's provider: refused too.
    let elsewhere = json!({"permission": [
        {"action": "read"},
        {"action": "distribute", "constraint": [{"leftOperand": "recipient", "operator": "eq", "rightOperand": "https://city-c.example/twinport"}]}]});
    let other = pull_transfer_of(
        &a,
        &b,
        CITY_A,
        rain("urn:ldt:city-a:rain-for-c", &platform.url),
        elsewhere,
        None,
    )
    .await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/processes/hello-world/execution",
            local_endpoint(&b, &model_transfer)
        ))
        .json(&json!({"inputs": {"name": [{"href": local_endpoint(&b, &other)}]}}))
        .send()
        .await
        .unwrap();
    let (status, problem) = json_of(r).await;
    assert_eq!(status, 403, "{problem:#}");
    assert!(
        problem["detail"].as_str().unwrap().contains("recipient"),
        "{problem:#}"
    );
    assert_eq!(stub.seen.hits(), before, "nothing reached the model server");
    let _ = (&a, platform);
}

async fn prov_of(city: &City) -> Value {
    let state = &city.running.state;
    let mut out = Vec::new();
    twinport::audit::prov::write_prov(
        state.store(),
        state.audit().origin(),
        &state.audit().verifier(),
        state.participant_id(),
        &mut out,
    )
    .await
    .unwrap();
    serde_json::from_slice(&out).unwrap()
}
