//! Our side of partners' audit logs: their checkpoints witnessed ([`super::witness`]) and their receipts for the
//! messages we sent collected ([`super::receipts`]). Both call the partner with a token signed by our key, record
//! what they found in our own log, and keep the partner's pinned log key in our store.

use super::AuditLog;
use crate::identity::LocalIdentity;
use crate::partners::Partners;
use crate::storage::Store;

/// What witnessing and receipt collection need; cheap to clone.
#[derive(Clone)]
pub struct PartnerLogs {
    audit: AuditLog,
    partners: Partners,
    identity: LocalIdentity,
}

impl PartnerLogs {
    pub fn new(audit: AuditLog, partners: Partners, identity: LocalIdentity) -> PartnerLogs {
        PartnerLogs {
            audit,
            partners,
            identity,
        }
    }

    /// Our log, where outcomes are recorded.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// The store our log (and the partners' pinned keys) live in.
    pub fn store(&self) -> &Store {
        self.audit.store()
    }

    pub fn partners(&self) -> &Partners {
        &self.partners
    }

    /// Our key, for the tokens partners' audit endpoints ask for.
    pub fn identity(&self) -> &LocalIdentity {
        &self.identity
    }

    pub fn participant_id(&self) -> &str {
        &self.identity.participant_id
    }
}
