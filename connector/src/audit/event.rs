//! What an audit event is and how it becomes a leaf: RFC 8785 canonical JSON of at most 64 KiB, with any personal
//! details replaced by a salted SHA-256 commitment so the leaf itself never holds personal data.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use twinport_contracts::canonical::canonicalize;
use twinport_contracts::transparency::merkle::{leaf_hash, Hash};

use super::AuditError;

/// Largest leaf, as in tlog-tiles entry bundles (16-bit length prefix). Artefacts go in by SHA-256 digest.
pub const MAX_LEAF_BYTES: usize = 65_535;

/// Leaf schema version, so auditors' tools can tell formats apart when the schema grows.
const LEAF_VERSION: u64 = 1;

/// The kind of exchange or action an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    CatalogueServed,
    DspMessageReceived,
    DspMessageSent,
    PolicyDecision,
    Agreement,
    TransferState,
    DataAccess,
    ManagementAction,
    ReceiptReceived,
    PartnerCheckpoint,
    SplitViewAlarm,
    IdentityRefused,
    AlignmentCheck,
}

impl EventKind {
    pub const ALL: [EventKind; 13] = [
        EventKind::CatalogueServed,
        EventKind::DspMessageReceived,
        EventKind::DspMessageSent,
        EventKind::PolicyDecision,
        EventKind::Agreement,
        EventKind::TransferState,
        EventKind::DataAccess,
        EventKind::ManagementAction,
        EventKind::ReceiptReceived,
        EventKind::PartnerCheckpoint,
        EventKind::SplitViewAlarm,
        EventKind::IdentityRefused,
        EventKind::AlignmentCheck,
    ];

    /// The snake_case name stored in the `kind` column and the leaf.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CatalogueServed => "catalogue_served",
            EventKind::DspMessageReceived => "dsp_message_received",
            EventKind::DspMessageSent => "dsp_message_sent",
            EventKind::PolicyDecision => "policy_decision",
            EventKind::Agreement => "agreement",
            EventKind::TransferState => "transfer_state",
            EventKind::DataAccess => "data_access",
            EventKind::ManagementAction => "management_action",
            EventKind::ReceiptReceived => "receipt_received",
            EventKind::PartnerCheckpoint => "partner_checkpoint",
            EventKind::SplitViewAlarm => "split_view_alarm",
            EventKind::IdentityRefused => "identity_refused",
            EventKind::AlignmentCheck => "alignment_check",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One thing to record. The indexed fields are what auditors filter on; `details` is free-form (digests, states,
/// decisions); `personal` is whatever identifies a person and must stay erasable.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub kind: EventKind,
    pub partner: Option<String>,
    pub resource: Option<String>,
    pub agreement: Option<String>,
    pub transfer: Option<String>,
    pub purpose: Option<String>,
    pub details: Value,
    pub personal: Option<Value>,
}

impl AuditEvent {
    /// An event of `kind` with the given details and nothing else set.
    pub fn new(kind: EventKind, details: Value) -> AuditEvent {
        AuditEvent {
            kind,
            partner: None,
            resource: None,
            agreement: None,
            transfer: None,
            purpose: None,
            details,
            personal: None,
        }
    }
}

/// The erasable side-table row for an event's personal part.
#[derive(Debug, Clone)]
pub struct PersonalRow {
    pub commitment: String,
    pub salt: String,
    pub body: String,
}

/// An event turned into its leaf, ready for the writer to assign an index.
#[derive(Debug, Clone)]
pub struct PreparedLeaf {
    pub logged_at: String,
    pub event: AuditEvent,
    pub leaf: String,
    pub hash: Hash,
    pub personal: Option<PersonalRow>,
}

/// `SHA-256(salt || canonical(personal))` in hex: hiding (the salt is random) and binding (the leaf commits to it).
pub fn commitment(salt: &[u8], canonical_personal: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(canonical_personal);
    hex::encode(h.finalize())
}

/// Log time as fixed-width RFC 3339 UTC with microseconds, so text order is time order in both databases.
pub fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Builds the canonical leaf. The salt comes from two v4 UUIDs (244 random bits from the OS generator).
pub fn prepare(event: AuditEvent, now: time::OffsetDateTime) -> Result<PreparedLeaf, AuditError> {
    let logged_at = timestamp(now);
    let personal = match &event.personal {
        None => None,
        Some(p) => {
            let body = canonicalize(p).map_err(|e| AuditError::Invalid(e.to_string()))?;
            let mut salt = uuid::Uuid::new_v4().as_bytes().to_vec();
            salt.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            Some(PersonalRow {
                commitment: commitment(&salt, &body),
                salt: hex::encode(&salt),
                body: String::from_utf8(body)
                    .map_err(|_| AuditError::Invalid("personal data is not utf-8".into()))?,
            })
        }
    };
    let mut m = Map::new();
    m.insert("v".into(), LEAF_VERSION.into());
    m.insert("time".into(), logged_at.clone().into());
    m.insert("kind".into(), event.kind.as_str().into());
    for (name, value) in [
        ("partner", &event.partner),
        ("resource", &event.resource),
        ("agreement", &event.agreement),
        ("transfer", &event.transfer),
        ("purpose", &event.purpose),
    ] {
        if let Some(v) = value {
            m.insert(name.into(), v.clone().into());
        }
    }
    m.insert("details".into(), event.details.clone());
    if let Some(p) = &personal {
        m.insert("personal".into(), format!("sha256:{}", p.commitment).into());
    }
    let bytes = canonicalize(&Value::Object(m)).map_err(|e| AuditError::Invalid(e.to_string()))?;
    if bytes.len() > MAX_LEAF_BYTES {
        return Err(AuditError::Invalid(format!(
            "entry is {} bytes, more than {MAX_LEAF_BYTES}; log large artefacts by sha-256 digest",
            bytes.len()
        )));
    }
    let hash = leaf_hash(&bytes);
    let leaf =
        String::from_utf8(bytes).map_err(|_| AuditError::Invalid("entry is not utf-8".into()))?;
    Ok(PreparedLeaf {
        logged_at,
        event,
        leaf,
        hash,
        personal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaf_is_canonical_and_holds_no_personal_data() {
        let mut e = AuditEvent::new(
            EventKind::ManagementAction,
            json!({"b": 1, "a": "resource created"}),
        );
        e.resource = Some("res-1".into());
        e.personal = Some(json!({"who": "Jane Doe"}));
        let now = time::macros::datetime!(2026-01-02 03:04:05.000_006 UTC);
        let p = prepare(e, now).expect("prepared");
        assert!(!p.leaf.contains("Jane"));
        let row = p.personal.expect("personal row");
        assert!(p.leaf.starts_with(r#"{"details":{"a":"resource created","b":1},"kind":"management_action","personal":"sha256:"#));
        assert!(p
            .leaf
            .ends_with(r#","resource":"res-1","time":"2026-01-02T03:04:05.000006Z","v":1}"#));
        let salt = hex::decode(&row.salt).expect("hex salt");
        assert_eq!(commitment(&salt, row.body.as_bytes()), row.commitment);
        assert_eq!(p.hash, leaf_hash(p.leaf.as_bytes()));
    }

    #[test]
    fn oversized_entries_are_refused() {
        let e = AuditEvent::new(
            EventKind::DataAccess,
            json!({"blob": "x".repeat(MAX_LEAF_BYTES)}),
        );
        assert!(matches!(
            prepare(e, time::OffsetDateTime::now_utc()),
            Err(AuditError::Invalid(_))
        ));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).expect("serializes"),
                json!(k.as_str())
            );
        }
    }
}
