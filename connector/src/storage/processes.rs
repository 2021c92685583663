//! Negotiations and transfer processes as stored, with their history and the outbox messages a state change
//! causes. A state change, its history line and its outgoing messages commit in one transaction, guarded by the
//! row's version, so a crash or a concurrent message can never leave a state without the message it implies.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{now_text, StorageError, Store};

/// A contract negotiation, on either side.
#[derive(Debug, Clone, PartialEq)]
pub struct NegotiationRecord {
    pub id: String,
    /// `provider` or `consumer`: our role in this negotiation.
    pub role: String,
    pub provider_pid: Option<String>,
    pub consumer_pid: Option<String>,
    pub partner: String,
    pub state: String,
    pub dataset: String,
    /// The latest offer on the table.
    pub offer: Value,
    /// Who made the latest offer (`provider` or `consumer`).
    pub offer_by: String,
    /// Where to send messages for this negotiation (the peer's callback address or DSP base).
    pub peer_address: Option<String>,
    pub purpose: Option<String>,
    pub agreement_id: Option<String>,
    /// What the negotiation is waiting for, in words, when it waits.
    pub waiting_for: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A transfer process, on either side.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferRecord {
    pub id: String,
    pub role: String,
    pub provider_pid: Option<String>,
    pub consumer_pid: Option<String>,
    pub partner: String,
    pub agreement_id: String,
    pub state: String,
    pub format: String,
    pub peer_address: Option<String>,
    /// Consumer side: the data address received. Provider side: the push target given by the consumer.
    pub data_address: Option<Value>,
    /// SHA-256 (hex) of the access token issued for a pull transfer; the token itself is never stored.
    pub token_hash: Option<String>,
    pub token_expires: Option<i64>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// One line of a process's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_state: Option<String>,
    pub to_state: String,
    /// What happened, e.g. `received ContractRequestMessage from https://city-b.example`.
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A message to send to a partner once the change commits.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    pub partner: String,
    pub kind: String,
    pub url: String,
    pub body: Value,
    /// Detached JWS to send in the signature header, if any.
    pub signature: Option<String>,
    /// The state the process reaches when the partner acknowledges this message (DSP 2025-1: a state changes
    /// when the counterparty acknowledges); `None` for a message that moves nothing.
    pub transition_to: Option<String>,
}

impl NewOutbox {
    /// This message moves its process to `state` once the partner acknowledges it.
    pub fn reaching(mut self, state: &str) -> NewOutbox {
        self.transition_to = Some(state.to_string());
        self
    }
}

/// What a state change writes beside the row: a history line and messages to send.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub history: Vec<(Option<String>, String, String, Option<String>)>,
    pub outbox: Vec<NewOutbox>,
    /// An agreement concluded by this change, stored with it.
    pub agreement: Option<super::AgreementRecord>,
    /// The digest of the partner's message that caused this change (and whether it had its own `@id`), recorded
    /// with it so a repeat of that message is recognised.
    pub received: Option<(String, bool)>,
}

impl Change {
    pub fn new() -> Change {
        Change::default()
    }

    /// Records `from → to` because of `event`.
    pub fn history(
        mut self,
        from: Option<&str>,
        to: &str,
        event: impl Into<String>,
        detail: Option<String>,
    ) -> Change {
        self.history.push((
            from.map(str::to_string),
            to.to_string(),
            event.into(),
            detail,
        ));
        self
    }

    pub fn send(mut self, message: NewOutbox) -> Change {
        self.outbox.push(message);
        self
    }

    /// This change was caused by the partner's message with `digest`.
    pub fn received(mut self, digest: String, has_id: bool) -> Change {
        self.received = Some((digest, has_id));
        self
    }

    pub fn conclude(mut self, agreement: super::AgreementRecord) -> Change {
        self.agreement = Some(agreement);
        self
    }
}

const NEGOTIATION_COLUMNS: &str =
    "id, role, provider_pid, consumer_pid, partner, state, dataset, offer, offer_by, \
    peer_address, purpose, agreement_id, waiting_for, version, created_at, updated_at";
const TRANSFER_COLUMNS: &str =
    "id, role, provider_pid, consumer_pid, partner, agreement_id, state, format, \
    peer_address, data_address, token_hash, token_expires, version, created_at, updated_at";

fn json(text: &str, what: &str) -> Result<Value, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

fn negotiation(row: &AnyRow) -> Result<NegotiationRecord, StorageError> {
    Ok(NegotiationRecord {
        id: row.try_get("id")?,
        role: row.try_get("role")?,
        provider_pid: row.try_get("provider_pid")?,
        consumer_pid: row.try_get("consumer_pid")?,
        partner: row.try_get("partner")?,
        state: row.try_get("state")?,
        dataset: row.try_get("dataset")?,
        offer: json(&row.try_get::<String, _>("offer")?, "negotiation offer")?,
        offer_by: row.try_get("offer_by")?,
        peer_address: row.try_get("peer_address")?,
        purpose: row.try_get("purpose")?,
        agreement_id: row.try_get("agreement_id")?,
        waiting_for: row.try_get("waiting_for")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn transfer(row: &AnyRow) -> Result<TransferRecord, StorageError> {
    let address: Option<String> = row.try_get("data_address")?;
    Ok(TransferRecord {
        id: row.try_get("id")?,
        role: row.try_get("role")?,
        provider_pid: row.try_get("provider_pid")?,
        consumer_pid: row.try_get("consumer_pid")?,
        partner: row.try_get("partner")?,
        agreement_id: row.try_get("agreement_id")?,
        state: row.try_get("state")?,
        format: row.try_get("format")?,
        peer_address: row.try_get("peer_address")?,
        data_address: address
            .map(|a| json(&a, "transfer data address"))
            .transpose()?,
        token_hash: row.try_get("token_hash")?,
        token_expires: row.try_get("token_expires")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn write_change(
    tx: &mut Transaction<'_, Any>,
    process_id: &str,
    change: &Change,
) -> Result<(), StorageError> {
    let now = now_text();
    if let Some(a) = &change.agreement {
        super::agreements::insert_in(tx, a).await?;
    }
    for (from, to, event, detail) in &change.history {
        sqlx::query("INSERT INTO process_history (process_id, at, from_state, to_state, event, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(process_id)
            .bind(&now)
            .bind(from.as_deref())
            .bind(to)
            .bind(event)
            .bind(detail.as_deref())
            .execute(&mut **tx)
            .await?;
    }
    if let Some((digest, has_id)) = &change.received {
        super::received::record_in(tx, process_id, digest, *has_id).await?;
    }
    for m in &change.outbox {
        sqlx::query(
            "INSERT INTO outbox (process_id, partner, kind, url, body, signature, status, attempts, next_attempt_ms, created_at, transition_to) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, 0, $7, $8)",
        )
        .bind(process_id)
        .bind(&m.partner)
        .bind(&m.kind)
        .bind(&m.url)
        .bind(m.body.to_string())
        .bind(m.signature.as_deref())
        .bind(&now)
        .bind(m.transition_to.as_deref())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The column holding our own pid for a process we hold in `role`.
fn own_pid_column(role: &str) -> &'static str {
    if role == "provider" {
        "provider_pid"
    } else {
        "consumer_pid"
    }
}

/// The column holding the partner's pid for a process we hold in `role`.
fn partner_pid_column(role: &str) -> &'static str {
    if role == "provider" {
        "consumer_pid"
    } else {
        "provider_pid"
    }
}

impl Store {
    pub async fn insert_negotiation(
        &self,
        n: &NegotiationRecord,
        change: &Change,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(&format!(
            "INSERT INTO negotiations ({NEGOTIATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&n.id)
        .bind(&n.role)
        .bind(n.provider_pid.as_deref())
        .bind(n.consumer_pid.as_deref())
        .bind(&n.partner)
        .bind(&n.state)
        .bind(&n.dataset)
        .bind(n.offer.to_string())
        .bind(&n.offer_by)
        .bind(n.peer_address.as_deref())
        .bind(n.purpose.as_deref())
        .bind(n.agreement_id.as_deref())
        .bind(n.waiting_for.as_deref())
        .bind(n.version)
        .bind(&n.created_at)
        .bind(&n.updated_at)
        .execute(&mut *tx)
        .await?;
        write_change(&mut tx, &n.id, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves `n` if its stored version is still `n.version - 1`; false means someone else changed it first.
    pub async fn update_negotiation(
        &self,
        n: &NegotiationRecord,
        change: &Change,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE negotiations SET provider_pid = $1, consumer_pid = $2, state = $3, offer = $4, offer_by = $5, \
             peer_address = $6, purpose = $7, agreement_id = $8, waiting_for = $9, version = $10, updated_at = $11 \
             WHERE id = $12 AND version = $13",
        )
        .bind(n.provider_pid.as_deref())
        .bind(n.consumer_pid.as_deref())
        .bind(&n.state)
        .bind(n.offer.to_string())
        .bind(&n.offer_by)
        .bind(n.peer_address.as_deref())
        .bind(n.purpose.as_deref())
        .bind(n.agreement_id.as_deref())
        .bind(n.waiting_for.as_deref())
        .bind(n.version)
        .bind(now_text())
        .bind(&n.id)
        .bind(n.version - 1)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_change(&mut tx, &n.id, change).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn negotiation(&self, id: &str) -> Result<Option<NegotiationRecord>, StorageError> {
        let row = sqlx::query(&format!(
            "SELECT {NEGOTIATION_COLUMNS} FROM negotiations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(negotiation).transpose()
    }

    /// The negotiation we hold in `role` whose own pid (provider pid for a provider, consumer pid for a consumer)
    /// is `pid`.
    pub async fn negotiation_by_pid(
        &self,
        role: &str,
        pid: &str,
    ) -> Result<Option<NegotiationRecord>, StorageError> {
        let column = own_pid_column(role);
        let row = sqlx::query(&format!(
            "SELECT {NEGOTIATION_COLUMNS} FROM negotiations WHERE role = $1 AND {column} = $2"
        ))
        .bind(role)
        .bind(pid)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(negotiation).transpose()
    }

    /// The negotiation we hold in `role` with `partner` whose partner's pid (the consumer pid when we provide, the
    /// provider pid when we consume) is `pid`: the process a repeated creating message refers to.
    pub async fn negotiation_by_partner_pid(
        &self,
        role: &str,
        partner: &str,
        pid: &str,
    ) -> Result<Option<NegotiationRecord>, StorageError> {
        let column = partner_pid_column(role);
        let row = sqlx::query(&format!(
            "SELECT {NEGOTIATION_COLUMNS} FROM negotiations WHERE role = $1 AND partner = $2 AND {column} = $3 \
             ORDER BY created_at, id LIMIT 1"
        ))
        .bind(role)
        .bind(partner)
        .bind(pid)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(negotiation).transpose()
    }

    pub async fn negotiations(&self) -> Result<Vec<NegotiationRecord>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {NEGOTIATION_COLUMNS} FROM negotiations ORDER BY created_at, id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(negotiation).collect()
    }

    pub async fn insert_transfer(
        &self,
        t: &TransferRecord,
        change: &Change,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(&format!(
            "INSERT INTO transfers ({TRANSFER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(&t.id)
        .bind(&t.role)
        .bind(t.provider_pid.as_deref())
        .bind(t.consumer_pid.as_deref())
        .bind(&t.partner)
        .bind(&t.agreement_id)
        .bind(&t.state)
        .bind(&t.format)
        .bind(t.peer_address.as_deref())
        .bind(t.data_address.as_ref().map(Value::to_string))
        .bind(t.token_hash.as_deref())
        .bind(t.token_expires)
        .bind(t.version)
        .bind(&t.created_at)
        .bind(&t.updated_at)
        .execute(&mut *tx)
        .await?;
        write_change(&mut tx, &t.id, change).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(())
    }

    pub async fn update_transfer(
        &self,
        t: &TransferRecord,
        change: &Change,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE transfers SET provider_pid = $1, consumer_pid = $2, state = $3, peer_address = $4, data_address = $5, \
             token_hash = $6, token_expires = $7, version = $8, updated_at = $9 WHERE id = $10 AND version = $11",
        )
        .bind(t.provider_pid.as_deref())
        .bind(t.consumer_pid.as_deref())
        .bind(&t.state)
        .bind(t.peer_address.as_deref())
        .bind(t.data_address.as_ref().map(Value::to_string))
        .bind(t.token_hash.as_deref())
        .bind(t.token_expires)
        .bind(t.version)
        .bind(now_text())
        .bind(&t.id)
        .bind(t.version - 1)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_change(&mut tx, &t.id, change).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(true)
    }

    pub async fn transfer(&self, id: &str) -> Result<Option<TransferRecord>, StorageError> {
        let row = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(transfer).transpose()
    }

    pub async fn transfer_by_pid(
        &self,
        role: &str,
        pid: &str,
    ) -> Result<Option<TransferRecord>, StorageError> {
        let column = own_pid_column(role);
        let row = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE role = $1 AND {column} = $2"
        ))
        .bind(role)
        .bind(pid)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(transfer).transpose()
    }

    /// The transfer we hold in `role` with `partner` whose partner's pid is `pid` (see
    /// [`Store::negotiation_by_partner_pid`]).
    pub async fn transfer_by_partner_pid(
        &self,
        role: &str,
        partner: &str,
        pid: &str,
    ) -> Result<Option<TransferRecord>, StorageError> {
        let column = partner_pid_column(role);
        let row = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE role = $1 AND partner = $2 AND {column} = $3 \
             ORDER BY created_at, id LIMIT 1"
        ))
        .bind(role)
        .bind(partner)
        .bind(pid)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(transfer).transpose()
    }

    /// The provider-side transfer an access token was issued for.
    pub async fn transfer_by_token_hash(
        &self,
        hash: &str,
    ) -> Result<Option<TransferRecord>, StorageError> {
        Ok(self.serving_transfer(hash).await?.map(|(t, _)| t))
    }

    /// The transfer a data-plane token belongs to, with the state our latest message still awaiting the partner's
    /// acknowledgement leads to (one query: the data plane reads this on every request it cannot answer from its
    /// cache).
    pub async fn serving_transfer(
        &self,
        hash: &str,
    ) -> Result<Option<(TransferRecord, Option<String>)>, StorageError> {
        let row = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS}, (SELECT o.transition_to FROM outbox o WHERE o.process_id = transfers.id \
             AND o.status = 'pending' AND o.transition_to IS NOT NULL ORDER BY o.id DESC LIMIT 1) AS planned_state \
             FROM transfers WHERE token_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(|r| Ok((transfer(r)?, r.try_get("planned_state")?)))
            .transpose()
    }

    pub async fn transfers(&self) -> Result<Vec<TransferRecord>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers ORDER BY created_at, id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(transfer).collect()
    }

    pub async fn history(&self, process_id: &str) -> Result<Vec<HistoryEntry>, StorageError> {
        let rows = sqlx::query("SELECT at, from_state, to_state, event, detail FROM process_history WHERE process_id = $1 ORDER BY seq")
            .bind(process_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    at: r.try_get("at")?,
                    from_state: r.try_get("from_state")?,
                    to_state: r.try_get("to_state")?,
                    event: r.try_get("event")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Adds history lines without a state change (e.g. "waiting for operator approval").
    pub async fn note(
        &self,
        process_id: &str,
        state: &str,
        event: &str,
        detail: Option<String>,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        write_change(
            &mut tx,
            process_id,
            &Change::new().history(Some(state), state, event, detail),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
