//! The provider's data plane: the sidecar proxy behind every pull transfer's data address
//! (`<public_url>/data/<providerPid>[/<path>]`, any method, on the DSP listener). Per request, before the backend
//! is contacted: token, transfer state, backend restrictions, then the agreement in the access scope with the
//! access reserved ([`access`]). The response streams through a digesting [`tee`]; when the body ends it is
//! recorded in the audit log and its receipt is stored ([`record`]), signed and fetched at the URL the response names in
//! `twinport-receipt` ([`receipts`]), or with others of the same transfer under one signature at the URL in
//! `twinport-receipts` ([`receipt_batch`]). [`backend`] is the stable API to the platforms behind us (HTTP, NGSI-LD,
//! files), shared with the push side ([`push`]: the provider sends a push transfer's data). A model served as OGC
//! API - Processes has rules of its own ([`processes`]: the calls of the standard, jobs scoped to the agreement,
//! only executions counted). The consumer side (the local endpoint for this city's own applications) is
//! [`consumer`].

pub mod access;
pub mod backend;
pub mod backend_client;
pub mod consumer;
pub mod files;
pub mod fresh;
pub mod ngsi_ld;
pub mod problem;
pub mod processes;
pub mod push;
pub mod receipt_batch;
pub mod receipts;
pub mod record;
mod state;
pub mod tee;
pub mod upload;

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use futures_util::TryStreamExt;

use backend::{Backend, BackendRequest, BodyStream, Forwarded};
use problem::Refusal;
use record::AccessLine;

pub use crate::paths::{DATA_PATH, PUSH_PATH};
pub use state::{DataPlaneSettings, DataPlaneState};
pub const REQUEST_ID_HEADER: &str = "twinport-request-id";
pub const RECEIPT_HEADER: &str = "twinport-receipt";
/// Where the receipts of many responses of the transfer can be fetched together ([`receipt_batch`]).
pub const RECEIPTS_HEADER: &str = "twinport-receipts";

/// The data plane's shared parts: the HTTP clients for backends and for pushes to consumers (neither follows
/// redirects, so a backend or endpoint cannot send us elsewhere) and the receipts still being written.
pub struct DataPlane {
    backends: backend_client::BackendClient,
    client: reqwest::Client,
    timeout: Duration,
    pending: receipts::Pending,
    agreements: access::AgreementCache,
    /// Transfers by token hash, with the state our unacknowledged message leads to.
    transfers: fresh::FreshCache<(crate::storage::TransferRecord, Option<String>)>,
    resources: fresh::FreshCache<access::Served>,
    duties:
        fresh::FreshCache<std::collections::BTreeMap<String, twinport_policy::context::DutyState>>,
    /// Work that outlives the request that started it (recording a served response; pushes; the consumer's receipt
    /// check and record after a body is relayed), so that a stop can wait for it before the store closes.
    background: tokio_util::task::TaskTracker,
    /// Cancelled when the connector stops: pushes still running end, recorded as incomplete.
    stopping: tokio_util::sync::CancellationToken,
    /// Relayed responses waiting for their receipts to be fetched together (the consumer side).
    receipt_queue: consumer::receipt_batches::Queue,
}

impl DataPlane {
    pub fn new(timeout: Duration, backend_tls: rustls::ClientConfig) -> Result<DataPlane, String> {
        let backends = backend_client::BackendClient::new(timeout, backend_tls);
        let client = reqwest::Client::builder()
            .user_agent(concat!("twinport-data-plane/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(DataPlane {
            backends,
            client,
            timeout,
            pending: receipts::Pending::default(),
            agreements: access::AgreementCache::default(),
            transfers: Default::default(),
            resources: Default::default(),
            duties: Default::default(),
            background: Default::default(),
            stopping: Default::default(),
            receipt_queue: Default::default(),
        })
    }

    /// Runs `work` in the background, where [`DataPlane::drain`] can wait for it.
    pub fn spawn_tracked<F>(&self, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.background.spawn(work);
    }

    /// Cancelled when the connector stops.
    pub fn stopping(&self) -> &tokio_util::sync::CancellationToken {
        &self.stopping
    }

    /// For a stop: cancels pushes, then waits until the background work has ended and every served response is
    /// recorded, or `limit` has passed. Returns how many tasks or records are still unfinished.
    pub async fn drain(&self, limit: Duration) -> usize {
        self.stopping.cancel();
        self.background.close();
        let _ = tokio::time::timeout(limit, async {
            self.background.wait().await;
            // A body's end starts its record wherever the body is dropped, which may be a task of the HTTP
            // client's (a cancelled push's body) that ends after the tracked ones: wait for the responses
            // registered as pending too.
            while !self.pending.is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            self.background.wait().await;
        })
        .await;
        self.background.len() + self.pending.len()
    }

    /// The client for backends.
    pub fn backends(&self) -> &backend_client::BackendClient {
        &self.backends
    }

    /// The client pushes are delivered to consumers' endpoints with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// How long a backend has to answer with headers.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn pending(&self) -> &receipts::Pending {
        &self.pending
    }

    pub(crate) fn receipt_queue(&self) -> &consumer::receipt_batches::Queue {
        &self.receipt_queue
    }

    pub(crate) fn agreements(&self) -> &access::AgreementCache {
        &self.agreements
    }

    /// Transfers by token hash.
    pub(crate) fn transfers(
        &self,
    ) -> &fresh::FreshCache<(crate::storage::TransferRecord, Option<String>)> {
        &self.transfers
    }

    /// Agreed resources by id.
    pub(crate) fn resources(&self) -> &fresh::FreshCache<access::Served> {
        &self.resources
    }

    /// The recorded duty states of each agreement, by agreement id.
    pub(crate) fn duties(
        &self,
    ) -> &fresh::FreshCache<std::collections::BTreeMap<String, twinport_policy::context::DutyState>>
    {
        &self.duties
    }
}

/// The provider's data-plane routes and the consumer's push endpoint, on the DSP listener.
pub fn router(state: DataPlaneState) -> Router {
    routes().with_state(state)
}

fn routes() -> Router<DataPlaneState> {
    Router::new()
        .route(&format!("{DATA_PATH}/{{pid}}"), any(proxy))
        // The data address with a final `/`: a wildcard does not match an empty rest, and clients of OGC APIs
        // (OWSLib) ask for a landing page that way.
        .route(&format!("{DATA_PATH}/{{pid}}/"), any(proxy))
        .route(&format!("{DATA_PATH}/{{pid}}/{{*path}}"), any(proxy))
        .route(
            &format!("{DATA_PATH}/{{pid}}/receipts/{{request_id}}"),
            get(receipts::get),
        )
        // Only POST is ours here: any other method on this path is a data request like any other.
        .route(
            &format!("{DATA_PATH}/{{pid}}/receipts"),
            post(receipt_batch::post).fallback(proxy),
        )
        .route(
            &format!("{PUSH_PATH}/{{pid}}"),
            post(consumer::push::receive).put(consumer::push::receive),
        )
}

/// `(providerPid, path below the data address)` from the raw request path, still percent-encoded.
fn split_path(path: &str) -> (&str, &str) {
    let rest = path
        .strip_prefix(DATA_PATH)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or_default();
    match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    }
}

async fn proxy(State(state): State<DataPlaneState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (pid, sub) = split_path(parts.uri.path());
    let (pid, sub) = (pid.to_string(), sub.to_string());
    let mut line = AccessLine::new(
        parts.method.to_string(),
        match parts.uri.query() {
            Some(q) => format!("{sub}?{q}"),
            None => sub.clone(),
        },
    );
    let request_id = line.request_id.clone();
    let mut response = match serve(&state, &parts, &pid, &sub, body, &mut line).await {
        Ok(r) => r,
        Err(refusal) => {
            tracing::info!(request = %line.request_id, status = %refusal.status, detail = %refusal.detail, "data access refused");
            record::refusal(&state, &line, &refusal).await;
            refusal.into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    response
}

async fn serve(
    state: &DataPlaneState,
    parts: &axum::http::request::Parts,
    pid: &str,
    sub: &str,
    body: Body,
    line: &mut AccessLine,
) -> Result<Response, Refusal> {
    let access = match access::authorize(
        state,
        pid,
        &parts.headers,
        crate::tls::TlsPeer::of(&parts.extensions),
    )
    .await
    {
        Ok(a) => a,
        Err(refused) => {
            if let Some(t) = refused.transfer {
                line.partner = Some(t.partner.clone());
                line.transfer = Some(t.id.clone());
                line.agreement = Some(t.agreement_id.clone());
            }
            return Err(refused.refusal);
        }
    };
    line.partner = Some(access.transfer.partner.clone());
    line.transfer = Some(access.transfer.id.clone());
    line.agreement = Some(access.agreed.agreement.id.clone());
    line.resource = Some(access.resource().id.clone());
    line.purpose = access.purpose.clone();

    let backend = access.backend()?;
    let head = parts.method == Method::HEAD;
    let response = if matches!(backend, Backend::Processes { .. }) {
        processes::serve(state, &access, parts, pid, sub, body, line).await?
    } else {
        forward(state, &access, backend, parts, pid, sub, body).await?
    };
    Ok(answer(state, pid, line, head, response))
}

/// Checks and sends a request to a generic HTTP platform, an NGSI-LD broker or a directory of files.
async fn forward(
    state: &DataPlaneState,
    access: &access::Access,
    backend: &Backend,
    parts: &axum::http::request::Parts,
    pid: &str,
    sub: &str,
    body: Body,
) -> Result<backend::BackendResponse, Refusal> {
    let has_body = parts.headers.contains_key(header::CONTENT_LENGTH)
        || parts.headers.contains_key(header::TRANSFER_ENCODING);
    let request_body: Option<BodyStream> = has_body
        .then(|| Box::pin(body.into_data_stream().map_err(std::io::Error::other)) as BodyStream);
    let prepared = backend.prepare(BackendRequest {
        method: parts.method.clone(),
        path: sub.to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers.clone(),
        body: request_body,
        forwarded: Forwarded {
            host: parts
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            // The public URL was validated as an absolute http(s) URL when the configuration was loaded.
            proto: state
                .public_url()
                .split_once("://")
                .map(|(scheme, _)| scheme.to_ascii_lowercase()),
            prefix: Some(format!("{DATA_PATH}/{pid}")),
        },
    })?;
    access::decide(state, access, access::Requested::Pull(&parts.method)).await?;
    let plane = state.data_plane();
    prepared.send(plane.backends(), plane.timeout()).await
}

/// The response to a request the platform answered: its body digested as it streams and recorded (with its
/// receipt) when it ends, and the receipt URLs named.
fn answer(
    state: &DataPlaneState,
    pid: &str,
    line: &AccessLine,
    head: bool,
    response: backend::BackendResponse,
) -> Response {
    let status = response.status.as_u16();
    let plane = state.data_plane();
    plane.pending().register(&line.request_id);
    let recorder_state = state.clone();
    let recorded_line = line.clone();
    let expected = tee::declared_length(&response.headers);
    let tee = tee::Tee::new(response.body, expected, move |mut outcome: tee::Outcome| {
        // A HEAD response has no body to cut short.
        outcome.complete |= head;
        record::served_later(recorder_state, recorded_line, status, outcome);
    });
    let mut out = Response::new(Body::from_stream(tee));
    *out.status_mut() = response.status;
    *out.headers_mut() = response.headers;
    let receipt_url = format!(
        "{}{DATA_PATH}/{pid}/receipts/{}",
        state.public_url(),
        line.request_id
    );
    if let Ok(v) = HeaderValue::from_str(&receipt_url) {
        out.headers_mut()
            .insert(HeaderName::from_static(RECEIPT_HEADER), v);
    }
    let batch_url = format!("{}{DATA_PATH}/{pid}/receipts", state.public_url());
    if let Ok(v) = HeaderValue::from_str(&batch_url) {
        out.headers_mut()
            .insert(HeaderName::from_static(RECEIPTS_HEADER), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{routes, split_path};

    #[test]
    fn receipts_and_proxied_paths_can_share_the_data_address() {
        // axum refuses conflicting routes when the router is built.
        let _ = routes();
    }

    #[test]
    fn the_data_address_and_the_path_below_it_are_told_apart() {
        assert_eq!(split_path("/data/p1"), ("p1", ""));
        assert_eq!(split_path("/data/p1/"), ("p1", "/"));
        assert_eq!(split_path("/data/p1/a/%2e%2e/b"), ("p1", "/a/%2e%2e/b"));
    }
}
