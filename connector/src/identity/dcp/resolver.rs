//! did:web resolution: the document the DID names, fetched over HTTPS (plain HTTP only for hosts the test-only
//! `[dcp] insecure_http_hosts` lists), checked to be about that DID, and kept as its caching headers allow within
//! the configured bound. A failed fetch is never answered from an expired entry: a partner whose document cannot be
//! read is refused.

use std::sync::Arc;
use std::time::Duration;

use twinport_contracts::did::{DidDocument, DidWeb};

use super::fetch::{Cache, Fetcher};
use super::Refusal;

/// Resolves and caches DID documents.
pub struct Resolver {
    fetcher: Fetcher,
    max_age: Duration,
    cache: Cache<Arc<DidDocument>>,
}

impl Resolver {
    pub fn new(fetcher: Fetcher, max_age: Duration) -> Resolver {
        Resolver {
            fetcher,
            max_age,
            cache: Cache::default(),
        }
    }

    /// The document of `did`, from the cache while fresh.
    pub async fn resolve(&self, did: &str) -> Result<Arc<DidDocument>, Refusal> {
        if let Some(doc) = self.cache.get(did) {
            return Ok(doc);
        }
        // What the fetch ran into is logged; the caller is told only that its document could not be used, so a
        // DID cannot be used to probe what we can reach.
        let unresolvable = |why: String| {
            tracing::warn!(did, detail = %why, "DID document unavailable");
            Refusal::new(
                "did-unresolvable",
                format!(
                    "{did}: its DID document could not be fetched or is not a DID document for it"
                ),
            )
        };
        let parsed =
            DidWeb::parse(did).map_err(|e| Refusal::new("did-unresolvable", e.to_string()))?;
        if parsed.host_is_ip() {
            return Err(Refusal::new(
                "did-unresolvable",
                format!("{did}: did:web names a host, not an IP address"),
            ));
        }
        let https = !self.fetcher.is_insecure_host(parsed.host());
        let url = parsed.document_url(https);
        let fetched = self
            .fetcher
            .get(&url, self.max_age, super::fetch::MAX_DID_DOCUMENT)
            .await
            .map_err(unresolvable)?;
        let doc = Arc::new(
            DidDocument::parse(&fetched.body, did).map_err(|e| unresolvable(e.to_string()))?,
        );
        self.cache.put(did, doc.clone(), fetched.fresh_for);
        Ok(doc)
    }
}
