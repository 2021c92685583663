//! Exports of the signed part of the log, and offline verification of an export.
//!
//! JSON Lines (`twinport-audit-export/v1`), the verifiable format: line 1 is a header with the log's origin and
//! `vkey`; then one `{"checkpoint": note}` line per signed checkpoint, smallest first; then one
//! `{"index", "leaf_hash", "entry"}` line per entry, where `entry` is the leaf whose RFC 8785 form was hashed. An
//! export stops at the latest signed checkpoint: entries appended after it appear in the next export. CSV is the
//! same entries for spreadsheets (not verifiable on its own); PROV-O is in [`super::prov`].

use std::io::{BufRead, Write};

use serde_json::{json, Value};
use twinport_contracts::canonical::canonicalize;
use twinport_contracts::transparency::checkpoint::SignedCheckpoint;
use twinport_contracts::transparency::merkle::leaf_hash;
use twinport_contracts::transparency::note::NoteVerifier;

use super::verify::{LogVerifier, VerifyError, VerifyReport};
use super::{AuditError, StoredEntry};
use crate::storage::Store;

pub const FORMAT: &str = "twinport-audit-export/v1";
const PAGE: u64 = 10_000;

/// Everything an export needs from the live log: the signed checkpoints and the size they cover.
pub struct SignedState {
    pub notes: Vec<String>,
    pub size: u64,
}

/// Reads the checkpoints and checks the latest one with the log key, so an export never claims an unsigned state.
pub async fn signed_state(
    store: &Store,
    origin: &str,
    key: &NoteVerifier,
) -> Result<SignedState, AuditError> {
    let notes = store.audit_checkpoints().await?;
    let latest = notes.last().ok_or_else(|| {
        AuditError::Inconsistent("no signed checkpoint yet; start the connector once".into())
    })?;
    let cp = SignedCheckpoint::open(latest, origin, std::slice::from_ref(key))?;
    Ok(SignedState {
        notes,
        size: cp.checkpoint.size,
    })
}

/// Calls `each` for every entry below `size`, in index order, a page at a time.
pub async fn for_each_entry(
    store: &Store,
    size: u64,
    mut each: impl FnMut(&StoredEntry) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    let mut start = 0;
    while start < size {
        let page = store
            .audit_entries_from(start, PAGE.min(size - start))
            .await?;
        let Some(last) = page.last() else { break };
        start = last.index + 1;
        for e in page.iter().filter(|e| e.index < size) {
            each(e)?;
        }
    }
    Ok(())
}

fn io(e: std::io::Error) -> AuditError {
    AuditError::Write(format!("export: {e}"))
}

pub async fn write_jsonl(
    store: &Store,
    origin: &str,
    key: &NoteVerifier,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    let state = signed_state(store, origin, key).await?;
    let header =
        json!({"format": FORMAT, "origin": origin, "vkey": key.vkey(), "size": state.size});
    writeln!(out, "{header}").map_err(io)?;
    for note in &state.notes {
        writeln!(out, "{}", json!({ "checkpoint": note })).map_err(io)?;
    }
    for_each_entry(store, state.size, |e| {
        writeln!(out, "{}", entry_line(e.index, &e.leaf_hash, &e.leaf)).map_err(io)
    })
    .await?;
    Ok(state.size)
}

/// One entry line. The leaf is embedded verbatim (canonical JSON is valid JSON and holds no raw newline), so a
/// verifier can hash the exact bytes without re-canonicalising.
pub fn entry_line(index: u64, leaf_hash_hex: &str, leaf: &str) -> String {
    format!("{{\"index\":{index},\"leaf_hash\":\"{leaf_hash_hex}\",\"entry\":{leaf}}}")
}

/// The fast path for lines in exactly [`entry_line`]'s shape: `(index, leaf hash, leaf)`.
fn split_entry_line(line: &str) -> Option<(u64, &str, &str)> {
    let rest = line.strip_prefix("{\"index\":")?;
    let (index, rest) = rest.split_once(",\"leaf_hash\":\"")?;
    let (hash, rest) = rest.split_once("\",\"entry\":")?;
    Some((index.parse().ok()?, hash, rest.strip_suffix('}')?))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub async fn write_csv(
    store: &Store,
    origin: &str,
    key: &NoteVerifier,
    out: &mut dyn Write,
) -> Result<u64, AuditError> {
    let state = signed_state(store, origin, key).await?;
    writeln!(
        out,
        "index,logged_at,kind,partner,resource,agreement,transfer,purpose,leaf_hash,leaf"
    )
    .map_err(io)?;
    for_each_entry(store, state.size, |e| {
        let fields = [
            e.index.to_string(),
            e.logged_at.clone(),
            e.kind.clone(),
            e.partner.clone().unwrap_or_default(),
            e.resource.clone().unwrap_or_default(),
            e.agreement.clone().unwrap_or_default(),
            e.transfer.clone().unwrap_or_default(),
            e.purpose.clone().unwrap_or_default(),
            e.leaf_hash.clone(),
            e.leaf.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(",")).map_err(io)
    })
    .await?;
    Ok(state.size)
}

/// Verifies a JSON Lines export with no database. With `pinned`, the export's key must be that one; without it,
/// the key the export names is used and the caller must compare it with the one the connector publishes.
pub fn verify_jsonl(
    input: &mut dyn BufRead,
    pinned: Option<&NoteVerifier>,
) -> Result<(VerifyReport, String), VerifyError> {
    let mut lines = input.lines().enumerate();
    let bad = |n: usize, what: String| VerifyError::Malformed(format!("line {}: {what}", n + 1));
    let (n, header) = lines
        .next()
        .ok_or_else(|| VerifyError::Malformed("empty export".into()))?;
    let header: Value = serde_json::from_str(&header.map_err(|e| bad(n, e.to_string()))?)
        .map_err(|e| bad(n, e.to_string()))?;
    if header["format"] != FORMAT {
        return Err(bad(n, format!("not a {FORMAT} export")));
    }
    let origin = header["origin"]
        .as_str()
        .ok_or_else(|| bad(n, "no origin".into()))?
        .to_owned();
    let vkey = header["vkey"]
        .as_str()
        .ok_or_else(|| bad(n, "no vkey".into()))?;
    let key = NoteVerifier::parse(vkey).map_err(|e| bad(n, e.to_string()))?;
    if let Some(p) = pinned {
        if p != &key {
            return Err(VerifyError::Malformed(format!(
                "export is signed by {vkey}, not by the expected key {}",
                p.vkey()
            )));
        }
    }
    let mut notes = Vec::new();
    let mut verifier: Option<LogVerifier> = None;
    let mut chunk: Vec<(usize, String)> = Vec::with_capacity(VERIFY_CHUNK);
    let mut lines = lines.peekable();
    while let Some((n, line)) = lines.next() {
        let line = line.map_err(|e| bad(n, e.to_string()))?;
        if verifier.is_none() {
            let v: Value = serde_json::from_str(&line).map_err(|e| bad(n, e.to_string()))?;
            if let Some(note) = v.get("checkpoint") {
                notes.push(
                    note.as_str()
                        .ok_or_else(|| bad(n, "checkpoint is not a string".into()))?
                        .to_owned(),
                );
                continue;
            }
            verifier = Some(LogVerifier::new(&origin, &key, &notes)?);
        }
        chunk.push((n, line));
        if chunk.len() == VERIFY_CHUNK || lines.peek().is_none() {
            if let Some(v) = verifier.as_mut() {
                // Results stay in line order, so the first bad line is reported whatever kind of problem it has.
                for parsed in parse_chunk(&chunk) {
                    let (index, leaf, hash) = parsed?;
                    v.push_canonical(index, &leaf, &hash)?;
                }
            }
            chunk.clear();
        }
    }
    let verifier = match verifier {
        Some(v) => v,
        None => LogVerifier::new(&origin, &key, &notes)?,
    };
    Ok((verifier.finish()?, key.vkey()))
}

/// Lines parsed per round; parsing and canonicalising dominate verification, so they run on every core.
const VERIFY_CHUNK: usize = 16_384;

type ParsedEntry = (u64, Vec<u8>, String);

fn parse_line(n: usize, line: &str) -> Result<ParsedEntry, VerifyError> {
    // Bytes that hash to the committed leaf hash are the committed leaf, canonical or not; anything else is
    // parsed and canonicalised so that a harmless reformatting is told apart from an edit.
    if let Some((index, hash, leaf)) = split_entry_line(line) {
        if hex::encode(leaf_hash(leaf.as_bytes())) == hash {
            return Ok((index, leaf.as_bytes().to_vec(), hash.to_owned()));
        }
    }
    let bad = |what: String| VerifyError::Malformed(format!("line {}: {what}", n + 1));
    let v: Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    if v.get("checkpoint").is_some() {
        return Err(bad("checkpoint after the first entry".into()));
    }
    let index = v["index"].as_u64().ok_or_else(|| bad("no index".into()))?;
    let hash = v["leaf_hash"]
        .as_str()
        .ok_or_else(|| bad("no leaf_hash".into()))?
        .to_owned();
    let leaf = canonicalize(&v["entry"]).map_err(|e| VerifyError::Entry {
        index,
        reason: e.to_string(),
    })?;
    Ok((index, leaf, hash))
}

/// Parses a chunk of lines in parallel, one result per line, in line order.
fn parse_chunk(chunk: &[(usize, String)]) -> Vec<Result<ParsedEntry, VerifyError>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let per = chunk.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunk
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(n, l)| parse_line(*n, l))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(VerifyError::Malformed("parser thread failed".into()))]
                })
            })
            .collect()
    })
}
