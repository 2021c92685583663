//! What the data-plane routes (the provider's `/data`, the consumer's `/push` receiver and local listener) work with: the contracting
//! service (transfers, agreements, policy, audit), the data plane's own clients and caches ([`DataPlane`]), the
//! partner-certificate check, and the few settings of the data plane. Built once by the assembly.

use std::path::PathBuf;
use std::sync::Arc;

use super::DataPlane;
use crate::audit::AuditLog;
use crate::contracting::decision::PolicyService;
use crate::contracting::{Contracting, PushStarter};
use crate::identity::LocalIdentity;
use crate::partners::Partners;
use crate::storage::Store;
use crate::tls::Tls;

/// The data plane's settings, from the validated config.
#[derive(Debug, Clone)]
pub struct DataPlaneSettings {
    /// Where received pushes and the consumer's receipts are written.
    pub data_dir: PathBuf,
    /// The most a pushed body may hold, in MiB.
    pub max_push_mb: u64,
    /// Host names the local listener answers to.
    pub local_hosts: Vec<String>,
    /// Browser origins allowed to call the local listener.
    pub local_allowed_origins: Vec<String>,
}

/// The state of the data-plane routes; cheap to clone.
#[derive(Clone)]
pub struct DataPlaneState(Arc<Inner>);

struct Inner {
    contracting: Contracting,
    plane: DataPlane,
    tls: Arc<Tls>,
    settings: DataPlaneSettings,
}

impl DataPlaneState {
    pub fn new(
        contracting: Contracting,
        plane: DataPlane,
        tls: Arc<Tls>,
        settings: DataPlaneSettings,
    ) -> DataPlaneState {
        DataPlaneState(Arc::new(Inner {
            contracting,
            plane,
            tls,
            settings,
        }))
    }

    pub fn contracting(&self) -> &Contracting {
        &self.0.contracting
    }

    /// The data plane's clients, caches and background work.
    pub fn data_plane(&self) -> &DataPlane {
        &self.0.plane
    }

    pub fn settings(&self) -> &DataPlaneSettings {
        &self.0.settings
    }

    /// Transport security: the partner-certificate check of mutual TLS.
    pub fn tls(&self) -> &Tls {
        &self.0.tls
    }

    pub fn store(&self) -> &Store {
        self.0.contracting.store()
    }

    pub fn audit(&self) -> &AuditLog {
        self.0.contracting.audit()
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

    pub fn policy(&self) -> &PolicyService {
        self.0.contracting.policy()
    }

    /// The URL partners reach us at (no trailing slash).
    pub fn public_url(&self) -> &str {
        self.0.contracting.public_url()
    }

    /// The shared outgoing HTTP client (our certificate, when mutual TLS is configured).
    pub fn http(&self) -> &reqwest::Client {
        self.0.contracting.partners().http()
    }

    /// What contracting calls once a push transfer started as provider: the data plane streams it
    /// ([`super::push::spawn`]). It holds this state weakly, since the state holds the contracting service that
    /// holds it.
    pub fn push_starter(&self) -> PushStarter {
        let weak = Arc::downgrade(&self.0);
        Box::new(move |transfer_id| {
            match weak.upgrade() {
                Some(inner) => super::push::spawn(DataPlaneState(inner), transfer_id),
                // Only after the connector stopped: the push goes out when the transfer is resumed after a restart.
                None => {
                    tracing::warn!(transfer = %transfer_id, "push not started: the data plane has stopped")
                }
            }
        })
    }

    /// After a process change committed (see [`Contracting::after_change`]).
    pub fn after_change(&self, process_id: &str, state: &str, queued: bool) {
        self.0.contracting.after_change(process_id, state, queued)
    }
}
