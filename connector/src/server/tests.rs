//! The serve loop's limits and the request guard, on real sockets.

use std::time::Duration;

use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::serve;
use crate::config::Limits;

async fn start(
    limits: Limits,
) -> (
    std::net::SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/{*rest}", get(|| async { "ok" }));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, limits, async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

/// Sends `request` raw and returns what the server answered before closing or within a second.
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (addr, _stop, _server) = start(limits).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /x HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server kept the slow client connected");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (addr, _stop, _server) = start(limits).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the idle connection stayed open");
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let (addr, _stop, _server) = start(limits).await;
    let mut first = TcpStream::connect(addr).await.unwrap();
    first
        .write_all(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 12];
    first.read_exact(&mut buf).await.unwrap();
    // The first connection is kept alive: the second waits in the accept queue, unanswered.
    let mut second = TcpStream::connect(addr).await.unwrap();
    second
        .write_all(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let waited =
        tokio::time::timeout(Duration::from_millis(300), second.read_to_end(&mut out)).await;
    assert!(
        waited.is_err(),
        "the second connection was served beyond the limit"
    );
    drop(first);
    tokio::time::timeout(Duration::from_secs(5), second.read_to_end(&mut out))
        .await
        .expect("the second connection was never served")
        .unwrap();
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn the_serve_future_ends_after_the_stop_once_connections_close() {
    let (addr, stop, server) = start(Limits::default()).await;
    let answer = exchange(
        addr,
        b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server did not stop")
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn two_host_headers_are_refused() {
    let (addr, _stop, _server) = start(Limits::default()).await;
    let answer = exchange(
        addr,
        b"GET /x HTTP/1.1\r\nHost: a\r\nHost: evil\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("more than one Host header"), "{answer}");
}

#[tokio::test]
async fn nul_and_control_characters_in_the_target_are_refused() {
    let (addr, _stop, _server) = start(Limits::default()).await;
    for target in ["/resources/a%00b", "/x?q=a%0Ab", "/a%FFb"] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        let answer = exchange(addr, request.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{target}: {answer}");
    }
}

#[tokio::test]
async fn overlong_targets_and_segments_get_414() {
    let (addr, _stop, _server) = start(Limits::default()).await;
    let long_segment = format!("/resources/{}", "a".repeat(2000));
    let long_target = format!("/x?{}", "q=a&".repeat(3000));
    for target in [long_segment, long_target] {
        let request = format!("GET {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        let answer = exchange(addr, request.as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 414"),
            "{}: {answer}",
            &target[..30]
        );
    }
}

#[tokio::test]
async fn refusals_on_dsp_paths_are_dsp_error_messages() {
    let (addr, _stop, _server) = start(Limits::default()).await;
    let answer = exchange(
        addr,
        b"GET /dsp/2025-1/negotiations/a%00 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("ContractNegotiationError"), "{answer}");
}
