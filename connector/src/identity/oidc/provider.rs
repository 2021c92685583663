//! Fetching the provider's metadata (OpenID Connect Discovery) and keys (JWKS) with `openidconnect`, and the cache
//! in front of it: keys are reused until `key_cache` has passed, and a request can make the connector call the
//! provider at most once per `key_refresh_interval`, whether it brings an unknown `kid` or finds the provider down.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{IssuerUrl, JsonWebKeySetUrl};

use super::keys::KeySet;
use crate::config::OidcConfig;

/// What the cache knows; behind a plain mutex held only to copy or replace fields.
#[derive(Default)]
struct Cached {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    last_error: Option<String>,
    jwks_uri: Option<JsonWebKeySetUrl>,
}

/// Why no key could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup {
    /// The provider's current keys do not include this `kid`.
    Unknown,
    /// The provider could not be reached or answered nonsense, and no fresh keys are cached.
    Unavailable(String),
}

pub struct Provider {
    config: OidcConfig,
    http: reqwest::Client,
    cached: Mutex<Cached>,
    // One fetch at a time: requests arriving meanwhile wait for its result instead of starting their own.
    fetching: tokio::sync::Mutex<()>,
}

impl Provider {
    pub fn new(config: OidcConfig, http: reqwest::Client) -> Provider {
        Provider {
            config,
            http,
            cached: Mutex::new(Cached::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// The fresh key set if it has `kid`; otherwise fetches (rate-limited) and looks again.
    pub async fn key_set_with(&self, kid: &str) -> Result<Arc<KeySet>, KeyLookup> {
        if let Some(keys) = self.fresh_keys() {
            if keys.get(kid).is_some() {
                return Ok(keys);
            }
        }
        let _turn = self.fetching.lock().await;
        // Someone else may have fetched while this request waited.
        if let Some(keys) = self.fresh_keys() {
            if keys.get(kid).is_some() {
                return Ok(keys);
            }
        }
        if self.may_fetch() {
            self.refresh().await;
        }
        match self.fresh_keys() {
            Some(keys) if keys.get(kid).is_some() => Ok(keys),
            Some(_) => Err(KeyLookup::Unknown),
            None => Err(KeyLookup::Unavailable(self.last_error())),
        }
    }

    /// Fetches metadata and keys now, whatever the cache holds; used once at start so the first request is quick.
    pub async fn prefetch(&self) {
        let _turn = self.fetching.lock().await;
        if self.fresh_keys().is_none() {
            self.refresh().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        // A panic elsewhere while holding the lock leaves plain data behind, still usable.
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh_keys(&self) -> Option<Arc<KeySet>> {
        let c = self.lock();
        let fresh = c
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.config.key_cache);
        if fresh {
            c.keys.clone()
        } else {
            None
        }
    }

    fn may_fetch(&self) -> bool {
        self.lock()
            .last_attempt
            .is_none_or(|at| at.elapsed() >= self.config.key_refresh_interval)
    }

    fn last_error(&self) -> String {
        self.lock()
            .last_error
            .clone()
            .unwrap_or_else(|| "the identity provider's keys have not been fetched yet".into())
    }

    async fn refresh(&self) {
        let jwks_uri = {
            let mut c = self.lock();
            c.last_attempt = Some(Instant::now());
            c.jwks_uri.clone()
        };
        let fetched = match jwks_uri {
            Some(uri) => self.fetch_keys(&uri).await.map(|keys| (uri, keys)),
            None => self.discover().await,
        };
        let mut c = self.lock();
        match fetched {
            Ok((uri, keys)) => {
                tracing::info!(issuer = %self.config.issuer, keys = keys.len(), "fetched the identity provider's signing keys");
                c.keys = Some(Arc::new(keys));
                c.fetched_at = Some(Instant::now());
                c.jwks_uri = Some(uri);
                c.last_error = None;
            }
            Err(e) => {
                tracing::warn!(issuer = %self.config.issuer, error = %e, "cannot fetch the identity provider's keys");
                // The key location may have moved: discover it again next time.
                c.jwks_uri = None;
                c.last_error = Some(e);
            }
        }
    }

    async fn discover(&self) -> Result<(JsonWebKeySetUrl, KeySet), String> {
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| format!("issuer is not a URL: {e}"))?;
        // Checks that the document names the configured issuer, then fetches its jwks_uri.
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                format!(
                    "discovery failed: {}",
                    crate::telemetry::logging::error_chain(&e)
                )
            })?;
        let keys = KeySet::from_provider(metadata.jwks());
        Ok((metadata.jwks_uri().clone(), keys))
    }

    async fn fetch_keys(&self, uri: &JsonWebKeySetUrl) -> Result<KeySet, String> {
        let set = CoreJsonWebKeySet::fetch_async(uri, &self.http)
            .await
            .map_err(|e| {
                format!(
                    "fetching {} failed: {}",
                    uri.as_str(),
                    crate::telemetry::logging::error_chain(&e)
                )
            })?;
        Ok(KeySet::from_provider(&set))
    }
}
