//! The assembly: validated config → storage, identity, audit log, catalogue → the services (`Partners`,
//! `Contracting`, `DataPlaneState`) → each surface's own state → listeners and background tasks. Everything that can
//! fail on configuration fails here, before a port is bound; `start` returns a handle for tests and the CLI, and
//! nothing below this module imports it.

mod reload;

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::{AuditLog, PartnerLogs};
use crate::catalogue;
use crate::config::Config;
use crate::connections::{Connections, TrackedListener};
use crate::contracting::decision::PolicyService;
use crate::contracting::events::Events;
use crate::contracting::outbox::{self, OutboxSignal};
use crate::contracting::{Contracting, ContractingParts};
use crate::dataplane::{DataPlane, DataPlaneSettings, DataPlaneState};
use crate::identity::oidc::OidcVerifier;
use crate::identity::{LocalIdentity, PartnerDirectory};
use crate::management::{Access, ManagementState};
use crate::partners::Partners;
use crate::storage::{StorageError, Store};
use crate::telemetry::Telemetry;
use crate::tls::{ListenerRole, Tls, TlsListener};
use crate::{client, dsp, health, management};

pub use reload::{apply_stored, sync_api_partners, ApiPartners, ReloadReport, RELOAD_SUBJECT};

/// The assembled connector's services, for the CLI and the tests; cheap to clone. The servers get only the parts
/// their surfaces use (see [`start`]); nothing below the assembly sees this type.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    contracting: Contracting,
    data_plane: DataPlaneState,
    tls: Arc<Tls>,
    telemetry: Telemetry,
    /// The file a reload reads again; `None` when started from a config value alone.
    config_path: Option<std::path::PathBuf>,
    /// Reloads run one at a time.
    reloading: tokio::sync::Mutex<()>,
}

impl AppState {
    pub fn config(&self) -> &Config {
        &self.0.config
    }
    /// Negotiations, transfers, the outbox and what they are built from.
    pub fn contracting(&self) -> &Contracting {
        &self.0.contracting
    }
    pub fn store(&self) -> &Store {
        self.0.contracting.store()
    }
    pub fn identity(&self) -> &LocalIdentity {
        self.0.contracting.identity()
    }
    pub fn participant_id(&self) -> &str {
        self.0.contracting.participant_id()
    }
    pub fn partners(&self) -> &Partners {
        self.0.contracting.partners()
    }
    pub fn client(&self) -> &client::DspClient {
        self.partners().client()
    }
    /// The URL partners reach us at (no trailing slash).
    pub fn public_url(&self) -> &str {
        self.0.contracting.public_url()
    }
    /// Absolute URL of our DSP 2025-1 base.
    pub fn dsp_base(&self) -> String {
        self.0.contracting.dsp_base()
    }
    /// The audit log every exchange and management action is recorded in before it is acknowledged.
    pub fn audit(&self) -> &AuditLog {
        self.0.contracting.audit()
    }
    /// Partners' logs: witnessing their checkpoints, collecting their receipts.
    pub fn partner_logs(&self) -> &PartnerLogs {
        self.0.contracting.partner_logs()
    }
    /// Transport security: served certificates, the partner-certificate check, reload.
    pub fn tls(&self) -> &Tls {
        &self.0.tls
    }
    pub fn http(&self) -> &reqwest::Client {
        self.partners().http()
    }
    pub fn events(&self) -> &Events {
        self.0.contracting.events()
    }
    /// Serialises process creation per partner pid (see [`crate::contracting::creation`]).
    pub fn creations(&self) -> &crate::contracting::creation::CreationLocks {
        self.0.contracting.creations()
    }
    pub fn outbox_signal(&self) -> &OutboxSignal {
        self.0.contracting.outbox_signal()
    }
    /// This connector's metrics and tracer.
    pub fn telemetry(&self) -> &Telemetry {
        &self.0.telemetry
    }
    /// The provider data plane's backend client and pending receipts.
    pub fn data_plane(&self) -> &DataPlane {
        self.0.data_plane.data_plane()
    }
    /// Points a configured partner at a new root URL and forgets its discovered DSP base.
    pub fn set_partner_url(&self, partner: &str, url: &str) {
        self.partners().set_url(partner, url);
    }
}

/// Why the connector did not start. Each message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] crate::identity::KeyError),
    #[error("storage_url: {0}")]
    Storage(String),
    #[error("catalogue: {0}")]
    Catalogue(String),
    #[error("{key}: cannot listen on {addr}: {message}")]
    Bind {
        key: &'static str,
        addr: SocketAddr,
        message: String,
    },
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::AuditError),
    #[error("cannot build HTTP client: {0}")]
    Http(String),
    #[error("catalogue rules: {0}")]
    Rules(String),
    #[error(transparent)]
    Telemetry(#[from] crate::telemetry::traces::TraceSetupError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Credentials(#[from] crate::identity::dcp::wallet::WalletError),
}

// The messages already carry the cause; keeping it out of `source()` stops `{:#}` from printing it twice.
impl From<StorageError> for StartError {
    fn from(e: StorageError) -> Self {
        StartError::Storage(e.to_string())
    }
}

impl From<catalogue::LoadError> for StartError {
    fn from(e: catalogue::LoadError) -> Self {
        StartError::Catalogue(e.to_string())
    }
}

impl From<crate::contracting::decision::RuleLoadError> for StartError {
    fn from(e: crate::contracting::decision::RuleLoadError) -> Self {
        StartError::Rules(e.to_string())
    }
}

/// How long a stop waits for the servers to end once their remaining connections were cut.
const CUT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a stop waits for data-plane work still being recorded (pushes, receipts checks, served accesses).
const SHUTDOWN_RECORDING_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A started connector: its bound addresses, and a way to stop it.
pub struct RunningConnector {
    pub dsp_addr: SocketAddr,
    pub management_addr: SocketAddr,
    /// The consumer data plane for this city's own applications (`local_listen`).
    pub local_addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    /// The listeners' servers.
    servers: Vec<JoinHandle<()>>,
    /// Tasks that end when told to stop: the outbox, the witness, certificate reloads.
    background: Vec<JoinHandle<()>>,
    connections: Connections,
}

impl RunningConnector {
    /// Root URL of the DSP listener.
    pub fn public_url(&self) -> &str {
        self.state.public_url()
    }

    pub fn management_url(&self) -> String {
        format!("{}://{}", self.state.tls().scheme(), self.management_addr)
    }

    /// Root URL of the local data endpoint (`/transfers/{consumerPid}/...`).
    pub fn local_url(&self) -> String {
        format!("{}://{}", self.state.tls().scheme(), self.local_addr)
    }

    /// Reads the config file again and applies it, as SIGHUP does (see [`reload`]).
    pub async fn reload(&self) -> ReloadReport {
        reload::reload(&self.state).await
    }

    /// Applies `config` as a reload of the file would (tests build it from the file with their own overrides).
    pub async fn reload_with(&self, config: Config) -> ReloadReport {
        reload::reload_with(&self.state, config).await
    }

    /// Stops accepting, lets in-flight requests finish for up to `shutdown_drain_seconds` (then ends the
    /// connections still open), waits for the data plane's records, and closes storage.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let drain = self.state.config().shutdown_drain;
        let mut servers = futures_util::future::join_all(self.servers);
        if tokio::time::timeout(drain, &mut servers).await.is_err() {
            // A partner still reading (or no longer reading) a large body would hold the stop until the process
            // is killed, and its access would never be recorded: cut it, so it is recorded as incomplete.
            let cut = self.connections.cut_all();
            tracing::warn!(
                connections = cut,
                drain_seconds = drain.as_secs(),
                "ending connections still open after the drain period"
            );
            if tokio::time::timeout(CUT_WAIT, &mut servers).await.is_err() {
                tracing::error!(
                    "requests still running after their connections were ended; stopping without them"
                );
            }
        }
        // Meanwhile the outbox abandons its deliveries in flight (releasing their claims, so they go out again at
        // once after a restart) and the other background tasks stop at once.
        let background = futures_util::future::join_all(self.background);
        // A served response is recorded just after its body ends (the audit writer may hold the entry a few
        // milliseconds to share a commit), a push runs in the background, and the consumer records a relayed
        // response after checking its receipt: wait for all of that before the store closes, so a clean stop
        // loses none of it (but do not hang on a stuck database or partner).
        let (_, unfinished) = tokio::join!(
            background,
            self.state.data_plane().drain(SHUTDOWN_RECORDING_WAIT)
        );
        if unfinished > 0 {
            tracing::error!(
                unfinished,
                "stopping with data-plane work not finished; its accesses may be unrecorded"
            );
        }
        self.state.telemetry().traces().shutdown().await;
        self.state.store().close().await;
    }
}

/// Starts a connector from a validated config; SIGHUP then reloads its certificates only.
pub async fn start(config: Config) -> Result<RunningConnector, StartError> {
    start_with(config, None).await
}

/// Starts a connector from the config read from `path`, which SIGHUP reads again.
pub async fn start_from_file(
    config: Config,
    path: std::path::PathBuf,
) -> Result<RunningConnector, StartError> {
    start_with(config, Some(path)).await
}

async fn start_with(
    config: Config,
    config_path: Option<std::path::PathBuf>,
) -> Result<RunningConnector, StartError> {
    let mut identity = LocalIdentity::load(&config.participant_id, &config.signing_key_path)?;
    // Our own credentials are read before any port is bound: one that is not ours stops the start.
    let wallet = match &config.dcp {
        Some(dcp) => {
            identity = identity.speaking_dcp();
            let wallet =
                crate::identity::dcp::Wallet::load(&dcp.credentials_dir, &config.participant_id)?;
            wallet.warn_expiring(time::OffsetDateTime::now_utc(), dcp.expiry_warning);
            Some(Arc::new(wallet))
        }
        None => None,
    };
    let store = Store::connect(&config.storage_url).await?;
    let telemetry = crate::telemetry::Telemetry::new(&config.telemetry, &config.participant_id)?;
    let policy = PolicyService::load(&config.catalogue_dir, &config.policy_time_zone)?
        .counted_in(telemetry.metrics().decisions());
    let audit = AuditLog::open(
        &store,
        &config.data_dir,
        &crate::audit::origin_for(&config.participant_id),
    )
    .await?;
    audit.observe_appends(telemetry.metrics().audit_append_seconds());
    let imported =
        crate::dataplane::consumer::receipts::import_receipt_files(&store, &config.data_dir)
            .await
            .map_err(|e| StartError::Storage(format!("importing kept receipt files: {e}")))?;
    if imported > 0 {
        tracing::info!(
            receipts = imported,
            "receipts kept as files by an earlier version are now in the database"
        );
    }
    let loaded = catalogue::load_into(&store, &config.catalogue_dir, &config.catalogue).await?;
    tracing::info!(resources = loaded, dir = %config.catalogue_dir.display(), "catalogue loaded");
    let tls = Arc::new(Tls::load(&config.tls)?);

    let dsp_listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::Bind {
            key: "listen",
            addr: config.listen,
            message: e.to_string(),
        })?;
    let management_listener = TcpListener::bind(config.management_listen)
        .await
        .map_err(|e| StartError::Bind {
            key: "management_listen",
            addr: config.management_listen,
            message: e.to_string(),
        })?;
    let local_listener =
        TcpListener::bind(config.local_listen)
            .await
            .map_err(|e| StartError::Bind {
                key: "local_listen",
                addr: config.local_listen,
                message: e.to_string(),
            })?;
    let local_addr = local_listener
        .local_addr()
        .map_err(|e| StartError::Http(e.to_string()))?;
    let dsp_addr = dsp_listener
        .local_addr()
        .map_err(|e| StartError::Http(e.to_string()))?;
    let management_addr = management_listener
        .local_addr()
        .map_err(|e| StartError::Http(e.to_string()))?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{}://{dsp_addr}", tls.scheme()));
    if let (Some(dcp), Some(wallet)) = (&config.dcp, &wallet) {
        crate::identity::dcp::warn_about_setup(dcp, wallet, &public_url);
    }

    let partner_client = || {
        tls.http_client(
            reqwest::Client::builder().user_agent(concat!("twinport/", env!("CARGO_PKG_VERSION"))),
        )
    };
    // With DCP anyone with a membership can be a partner, and partners name the URLs we call: every request to a
    // partner then follows no redirects and reaches public addresses only, unless the data space is private.
    let http = match &config.dcp {
        Some(dcp) if !dcp.allow_private_networks => {
            crate::identity::dcp::http_client(partner_client(), false)
        }
        _ => partner_client().build(),
    }
    .map_err(|e| StartError::Http(e.to_string()))?;
    let data_plane = DataPlane::new(config.backend_timeout, tls.backend_client_config())
        .map_err(StartError::Http)?;
    let mut directory = PartnerDirectory::new(&config.partners, http.clone());
    let dcp = match (&config.dcp, wallet) {
        (Some(dcp), Some(wallet)) => {
            let dcp_http =
                crate::identity::dcp::http_client(partner_client(), dcp.allow_private_networks)
                    .map_err(|e| StartError::Http(e.to_string()))?;
            let dcp =
                crate::identity::dcp::Dcp::new(dcp.clone(), identity.clone(), wallet, dcp_http);
            crate::identity::dcp::warn_before_expiry(dcp.clone());
            directory = directory.with_dcp(dcp.clone());
            Some(dcp)
        }
        _ => None,
    };
    let partners = Partners::new(
        directory,
        client::DspClient::new(identity.clone(), http.clone())
            .traced(telemetry.traces().clone())
            .with_dcp(dcp),
        http,
        telemetry.traces().clone(),
    );
    let oidc = match &config.oidc {
        Some(c) => Some(Arc::new(
            OidcVerifier::new(c.clone()).map_err(StartError::Http)?,
        )),
        None => None,
    };
    if let Some(oidc) = oidc.clone() {
        // The provider may be down at start: the connector starts anyway and fetches lazily (see identity::oidc).
        tokio::spawn(async move { oidc.prefetch().await });
    }

    // The domain services, each from its explicit parts.
    let contracting = Contracting::new(ContractingParts {
        store: store.clone(),
        audit,
        identity,
        partners,
        policy,
        settings: config.contracts.clone(),
        policy_time_zone: config.policy_time_zone.clone(),
        public_url,
        telemetry: telemetry.clone(),
    });
    let data_plane = DataPlaneState::new(
        contracting.clone(),
        data_plane,
        tls.clone(),
        DataPlaneSettings {
            data_dir: config.data_dir.clone(),
            max_push_mb: config.max_push_mb,
            local_hosts: config.local_hosts.clone(),
            local_allowed_origins: config.local_allowed_origins.clone(),
        },
    );
    contracting.on_push_started(data_plane.push_starter());
    crate::dataplane::consumer::renewal::spawn(&data_plane);
    // After the config file's partners, which win over a stored partner of the same id.
    reload::sync_api_partners(&contracting, true).await?;
    let access = Access::new(config.management_token.clone(), oidc);
    let catalogue_loaded = Arc::new(AtomicBool::new(true));

    // The surfaces, each given only what it uses.
    let (shutdown, stopped) = watch::channel(false);
    let readiness = health::Readiness {
        store: store.clone(),
        catalogue_loaded,
    };
    let catalogue_info = Arc::new(config.catalogue.clone());
    let open = catalogue::public::OpenCatalogue::new(
        store.clone(),
        catalogue_info.clone(),
        contracting.public_url(),
    );
    let dsp_app = dsp::router(dsp::DspState {
        contracting: contracting.clone(),
        tls: tls.clone(),
        catalogue_info,
    })
    // Outside the DSP guard: anonymous, read-only, and answering in the media types of their own standards.
    .merge(crate::open::router(open.clone()))
    .merge(health::router(readiness.clone()))
    .merge(crate::dataplane::router(data_plane.clone()));
    let management_app = management::router(ManagementState {
        contracting: contracting.clone(),
        open: open.clone(),
        data_plane: data_plane.clone(),
        access,
    })
    .merge(health::router(readiness))
    .merge(management::metrics::router(
        contracting.clone(),
        config.telemetry.metrics_token.clone(),
    ));
    let dsp_app = crate::telemetry::http_layer::observe(dsp_app, telemetry.clone(), "dsp");
    let management_app =
        crate::telemetry::http_layer::observe(management_app, telemetry.clone(), "management");
    let local_app = crate::telemetry::http_layer::observe(
        crate::dataplane::consumer::router(data_plane.clone()),
        telemetry.clone(),
        "local",
    );
    let state = AppState(Arc::new(Inner {
        config,
        contracting: contracting.clone(),
        data_plane,
        tls: tls.clone(),
        telemetry,
        config_path,
        reloading: Default::default(),
    }));
    let connections = Connections::default();
    let servers = vec![
        serve(
            dsp_listener,
            dsp_app,
            stopped.clone(),
            tls.server_config(ListenerRole::Public),
            connections.clone(),
            state.config().limits,
        ),
        serve(
            management_listener,
            management_app,
            stopped.clone(),
            tls.server_config(ListenerRole::Internal),
            connections.clone(),
            state.config().limits,
        ),
        serve(
            local_listener,
            local_app,
            stopped.clone(),
            tls.server_config(ListenerRole::Internal),
            connections.clone(),
            state.config().limits,
        ),
    ];
    let mut background = Vec::new();
    // Always listened for: SIGHUP's default action ends the process, and operators send it to reload.
    background.push(reload::spawn_on_sighup(state.clone(), stopped.clone()));
    if store.backend() == crate::storage::Backend::Postgres {
        background.push(reload::spawn_api_partner_sync(
            contracting.clone(),
            stopped.clone(),
        ));
    }
    if let Some(interval) = state.config().audit_witness_interval {
        background.push(crate::audit::witness::spawn_periodic(
            contracting.partner_logs().clone(),
            interval,
            stopped.clone(),
        ));
    }
    // Messages queued before a restart go out now.
    background.push(outbox::spawn(contracting, stopped));
    crate::telemetry::startup::Started {
        participant: state.participant_id(),
        scheme: tls.scheme(),
        public: dsp_addr,
        dsp_path: crate::paths::DSP_PATH,
        data_path: crate::paths::DATA_PATH,
        management: management_addr,
        local: local_addr,
        storage_url: &state.config().storage_url,
    }
    .log();
    Ok(RunningConnector {
        dsp_addr,
        management_addr,
        local_addr,
        state,
        shutdown,
        servers,
        background,
        connections,
    })
}

/// Serves `app` on `listener` until `stopped`, over TLS when `tls` is given (the server config decides whether a
/// client certificate is required; handlers find the peer as `ConnectInfo<TlsPeer>`), within `limits`.
fn serve(
    listener: TcpListener,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
    tls: Option<Arc<rustls::ServerConfig>>,
    connections: Connections,
    limits: crate::config::Limits,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        match tls {
            None => {
                crate::server::serve(
                    TrackedListener::new(listener, connections),
                    app,
                    limits,
                    shutdown,
                )
                .await
            }
            Some(config) => match TlsListener::new(listener, config, connections) {
                Ok(listener) => crate::server::serve(listener, app, limits, shutdown).await,
                Err(e) => tracing::error!(error = %e, "server stopped with an error"),
            },
        }
    })
}
