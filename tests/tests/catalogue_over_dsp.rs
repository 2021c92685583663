//! A partner reads a city's catalogue over DSP 2025-1: every response passes the official schemas, filters and
//! pages work, and errors come back as `CatalogError` bodies with the right status.

use serde_json::{json, Value};
use twinport_e2e::schemas::{assert_valid, example};
use twinport_e2e::{catalog_request, city_pair, Storage, CITY_A};

#[tokio::test]
async fn partner_reads_catalogue_and_every_dataset_on_each_backend() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let partner = b.running.state.config().partner(CITY_A).unwrap().clone();
        let catalog = b
            .running
            .state
            .client()
            .catalog(&partner, vec![])
            .await
            .expect("catalogue");
        assert_valid("catalog/catalog-schema.json", &catalog);
        assert_eq!(catalog["participantId"], CITY_A);
        assert_eq!(
            catalog["@context"],
            json!(["https://w3id.org/dspace/2025/1/context.jsonld"])
        );
        let datasets = catalog["dataset"].as_array().unwrap();
        assert_eq!(datasets.len(), 3);
        let text = catalog.to_string();
        assert!(
            !text.contains("127.0.0.1:9"),
            "backend locations must never be published"
        );
        for d in datasets {
            for offer in d["hasPolicy"].as_array().unwrap() {
                assert_eq!(offer["@type"], "Offer");
                assert!(offer.get("target").is_none());
                assert!(offer["@id"].as_str().unwrap().starts_with("urn:ldt:"));
            }
            let id = d["@id"].as_str().unwrap();
            let one = b
                .running
                .state
                .client()
                .dataset(&partner, id)
                .await
                .expect("dataset");
            assert_valid("catalog/dataset-schema.json", &one);
            assert_eq!(one["@id"], id);
            assert!(one["dct:title"].is_string() && one["dct:publisher"]["@id"].is_string());
        }
        let traffic = datasets
            .iter()
            .find(|d| d["@id"] == "urn:ldt:sample-city:traffic-counts")
            .unwrap();
        // Kind and stage are concepts of the vocabulary A serves under its public URL.
        let base = a.running.public_url();
        assert_eq!(
            traffic["dct:type"],
            json!([{"@id": format!("{base}/vocab/ldt#dataset")}, {"@id": format!("{base}/vocab/ldt#raw")}])
        );
        assert_eq!(
            traffic["dct:temporal"]["dcat:startDate"]["@type"],
            "xsd:date"
        );
        assert_eq!(
            traffic["dcat:keyword"],
            json!(["traffic", "mobility", "ngsi-ld"])
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

async fn post_catalog(b: &twinport_e2e::City, url: &str, body: &Value) -> reqwest::Response {
    let token = b.running.state.identity().token_for(CITY_A).unwrap();
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn filters_select_by_kind_and_unknown_filters_are_refused() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let url = format!("{}/catalog/request", a.dsp_base());
    let models: Value = post_catalog(
        &b,
        &url,
        &catalog_request(vec![json!({"kind": "model-or-service"})]),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_valid("catalog/catalog-schema.json", &models);
    let ids: Vec<&str> = models["dataset"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["@id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["urn:ldt:sample-city:flood-model"]);

    let none: Value = post_catalog(
        &b,
        &url,
        &catalog_request(vec![json!({"kind": "workflow-template"})]),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_valid("catalog/catalog-schema.json", &none);
    assert!(
        none.get("dataset").is_none(),
        "no empty arrays in DSP output"
    );

    let refused = post_catalog(&b, &url, &catalog_request(vec![json!({"colour": "red"})])).await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_valid("catalog/catalog-error-schema.json", &body);
    assert!(body["reason"][0]
        .as_str()
        .unwrap()
        .contains("unsupported filter"));
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn pages_are_linked_both_ways() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let first = post_catalog(
        &b,
        &format!("{}/catalog/request?limit=1", a.dsp_base()),
        &catalog_request(vec![]),
    )
    .await;
    let link = first.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("rel=\"next\"") && !link.contains("previous"),
        "{link}"
    );
    let page: Value = first.json().await.unwrap();
    assert_valid("catalog/catalog-schema.json", &page);
    assert_eq!(page["dataset"].as_array().unwrap().len(), 1);
    let next = link
        .split(';')
        .next()
        .unwrap()
        .trim_matches(|c| c == '<' || c == '>')
        .to_string();
    let second = post_catalog(&b, &next, &catalog_request(vec![])).await;
    let link2 = second.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link2.contains("rel=\"next\"") && link2.contains("rel=\"previous\""),
        "{link2}"
    );
    // The client follows every page and merges them.
    let partner = b.running.state.config().partner(CITY_A).unwrap().clone();
    let all = b
        .running
        .state
        .client()
        .catalog(&partner, vec![])
        .await
        .unwrap();
    assert_eq!(all["dataset"].as_array().unwrap().len(), 3);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn malformed_requests_get_catalog_errors() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let url = format!("{}/catalog/request", a.dsp_base());
    let client = reqwest::Client::new();
    let cases: Vec<(String, u16)> = vec![
        ("{not json".to_string(), 400),
        (json!({"@type": "CatalogRequestMessage"}).to_string(), 400),
        (json!({"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"], "@type": "DatasetRequestMessage"}).to_string(), 400),
        (json!({"@context": ["https://w3id.org/dspace/2025/1/context.jsonld"], "@type": "CatalogRequestMessage", "filter": "x"}).to_string(), 400),
    ];
    for (body, status) in cases {
        let token = b.running.state.identity().token_for(CITY_A).unwrap();
        let r = client
            .post(&url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{body}");
        let err: Value = r.json().await.unwrap();
        assert_valid("catalog/catalog-error-schema.json", &err);
    }
    let token = b.running.state.identity().token_for(CITY_A).unwrap();
    let missing = client
        .get(format!(
            "{}/catalog/datasets/{}",
            a.dsp_base(),
            "urn%3Aldt%3Anothing"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_valid(
        "catalog/catalog-error-schema.json",
        &missing.json().await.unwrap(),
    );
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn version_and_keys_are_public() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let version: Value = reqwest::get(format!(
        "{}/.well-known/dspace-version",
        a.running.public_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_valid("common/protocol-version-schema.json", &version);
    assert_eq!(version["protocolVersions"][0]["version"], "2025-1");
    assert_eq!(version["protocolVersions"][0]["binding"], "HTTPS");
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", a.running.public_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], a.key.kid());
    assert!(
        jwks["keys"][0].get("d").is_none(),
        "no private key material"
    );
    a.running.stop().await;
    b.running.stop().await;
}

#[test]
fn every_official_catalog_example_parses() {
    use twinport_contracts::catalog::{CatalogError, CatalogRequestMessage, DatasetRequestMessage};
    use twinport_contracts::message::DspMessage;
    let Some(request) = example("catalog/example/catalog-request-message.json") else {
        return;
    };
    CatalogRequestMessage::from_json(&request).unwrap();
    DatasetRequestMessage::from_json(
        &example("catalog/example/dataset-request-message.json").unwrap(),
    )
    .unwrap();
    CatalogError::from_json(&example("catalog/example/catalog-error.json").unwrap()).unwrap();
    for rel in [
        "catalog/example/catalog.json",
        "catalog/example/nested-catalog.json",
    ] {
        let catalog = example(rel).unwrap();
        assert_valid("catalog/catalog-schema.json", &catalog);
        assert_eq!(catalog["@type"], "Catalog");
    }
    assert_valid(
        "catalog/dataset-schema.json",
        &example("catalog/example/dataset.json").unwrap(),
    );
}

/// Regression: a huge offset used to overflow `offset + limit` and drop the connection.
#[tokio::test]
async fn a_huge_offset_is_an_empty_page() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let url = format!(
        "{}/catalog/request?offset=18446744073709551615&limit=500",
        a.dsp_base()
    );
    let r = post_catalog(&b, &url, &catalog_request(vec![])).await;
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    assert_valid("catalog/catalog-schema.json", &page);
    assert!(page.get("dataset").is_none());
    a.running.stop().await;
    b.running.stop().await;
}
