//! A partner's model run through the data plane: an OGC API - Processes server (the distribution's `backend`, its
//! landing page) behind a pull transfer of a model-or-service resource whose distribution lists the processes
//! partners may use (`ogc_api_processes`). Per request, after the token and the transfer's state:
//!
//! 1. the call is judged ([`call`]): path, method, query, `Prefer` and `Accept`; a hidden process is
//!    `no-such-process`, the job list and every other path are refused, never forwarded;
//! 2. a job is reached only by the agreement that started it (`model_jobs`): any other job id is `no-such-job`;
//! 3. an execution's body is read whole (bounded), parsed as JSON, refused if it asks the model server to call a
//!    URL back, and passed on in its RFC 8785 form; the digests of what the partner sent and of that form are
//!    recorded with the access and covered by the receipt;
//! 4. the agreement decides in the access scope: an execution is the ODRL action `execute` and the one call
//!    counted against a count limit; describing, status, results and dismissal are judged as their method says
//!    (`read`, `delete`), with the count the last execution reached, and take nothing;
//! 5. the model server gets only what was judged, and its answer is made to point at the data address
//!    ([`links`]): `Location` and links rewritten (or dropped), other processes left out of the list, JSON
//!    documents served in their RFC 8785 form (so the digest in the receipt is that of the canonical bytes), a
//!    new job recorded before its id reaches the partner. Only known response headers pass.

pub mod call;
pub mod links;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::Value;
use twinport_contracts::canonical::{canonicalize, sha256_hex};
use twinport_contracts::receipt::RequestBody;

use super::access::{self, Access, Requested};
use super::backend::{decoded_segments, Backend, BackendResponse, BodyStream, Prepared};
use super::problem::Refusal;
use super::record::AccessLine;
use super::{DataPlaneState, DATA_PATH};
use crate::storage::ModelJob;
use call::Call;
use links::Links;

/// Largest execution request read: inputs given inline (a feature collection, a grid) can be large, but the body
/// is parsed whole before it is passed on.
pub const INPUTS_LIMIT: usize = 16 * 1024 * 1024;

/// Largest JSON document of the model server read to rewrite its links (larger: 502).
pub const DOCUMENT_LIMIT: usize = super::backend::FILTER_LIMIT;

/// Set on a JSON body whose links name the transfer's data address (value [`LINKS_DATA_ADDRESS`]), so the
/// consumer's local endpoint points them at itself for the city's applications to follow.
pub const LINKS_HEADER: &str = "twinport-links";
pub const LINKS_DATA_ADDRESS: &str = "data-address";

/// The model server's response headers a partner gets (`Location` is rewritten separately); any other could
/// name the server (`Link`, `Content-Location`, `Server`) or is not ours to pass (`Set-Cookie`).
const RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "content-language",
    "content-disposition",
    "preference-applied",
    "retry-after",
    "cache-control",
    "expires",
    "last-modified",
    "etag",
];

/// An execution's body as received and as passed on.
struct Inputs {
    /// The RFC 8785 form, what the model server receives.
    canonical: Vec<u8>,
    receipt: RequestBody,
}

/// Judges and forwards one partner request to the model server, returning the answer to stream back (the
/// caller digests, records and receipts it as for every backend).
pub async fn serve(
    state: &DataPlaneState,
    access: &Access,
    parts: &axum::http::request::Parts,
    pid: &str,
    sub: &str,
    body: Body,
    line: &mut AccessLine,
) -> Result<BackendResponse, Refusal> {
    let Backend::Processes {
        base,
        settings,
        credentials,
    } = access.backend()?
    else {
        return Err(Refusal::internal(
            "a model call reached a backend of another kind",
        ));
    };
    let segments = decoded_segments(sub)?;
    let (route, query) = call::route(settings, &segments, parts.uri.query())?;
    let call = call::call(&parts.method, route)?;
    line.process = call.process().map(str::to_string);
    line.job = call.job().map(str::to_string);
    let prefer = call::prefer(&parts.headers)?;
    let accept = call::accept(&call, &parts.headers)?;
    let landing = links::landing(base);
    let server = landing.as_str().to_string();
    let agreement = &access.agreed.agreement.id;
    if let Some(job) = call.job() {
        let owned = state
            .store()
            .model_job(&server, job)
            .await
            .map_err(Refusal::internal)?;
        match owned {
            Some(j) if j.agreement_id == *agreement => line.process = Some(j.process_id),
            _ => return Err(call::no_such_job(job)),
        }
    }
    let timeout = state.data_plane().timeout();
    // Read and judged before the decision, so a malformed execution never takes a use.
    let inputs = match &call {
        Call::Execute(_) => Some(read_inputs(&parts.headers, body, timeout).await?),
        _ => None,
    };
    line.request_body = inputs.as_ref().map(|i| i.receipt.clone());
    let method = call.method();
    let requested = if call.is_execution() {
        Requested::Pull(&method)
    } else {
        Requested::Uncounted(&method)
    };
    access::decide(state, access, requested).await?;

    let mut url = landing.clone();
    url.path_segments_mut()
        .map_err(|_| Refusal::internal(format!("backend {landing} cannot take a path")))?
        .pop_if_empty()
        .extend(call.segments());
    url.set_query(query.text().as_deref());
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, header_value(&accept)?);
    if let Some(p) = &prefer {
        headers.insert(HeaderName::from_static("prefer"), header_value(p)?);
    }
    if let Some(c) = credentials {
        headers.insert(header::AUTHORIZATION, c.clone());
    }
    let body: Option<BodyStream> = inputs.map(|i| {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // Known, so sent with its length rather than chunked (not every model server reads a chunked body).
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(i.canonical.len()));
        let bytes = Bytes::from(i.canonical);
        Box::pin(futures_util::stream::once(async move {
            Ok::<_, std::io::Error>(bytes)
        })) as BodyStream
    });
    let plane = state.data_plane();
    let response = Prepared::judged_http(method, url, headers, body)
        .send(plane.backends(), timeout)
        .await?;

    let public = format!("{}{DATA_PATH}/{pid}", state.public_url());
    let links = Links::new(&landing, settings, &public);
    let mut out = HeaderMap::new();
    for name in RESPONSE_HEADERS {
        for v in response.headers.get_all(*name) {
            out.append(HeaderName::from_static(name), v.clone());
        }
    }
    let mut jobs: Vec<String> = Vec::new();
    if let Some(location) = response
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        // A Location that names nothing served (or another server) is not passed on.
        if let Some(mapped) = links.map(location) {
            out.insert(header::LOCATION, header_value(&mapped)?);
        }
        if call.is_execution() {
            jobs.extend(links.job(location));
        }
    }
    let content_type = response
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let status = response.status;
    let labelled_json = call::is_json(&content_type);
    let labelled_html = call::is_html(&content_type);
    // Documents of the standard are JSON; a run's raw output is whatever the model makes. A document is read by
    // what it holds, not by its label: pygeoapi 0.21 labels the status it answers a dismissal with `text/html`.
    let body: BodyStream = if labelled_json || labelled_html || !call.may_answer_raw() {
        let raw = read_capped(response.body, DOCUMENT_LIMIT, timeout).await?;
        if raw.is_empty() {
            // Nothing to rewrite (a 204).
            Box::pin(futures_util::stream::empty())
        } else {
            let mut doc: Value = serde_json::from_slice(&raw).map_err(|_| {
                Refusal::bad_gateway(if labelled_html {
                    "the model server answered with an HTML page, whose links to it cannot be rewritten"
                        .to_string()
                } else if labelled_json {
                    "the model server's answer is not the JSON it said it was".to_string()
                } else {
                    format!(
                        "the model server answered {content_type:?} where the standard answers JSON"
                    )
                })
            })?;
            if !labelled_json {
                out.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            if call.is_execution() && status.is_success() {
                // A server that answers an asynchronous execution with its status document names the job there.
                if let Some(id) = doc.get("jobID").and_then(Value::as_str) {
                    if call::route(settings, &["jobs".into(), id.into()], None).is_ok() {
                        jobs.push(id.to_string());
                    }
                }
            }
            // A run's outputs: the results, or a successful execution's answer other than a new job's status
            // (`201`). An error is the standard's exception document either way.
            let outputs = status.is_success()
                && match call {
                    Call::Results(_) => true,
                    Call::Execute(_) => status != StatusCode::CREATED,
                    _ => false,
                };
            links.document(&call, outputs, &mut doc);
            let bytes = canonicalize(&doc).map_err(|e| {
                Refusal::bad_gateway(format!(
                    "the model server's answer has no canonical form: {e}"
                ))
            })?;
            out.insert(
                HeaderName::from_static(LINKS_HEADER),
                HeaderValue::from_static(LINKS_DATA_ADDRESS),
            );
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Box::pin(futures_util::stream::once(async move {
                Ok::<_, std::io::Error>(Bytes::from(bytes))
            }))
        }
    } else {
        // A run's raw output, in the media type the model chose: streamed as it comes.
        for v in response.headers.get_all(header::CONTENT_LENGTH) {
            out.append(header::CONTENT_LENGTH, v.clone());
        }
        response.body
    };
    if call.is_execution() && status.is_success() {
        register(state, access, &server, &call, &jobs, line).await?;
    }
    Ok(BackendResponse {
        status,
        headers: out,
        body,
    })
}

/// Records the jobs an execution started for this agreement, before their ids reach the partner. A job id the
/// model server hands out again (for another agreement's job) is not passed on: the first record stands.
async fn register(
    state: &DataPlaneState,
    access: &Access,
    server: &str,
    call: &Call,
    jobs: &[String],
    line: &mut AccessLine,
) -> Result<(), Refusal> {
    let agreement = &access.agreed.agreement.id;
    for id in jobs {
        let job = ModelJob {
            backend: server.to_string(),
            job_id: id.clone(),
            process_id: call.process().unwrap_or_default().to_string(),
            transfer_id: access.transfer.id.clone(),
            agreement_id: agreement.clone(),
            partner: access.transfer.partner.clone(),
            created_at: String::new(),
        };
        let fresh = state
            .store()
            .record_model_job(&job)
            .await
            .map_err(Refusal::internal)?;
        if !fresh {
            let owner = state
                .store()
                .model_job(server, id)
                .await
                .map_err(Refusal::internal)?;
            if owner.is_none_or(|o| o.agreement_id != *agreement) {
                tracing::error!(job = %id, server = %server, "ALARM: the model server handed out a job id another agreement holds; not passed on");
                return Err(Refusal::bad_gateway(
                    "the model server named a job that is not this agreement's",
                ));
            }
        }
        line.job.get_or_insert_with(|| id.clone());
    }
    Ok(())
}

fn header_value(text: &str) -> Result<HeaderValue, Refusal> {
    HeaderValue::from_str(text)
        .map_err(|_| Refusal::internal(format!("{text:?} is not a header value")))
}

/// Reads an execution's body: JSON, at most [`INPUTS_LIMIT`], without a callback for the model server to make.
async fn read_inputs(
    headers: &HeaderMap,
    body: Body,
    timeout: Duration,
) -> Result<Inputs, Refusal> {
    let unsupported = |detail: String| {
        Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            detail,
        )
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !call::is_json(content_type) {
        return Err(unsupported(format!(
            "an execution is a JSON document (Content-Type: application/json), not {content_type:?}"
        )));
    }
    if let Some(coding) = headers.get(header::CONTENT_ENCODING) {
        if !coding.as_bytes().eq_ignore_ascii_case(b"identity") {
            return Err(unsupported(
                "send the execution uncompressed: it is read and judged before it is passed on"
                    .into(),
            ));
        }
    }
    let stream: BodyStream = Box::pin(
        body.into_data_stream()
            .map(|c| c.map_err(std::io::Error::other)),
    );
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!(
                "an execution request may hold at most {} MiB",
                INPUTS_LIMIT / (1024 * 1024)
            ),
        )
    };
    if super::tee::declared_length(headers).is_some_and(|n| n > INPUTS_LIMIT as u64) {
        return Err(too_large());
    }
    let raw = match read_stream(stream, INPUTS_LIMIT, timeout).await {
        Ok(raw) => raw,
        Err(Read::TooLarge) => return Err(too_large()),
        Err(Read::Broken) => {
            return Err(Refusal::bad_request("the request body could not be read"))
        }
        Err(Read::Slow) => {
            return Err(Refusal::new(
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "the request body did not arrive in time",
            ))
        }
    };
    let value: Value = serde_json::from_slice(&raw)
        .map_err(|e| Refusal::bad_request(format!("the execution request is not JSON: {e}")))?;
    let Some(fields) = value.as_object() else {
        return Err(Refusal::bad_request(
            "an execution request is a JSON object (inputs, outputs, response)",
        ));
    };
    if fields.contains_key("subscriber") {
        return Err(Refusal::forbidden(
            "callbacks (subscriber) are not passed on: the model server would call an address of the \
             partner's choosing from inside the city's network; poll the job instead",
        ));
    }
    // RFC 8785 writes numbers as IEEE 754 doubles: an integer beyond 2^53 would reach the model changed.
    if !exact_as_double(&value) {
        return Err(Refusal::bad_request(
            "the execution request holds an integer beyond 2^53, which its RFC 8785 form cannot carry \
             exactly; send it as a string",
        ));
    }
    let canonical = canonicalize(&value).map_err(|e| {
        Refusal::bad_request(format!("the execution request has no RFC 8785 form: {e}"))
    })?;
    Ok(Inputs {
        receipt: RequestBody {
            bytes: raw.len() as u64,
            sha256: sha256_hex(&raw),
            canonical_sha256: Some(sha256_hex(&canonical)),
        },
        canonical,
    })
}

/// Whether every number in `v` is exactly what its RFC 8785 form (an IEEE 754 double) says.
fn exact_as_double(v: &Value) -> bool {
    const MAX_SAFE: u64 = (1 << 53) - 1;
    match v {
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u <= MAX_SAFE,
            (None, Some(i)) => i.unsigned_abs() <= MAX_SAFE,
            // Parsed as a double already: written back as the same double.
            (None, None) => true,
        },
        Value::Array(items) => items.iter().all(exact_as_double),
        Value::Object(m) => m.values().all(exact_as_double),
        _ => true,
    }
}

enum Read {
    TooLarge,
    Broken,
    Slow,
}

async fn read_stream(
    mut stream: BodyStream,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, Read> {
    let mut out = Vec::new();
    let read = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| Read::Broken)?;
            if out.len() + chunk.len() > limit {
                return Err(Read::TooLarge);
            }
            out.extend_from_slice(&chunk);
        }
        Ok(())
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| Read::Slow)??;
    Ok(out)
}

/// Reads a model server's answer whole (to rewrite it), refusing one larger than `limit`.
async fn read_capped(
    body: BodyStream,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, Refusal> {
    read_stream(body, limit, timeout).await.map_err(|e| match e {
        Read::TooLarge => Refusal::bad_gateway(format!(
            "the model server's document is larger than the {} MiB the data plane reads to rewrite its links",
            limit / (1024 * 1024)
        )),
        Read::Broken => Refusal::bad_gateway("the model server's answer broke off"),
        Read::Slow => Refusal::timeout("the model server's answer did not end in time"),
    })
}
