//! The Eclipse DSP TCK's metadata and catalog scenarios (dsp-tck.md §6.1, §6.2: MET:01-01, CAT:01-01 … 01-03),
//! one test each, against a real Twinport, with the harness presenting city B's token as the TCK's configured
//! `Authorization` header. Besides the TCK's own assertions, every body is checked against the official schema.
//!
//! The TCK's sample dataset ids (`CAT0101`, …) are not absolute IRIs, which Twinport requires of resource ids; the
//! datasets here are `urn:tck:CAT0101`, … (set `CAT_01_0N_DATASETID` accordingly in a real TCK run).

use serde_json::Value;
use twinport_e2e::counterparty::{assert_wire_valid, msg, Tck};
use twinport_e2e::schemas::assert_valid;
use twinport_e2e::Storage;

/// Starts Twinport with the TCK's catalog datasets: `CAT0101` and `CAT0102` exist, `CAT0103` does not.
async fn with_tck_datasets(storage: Storage) -> Tck {
    let tck = Tck::start(storage).await;
    for id in ["CAT0101", "CAT0102"] {
        tck.publish(
            &format!("urn:tck:{id}"),
            &format!("urn:tck:{id}:offer"),
            "partner-use",
            "auto",
        )
        .await;
    }
    tck
}

/// A JSON-LD value that may be one node or an array of nodes, as a list.
fn nodes(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// What the TCK's (older) catalog and dataset schemas ask of a dataset beyond the official one: an `@id`, at
/// least one offer in `hasPolicy` with an `@id`, a permission or prohibition and no `target`, and at least one
/// distribution with a `format` and an `accessService` (a `DataService` with an `endpointURL`).
fn assert_tck_dataset(dataset: &Value) {
    assert!(dataset["@id"].is_string(), "{dataset:#}");
    let offers = nodes(&dataset["hasPolicy"]);
    assert!(!offers.is_empty(), "a dataset has an offer: {dataset:#}");
    for offer in offers {
        assert!(offer["@id"].is_string(), "{offer:#}");
        assert!(
            offer.get("target").is_none(),
            "an offer inside a dataset has no target: {offer:#}"
        );
        assert!(
            !nodes(&offer["permission"]).is_empty() || !nodes(&offer["prohibition"]).is_empty(),
            "{offer:#}"
        );
    }
    let distributions = nodes(&dataset["distribution"]);
    assert!(
        !distributions.is_empty(),
        "a dataset has a distribution: {dataset:#}"
    );
    for d in distributions {
        assert!(d["format"].is_string(), "{d:#}");
        let services = nodes(&d["accessService"]);
        assert!(!services.is_empty(), "{d:#}");
        for s in services {
            // An access service may be a reference to a service described at the catalog level.
            if s.is_object() && s.get("endpointURL").is_some() {
                assert_eq!(s["@type"], "DataService", "{s:#}");
            }
        }
    }
}

/// MET:01-01: `GET <root>/.well-known/dspace-version` names a 2025-1 entry with a `path` and a `binding`, and that
/// path leads to the DSP base.
#[tokio::test]
async fn met_01_01_version_metadata() {
    for storage in Storage::all() {
        let tck = Tck::start(storage).await;
        let answer = tck
            .get_url(&format!("{}/.well-known/dspace-version", tck.root()))
            .await;
        answer.assert_success();
        assert_valid("common/protocol-version-schema.json", &answer.body);
        let entry = nodes(&answer.body["protocolVersions"])
            .into_iter()
            .find(|v| v["version"] == "2025-1")
            .unwrap_or_else(|| panic!("no 2025-1 entry: {:#}", answer.body))
            .clone();
        let path = entry["path"].as_str().expect("path");
        assert!(entry["binding"].is_string(), "{entry:#}");
        assert_eq!(format!("{}{path}", tck.root()), tck.base());
        tck.finish().await;
    }
}

/// CAT:01-01 [CAT0101]: a catalog request answers a valid `Catalog` with a `participantId` and dataset `CAT0101`.
#[tokio::test]
async fn cat_01_01_catalog_request() {
    for storage in Storage::all() {
        let tck = with_tck_datasets(storage).await;
        let answer = tck.post("/catalog/request", &msg::catalog_request()).await;
        answer.assert_success();
        assert_wire_valid(&answer.body);
        assert_eq!(answer.body["@type"], "Catalog", "{:#}", answer.body);
        assert!(
            answer.body["participantId"].is_string(),
            "{:#}",
            answer.body
        );
        assert!(answer.body["@id"].is_string(), "{:#}", answer.body);
        let datasets = nodes(&answer.body["dataset"]);
        assert!(!datasets.is_empty(), "{:#}", answer.body);
        for d in &datasets {
            assert_tck_dataset(d);
        }
        assert!(
            datasets.iter().any(|d| d["@id"] == "urn:tck:CAT0101"),
            "the catalog lists CAT0101: {:#}",
            answer.body
        );
        tck.finish().await;
    }
}

/// CAT:01-02 [CAT0102]: `GET <base>/catalog/datasets/CAT0102` answers that `Dataset`.
#[tokio::test]
async fn cat_01_02_dataset_request() {
    for storage in Storage::all() {
        let tck = with_tck_datasets(storage).await;
        let answer = tck.get("/catalog/datasets/urn:tck:CAT0102").await;
        answer.assert_success();
        assert_wire_valid(&answer.body);
        assert_eq!(answer.body["@type"], "Dataset", "{:#}", answer.body);
        assert_eq!(answer.body["@id"], "urn:tck:CAT0102", "{:#}", answer.body);
        assert_tck_dataset(&answer.body);
        tck.finish().await;
    }
}

/// CAT:01-03 [CAT0103]: a dataset that does not exist is answered with a `CatalogError` (the TCK accepts any
/// status; DSP's answer for a missing resource is 404).
#[tokio::test]
async fn cat_01_03_dataset_not_found() {
    for storage in Storage::all() {
        let tck = with_tck_datasets(storage).await;
        let answer = tck.get("/catalog/datasets/urn:tck:CAT0103").await;
        assert_eq!(answer.status, 404, "{:#}", answer.body);
        assert_wire_valid(&answer.body);
        assert_eq!(answer.body["@type"], "CatalogError", "{:#}", answer.body);
        tck.finish().await;
    }
}
