//! Usage policies, stored as immutable versions: an edit adds a version and a delete adds a tombstone, so an
//! agreement made under version N can always be shown the exact text it was made under.

use serde_json::Value;
use sqlx::Row;

use super::listing::{paged, Conditions, Page, PageRequest, Window};
use super::{now_text, StorageError, Store};
use crate::storage::ResourceSource;

/// The current version of a policy.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PolicyRecord {
    pub id: String,
    pub version: i64,
    pub source: ResourceSource,
    pub body: Value,
    pub created_at: String,
}

/// What a list of policies is narrowed to; `None` (or an open window) means any.
#[derive(Debug, Clone, Default)]
pub struct PolicyFilter {
    /// `file` or `api`.
    pub source: Option<String>,
    /// When the current version was made.
    pub changed: Window,
}

/// One entry of a policy's history; `body` is `None` for a deletion.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PolicyVersion {
    pub version: i64,
    pub source: String,
    pub body: Option<Value>,
    pub created_at: String,
}

fn version(row: &sqlx::any::AnyRow) -> Result<PolicyVersion, StorageError> {
    let body: Option<String> = row.try_get("body")?;
    Ok(PolicyVersion {
        version: row.try_get("version")?,
        source: row.try_get("source")?,
        body: body
            .map(|b| serde_json::from_str(&b))
            .transpose()
            .map_err(|e| StorageError::Corrupt(format!("policy body: {e}")))?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Every live policy at its latest version, ordered by id.
    pub async fn policies(&self) -> Result<Vec<PolicyRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT p.id, p.version, p.source, p.body, p.created_at FROM policy_versions p \
             WHERE p.version = (SELECT MAX(q.version) FROM policy_versions q WHERE q.id = p.id) \
             AND p.body IS NOT NULL ORDER BY p.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(current).collect()
    }

    /// One page of the live policies `filter` selects, at their latest version, ordered by id.
    pub async fn policies_page(
        &self,
        filter: &PolicyFilter,
        page: &PageRequest,
    ) -> Result<Page<PolicyRecord>, StorageError> {
        let mut c = Conditions::default();
        c.add(
            "p.version = (SELECT MAX(q.version) FROM policy_versions q WHERE q.id = p.id) AND p.body IS NOT NULL",
            &[],
        );
        c.equals("p.source", filter.source.as_deref());
        c.within("p.created_at", &filter.changed);
        let (rest, args) = c.page(&["p.id"], page);
        let sql = format!(
            "SELECT p.id, p.version, p.source, p.body, p.created_at FROM policy_versions p {rest}"
        );
        let rows = args
            .iter()
            .fold(sqlx::query(&sql), |query, value| query.bind(value))
            .fetch_all(self.pool())
            .await?;
        let rows = rows.iter().map(current).collect::<Result<Vec<_>, _>>()?;
        Ok(paged(rows, page, |p| vec![p.id.clone()]))
    }

    /// The latest live version of one policy.
    pub async fn policy(&self, id: &str) -> Result<Option<PolicyRecord>, StorageError> {
        let row = sqlx::query(
            "SELECT id, version, source, body, created_at FROM policy_versions WHERE id = $1 \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) if row.try_get::<Option<String>, _>("body")?.is_some() => {
                Ok(Some(current(&row)?))
            }
            _ => Ok(None),
        }
    }

    /// One exact version (including deleted policies' old versions).
    pub async fn policy_version(
        &self,
        id: &str,
        number: i64,
    ) -> Result<Option<PolicyVersion>, StorageError> {
        let row = sqlx::query("SELECT version, source, body, created_at FROM policy_versions WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(number)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(version).transpose()
    }

    /// Every version of a policy, oldest first.
    pub async fn policy_history(&self, id: &str) -> Result<Vec<PolicyVersion>, StorageError> {
        let rows = sqlx::query("SELECT version, source, body, created_at FROM policy_versions WHERE id = $1 ORDER BY version")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(version).collect()
    }

    /// Adds a new version unless the body equals the current one; returns the current version number.
    pub async fn put_policy(
        &self,
        id: &str,
        source: ResourceSource,
        body: &Value,
    ) -> Result<i64, StorageError> {
        if let Some(existing) = self.policy(id).await? {
            if &existing.body == body {
                return Ok(existing.version);
            }
        }
        self.append_policy_version(id, source, Some(body)).await
    }

    /// Marks a policy deleted (a tombstone version). Returns false if it did not exist.
    pub async fn delete_policy(
        &self,
        id: &str,
        source: ResourceSource,
    ) -> Result<bool, StorageError> {
        if self.policy(id).await?.is_none() {
            return Ok(false);
        }
        self.append_policy_version(id, source, None).await?;
        Ok(true)
    }

    async fn append_policy_version(
        &self,
        id: &str,
        source: ResourceSource,
        body: Option<&Value>,
    ) -> Result<i64, StorageError> {
        let source = match source {
            ResourceSource::File => "file",
            ResourceSource::Api => "api",
        };
        // Two writers may race for the same next version; the primary key makes one of them retry.
        let mut attempts = 0;
        loop {
            let mut tx = self.pool().begin().await?;
            let next: i64 = sqlx::query(
                "SELECT COALESCE(MAX(version), 0) + 1 AS next FROM policy_versions WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("next")?;
            let inserted = sqlx::query(
                "INSERT INTO policy_versions (id, version, source, body, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(next)
            .bind(source)
            .bind(body.map(Value::to_string))
            .bind(now_text())
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {
                    super::catalogue_version::bump(&mut tx).await?;
                    tx.commit().await?;
                    return Ok(next);
                }
                Err(e) if attempts < 3 && is_unique_violation(&e) => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn current(row: &sqlx::any::AnyRow) -> Result<PolicyRecord, StorageError> {
    let v = version(row)?;
    Ok(PolicyRecord {
        id: row.try_get("id")?,
        version: v.version,
        source: if v.source == "file" {
            ResourceSource::File
        } else {
            ResourceSource::Api
        },
        body: v
            .body
            .ok_or_else(|| StorageError::Corrupt("live policy without body".into()))?,
        created_at: v.created_at,
    })
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use crate::storage::test_support::stores;
    use crate::storage::ResourceSource;
    use serde_json::json;

    #[tokio::test]
    async fn policies_are_versioned_and_never_rewritten() {
        for (store, _dir) in stores().await {
            let v1 = json!({"permission": [{"action": "use"}]});
            let v2 = json!({"permission": [{"action": "read"}]});
            assert_eq!(
                store
                    .put_policy("p", ResourceSource::Api, &v1)
                    .await
                    .unwrap(),
                1
            );
            assert_eq!(
                store
                    .put_policy("p", ResourceSource::Api, &v1)
                    .await
                    .unwrap(),
                1,
                "same body, same version"
            );
            assert_eq!(
                store
                    .put_policy("p", ResourceSource::Api, &v2)
                    .await
                    .unwrap(),
                2
            );
            assert_eq!(store.policy("p").await.unwrap().unwrap().body, v2);
            assert_eq!(
                store.policy_version("p", 1).await.unwrap().unwrap().body,
                Some(v1.clone())
            );
            assert!(store.delete_policy("p", ResourceSource::Api).await.unwrap());
            assert!(store.policy("p").await.unwrap().is_none());
            assert!(store.policies().await.unwrap().is_empty());
            assert_eq!(store.policy_history("p").await.unwrap().len(), 3);
            assert_eq!(
                store.policy_version("p", 1).await.unwrap().unwrap().body,
                Some(v1)
            );
            assert!(!store.delete_policy("p", ResourceSource::Api).await.unwrap());
            assert_eq!(
                store
                    .put_policy("p", ResourceSource::Api, &v2)
                    .await
                    .unwrap(),
                4
            );
        }
    }
}
