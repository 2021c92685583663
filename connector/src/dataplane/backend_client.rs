//! The HTTP client the data plane reaches platforms with: hyper's pooled client, used directly. Every proxied
//! request crosses it, and reqwest's layers on top (redirect policy, retries, proxy matching, parsing the URL
//! again) took a sixth of the proxy's throughput for nothing the data plane uses: redirects are never followed (a
//! backend cannot send us elsewhere), and no proxy from the environment applies (the platform is the sidecar's
//! neighbour). A request is only sent again when a pooled connection turned out closed before any of it was
//! written. https backends are verified against `[tls] backend_ca` and the public roots
//! ([`crate::tls::Tls::backend_client_config`]).

use std::time::Duration;

use axum::http::{header, HeaderValue, Request, Response};
use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::backend::BodyStream;
use crate::telemetry::logging::error_chain;

/// A request body on its way to a platform.
pub type OutgoingBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// Sent when the partner's request names no agent of its own.
const USER_AGENT: &str = concat!("twinport-data-plane/", env!("CARGO_PKG_VERSION"));

/// Why a platform could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no connection to the platform within the timeout")]
    ConnectTimeout,
    /// Unreachable, refused, TLS failed, or the connection broke before the response head.
    #[error("the platform cannot be reached: {0}")]
    Unreachable(String),
}

/// Pooled HTTP/1.1 connections to the platforms, plain or TLS.
#[derive(Clone)]
pub struct BackendClient {
    inner: Client<HttpsConnector<HttpConnector>, OutgoingBody>,
}

impl BackendClient {
    /// `connect_timeout` bounds opening a connection; `tls` verifies https backends.
    pub fn new(connect_timeout: Duration, mut tls: rustls::ClientConfig) -> BackendClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        // A proxied answer is one small write each way: Nagle's algorithm would hold it for the peer's ACK.
        http.set_nodelay(true);
        // A platform that dies without closing its connections (a killed pod, a dropped NAT entry) must not leave
        // pooled connections or a body mid-stream waiting forever: probe idle connections, and give up on one
        // whose sent data goes unacknowledged.
        http.set_keepalive(Some(Duration::from_secs(15)));
        http.set_keepalive_interval(Some(Duration::from_secs(15)));
        http.set_keepalive_retries(Some(3));
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
        http.set_tcp_user_timeout(Some(Duration::from_secs(30)));
        // hyper-rustls offers ALPN itself, for the HTTP versions enabled below (and refuses a config that has some).
        tls.alpn_protocols.clear();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        // The timer lets the pool close idle connections in the background, not only when one is next taken.
        let inner = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(256)
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        BackendClient { inner }
    }

    /// Sends `request` and waits for the response head; the body is left to stream.
    pub async fn send(
        &self,
        mut request: Request<OutgoingBody>,
    ) -> Result<Response<Incoming>, SendError> {
        request
            .headers_mut()
            .entry(header::USER_AGENT)
            .or_insert(HeaderValue::from_static(USER_AGENT));
        self.inner.request(request).await.map_err(|e| {
            if timed_out(&e) {
                SendError::ConnectTimeout
            } else {
                SendError::Unreachable(error_chain(&e))
            }
        })
    }
}

/// A streamed body to send, or none.
pub fn outgoing(body: Option<BodyStream>) -> OutgoingBody {
    match body {
        Some(stream) => BodyExt::boxed_unsync(StreamBody::new(stream.map_ok(Frame::data))),
        None => BodyExt::boxed_unsync(Empty::new().map_err(|never| match never {})),
    }
}

/// A platform's response body as a stream of chunks.
pub fn incoming(body: Incoming) -> BodyStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_connect_timeout_is_told_apart_from_an_unreachable_platform() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tcp connect error")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let timeout = Wrapper(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connect timed out",
        ));
        let refused = Wrapper(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ));
        assert!(timed_out(&timeout));
        assert!(!timed_out(&refused));
        assert_eq!(error_chain(&refused), "tcp connect error: refused");
    }

    /// A platform on TLS with a self-signed certificate for `localhost`; answers every request `200 ok`. Returns
    /// its port and the certificate's PEM.
    async fn tls_platform() -> (u16, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((socket, _)) = listener.accept().await {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    continue;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
                let _ = tls.shutdown().await;
            }
        });
        (port, cert.pem())
    }

    fn tls_config(
        ca: Option<std::path::PathBuf>,
        backend_ca: Option<std::path::PathBuf>,
    ) -> crate::config::TlsConfig {
        crate::config::TlsConfig {
            server: None,
            client: None,
            ca,
            backend_ca,
            mutual: false,
            system_roots: true,
            partners: Vec::new(),
        }
    }

    async fn get(client: &BackendClient, port: u16) -> Result<Response<Incoming>, SendError> {
        let mut request = Request::new(outgoing(None));
        *request.uri_mut() = format!("https://localhost:{port}/collections")
            .parse()
            .expect("uri");
        client.send(request).await
    }

    /// A platform whose certificate no trusted CA issued is not spoken to: the handshake fails and the partner
    /// gets the 502 of an unreachable platform, never data from an unverified server. A CA trusted for partners
    /// (`tls.ca`) does not vouch for backends; with the platform's CA as `tls.backend_ca`, it is reached.
    #[tokio::test]
    async fn an_https_backend_is_reached_only_when_a_trusted_ca_issued_its_certificate() {
        let (port, pem) = tls_platform().await;
        let dir = tempfile::tempdir().expect("dir");
        let ca = dir.path().join("platform-ca.pem");
        std::fs::write(&ca, pem).expect("write ca");

        for (case, partners_ca) in [
            ("public roots only", None),
            ("a partner CA", Some(ca.clone())),
        ] {
            let tls = crate::tls::Tls::load(&tls_config(partners_ca, None)).expect("tls");
            let client = BackendClient::new(Duration::from_secs(5), tls.backend_client_config());
            match get(&client, port).await {
                Err(SendError::Unreachable(e)) => assert!(e.contains("certificate"), "{case}: {e}"),
                Err(SendError::ConnectTimeout) => {
                    panic!("{case}: a refused certificate is not a timeout")
                }
                Ok(r) => panic!("{case}: an unverified backend answered {}", r.status()),
            }
        }

        let with_ca = crate::tls::Tls::load(&tls_config(None, Some(ca))).expect("tls");
        let client = BackendClient::new(Duration::from_secs(5), with_ca.backend_client_config());
        let response = match get(&client, port).await {
            Ok(r) => r,
            Err(e) => panic!("the platform's own CA is trusted: {e:?}"),
        };
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.expect("body");
        assert_eq!(body.to_bytes().as_ref(), b"ok");
    }

    #[test]
    fn a_backend_ca_file_that_holds_no_certificate_stops_start_up_naming_its_key() {
        let dir = tempfile::tempdir().expect("dir");
        let ca = dir.path().join("empty.pem");
        std::fs::write(&ca, "not a certificate").expect("write");
        let err = crate::tls::Tls::load(&tls_config(None, Some(ca))).expect_err("must fail");
        assert!(err.to_string().starts_with("tls.backend_ca: "), "{err}");
    }

    /// hyper-util's own error for a connection that never opened is recognised as a timeout (504), not as an
    /// unreachable platform (502). The platform's accept queue is full, so the kernel leaves our connection
    /// attempts unanswered.
    #[tokio::test]
    async fn a_platform_that_never_accepts_the_connection_times_out() {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
        let port = socket.local_addr().expect("addr").port();
        let _listener = socket.listen(1).expect("listen");
        // Fill the accept queue: nothing ever accepts.
        let mut queued = Vec::new();
        for _ in 0..4 {
            match tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(("127.0.0.1", port)),
            )
            .await
            {
                Ok(Ok(s)) => queued.push(s),
                _ => break,
            }
        }
        let tls = crate::tls::Tls::load(&tls_config(None, None)).expect("tls");
        let client = BackendClient::new(Duration::from_millis(300), tls.backend_client_config());
        let mut request = Request::new(outgoing(None));
        *request.uri_mut() = format!("http://127.0.0.1:{port}/").parse().expect("uri");
        match tokio::time::timeout(Duration::from_secs(10), client.send(request)).await {
            Ok(Err(SendError::ConnectTimeout)) => {}
            other => panic!("expected a connect timeout, got {other:?}"),
        }
    }
}
