//! The connections our listeners hold open, so a stop can end those still open when the drain period is over.
//! A graceful stop lets requests in flight finish, but a partner slowly reading a large body (or one that stopped
//! reading) would hold it until the orchestrator kills the process, and an access cut off that way is never
//! recorded. So each accepted socket is registered (as a duplicate of its descriptor, which costs one system call
//! and one descriptor per connection, and nothing per request) until the connection ends;
//! [`Connections::cut_all`] shuts those sockets down, the server's connection tasks see the error and end, and a
//! body cut short is recorded as incomplete. (Unix only; elsewhere connections are served but not tracked.)

use std::collections::HashMap;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The open connections of every listener of one connector.
#[derive(Clone, Default)]
pub struct Connections(Arc<Inner>);

#[derive(Default)]
struct Inner {
    next: AtomicU64,
    open: Mutex<HashMap<u64, std::net::TcpStream>>,
}

impl Connections {
    /// Registers `tcp` until the returned guard is dropped. A socket that cannot be duplicated (out of
    /// descriptors) is served anyway, only not cut at a stop.
    pub fn track(&self, tcp: &TcpStream) -> Registration {
        let id = self.0.next.fetch_add(1, Ordering::Relaxed);
        match duplicate(tcp) {
            Ok(Some(socket)) => {
                self.open().insert(id, socket);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot track a connection for shutdown"),
        }
        Registration {
            id,
            connections: self.clone(),
        }
    }

    /// Shuts down every connection still open (both directions); returns how many.
    pub fn cut_all(&self) -> usize {
        let open = self.open();
        for socket in open.values() {
            // Already closed by the peer is fine: the connection is ending anyway.
            let _ = socket.shutdown(Shutdown::Both);
        }
        open.len()
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.open().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // A panic elsewhere while holding the lock leaves the map as it was: keep using it rather than stop tracking.
    fn open(&self) -> MutexGuard<'_, HashMap<u64, std::net::TcpStream>> {
        self.0.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A second descriptor for the socket, which `shutdown` can act on while the server owns the first.
#[cfg(unix)]
fn duplicate(tcp: &TcpStream) -> std::io::Result<Option<std::net::TcpStream>> {
    use std::os::fd::AsFd;
    Ok(Some(std::net::TcpStream::from(
        tcp.as_fd().try_clone_to_owned()?,
    )))
}

#[cfg(not(unix))]
fn duplicate(_: &TcpStream) -> std::io::Result<Option<std::net::TcpStream>> {
    Ok(None)
}

/// Keeps a connection registered while it lives.
pub struct Registration {
    id: u64,
    connections: Connections,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = self.connections.open().remove(&self.id);
        // Closed outside the lock: this may be the socket's last descriptor, so the close is its TCP close.
        drop(removed);
    }
}

/// A connection's stream, registered for as long as the server holds it.
pub struct Tracked<S> {
    io: S,
    _registration: Registration,
}

impl<S> Tracked<S> {
    pub fn new(io: S, registration: Registration) -> Tracked<S> {
        Tracked {
            io,
            _registration: registration,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Turns Nagle's algorithm off on an accepted connection. hyper writes a response's head and body (and a streamed
/// body's chunks) as separate small writes; with Nagle on, the last one waits for the client's delayed ACK, which
/// cost every request on a kept-alive connection about 40 ms.
pub fn no_delay(tcp: &TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY on an accepted connection");
    }
}

/// A plain TCP listener whose connections are tracked (the TLS listener tracks its own).
pub struct TrackedListener {
    inner: TcpListener,
    connections: Connections,
}

impl TrackedListener {
    pub fn new(inner: TcpListener, connections: Connections) -> TrackedListener {
        TrackedListener { inner, connections }
    }
}

impl axum::serve::Listener for TrackedListener {
    type Io = Tracked<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (tcp, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        no_delay(&tcp);
        let registration = self.connections.track(&tcp);
        (Tracked::new(tcp, registration), addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_cut_connection_ends_the_read_waiting_on_it_and_leaves_the_registry() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Connections::default();
        let mut tracked = TrackedListener::new(listener, connections.clone());
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = axum::serve::Listener::accept(&mut tracked).await;
        assert_eq!(connections.len(), 1);

        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        // A read that would wait for ever (the client sends nothing more) ends once the connection is cut.
        let waiting = tokio::spawn(async move {
            let mut more = [0u8; 1];
            let n = server.read(&mut more).await;
            drop(server);
            n
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(connections.cut_all(), 1);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the cut ends the read")
            .unwrap();
        assert!(matches!(ended, Ok(0) | Err(_)), "{ended:?}");
        assert!(connections.is_empty(), "a closed connection is forgotten");
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest).await;
    }

    /// A partner that stopped reading leaves the server blocked on a full send buffer; the cut must end that write.
    #[tokio::test]
    async fn a_cut_connection_ends_a_write_blocked_on_a_partner_that_stopped_reading() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Connections::default();
        let mut tracked = TrackedListener::new(listener, connections.clone());
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = axum::serve::Listener::accept(&mut tracked).await;
        let writing = tokio::spawn(async move {
            // Far more than the socket buffers hold: the write blocks once they are full.
            let big = vec![b' '; 256 * 1024 * 1024];
            server.write_all(&big).await
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            !writing.is_finished(),
            "the write is blocked on the partner"
        );
        connections.cut_all();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), writing)
            .await
            .expect("the cut ends the blocked write")
            .unwrap();
        assert!(ended.is_err(), "the write fails: {ended:?}");
        drop(client);
    }
}
