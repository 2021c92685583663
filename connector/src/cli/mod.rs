//! The `twinport` command line: `serve` a connector, `init` a runnable directory, run the `demo`.

pub mod audit;
pub mod demo;
pub mod init;
pub mod sample;
mod sample_backend;

mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "twinport", version, about = "A Dataspace Protocol connector for Local Digital Twins", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a connector from a config file.
    Serve {
        /// Path to twinport.toml.
        #[arg(long, short, env = "TWINPORT_CONFIG")]
        config: PathBuf,
    },
    /// Write a runnable config, a fresh signing key and a sample catalogue into DIR.
    Init {
        /// Directory to create (must be empty or absent).
        dir: PathBuf,
        /// Participant id of the new connector (an absolute URI).
        #[arg(long, default_value = "https://city.example/twinport")]
        participant_id: String,
        /// Signing key algorithm: EdDSA (Ed25519) or ES256 (P-256).
        #[arg(long, default_value = "EdDSA")]
        algorithm: String,
    },
    /// Start two connectors on loopback and show one city reading the other's catalogue.
    Demo,
    /// Query, export and verify the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init {
            dir,
            participant_id,
            algorithm,
        } => init::run(&dir, &participant_id, &algorithm),
        Command::Serve { config } => runtime().and_then(|rt| rt.block_on(serve::run(&config))),
        Command::Demo => runtime().and_then(|rt| rt.block_on(demo::run())),
        Command::Audit(command) => audit::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
