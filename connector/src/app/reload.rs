//! Changes without a restart. On SIGHUP the connector reads its config file again and, if it is valid, reloads
//! the TLS certificate files, the catalogue directory (policy files, then resource files, then the retirement of
//! file policies whose file is gone) and the config file's partners, then the API partners as stored (so replicas
//! sharing a database converge). A config file that does not validate changes nothing. One line is logged per
//! kind, and what changed is recorded in the audit log as a management action by `sighup`. A stored API partner
//! whose id the config file declares is dropped, never trusted again unseen when the file lets the id go.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::AppState;
use crate::catalogue::reload::{CatalogueChange, Retired};
use crate::config::Config;
use crate::contracting::Contracting;
use crate::identity::FilePartnersChange;
use crate::management::{ManagementEntry, Principal};
use crate::partners::Changing;
use crate::storage::{StorageError, StoredPartner};
use crate::tls::TlsReload;

/// How often a replica on PostgreSQL reads the API partners again, so a partner removed through another replica
/// is refused here within this time (the replica that removed it refuses it at once).
const API_PARTNER_SYNC: Duration = Duration::from_secs(3);

/// The subject recorded for changes a reload made (the person who sent the signal is not known).
pub const RELOAD_SUBJECT: &str = "sighup";

/// The subject recorded when a stored partner is dropped because the config file declares its id.
pub const FILE_SUBJECT: &str = "config-file";

/// What one reload did.
#[derive(Debug, Clone)]
pub struct ReloadReport {
    /// Why nothing was reloaded (the config file could not be read or is invalid).
    pub refused: Option<String>,
    pub tls: Option<TlsReload>,
    pub partners: FilePartnersChange,
    pub api_partners: ApiPartners,
    /// The catalogue directory's changes, or why the reload stopped (policies written before the error stay).
    pub catalogue: Result<CatalogueChange, String>,
}

impl ReloadReport {
    fn refused(why: String) -> ReloadReport {
        ReloadReport {
            refused: Some(why),
            tls: None,
            partners: FilePartnersChange::default(),
            api_partners: ApiPartners::default(),
            catalogue: Ok(CatalogueChange::default()),
        }
    }
}

/// How the directory's API partners were brought in line with the store.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApiPartners {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// Stored partners the config file declares too: the file's entry is used and the stored one was dropped.
    pub shadowed: Vec<String>,
    /// Stored partners today's checks refuse, with why (not trusted).
    pub refused: Vec<(String, String)>,
}

/// Listens for SIGHUP until `stopped`, reloading on each. Spawned for every connector: while no handler is
/// installed, SIGHUP's default action ends the process (exit 129, nothing logged).
pub fn spawn_on_sighup(state: AppState, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut hangups = match signal(SignalKind::hangup()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGHUP: changes take effect only on restart");
                    return;
                }
            };
            loop {
                // The select only decides; the reload runs after it, holding no borrow of the stop signal.
                let hangup = tokio::select! {
                    _ = stopped.wait_for(|s| *s) => false,
                    got = hangups.recv() => got.is_some(),
                };
                if !hangup {
                    return;
                }
                tracing::info!("SIGHUP received: reloading");
                reload(&state).await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = (state, stopped.wait_for(|s| *s).await);
        }
    })
}

/// Reloads from the config file the connector was started from; one started from a config value alone (tests,
/// the demo) reloads its certificates only.
pub async fn reload(state: &AppState) -> ReloadReport {
    let Some(path) = state.0.config_path.clone() else {
        let _guard = state.0.reloading.lock().await;
        return ReloadReport {
            tls: Some(crate::tls::reload_and_log(state.tls())),
            ..ReloadReport::refused(
                "started without a config file: only certificates reload".into(),
            )
        };
    };
    match Config::load(&path) {
        Ok(config) => reload_with(state, config).await,
        Err(e) => refuse(&path, e.to_string()),
    }
}

fn refuse(path: &std::path::Path, why: String) -> ReloadReport {
    tracing::error!(file = %path.display(), "reload refused, nothing changed: {why}");
    ReloadReport::refused(why)
}

/// Applies a freshly validated config (the file read again). Reloads run one at a time.
pub async fn reload_with(state: &AppState, config: Config) -> ReloadReport {
    let _guard = state.0.reloading.lock().await;
    warn_restart_only(state.config(), &config);
    let tls = crate::tls::reload_and_log(state.tls());
    let contracting = state.contracting();
    let catalogue = match crate::catalogue::reload::reload(
        contracting.store(),
        &config.catalogue_dir,
        &config.catalogue,
    )
    .await
    {
        Ok(change) => {
            log_catalogue(&change);
            Ok(change)
        }
        Err(e) => {
            // Policies are written one by one before the resources: a storage error part-way leaves those written
            // before it in force, so the log must not claim that nothing changed.
            tracing::error!(dir = %config.catalogue_dir.display(), "reload: catalogue reload stopped: {e}; policy files read before the error are in force (GET /api/v1/policies shows which), the rest unchanged; send SIGHUP again once fixed");
            Err(e.to_string())
        }
    };
    // One lock from the file's partners to the stored ones: no API change lands between the two.
    let changing = contracting.partners().changing().await;
    let partners = contracting
        .partners()
        .replace_file_partners(&config.partners);
    tracing::info!(added = ?partners.added, changed = ?partners.changed, removed = ?partners.removed,
        "reload: partners from the config file: {} added, {} changed, {} removed",
        partners.added.len(), partners.changed.len(), partners.removed.len());
    if config.tls.mutual && !partners.added.is_empty() {
        tracing::warn!(partners = ?partners.added,
            "reload: with mutual TLS, partners' certificates are read at start only: these partners are refused until a restart");
    }
    let api_partners = match sync_holding(&changing, contracting, &partners.removed, true).await {
        Ok(api) => api,
        Err(e) => {
            tracing::error!(error = %e, "reload: API partners not read again");
            ApiPartners::default()
        }
    };
    drop(changing);
    let report = ReloadReport {
        refused: None,
        tls: Some(tls),
        partners,
        api_partners,
        catalogue,
    };
    record(contracting, &report).await;
    report
}

/// Brings the directory's API partners in line with the store: at start (all of them) and at each reload (those
/// another replica added, changed or removed meanwhile). A stored partner today's checks refuse is not trusted.
/// `report_refused` logs the stored partners that are refused (not on every periodic pass, which would repeat it).
/// Holds the lock on partner changes from the read to the last change, so a partner removed through the API
/// meanwhile is not put back from what was read before.
pub async fn sync_api_partners(
    contracting: &Contracting,
    report_refused: bool,
) -> Result<ApiPartners, StorageError> {
    let changing = contracting.partners().changing().await;
    sync_holding(&changing, contracting, &[], report_refused).await
}

async fn sync_holding(
    changing: &Changing<'_>,
    contracting: &Contracting,
    uncovered: &[String],
    report_refused: bool,
) -> Result<ApiPartners, StorageError> {
    let stored = contracting.store().api_partners().await?;
    apply_stored(changing, contracting, stored, uncovered, report_refused).await
}

/// Applies stored API partners, as read under the same `changing` lock, to the directory. A stored partner whose
/// id the config file declares is dropped from the store (warned about and audited with its body): the file's
/// entry is used. So is one `uncovered`, a file partner this reload removed: the entry it hid is not trusted
/// again unseen (fail closed), an operator adds it again through the API.
pub async fn apply_stored(
    _changing: &Changing<'_>,
    contracting: &Contracting,
    stored: Vec<StoredPartner>,
    uncovered: &[String],
    report_refused: bool,
) -> Result<ApiPartners, StorageError> {
    let mut out = ApiPartners::default();
    let partners = contracting.partners();
    let directory = partners.directory();
    let mut kept = HashSet::new();
    for row in stored {
        let file = directory.source(&row.id) == Some(crate::identity::PartnerSource::File);
        if file || uncovered.contains(&row.id) {
            drop_shadowed(contracting, &row, file).await?;
            out.shadowed.push(row.id);
            continue;
        }
        let config = match crate::management::validated_partner(contracting, row.body) {
            Ok(c) if c.id == row.id => c,
            Ok(c) => {
                out.refused.push((
                    row.id.clone(),
                    format!("its body names another id ({})", c.id),
                ));
                continue;
            }
            Err(e) => {
                out.refused.push((row.id.clone(), e.to_string()));
                continue;
            }
        };
        match directory.source(&config.id) {
            Some(_) if directory.holds(&config) => {}
            Some(_) => {
                out.changed.push(config.id.clone());
                partners.put_api(config.clone());
            }
            None => {
                out.added.push(config.id.clone());
                partners.put_api(config.clone());
            }
        }
        kept.insert(config.id);
    }
    for id in directory.api_ids() {
        if !kept.contains(&id) {
            partners.remove_api(&id);
            out.removed.push(id);
        }
    }
    for (id, why) in out.refused.iter().filter(|_| report_refused) {
        tracing::error!(partner = %id, "stored partner refused by today's checks, not trusted: {why}");
    }
    if !out.shadowed.is_empty() {
        tracing::warn!(partners = ?out.shadowed,
            "stored API partners dropped: the config file declares them (its entries are used) or just stopped \
             declaring them; they are not trusted as API partners until added again");
    }
    if !(out.added.is_empty() && out.changed.is_empty() && out.removed.is_empty()) {
        tracing::info!(added = ?out.added, changed = ?out.changed, removed = ?out.removed,
            "partners from the management API loaded");
    }
    Ok(out)
}

/// Deletes a stored partner the config file now declares, recording what was trusted before (the entry is made
/// first: a drop that could not be recorded is not made, and is tried again at the next sync).
async fn drop_shadowed(
    contracting: &Contracting,
    row: &StoredPartner,
    file: bool,
) -> Result<(), StorageError> {
    let reason = if file {
        "declared in the config file, whose entry is used"
    } else {
        "hidden by a config file entry that was removed: not trusted again until added again"
    };
    let who = Principal {
        subject: FILE_SUBJECT.into(),
        name: None,
        email: None,
        roles: Vec::new(),
    };
    let entry = match crate::management::partner_entry(
        &who,
        "partner.delete",
        serde_json::json!({"partner": row.id, "reason": reason}),
        Some(&row.body),
    ) {
        Ok(entry) => entry,
        Err(e) => {
            tracing::error!(partner = %row.id, error = %e, "stored partner shadowed by the config file not dropped: its removal cannot be recorded");
            return Ok(());
        }
    };
    if contracting.store().delete_api_partner(&row.id).await? {
        if let Err(e) = entry.record(contracting).await {
            tracing::error!(partner = %row.id, error = %e, "dropped stored partner not recorded in the audit log");
        }
    }
    Ok(())
}

/// Keeps the API partners of a replica on PostgreSQL in line with what the other replicas changed; on SQLite one
/// process owns the database and every change goes through it.
pub fn spawn_api_partner_sync(
    contracting: Contracting,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(API_PARTNER_SYNC);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let due = tokio::select! {
                _ = stopped.wait_for(|s| *s) => false,
                _ = tick.tick() => true,
            };
            if !due {
                return;
            }
            if let Err(e) = sync_api_partners(&contracting, false).await {
                tracing::warn!(error = %e, "cannot read the API partners again; will retry");
            }
        }
    })
}

fn log_catalogue(change: &CatalogueChange) {
    for (id, problems) in &change.policies_refused {
        tracing::error!(policy = %id, problems = ?problems,
            "reload: policy file refused, the version in force stays: {}", problems.join("; "));
    }
    let refused: Vec<&str> = change
        .policies_refused
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    let Retired { retired, kept } = &change.retired;
    let kept: Vec<&str> = kept.iter().map(|(id, _)| id.as_str()).collect();
    tracing::info!(added = ?change.policies_added, changed = ?change.policies_changed, refused = ?refused,
        retired = ?retired, kept_while_offered = ?kept,
        "reload: policies: {} added, {} changed, {} refused, {} retired",
        change.policies_added.len(), change.policies_changed.len(), refused.len(), retired.len());
    crate::catalogue::reload::log_retired(&change.retired);
    match &change.resources_refused {
        Some(why) => tracing::error!(
            "reload: resource files refused, the resources stay as they were: {why}"
        ),
        None => {
            tracing::info!(added = ?change.resources_added, changed = ?change.resources_changed,
            removed = ?change.resources_removed,
            "reload: resources: {} added, {} changed, {} removed",
            change.resources_added.len(), change.resources_changed.len(), change.resources_removed.len())
        }
    }
}

/// Partner settings read at start only (certificates, acceptance policies): a change is reported, not applied.
fn warn_restart_only(running: &Config, new: &Config) {
    let tls = |c: &Config| -> BTreeMap<String, String> {
        c.tls
            .partners
            .iter()
            .map(|p| (p.partner.clone(), format!("{:?} {:?}", p.fingerprint, p.ca)))
            .collect()
    };
    let accept = |c: &Config| -> BTreeMap<String, String> {
        c.contracts
            .partner_accept_policies
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    if tls(running) != tls(new) || accept(running) != accept(new) {
        tracing::warn!(
            "reload: partners' tls_fingerprint, tls_ca and accept_policy take effect at the next restart"
        );
    }
}

/// Records what changed as one management action; a reload that changed nothing records nothing.
async fn record(contracting: &Contracting, report: &ReloadReport) {
    let mut change = serde_json::Map::new();
    let p = &report.partners;
    if !p.is_empty() {
        change.insert(
            "partners".into(),
            serde_json::json!({"added": p.added, "changed": p.changed, "removed": p.removed}),
        );
    }
    let a = &report.api_partners;
    if !(a.added.is_empty() && a.changed.is_empty() && a.removed.is_empty()) {
        change.insert(
            "api_partners".into(),
            serde_json::json!({"added": a.added, "changed": a.changed, "removed": a.removed}),
        );
    }
    if let Ok(c) = &report.catalogue {
        let refused: Vec<&str> = c
            .policies_refused
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        if !(c.policies_added.is_empty()
            && c.policies_changed.is_empty()
            && refused.is_empty()
            && c.retired.retired.is_empty())
        {
            change.insert(
                "policies".into(),
                serde_json::json!({"added": c.policies_added,
                "changed": c.policies_changed, "refused": refused, "retired": c.retired.retired}),
            );
        }
        if !(c.resources_added.is_empty()
            && c.resources_changed.is_empty()
            && c.resources_removed.is_empty())
        {
            change.insert(
                "resources".into(),
                serde_json::json!({"added": c.resources_added,
                "changed": c.resources_changed, "removed": c.resources_removed}),
            );
        }
    }
    if change.is_empty() {
        return;
    }
    let who = Principal {
        subject: RELOAD_SUBJECT.into(),
        name: None,
        email: None,
        roles: Vec::new(),
    };
    let recorded = match ManagementEntry::new(&who, "config.reload", None, change.into()) {
        Ok(entry) => entry.record(contracting).await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "reload: what changed could not be recorded in the audit log");
    }
}
