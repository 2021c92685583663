//! The entry that recorded the DSP message a partner just sent us, carried from where it is recorded
//! (`contracting/audit_trail.rs`, the catalogue handler) to the answer's `twinport-audit-entry` header, so the
//! partner knows which receipt to ask for. A request-scoped task-local holds the request body (for the digest the
//! entry keeps, which lets the partner check that the receipt is for the message it sent) and the first index
//! recorded; the DSP surface opens the scope around every request ([`within_request`]) and stamps the header on
//! the way out.

use std::cell::{Cell, OnceCell};

use bytes::Bytes;
use serde_json::Value;

/// Header on a DSP answer naming the audit entry that recorded the request it answers.
pub const ENTRY_HEADER: &str = "twinport-audit-entry";

struct Received {
    body: Bytes,
    digest: OnceCell<Option<String>>,
    entry: Cell<Option<u64>>,
}

tokio::task_local! {
    static RECEIVED: Received;
}

/// SHA-256 of the canonical form of the message this request carried (`None` outside a DSP request, or when the
/// body is not JSON). Both sides compute it the same way, whatever whitespace or key order went over the wire.
pub fn message_digest() -> Option<String> {
    RECEIVED
        .try_with(|r| {
            r.digest
                .get_or_init(|| {
                    serde_json::from_slice::<Value>(&r.body)
                        .ok()
                        .and_then(|v| super::digest(&v))
                })
                .clone()
        })
        .ok()
        .flatten()
}

/// Remembers `index` as the entry recording the received message; the first one recorded in a request wins.
pub fn note_entry(index: u64) {
    let _ = RECEIVED.try_with(|r| {
        if r.entry.get().is_none() {
            r.entry.set(Some(index));
        }
    });
}

/// Runs `handling` (the handler of one DSP request whose body is `body`) inside the request's scope, and says
/// which entry recorded the message, if any did.
pub async fn within_request<F: std::future::Future>(
    body: Bytes,
    handling: F,
) -> (F::Output, Option<u64>) {
    let received = Received {
        body,
        digest: OnceCell::new(),
        entry: Cell::new(None),
    };
    RECEIVED
        .scope(received, async move {
            let output = handling.await;
            (output, RECEIVED.with(|r| r.entry.get()))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn digest_and_entry_live_only_inside_the_request_scope() {
        assert_eq!(message_digest(), None);
        note_entry(3);
        let received = Received {
            body: Bytes::from_static(br#"{"b": 2, "a": 1}"#),
            digest: OnceCell::new(),
            entry: Cell::new(None),
        };
        let (digest, entry) = RECEIVED
            .scope(received, async {
                note_entry(7);
                note_entry(9);
                (message_digest(), RECEIVED.with(|r| r.entry.get()))
            })
            .await;
        assert_eq!(entry, Some(7));
        assert_eq!(
            digest,
            super::super::digest(&serde_json::json!({"a": 1, "b": 2}))
        );
    }
}
