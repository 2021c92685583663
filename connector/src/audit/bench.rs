//! `twinport audit bench`: the figures issue 5 asks for, measured on this machine — durable appends per second
//! through the batching writer (SQLite, and PostgreSQL when given), inclusion proof time in a large tree, and the
//! time to verify an export of that many entries.

use std::io::{BufReader, BufWriter, Write};
use std::time::Instant;

use serde_json::json;
use twinport_contracts::transparency::checkpoint::{Checkpoint, SignedCheckpoint};
use twinport_contracts::transparency::merkle::verify_inclusion;
use twinport_contracts::transparency::note::NoteSigner;
use twinport_contracts::transparency::tree::MerkleTree;

use super::export::{entry_line, verify_jsonl, FORMAT};
use super::{prepare, AuditEvent, AuditLog, EventKind};
use crate::storage::Store;

const ORIGIN: &str = "bench.twinport.example/audit";

fn sample_event(n: u64) -> AuditEvent {
    let mut e = AuditEvent::new(
        EventKind::DspMessageReceived,
        json!({"message": "dspace:ContractRequestMessage", "state": "REQUESTED", "n": n,
               "digest": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}),
    );
    e.partner = Some(format!("https://city-{}.example/twinport", n % 7));
    e.resource = Some(format!("https://city-a.example/resources/{}", n % 101));
    e.agreement = Some(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
    e.purpose = Some("https://w3id.org/dpv#ServiceProvision".into());
    e
}

async fn appends_per_second(
    store: &Store,
    dir: &std::path::Path,
    total: u64,
    appenders: u64,
) -> anyhow::Result<f64> {
    let log = AuditLog::open(store, dir, ORIGIN).await?;
    let start = Instant::now();
    let per = total.div_ceil(appenders.max(1));
    let tasks: Vec<_> = (0..appenders.max(1))
        .map(|t| {
            let log = log.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    log.append(sample_event(t * per + i)).await?;
                }
                Ok::<_, super::AuditError>(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = per * appenders.max(1);
    println!(
        "  {n} appends in {} transactions (mean batch {:.0})",
        log.batches_written(),
        n as f64 / log.batches_written().max(1) as f64
    );
    Ok(n as f64 / secs)
}

async fn postgres_store(base: &str) -> anyhow::Result<Store> {
    let url = crate::storage::new_postgres_schema(base, "bench").await?;
    Ok(Store::connect(&url).await?)
}

pub async fn run(
    appends: u64,
    entries: u64,
    appenders: u64,
    postgres: Option<&str>,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!(
        "twinport-audit-bench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, appends, entries, appenders, postgres).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(
    dir: &std::path::Path,
    appends: u64,
    entries: u64,
    appenders: u64,
    postgres: Option<&str>,
) -> anyhow::Result<()> {
    let sqlite = Store::connect(&format!("sqlite://{}", dir.join("bench.db").display())).await?;
    let rate = appends_per_second(&sqlite, dir, appends, appenders).await?;
    println!("sqlite: {rate:.0} durable appends/s ({appends} appends, {appenders} concurrent appenders, WAL, synchronous=NORMAL)");
    if let Some(url) = postgres {
        let pg = postgres_store(url).await?;
        let pg_dir = dir.join("pg");
        std::fs::create_dir_all(&pg_dir)?;
        let rate = appends_per_second(&pg, &pg_dir, appends, appenders).await?;
        println!("postgresql: {rate:.0} durable appends/s ({appends} appends)");
    }

    // A realistic export: real leaves, a signed checkpoint, written to disk and read back. Entries are written as
    // they are made (the checkpoint lines must come first, so they go to a second file joined afterwards), keeping
    // memory flat so the timings below are not distorted by paging.
    let key = NoteSigner::generate(ORIGIN)?;
    let path = dir.join("export.jsonl");
    let body_path = dir.join("entries.jsonl");
    let mut tree = MerkleTree::new();
    let build = Instant::now();
    {
        let mut w = BufWriter::new(std::fs::File::create(&body_path)?);
        let now = time::OffsetDateTime::now_utc();
        for n in 0..entries {
            let leaf = prepare(sample_event(n), now)?;
            tree.push(leaf.hash);
            writeln!(w, "{}", entry_line(n, &hex::encode(leaf.hash), &leaf.leaf))?;
        }
        w.flush()?;
        let root = tree.root_at(entries)?;
        let cp = SignedCheckpoint::sign(
            Checkpoint {
                origin: ORIGIN.into(),
                size: entries,
                root,
            },
            &key,
        )?;
        let mut w = BufWriter::new(std::fs::File::create(&path)?);
        writeln!(
            w,
            "{}",
            json!({"format": FORMAT, "origin": ORIGIN, "vkey": key.verifier().vkey(), "size": entries})
        )?;
        writeln!(w, "{}", json!({ "checkpoint": cp.note }))?;
        std::io::copy(&mut std::fs::File::open(&body_path)?, &mut w)?;
        w.flush()?;
        std::fs::remove_file(&body_path)?;
    }
    println!(
        "built a {entries}-entry tree and export ({} MB) in {:.1}s",
        std::fs::metadata(&path)?.len() / 1_000_000,
        build.elapsed().as_secs_f64()
    );

    let root = tree.root_at(entries)?;
    let samples = 10_000u64.min(entries);
    let start = Instant::now();
    let mut proofs = Vec::with_capacity(samples as usize);
    for s in 0..samples {
        let index = s.wrapping_mul(7_919) % entries;
        proofs.push((index, tree.inclusion_proof(index, entries)?));
    }
    let per_proof = start.elapsed().as_secs_f64() * 1e6 / samples as f64;
    let start = Instant::now();
    for (index, proof) in &proofs {
        let leaf = tree.leaf(*index).unwrap_or_default();
        verify_inclusion(*index, entries, &leaf, proof, &root)?;
    }
    let per_verify = start.elapsed().as_secs_f64() * 1e6 / samples as f64;
    println!("inclusion proof at {entries} entries: {per_proof:.2} µs to build, {per_verify:.2} µs to verify ({samples} samples)");

    let start = Instant::now();
    let (report, _) = verify_jsonl(
        &mut BufReader::new(std::fs::File::open(&path)?),
        Some(&key.verifier()),
    )?;
    println!(
        "verified the {}-entry export in {:.2}s",
        report.entries,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
