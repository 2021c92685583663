//! Serialises the messages that create a process, per partner and partner pid. A partner that retries a
//! `ContractRequestMessage` or `TransferRequestMessage` after losing our acknowledgement (or sends it twice in a
//! burst) must get the process the first copy opened, not a second one with a second agreement or a second token:
//! the handler looks for the existing process and creates one only while it holds this lock, so two copies
//! arriving together cannot both miss each other.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};

/// The answer to a message that creates a process: the process as the partner should see it, and whether this
/// message created it (201) or repeated one that already had (200, nothing changed).
#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledged {
    pub body: Value,
    pub created: bool,
    /// Our id of the process. When this message created it, the messages its creation queued are held until
    /// the answer has been sent (see [`CreationLocks::hold_until_answered`]); the HTTP layer releases them.
    pub process_id: String,
}

/// Independent creations rarely share a stripe, so unrelated partners do not wait for each other.
const STRIPES: usize = 64;

pub struct CreationLocks {
    stripes: Vec<Mutex<()>>,
    /// Processes created by a partner's message whose answer has not been sent yet: the outbox sends nothing of
    /// theirs until it has ("respond first, then act"; the TCK fails a callback that overtakes the pid it needs).
    /// In memory: after a crash there is no answer left to wait for.
    answering: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Default for CreationLocks {
    fn default() -> Self {
        CreationLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            answering: Default::default(),
        }
    }
}

impl CreationLocks {
    /// Holds what process `id` queues until [`CreationLocks::answered`]; called before the creation commits.
    pub fn hold_until_answered(&self, id: &str) {
        if let Ok(mut set) = self.answering.lock() {
            set.insert(id.to_string());
        }
    }

    /// The answer that created process `id` has been sent (or will never be): its messages may go out.
    pub fn answered(&self, id: &str) {
        if let Ok(mut set) = self.answering.lock() {
            set.remove(id);
        }
    }

    /// Whether process `id`'s messages wait for the answer to the message that created it.
    pub fn is_held(&self, id: &str) -> bool {
        self.answering.lock().is_ok_and(|set| set.contains(id))
    }

    /// Held while looking for an existing process of `kind` created by `partner` with its pid `pid`, and creating
    /// one when there is none.
    pub async fn lock(&self, kind: &str, partner: &str, pid: &str) -> MutexGuard<'_, ()> {
        let mut h = DefaultHasher::new();
        (kind, partner, pid).hash(&mut h);
        self.stripes[(h.finish() as usize) % STRIPES].lock().await
    }
}

#[cfg(test)]
mod tests {
    use super::CreationLocks;

    #[tokio::test]
    async fn the_same_key_waits_and_other_keys_do_not() {
        let locks = CreationLocks::default();
        let held = locks.lock("negotiation", "city-a", "urn:uuid:1").await;
        let same = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            locks.lock("negotiation", "city-a", "urn:uuid:1"),
        )
        .await;
        assert!(
            same.is_err(),
            "a second creation with the same key must wait"
        );
        // Some other key lands on another stripe and proceeds.
        let mut proceeded = false;
        for i in 0..8 {
            let pid = format!("urn:uuid:other-{i}");
            if tokio::time::timeout(
                std::time::Duration::from_millis(50),
                locks.lock("negotiation", "city-a", &pid),
            )
            .await
            .is_ok()
            {
                proceeded = true;
                break;
            }
        }
        assert!(proceeded);
        drop(held);
        assert!(tokio::time::timeout(
            std::time::Duration::from_millis(50),
            locks.lock("negotiation", "city-a", "urn:uuid:1"),
        )
        .await
        .is_ok());
    }
}
