//! The provenance graph as W3C PROV-O in JSON-LD: every logged entry becomes a `prov:Activity`, associated with our
//! connector and the partner (or the pseudonymous person) involved, using the resources and agreements it names.
//! People appear only as their salted commitment, so the export carries no personal data either. Published outputs
//! whose resource declares `derived_from` get `prov:wasDerivedFrom` links to those inputs, and `generated_by` a
//! `prov:wasGeneratedBy` link to the model run, itself an activity that used those inputs.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Map, Value};
use twinport_contracts::transparency::note::NoteVerifier;

use super::export::{for_each_entry, signed_state};
use super::AuditError;
use crate::storage::Store;

fn context() -> Value {
    json!({
        "prov": "http://www.w3.org/ns/prov#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "twinport": "https://w3id.org/twinport/audit#"
    })
}

/// Writes the graph of the signed part of the log.
pub async fn write_prov(
    store: &Store,
    origin: &str,
    key: &NoteVerifier,
    connector: &str,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    let state = signed_state(store, origin, key).await?;
    let mut nodes: BTreeMap<String, Value> = BTreeMap::new();
    nodes.insert(
        connector.to_owned(),
        json!({"@id": connector, "@type": "prov:SoftwareAgent", "twinport:auditLog": origin, "twinport:vkey": key.vkey()}),
    );
    let mut activities = Vec::new();
    for_each_entry(store, state.size, |e| {
        let leaf: Value = serde_json::from_str(&e.leaf).unwrap_or(Value::Null);
        let mut a = Map::new();
        a.insert(
            "@id".into(),
            format!("urn:twinport:audit:{origin}:{}", e.index).into(),
        );
        a.insert("@type".into(), "prov:Activity".into());
        a.insert("twinport:kind".into(), e.kind.clone().into());
        a.insert("twinport:leafHash".into(), e.leaf_hash.clone().into());
        a.insert(
            "prov:startedAtTime".into(),
            json!({"@value": e.logged_at, "@type": "xsd:dateTime"}),
        );
        let mut agents = vec![json!({"@id": connector})];
        if let Some(p) = &e.partner {
            nodes
                .entry(p.clone())
                .or_insert_with(|| json!({"@id": p, "@type": "prov:Agent"}));
            agents.push(json!({"@id": p}));
        }
        if let Some(person) = leaf["personal"].as_str() {
            let id = format!("urn:twinport:person:{person}");
            nodes
                .entry(id.clone())
                .or_insert_with(|| json!({"@id": id, "@type": "prov:Person"}));
            agents.push(json!({"@id": id}));
        }
        a.insert("prov:wasAssociatedWith".into(), agents.into());
        let mut used = Vec::new();
        for (iri, kind) in [(&e.resource, "resource"), (&e.agreement, "agreement")] {
            if let Some(iri) = iri {
                nodes.entry(iri.clone()).or_insert_with(
                    || json!({"@id": iri, "@type": "prov:Entity", "twinport:entityKind": kind}),
                );
                used.push(json!({"@id": iri}));
            }
        }
        if !used.is_empty() {
            a.insert("prov:used".into(), used.into());
        }
        for (name, v) in [
            ("twinport:transfer", &e.transfer),
            ("twinport:purpose", &e.purpose),
        ] {
            if let Some(v) = v {
                a.insert(name.into(), v.clone().into());
            }
        }
        activities.push(Value::Object(a));
        Ok(())
    })
    .await?;
    // Derivations the operator declared on published outputs.
    for r in crate::catalogue::resources(store).await? {
        if r.derived_from.is_empty() && r.generated_by.is_none() {
            continue;
        }
        let inputs: Vec<Value> = r.derived_from.iter().map(|i| json!({"@id": i})).collect();
        for input in &r.derived_from {
            nodes.entry(input.clone()).or_insert_with(
                || json!({"@id": input, "@type": "prov:Entity", "twinport:entityKind": "resource"}),
            );
        }
        let node = nodes.entry(r.id.clone()).or_insert_with(
            || json!({"@id": r.id, "@type": "prov:Entity", "twinport:entityKind": "resource"}),
        );
        if let Some(obj) = node.as_object_mut() {
            if !inputs.is_empty() {
                obj.insert("prov:wasDerivedFrom".into(), inputs.clone().into());
            }
            obj.insert("prov:wasAttributedTo".into(), json!({"@id": connector}));
            if let Some(run) = &r.generated_by {
                obj.insert("prov:wasGeneratedBy".into(), json!({"@id": run}));
            }
        }
        // The run that produced it used the same inputs: output ← run ← inputs is the chain an auditor follows.
        if let Some(run) = &r.generated_by {
            let mut activity = json!({"@id": run, "@type": "prov:Activity", "twinport:kind": "model_run",
                                      "prov:wasAssociatedWith": {"@id": connector}});
            if !inputs.is_empty() {
                activity["prov:used"] = inputs.into();
            }
            nodes.insert(run.clone(), activity);
        }
    }
    let graph: Vec<Value> = nodes.into_values().chain(activities).collect();
    let doc = json!({"@context": context(), "@graph": graph});
    serde_json::to_writer_pretty(&mut *out, &doc)
        .map_err(|e| AuditError::Write(format!("export: {e}")))?;
    writeln!(out).map_err(|e| AuditError::Write(format!("export: {e}")))?;
    Ok(state.size)
}
