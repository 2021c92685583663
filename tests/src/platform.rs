//! A stand-in LDT platform for the data-plane tests, on loopback: an NGSI-LD-like broker that honours `type=` and
//! `attrs=` (short names, as a broker reading the partner's context would), a REST API that echoes what it
//! received, an endpoint that answers too late, and a count of every request that reached it; and ([`endless`]) a
//! platform whose one resource never ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Value};

/// What reached the platform.
#[derive(Clone, Default)]
pub struct Seen {
    hits: Arc<AtomicUsize>,
    last_headers: Arc<Mutex<Option<HeaderMap>>>,
}

impl Seen {
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
    pub fn last_headers(&self) -> HeaderMap {
        self.last_headers
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_default()
    }
    fn note(&self, headers: &HeaderMap) {
        self.hits.fetch_add(1, Ordering::SeqCst);
        *self.last_headers.lock().unwrap() = Some(headers.clone());
    }
}

pub struct Platform {
    pub url: String,
    pub seen: Seen,
}

/// The broker's entities: two traffic observations and a building, each with an allowed and a private attribute.
pub fn entities() -> Vec<Value> {
    vec![
        json!({"id": "urn:ngsi-ld:TrafficFlowObserved:s12", "type": "TrafficFlowObserved",
               "speed": {"type": "Property", "value": 41}, "owner": {"type": "Property", "value": "J. Doe"}}),
        json!({"id": "urn:ngsi-ld:TrafficFlowObserved:s13", "type": "TrafficFlowObserved",
               "speed": {"type": "Property", "value": 38}, "owner": {"type": "Property", "value": "A. Smit"}}),
        json!({"id": "urn:ngsi-ld:Building:b1", "type": "Building",
               "speed": {"type": "Property", "value": 0}, "owner": {"type": "Property", "value": "City"}}),
    ]
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

async fn query(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Json<Value> {
    seen.note(&headers);
    let types: Option<Vec<&str>> = q.get("type").map(|t| t.split(',').collect());
    Json(Value::Array(
        entities()
            .iter()
            .filter(|e| {
                types
                    .as_ref()
                    .is_none_or(|t| t.contains(&e["type"].as_str().unwrap()))
            })
            .map(|e| select(e, q.get("attrs").map(String::as_str)))
            .collect(),
    ))
}

async fn by_id(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Json<Value> {
    seen.note(&headers);
    Json(
        entities()
            .into_iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap_or_else(|| json!({})),
    )
}

async fn echo(State(seen): State<Seen>, req: Request) -> Json<Value> {
    seen.note(req.headers());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    Json(json!({"method": method, "path": path, "query": query,
                "body": String::from_utf8_lossy(&body), "items": [{"id": 1, "name": "Lange Viestraat"}]}))
}

async fn slow(State(seen): State<Seen>, headers: HeaderMap) -> &'static str {
    seen.note(&headers);
    tokio::time::sleep(Duration::from_secs(5)).await;
    "too late"
}

impl Platform {
    pub async fn start() -> Platform {
        let seen = Seen::default();
        let app = Router::new()
            .route("/ngsi-ld/v1/entities", get(query))
            .route("/ngsi-ld/v1/entities/{id}", get(by_id))
            .route("/api/{*rest}", any(echo))
            .route("/slow", get(slow))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Platform { url, seen }
    }
}

/// A platform whose resource never ends: 64 KiB every 20 ms. Sets `hit` once a request for it arrived.
pub async fn endless(hit: Arc<std::sync::atomic::AtomicBool>) -> String {
    let app = Router::new().route(
        "/ngsi-ld/v1/entities",
        get(move || {
            hit.store(true, std::sync::atomic::Ordering::SeqCst);
            async {
                let chunks = futures_util::stream::unfold((), |()| async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Some((
                        Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b' '; 64 * 1024])),
                        (),
                    ))
                });
                (
                    [("content-type", "application/ld+json")],
                    axum::body::Body::from_stream(chunks),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}
