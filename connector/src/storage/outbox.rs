//! The durable outbox: DSP messages to partners, written in the same transaction as the state change that causes
//! them and delivered by the outbox worker, in order per process, with retries that survive restarts.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_text, StorageError, Store};

/// A message waiting for (or past) delivery.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OutboxMessage {
    pub id: i64,
    pub process_id: String,
    pub partner: String,
    pub kind: String,
    pub url: String,
    #[serde(skip)]
    pub body: Value,
    #[serde(skip)]
    pub signature: Option<String>,
    /// `pending`, `delivered` or `failed` (refused by the partner; not retried).
    pub status: String,
    pub attempts: i64,
    /// Unix milliseconds of the next attempt while pending.
    pub next_attempt_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
    /// Unix milliseconds until which a replica's claim on the message lasts; `None` when unclaimed.
    #[serde(skip)]
    pub claimed_until: Option<i64>,
    /// The state the process reaches when the partner acknowledges this message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transition_to: Option<String>,
}

impl OutboxMessage {
    /// A transition still waiting for the partner's acknowledgement.
    pub fn is_pending_transition(&self) -> bool {
        self.status == "pending" && self.transition_to.is_some()
    }
}

const COLUMNS: &str =
    "id, process_id, partner, kind, url, body, signature, status, attempts, next_attempt_ms, last_error, created_at, delivered_at, claimed_until, transition_to";

fn message(row: &AnyRow) -> Result<OutboxMessage, StorageError> {
    let body: String = row.try_get("body")?;
    Ok(OutboxMessage {
        id: row.try_get("id")?,
        process_id: row.try_get("process_id")?,
        partner: row.try_get("partner")?,
        kind: row.try_get("kind")?,
        url: row.try_get("url")?,
        body: serde_json::from_str(&body)
            .map_err(|e| StorageError::Corrupt(format!("outbox body: {e}")))?,
        signature: row.try_get("signature")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_ms: row.try_get("next_attempt_ms")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
        claimed_until: row.try_get("claimed_until")?,
        transition_to: row.try_get("transition_to")?,
    })
}

impl Store {
    /// Pending messages that are first in line for their process (earlier messages of a process go first, so a
    /// partner never sees FINALIZED before the agreement).
    pub async fn outbox_heads(&self) -> Result<Vec<OutboxMessage>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox o WHERE status = 'pending' AND id = \
             (SELECT MIN(id) FROM outbox p WHERE p.process_id = o.process_id AND p.status = 'pending') ORDER BY next_attempt_ms, id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message).collect()
    }

    /// Claims message `id` for `replica` until `until_ms`, if it is still pending and nobody else holds an unexpired
    /// claim. `true` means this replica (alone) delivers it now; the conditional UPDATE is atomic on both backends.
    pub async fn outbox_claim(
        &self,
        id: i64,
        replica: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2 WHERE id = $3 AND status = 'pending' \
             AND (claimed_until IS NULL OR claimed_until < $4)",
        )
        .bind(replica)
        .bind(until_ms)
        .bind(id)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every claim on pending messages. Only for a store no other replica can share (SQLite, one process):
    /// a claim found at start was held by this connector before it died, and the message it was delivering must go
    /// out again now, not when the lease expires.
    pub async fn outbox_release_claims(&self) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
             WHERE status = 'pending' AND claimed_by IS NOT NULL",
        )
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Ends the claims `replica` holds: it stops, and the messages it was delivering should go out again at once
    /// (from another replica, or from it after a restart) rather than when its lease runs out.
    pub async fn outbox_release_claims_of(&self, replica: &str) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
             WHERE status = 'pending' AND claimed_by = $1",
        )
        .bind(replica)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn outbox_for(&self, process_id: &str) -> Result<Vec<OutboxMessage>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE process_id = $1 ORDER BY id"
        ))
        .bind(process_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message).collect()
    }

    /// Whether the process has a message in flight that will move its state once acknowledged.
    pub async fn outbox_in_flight(&self, process_id: &str) -> Result<bool, StorageError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox WHERE process_id = $1 AND status = 'pending' AND transition_to IS NOT NULL",
        )
        .bind(process_id)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Pending messages in all processes: the backlog.
    pub async fn outbox_backlog(&self) -> Result<i64, StorageError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
                .fetch_one(self.pool())
                .await?
                .try_get("n")?,
        )
    }

    pub async fn outbox_delivered(&self, id: i64, attempts: i64) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE outbox SET status = 'delivered', attempts = $1, last_error = NULL, delivered_at = $2 WHERE id = $3")
            .bind(attempts)
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // What the data plane keeps about a transfer includes its pending transition.
        super::data_plane_version::bump(&mut tx).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(())
    }

    pub async fn outbox_retry(
        &self,
        id: i64,
        attempts: i64,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE outbox SET attempts = $1, next_attempt_ms = $2, last_error = $3, claimed_by = NULL, claimed_until = NULL \
             WHERE id = $4",
        )
        .bind(attempts)
        .bind(next_attempt_ms)
        .bind(error)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn outbox_failed(
        &self,
        id: i64,
        attempts: i64,
        error: &str,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE outbox SET status = 'failed', attempts = $1, last_error = $2 WHERE id = $3",
        )
        .bind(attempts)
        .bind(error)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        super::data_plane_version::bump(&mut tx).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(())
    }

    /// Drops pending messages of a process (it was terminated locally, nothing else should go out).
    pub async fn outbox_cancel(
        &self,
        process_id: &str,
        except_kind: &str,
    ) -> Result<(), StorageError> {
        // The process's first message (the one that creates it at the partner) stays, so that a termination queued
        // behind it still has a process to end.
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE outbox SET status = 'cancelled' WHERE process_id = $1 AND status = 'pending' AND kind <> $2 \
             AND id <> (SELECT MIN(id) FROM outbox WHERE process_id = $3)",
        )
            .bind(process_id)
            .bind(except_kind)
            .bind(process_id)
            .execute(&mut *tx)
            .await?;
        super::data_plane_version::bump(&mut tx).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(())
    }
}
