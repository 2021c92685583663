//! Receipts received as a consumer: the provider's signed receipt for each response, with what we received and what
//! we concluded, kept per transfer in the order they arrived. Written by the audit writer in the transaction of the
//! entry that records the receipt's arrival, so the log and the kept receipts never disagree.

use sqlx::Row;

use super::values::insert_rows;
use super::{now_text, Backend, StorageError, Store};

/// One received receipt as kept: the consumer's record of it as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedReceipt {
    pub transfer_id: String,
    pub body: String,
}

impl Store {
    /// The receipts kept for `transfer_id`, oldest first.
    pub async fn received_receipts(&self, transfer_id: &str) -> Result<Vec<String>, StorageError> {
        let rows =
            sqlx::query("SELECT body FROM received_receipts WHERE transfer_id = $1 ORDER BY seq")
                .bind(transfer_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("body")?))
            .collect()
    }
}

impl Store {
    /// Keeps `receipts` in one transaction (for receipts that arrive without an audit entry of their own: those
    /// an earlier version kept as files).
    pub async fn put_received_receipts(
        &self,
        receipts: &[ReceivedReceipt],
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        insert_received_receipts(&mut tx, self.backend(), receipts).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Inserts received receipts in `tx`, several rows per statement.
pub(crate) async fn insert_received_receipts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    receipts: &[ReceivedReceipt],
) -> Result<(), StorageError> {
    let now = now_text();
    insert_rows(
        tx,
        backend,
        "INSERT INTO received_receipts (transfer_id, body, created_at)",
        3,
        receipts,
        |q, r| {
            q.bind(r.transfer_id.clone())
                .bind(r.body.clone())
                .bind(now.clone())
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::{insert_received_receipts, ReceivedReceipt};
    use crate::storage::test_support::stores;

    #[tokio::test]
    async fn received_receipts_are_kept_per_transfer_in_arrival_order() {
        for (store, _dir) in stores().await {
            let rows: Vec<ReceivedReceipt> = (0..70)
                .map(|i| ReceivedReceipt {
                    transfer_id: if i % 2 == 0 { "urn:t:a" } else { "urn:t:b" }.into(),
                    body: format!("{{\"n\": {i}}}"),
                })
                .collect();
            let mut tx = store.pool().begin().await.unwrap();
            insert_received_receipts(&mut tx, store.backend(), &rows)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let a = store.received_receipts("urn:t:a").await.unwrap();
            assert_eq!(a.len(), 35);
            assert_eq!(a[0], "{\"n\": 0}");
            assert_eq!(a[34], "{\"n\": 68}");
            assert!(store
                .received_receipts("urn:t:none")
                .await
                .unwrap()
                .is_empty());
        }
    }
}
