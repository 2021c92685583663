//! The audit log's SQL: batched inserts in one transaction, paged reads for rebuilding the tree, filtered queries
//! for auditors, checkpoints, the erasable personal-data side table and partners' checkpoints. `$n` placeholders
//! work on both SQLite and PostgreSQL through sqlx's `Any` driver.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::event::PreparedLeaf;
use super::ReceiptRow;
use crate::storage::values::{self, ROWS_PER_INSERT};
use crate::storage::{Backend, StorageError, Store};

const ENTRY_COLUMNS: usize = 10;

/// One stored entry as auditors see it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredEntry {
    pub index: u64,
    pub logged_at: String,
    pub kind: String,
    pub partner: Option<String>,
    pub resource: Option<String>,
    pub agreement: Option<String>,
    pub transfer: Option<String>,
    pub purpose: Option<String>,
    /// The leaf exactly as hashed: RFC 8785 canonical JSON.
    pub leaf: String,
    /// Lowercase hex of the RFC 9162 leaf hash.
    pub leaf_hash: String,
}

/// Auditors' filters; every field narrows the result, `None` means any.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryFilter {
    /// Earliest log time, RFC 3339 UTC (inclusive).
    pub from: Option<String>,
    /// Latest log time, RFC 3339 UTC (exclusive).
    pub to: Option<String>,
    pub kind: Option<String>,
    pub partner: Option<String>,
    pub resource: Option<String>,
    pub agreement: Option<String>,
    pub transfer: Option<String>,
    pub purpose: Option<String>,
    pub offset: Option<u64>,
    pub limit: Option<u64>,
}

fn entry(row: &sqlx::any::AnyRow) -> Result<StoredEntry, StorageError> {
    let idx: i64 = row.try_get("idx")?;
    Ok(StoredEntry {
        index: u64::try_from(idx)
            .map_err(|_| StorageError::Corrupt(format!("negative audit index {idx}")))?,
        logged_at: row.try_get("logged_at")?,
        kind: row.try_get("kind")?,
        partner: row.try_get("partner")?,
        resource: row.try_get("resource")?,
        agreement: row.try_get("agreement")?,
        transfer: row.try_get("transfer")?,
        purpose: row.try_get("purpose")?,
        leaf: row.try_get("leaf")?,
        leaf_hash: row.try_get("leaf_hash")?,
    })
}

const ENTRY_SELECT: &str =
    "SELECT idx, logged_at, kind, partner, resource, agreement, transfer, purpose, leaf, leaf_hash FROM audit_entries";

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Inserts a batch of leaves starting at index `first` and their personal rows, all in one transaction: either
    /// the whole batch is durable or none of it is.
    pub(crate) async fn audit_insert_batch(
        &self,
        first: u64,
        leaves: &[PreparedLeaf],
        receipts: Vec<Option<Box<ReceiptRow>>>,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        insert_leaves(&mut tx, self.backend(), first, leaves).await?;
        insert_receipt_rows(&mut tx, self.backend(), first, receipts).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Like [`Store::audit_insert_batch`] for replicas sharing a PostgreSQL database: the transaction first takes
    /// the log's advisory lock (held until commit), then `catch_up` brings this replica's tree up to what the others
    /// committed and returns the next index, so every replica extends the one latest tree. Returns the first index.
    pub(crate) async fn audit_insert_batch_locked<F, Fut>(
        &self,
        leaves: &[PreparedLeaf],
        receipts: Vec<Option<Box<ReceiptRow>>>,
        catch_up: F,
    ) -> Result<u64, StorageError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<u64, StorageError>>,
    {
        let mut tx = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_LOCK)
            .execute(&mut *tx)
            .await?;
        let first = catch_up().await?;
        insert_leaves(&mut tx, self.backend(), first, leaves).await?;
        insert_receipt_rows(&mut tx, self.backend(), first, receipts).await?;
        tx.commit().await?;
        Ok(first)
    }
}

/// The receipt rows of a batch: issued receipts made with their entry's index (`first` + its place in the batch),
/// received ones with it too unless they name the entry that recorded their access already.
async fn insert_receipt_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    first: u64,
    receipts: Vec<Option<Box<ReceiptRow>>>,
) -> Result<(), StorageError> {
    let mut issued = Vec::new();
    let mut received = Vec::new();
    for (i, row) in receipts.into_iter().enumerate() {
        let Some(row) = row else {
            continue;
        };
        match *row {
            ReceiptRow::Issued(mut receipt) => {
                receipt.audit_index = Some(first + i as u64);
                issued.push(crate::storage::IssuedReceipt {
                    request_id: receipt.request_id.clone(),
                    transfer_id: receipt.transfer_id.clone(),
                    partner: receipt.consumer.clone(),
                    body: serde_json::to_string(&receipt)
                        .map_err(|e| StorageError::Corrupt(format!("receipt: {e}")))?,
                });
            }
            ReceiptRow::Received {
                transfer_id,
                mut record,
            } => {
                if record["audit_index"].is_null() {
                    record["audit_index"] = serde_json::json!(first + i as u64);
                }
                received.push(crate::storage::ReceivedReceipt {
                    transfer_id,
                    body: record.to_string(),
                });
            }
        }
    }
    crate::storage::insert_receipts(tx, backend, &issued).await?;
    crate::storage::insert_received_receipts(tx, backend, &received).await
}

/// The advisory lock key that serialises audit appends across replicas (an arbitrary constant: "twinport audit").
const AUDIT_LOCK: i64 = 0x7477_696e_6175_6474;

async fn insert_leaves(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    first: u64,
    leaves: &[PreparedLeaf],
) -> Result<(), StorageError> {
    {
        for leaf in leaves {
            if let Some(p) = &leaf.personal {
                sqlx::query("INSERT INTO audit_personal (commitment, salt, body, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(&p.commitment)
                    .bind(&p.salt)
                    .bind(&p.body)
                    .bind(&leaf.logged_at)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        for (chunk_no, chunk) in leaves.chunks(ROWS_PER_INSERT).enumerate() {
            // On SQLite, OR FAIL: a failing multi-row INSERT under the default ABORT must undo its own earlier
            // rows, so SQLite copies every page the statement touches into a statement journal first (measured:
            // most of the writer's memory copying). FAIL keeps them, which is safe here because any error drops
            // the whole transaction: the batch is written entirely or not at all.
            let verb = match backend {
                Backend::Sqlite => "INSERT OR FAIL",
                Backend::Postgres => "INSERT",
            };
            let sql = format!(
                "{verb} INTO audit_entries (idx, logged_at, kind, partner, resource, agreement, transfer, purpose, leaf, leaf_hash) VALUES {}",
                values::placeholders(backend, chunk.len(), ENTRY_COLUMNS)
            );
            let mut q = sqlx::query(&sql);
            for (i, leaf) in chunk.iter().enumerate() {
                let idx = first + (chunk_no * ROWS_PER_INSERT + i) as u64;
                let e = &leaf.event;
                q = q
                    .bind(to_i64(idx))
                    .bind(leaf.logged_at.clone())
                    .bind(e.kind.as_str())
                    .bind(e.partner.clone())
                    .bind(e.resource.clone())
                    .bind(e.agreement.clone())
                    .bind(e.transfer.clone())
                    .bind(e.purpose.clone())
                    .bind(leaf.leaf.clone())
                    .bind(hex::encode(leaf.hash));
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Entries with index in `start..start+limit`, in index order.
    pub async fn audit_entries_from(
        &self,
        start: u64,
        limit: u64,
    ) -> Result<Vec<StoredEntry>, StorageError> {
        let rows = sqlx::query(&format!(
            "{ENTRY_SELECT} WHERE idx >= $1 ORDER BY idx LIMIT $2"
        ))
        .bind(to_i64(start))
        .bind(to_i64(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry).collect()
    }

    /// Filtered, paged entries in index order.
    pub async fn audit_query(&self, f: &EntryFilter) -> Result<Vec<StoredEntry>, StorageError> {
        let mut sql = format!("{ENTRY_SELECT} WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        for (column, op, value) in [
            ("logged_at", ">=", &f.from),
            ("logged_at", "<", &f.to),
            ("kind", "=", &f.kind),
            ("partner", "=", &f.partner),
            ("resource", "=", &f.resource),
            ("agreement", "=", &f.agreement),
            ("transfer", "=", &f.transfer),
            ("purpose", "=", &f.purpose),
        ] {
            if let Some(v) = value {
                binds.push(v.clone());
                sql.push_str(&format!(" AND {column} {op} ${}", binds.len()));
            }
        }
        sql.push_str(&format!(
            " ORDER BY idx LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        ));
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        let rows = q
            .bind(to_i64(f.limit.unwrap_or(100).min(1000)))
            .bind(to_i64(f.offset.unwrap_or(0)))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(entry).collect()
    }

    pub(crate) async fn audit_insert_checkpoint(
        &self,
        size: u64,
        root_hex: &str,
        note: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            // Replicas sharing a database may sign the same tree: the note is then byte-identical (Ed25519 is
            // deterministic), so the second insert has nothing to add.
            "INSERT INTO audit_checkpoints (size, root, note, signed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
        )
        .bind(to_i64(size))
        .bind(root_hex)
        .bind(note)
        .bind(super::event::timestamp(time::OffsetDateTime::now_utc()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every checkpoint note the log signed, smallest tree first.
    pub async fn audit_checkpoints(&self) -> Result<Vec<String>, StorageError> {
        let rows = sqlx::query("SELECT note FROM audit_checkpoints ORDER BY size")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get("note")?)).collect()
    }

    pub async fn audit_latest_checkpoint(&self) -> Result<Option<String>, StorageError> {
        let row = sqlx::query("SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("note")).transpose()?)
    }

    /// The personal details behind a commitment, if not erased: `(salt hex, canonical body)`.
    pub async fn audit_personal(
        &self,
        commitment: &str,
    ) -> Result<Option<(String, String)>, StorageError> {
        let row = sqlx::query("SELECT salt, body FROM audit_personal WHERE commitment = $1")
            .bind(commitment)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((r.try_get("salt")?, r.try_get("body")?)))
            .transpose()
    }

    /// Honours an erasure request: the details go, the leaf keeps its commitment and every proof still verifies.
    pub async fn audit_erase_personal(&self, commitment: &str) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM audit_personal WHERE commitment = $1")
            .bind(commitment)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    /// The latest checkpoint accepted from a partner: `(vkey, note)`.
    pub async fn audit_partner_checkpoint(
        &self,
        partner: &str,
    ) -> Result<Option<(String, String)>, StorageError> {
        let row =
            sqlx::query("SELECT vkey, note FROM audit_partner_checkpoints WHERE partner = $1")
                .bind(partner)
                .fetch_optional(self.pool())
                .await?;
        row.map(|r| Ok((r.try_get("vkey")?, r.try_get("note")?)))
            .transpose()
    }

    pub(crate) async fn audit_put_partner_checkpoint(
        &self,
        partner: &str,
        vkey: &str,
        size: u64,
        note: &str,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM audit_partner_checkpoints WHERE partner = $1")
            .bind(partner)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_partner_checkpoints (partner, vkey, size, note, updated_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(partner)
        .bind(vkey)
        .bind(to_i64(size))
        .bind(note)
        .bind(super::event::timestamp(time::OffsetDateTime::now_utc()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
