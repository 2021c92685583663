//! The NGSI-LD data plane end to end, against a broker that records exactly what reaches it: a partner's `Link`
//! header is read per RFC 8288 and rebuilt, every query parameter is parsed, judged on expanded IRIs and sent in its
//! canonical form, and a retrieve by id cannot bring back an entity of a type the resource does not cover. Each test
//! is a probe from the security review (issue 16) that once got through.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::{Json, Router};
use serde_json::{json, Value};
use twinport_e2e::{city_pair, pull_transfer, City, PullTransfer, Storage};

const SDM: &str = "https://smartdatamodels.org/dataModel.Transportation/";
const PLATE: &str = "https://city-a.example/ns/licensePlate";
const CITY_CTX: &str = "https://city-a.example/context.jsonld";
/// Not declared by the resource: there, `speed` means the licence plate.
const EVIL_CTX: &str = "https://evil.example/context.jsonld";
const CONTEXT_REL: &str = "http://www.w3.org/ns/json-ld#context";

/// One request as the broker received it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: Option<String>,
    links: Vec<String>,
}

/// A broker that answers like a real one (short names, as read under the city's context; `type` ignored on a
/// retrieve by id) and keeps every request it received.
#[derive(Clone, Default)]
struct Broker {
    received: Arc<Mutex<Vec<Received>>>,
}

impl Broker {
    async fn start() -> (String, Broker) {
        let broker = Broker::default();
        let app = Router::new()
            .route("/ngsi-ld/v1/entities", axum::routing::get(query))
            .route("/ngsi-ld/v1/entities/{id}", axum::routing::get(retrieve))
            .with_state(broker.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (url, broker)
    }

    fn note(&self, uri: &Uri, headers: &HeaderMap) {
        self.received.lock().unwrap().push(Received {
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            links: headers
                .get_all("link")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect(),
        });
    }

    fn hits(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn last(&self) -> Received {
        self.received
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request reached the broker")
    }
}

fn entities() -> Vec<Value> {
    vec![
        json!({"id": "urn:ngsi-ld:TrafficFlowObserved:s12", "type": "TrafficFlowObserved",
               "speed": {"type": "Property", "value": 41}, "licensePlate": {"type": "Property", "value": "AB-123-C"}}),
        json!({"id": "urn:ngsi-ld:TrafficFlowObserved:s13", "type": "TrafficFlowObserved",
               "speed": {"type": "Property", "value": 38}, "licensePlate": {"type": "Property", "value": "XY-987-Z"}}),
        json!({"id": "urn:ngsi-ld:Vehicle:v1", "type": "Vehicle",
               "speed": {"type": "Property", "value": 50}, "licensePlate": {"type": "Property", "value": "GH-456-J"}}),
    ]
}

fn param(uri: &Uri, name: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn select(e: &Value, attrs: Option<&str>) -> Value {
    let Some(attrs) = attrs else { return e.clone() };
    let wanted: Vec<&str> = attrs.split(',').collect();
    let mut out = serde_json::Map::new();
    for (k, v) in e.as_object().unwrap() {
        if k == "id" || k == "type" || wanted.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

async fn query(State(broker): State<Broker>, uri: Uri, headers: HeaderMap) -> Json<Value> {
    broker.note(&uri, &headers);
    let types = param(&uri, "type");
    let attrs = param(&uri, "attrs");
    Json(Value::Array(
        entities()
            .iter()
            .filter(|e| {
                types.as_deref().is_none_or(|t| {
                    t.split(',')
                        .any(|t| t.rsplit(['/', '#']).next() == e["type"].as_str())
                })
            })
            .map(|e| select(e, attrs.as_deref()))
            .collect(),
    ))
}

async fn retrieve(
    State(broker): State<Broker>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Json<Value> {
    broker.note(&uri, &headers);
    let attrs = param(&uri, "attrs");
    Json(
        entities()
            .iter()
            .find(|e| e["id"] == id.as_str())
            .map(|e| select(e, attrs.as_deref()))
            .unwrap_or_else(|| json!({})),
    )
}

fn link(url: &str) -> String {
    format!("<{url}>; rel=\"{CONTEXT_REL}\"; type=\"application/ld+json\"")
}

/// A resource on `broker` covering traffic observations' average speed only, under the city's context.
fn distribution(broker: &str, filter: bool) -> Value {
    json!({"format": "application/ld+json", "backend": format!("{broker}/ngsi-ld/v1"),
    "ngsi_ld": {
        "entity_types": [format!("{SDM}TrafficFlowObserved")],
        "attributes": [format!("{SDM}averageVehicleSpeed")],
        "filter_responses": filter,
        "contexts": {
            CITY_CTX: {"@context": {"sdm": SDM, "TrafficFlowObserved": "sdm:TrafficFlowObserved",
                                    "speed": "sdm:averageVehicleSpeed", "licensePlate": PLATE}}
        }
    }})
}

/// City B's pulls of the strict resource and of the one that filters responses.
async fn pulls(a: &City, b: &City, broker: &str) -> (PullTransfer, PullTransfer) {
    let open = json!({"permission": [{"action": "use"}]});
    let strict = pull_transfer(
        a,
        b,
        "urn:ldt:t:traffic-strict",
        open.clone(),
        distribution(broker, false),
        None,
    )
    .await;
    let filtered = pull_transfer(
        a,
        b,
        "urn:ldt:t:traffic-filtered",
        open,
        distribution(broker, true),
        None,
    )
    .await;
    (strict, filtered)
}

fn get(p: &PullTransfer, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .get(format!("{}{path}", p.endpoint))
        .bearer_auth(&p.token)
}

async fn problem(r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    body["detail"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_link_header_with_a_quoted_comma_is_refused_not_judged_under_the_declared_context() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let (url, broker) = Broker::start().await;
    let (strict, filtered) = pulls(&a, &b, &url).await;
    // The probe: the declared context sits inside a quoted title; any RFC 8288 reader sees only the evil one.
    let probe =
        format!("<{EVIL_CTX}>; title=\"x,<{CITY_CTX}>; rel={CONTEXT_REL}\"; rel=\"{CONTEXT_REL}\"");
    for p in [&strict, &filtered] {
        let r = get(p, "/entities?type=TrafficFlowObserved&attrs=speed")
            .header("link", &probe)
            .send()
            .await
            .unwrap();
        let detail = problem(r, 400).await;
        assert!(
            detail.contains(EVIL_CTX),
            "judged under the context it names: {detail}"
        );
    }
    // Two context links, two header lines, or a header no RFC 8288 parser reads: refused too.
    let refused = [
        vec![format!("{}, {}", link(CITY_CTX), link(EVIL_CTX))],
        vec![format!("{}, {}", link(CITY_CTX), link(CITY_CTX))],
        vec![link(CITY_CTX), link(CITY_CTX)],
        vec![format!("<{CITY_CTX}>; rel=\"{CONTEXT_REL}")],
        vec![format!(
            "<{CITY_CTX}>; rel=\"alternate\"; rel=\"{CONTEXT_REL}\""
        )],
    ];
    for lines in refused {
        let mut r = get(&filtered, "/entities?type=TrafficFlowObserved&attrs=speed");
        for line in &lines {
            r = r.header("link", line);
        }
        problem(r.send().await.unwrap(), 400).await;
    }
    assert_eq!(broker.hits(), 0, "no refused request reached the broker");
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_negated_forbidden_attribute_in_q_is_refused() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let (url, broker) = Broker::start().await;
    let (strict, filtered) = pulls(&a, &b, &url).await;
    for p in [&strict, &filtered] {
        for q in [
            "!licensePlate",
            "(speed>1%7C!licensePlate)",
            "speed>1;(licensePlate==%22AB-123-C%22)",
        ] {
            let r = get(
                p,
                &format!("/entities?type=TrafficFlowObserved&attrs=speed&q={q}"),
            )
            .header("link", link(CITY_CTX))
            .send()
            .await
            .unwrap();
            let detail = problem(r, 403).await;
            assert!(detail.contains(PLATE), "{q}: {detail}");
        }
    }
    assert_eq!(broker.hits(), 0);
    // The forbidden name inside a quoted string is a value: served, and the broker reads it as one.
    let r = get(
        &strict,
        "/entities?type=TrafficFlowObserved&attrs=speed&q=speed==%22!licensePlate%22",
    )
    .header("link", link(CITY_CTX))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        broker.last().query.as_deref(),
        Some("type=TrafficFlowObserved&attrs=speed&q=speed%3D%3D%22%21licensePlate%22")
    );
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn an_entity_by_id_with_type_is_refused_on_a_strict_resource() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let (url, broker) = Broker::start().await;
    let (strict, filtered) = pulls(&a, &b, &url).await;
    let vehicle = "/entities/urn:ngsi-ld:Vehicle:v1?type=TrafficFlowObserved&attrs=speed";
    let r = get(&strict, vehicle)
        .header("link", link(CITY_CTX))
        .send()
        .await
        .unwrap();
    let detail = problem(r, 403).await;
    assert!(detail.contains("by id"), "{detail}");
    assert_eq!(broker.hits(), 0, "refused before the broker is asked");

    // Filtering responses: the broker ignores type= and answers with the vehicle, whose type is then refused.
    let r = get(&filtered, vehicle)
        .header("link", link(CITY_CTX))
        .send()
        .await
        .unwrap();
    problem(r, 403).await;
    assert_eq!(
        broker.last().path,
        "/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:v1"
    );
    let r = get(&filtered, "/entities/urn:ngsi-ld:TrafficFlowObserved:s12")
        .header("link", link(CITY_CTX))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let entity: Value = r.json().await.unwrap();
    assert_eq!(entity["speed"]["value"], 41);
    assert!(entity.get("licensePlate").is_none(), "{entity}");
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn the_broker_receives_exactly_the_judged_link_and_query() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let (url, broker) = Broker::start().await;
    let (strict, _) = pulls(&a, &b, &url).await;
    // Extra links and parameters, a quoted comma, odd percent-encoding and order: all judged, none passed on.
    let partner_link = format!(
        "<https://city-a.example/doc>; rel=\"describedby\", <{CITY_CTX}>; title=\"a, b\"; rel=\"{CONTEXT_REL}\""
    );
    let r = get(
        &strict,
        "/entities?attrs=speed&type=%54rafficFlowObserved&q=(speed%3E40%7Cspeed==1..5);speed!=3&limit=010",
    )
    .header("link", &partner_link)
    .header("ngsild-tenant", "someone-else")
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert!(body[0].get("licensePlate").is_none());
    let seen = broker.last();
    assert_eq!(seen.path, "/ngsi-ld/v1/entities");
    assert_eq!(
        seen.query.as_deref(),
        Some("type=TrafficFlowObserved&attrs=speed&q=%28speed%3E40%7Cspeed%3D%3D1..5%29%3Bspeed%21%3D3&limit=10")
    );
    assert_eq!(
        seen.links,
        vec![link(CITY_CTX)],
        "one link, rebuilt from the judged URL"
    );

    // Without a Link the broker gets none (the core context), and full IRIs as sent.
    let r = get(
        &strict,
        &format!("/entities?type={SDM}TrafficFlowObserved&attrs={SDM}averageVehicleSpeed"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let seen = broker.last();
    assert!(seen.links.is_empty(), "{:?}", seen.links);
    assert_eq!(
        seen.query.as_deref(),
        Some(format!("type={SDM}TrafficFlowObserved&attrs={SDM}averageVehicleSpeed").as_str())
    );

    // A parameter twice, one NGSI-LD does not define, or one that does not parse never reaches the broker.
    let hits = broker.hits();
    for path in [
        "/entities?type=TrafficFlowObserved&attrs=speed&attrs=licensePlate",
        "/entities?type=TrafficFlowObserved&attrs=speed&%61ttrs=licensePlate",
        "/entities?type=TrafficFlowObserved&attrs=speed&orderBy=licensePlate",
        "/entities?type=TrafficFlowObserved&attrs=speed&q=speed==%22a%5C%22;licensePlate;%5C%22%22",
        "/entities?type=TrafficFlowObserved&attrs=speed&q=speed%3E",
    ] {
        let r = get(&strict, path)
            .header("link", link(CITY_CTX))
            .send()
            .await
            .unwrap();
        problem(r, 400).await;
    }
    assert_eq!(broker.hits(), hits);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn what_the_broker_could_return_beyond_the_lists_is_refused() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let (url, broker) = Broker::start().await;
    let (_, filtered) = pulls(&a, &b, &url).await;
    for path in [
        // Linked entity retrieval embeds other entities inside an allowed relationship, past the response filter.
        "/entities?type=TrafficFlowObserved&join=inline",
        "/entities?type=TrafficFlowObserved&q=speed%7BlicensePlate%7D==%22x%22",
        "/entities?type=TrafficFlowObserved&csf=endpoint==%22x%22",
        // A geo-query filters on location, which this resource does not list.
        "/entities?type=TrafficFlowObserved&georel=within&geometry=Point&coordinates=%5B4.9,52.4%5D",
        "/entities?type=TrafficFlowObserved&pick=id,licensePlate",
        "/entities?type=TrafficFlowObserved&omit=licensePlate",
        "/temporal/entities?type=TrafficFlowObserved",
    ] {
        let r = get(&filtered, path)
            .header("link", link(CITY_CTX))
            .send()
            .await
            .unwrap();
        problem(r, 403).await;
    }
    assert_eq!(broker.hits(), 0);
    a.running.stop().await;
    b.running.stop().await;
}
