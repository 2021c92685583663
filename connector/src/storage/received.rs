//! Follow-up DSP messages already handled, by the digest of their canonical body. A partner that lost our
//! acknowledgement sends the same message again; recognising it lets the copy be answered 200 without a second
//! transition, which is how a lost acknowledgement heals.

use sqlx::Row;

use super::{now_text, StorageError, Store};

impl Store {
    /// Whether `digest` was handled for `process_id` before. A body with its own `@id` is unique, so any earlier
    /// copy counts; a body without one (equal bodies may be new messages, e.g. two suspensions with one code) is
    /// a repeat only of the latest message handled for the process.
    pub async fn received_before(
        &self,
        process_id: &str,
        digest: &str,
        has_id: bool,
    ) -> Result<bool, StorageError> {
        let found = if has_id {
            sqlx::query(
                "SELECT COUNT(*) AS n FROM dsp_received WHERE process_id = $1 AND digest = $2 AND has_id = 1",
            )
            .bind(process_id)
            .bind(digest)
            .fetch_one(self.pool())
            .await?
            .try_get::<i64, _>("n")?
                > 0
        } else {
            sqlx::query(
                "SELECT digest FROM dsp_received WHERE process_id = $1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(process_id)
            .fetch_optional(self.pool())
            .await?
            .map(|row| row.try_get::<String, _>("digest"))
            .transpose()?
            .is_some_and(|last| last == digest)
        };
        Ok(found)
    }
}

/// Records, inside the transaction of the change it caused, that a follow-up message was handled for `process_id`.
pub(super) async fn record_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    process_id: &str,
    digest: &str,
    has_id: bool,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO dsp_received (process_id, digest, has_id, received_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(process_id)
    .bind(digest)
    .bind(i64::from(has_id))
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
