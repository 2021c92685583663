//! The partners this connector trusts and their public keys: given inline in the config, or fetched from a JWKS URL
//! and cached, with one early refresh when a token names a key we have not seen (the partner rotated its key).
//! With `[dcp]`, a partner may also be known only by its DID: its keys are in its DID document and its claims are
//! what its credentials said when it last authenticated, so it needs no entry here at all.
//! The directory changes while the connector runs (partners added through the management API, the config file's
//! partners reloaded on SIGHUP): a partner removed here is unknown to the very next token check.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use twinport_contracts::identity::Jwks;

use super::dcp::Dcp;
use crate::config::{PartnerConfig, PartnerKeys};

/// Fetching a JWKS again because of an unknown key is rate-limited, so a stream of bogus tokens cannot turn us
/// into a request amplifier against the partner.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Cached {
    jwks: Jwks,
    fetched: Instant,
}

#[derive(Debug)]
struct Entry {
    config: PartnerConfig,
    source: PartnerSource,
    cache: Mutex<Option<Cached>>,
}

impl Entry {
    fn new(config: PartnerConfig, source: PartnerSource) -> Arc<Entry> {
        Arc::new(Entry {
            config,
            source,
            cache: Mutex::new(None),
        })
    }
}

/// Where a partner entry comes from: the config file's `[[partners]]` (changed by editing the file and sending
/// SIGHUP) or the management API (stored in the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerSource {
    File,
    Api,
}

impl PartnerSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerSource::File => "file",
            PartnerSource::Api => "api",
        }
    }
}

/// What replacing the config file's partners changed, by participant id.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FilePartnersChange {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// API partners the file now declares too: the file's entry is used, the stored one is shadowed.
    pub shadowed: Vec<String>,
}

impl FilePartnersChange {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Configured partners by participant id.
#[derive(Debug, Clone)]
pub struct PartnerDirectory {
    /// Entries are shared out (never borrowed across an await), so a key fetch in flight for a partner that is
    /// removed meanwhile finishes on its own copy and the directory no longer knows the partner.
    partners: Arc<std::sync::RwLock<HashMap<String, Arc<Entry>>>>,
    /// Partner root URLs learnt or set at run time, overriding the configured ones.
    urls: Arc<std::sync::RwLock<HashMap<String, String>>>,
    http: reqwest::Client,
    dcp: Option<Dcp>,
}

/// Why a partner's keys are not available.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("partner is not configured")]
    UnknownPartner,
    #[error("cannot fetch the partner's JWKS from {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("the partner is known by its DID, but this connector does not speak DCP")]
    ByDid,
    #[error("{0}")]
    Did(String),
}

impl PartnerDirectory {
    pub fn new(partners: &[PartnerConfig], http: reqwest::Client) -> PartnerDirectory {
        let map = partners
            .iter()
            .map(|p| (p.id.clone(), Entry::new(p.clone(), PartnerSource::File)))
            .collect();
        PartnerDirectory {
            partners: Arc::new(std::sync::RwLock::new(map)),
            urls: Default::default(),
            http,
            dcp: None,
        }
    }

    /// Lets partners be known by DID and verified credentials.
    pub fn with_dcp(mut self, dcp: Dcp) -> PartnerDirectory {
        self.dcp = Some(dcp);
        self
    }

    /// The DCP service, when `[dcp]` is configured.
    pub fn dcp(&self) -> Option<&Dcp> {
        self.dcp.as_ref()
    }

    /// A partner, with its current root URL: a configured one, or (with DCP) any `did:web` participant, whose
    /// claims are those its credentials made when it last authenticated (none before, or once they expired).
    pub fn get(&self, id: &str) -> Option<PartnerConfig> {
        let mut config = match (self.entry(id), &self.dcp) {
            (Some(entry), _) => entry.config.clone(),
            (None, Some(_)) if id.starts_with("did:web:") => PartnerConfig {
                id: id.to_string(),
                name: None,
                url: None,
                keys: PartnerKeys::Did,
                claims: Default::default(),
            },
            (None, _) => return None,
        };
        if let (PartnerKeys::Did, Some(dcp)) = (&config.keys, &self.dcp) {
            if let Some(claims) = dcp.claims(id) {
                config.claims = claims;
            }
        }
        if let Some(url) = self.urls.read().ok().and_then(|u| u.get(id).cloned()) {
            config.url = Some(url);
        }
        Some(config)
    }

    /// Like [`PartnerDirectory::get`], for a partner known by DID also reading what its credentials proved at
    /// another replica or before a restart (the data plane judges its requests on those claims).
    pub async fn current(
        &self,
        id: &str,
        store: &crate::storage::Store,
    ) -> Result<Option<PartnerConfig>, crate::storage::StorageError> {
        let partner = self.get(id);
        if let (Some(p), Some(dcp)) = (&partner, &self.dcp) {
            if matches!(p.keys, PartnerKeys::Did) && !dcp.claims_are_fresh(id) {
                dcp.claims_or_stored(id, store).await?;
                return Ok(self.get(id));
            }
        }
        Ok(partner)
    }

    /// The claims the config attests for a partner (none for a partner known only by DID).
    pub fn configured_claims(&self, id: &str) -> serde_json::Map<String, serde_json::Value> {
        self.entry(id)
            .map(|e| e.config.claims.clone())
            .unwrap_or_default()
    }

    /// Whether `id` is a partner now: it has an entry, or (with DCP) it is a `did:web` participant. Cheap enough
    /// for every data-plane request: one read of the in-memory map.
    pub fn trusts(&self, id: &str) -> bool {
        self.read().contains_key(id) || (self.dcp.is_some() && id.starts_with("did:web:"))
    }

    /// Where a partner entry comes from; `None` for a partner known only by DID (or not at all).
    pub fn source(&self, id: &str) -> Option<PartnerSource> {
        self.entry(id).map(|e| e.source)
    }

    /// Whether the directory's entry for this partner says exactly what `config` says (the URL as configured,
    /// not as learnt at run time).
    pub fn holds(&self, config: &PartnerConfig) -> bool {
        self.entry(&config.id)
            .is_some_and(|e| same_partner(&e.config, config))
    }

    /// The partners that came from the management API, by id.
    pub fn api_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .read()
            .iter()
            .filter(|(_, e)| e.source == PartnerSource::Api)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn entry(&self, id: &str) -> Option<Arc<Entry>> {
        self.read().get(id).cloned()
    }

    // A poisoned lock only means a panic elsewhere while holding it; the map itself is always whole.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Entry>>> {
        self.partners.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Entry>>> {
        self.partners.write().unwrap_or_else(|e| e.into_inner())
    }

    fn forget_url(&self, id: &str) {
        if let Ok(mut urls) = self.urls.write() {
            urls.remove(id);
        }
    }

    /// Adds or replaces a partner from the management API. A partner the config file declares is left alone
    /// (the file wins); returns whether the entry was put.
    pub fn put_api(&self, config: PartnerConfig) -> bool {
        let mut map = self.write();
        if map
            .get(&config.id)
            .is_some_and(|e| e.source == PartnerSource::File)
        {
            return false;
        }
        let id = config.id.clone();
        map.insert(id.clone(), Entry::new(config, PartnerSource::Api));
        drop(map);
        // The stored URL is the one to use now; a URL learnt at run time was for the old entry.
        self.forget_url(&id);
        true
    }

    /// Removes a partner that came from the management API; returns whether there was one.
    pub fn remove_api(&self, id: &str) -> bool {
        let mut map = self.write();
        if !map.get(id).is_some_and(|e| e.source == PartnerSource::Api) {
            return false;
        }
        map.remove(id);
        drop(map);
        self.forget_url(id);
        true
    }

    /// Makes the config file's partners `file` (a reload): new ones are added, changed ones replaced (their cached
    /// keys dropped), missing ones removed. API partners stay, unless the file now declares the same id.
    pub fn replace_file_partners(&self, file: &[PartnerConfig]) -> FilePartnersChange {
        let mut change = FilePartnersChange::default();
        let mut map = self.write();
        let wanted: HashMap<&str, &PartnerConfig> =
            file.iter().map(|p| (p.id.as_str(), p)).collect();
        let gone: Vec<String> = map
            .iter()
            .filter(|(id, e)| e.source == PartnerSource::File && !wanted.contains_key(id.as_str()))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            map.remove(&id);
            change.removed.push(id);
        }
        for p in file {
            match map.get(&p.id) {
                Some(e) if e.source == PartnerSource::File && same_partner(&e.config, p) => {
                    continue
                }
                Some(e) if e.source == PartnerSource::File => change.changed.push(p.id.clone()),
                Some(_) => {
                    change.shadowed.push(p.id.clone());
                    change.added.push(p.id.clone());
                }
                None => change.added.push(p.id.clone()),
            }
            map.insert(p.id.clone(), Entry::new(p.clone(), PartnerSource::File));
        }
        drop(map);
        for id in change
            .changed
            .iter()
            .chain(&change.removed)
            .chain(&change.added)
        {
            self.forget_url(id);
        }
        for list in [
            &mut change.added,
            &mut change.changed,
            &mut change.removed,
            &mut change.shadowed,
        ] {
            list.sort();
        }
        change
    }

    /// Sets where a configured partner's connector can be reached (for example when it moved, or when it was
    /// started after us on an ephemeral port). Unknown partners are ignored: trust comes from the config (or DCP) only.
    pub fn set_url(&self, id: &str, url: &str) {
        if self.read().contains_key(id) || (self.dcp.is_some() && id.starts_with("did:web:")) {
            if let Ok(mut urls) = self.urls.write() {
                urls.insert(id.to_string(), url.trim_end_matches('/').to_string());
            }
        }
    }

    pub fn all(&self) -> Vec<PartnerConfig> {
        let mut ids: Vec<String> = self.read().keys().cloned().collect();
        ids.sort();
        ids.iter().filter_map(|id| self.get(id)).collect()
    }

    /// The partner's keys. `refresh` asks for a fetch even if the cache is fresh (after an unknown `kid`).
    pub async fn keys(&self, id: &str, refresh: bool) -> Result<Jwks, KeysError> {
        let Some(entry) = self.entry(id) else {
            return match &self.dcp {
                Some(dcp) if id.starts_with("did:web:") => did_keys(dcp, id).await,
                _ => Err(KeysError::UnknownPartner),
            };
        };
        let (url, cache_for) = match &entry.config.keys {
            PartnerKeys::Inline(jwks) => return Ok(jwks.clone()),
            PartnerKeys::Url { url, cache_for } => (url, *cache_for),
            PartnerKeys::Did => {
                return match &self.dcp {
                    Some(dcp) => did_keys(dcp, id).await,
                    None => Err(KeysError::ByDid),
                }
            }
        };
        let mut cache = entry.cache.lock().await;
        if let Some(c) = cache.as_ref() {
            let age = c.fetched.elapsed();
            let fresh = age < cache_for;
            if (fresh && !refresh) || (refresh && age < MIN_REFRESH_INTERVAL) {
                return Ok(c.jwks.clone());
            }
        }
        match self.fetch(url).await {
            Ok(jwks) => {
                *cache = Some(Cached {
                    jwks: jwks.clone(),
                    fetched: Instant::now(),
                });
                Ok(jwks)
            }
            // A stale key set beats none while the partner's key endpoint is briefly down.
            Err(e) => match cache.as_ref() {
                Some(c) => {
                    tracing::warn!(partner = id, error = %e, "using cached JWKS after a failed refresh");
                    Ok(c.jwks.clone())
                }
                None => Err(e),
            },
        }
    }

    async fn fetch(&self, url: &str) -> Result<Jwks, KeysError> {
        let fail = |message: String| KeysError::Fetch {
            url: url.to_string(),
            message,
        };
        let response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        let text = response.text().await.map_err(|e| fail(e.to_string()))?;
        Jwks::from_json_str(&text).map_err(|e| fail(e.to_string()))
    }
}

/// Whether two entries for one partner say the same: a reload replaces (and forgets the cached keys of) only
/// the partners whose entry changed.
fn same_partner(a: &PartnerConfig, b: &PartnerConfig) -> bool {
    let keys = |k: &PartnerKeys| match k {
        PartnerKeys::Inline(jwks) => serde_json::to_value(jwks).unwrap_or_default(),
        PartnerKeys::Url { url, cache_for } => {
            serde_json::json!({"url": url, "cache_for": cache_for.as_secs()})
        }
        PartnerKeys::Did => serde_json::json!("did"),
    };
    a.id == b.id
        && a.name == b.name
        && a.url == b.url
        && a.claims == b.claims
        && keys(&a.keys) == keys(&b.keys)
}

/// The keys a partner known by DID signs agreements and receipts with: those its DID document lists for
/// `assertionMethod`.
async fn did_keys(dcp: &Dcp, did: &str) -> Result<Jwks, KeysError> {
    let doc = dcp
        .resolve(did)
        .await
        .map_err(|r| KeysError::Did(r.to_string()))?;
    Ok(doc.keys(twinport_contracts::did::Relationship::AssertionMethod))
}

#[cfg(test)]
mod tests {
    use super::*;
    use twinport_contracts::identity::{KeyAlgorithm, SigningKey};

    fn partner(id: &str, name: &str) -> PartnerConfig {
        PartnerConfig {
            id: id.into(),
            name: Some(name.into()),
            url: Some(format!("{id}/root")),
            keys: PartnerKeys::Inline(SigningKey::generate(KeyAlgorithm::EdDsa).unwrap().jwks()),
            claims: Default::default(),
        }
    }

    #[tokio::test]
    async fn file_and_api_partners_change_while_running_and_the_file_wins() {
        let (a, b, c) = (
            partner("https://a.example", "A"),
            partner("https://b.example", "B"),
            partner("https://c.example", "C"),
        );
        let dir = PartnerDirectory::new(&[a.clone(), b.clone()], reqwest::Client::new());
        assert!(dir.put_api(c.clone()));
        assert!(
            !dir.put_api(a.clone()),
            "a file partner is not replaced through the API"
        );
        assert_eq!(dir.source("https://c.example"), Some(PartnerSource::Api));
        assert!(dir.trusts("https://c.example") && !dir.trusts("https://x.example"));
        assert!(
            !dir.trusts("did:web:x.example"),
            "no DID partners without DCP"
        );
        assert!(dir.keys("https://c.example", false).await.is_ok());
        dir.set_url("https://b.example", "http://127.0.0.1:1");

        // The file now changes B, drops A, and declares C (shadowing the API entry).
        let mut b2 = b.clone();
        b2.name = Some("B, renamed".into());
        let change = dir.replace_file_partners(&[b2.clone(), c.clone()]);
        assert_eq!(change.added, ["https://c.example"]);
        assert_eq!(change.changed, ["https://b.example"]);
        assert_eq!(change.removed, ["https://a.example"]);
        assert_eq!(change.shadowed, ["https://c.example"]);
        assert!(dir.get("https://a.example").is_none());
        assert!(matches!(
            dir.keys("https://a.example", false).await,
            Err(KeysError::UnknownPartner)
        ));
        assert_eq!(
            dir.get("https://b.example").unwrap().url.as_deref(),
            Some("https://b.example/root"),
            "a URL learnt for the old entry is forgotten"
        );
        assert!(dir.holds(&b2) && !dir.holds(&b));
        assert_eq!(dir.source("https://c.example"), Some(PartnerSource::File));
        assert!(
            !dir.remove_api("https://c.example"),
            "a file partner is not removed through the API"
        );
        assert!(dir.api_ids().is_empty());

        // Unchanged entries are left alone.
        assert!(dir.replace_file_partners(&[b2, c]).is_empty());
        let d = partner("https://d.example", "D");
        assert!(dir.put_api(d));
        assert!(dir.remove_api("https://d.example"));
        assert!(dir.get("https://d.example").is_none());
        assert!(!dir.trusts("https://d.example"), "a removed partner");
    }
}
