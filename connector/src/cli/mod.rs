//! The `twinport` command line: `serve` a connector, `init` a runnable directory, run the `demo`, `config check` a
//! deployment, and the tools around them (policies, audit, contracts, certificates, benchmarks, completions, man).

mod align;
pub mod audit;
mod bench;
mod bench_align;
mod bench_catalogue;
mod bench_dataplane;
mod bench_dcp;
mod bench_processes;
mod catalogue_check;
pub mod certs;
mod completions;
pub mod config_check;
pub mod contracts;
pub mod demo;
mod health;
pub mod init;
pub mod issuer;
mod measure;
mod nginx;
pub mod pair;
pub mod policy;
pub mod process_stub;
mod provider_process;
pub mod receipts;
pub mod sample;
mod sample_backend;
mod wrk;

mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `twinport --version` and `twinport version`: the release and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TWINPORT_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(name = "twinport", version = VERSION, about = "A Dataspace Protocol connector for Local Digital Twins", long_about = None)]
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
    /// Check a config, the files it names and its catalogue (policies linted) without binding a port or opening
    /// the database; lists every problem, exit 0 when there is none, 1 otherwise.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print the version and the commit it was built from.
    Version,
    /// Ask the connector started from this config whether it is ready (GET /readyz on its management listener,
    /// over HTTPS with [tls]); exit 0 when it is. For container HEALTHCHECKs.
    Health {
        /// Path to twinport.toml.
        #[arg(long, short, env = "TWINPORT_CONFIG")]
        config: PathBuf,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff) to stdout, or write one page per command into a directory.
    Man {
        /// Write twinport.1 and a page per subcommand into this directory (created if absent).
        #[arg(long)]
        dir: Option<PathBuf>,
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
    /// Start two connectors on loopback: one city reads the other's catalogue, negotiates a signed contract, is
    /// refused another with the reason, and starts a transfer.
    Demo {
        /// Run both cities over HTTPS with mutual TLS, with a development PKI made for the run.
        #[arg(long)]
        tls: bool,
        /// The cities know each other only by did:web DID and membership credentials (DCP 1.0).
        #[arg(long)]
        dcp: bool,
    },
    /// Tools for legal teams: evaluate, explain, lint and test usage policies.
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCommand,
    },
    /// Query, export and verify the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Check a model's inputs against the datasets chosen for them (ours or partners'), or an output against the
    /// visualisation asset that will show it, through a running connector; exit 0 when usable.
    Align(align::AlignArgs),
    /// Measure the connector: `twinport bench negotiation` prints negotiations per second and latencies.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Work with contract agreements offline.
    Contracts {
        #[command(subcommand)]
        command: ContractsCommand,
    },
    /// Certificates for TLS and mutual TLS between connectors.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config, its signing key, TLS and credential files, Rego rules and catalogue files, as `serve`
    /// would before binding a port. For CI pipelines and systemd's ExecReload.
    Check {
        /// Path to twinport.toml.
        #[arg(long, short, env = "TWINPORT_CONFIG")]
        config: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Write a development CA and a server+client certificate per connector into DIR; prints the fingerprints
    /// and the config to use. For development and tests only.
    Dev {
        /// Directory to write into (created if absent).
        dir: PathBuf,
        /// A connector to issue a certificate for (repeatable); also added to the certificate's names.
        #[arg(long = "name", default_values_t = ["city-a".to_string(), "city-b".to_string()])]
        names: Vec<String>,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Two connectors on loopback (SQLite) negotiate contracts; prints throughput and p50/p99 latency.
    Negotiation {
        /// Negotiations per run.
        #[arg(long, default_value_t = 200)]
        count: usize,
        /// Also run with this many negotiations in flight at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// What DCP costs: a DSP request by configured keys vs by DID and credentials (caches warm), p50/p99, then
    /// negotiations with DCP on both sides.
    Dcp {
        /// Requests per pair.
        #[arg(long, default_value_t = 1000)]
        requests: usize,
        /// Negotiations per pair (0: none).
        #[arg(long, default_value_t = 100)]
        negotiations: usize,
    },
    /// A model's execution (OGC API - Processes) through the provider's data plane vs the same stub model
    /// server reached directly, interleaved one by one: p50/p90/p99 of each and what the data plane adds.
    Processes {
        /// Executions per side.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Under an agreement that limits executions (each then takes its number in the database).
        #[arg(long)]
        counted: bool,
    },
    /// Alignment checks: the comparison of one model input with one dataset, then whole checks through the
    /// management API against our own catalogue and a partner's (p50/p90/p99).
    Align {
        /// API checks per run (the comparison alone runs ten times as many).
        #[arg(long, default_value_t = 500)]
        requests: usize,
    },
    /// City A publishes N resources, city B reads them as a partner: a page of 50, a dataset by id, the whole
    /// catalogue (p50/p99 and totals), and memory before and after.
    Catalogue {
        /// Resources in city A's catalogue.
        #[arg(long, default_value_t = 10_000)]
        resources: usize,
        /// Page and by-id requests per run.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// City A on PostgreSQL (a new schema in this database) instead of SQLite.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// A pull through the provider's data plane vs the same backend reached directly: 1 KB throughput and
    /// p50/p99 latency (policy, count and audit on every request), then memory while streaming a large body.
    Dataplane {
        /// Requests per run (direct, then proxied).
        #[arg(long, default_value_t = 5000)]
        requests: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Size of the streamed body in MiB.
        #[arg(long, default_value_t = 1024)]
        stream_mb: u64,
        /// Run the load generator and backend on half of the CPUs and the connectors on the other half, as a
        /// sidecar with CPU of its own (needs 2 CPUs or more).
        #[arg(long)]
        pin: bool,
        /// Microseconds the sample backend waits (as on its own database or disk, using no CPU) before each 1 KB
        /// answer. 0: it answers at once, the proxy's worst case.
        #[arg(long, default_value_t = 0)]
        backend_wait_us: u64,
        /// Microseconds of CPU the sample backend spends on each 1 KB answer (query evaluation, serialisation).
        #[arg(long, default_value_t = 0)]
        backend_work_us: u64,
        /// City A (the provider) on PostgreSQL (a new schema in this database) instead of SQLite.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Check an exported agreement (GET /api/v1/agreements/{id}) and both parties' signatures, offline.
    Verify {
        /// The exported agreement (JSON).
        file: PathBuf,
        /// The provider's JWKS, instead of the keys recorded in the export.
        #[arg(long)]
        provider_jwks: Option<PathBuf>,
        /// The consumer's JWKS, instead of the keys recorded in the export.
        #[arg(long)]
        consumer_jwks: Option<PathBuf>,
    },
    /// Check a provider's access receipt (as fetched, or as stored by the consumer) and its signature, offline.
    VerifyReceipt {
        /// The receipt (JSON): a bare receipt or one listed by GET /api/v1/transfers/{id}/receipts.
        file: PathBuf,
        /// The provider's JWKS: a file or an http(s) URL.
        #[arg(long)]
        jwks: String,
        /// The body received, to check its size and SHA-256 against the receipt.
        #[arg(long)]
        body: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    main_with(std::env::args_os())
}

/// The command with `args` (the program name first), as a test or an embedding program runs it.
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are printed to stdout with success; misuse to stderr with clap's code (2).
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Init {
            dir,
            participant_id,
            algorithm,
        } => init::run(&dir, &participant_id, &algorithm),
        Command::Serve { config } => runtime().and_then(|rt| rt.block_on(serve::run(&config))),
        // 0 no problem, 1 problems (each listed).
        Command::Config {
            command: ConfigCommand::Check { config },
        } => return config_check::run(&config),
        Command::Health { config, timeout } => return health::run(&config, timeout),
        Command::Version => {
            println!("twinport {VERSION}");
            Ok(())
        }
        Command::Completions { shell } => completions::completions(shell),
        Command::Man { dir } => completions::man(dir.as_deref()),
        Command::Demo { tls, dcp } => runtime().and_then(|rt| rt.block_on(demo::run(tls, dcp))),
        // Policy tools have their own exit codes (deny, lint errors, failed tests).
        Command::Policy { command } => return policy::run(command),
        // 0 usable, 1 misaligned or unknown, 2 the check could not be made.
        Command::Align(args) => return align::run(args),
        Command::Bench {
            command:
                BenchCommand::Dcp {
                    requests,
                    negotiations,
                },
        } => runtime().and_then(|rt| rt.block_on(bench_dcp::run(requests.max(1), negotiations))),
        Command::Bench {
            command: BenchCommand::Negotiation { count, concurrency },
        } => runtime()
            .and_then(|rt| rt.block_on(bench::negotiation(count.max(1), concurrency.max(1)))),
        Command::Bench {
            command:
                BenchCommand::Dataplane {
                    requests,
                    concurrency,
                    stream_mb,
                    pin,
                    backend_wait_us,
                    backend_work_us,
                    postgres,
                },
        } => runtime().and_then(|rt| {
            rt.block_on(bench_dataplane::run(bench_dataplane::Settings {
                requests: requests.max(1),
                concurrency: concurrency.max(1),
                stream_mb: stream_mb.max(1),
                pin,
                backend_wait_us,
                backend_work_us,
                postgres,
            }))
        }),
        Command::Bench {
            command:
                BenchCommand::Catalogue {
                    resources,
                    requests,
                    postgres,
                },
        } => runtime().and_then(|rt| {
            rt.block_on(bench_catalogue::run(bench_catalogue::Settings {
                resources: resources.max(1),
                requests: requests.max(1),
                postgres,
            }))
        }),
        Command::Bench {
            command: BenchCommand::Align { requests },
        } => runtime().and_then(|rt| rt.block_on(bench_align::run(requests.max(1)))),
        Command::Bench {
            command: BenchCommand::Processes { requests, counted },
        } => runtime().and_then(|rt| rt.block_on(bench_processes::run(requests.max(1), counted))),
        Command::Contracts {
            command:
                ContractsCommand::Verify {
                    file,
                    provider_jwks,
                    consumer_jwks,
                },
        } => contracts::verify(&file, provider_jwks, consumer_jwks),
        Command::Contracts {
            command: ContractsCommand::VerifyReceipt { file, jwks, body },
        } => runtime().and_then(|rt| rt.block_on(receipts::verify_receipt(&file, &jwks, body))),
        Command::Audit(command) => audit::run(command),
        Command::Certs {
            command: CertsCommand::Dev { dir, names, force },
        } => certs::run(&dir, &names, force),
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
