//! Forwarding one application request to the provider's data plane and streaming the answer back. The transfer is
//! read afresh for every request, so a suspension is refused at once and a resumed transfer's new token is used.
//! Neither body is held in memory: the request body is handed to the HTTP client as a stream, and the response is
//! relayed chunk by chunk through a small bounded channel (back-pressure reaches the provider) while it is
//! digested; the receipt is checked only after the last chunk. A request body is digested as it goes, for receipts
//! that cover it. Links to the provider's data address are pointed at this endpoint ([`super::links`]).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use twinport_contracts::transfer::{DataAddress, TransferState};

use super::record::{self, Access};
use crate::contracting::transfer::PULL;
use crate::contracting::CONSUMER;
use crate::dataplane::processes::{LINKS_DATA_ADDRESS, LINKS_HEADER};
use crate::dataplane::upload::{within_silence, Waited};
use crate::dataplane::DataPlaneState;
use crate::dataplane::{RECEIPTS_HEADER, RECEIPT_HEADER, REQUEST_ID_HEADER};
use crate::error::ApiError;
use crate::storage::TransferRecord;

/// Request headers an application may pass to the provider. Everything else (cookies, its own credentials,
/// hop-by-hop headers) stays here: the provider only ever sees the transfer's token.
pub(super) const FORWARDED_REQUEST_HEADERS: &[&str] = &[
    "accept",
    "accept-language",
    "content-type",
    "content-encoding",
    "link",
    "ngsild-tenant",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "range",
    "prefer",
];

/// Response headers that describe one hop and must not be relayed.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "set-cookie",
];

/// Chunks in flight between the provider and the application; bounds memory per request.
const CHANNEL_CHUNKS: usize = 8;

/// How long the provider may stay silent: not answering once it took the last chunk of the request body, or not
/// sending the next chunk of its response. A long upload or download that keeps moving is never cut.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn forward_root(
    State(state): State<DataPlaneState>,
    Path(pid): Path<String>,
    req: Request,
) -> Response {
    forward(state, pid, req).await
}

pub async fn forward_path(
    State(state): State<DataPlaneState>,
    Path((pid, _)): Path<(String, String)>,
    req: Request,
) -> Response {
    forward(state, pid, req).await
}

/// The path below `/transfers/{pid}` exactly as the application sent it (still percent-encoded, so what the
/// provider receives, serves and names in its receipt is byte for byte what the application asked for).
fn raw_below(path: &str) -> &str {
    let rest = path.strip_prefix("/transfers/").unwrap_or_default();
    match rest.find('/') {
        Some(i) => &rest[i..],
        None => "",
    }
}

async fn forward(state: DataPlaneState, pid: String, req: Request) -> Response {
    forward_request(state, pid, req).await
}

/// One request for transfer `pid`, as if an application had sent it: also how an execution's input given by
/// reference to another transfer is read ([`super::references`]).
pub(super) async fn forward_request(state: DataPlaneState, pid: String, req: Request) -> Response {
    match try_forward(state, pid, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// The transfer an application may use right now, with the endpoint and token to use for it.
pub struct Usable {
    pub transfer: TransferRecord,
    pub endpoint: String,
    pub token: String,
}

/// Looks up consumer transfer `pid` and checks it can carry a request now. Fails closed: anything other than a
/// STARTED pull transfer with a complete data address is refused without contacting the provider.
pub async fn usable_transfer(state: &DataPlaneState, pid: &str) -> Result<Usable, ApiError> {
    let mut t = state
        .store()
        .transfer(pid)
        .await?
        .filter(|t| t.role == CONSUMER)
        .ok_or_else(|| ApiError::NotFound(format!("transfer {pid} (as consumer)")))?;
    if t.state != TransferState::Started.as_str() {
        // A resume of ours whose acknowledgement is on its way: wait for it, bounded.
        let _ =
            crate::contracting::acknowledgement::await_in_flight(state.contracting(), &t.id).await;
        if let Some(now) = state.store().transfer(pid).await? {
            t = now;
        }
    }
    if t.state != TransferState::Started.as_str() {
        return Err(ApiError::Conflict(format!(
            "transfer {pid} is {}; data flows only while it is STARTED",
            t.state
        )));
    }
    if t.format != PULL {
        return Err(ApiError::Conflict(format!(
            "transfer {pid} is {}; the local endpoint serves {PULL} transfers (pushed data arrives by itself)",
            t.format
        )));
    }
    let address = t
        .data_address
        .as_ref()
        .and_then(|v| DataAddress::from_json(v).ok())
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "transfer {pid} has no usable data address from the provider yet"
            ))
        })?;
    let endpoint = address
        .endpoint
        .clone()
        .filter(|e| e.starts_with("http://") || e.starts_with("https://"))
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "transfer {pid}: the provider's data address has no http(s) endpoint"
            ))
        })?;
    // A token still in the address is one kept before tokens were stored apart (or a provider's odd address).
    let token = match address.property("authorization") {
        Some(inline) => inline.to_string(),
        None => {
            super::renewal::current(state, &t)
                .await
                .map_err(|why| ApiError::Unauthorized(format!("transfer {pid}: {why}")))?
                .token
        }
    };
    Ok(Usable {
        transfer: t,
        endpoint: endpoint.trim_end_matches('/').to_string(),
        token,
    })
}

async fn try_forward(
    state: DataPlaneState,
    pid: String,
    req: Request,
) -> Result<Response, ApiError> {
    let Usable {
        transfer,
        endpoint,
        token,
    } = usable_transfer(&state, &pid).await?;
    let started_at = record::now();
    let (parts, body) = req.into_parts();
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let below = format!("{}{query}", raw_below(parts.uri.path()));
    let url = format!("{endpoint}{below}");
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
        .map_err(|_| ApiError::Malformed(format!("method {}", parts.method)))?;
    let mut upstream = upstream_request(&state, method.clone(), &url, &parts.headers, &token);
    let mut upload = None;
    // An execution's inputs may name data we hold under other agreements: judged and inlined before it goes.
    let body = if parts.method == axum::http::Method::POST
        && super::references::is_execution(raw_below(parts.uri.path()))
    {
        let whole = axum::body::to_bytes(body, super::references::MAX_INLINED)
            .await
            .map_err(|_| {
                ApiError::TooLarge(format!(
                    "an execution request is at most {} MiB",
                    super::references::MAX_INLINED / (1024 * 1024)
                ))
            })?;
        let local = local_address(&state, &parts)
            .and_then(|a| a.split("/transfers/").next().map(str::to_string));
        let whole = super::references::inline(&state, local.as_deref(), &transfer, whole).await?;
        Body::from(whole)
    } else {
        body
    };
    if parts.method != axum::http::Method::GET && parts.method != axum::http::Method::HEAD {
        let stream: crate::dataplane::backend::BodyStream =
            Box::pin(body.into_data_stream().map_err(std::io::Error::other));
        let (stream, watch) = crate::dataplane::upload::watch_digested(stream);
        upload = Some(watch);
        upstream = upstream.body(reqwest::Body::wrap_stream(stream));
    }
    let mut access = Access {
        transfer,
        request_id: None,
        method: parts.method.to_string(),
        path: below,
        status: 0,
        bytes: 0,
        sha256: hex::encode(Sha256::digest(b"")),
        complete: false,
        started_at,
        receipt_url: None,
        token,
        endpoint,
        request_body: None,
    };
    let sent = within_silence(upstream.send(), upload.as_ref(), RESPONSE_TIMEOUT).await;
    let client_error = upload.as_ref().and_then(|w| w.client_error());
    let response = match sent {
        Waited::Done(Ok(r)) => r,
        Waited::Done(Err(_)) if client_error.is_some() => {
            let why = client_error.unwrap_or_default();
            tracing::info!(transfer = %access.transfer.id, error = %why, "the application's request body could not be read");
            access.status = StatusCode::BAD_REQUEST.as_u16();
            record::record_access(&state, &access, None).await;
            return Err(ApiError::Malformed(format!(
                "the request body could not be read: {why}"
            )));
        }
        sent => {
            let timed_out = match &sent {
                Waited::Silent => true,
                Waited::Done(Err(e)) => e.is_timeout(),
                Waited::Done(Ok(_)) => false,
            };
            let (status, why) = if timed_out {
                (StatusCode::GATEWAY_TIMEOUT, "did not answer in time")
            } else {
                (StatusCode::BAD_GATEWAY, "cannot be reached")
            };
            if let Waited::Done(Err(e)) = &sent {
                tracing::warn!(transfer = %access.transfer.id, error = %e, "provider data plane {why}");
            } else {
                tracing::warn!(transfer = %access.transfer.id, "provider data plane {why}");
            }
            access.status = status.as_u16();
            let detail = format!("the provider's data plane {why}");
            record::record_access(&state, &access, None).await;
            return Ok(gateway_problem(status, &detail));
        }
    };
    // The provider revoked or expired the token before we knew (another replica renewed it, a clock apart): a
    // request without a body is sent once more with a renewed token, so the application never sees that.
    let response = if response.status() == StatusCode::UNAUTHORIZED
        && (method == reqwest::Method::GET || method == reqwest::Method::HEAD)
        && !inline_token(&access.transfer)
    {
        match super::renewal::after_refusal(&state, &access.transfer, &access.token).await {
            Some(renewed) => {
                access.token = renewed.token;
                let again = upstream_request(&state, method, &url, &parts.headers, &access.token);
                match tokio::time::timeout(RESPONSE_TIMEOUT, again.send()).await {
                    Ok(Ok(r)) => r,
                    _ => response,
                }
            }
            None => response,
        }
    } else {
        response
    };
    access.status = response.status().as_u16();
    access.request_id = header_text(response.headers(), REQUEST_ID_HEADER);
    access.receipt_url = header_text(response.headers(), RECEIPT_HEADER);
    // The transfer's token goes only back to the provider's own data plane, never to a URL elsewhere.
    let batch_url = header_text(response.headers(), RECEIPTS_HEADER)
        .filter(|url| *url == format!("{}/receipts", access.endpoint));
    let status = StatusCode::from_u16(access.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let local = local_address(&state, &parts);
    // A JSON document whose links the provider made point at the data address: pointed here instead.
    let rewrite = header_text(response.headers(), LINKS_HEADER)
        .is_some_and(|v| v == LINKS_DATA_ADDRESS)
        && header_text(response.headers(), "content-type")
            .is_some_and(|t| crate::dataplane::processes::call::is_json(&t))
        && local.is_some();
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers() {
        // Which pages may read through the local endpoint is the city's decision (the guard's CORS answers),
        // never the provider's.
        if HOP_BY_HOP.contains(&name.as_str())
            || name.as_str().starts_with("access-control-")
            || name.as_str() == LINKS_HEADER
            || (rewrite && name == reqwest::header::CONTENT_LENGTH)
        {
            continue;
        }
        let mut value = value.as_bytes().to_vec();
        if name == reqwest::header::LOCATION {
            let pointed = std::str::from_utf8(&value)
                .ok()
                .zip(local.as_deref())
                .and_then(|(v, local)| super::links::location(v, &access.endpoint, local));
            if let Some(pointed) = pointed {
                value = pointed.into_bytes();
            }
        }
        if let Ok(name) = HeaderName::from_bytes(name.as_str().as_bytes()) {
            if let Ok(value) = axum::http::HeaderValue::from_bytes(&value) {
                headers.append(name, value);
            }
        }
    }
    let rewriter = local
        .filter(|_| rewrite)
        .map(|local| super::links::Rewriter::new(&access.endpoint, &local));
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHANNEL_CHUNKS);
    // Tracked, so that a stop waits for the receipt check and the record after the last byte.
    state.data_plane().spawn_tracked(relay(
        state.clone(),
        access,
        batch_url,
        response,
        Relayed {
            tx,
            rewriter,
            upload,
        },
    ));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    // A document the provider serves (HTML, SVG) and a user opens would otherwise run as the local endpoint's
    // own origin, free to read every other transfer same-origin; sandboxed, it has an opaque origin and its
    // requests are cross-site, which the guard refuses. Data read by applications is unaffected.
    headers.append(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static("sandbox"),
    );
    let mut out = Response::new(Body::from_stream(stream));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// The request to the provider's data plane with the transfer's token and the headers an application may pass.
fn upstream_request(
    state: &DataPlaneState,
    method: reqwest::Method,
    url: &str,
    headers: &HeaderMap,
    token: &str,
) -> reqwest::RequestBuilder {
    let mut upstream = state.http().request(method, url).bearer_auth(token);
    for name in FORWARDED_REQUEST_HEADERS {
        for value in headers.get_all(*name) {
            upstream = upstream.header(*name, value.as_bytes());
        }
    }
    upstream
}

/// Whether the transfer's token is still in its data address (kept before tokens were stored apart), where no
/// renewal reaches it.
fn inline_token(t: &TransferRecord) -> bool {
    t.data_address
        .as_ref()
        .and_then(|v| DataAddress::from_json(v).ok())
        .is_some_and(|a| a.property("authorization").is_some())
}

/// The address of the transfer on this endpoint, as the application reached it (its `Host`, which the guard
/// checked against `local_hosts`, and the transfer id as it wrote it), for links it can follow.
fn local_address(state: &DataPlaneState, parts: &axum::http::request::Parts) -> Option<String> {
    // HTTP/1.1 names the host in `Host`; HTTP/2 in the request target's authority.
    let authority = parts.uri.authority().map(|a| a.as_str().to_string());
    let host = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(authority)?;
    let pid = parts
        .uri
        .path()
        .strip_prefix("/transfers/")?
        .split('/')
        .next()
        .filter(|p| !p.is_empty())?;
    Some(format!("{}://{host}/transfers/{pid}", state.tls().scheme()))
}

/// Where the relayed body goes, how it is rewritten on the way, and the request body's watch (for its digest).
struct Relayed {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    rewriter: Option<super::links::Rewriter>,
    upload: Option<crate::dataplane::upload::Watch>,
}

/// Pumps the provider's body to the application, digesting exactly the bytes the provider sent (those its receipt
/// names; links in them may reach the application pointed at this endpoint), then checks the receipt and records
/// the access.
async fn relay(
    state: DataPlaneState,
    mut access: Access,
    batch_url: Option<String>,
    mut response: reqwest::Response,
    relayed: Relayed,
) {
    let Relayed {
        tx,
        mut rewriter,
        upload,
    } = relayed;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let complete = loop {
        let Ok(next) = tokio::time::timeout(RESPONSE_TIMEOUT, response.chunk()).await else {
            tracing::warn!(transfer = %access.transfer.id, "the provider's body stalled; cut off");
            let _ = tx
                .send(Err(std::io::Error::other("the provider stopped sending")))
                .await;
            break false;
        };
        match next {
            Ok(Some(chunk)) => {
                let len = chunk.len() as u64;
                hasher.update(&chunk);
                let out = match rewriter.as_mut() {
                    Some(r) => r.push(&chunk),
                    None => chunk,
                };
                if !out.is_empty() && tx.send(Ok(out)).await.is_err() {
                    tracing::info!(transfer = %access.transfer.id, "the application went away mid-response");
                    break false;
                }
                bytes += len;
            }
            Ok(None) => {
                let rest = rewriter.as_mut().map(super::links::Rewriter::finish);
                if let Some(rest) = rest.filter(|r| !r.is_empty()) {
                    if tx.send(Ok(rest)).await.is_err() {
                        break false;
                    }
                }
                break true;
            }
            Err(e) => {
                tracing::warn!(transfer = %access.transfer.id, error = %e, "the provider's body broke off");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                break false;
            }
        }
    };
    drop(tx);
    // Closing the provider connection tells it we stopped reading, before the receipt fetch begins.
    drop(response);
    access.bytes = bytes;
    access.sha256 = hex::encode(hasher.finalize());
    access.complete = complete;
    access.request_body = upload
        .as_ref()
        .and_then(crate::dataplane::upload::Watch::sent);
    let check = match (complete, batch_url) {
        (false, _) => None,
        (true, Some(url)) if access.request_id.is_some() => {
            let queue = state.data_plane().receipt_queue();
            return queue.check_and_record(&state, access, url).await;
        }
        (true, _) => Some(super::receipts::fetch_and_check(&state, &access).await),
    };
    record::record_access(&state, &access, check).await;
}

fn header_text(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn gateway_problem(status: StatusCode, detail: &str) -> Response {
    let (kind, title) = if status == StatusCode::GATEWAY_TIMEOUT {
        ("provider-timeout", "Provider timed out")
    } else {
        ("provider-unreachable", "Provider unreachable")
    };
    let body = serde_json::json!({
        "type": format!("https://w3id.org/twinport/problems/{kind}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::raw_below;

    #[test]
    fn the_path_below_the_transfer_is_kept_as_sent() {
        assert_eq!(raw_below("/transfers/urn:uuid:1"), "");
        assert_eq!(raw_below("/transfers/urn:uuid:1/"), "/");
        assert_eq!(
            raw_below("/transfers/urn%3Auuid%3A1/ngsi-ld/v1/entities/urn%3Ax"),
            "/ngsi-ld/v1/entities/urn%3Ax"
        );
    }
}
