//! The data plane's generation where other replicas may write (PostgreSQL): one row that every committed change to
//! transfers, their pending messages and duty states moves on inside its own transaction, read together with the
//! catalogue's version (resources). What the data plane read while the sum was N holds while it still is N, on any
//! replica. On SQLite one process owns the file and counts its own writes instead ([`Store::generation`]).

use sqlx::Row;

use super::{StorageError, Store};

impl Store {
    /// The sum of the data plane's and the catalogue's versions now: it moves on with every change to what the
    /// data plane keeps (both only ever grow).
    pub(super) async fn shared_generation(&self) -> Result<u64, StorageError> {
        let row = sqlx::query(
            "SELECT (SELECT version FROM data_plane_version WHERE id = 1) \
             + (SELECT version FROM catalogue_version WHERE id = 1) AS generation",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("generation")?).unwrap_or(0))
    }
}

/// Moves the data plane's version on, in the transaction that changes a transfer, its pending messages or a duty
/// state.
pub(super) async fn bump(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(), StorageError> {
    sqlx::query("UPDATE data_plane_version SET version = version + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::storage::test_support::stores;
    use crate::storage::{DutyRecord, ResourceSource};
    use serde_json::json;
    use twinport_policy::context::DutyState;

    #[tokio::test]
    async fn every_change_the_data_plane_keeps_moves_the_generation_on() {
        for (store, _dir) in stores().await {
            let mut last = store.generation().await.expect("a generation");
            for what in [
                "a duty state",
                "a delivered message",
                "a failed message",
                "cancelled messages",
                "a resource",
            ] {
                match what {
                    "a duty state" => store
                        .record_duty_state(&DutyRecord {
                            agreement_id: "urn:agreement:1".into(),
                            duty: "attribute".into(),
                            state: DutyState::Fulfilled,
                            note: None,
                            recorded_by: "test".into(),
                            recorded_at: String::new(),
                        })
                        .await
                        .unwrap(),
                    "a delivered message" => store.outbox_delivered(1, 1).await.unwrap(),
                    "a failed message" => store.outbox_failed(1, 1, "refused").await.unwrap(),
                    "cancelled messages" => store.outbox_cancel("urn:uuid:p", "x").await.unwrap(),
                    _ => {
                        store
                            .put_resource(
                                "urn:r:1",
                                "dataset",
                                ResourceSource::Api,
                                &json!({"id": "urn:r:1"}),
                            )
                            .await
                            .unwrap();
                    }
                }
                let now = store.generation().await.expect("a generation");
                assert!(now > last, "{what} left the generation at {last}");
                last = now;
            }
        }
    }
}
