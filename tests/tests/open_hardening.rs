//! Regressions from an adversarial review of the open catalogue: each test names what it guards. The catalogue is
//! the deploy examples' (city A of `example_pair`); requests are anonymous, as a portal's are.

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::open_catalogue::example_pair;
use twinport_e2e::{City, Storage};

async fn get(url: String) -> (u16, String) {
    let r = reqwest::get(&url).await.expect(&url);
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn add(city: &City, body: Value) -> u16 {
    city.management(Method::POST, "/api/v1/resources")
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn resource(id: &str, discoverable: bool, derived_from: &[&str]) -> Value {
    json!({
        "id": id, "kind": "dataset", "stage": "model-output", "title": format!("Resource {id}"),
        "description": "A resource of the hardening tests.", "discoverable": discoverable, "themes": ["ENVI"],
        "derived_from": derived_from,
        "distributions": [{"format": "application/json", "backend": "http://internal:9000/x"}],
        "offers": [{"policy": "partner-use"}]
    })
}

/// `datetime=9999-12-31` overflowed the day's end and panicked the handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extreme_date_is_a_search_not_a_panic() {
    let (a, b) = example_pair(Storage::Sqlite).await;
    let items = format!(
        "{}/records/collections/catalogue/items",
        a.running.public_url()
    );
    for q in [
        "9999-12-31",
        "../9999-12-31",
        "9999-12-31/..",
        "0000-01-01/9999-12-31",
    ] {
        let (status, body) = get(format!("{items}?datetime={q}")).await;
        assert_eq!(status, 200, "{q}: {body}");
    }
    a.running.stop().await;
    b.running.stop().await;
}

/// A coverage ending on a date includes that day: noon on the last day of the heat scenario is inside it, and
/// "modified on or before today" holds for what changed today.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_date_includes_its_whole_day() {
    let (a, b) = example_pair(Storage::Sqlite).await;
    let base = a.running.public_url();
    let (_, body) = get(format!(
        "{base}/records/collections/catalogue/items?datetime=2040-08-31T12:00:00Z"
    ))
    .await;
    let found: Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = found["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"urn:ldt:example-city:heat-scenario-2040"),
        "{ids:?}"
    );
    let today = time::OffsetDateTime::now_utc().date();
    let (status, body) = get(format!(
        "{base}/csw?service=CSW&version=2.0.2&request=GetRecords&typenames=csw:Record&resulttype=hits\
         &constraintlanguage=CQL_TEXT&constraint=dct:modified%20%3C%3D%20%27{today}%27"
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("numberOfRecordsMatched=\"8\""), "{body}");
    a.running.stop().await;
    b.running.stop().await;
}

/// A discoverable output derived from a partner-only resource published that resource's id on every interface.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_only_input_is_not_named_by_what_was_derived_from_it() {
    let (a, b) = example_pair(Storage::Sqlite).await;
    let base = a.running.public_url().to_string();
    assert_eq!(
        add(&a, resource("urn:ldt:example-city:secret-feed", false, &[])).await,
        201
    );
    let derived = resource(
        "urn:ldt:example-city:derived",
        true,
        &[
            "urn:ldt:example-city:secret-feed",
            "urn:ldt:example-city:traffic-flow",
        ],
    );
    assert_eq!(add(&a, derived).await, 201);
    let encoded = "urn%3Aldt%3Aexample-city%3Aderived";
    for url in [
        format!("{base}/catalog.ttl"),
        format!("{base}/catalog.rdf"),
        format!("{base}/records/collections/catalogue/items/{encoded}"),
        format!("{base}/csw?service=CSW&version=2.0.2&request=GetRecordById&id=urn:ldt:example-city:derived&elementsetname=full"),
    ] {
        let (status, body) = get(url.clone()).await;
        assert_eq!(status, 200, "{url}");
        assert!(!body.contains("secret-feed"), "{url}: {body}");
        assert!(!body.contains("internal:9000"), "{url}");
        // The discoverable input is still named.
        assert!(body.contains("traffic-flow"), "{url}: {body}");
    }
    a.running.stop().await;
    b.running.stop().await;
}

/// One anonymous CSW request of single-character wildcards held a core for 26 s and starved the database pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expensive_like_filter_is_refused_at_once() {
    let (a, b) = example_pair(Storage::Sqlite).await;
    // Forty resources with long descriptions: a modest catalogue, and text enough to make the filter costly.
    for n in 0..40 {
        let mut r = resource(&format!("urn:ldt:example-city:long-{n}"), true, &[]);
        r["description"] = json!("Measured values of the city's sensor network. ".repeat(64));
        assert_eq!(add(&a, r).await, 201);
    }
    let pattern = format!("%{}Q", "_".repeat(500));
    let likes: String = (0..64)
        .map(|_| {
            format!(
                "<ogc:PropertyIsLike wildCard=\"%\" singleChar=\"_\" escapeChar=\"\\\"><ogc:PropertyName>csw:AnyText</ogc:PropertyName><ogc:Literal>{pattern}</ogc:Literal></ogc:PropertyIsLike>"
            )
        })
        .collect();
    let body = format!(
        r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc" service="CSW" version="2.0.2" resultType="results"><csw:Query typeNames="csw:Record"><csw:ElementSetName>brief</csw:ElementSetName><csw:Constraint version="1.1.0"><ogc:Filter><ogc:Or>{likes}</ogc:Or></ogc:Filter></csw:Constraint></csw:Query></csw:GetRecords>"#
    );
    let started = std::time::Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{}/csw", a.running.public_url()))
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("InvalidParameterValue") && text.contains("too long"),
        "{text}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    a.running.stop().await;
    b.running.stop().await;
}

/// CSW's updateSequence moved with every private change (the catalogue version), telling anonymous pollers when a
/// partner-only resource or a policy changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_update_sequence_moves_only_with_discoverable_records() {
    let (a, b) = example_pair(Storage::Sqlite).await;
    let capabilities = format!(
        "{}/csw?service=CSW&request=GetCapabilities",
        a.running.public_url()
    );
    let sequence = || async {
        let (_, body) = get(capabilities.clone()).await;
        let at = body.find("updateSequence=\"").expect("updateSequence") + 16;
        body[at..at + body[at..].find('"').unwrap()].to_string()
    };
    let first = sequence().await;
    assert_eq!(
        add(&a, resource("urn:ldt:example-city:private", false, &[])).await,
        201
    );
    assert_eq!(sequence().await, first);
    assert_eq!(
        add(&a, resource("urn:ldt:example-city:public", true, &[])).await,
        201
    );
    assert_ne!(sequence().await, first);
    a.running.stop().await;
    b.running.stop().await;
}

/// Browser-based portals read the open catalogue from their own origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_may_read_the_open_catalogue_from_any_origin() {
    let (a, b) = example_pair(Storage::Sqlite).await;
    let base = a.running.public_url();
    for path in [
        "/",
        "/catalog.ttl",
        "/records/collections/catalogue/items",
        "/csw?service=CSW&request=GetCapabilities",
        "/vocab/ldt",
    ] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
    }
    a.running.stop().await;
    b.running.stop().await;
}

/// An empty record id fell through to the router's bare 404, not the standard's exception.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_record_id_gets_the_records_exception() {
    let (a, b) = example_pair(Storage::Sqlite).await;
    let (status, body) = get(format!(
        "{}/records/collections/catalogue/items/",
        a.running.public_url()
    ))
    .await;
    assert_eq!(status, 404);
    let exception: Value = serde_json::from_str(&body).expect("an exception body");
    assert_eq!(exception["code"], "NotFound", "{body}");
    a.running.stop().await;
    b.running.stop().await;
}
