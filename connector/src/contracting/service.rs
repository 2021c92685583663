//! The contracting service: everything negotiation and transfer processes need, built once by the assembly from
//! explicit parts (store, audit log, our identity, the partners, the policy engine, the `[contracts]` settings) and
//! handed to the surfaces that drive it (DSP messages from partners, operator actions on the management API, the
//! data plane's state checks). Clones share one instance.

use std::sync::{Arc, OnceLock};

use twinport_policy::zone::PolicyZone;

use super::catalogue_views::CatalogueViews;
use super::creation::CreationLocks;
use super::decision::PolicyService;
use super::events::Events;
use super::outbox::OutboxSignal;
use crate::audit::{AuditLog, PartnerLogs};
use crate::config::ContractsConfig;
use crate::identity::LocalIdentity;
use crate::partners::Partners;
use crate::paths::DSP_PATH;
use crate::storage::Store;
use crate::telemetry::Telemetry;

/// Called with a push transfer's id once it started as provider: the data plane streams it to the consumer. The
/// data plane sits above contracting, so the assembly connects the two (see [`Contracting::on_push_started`]).
pub type PushStarter = Box<dyn Fn(String) + Send + Sync>;

/// The parts the service is built from.
pub struct ContractingParts {
    pub store: Store,
    pub audit: AuditLog,
    pub identity: LocalIdentity,
    pub partners: Partners,
    pub policy: PolicyService,
    pub settings: ContractsConfig,
    pub policy_time_zone: PolicyZone,
    /// The URL partners reach us at (no trailing slash).
    pub public_url: String,
    pub telemetry: Telemetry,
}

/// The contracting service; cheap to clone.
#[derive(Clone)]
pub struct Contracting(Arc<Inner>);

struct Inner {
    parts: ContractingParts,
    partner_logs: PartnerLogs,
    events: Events,
    outbox: OutboxSignal,
    creations: CreationLocks,
    push_starter: OnceLock<PushStarter>,
    views: CatalogueViews,
}

impl Contracting {
    pub fn new(parts: ContractingParts) -> Contracting {
        let partner_logs = PartnerLogs::new(
            parts.audit.clone(),
            parts.partners.clone(),
            parts.identity.clone(),
        );
        Contracting(Arc::new(Inner {
            parts,
            partner_logs,
            events: Events::default(),
            outbox: OutboxSignal::default(),
            creations: CreationLocks::default(),
            push_starter: OnceLock::new(),
            views: CatalogueViews::default(),
        }))
    }

    pub fn store(&self) -> &Store {
        &self.0.parts.store
    }

    /// The audit log every exchange is recorded in before it is acknowledged.
    pub fn audit(&self) -> &AuditLog {
        &self.0.parts.audit
    }

    /// Partners' logs: receipts for what we send are collected there.
    pub fn partner_logs(&self) -> &PartnerLogs {
        &self.0.partner_logs
    }

    pub fn identity(&self) -> &LocalIdentity {
        &self.0.parts.identity
    }

    /// The credential types our policies read, which DCP partners are asked to present besides the required ones.
    pub async fn policy_credential_types(
        &self,
    ) -> Result<std::sync::Arc<Vec<String>>, crate::storage::StorageError> {
        self.0.views.credential_types(&self.0.parts.store).await
    }

    pub fn participant_id(&self) -> &str {
        &self.0.parts.identity.participant_id
    }

    pub fn partners(&self) -> &Partners {
        &self.0.parts.partners
    }

    pub fn policy(&self) -> &PolicyService {
        &self.0.parts.policy
    }

    /// `[contracts]`: acknowledgement wait, acceptance policies, countersignatures.
    pub fn settings(&self) -> &ContractsConfig {
        &self.0.parts.settings
    }

    /// The time zone policies are read in unless they name their own.
    pub fn policy_time_zone(&self) -> &PolicyZone {
        &self.0.parts.policy_time_zone
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.0.parts.telemetry
    }

    pub fn events(&self) -> &Events {
        &self.0.events
    }

    pub fn outbox_signal(&self) -> &OutboxSignal {
        &self.0.outbox
    }

    /// What each partner may see of our catalogue, kept per catalogue version (see [`super::catalogue_views`]).
    pub(super) fn views(&self) -> &CatalogueViews {
        &self.0.views
    }

    /// Serialises process creation per partner pid (see [`super::creation`]).
    pub fn creations(&self) -> &CreationLocks {
        &self.0.creations
    }

    /// The URL partners reach us at (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.0.parts.public_url
    }

    /// Absolute URL of our DSP 2025-1 base.
    pub fn dsp_base(&self) -> String {
        format!("{}{}", self.0.parts.public_url, DSP_PATH)
    }

    /// After a process change committed: tell waiters, and wake the outbox if the change queued messages.
    pub fn after_change(&self, process_id: &str, state: &str, queued: bool) {
        self.0.events.publish(process_id, state);
        if queued {
            self.0.outbox.wake();
        }
    }

    /// Connects the data plane, which streams a push transfer once it started; set once by the assembly.
    pub fn on_push_started(&self, starter: PushStarter) {
        if self.0.push_starter.set(starter).is_err() {
            tracing::error!("the push starter was connected twice; keeping the first");
        }
    }

    /// Hands a started push transfer to the data plane.
    pub(crate) fn start_push(&self, transfer_id: &str) {
        match self.0.push_starter.get() {
            Some(start) => start(transfer_id.to_string()),
            None => tracing::error!(
                transfer = transfer_id,
                "no data plane connected to push with"
            ),
        }
    }
}
