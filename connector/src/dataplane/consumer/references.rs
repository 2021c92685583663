//! Inputs a city application passes to a partner's model by reference to data this connector holds under another
//! agreement: `{"href": "<this endpoint>/transfers/{id}[/path]"}` in an execution's `inputs`. The data is passed
//! on only if that other agreement permits it: its policy is asked whether the data may be distributed to the
//! model's provider (ODRL `distribute`, with the model's provider as `recipient`). A refusal is a 403 that names the
//! input, the agreement and the policy's reasons; either way the decision is recorded in our audit log. When
//! permitted, the data is read through this endpoint like any application read (recorded, with the provider's
//! receipt checked) and handed to the model inline, as an OGC API - Processes qualified value: the model's provider
//! never receives our token for the other agreement, nor a URL it could not reach.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};
use twinport_policy::engine::Scope;
use twinport_policy::request::Flow;

use super::proxy::usable_transfer;
use crate::audit::{digest, AuditEvent, EventKind};
use crate::contracting::decision::{agreed_policy, facts, parse, FactsInput};
use crate::dataplane::DataPlaneState;
use crate::error::ApiError;
use crate::storage::TransferRecord;

/// The most data inlined into one execution, all references together.
pub const MAX_INLINED: usize = 16 * 1024 * 1024;

/// Whether `path` (below a transfer) is an OGC API - Processes execution, read as the provider reads it: segments
/// percent-decoded, empty ones dropped (`/processes/x//%65xecution` is one too).
pub fn is_execution(path: &str) -> bool {
    let parts: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    matches!(parts.as_slice(), [p, _, e] if p == "processes" && e == "execution")
}

/// What an input's `href` is to us: one of our transfers (its id, and the path and query below it), another
/// address of this local endpoint (refused: the model's provider must never be sent where only we can reach), or
/// elsewhere (passed on as the application wrote it).
#[derive(Debug, PartialEq)]
enum Href {
    Transfer { pid: String, below: String },
    LocalOther,
    Elsewhere,
}

/// Ours when it names this endpoint's port on its host or on a loopback name, however spelt.
fn classify(href: &str, local: &url::Url) -> Href {
    let Ok(u) = url::Url::parse(href) else {
        return Href::Elsewhere;
    };
    let same_port = u.port_or_known_default() == local.port_or_known_default();
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let loopback = matches!(host.as_str(), "localhost" | "[::1]") || host.starts_with("127.");
    let local_host = local.host_str().map(str::to_ascii_lowercase);
    if !same_port || !(loopback || Some(&host) == local_host.as_ref()) {
        return Href::Elsewhere;
    }
    let mut segments = u.path().trim_start_matches('/').splitn(3, '/');
    let (Some("transfers"), Some(pid)) = (segments.next(), segments.next()) else {
        return Href::LocalOther;
    };
    let Ok(pid) = percent_encoding::percent_decode_str(pid).decode_utf8() else {
        return Href::LocalOther;
    };
    if pid.is_empty() {
        return Href::LocalOther;
    }
    let mut below = segments
        .next()
        .map(|rest| format!("/{rest}"))
        .unwrap_or_default();
    if let Some(q) = u.query() {
        below.push('?');
        below.push_str(q);
    }
    Href::Transfer {
        pid: pid.into_owned(),
        below,
    }
}

/// The execution body with every input that refers to one of our transfers replaced by that transfer's data, or
/// the refusal. `local` is this endpoint's base as the application reached it (`http://host:port`); `model` the
/// transfer of the model being executed. A body that is not JSON is passed on untouched (the provider refuses it).
pub async fn inline(
    state: &DataPlaneState,
    local: Option<&str>,
    model: &TransferRecord,
    body: Bytes,
) -> Result<Bytes, ApiError> {
    let Ok(mut doc) = serde_json::from_slice::<Value>(&body) else {
        return Ok(body);
    };
    // Without the application's own address (no `Host`), loopback names on our port still count as ours.
    let Some(local) = local
        .and_then(|l| url::Url::parse(l).ok())
        .or_else(|| url::Url::parse("http://127.0.0.1/").ok())
    else {
        return Ok(body);
    };
    let mut references = Vec::new();
    if let Some(inputs) = doc.get("inputs").and_then(Value::as_object) {
        for (name, value) in inputs {
            let values = match value {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (Some(i), v))
                    .collect(),
                v => vec![(None, v)],
            };
            for (i, v) in values {
                let Some(href) = v.get("href").and_then(Value::as_str) else {
                    continue;
                };
                match classify(href, &local) {
                    Href::Transfer { pid, below } => references.push((name.clone(), i, pid, below)),
                    Href::LocalOther => {
                        return Err(ApiError::Malformed(format!(
                            "input {name}: its href names this connector's local endpoint but no transfer \
                             (/transfers/{{id}}), which the model's provider could not reach"
                        )))
                    }
                    Href::Elsewhere => {}
                }
            }
        }
    }
    if references.is_empty() {
        return Ok(body);
    }
    let mut size = body.len();
    for (name, index, pid, below) in references {
        if pid == model.id {
            return Err(ApiError::Malformed(format!(
                "input {name} refers to the model's own transfer, not to data"
            )));
        }
        permitted(state, &name, &pid, model).await?;
        let (value, bytes) =
            read(state, &name, &pid, &below, MAX_INLINED.saturating_sub(size)).await?;
        size += bytes;
        let slot = match index {
            Some(i) => doc.pointer_mut(&format!("/inputs/{}/{i}", escape(&name))),
            None => doc.pointer_mut(&format!("/inputs/{}", escape(&name))),
        };
        if let Some(slot) = slot {
            *slot = value;
        }
    }
    let out =
        serde_json::to_vec(&doc).map_err(|e| ApiError::Internal(format!("execution body: {e}")))?;
    // The provider takes at most this much; escaped text grows, so the limit is checked on what would be sent.
    if out.len() > MAX_INLINED {
        return Err(ApiError::TooLarge(format!(
            "the execution with its inputs inlined is {} bytes; at most {} MiB may be sent",
            out.len(),
            MAX_INLINED / (1024 * 1024)
        )));
    }
    Ok(Bytes::from(out))
}

/// Asks the agreement of transfer `pid` whether its data may go to the model's provider; records the answer.
async fn permitted(
    state: &DataPlaneState,
    input: &str,
    pid: &str,
    model: &TransferRecord,
) -> Result<(), ApiError> {
    let usable = usable_transfer(state, pid).await?;
    let t = usable.transfer;
    let agreement = state
        .store()
        .agreement(&t.agreement_id)
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(format!("input {input}: transfer {pid} has no agreement"))
        })?;
    let policy = parse(&agreed_policy(state.store(), &agreement).await?);
    let recipient = model.partner.clone();
    // We are the party bound by the other agreement; the model's provider is whom the data would go to.
    let known = facts(FactsInput {
        partner_id: state.participant_id(),
        partner: None,
        resource: Some(twinport_policy::context::ResourceContext {
            id: Some(agreement.target.clone()),
            ..Default::default()
        }),
        purpose: None,
        agreement: Some((&agreement.id, &agreement.created_at)),
        accesses: None,
        flow: Some(Flow::Push),
        method: None,
        duties: Default::default(),
    });
    let (context, report) = match &policy {
        Ok(p) => {
            let mut context = twinport_policy::request::build(Scope::Access, &known, p);
            context.recipient = Some(recipient.clone());
            let report = state.policy().engine().evaluate(p, &context, Scope::Access);
            (context, report)
        }
        Err(e) => {
            let report = twinport_policy::report::ComplianceReport::denied(
                None,
                Scope::Access,
                "unreadable-policy",
                format!("the agreement's policy cannot be read: {e}"),
            );
            (Default::default(), report)
        }
    };
    let allowed = report.is_permit();
    let reasons = report.reasons();
    let mut recorded = serde_json::to_value(&report).unwrap_or_default();
    if let Some(o) = recorded.as_object_mut() {
        o.insert(
            "context".into(),
            serde_json::to_value(&context).unwrap_or_default(),
        );
    }
    let mut event = AuditEvent::new(
        EventKind::PolicyDecision,
        json!({
            "scope": "onward",
            "decision": if allowed { "permit" } else { "deny" },
            "input": input,
            "transfer": pid,
            "recipient": recipient,
            "model_transfer": model.id,
            "decidingRules": report.deciding_rules(),
            "report": digest(&recorded),
        }),
    );
    event.partner = Some(t.partner.clone());
    event.agreement = Some(agreement.id.clone());
    event.resource = Some(agreement.target.clone());
    event.transfer = Some(pid.to_string());
    state
        .audit()
        .append(event)
        .await
        .map_err(|e| ApiError::Internal(format!("audit: {e}")))?;
    if allowed {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "input {input}: the agreement {} with {} for {} does not permit passing its data to {recipient}'s model: {}",
        agreement.id,
        t.partner,
        agreement.target,
        reasons.join("; ")
    )))
}

/// Reads `path` of transfer `pid` through this endpoint, as an application would, into a qualified value.
async fn read(
    state: &DataPlaneState,
    input: &str,
    pid: &str,
    path: &str,
    room: usize,
) -> Result<(Value, usize), ApiError> {
    let uri = format!("/transfers/{}{path}", crate::client::encode_segment(pid));
    let request = Request::get(uri)
        .header(axum::http::header::ACCEPT, "application/json, */*;q=0.5")
        .body(Body::empty())
        .map_err(|e| ApiError::Internal(format!("input {input}: {e}")))?;
    // Boxed: reading a transfer is forwarding a request, which is how this execution arrived too.
    let response = Box::pin(super::proxy::forward_request(
        state.clone(),
        pid.to_string(),
        request,
    ))
    .await
    .into_response();
    let status = response.status();
    let media_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let limited = http_body_util::Limited::new(response.into_body(), room);
    let bytes = limited
        .collect()
        .await
        .map_err(|_| {
            ApiError::TooLarge(format!(
                "input {input}: the data of transfer {pid} is larger than the {} MiB an execution may carry inline",
                MAX_INLINED / (1024 * 1024)
            ))
        })?
        .to_bytes();
    if !status.is_success() {
        return Err(ApiError::BadGateway(format!(
            "input {input}: reading transfer {pid} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(300)
                .collect::<String>()
        )));
    }
    let size = bytes.len();
    let value = if crate::dataplane::processes::call::is_json(&media_type) {
        serde_json::from_slice::<Value>(&bytes).map_err(|e| {
            ApiError::BadGateway(format!(
                "input {input}: transfer {pid} sent JSON that does not parse: {e}"
            ))
        })?
    } else {
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
            ApiError::UnsupportedMediaType(format!(
                "input {input}: transfer {pid} holds binary data ({media_type}), which cannot be passed inline"
            ))
        })?;
        Value::String(text)
    };
    let mut qualified = Map::new();
    qualified.insert("value".into(), value);
    qualified.insert("mediaType".into(), json!(media_type));
    Ok((Value::Object(qualified), size))
}

/// A JSON pointer token.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::{classify, is_execution, Href};

    #[test]
    fn hrefs_are_ours_by_host_and_port_whatever_their_spelling() {
        let local = url::Url::parse("http://127.0.0.1:8082").unwrap();
        let t = |pid: &str, below: &str| Href::Transfer {
            pid: pid.into(),
            below: below.into(),
        };
        assert_eq!(
            classify("http://127.0.0.1:8082/transfers/urn%3Auuid%3A1", &local),
            t("urn:uuid:1", "")
        );
        assert_eq!(
            classify("http://LOCALHOST:8082/transfers/x/a/b?c=1", &local),
            t("x", "/a/b?c=1")
        );
        assert_eq!(
            classify("http://localhost:8082/other", &local),
            Href::LocalOther
        );
        assert_eq!(
            classify("http://127.0.0.1:8082/transfers/", &local),
            Href::LocalOther
        );
        assert_eq!(
            classify("http://127.0.0.1:9999/transfers/x", &local),
            Href::Elsewhere
        );
        assert_eq!(
            classify("https://data.example/rain.json", &local),
            Href::Elsewhere
        );
        assert_eq!(classify("not a url", &local), Href::Elsewhere);
    }

    #[test]
    fn only_an_execution_path_takes_references() {
        assert!(is_execution("/processes/x//%65xecution"));
        assert!(is_execution("/processes/flood/execution"));
        assert!(is_execution("processes/flood/execution/"));
        assert!(!is_execution("/processes/execution"));
        assert!(!is_execution("/processes/flood"));
        assert!(!is_execution("/jobs/1/results"));
    }
}
