//! `twinport contracts verify FILE`: checks an exported agreement (as `GET /api/v1/agreements/{id}` returns it)
//! offline: both parties' detached signatures over its RFC 8785 form, against the keys in the export or in key
//! files the auditor trusts more.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::Value;
use twinport_contracts::identity::Jwks;
use twinport_contracts::negotiation::verify_agreement_signature;

use crate::management::AgreementExport;

/// Verifies the export at `file`; an `Err` (non-zero exit) names what failed.
pub fn verify(
    file: &Path,
    provider_jwks: Option<PathBuf>,
    consumer_jwks: Option<PathBuf>,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let export: AgreementExport = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an agreement export", file.display()))?;
    let agreement = &export.agreement;
    let id = agreement
        .get("@id")
        .and_then(Value::as_str)
        .unwrap_or("(no @id)");
    println!("agreement {id}");
    println!(
        "  target   {}",
        agreement
            .get("target")
            .and_then(Value::as_str)
            .unwrap_or("?")
    );
    println!("  provider {} (assigner)", export.provider);
    println!("  consumer {} (assignee)", export.consumer);
    let mut failures = Vec::new();
    if agreement.get("assigner").and_then(Value::as_str) != Some(export.provider.as_str()) {
        failures.push("the agreement's assigner is not the provider".to_string());
    }
    if agreement.get("assignee").and_then(Value::as_str) != Some(export.consumer.as_str()) {
        failures.push("the agreement's assignee is not the consumer".to_string());
    }
    for (party, signature, embedded, file) in [
        (
            "provider",
            &export.provider_signature,
            &export.provider_jwks,
            provider_jwks,
        ),
        (
            "consumer",
            &export.consumer_signature,
            &export.consumer_jwks,
            consumer_jwks,
        ),
    ] {
        let keys = match (file, embedded) {
            (Some(path), _) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Some(
                    Jwks::from_json_str(&text)
                        .with_context(|| format!("{} is not a JWKS", path.display()))?,
                )
            }
            (None, Some(v)) => serde_json::from_value(v.clone()).ok(),
            (None, None) => None,
        };
        match (signature, keys) {
            (None, _) => failures.push(format!("no {party} signature")),
            (Some(_), None) => failures.push(format!(
                "no {party} keys to check the signature with (give --{party}-jwks)"
            )),
            (Some(sig), Some(keys)) => match verify_agreement_signature(sig, agreement, &keys) {
                Ok(v) => println!("  {party} signature OK ({} key {})", v.alg, v.kid),
                Err(e) => failures.push(format!("{party} signature does not verify: {e}")),
            },
        }
    }
    if failures.is_empty() {
        println!("VALID: signed by both parties over the same canonical agreement");
        Ok(())
    } else {
        for f in &failures {
            println!("  FAIL {f}");
        }
        bail!("agreement {id} does not verify: {}", failures.join("; "))
    }
}
