//! Receipts we collect from partners for the DSP messages we send them. When a partner's answer names the entry
//! that recorded our message (`twinport-audit-entry`), we fetch `<partner dsp base>/audit/receipts/{index}`,
//! verify it offline with the partner's pinned log key, check that the logged entry is our message (same digest,
//! logged as received from us), and record the outcome as a `receipt_received` entry in our own log: verified,
//! with the covering checkpoint, or why not. A forged or mismatching receipt is kept as evidence, marked unverified.
//!
//! Collection runs in its own task after delivery, so a slow partner never holds up the outbox.
//!
//! The header is the only trigger, and only a Twinport sends it; even then the receipt endpoint is called only
//! when the partner's `/.well-known/twinport` advertises it (see [`crate::partners::extensions`]), since it is not DSP.

use std::time::Duration;

use serde_json::{json, Value};
use twinport_contracts::transparency::checkpoint::SignedCheckpoint;
use twinport_contracts::transparency::merkle::leaf_hash;
use twinport_contracts::transparency::note::NoteVerifier;
use twinport_contracts::transparency::proof::Receipt;

use super::PartnerLogs;
use super::{AuditEvent, EventKind};
use crate::partners::extensions::{self, Extension};

/// Attempts to fetch a receipt: the partner may need a moment (its checkpoint, or a replica catching up).
const ATTEMPTS: u32 = 6;
const FIRST_DELAY: Duration = Duration::from_millis(100);
const TIMEOUT: Duration = Duration::from_secs(15);
/// Receipts up to this size are stored whole in our entry; larger ones by digest (an entry holds at most 64 KiB).
const MAX_INLINE_RECEIPT: usize = 32 * 1024;

/// Serialises first-use pinning of partners' log keys, so concurrent collections record one first checkpoint.
static PINNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What we sent and the entry the partner says recorded it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    pub partner: String,
    pub process: String,
    pub kind: String,
    /// `sha256:<hex>` of the canonical form of the body we sent.
    pub digest: String,
    pub index: u64,
}

/// The pure check of a receipt: it parses, is for `index`, its checkpoint is signed by `key`, the entry it carries
/// is included under that checkpoint, and that entry records `digest` as received from `us`.
pub fn check_receipt(
    text: &str,
    index: u64,
    key: &NoteVerifier,
    us: &str,
    digest: &str,
) -> Result<SignedCheckpoint, String> {
    let receipt = Receipt::parse(text).map_err(|e| e.to_string())?;
    if receipt.index != index {
        return Err(format!(
            "receipt is for entry {}, the partner named entry {index}",
            receipt.index
        ));
    }
    let entry = receipt
        .extra
        .as_deref()
        .ok_or("receipt does not carry the logged entry")?;
    let cp = receipt
        .verify(&leaf_hash(entry), key.name(), std::slice::from_ref(key))
        .map_err(|e| e.to_string())?;
    let leaf: Value =
        serde_json::from_slice(entry).map_err(|_| "the logged entry is not JSON".to_string())?;
    let kind = leaf["kind"].as_str().unwrap_or_default();
    if kind != EventKind::DspMessageReceived.as_str() && kind != EventKind::CatalogueServed.as_str()
    {
        return Err(format!(
            "the logged entry is a {kind:?}, not a received message"
        ));
    }
    if leaf["partner"].as_str() != Some(us) {
        return Err(format!(
            "the logged entry names partner {}, not us",
            leaf["partner"]
        ));
    }
    match leaf["details"]["body"].as_str() {
        Some(d) if d == digest => Ok(cp),
        Some(d) => Err(format!(
            "the partner logged a different message ({d}, we sent {digest})"
        )),
        None => Err("the logged entry holds no message digest".into()),
    }
}

/// Starts collecting the receipt for `sent` in the background.
pub fn collect_later(state: &PartnerLogs, sent: SentMessage) {
    let state = state.clone();
    tokio::spawn(async move { collect(&state, sent).await });
}

/// Fetches, verifies and records one receipt. Failures end up in our log as unverified receipts, not as errors:
/// there is nobody to return them to.
pub async fn collect(state: &PartnerLogs, sent: SentMessage) {
    let outcome = fetch_and_check(state, &sent).await;
    let mut details = json!({
        "process": sent.process,
        "message": sent.kind,
        "index": sent.index,
        "body": sent.digest,
    });
    match &outcome {
        Ok((cp, text)) => {
            details["verified"] = true.into();
            details["checkpoint"] =
                json!({"size": cp.checkpoint.size, "root": hex::encode(cp.checkpoint.root)});
            details["receipt"] = if text.len() <= MAX_INLINE_RECEIPT {
                text.clone().into()
            } else {
                super::digest(&Value::String(text.clone())).into()
            };
        }
        Err((reason, text)) => {
            tracing::warn!(partner = %sent.partner, index = sent.index, %reason, "partner receipt not verified");
            details["verified"] = false.into();
            details["reason"] = reason.clone().into();
            if let Some(text) = text {
                details["receipt"] = if text.len() <= MAX_INLINE_RECEIPT {
                    text.clone().into()
                } else {
                    super::digest(&Value::String(text.clone())).into()
                };
            }
        }
    }
    let mut e = AuditEvent::new(EventKind::ReceiptReceived, details);
    e.partner = Some(sent.partner.clone());
    if let Err(err) = state.audit().append(e).await {
        tracing::error!(error = %err, "cannot record a partner receipt");
    }
}

type Failure = (String, Option<String>);

async fn fetch_and_check(
    state: &PartnerLogs,
    sent: &SentMessage,
) -> Result<(SignedCheckpoint, String), Failure> {
    let advertised = extensions::advertised(state.partners(), &sent.partner)
        .await
        .map_err(|e| (e.to_string(), None))?;
    let path = advertised
        .path(Extension::AuditReceipts)
        .ok_or_else(|| {
            let e = extensions::not_advertised(&sent.partner, Extension::AuditReceipts);
            (e.to_string(), None)
        })?
        .replace("{index}", &sent.index.to_string());
    let base = state
        .partners()
        .discover(&sent.partner)
        .await
        .map_err(|e| (format!("discovery: {e}"), None))?;
    let text = fetch(state, &sent.partner, &format!("{base}{path}"))
        .await
        .map_err(|e| (e, None))?;
    let key = partner_key(state, &sent.partner)
        .await
        .map_err(|e| (e, Some(text.clone())))?;
    match check_receipt(
        &text,
        sent.index,
        &key,
        state.participant_id(),
        &sent.digest,
    ) {
        Ok(cp) => Ok((cp, text)),
        Err(reason) => Err((reason, Some(text))),
    }
}

async fn fetch(state: &PartnerLogs, partner: &str, url: &str) -> Result<String, String> {
    let mut delay = FIRST_DELAY;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let token = state
            .identity()
            .token_for(partner)
            .map_err(|e| format!("cannot sign a token: {e}"))?;
        match state
            .partners()
            .http()
            .get(url)
            .bearer_auth(token)
            .timeout(TIMEOUT)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                return r.text().await.map_err(|e| format!("receipt: {e}"));
            }
            Ok(r) => last = format!("receipt request answered HTTP {}", r.status().as_u16()),
            Err(e) => last = format!("receipt request: {e}"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    Err(last)
}

/// The partner's log key as pinned by the checkpoint witness; on first use, a witness check pins it.
async fn partner_key(state: &PartnerLogs, partner: &str) -> Result<NoteVerifier, String> {
    let pinned = || async {
        state
            .store()
            .audit_partner_checkpoint(partner)
            .await
            .map_err(|e| e.to_string())
    };
    let stored = match pinned().await? {
        Some(p) => Some(p),
        None => {
            let _guard = PINNING.lock().await;
            match pinned().await? {
                Some(p) => Some(p),
                None => {
                    super::witness::check_partner(state, partner)
                        .await
                        .map_err(|e| format!("cannot pin the partner's log key: {e}"))?;
                    pinned().await?
                }
            }
        }
    };
    let (vkey, _) = stored.ok_or("the partner's log key is not pinned (split view?)")?;
    NoteVerifier::parse(&vkey).map_err(|e| format!("pinned log key: {e}"))
}

#[cfg(test)]
mod tests {
    use twinport_contracts::transparency::checkpoint::Checkpoint;
    use twinport_contracts::transparency::merkle::Hash;
    use twinport_contracts::transparency::note::NoteSigner;
    use twinport_contracts::transparency::tree::MerkleTree;

    use super::*;

    const US: &str = "https://city-b.example/twinport";
    const SENT: &str = "sha256:aaaa";

    fn leaf(partner: &str, digest: &str) -> String {
        json!({"kind": "dsp_message_received", "partner": partner, "details": {"body": digest}})
            .to_string()
    }

    /// A partner log of four entries, entry 2 being `entry`; its receipt for index 2.
    fn receipt(key: &NoteSigner, entry: &str) -> String {
        let mut tree = MerkleTree::new();
        let entries = ["a".to_string(), "b".into(), entry.to_string(), "d".into()];
        for e in &entries {
            tree.push(leaf_hash(e.as_bytes()));
        }
        let cp = SignedCheckpoint::sign(
            Checkpoint {
                origin: key.name().into(),
                size: 4,
                root: tree.root_at(4).expect("root"),
            },
            key,
        )
        .expect("signed");
        Receipt {
            extra: Some(entry.as_bytes().to_vec()),
            index: 2,
            proof: tree.inclusion_proof(2, 4).expect("proof"),
            checkpoint_note: cp.note,
        }
        .to_text()
    }

    #[test]
    fn a_receipt_for_our_message_verifies() {
        let key = NoteSigner::generate("city-a.example/audit").expect("key");
        let text = receipt(&key, &leaf(US, SENT));
        let cp = check_receipt(&text, 2, &key.verifier(), US, SENT).expect("verifies");
        assert_eq!(cp.checkpoint.size, 4);
    }

    #[test]
    fn forged_or_foreign_receipts_are_refused_with_a_reason() {
        let key = NoteSigner::generate("city-a.example/audit").expect("key");
        let good = receipt(&key, &leaf(US, SENT));

        // Another message than ours, another sender, another index, another key.
        let other = receipt(&key, &leaf(US, "sha256:bbbb"));
        let e = check_receipt(&other, 2, &key.verifier(), US, SENT).unwrap_err();
        assert!(e.contains("different message"), "{e}");
        let foreign = receipt(&key, &leaf("https://city-c.example", SENT));
        let e = check_receipt(&foreign, 2, &key.verifier(), US, SENT).unwrap_err();
        assert!(e.contains("not us"), "{e}");
        let e = check_receipt(&good, 3, &key.verifier(), US, SENT).unwrap_err();
        assert!(e.contains("entry 2"), "{e}");
        let impostor = NoteSigner::generate("city-a.example/audit").expect("key");
        assert!(check_receipt(&good, 2, &impostor.verifier(), US, SENT).is_err());

        // The entry swapped for ours after signing: it is not under the signed root.
        let mut r = Receipt::parse(&good).expect("parses");
        r.extra = Some(leaf(US, "sha256:cccc").into_bytes());
        let swapped = r.to_text();
        assert!(
            check_receipt(&swapped, 2, &key.verifier(), US, "sha256:cccc")
                .unwrap_err()
                .contains("inclusion")
        );

        // A tampered proof hash.
        let mut r = Receipt::parse(&good).expect("parses");
        r.proof[0] = Hash::default();
        assert!(check_receipt(&r.to_text(), 2, &key.verifier(), US, SENT).is_err());

        // No entry at all.
        let mut r = Receipt::parse(&good).expect("parses");
        r.extra = None;
        assert!(check_receipt(&r.to_text(), 2, &key.verifier(), US, SENT).is_err());
    }
}
