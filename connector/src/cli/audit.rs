//! `twinport audit ...`: query, export and verify the audit log, and measure it. Query and export read the store
//! named by the config (a running connector may keep writing: exports stop at its latest signed checkpoint);
//! `verify EXPORT` needs no database at all.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use clap::{Subcommand, ValueEnum};
use twinport_contracts::transparency::note::NoteVerifier;

use crate::audit::{self, export, prov, verify, EntryFilter, EventKind};
use crate::config::Config;
use crate::storage::Store;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// JSON Lines with checkpoints and key: verifiable with `twinport audit verify`.
    Jsonl,
    /// One row per entry, for spreadsheets.
    Csv,
    /// W3C PROV-O provenance graph in JSON-LD.
    Prov,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the entries matching every given filter, one JSON object per line, in log order.
    Query {
        /// Path to twinport.toml.
        #[arg(long, short, env = "TWINPORT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        partner: Option<String>,
        #[arg(long)]
        resource: Option<String>,
        #[arg(long)]
        agreement: Option<String>,
        #[arg(long)]
        transfer: Option<String>,
        #[arg(long)]
        purpose: Option<String>,
        /// Earliest log time (RFC 3339 UTC, inclusive).
        #[arg(long)]
        from: Option<String>,
        /// Latest log time (RFC 3339 UTC, exclusive).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// At most 1000.
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Write the signed part of the log to a file.
    Export {
        #[arg(long, short, env = "TWINPORT_CONFIG")]
        config: PathBuf,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify an export (no database needed) or, with --config, the live store. Exits non-zero naming the first
    /// bad entry or checkpoint.
    Verify {
        /// A JSON Lines export.
        export: Option<PathBuf>,
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The log's published verifier key; an export signed by any other key is refused.
        #[arg(long)]
        vkey: Option<String>,
    },
    /// Measure appends per second, proof time and export verification time, and print the figures.
    Bench {
        /// Appends to time per backend.
        #[arg(long, default_value_t = 50_000)]
        appends: u64,
        /// Entries in the tree for the proof and verification figures.
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        /// Concurrent appenders. The default is twice the writer's largest batch, so one batch is being prepared
        /// while the previous one commits, as under a steady stream of requests.
        #[arg(long, default_value_t = 2 * audit::MAX_BATCH as u64)]
        appenders: u64,
        /// Also measure appends on this PostgreSQL database (a fresh schema is created in it).
        #[arg(long, env = "TWINPORT_BENCH_DATABASE_URL")]
        postgres: Option<String>,
    },
}

pub fn run(command: AuditCommand) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match command {
            AuditCommand::Query {
                config,
                kind,
                partner,
                resource,
                agreement,
                transfer,
                purpose,
                from,
                to,
                offset,
                limit,
            } => {
                if let Some(k) = &kind {
                    if EventKind::parse(k).is_none() {
                        bail!("unknown --kind {k:?}");
                    }
                }
                let (store, _) = open(&config).await?;
                let filter = EntryFilter {
                    from,
                    to,
                    kind,
                    partner,
                    resource,
                    agreement,
                    transfer,
                    purpose,
                    offset: Some(offset),
                    limit: Some(limit),
                };
                let mut out = std::io::stdout().lock();
                for e in store.audit_query(&filter).await? {
                    writeln!(out, "{}", serde_json::to_string(&e)?)?;
                }
                Ok(())
            }
            AuditCommand::Export {
                config,
                format,
                out,
            } => {
                let (store, cfg) = open(&config).await?;
                let origin = audit::origin_for(&cfg.participant_id);
                let key = audit::load_verifier(&cfg.data_dir, &origin)?;
                let file = std::fs::File::create(&out)
                    .with_context(|| format!("cannot create {}", out.display()))?;
                let mut w = BufWriter::new(file);
                let n = match format {
                    ExportFormat::Jsonl => {
                        export::write_jsonl(&store, &origin, &key, &mut w).await?
                    }
                    ExportFormat::Csv => export::write_csv(&store, &origin, &key, &mut w).await?,
                    ExportFormat::Prov => {
                        prov::write_prov(&store, &origin, &key, &cfg.participant_id, &mut w).await?
                    }
                };
                w.flush()?;
                println!(
                    "exported {n} entries to {} (log {origin}, key {})",
                    out.display(),
                    key.vkey()
                );
                Ok(())
            }
            AuditCommand::Verify {
                export,
                config,
                vkey,
            } => {
                let pinned = vkey
                    .as_deref()
                    .map(NoteVerifier::parse)
                    .transpose()
                    .context("--vkey")?;
                match (export, config) {
                    (Some(path), None) => verify_export(&path, pinned.as_ref()),
                    (None, Some(config)) => {
                        let (store, cfg) = open(&config).await?;
                        let origin = audit::origin_for(&cfg.participant_id);
                        let key = match pinned {
                            Some(k) => k,
                            None => audit::load_verifier(&cfg.data_dir, &origin)?,
                        };
                        let r = verify::verify_store(&store, &origin, &key).await?;
                        print_report(&r, &key.vkey());
                        Ok(())
                    }
                    _ => bail!("give either an EXPORT file or --config, not both"),
                }
            }
            AuditCommand::Bench {
                appends,
                entries,
                appenders,
                postgres,
            } => audit::bench::run(appends, entries, appenders, postgres.as_deref()).await,
        }
    })
}

/// The store of an existing connector. These commands read a log; they never create a database, which would
/// make a wrong `storage_url` look like a log that was emptied (a false tamper alarm).
async fn open(config: &Path) -> anyhow::Result<(Store, Config)> {
    let cfg = Config::load(config)?;
    if let Some(file) = crate::storage::sqlite_file(&cfg.storage_url) {
        if !file.exists() {
            bail!(
                "no database at {} (storage_url {}): the audit commands read an existing connector's log and never \
                 create one; check storage_url, or run the command where the connector's data directory is",
                file.display(),
                cfg.storage_url
            );
        }
    }
    let store = Store::connect(&cfg.storage_url).await?;
    Ok((store, cfg))
}

fn verify_export(path: &Path, pinned: Option<&NoteVerifier>) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (report, vkey) = export::verify_jsonl(&mut BufReader::new(file), pinned)?;
    print_report(&report, &vkey);
    if pinned.is_none() {
        println!("note: compare this key with the one the connector publishes, or pass --vkey");
    }
    Ok(())
}

fn print_report(r: &verify::VerifyReport, vkey: &str) {
    println!(
        "ok: {} entries, {} checkpoints; signed tree size {} root {} by {vkey}",
        r.entries,
        r.checkpoints,
        r.signed_size,
        STANDARD.encode(r.signed_root)
    );
    if r.unsigned_tail > 0 {
        println!(
            "{} entries after the latest checkpoint are well-formed but not yet signed",
            r.unsigned_tail
        );
    }
}

/// For the demo: signs a fresh checkpoint, verifies the whole stored log against it and prints the entries as this
/// connector recorded them.
pub async fn show_and_verify(name: &str, state: &crate::app::AppState) -> anyhow::Result<()> {
    let log = state.audit();
    log.checkpoint().await?;
    let report = verify::verify_store(state.store(), log.origin(), &log.verifier()).await?;
    println!();
    println!(
        "   {name}'s audit log ({}): {} entries, verified against its signed checkpoint of size {}",
        log.origin(),
        report.entries,
        report.signed_size
    );
    let entries = state
        .store()
        .audit_query(&EntryFilter {
            limit: Some(1000),
            ..EntryFilter::default()
        })
        .await?;
    for e in entries {
        let leaf: serde_json::Value = serde_json::from_str(&e.leaf)?;
        println!(
            "   #{} {} {} {} {}",
            e.index,
            e.logged_at,
            e.kind,
            e.partner.as_deref().unwrap_or("-"),
            leaf["details"]
        );
    }
    Ok(())
}
