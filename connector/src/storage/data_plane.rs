//! What the data plane keeps: the number of accesses made under each agreement, taken with one atomic increment so
//! a count limit holds however many requests arrive at once, and the receipts of the responses served (stored as recorded, signed when fetched).

use sqlx::Row;

use super::values::insert_rows;
use super::{now_text, Backend, StorageError, Store};

/// A receipt this provider issued for a response it served, and whom it belongs to (the consumer keeps what it
/// received as [`crate::dataplane::consumer::StoredReceipt`]).
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedReceipt {
    pub request_id: String,
    pub transfer_id: String,
    pub partner: String,
    /// The receipt as recorded (`AccessReceipt` JSON), or once fetched the `SignedReceipt` JSON as served.
    pub body: String,
}

impl Store {
    /// Accesses counted so far under `agreement_id`.
    pub async fn access_count(&self, agreement_id: &str) -> Result<u64, StorageError> {
        let row = sqlx::query("SELECT count FROM data_access_counts WHERE agreement_id = $1")
            .bind(agreement_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            None => Ok(0),
            Some(r) => {
                let n: i64 = r.try_get("count")?;
                u64::try_from(n).map_err(|_| StorageError::Corrupt(format!("access count {n}")))
            }
        }
    }

    /// Moves the count from `seen` to `seen + 1` if nobody else did first; `false` means the caller must re-read
    /// and decide again with the new count.
    pub async fn reserve_access(
        &self,
        agreement_id: &str,
        seen: u64,
    ) -> Result<bool, StorageError> {
        let seen = i64::try_from(seen).map_err(|_| StorageError::Corrupt("access count".into()))?;
        let done = if seen == 0 {
            sqlx::query(
                "INSERT INTO data_access_counts (agreement_id, count) VALUES ($1, 1) ON CONFLICT (agreement_id) DO NOTHING",
            )
            .bind(agreement_id)
            .execute(self.pool())
            .await?
        } else {
            sqlx::query(
                "UPDATE data_access_counts SET count = count + 1 WHERE agreement_id = $1 AND count = $2",
            )
            .bind(agreement_id)
            .bind(seen)
            .execute(self.pool())
            .await?
        };
        Ok(done.rows_affected() == 1)
    }

    /// Takes the next access number under `agreement_id` in one statement and returns it (1 for the first).
    pub async fn take_access(&self, agreement_id: &str) -> Result<u64, StorageError> {
        let row = sqlx::query(
            "INSERT INTO data_access_counts (agreement_id, count) VALUES ($1, 1) \
             ON CONFLICT (agreement_id) DO UPDATE SET count = data_access_counts.count + 1 RETURNING count",
        )
        .bind(agreement_id)
        .fetch_one(self.pool())
        .await?;
        let n: i64 = row.try_get("count")?;
        u64::try_from(n).map_err(|_| StorageError::Corrupt(format!("access count {n}")))
    }

    /// Gives back an access taken by a request that was then refused.
    pub async fn refund_access(&self, agreement_id: &str) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE data_access_counts SET count = count - 1 WHERE agreement_id = $1 AND count > 0",
        )
        .bind(agreement_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stores receipts in one transaction: all of them or none.
    pub async fn put_receipts(&self, receipts: &[IssuedReceipt]) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        insert_receipts(&mut tx, self.backend(), receipts).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a receipt's body with its signed form, only if it is still `recorded`: returns whether this call
    /// stored it (false: another fetch signed it first, and that signature stands).
    pub async fn sign_stored_receipt(
        &self,
        request_id: &str,
        recorded: &str,
        signed: &str,
    ) -> Result<bool, StorageError> {
        let done =
            sqlx::query("UPDATE data_receipts SET body = $1 WHERE request_id = $2 AND body = $3")
                .bind(signed)
                .bind(request_id)
                .bind(recorded)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The stored receipts among `request_ids` (any order; ids with none are left out), in one query.
    pub async fn receipts(
        &self,
        request_ids: &[String],
    ) -> Result<Vec<IssuedReceipt>, StorageError> {
        if request_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT request_id, transfer_id, partner, body FROM data_receipts WHERE request_id IN ({})",
            super::values::in_list(request_ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in request_ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(IssuedReceipt {
                    request_id: r.try_get("request_id")?,
                    transfer_id: r.try_get("transfer_id")?,
                    partner: r.try_get("partner")?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }

    pub async fn receipt(&self, request_id: &str) -> Result<Option<IssuedReceipt>, StorageError> {
        let row = sqlx::query(
            "SELECT request_id, transfer_id, partner, body FROM data_receipts WHERE request_id = $1",
        )
        .bind(request_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(IssuedReceipt {
                request_id: r.try_get("request_id")?,
                transfer_id: r.try_get("transfer_id")?,
                partner: r.try_get("partner")?,
                body: r.try_get("body")?,
            })
        })
        .transpose()
    }
}

/// Inserts receipts in `tx` with multi-row statements (one statement per receipt was, measured, a third of the
/// data plane's throughput on SQLite: each a round trip to its worker thread). A request id already stored is an
/// error: ids are UUIDv7s made here, so a duplicate is a bug to surface, not to skip.
pub(crate) async fn insert_receipts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    receipts: &[IssuedReceipt],
) -> Result<(), StorageError> {
    let now = now_text();
    insert_rows(
        tx,
        backend,
        "INSERT INTO data_receipts (request_id, transfer_id, partner, body, created_at)",
        5,
        receipts,
        |q, r| {
            q.bind(r.request_id.clone())
                .bind(r.transfer_id.clone())
                .bind(r.partner.clone())
                .bind(r.body.clone())
                .bind(now.clone())
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::IssuedReceipt;
    use crate::storage::test_support::stores;

    #[tokio::test]
    async fn a_count_moves_only_from_the_value_seen() {
        for (store, _dir) in stores().await {
            assert_eq!(store.access_count("a1").await.unwrap(), 0);
            assert!(store.reserve_access("a1", 0).await.unwrap());
            // A second request that also saw 0 lost the race and must decide again.
            assert!(!store.reserve_access("a1", 0).await.unwrap());
            assert!(store.reserve_access("a1", 1).await.unwrap());
            assert!(!store.reserve_access("a1", 1).await.unwrap());
            assert_eq!(store.access_count("a1").await.unwrap(), 2);
            assert_eq!(store.access_count("a2").await.unwrap(), 0);
            assert_eq!(store.take_access("a2").await.unwrap(), 1);
            assert_eq!(store.take_access("a2").await.unwrap(), 2);
            store.refund_access("a2").await.unwrap();
            assert_eq!(store.access_count("a2").await.unwrap(), 1);
        }
    }

    #[tokio::test]
    async fn receipts_are_kept_by_request_id() {
        for (store, _dir) in stores().await {
            let r = IssuedReceipt {
                request_id: "r1".into(),
                transfer_id: "t1".into(),
                partner: "https://b".into(),
                body: "{}".into(),
            };
            store.put_receipts(std::slice::from_ref(&r)).await.unwrap();
            assert_eq!(store.receipt("r1").await.unwrap(), Some(r.clone()));
            assert_eq!(store.receipt("r2").await.unwrap(), None);

            // The first signature stored stands; a second signer that read the recorded form loses.
            assert!(store
                .sign_stored_receipt("r1", "{}", "{\"s\":1}")
                .await
                .unwrap());
            assert!(!store
                .sign_stored_receipt("r1", "{}", "{\"s\":2}")
                .await
                .unwrap());
            assert_eq!(
                store.receipt("r1").await.unwrap().unwrap().body,
                "{\"s\":1}"
            );
        }
    }
}
