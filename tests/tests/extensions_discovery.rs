//! Twinport-only extensions are discoverable, never assumed: a Twinport serves `/.well-known/twinport` listing the
//! extension endpoints under its DSP base (each of which answers), and a partner that is not a Twinport (here a
//! small server that speaks only the DSP version metadata, as far as these requests go) is never asked for them —
//! the periodic witness asks it for the document once per refresh period and then leaves it alone, and an
//! operator's explicit check is refused with a problem saying why.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Json;
use reqwest::Method;
use serde_json::{json, Value};
use twinport::partners::extensions::{Extension, ExtensionsDocument, FORMAT_VERSION};
use twinport_e2e::{catalog_request, city_pair, city_pair_with, Storage, CITY_A, CITY_B};

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_document_lists_extension_paths_that_answer_on_a_twinport() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let http = reqwest::Client::new();
    let root = a.running.public_url().to_string();

    // Unauthenticated, like the DSP version metadata.
    let r = http
        .get(format!("{root}/.well-known/twinport"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: ExtensionsDocument = r.json().await.unwrap();
    assert_eq!(doc.version, FORMAT_VERSION);
    assert_eq!(doc.protocol_version, "2025-1");
    let names: Vec<&str> = doc.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        Extension::ALL.map(Extension::name),
        "every extension is listed once"
    );

    // The DSP version metadata is untouched: strict readers (the TCK, EDC) see exactly what DSP defines.
    let versions: Value = http
        .get(format!("{root}/.well-known/dspace-version"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        versions,
        json!({"protocolVersions": [{"version": "2025-1", "path": "/dsp/2025-1", "binding": "HTTPS"}]})
    );

    // B reads A's catalogue, so A's log holds an entry recording B's own request, which B may have a receipt for.
    let base = a.dsp_base();
    let token = || b.running.state.identity().token_for(CITY_A).unwrap();
    let r = http
        .post(format!("{base}/catalog/request"))
        .bearer_auth(token())
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let index: u64 = r.headers()["twinport-audit-entry"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();

    let path = |e: Extension| {
        doc.extensions
            .iter()
            .find(|x| x.name == e.name())
            .unwrap()
            .path
            .clone()
    };
    let checkpoint = http
        .get(format!("{base}{}", path(Extension::AuditCheckpoint)))
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    assert_eq!(checkpoint.status(), 200);
    assert!(checkpoint.headers().contains_key("twinport-audit-vkey"));
    let note = checkpoint.text().await.unwrap();
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    assert!(size > index, "{note}");

    let consistency = http
        .get(format!(
            "{base}{}?old=1&new={size}",
            path(Extension::AuditConsistency)
        ))
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    assert_eq!(consistency.status(), 200);

    let receipt_url = format!(
        "{base}{}",
        path(Extension::AuditReceipts).replace("{index}", &index.to_string())
    );
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let r = http
            .get(&receipt_url)
            .bearer_auth(token())
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            assert!(r
                .text()
                .await
                .unwrap()
                .starts_with("c2sp.org/tlog-proof@v1"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{receipt_url} answered {}",
            r.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.running.stop().await;
    b.running.stop().await;
}

/// A connector that is not a Twinport: it answers the DSP version metadata and 404 to everything else, and keeps
/// every request line it receives.
async fn foreign_connector() -> (String, Arc<Mutex<Vec<String>>>) {
    async fn record(State(seen): State<Arc<Mutex<Vec<String>>>>, req: Request) -> StatusCode {
        seen.lock()
            .unwrap()
            .push(format!("{} {}", req.method(), req.uri()));
        StatusCode::NOT_FOUND
    }
    async fn version(State(seen): State<Arc<Mutex<Vec<String>>>>) -> impl IntoResponse {
        seen.lock()
            .unwrap()
            .push("GET /.well-known/dspace-version".into());
        Json(
            json!({"protocolVersions": [{"version": "2025-1", "path": "/api/dsp", "binding": "HTTPS"}]}),
        )
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/.well-known/dspace-version", get(version))
        .fallback(record)
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

fn count(seen: &Mutex<Vec<String>>, line: &str) -> usize {
    seen.lock().unwrap().iter().filter(|l| *l == line).count()
}

#[tokio::test]
async fn a_partner_that_is_not_a_twinport_is_never_asked_for_the_audit_checkpoint() {
    let (a, b) = city_pair_with(Storage::Sqlite, |c| {
        c.audit_witness_interval = Some(Duration::from_secs(1));
    })
    .await;
    let (foreign, seen) = foreign_connector().await;
    // B's partner A now lives at the foreign connector; B's first witness round is a second after its start.
    b.running.state.set_partner_url(CITY_A, &foreign);

    let deadline = tokio::time::Instant::now() + T;
    while count(&seen, "GET /.well-known/twinport") == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the witness never asked what the partner advertises"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Three more rounds: the answer is remembered, so they send nothing.
    tokio::time::sleep(Duration::from_millis(3500)).await;

    // An auditor's explicit check is refused without calling the partner, and says why.
    let r = b
        .management(
            Method::POST,
            "/api/v1/audit/partners/https%3A%2F%2Fcity-a.example%2Ftwinport/check",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let problem: Value = r.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("audit-checkpoint") && detail.contains("does not advertise"),
        "{detail}"
    );

    let lines = seen.lock().unwrap().clone();
    assert_eq!(
        lines,
        ["GET /.well-known/twinport"],
        "the document once, nothing else"
    );
    // Nothing was witnessed, and nothing raised an alarm.
    for kind in ["partner_checkpoint", "split_view_alarm"] {
        let found = twinport_e2e::audit_leaves(&b, kind).await;
        assert!(
            found.iter().all(|l| l["partner"] != CITY_A),
            "{kind}: {found:?}"
        );
    }
    // Meanwhile A, a Twinport whose partner B is one too, keeps witnessing B.
    let deadline = tokio::time::Instant::now() + T;
    while !twinport_e2e::audit_leaves(&a, "partner_checkpoint")
        .await
        .iter()
        .any(|l| l["partner"] == CITY_B)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never witnessed B"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.running.stop().await;
    b.running.stop().await;
}
