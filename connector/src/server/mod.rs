//! Serving one listener: accepts connections (at most `limits.max_connections` at once), gives each client
//! `limits.header_timeout` to send a request's headers (an idle kept-alive connection is closed after it too),
//! and runs every request through [`guard`] before any surface sees it.
//!
//! `axum::serve` has neither limit (it sets no timer, so hyper's header timeout never fires), which let clients
//! that never finish their headers hold connections and descriptors for ever. The loop otherwise behaves as
//! `axum::serve` with graceful shutdown: after the stop signal no connection is accepted, requests in flight
//! finish, and the future ends once every connection has closed.

pub mod body;
pub mod guard;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::config::Limits;

/// Serves `app` on `listener` until `shutdown` completes, then waits for the open connections to finish.
/// Each request carries `ConnectInfo<L::Addr>` (the TLS listener's peer certificates, the plain listener's
/// address).
pub async fn serve<L>(
    mut listener: L,
    app: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    L: axum::serve::Listener,
    L::Addr: Clone + Send + Sync + 'static,
{
    let app = guard::layer(app);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // HTTP/1.1 only, as our TLS configurations advertise: HTTP/2 would bring its own limits to set.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    // Every connection task holds a receiver; the sender sees them all gone when the last connection closes.
    let (stopping_tx, stopping_rx) = watch::channel(false);
    let (closed_tx, closed_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        // Waiting for a slot before accepting leaves further clients in the kernel's accept queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service =
            TowerToHyperService::new(tower::service_fn(move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(addr.clone()));
                let app = app.clone();
                let dsp_path = guard::dsp_path(&request);
                async move {
                    let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
                    Ok::<Response, Infallible>(guard::unrouted(dsp_path, response))
                }
            }));
        let builder = builder.clone();
        let mut stopping = stopping_rx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let connection = builder
                .serve_connection(TokioIo::new(io), service)
                .with_upgrades();
            tokio::pin!(connection);
            let stop = async move {
                let _ = stopping.wait_for(|s| *s).await;
            };
            tokio::pin!(stop);
            let mut stop_sent = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    () = &mut stop, if !stop_sent => {
                        stop_sent = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(closed);
        });
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    drop(closed_rx);
    closed_tx.closed().await;
}

#[cfg(test)]
mod tests;
