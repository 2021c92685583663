//! Twinport's extensions to DSP 2025-1 (the partner-facing audit endpoints under the DSP base) are advertised in
//! `/.well-known/twinport`, and are called on a partner only when its own document advertises them: another
//! connector (EDC, the DSP TCK) has none of them, and a request it does not expect can fail the exchange it
//! arrives in. Each partner's answer is remembered for an hour, a refusal (404) included, so a partner that is not
//! a Twinport is asked once an hour at most.
//!
//! `/.well-known/dspace-version` stays exactly as DSP defines it: partners parse it strictly.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use twinport_contracts::dsp::DSP_VERSION;

use super::Partners;
use crate::error::ApiError;

/// Where the document is served, under the connector's root (next to `/.well-known/dspace-version`).
pub use crate::paths::EXTENSIONS_PATH as WELL_KNOWN_PATH;

/// The document format this connector writes and reads. Fields may be added without changing it; a reader
/// ignores what it does not know, and treats a document of another format as advertising nothing.
pub const FORMAT_VERSION: u32 = 1;

/// How long a partner's answer (a document, or none) is trusted before the partner is asked again.
pub const REFRESH: Duration = Duration::from_secs(60 * 60);

/// How long a failed attempt (unreachable, 5xx, timeout) holds off the next one. Shorter than [`REFRESH`]: a
/// Twinport partner that was restarting must not lose its witness for an hour.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

const TIMEOUT: Duration = Duration::from_secs(15);

/// A document is a few hundred bytes; anything much larger is not one.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// `GET /.well-known/twinport`: which Twinport-only endpoints this connector serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionsDocument {
    /// The document format, [`FORMAT_VERSION`].
    pub version: u32,
    /// The DSP version whose base (as `/.well-known/dspace-version` gives it) the paths are relative to.
    pub protocol_version: String,
    pub extensions: Vec<ExtensionEntry>,
}

/// One advertised extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionEntry {
    /// An [`Extension`] name, e.g. `audit-checkpoint`.
    pub name: String,
    /// Relative to the DSP base; `{index}` stands for an audit entry's index and `{providerPid}` for a transfer's
    /// provider pid where the extension takes one.
    pub path: String,
}

/// The extensions Twinport knows, served and called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Extension {
    /// `GET <base>/audit/checkpoint`: the signed checkpoint of the audit log, its key in `twinport-audit-vkey`.
    AuditCheckpoint,
    /// `GET <base>/audit/consistency?old=&new=`: a consistency proof between two checkpoints.
    AuditConsistency,
    /// `GET <base>/audit/receipts/{index}`: a receipt for an entry recording the caller's own request.
    AuditReceipts,
    /// `POST <base>/transfers/{providerPid}/pull-token`: a new pull token for a STARTED pull transfer the caller
    /// is the consumer of (`dsp/pull_token.rs`).
    PullTokenRenewal,
}

impl Extension {
    pub const ALL: [Extension; 4] = [
        Extension::AuditCheckpoint,
        Extension::AuditConsistency,
        Extension::AuditReceipts,
        Extension::PullTokenRenewal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Extension::AuditCheckpoint => "audit-checkpoint",
            Extension::AuditConsistency => "audit-consistency",
            Extension::AuditReceipts => "audit-receipts",
            Extension::PullTokenRenewal => "pull-token-renewal",
        }
    }

    /// Where this connector serves it, relative to its DSP base (`dsp/audit.rs` routes these).
    pub fn our_path(self) -> &'static str {
        match self {
            Extension::AuditCheckpoint => "/audit/checkpoint",
            Extension::AuditConsistency => "/audit/consistency",
            Extension::AuditReceipts => "/audit/receipts/{index}",
            Extension::PullTokenRenewal => "/transfers/{providerPid}/pull-token",
        }
    }

    fn parse(name: &str) -> Option<Extension> {
        Extension::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The placeholders a partner's path for this extension must hold, each exactly once.
    fn placeholders(self) -> &'static [&'static str] {
        match self {
            Extension::AuditReceipts => &["{index}"],
            Extension::PullTokenRenewal => &["{providerPid}"],
            Extension::AuditCheckpoint | Extension::AuditConsistency => &[],
        }
    }

    /// Whether `path` is usable as this extension's path below a partner's DSP base: absolute, plain characters
    /// only (so appending it can neither leave the partner's origin nor smuggle in a query), and with exactly the
    /// placeholders the extension takes.
    fn accepts(self, path: &str) -> bool {
        let plain = path.starts_with('/')
            && path.len() <= 256
            && !path.contains("//")
            && !path.split('/').any(|s| s == "." || s == "..")
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-._~{}".contains(c));
        let mut rest = path.to_owned();
        for p in self.placeholders() {
            if rest.matches(p).count() != 1 {
                return false;
            }
            rest = rest.replace(p, "");
        }
        plain && !rest.contains(['{', '}'])
    }
}

impl ExtensionsDocument {
    /// What this connector advertises.
    pub fn ours() -> ExtensionsDocument {
        ExtensionsDocument {
            version: FORMAT_VERSION,
            protocol_version: DSP_VERSION.to_string(),
            extensions: Extension::ALL
                .into_iter()
                .map(|e| ExtensionEntry {
                    name: e.name().to_string(),
                    path: e.our_path().to_string(),
                })
                .collect(),
        }
    }
}

/// What a partner advertises: the extensions we know, each with its path below the partner's DSP base. Empty for
/// a partner that is not a Twinport.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advertised(BTreeMap<Extension, String>);

impl Advertised {
    /// The partner's path for `extension`, relative to its DSP base; `None` when it does not advertise it.
    pub fn path(&self, extension: Extension) -> Option<&str> {
        self.0.get(&extension).map(String::as_str)
    }

    pub fn offers(&self, extension: Extension) -> bool {
        self.0.contains_key(&extension)
    }

    /// Reads a partner's answer to `GET /.well-known/twinport`. A 4xx, a document of another format or version,
    /// or one that does not parse all mean "no extensions": the partner is not a Twinport we can talk to this way.
    /// Only what may pass (a 5xx, no answer) is an error. Entries we do not know, or with an unusable path, are
    /// skipped.
    pub fn from_answer(status: u16, body: &[u8]) -> Result<Advertised, String> {
        if (500..600).contains(&status) {
            return Err(format!("{WELL_KNOWN_PATH} answered HTTP {status}"));
        }
        if !(200..300).contains(&status) {
            return Ok(Advertised::default());
        }
        let Ok(doc) = serde_json::from_slice::<ExtensionsDocument>(body) else {
            return Ok(Advertised::default());
        };
        if doc.version != FORMAT_VERSION || doc.protocol_version != DSP_VERSION {
            return Ok(Advertised::default());
        }
        let mut known = BTreeMap::new();
        for entry in doc.extensions {
            if let Some(e) = Extension::parse(&entry.name).filter(|e| e.accepts(&entry.path)) {
                // The first entry for a name counts, so a repeated name cannot change what was read.
                known.entry(e).or_insert(entry.path);
            }
        }
        Ok(Advertised(known))
    }
}

/// One partner's answer as remembered, with when it was asked.
#[derive(Debug, Clone)]
struct Known {
    answer: Result<Advertised, String>,
    asked: Instant,
}

impl Known {
    fn fresh(&self, now: Instant) -> bool {
        let keep = match self.answer {
            Ok(_) => REFRESH,
            Err(_) => RETRY_AFTER_FAILURE,
        };
        now.saturating_duration_since(self.asked) < keep
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Known>>>;

/// Partners' answers by key. Each key has its own lock, held while the partner is asked, so callers that need
/// the same partner at once (the periodic witness, receipt collection, an operator's check) ask it once.
#[derive(Default)]
pub struct ExtensionCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl ExtensionCache {
    /// The remembered answer for `key` if still fresh at `now`, else `ask`'s, remembered from `now` on.
    pub async fn get_or_ask<F, Fut>(
        &self,
        key: &str,
        now: Instant,
        ask: F,
    ) -> Result<Advertised, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Advertised, String>>,
    {
        let slot = self.slot(key, now);
        let mut known = slot.lock().await;
        if let Some(k) = known.as_ref().filter(|k| k.fresh(now)) {
            return k.answer.clone();
        }
        let answer = ask().await;
        *known = Some(Known {
            answer: answer.clone(),
            asked: now,
        });
        answer
    }

    /// Forgets the answer for `key` (a partner that changed or was removed).
    pub fn forget(&self, key: &str) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    fn slot(&self, key: &str, now: Instant) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = slots.get(key) {
            return s.clone();
        }
        // Forget answers nobody is using that are stale anyway (partners moved, connectors stopped), so the map
        // only grows with the partners asked within the last hour.
        slots.retain(|_, s| {
            Arc::strong_count(s) > 1
                || s.try_lock()
                    .map_or(true, |k| k.as_ref().is_some_and(|k| k.fresh(now)))
        });
        slots.entry(key.to_owned()).or_default().clone()
    }
}

/// What `partner` advertises, from the cache or by asking `<partner url>/.well-known/twinport`.
pub async fn advertised(partners: &Partners, partner: &str) -> Result<Advertised, ApiError> {
    // The live directory: an operator may have pointed the partner at a new URL since start, and a new URL is a
    // new key, asked at once.
    if partners.get(partner).is_none() {
        return Err(ApiError::NotFound(format!("partner {partner}")));
    }
    let root = partners
        .root_url(partner)
        .await
        .map_err(ApiError::BadGateway)?;
    // Each connector has its own cache (in its state), so connectors side by side in one process (tests, the
    // demo) never share an answer; the key is the root the partner is reached at.
    partners
        .extensions()
        .get_or_ask(&root, Instant::now(), || ask(partners, partner, &root))
        .await
        .map_err(|e| ApiError::BadGateway(format!("extension discovery: {e}")))
}

/// The refusal for an extension `partner` does not advertise: 404, since for all we can tell the partner has no
/// such endpoint (and it was not called to find out). Reads as "… not found".
pub fn not_advertised(partner: &str, extension: Extension) -> ApiError {
    ApiError::NotFound(format!(
        "Twinport extension {} of partner {partner} (the partner does not advertise it in its {WELL_KNOWN_PATH}, \
         so it was not called; that document is read again every {} minutes)",
        extension.name(),
        REFRESH.as_secs() / 60,
    ))
}

async fn ask(partners: &Partners, partner: &str, root: &str) -> Result<Advertised, String> {
    let url = format!("{root}{WELL_KNOWN_PATH}");
    // The shared client presents our certificate, so a partner that requires mutual TLS answers.
    let (request, _span) = partners
        .traces()
        .outgoing(partners.http().get(&url), "extension discovery");
    let mut response = request
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    if response.status().is_success() {
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                body.clear();
                break;
            }
        }
    }
    let answer = Advertised::from_answer(status, &body);
    match &answer {
        Ok(a) if a.0.is_empty() => {
            tracing::info!(%partner, status, "partner advertises no Twinport extensions; not calling any")
        }
        Ok(a) => {
            let names: Vec<&str> = a.0.keys().map(|e| e.name()).collect();
            tracing::debug!(%partner, extensions = %names.join(", "), "partner advertises Twinport extensions")
        }
        Err(e) => {
            tracing::warn!(%partner, error = %e, "cannot learn the partner's Twinport extensions")
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;

    use super::*;

    fn ours() -> Vec<u8> {
        serde_json::to_vec(&ExtensionsDocument::ours()).expect("serialises")
    }

    #[test]
    fn our_document_reads_back_as_every_extension_at_our_paths() {
        let read = Advertised::from_answer(200, &ours()).expect("read");
        for e in Extension::ALL {
            assert_eq!(read.path(e), Some(e.our_path()), "{e:?}");
        }
        let v: serde_json::Value = serde_json::from_slice(&ours()).expect("json");
        assert_eq!(v["version"], 1);
        assert_eq!(v["protocolVersion"], "2025-1");
        assert_eq!(v["extensions"][0]["name"], "audit-checkpoint");
    }

    #[test]
    fn a_refusal_or_a_foreign_document_advertises_nothing_and_only_5xx_is_a_failure() {
        for (status, body) in [
            (404, b"not found".to_vec()),
            (401, Vec::new()),
            (410, ours()),
            (200, b"<html>welcome</html>".to_vec()),
            (
                200,
                json!({"version": 2, "protocolVersion": "2025-1", "extensions": []})
                    .to_string()
                    .into_bytes(),
            ),
            (
                200,
                json!({"version": 1, "protocolVersion": "2024-1", "extensions": []})
                    .to_string()
                    .into_bytes(),
            ),
        ] {
            assert_eq!(
                Advertised::from_answer(status, &body),
                Ok(Advertised::default()),
                "{status}"
            );
        }
        assert!(Advertised::from_answer(503, &ours()).is_err());
    }

    #[test]
    fn unknown_names_and_unusable_paths_are_skipped() {
        let doc = json!({"version": 1, "protocolVersion": "2025-1", "futureField": true, "extensions": [
            {"name": "something-new", "path": "/new"},
            {"name": "audit-checkpoint", "path": "https://elsewhere.example/steal"},
            {"name": "audit-consistency", "path": "/audit/../../consistency"},
            {"name": "audit-receipts", "path": "/audit/receipts/{index}?x={index}"},
            {"name": "audit-receipts", "path": "/log/receipts/{index}"},
            {"name": "audit-checkpoint", "path": "/log/{index}"},
        ]});
        let read = Advertised::from_answer(200, doc.to_string().as_bytes()).expect("read");
        assert_eq!(read.path(Extension::AuditCheckpoint), None);
        assert_eq!(read.path(Extension::AuditConsistency), None);
        assert_eq!(
            read.path(Extension::AuditReceipts),
            Some("/log/receipts/{index}")
        );
        assert!(!Extension::AuditReceipts.accepts("/receipts"));
        assert!(!Extension::AuditReceipts.accepts("/r/{index}/{index}"));
        assert!(!Extension::AuditCheckpoint.accepts("//elsewhere.example/x"));
    }

    /// Counts the partner being asked, answering `answer` each time.
    fn asker(
        calls: &AtomicUsize,
        answer: Result<Advertised, String>,
    ) -> impl FnOnce() -> std::future::Ready<Result<Advertised, String>> + '_ {
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(answer)
        }
    }

    #[tokio::test]
    async fn a_partner_without_extensions_is_asked_again_only_after_the_refresh_period() {
        let cache = ExtensionCache::default();
        let calls = AtomicUsize::new(0);
        let t0 = Instant::now();
        let none = Ok(Advertised::default());
        for later in [0, 1, 300, REFRESH.as_secs() - 1] {
            let got = cache
                .get_or_ask(
                    "p",
                    t0 + Duration::from_secs(later),
                    asker(&calls, none.clone()),
                )
                .await;
            assert_eq!(got, none);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        cache
            .get_or_ask("p", t0 + REFRESH, asker(&calls, none.clone()))
            .await
            .expect("answer");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failure_is_retried_sooner_and_each_partner_has_its_own_answer() {
        let cache = ExtensionCache::default();
        let calls = AtomicUsize::new(0);
        let t0 = Instant::now();
        let down = Err("connection refused".to_string());
        assert!(cache
            .get_or_ask("p", t0, asker(&calls, down.clone()))
            .await
            .is_err());
        assert!(cache
            .get_or_ask("p", t0 + Duration::from_secs(1), asker(&calls, down))
            .await
            .is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let up = Advertised::from_answer(200, &ours());
        let got = cache
            .get_or_ask("p", t0 + RETRY_AFTER_FAILURE, asker(&calls, up.clone()))
            .await;
        assert_eq!(got, up);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Another key (another partner URL, or another connector asking) is asked on its own.
        cache
            .get_or_ask(
                "q",
                t0 + RETRY_AFTER_FAILURE,
                asker(&calls, Ok(Advertised::default())),
            )
            .await
            .expect("answer");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            cache
                .get_or_ask(
                    "p",
                    t0 + RETRY_AFTER_FAILURE,
                    asker(&calls, Ok(Advertised::default()))
                )
                .await,
            up
        );
    }

    #[tokio::test]
    async fn callers_asking_at_once_ask_the_partner_once() {
        let cache = Arc::new(ExtensionCache::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let now = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_ask("p", now, || async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok(Advertised::default())
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task").expect("answer");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn stale_unused_answers_are_forgotten() {
        let cache = ExtensionCache::default();
        let calls = AtomicUsize::new(0);
        let t0 = Instant::now();
        cache
            .get_or_ask("old", t0, asker(&calls, Ok(Advertised::default())))
            .await
            .expect("answer");
        cache
            .get_or_ask(
                "new",
                t0 + REFRESH,
                asker(&calls, Ok(Advertised::default())),
            )
            .await
            .expect("answer");
        let keys: Vec<String> = cache.slots.lock().expect("lock").keys().cloned().collect();
        assert_eq!(keys, ["new"]);
    }
}
