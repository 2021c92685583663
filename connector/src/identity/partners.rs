//! The partners this connector trusts and their public keys: given inline in the config, or fetched from a JWKS URL
//! and cached, with one early refresh when a token names a key we have not seen (the partner rotated its key).
//! With `[dcp]`, a partner may also be known only by its DID: its keys are in its DID document and its claims are
//! what its credentials said when it last authenticated, so it needs no entry here at all.

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
    cache: Mutex<Option<Cached>>,
}

/// Configured partners by participant id.
#[derive(Debug, Clone)]
pub struct PartnerDirectory {
    partners: Arc<HashMap<String, Entry>>,
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
            .map(|p| {
                (
                    p.id.clone(),
                    Entry {
                        config: p.clone(),
                        cache: Mutex::new(None),
                    },
                )
            })
            .collect();
        PartnerDirectory {
            partners: Arc::new(map),
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
        let mut config = match (self.partners.get(id), &self.dcp) {
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
        self.partners
            .get(id)
            .map(|e| e.config.claims.clone())
            .unwrap_or_default()
    }

    /// Sets where a configured partner's connector can be reached (for example when it moved, or when it was
    /// started after us on an ephemeral port). Unknown partners are ignored: trust comes from the config (or DCP) only.
    pub fn set_url(&self, id: &str, url: &str) {
        if self.partners.contains_key(id) || (self.dcp.is_some() && id.starts_with("did:web:")) {
            if let Ok(mut urls) = self.urls.write() {
                urls.insert(id.to_string(), url.trim_end_matches('/').to_string());
            }
        }
    }

    pub fn all(&self) -> Vec<PartnerConfig> {
        let mut ids: Vec<&String> = self.partners.keys().collect();
        ids.sort();
        ids.into_iter().filter_map(|id| self.get(id)).collect()
    }

    /// The partner's keys. `refresh` asks for a fetch even if the cache is fresh (after an unknown `kid`).
    pub async fn keys(&self, id: &str, refresh: bool) -> Result<Jwks, KeysError> {
        let Some(entry) = self.partners.get(id) else {
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

/// The keys a partner known by DID signs agreements and receipts with: those its DID document lists for
/// `assertionMethod`.
async fn did_keys(dcp: &Dcp, did: &str) -> Result<Jwks, KeysError> {
    let doc = dcp
        .resolve(did)
        .await
        .map_err(|r| KeysError::Did(r.to_string()))?;
    Ok(doc.keys(twinport_contracts::did::Relationship::AssertionMethod))
}
