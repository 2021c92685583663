//! A recording HTTP proxy put between two connectors, so a test sees every DSP message on the wire (requests and
//! answers) exactly as the peer receives it.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::Value;

/// One exchange seen by the proxy.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub request: Option<Value>,
    pub status: u16,
    pub response: Option<Value>,
}

#[derive(Clone)]
struct Target {
    url: Arc<Mutex<String>>,
    log: Arc<Mutex<Vec<Exchange>>>,
    /// Path endings whose next answer is lost: the request reaches the target, the sender gets 502.
    lose: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

/// A running proxy: its URL, where it forwards to (settable once the target has bound its port), and what it saw.
pub struct Recorder {
    pub url: String,
    target: Arc<Mutex<String>>,
    log: Arc<Mutex<Vec<Exchange>>>,
    lose: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    pub async fn start() -> Recorder {
        let target = Arc::new(Mutex::new(String::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let lose = Arc::new(Mutex::new(Vec::new()));
        let state = Target {
            url: target.clone(),
            log: log.clone(),
            lose: lose.clone(),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder {
            url,
            target,
            log,
            lose,
        }
    }

    /// The next request whose path ends with `path_end` reaches the target, but its answer is lost on the way
    /// back: the sender sees 502, as when a connection drops after the receiver processed the message.
    pub fn lose_next_answer(&self, path_end: &str) {
        self.lose.lock().expect("lock").push(path_end.to_string());
    }

    pub fn forward_to(&self, url: &str) {
        *self.target.lock().expect("lock") = url.trim_end_matches('/').to_string();
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().expect("lock").clone()
    }
}

async fn forward(
    State(t): State<Target>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    let base = t.url.lock().expect("lock").clone();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut request = t
        .http
        .request(method.clone(), format!("{base}{path}"))
        .body(body.clone());
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let (status, response_headers, response_body) = match request.send().await {
        Ok(r) => {
            let status =
                StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut h = HeaderMap::new();
            for (name, value) in r.headers() {
                if name != "content-length" && name != "transfer-encoding" {
                    h.insert(name.clone(), value.clone());
                }
            }
            (status, h, r.bytes().await.unwrap_or_default())
        }
        Err(_) => (StatusCode::BAD_GATEWAY, HeaderMap::new(), Bytes::new()),
    };
    let lost = {
        let mut lose = t.lose.lock().expect("lock");
        match lose
            .iter()
            .position(|end| uri.path().ends_with(end.as_str()))
        {
            Some(i) => {
                lose.remove(i);
                true
            }
            None => false,
        }
    };
    t.log.lock().expect("lock").push(Exchange {
        method: method.to_string(),
        path: uri.path().to_string(),
        request: serde_json::from_slice(&body).ok(),
        status: status.as_u16(),
        response: serde_json::from_slice(&response_body).ok(),
    });
    if lost {
        return (StatusCode::BAD_GATEWAY, HeaderMap::new(), Bytes::new());
    }
    (status, response_headers, response_body)
}
