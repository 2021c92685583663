//! Partners added through the management API, kept as the JSON the API accepted so they are loaded again (and
//! checked again) at every start. The config file's partners are never stored here: the file is their source.

use serde_json::Value;
use sqlx::Row;

use super::{now_text, StorageError, Store};

/// A stored API partner.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPartner {
    pub id: String,
    /// The partner as the management API received it (validated then, and again when loaded).
    pub body: Value,
    pub created_at: String,
    pub updated_at: String,
}

impl Store {
    /// Every API partner, ordered by id.
    pub async fn api_partners(&self) -> Result<Vec<StoredPartner>, StorageError> {
        let rows = sqlx::query("SELECT id, body, created_at, updated_at FROM partners ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(stored).collect()
    }

    /// One API partner.
    pub async fn api_partner(&self, id: &str) -> Result<Option<StoredPartner>, StorageError> {
        let row =
            sqlx::query("SELECT id, body, created_at, updated_at FROM partners WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(stored).transpose()
    }

    /// Stores a new API partner; `false` if one with this id exists already (the table's key decides, so two
    /// replicas creating the same partner at once cannot both succeed).
    pub async fn insert_api_partner(&self, id: &str, body: &Value) -> Result<bool, StorageError> {
        let now = now_text();
        let inserted = sqlx::query(
            "INSERT INTO partners (id, body, created_at, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(body.to_string())
        .bind(&now)
        .bind(&now)
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e) if super::policies::is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces an API partner's body; `false` if there is none.
    pub async fn update_api_partner(&self, id: &str, body: &Value) -> Result<bool, StorageError> {
        let done = sqlx::query("UPDATE partners SET body = $1, updated_at = $2 WHERE id = $3")
            .bind(body.to_string())
            .bind(now_text())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes an API partner; `false` if there was none.
    pub async fn delete_api_partner(&self, id: &str) -> Result<bool, StorageError> {
        let done = sqlx::query("DELETE FROM partners WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

fn stored(row: &sqlx::any::AnyRow) -> Result<StoredPartner, StorageError> {
    let body: String = row.try_get("body")?;
    Ok(StoredPartner {
        id: row.try_get("id")?,
        body: serde_json::from_str(&body)
            .map_err(|e| StorageError::Corrupt(format!("partner body: {e}")))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use crate::storage::test_support::stores;
    use serde_json::json;

    #[tokio::test]
    async fn api_partners_are_created_once_updated_and_deleted() {
        for (store, _dir) in stores().await {
            let id = "https://city-c.example/twinport";
            let v1 = json!({"id": id, "jwks_url": "https://city-c.example/jwks.json"});
            let v2 = json!({"id": id, "jwks_url": "https://city-c.example/keys.json"});
            assert!(store.api_partners().await.unwrap().is_empty());
            assert!(
                !store.update_api_partner(id, &v1).await.unwrap(),
                "nothing to update yet"
            );
            assert!(store.insert_api_partner(id, &v1).await.unwrap());
            assert!(
                !store.insert_api_partner(id, &v2).await.unwrap(),
                "a second create of the same id is refused"
            );
            assert_eq!(store.api_partner(id).await.unwrap().unwrap().body, v1);
            assert!(store.update_api_partner(id, &v2).await.unwrap());
            let all = store.api_partners().await.unwrap();
            assert_eq!(all.len(), 1);
            assert_eq!(all[0].body, v2);
            assert!(store.delete_api_partner(id).await.unwrap());
            assert!(!store.delete_api_partner(id).await.unwrap());
            assert!(store.api_partner(id).await.unwrap().is_none());
        }
    }
}
