//! Uploads through the provider's data plane, as a bad network and a careless client make them: a long upload
//! the platform keeps reading is not cut by `backend_timeout_seconds` (only the platform's silence is), and a
//! client's framing error is the client's 400, not a 502 blaming the platform.

use std::time::Duration;

use axum::routing::post;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use twinport_e2e::{city_pair_with, pull_transfer, PullTransfer, Storage};

/// A platform that reads the whole upload before it answers, and one path that never answers at all.
async fn platform() -> String {
    let app = axum::Router::new()
        .route(
            "/upload",
            post(|body: axum::body::Bytes| async move { axum::Json(json!({"bytes": body.len()})) }),
        )
        .route(
            "/silent",
            post(|| async {
                std::future::pending::<()>().await;
                ""
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn transfer(a: &twinport_e2e::City, b: &twinport_e2e::City, backend: &str) -> PullTransfer {
    pull_transfer(
        a,
        b,
        "urn:ldt:t:uploads",
        json!({"permission": [{"action": "use"}]}),
        json!({"format": "application/json", "backend": backend}),
        None,
    )
    .await
}

#[tokio::test]
async fn a_long_upload_the_platform_keeps_reading_is_not_timed_out() {
    let backend = platform().await;
    let (a, b) = city_pair_with(Storage::Sqlite, |c| {
        c.backend_timeout = Duration::from_secs(1)
    })
    .await;
    let p = transfer(&a, &b, &backend).await;
    // 8 chunks of 64 KiB, 300 ms apart: 2.4 s of upload against a 1 s backend timeout.
    let chunks = futures_util::stream::unfold(0u32, |i| async move {
        if i == 8 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        Some((Ok::<_, std::io::Error>(vec![b'x'; 64 * 1024]), i + 1))
    });
    let res = reqwest::Client::new()
        .post(format!("{}/upload", p.endpoint))
        .bearer_auth(&p.token)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["bytes"], 8 * 64 * 1024);

    // Silence is still timed: a platform that never answers gets 504 after about the timeout.
    let started = std::time::Instant::now();
    let res = reqwest::Client::new()
        .post(format!("{}/silent", p.endpoint))
        .bearer_auth(&p.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 504);
    assert!(started.elapsed() < Duration::from_secs(5));
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_malformed_chunked_upload_is_the_clients_400_not_a_502() {
    let backend = platform().await;
    let (a, b) = city_pair_with(Storage::Sqlite, |_| {}).await;
    let p = transfer(&a, &b, &backend).await;
    let url = url::Url::parse(&p.endpoint).unwrap();
    let mut s = tokio::net::TcpStream::connect((url.host_str().unwrap(), url.port().unwrap()))
        .await
        .unwrap();
    let head = format!(
        "POST {}/upload HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        url.path(),
        url.authority(),
        p.token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // A first good chunk, then one whose chunk extension runs to 20 KB.
    s.write_all(b"2\r\n{}\r\n").await.unwrap();
    let extension = format!("4;ext={}\r\nabcd\r\n0\r\n\r\n", "x".repeat(20_000));
    let _ = s.write_all(extension.as_bytes()).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("application/problem+json"), "{out}");
    assert!(out.contains("the request body could not be read"), "{out}");
    a.running.stop().await;
    b.running.stop().await;
}
