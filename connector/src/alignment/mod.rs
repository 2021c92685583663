//! Alignment checks on catalogue resources (MIM8 C3): a model's inputs against the datasets chosen for them, ours
//! or partners', and an output against the visualisation asset that will show it. Each check is answered with a
//! verdict and a reason per dimension ([`crate::align`] does the comparing), recorded in the audit log with the
//! digests of the descriptions it compared, and kept so a negotiation for a model or its inputs can require a
//! passing one first ([`gate`]).

mod gate;
mod report;
mod request;
mod resolve;

use serde_json::json;
use time::OffsetDateTime;

use crate::align::{self, Dimension, Verdict};
use crate::audit::{AuditEvent, EventKind};
use crate::catalogue::descriptor::{need, Described};
use crate::catalogue::{FieldError, ResourceKind};
use crate::contracting::Contracting;
use crate::error::ApiError;
use crate::storage::{AlignmentSubject, StoredAlignment};

pub use gate::before_negotiation;
pub use report::{AlignmentReport, Checked, Pairing};
pub use request::{Asked, CheckRequest, ResourceRef};
pub use resolve::published_description;

use resolve::{resolve, Resolved};

/// Runs the check `request` asks for, records it, and answers the report.
pub async fn check(c: &Contracting, request: &CheckRequest) -> Result<AlignmentReport, ApiError> {
    let asked = request.asked().map_err(|errors| ApiError::Validation {
        what: "alignment request".into(),
        errors,
    })?;
    let mut report = match asked {
        Asked::Run { model, inputs } => {
            let model = resolve(c, model).await?;
            let descriptor = match &model.described {
                Some(Described {
                    model: Some(m), ..
                }) => m.clone(),
                _ => {
                    return Err(unprocessable(
                        "model",
                        format!(
                            "{} has no model descriptor, so there is nothing to check its inputs against",
                            model.reference.label()
                        ),
                    ))
                }
            };
            let mut pairings = Vec::new();
            for (name, dataset) in inputs {
                let port = descriptor.inputs.get(name).ok_or_else(|| {
                    let known: Vec<&str> = descriptor.inputs.keys().map(String::as_str).collect();
                    unprocessable(
                        format!("inputs.{name}"),
                        format!(
                            "the model has no input named {name}; its inputs are {}",
                            known.join(", ")
                        ),
                    )
                })?;
                let dataset = resolve(c, dataset).await?;
                let have = data_side(&dataset, &format!("inputs.{name}"))?;
                pairings.push(pairing(
                    Some(name.clone()),
                    &dataset,
                    align::check(&need(port), &have),
                ));
            }
            let unchecked_inputs = descriptor
                .inputs
                .iter()
                .filter(|(name, port)| port.min_occurs != Some(0) && !inputs.contains_key(*name))
                .map(|(name, _)| name.clone())
                .collect();
            AlignmentReport {
                id: String::new(),
                checked_at: String::new(),
                verdict: Verdict::worst(pairings.iter().map(|p| p.verdict)),
                model: Some(checked(&model)),
                visualisation: None,
                pairings,
                unchecked_inputs,
                audit_index: 0,
            }
        }
        Asked::Visualisation {
            output,
            visualisation,
        } => {
            let asset = resolve(c, visualisation).await?;
            let asset_need = match (&asset.described, asset.kind()) {
                (Some(d), Some(ResourceKind::VisualisationAsset)) => d.visual_need(),
                _ => {
                    return Err(unprocessable(
                        "visualisation",
                        format!(
                            "{} is not a visualisation asset with a described CRS, extent or time",
                            asset.reference.label()
                        ),
                    ))
                }
            };
            let output = resolve(c, output).await?;
            let have = data_side(&output, "output")?;
            let findings = align::check(&asset_need, &have)
                .into_iter()
                .filter(|f| matches!(f.dimension, Dimension::Space | Dimension::Time))
                .collect();
            let pairings = vec![pairing(None, &output, findings)];
            AlignmentReport {
                id: String::new(),
                checked_at: String::new(),
                verdict: Verdict::worst(pairings.iter().map(|p| p.verdict)),
                model: None,
                visualisation: Some(checked(&asset)),
                pairings,
                unchecked_inputs: Vec::new(),
                audit_index: 0,
            }
        }
    };
    record(c, &mut report).await?;
    Ok(report)
}

/// A stored report by id.
pub async fn recorded(c: &Contracting, id: &str) -> Result<AlignmentReport, ApiError> {
    let stored = c
        .store()
        .alignment(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("alignment check {id}")))?;
    serde_json::from_str(&stored.report)
        .map_err(|e| ApiError::Internal(format!("stored alignment check {id}: {e}")))
}

/// The dataset side of a pairing: anything but a model.
fn data_side(r: &Resolved, field: &str) -> Result<align::Have, ApiError> {
    match &r.described {
        Some(d) if d.kind == ResourceKind::ModelOrService => Err(unprocessable(
            field,
            format!("{} is a model, not data", r.reference.label()),
        )),
        Some(d) => Ok(d.have()),
        None => Ok(align::Have::default()),
    }
}

fn pairing(input: Option<String>, dataset: &Resolved, findings: Vec<align::Finding>) -> Pairing {
    Pairing {
        input,
        dataset: checked(dataset),
        verdict: Verdict::worst(findings.iter().map(|f| f.verdict)),
        findings,
    }
}

fn checked(r: &Resolved) -> Checked {
    Checked {
        resource: r.reference.clone(),
        title: r.title.clone(),
        digest: r
            .described
            .as_ref()
            .map(Described::digest)
            .unwrap_or_default(),
    }
}

fn unprocessable(field: impl Into<String>, problem: impl Into<String>) -> ApiError {
    ApiError::Validation {
        what: "alignment request".into(),
        errors: vec![FieldError {
            field: field.into(),
            problem: problem.into(),
        }],
    }
}

/// Writes the audit entry (verdicts and digests, not the reasons: the store keeps the full report), then the
/// queryable copy with the resources it covered.
async fn record(c: &Contracting, report: &mut AlignmentReport) -> Result<(), ApiError> {
    let now = OffsetDateTime::now_utc();
    report.id = uuid::Uuid::new_v4().to_string();
    report.checked_at = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let side = |c: &Checked| json!({"id": c.resource.id, "partner": c.resource.partner, "digest": c.digest});
    let pairings: Vec<_> = report
        .pairings
        .iter()
        .map(|p| {
            let dimensions: serde_json::Map<String, serde_json::Value> = p
                .findings
                .iter()
                .map(|f| (f.dimension.as_str().to_owned(), json!(f.verdict)))
                .collect();
            json!({"input": p.input, "dataset": side(&p.dataset), "verdict": p.verdict, "dimensions": dimensions})
        })
        .collect();
    let mut event = AuditEvent::new(
        EventKind::AlignmentCheck,
        json!({
            "check": report.id,
            "verdict": report.verdict,
            "model": report.model.as_ref().map(side),
            "visualisation": report.visualisation.as_ref().map(side),
            "pairings": pairings,
            "unchecked_inputs": report.unchecked_inputs,
        }),
    );
    let subject = report.model.as_ref().or(report.visualisation.as_ref());
    event.resource = subject.map(|s| s.resource.id.clone());
    event.partner = subject.and_then(|s| s.resource.partner.clone());
    report.audit_index = c.audit().append(event).await?;

    // One row per resource and role, with its worst verdict: a dataset chosen for two inputs passes only if it
    // fits both.
    let mut covered: std::collections::BTreeMap<(String, String, String), (String, Verdict)> =
        Default::default();
    let mut add = |checked: &Checked, role: &str, verdict: Verdict| {
        let key = (
            checked.resource.partner.clone().unwrap_or_default(),
            checked.resource.id.clone(),
            role.to_string(),
        );
        let entry = covered
            .entry(key)
            .or_insert_with(|| (checked.digest.clone(), verdict));
        entry.1 = Verdict::worst([entry.1, verdict]);
    };
    if let Some(m) = &report.model {
        // A model's own verdict counts only for a fully checked run.
        let verdict = if report.unchecked_inputs.is_empty() {
            report.verdict
        } else {
            Verdict::Unknown
        };
        add(m, "model", verdict);
    }
    if let Some(v) = &report.visualisation {
        add(v, "visualisation", report.verdict);
    }
    let role = if report.model.is_some() {
        "input"
    } else {
        "output"
    };
    for p in &report.pairings {
        add(&p.dataset, role, p.verdict);
    }
    let subjects: Vec<AlignmentSubject> = covered
        .into_iter()
        .map(
            |((partner, resource, role), (digest, verdict))| AlignmentSubject {
                partner,
                resource,
                role,
                digest,
                verdict: verdict.as_str().into(),
            },
        )
        .collect();
    let stored = StoredAlignment {
        id: report.id.clone(),
        checked_at: now.unix_timestamp(),
        audit_index: i64::try_from(report.audit_index).unwrap_or(i64::MAX),
        verdict: report.verdict.as_str().into(),
        report: serde_json::to_string(report)
            .map_err(|e| ApiError::Internal(format!("alignment report: {e}")))?,
    };
    c.store().put_alignment(&stored, &subjects).await?;
    Ok(())
}
