//! Assembles a running connector: validated config → storage → identity → catalogue → listeners. Everything that
//! can fail on configuration fails here, before a port is bound; `start` returns a handle for tests and the CLI.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::AuditLog;
use crate::catalogue::{self, Resource};
use crate::config::Config;
use crate::identity::{LocalIdentity, PartnerDirectory};
use crate::storage::{StorageError, Store};
use crate::{client, dsp, health, management};

/// Shared state of the servers; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    store: Store,
    identity: LocalIdentity,
    partners: PartnerDirectory,
    client: client::DspClient,
    public_url: String,
    catalogue_loaded: AtomicBool,
    audit: AuditLog,
}

impl AppState {
    pub fn config(&self) -> &Config {
        &self.0.config
    }
    pub fn store(&self) -> &Store {
        &self.0.store
    }
    pub fn identity(&self) -> &LocalIdentity {
        &self.0.identity
    }
    pub fn participant_id(&self) -> &str {
        &self.0.identity.participant_id
    }
    pub fn partners(&self) -> &PartnerDirectory {
        &self.0.partners
    }
    pub fn client(&self) -> &client::DspClient {
        &self.0.client
    }
    /// The URL partners reach us at (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }
    /// Absolute URL of our DSP 2025-1 base.
    pub fn dsp_base(&self) -> String {
        format!("{}{}", self.0.public_url, dsp::DSP_PATH)
    }
    /// The audit log every exchange and management action is recorded in before it is acknowledged.
    pub fn audit(&self) -> &AuditLog {
        &self.0.audit
    }
    pub fn catalogue_loaded(&self) -> bool {
        self.0.catalogue_loaded.load(Ordering::Relaxed)
    }

    /// The resources `partner` may see. Until catalogue-scope policies are evaluated, every configured partner sees
    /// every resource.
    pub async fn visible_resources(&self, _partner: &str) -> Result<Vec<Resource>, StorageError> {
        catalogue::resources(self.store()).await
    }
}

/// Why the connector did not start. Each message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] crate::identity::KeyError),
    #[error("storage_url: {0}")]
    Storage(#[from] StorageError),
    #[error("catalogue: {0}")]
    Catalogue(#[from] catalogue::LoadError),
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
}

/// A started connector: its bound addresses, and a way to stop it.
pub struct RunningConnector {
    pub dsp_addr: SocketAddr,
    pub management_addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
}

impl RunningConnector {
    /// Root URL of the DSP listener.
    pub fn public_url(&self) -> &str {
        self.state.public_url()
    }

    pub fn management_url(&self) -> String {
        format!("http://{}", self.management_addr)
    }

    /// Stops accepting, lets in-flight requests finish, and closes storage.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for server in self.servers {
            let _ = server.await;
        }
        self.state.store().close().await;
    }
}

/// Starts a connector from a validated config.
pub async fn start(config: Config) -> Result<RunningConnector, StartError> {
    let identity = LocalIdentity::load(&config.participant_id, &config.signing_key_path)?;
    let store = Store::connect(&config.storage_url).await?;
    let audit = AuditLog::open(
        &store,
        &config.data_dir,
        &crate::audit::origin_for(&config.participant_id),
    )
    .await?;
    let loaded = catalogue::load_into(&store, &config.catalogue_dir).await?;
    tracing::info!(resources = loaded, dir = %config.catalogue_dir.display(), "catalogue loaded");

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
    let dsp_addr = dsp_listener
        .local_addr()
        .map_err(|e| StartError::Http(e.to_string()))?;
    let management_addr = management_listener
        .local_addr()
        .map_err(|e| StartError::Http(e.to_string()))?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{dsp_addr}"));

    let http = reqwest::Client::builder()
        .user_agent(concat!("twinport/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StartError::Http(e.to_string()))?;
    let partners = PartnerDirectory::new(&config.partners, http.clone());
    let client = client::DspClient::new(identity.clone(), http);
    let state = AppState(Arc::new(Inner {
        config,
        store,
        identity,
        partners,
        client,
        public_url,
        catalogue_loaded: AtomicBool::new(true),
        audit,
    }));

    let (shutdown, stopped) = watch::channel(false);
    let dsp_app = dsp::router()
        .merge(health::router())
        .with_state(state.clone());
    let management_app =
        management::router(state.clone()).merge(health::router().with_state(state.clone()));
    let servers = vec![
        serve(dsp_listener, dsp_app, stopped.clone()),
        serve(management_listener, management_app, stopped),
    ];
    tracing::info!(dsp = %dsp_addr, management = %management_addr, participant = state.participant_id(), "twinport started");
    Ok(RunningConnector {
        dsp_addr,
        management_addr,
        state,
        shutdown,
        servers,
    })
}

fn serve(
    listener: TcpListener,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "server stopped with an error");
        }
    })
}

impl AppState {
    /// Marks the catalogue as (not) loaded; `/readyz` reports it.
    pub fn set_catalogue_loaded(&self, loaded: bool) {
        self.0.catalogue_loaded.store(loaded, Ordering::Relaxed);
    }
}
