//! Who we exchange with, as one service: the configured partner directory (each partner's URL and keys), where each
//! partner's DSP endpoint is (discovered once through its version metadata, then remembered), which Twinport
//! extensions it advertises ([`extensions`]), and the clients that reach it. Partners come and go while it runs
//! (the management API, a SIGHUP reload): whatever was remembered about a partner that changed or left is
//! forgotten with it. Every change to the API partners (the management handlers, the sync with the store) runs
//! under one lock ([`Partners::changing`]), so a sync that read the store before a removal cannot put the removed
//! partner back.

pub mod extensions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::client::DspClient;
use crate::config::PartnerConfig;
use crate::identity::{FilePartnersChange, PartnerDirectory};
use crate::telemetry::traces::Traces;

/// The partners service; cheap to clone.
#[derive(Clone)]
pub struct Partners(Arc<Inner>);

struct Inner {
    directory: PartnerDirectory,
    client: DspClient,
    http: reqwest::Client,
    traces: Traces,
    extensions: extensions::ExtensionCache,
    dsp_bases: Mutex<HashMap<String, String>>,
    changes: tokio::sync::Mutex<()>,
}

/// Proof that the caller holds the lock on API partner changes: taken across a store write and the matching
/// change of the directory, or across a read of the store and its application.
pub struct Changing<'a>(#[allow(dead_code)] tokio::sync::MutexGuard<'a, ()>);

impl Partners {
    /// `http` is the shared outgoing client (it presents our certificate when mutual TLS is configured); `client`
    /// signs DSP requests with our key.
    pub fn new(
        directory: PartnerDirectory,
        client: DspClient,
        http: reqwest::Client,
        traces: Traces,
    ) -> Partners {
        Partners(Arc::new(Inner {
            directory,
            client,
            http,
            traces,
            extensions: Default::default(),
            dsp_bases: Default::default(),
            changes: Default::default(),
        }))
    }

    /// Waits for, then holds, the one lock on API partner changes (see [`Changing`]).
    pub async fn changing(&self) -> Changing<'_> {
        Changing(self.0.changes.lock().await)
    }

    /// The configured partners and their keys.
    pub fn directory(&self) -> &PartnerDirectory {
        &self.0.directory
    }

    /// A configured partner, as it stands now (its URL may have been changed since start).
    pub fn get(&self, id: &str) -> Option<PartnerConfig> {
        self.0.directory.get(id)
    }

    /// The DSP consumer client.
    pub fn client(&self) -> &DspClient {
        &self.0.client
    }

    /// The shared outgoing HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    /// The tracer outgoing requests are traced with.
    pub fn traces(&self) -> &Traces {
        &self.0.traces
    }

    /// What partners advertise at `/.well-known/twinport`, remembered (see [`extensions`]).
    pub fn extensions(&self) -> &extensions::ExtensionCache {
        &self.0.extensions
    }

    /// Points a configured partner at a new root URL and forgets its discovered DSP base.
    pub fn set_url(&self, partner: &str, url: &str) {
        self.0.directory.set_url(partner, url);
        if let Ok(mut m) = self.0.dsp_bases.lock() {
            m.remove(partner);
        }
    }

    /// Adds or replaces a partner from the management API (refused, `false`, for a partner the config file
    /// declares). What was discovered about the old entry is forgotten.
    pub fn put_api(&self, config: PartnerConfig) -> bool {
        let before = self.get(&config.id);
        let id = config.id.clone();
        let put = self.0.directory.put_api(config);
        if put {
            self.forget(&id, before);
        }
        put
    }

    /// Removes a partner added through the management API; its tokens stop verifying at once.
    pub fn remove_api(&self, id: &str) -> bool {
        let before = self.get(id);
        let removed = self.0.directory.remove_api(id);
        if removed {
            self.forget(id, before);
        }
        removed
    }

    /// Makes the config file's partners `file` (a reload), forgetting what was known of those that changed or left.
    pub fn replace_file_partners(&self, file: &[PartnerConfig]) -> FilePartnersChange {
        let before: HashMap<String, PartnerConfig> = self
            .0
            .directory
            .all()
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let change = self.0.directory.replace_file_partners(file);
        for id in change
            .added
            .iter()
            .chain(&change.changed)
            .chain(&change.removed)
        {
            self.forget(id, before.get(id).cloned());
        }
        change
    }

    /// Drops a partner's remembered DSP base and the extensions its old root advertised.
    fn forget(&self, id: &str, before: Option<PartnerConfig>) {
        if let Ok(mut m) = self.0.dsp_bases.lock() {
            m.remove(id);
        }
        if let Some(url) = before.and_then(|p| p.url) {
            self.0.extensions.forget(url.trim_end_matches('/'));
        }
    }

    /// The root URL of a partner's connector: configured or set, or (for a partner known by DID) the one its DID
    /// document names, which is then remembered.
    pub async fn root_url(&self, partner: &str) -> Result<String, String> {
        let config = self
            .0
            .directory
            .get(partner)
            .ok_or_else(|| format!("{partner} is not a partner"))?;
        if let Some(url) = config.url {
            return Ok(url.trim_end_matches('/').to_string());
        }
        match self.0.directory.dcp() {
            Some(dcp) if partner.starts_with("did:web:") => {
                let url = dcp
                    .connector_url(partner)
                    .await
                    .map_err(|r| r.to_string())?;
                self.0.directory.set_url(partner, &url);
                Ok(url)
            }
            _ => Err(format!("partner {partner} has no url configured")),
        }
    }

    /// The DSP 2025-1 base of a partner, discovered once through its version metadata and then remembered.
    /// `None` while the partner cannot be reached; callers queue with a placeholder resolved at delivery.
    pub async fn dsp_base(&self, partner: &str) -> Option<String> {
        self.discover(partner).await.ok()
    }

    /// Like [`Partners::dsp_base`], saying why discovery failed.
    pub async fn discover(&self, partner: &str) -> Result<String, String> {
        let cached = self
            .0
            .dsp_bases
            .lock()
            .ok()
            .and_then(|m| m.get(partner).cloned());
        if let Some(base) = cached {
            return Ok(base);
        }
        let config = self
            .0
            .directory
            .get(partner)
            .ok_or_else(|| format!("{partner} is not a configured partner"))?;
        match self.0.client.discover(&config).await {
            Ok(base) => {
                if let Ok(mut m) = self.0.dsp_bases.lock() {
                    m.insert(partner.to_string(), base.clone());
                }
                Ok(base)
            }
            Err(e) => {
                tracing::warn!(partner, error = %e, "cannot discover the partner's DSP endpoint yet");
                Err(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PartnerKeys;
    use crate::identity::LocalIdentity;
    use twinport_contracts::identity::{KeyAlgorithm, SigningKey};

    fn partner(id: &str, url: &str) -> PartnerConfig {
        PartnerConfig {
            id: id.into(),
            name: None,
            url: Some(url.into()),
            keys: PartnerKeys::Inline(SigningKey::generate(KeyAlgorithm::EdDsa).unwrap().jwks()),
            claims: Default::default(),
        }
    }

    fn remembered(partners: &Partners, id: &str) -> bool {
        partners.0.dsp_bases.lock().unwrap().contains_key(id)
    }

    #[test]
    fn what_was_discovered_about_a_changed_or_removed_partner_is_forgotten() {
        let key = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
        let identity = LocalIdentity::new("https://us.example".into(), key);
        let http = reqwest::Client::new();
        let file = partner("https://file.example", "https://file.example");
        let partners = Partners::new(
            PartnerDirectory::new(std::slice::from_ref(&file), http.clone()),
            DspClient::new(identity, http.clone()),
            http,
            Traces::default(),
        );
        let api = partner("https://api.example", "https://api.example");
        assert!(partners.put_api(api.clone()));
        let remember = |id: &str| {
            partners
                .0
                .dsp_bases
                .lock()
                .unwrap()
                .insert(id.into(), format!("{id}/dsp"));
        };
        remember("https://api.example");
        remember("https://file.example");

        assert!(partners.put_api(partner("https://api.example", "https://moved.example")));
        assert!(
            !remembered(&partners, "https://api.example"),
            "changed: asked again"
        );
        remember("https://api.example");
        assert!(partners.remove_api("https://api.example"));
        assert!(
            !remembered(&partners, "https://api.example"),
            "removed: forgotten"
        );
        assert!(partners.get("https://api.example").is_none());

        // A reload that leaves the file partner unchanged keeps what was discovered; one that drops it does not.
        assert!(partners
            .replace_file_partners(std::slice::from_ref(&file))
            .is_empty());
        assert!(remembered(&partners, "https://file.example"));
        assert_eq!(
            partners.replace_file_partners(&[]).removed,
            ["https://file.example"]
        );
        assert!(!remembered(&partners, "https://file.example"));
    }
}
