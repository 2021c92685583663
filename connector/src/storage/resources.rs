//! Catalogue resources as stored: the validated resource document as JSON, with its kind and where it came from
//! (a catalogue file or the management API).

use serde_json::Value;
use sqlx::Row;

use super::{now_text, StorageError, Store};

/// Where a resource was declared. File resources are owned by the catalogue directory and reloaded at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceSource {
    File,
    Api,
}

impl ResourceSource {
    fn as_str(self) -> &'static str {
        match self {
            ResourceSource::File => "file",
            ResourceSource::Api => "api",
        }
    }

    fn parse(s: &str) -> Result<Self, StorageError> {
        match s {
            "file" => Ok(ResourceSource::File),
            "api" => Ok(ResourceSource::Api),
            other => Err(StorageError::Corrupt(format!(
                "unknown resource source {other:?}"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ResourceRecord {
    pub id: String,
    pub kind: String,
    pub source: ResourceSource,
    pub body: Value,
    pub updated_at: String,
}

fn record(row: &sqlx::any::AnyRow) -> Result<ResourceRecord, StorageError> {
    let body: String = row.try_get("body")?;
    Ok(ResourceRecord {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        source: ResourceSource::parse(&row.try_get::<String, _>("source")?)?,
        body: serde_json::from_str(&body)
            .map_err(|e| StorageError::Corrupt(format!("resource body: {e}")))?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// All resources, ordered by id so catalogue pages are stable.
    pub async fn resources(&self) -> Result<Vec<ResourceRecord>, StorageError> {
        let rows =
            sqlx::query("SELECT id, kind, source, body, updated_at FROM resources ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(record).collect()
    }

    /// Every resource's id and body as stored (JSON text), ordered by id: for callers that parse the bodies into
    /// their own type, without a JSON tree of the whole catalogue in between.
    /// Every stored resource's id and body text, in id order, handed to `each` one row at a time: the rows are
    /// streamed from the database, so reading 10 000 resources never holds all their text at once.
    pub async fn each_resource_body(
        &self,
        mut each: impl FnMut(&str, &str),
    ) -> Result<(), StorageError> {
        use sqlx::{ConnectOptions, Connection};
        if self.backend() != super::Backend::Sqlite {
            return stream_bodies(self.pool(), &mut each).await;
        }
        // On a connection of its own, closed after: the scan's pages would otherwise stay in the pooled
        // connection's 32 MiB page cache (about 20 MiB for 10 000 resources), evicting the audit log's hot index
        // pages and holding memory nobody reads again. In WAL mode this reader neither waits for nor blocks the
        // writer.
        let mut conn = self.pool().connect_options().connect().await?;
        stream_bodies(&mut conn, &mut each).await?;
        conn.close().await?;
        Ok(())
    }

    /// The bodies of the stored resources among `ids` (any order; ids with none are left out), in one query.
    pub async fn resource_bodies(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, String)>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, body FROM resources WHERE id IN ({})",
            super::values::in_list(ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("body")?)))
            .collect()
    }

    pub async fn resource(&self, id: &str) -> Result<Option<ResourceRecord>, StorageError> {
        let row =
            sqlx::query("SELECT id, kind, source, body, updated_at FROM resources WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(record).transpose()
    }

    /// Inserts or replaces a resource. Returns true when it was new.
    pub async fn put_resource(
        &self,
        id: &str,
        kind: &str,
        source: ResourceSource,
        body: &Value,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool().begin().await?;
        let existed = sqlx::query("SELECT 1 FROM resources WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let body = body.to_string();
        if existed {
            sqlx::query("UPDATE resources SET kind = $1, source = $2, body = $3, updated_at = $4 WHERE id = $5")
                .bind(kind)
                .bind(source.as_str())
                .bind(body)
                .bind(now_text())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("INSERT INTO resources (id, kind, source, body, updated_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(kind)
                .bind(source.as_str())
                .bind(body)
                .bind(now_text())
                .execute(&mut *tx)
                .await?;
        }
        super::catalogue_version::bump(&mut tx).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(!existed)
    }

    /// Deletes a resource; returns false when there was none.
    pub async fn delete_resource(&self, id: &str) -> Result<bool, StorageError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query("DELETE FROM resources WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let deleted = done.rows_affected() > 0;
        if deleted {
            super::catalogue_version::bump(&mut tx).await?;
        }
        tx.commit().await?;
        self.bump_generation();
        Ok(deleted)
    }

    /// Replaces every file-declared resource with `files` in one transaction, leaving API resources alone, so a
    /// restart with an edited catalogue directory never leaves a half-loaded catalogue.
    pub async fn replace_file_resources(
        &self,
        files: &[(String, String, Value)],
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM resources WHERE source = 'file'")
            .execute(&mut *tx)
            .await?;
        for (id, kind, body) in files {
            sqlx::query("DELETE FROM resources WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO resources (id, kind, source, body, updated_at) VALUES ($1, $2, 'file', $3, $4)")
                .bind(id)
                .bind(kind)
                .bind(body.to_string())
                .bind(now_text())
                .execute(&mut *tx)
                .await?;
        }
        super::catalogue_version::bump(&mut tx).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(())
    }
}

/// Streams `id, body` of every resource, in id order, to `each`.
async fn stream_bodies<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    each: &mut impl FnMut(&str, &str),
) -> Result<(), StorageError> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query("SELECT id, body FROM resources ORDER BY id").fetch(executor);
    while let Some(row) = rows.try_next().await? {
        each(
            &row.try_get::<String, _>("id")?,
            &row.try_get::<String, _>("body")?,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ResourceSource;
    use crate::storage::test_support::stores;
    use serde_json::json;

    #[tokio::test]
    async fn resources_round_trip_on_every_backend() {
        for (store, _dir) in stores().await {
            let body = json!({"id": "urn:r:1", "title": "Traffic"});
            assert!(store
                .put_resource("urn:r:1", "dataset", ResourceSource::Api, &body)
                .await
                .unwrap());
            assert!(!store
                .put_resource("urn:r:1", "dataset", ResourceSource::Api, &body)
                .await
                .unwrap());
            let got = store.resource("urn:r:1").await.unwrap().unwrap();
            assert_eq!(got.body, body);
            assert_eq!(got.source, ResourceSource::Api);
            store
                .replace_file_resources(&[(
                    "urn:r:2".into(),
                    "model-or-service".into(),
                    json!({"id": "urn:r:2"}),
                )])
                .await
                .unwrap();
            let ids: Vec<String> = store
                .resources()
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            assert_eq!(ids, vec!["urn:r:1", "urn:r:2"]);
            assert!(store.delete_resource("urn:r:1").await.unwrap());
            assert!(!store.delete_resource("urn:r:1").await.unwrap());
            assert!(store.resource("urn:r:1").await.unwrap().is_none());
            store.replace_file_resources(&[]).await.unwrap();
            assert!(store.resources().await.unwrap().is_empty());
        }
    }
}
