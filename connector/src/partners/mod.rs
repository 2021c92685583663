//! Who we exchange with, as one service: the configured partner directory (each partner's URL and keys), where each
//! partner's DSP endpoint is (discovered once through its version metadata, then remembered), which Twinport
//! extensions it advertises ([`extensions`]), and the clients that reach it.

pub mod extensions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::client::DspClient;
use crate::config::PartnerConfig;
use crate::identity::PartnerDirectory;
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
}

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
        }))
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
