//! The catalogue's version: one row that every committed change to resources or policies moves on, inside the
//! change's own transaction. Whatever was decided about the catalogue at version N holds while the row still says
//! N, on any replica: a change by another replica shows here too.

use sqlx::Row;

use super::{StorageError, Store};

impl Store {
    /// The version of resources and policies now.
    pub async fn catalogue_version(&self) -> Result<i64, StorageError> {
        let row = sqlx::query("SELECT version FROM catalogue_version WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("version")?)
    }
}

/// Moves the catalogue's version on, in the transaction that changes resources or policies.
pub(super) async fn bump(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(), StorageError> {
    sqlx::query("UPDATE catalogue_version SET version = version + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::storage::test_support::stores;
    use crate::storage::ResourceSource;
    use serde_json::json;

    #[tokio::test]
    async fn every_change_to_resources_or_policies_moves_the_version_on() {
        for (store, _dir) in stores().await {
            let mut last = store.catalogue_version().await.unwrap();
            let mut moved = |now: i64, what: &str| {
                assert!(now > last, "{what} left the catalogue version at {last}");
                last = now;
            };
            store
                .put_policy(
                    "p",
                    ResourceSource::Api,
                    &json!({"permission": [{"action": "use"}]}),
                )
                .await
                .unwrap();
            moved(store.catalogue_version().await.unwrap(), "a new policy");
            store
                .put_resource(
                    "urn:r:1",
                    "dataset",
                    ResourceSource::Api,
                    &json!({"id": "urn:r:1"}),
                )
                .await
                .unwrap();
            moved(store.catalogue_version().await.unwrap(), "a new resource");
            store
                .put_resource(
                    "urn:r:1",
                    "dataset",
                    ResourceSource::Api,
                    &json!({"id": "urn:r:1", "title": "t"}),
                )
                .await
                .unwrap();
            moved(
                store.catalogue_version().await.unwrap(),
                "an edited resource",
            );
            store.replace_file_resources(&[]).await.unwrap();
            moved(
                store.catalogue_version().await.unwrap(),
                "reloaded file resources",
            );
            assert!(store.delete_resource("urn:r:1").await.unwrap());
            moved(
                store.catalogue_version().await.unwrap(),
                "a deleted resource",
            );
            assert!(store.delete_policy("p", ResourceSource::Api).await.unwrap());
            moved(store.catalogue_version().await.unwrap(), "a deleted policy");
            // Nothing changed, nothing moves: an unchanged policy adds no version.
            let before = store.catalogue_version().await.unwrap();
            store.delete_resource("urn:r:none").await.unwrap();
            assert_eq!(store.catalogue_version().await.unwrap(), before);
        }
    }
}
