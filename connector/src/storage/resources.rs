//! Catalogue resources as stored: the validated resource document as JSON, with its kind and where it came from
//! (a catalogue file or the management API).

use serde_json::Value;
use sqlx::Row;

use super::listing::{paged, Conditions, Page, PageRequest, Window};
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

/// What a list of resources is narrowed to; `None` (or an open window) means any.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    pub kind: Option<String>,
    /// `file` or `api`.
    pub source: Option<String>,
    pub created: Window,
    pub updated: Window,
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

    /// One page of the resources `filter` selects, ordered by id.
    pub async fn resources_page(
        &self,
        filter: &ResourceFilter,
        page: &PageRequest,
    ) -> Result<Page<ResourceRecord>, StorageError> {
        let mut c = Conditions::default();
        c.equals("kind", filter.kind.as_deref());
        c.equals("source", filter.source.as_deref());
        c.within("created_at", &filter.created);
        c.within("updated_at", &filter.updated);
        let (rest, args) = c.page(&["id"], page);
        let sql = format!("SELECT id, kind, source, body, updated_at FROM resources {rest}");
        let rows = args
            .iter()
            .fold(sqlx::query(&sql), |query, value| query.bind(value))
            .fetch_all(self.pool())
            .await?;
        let rows = rows.iter().map(record).collect::<Result<Vec<_>, _>>()?;
        Ok(paged(rows, page, |r| vec![r.id.clone()]))
    }

    /// Every stored resource's id and body text, in id order, handed to `each` one row at a time (as
    /// [`Store::each_resource_with_stamps`]): for callers that parse the bodies into their own type, without a JSON
    /// tree of the whole catalogue in between.
    pub async fn each_resource_body(
        &self,
        mut each: impl FnMut(&str, &str),
    ) -> Result<(), StorageError> {
        self.each_resource_with_stamps(|id, body, _| each(id, body))
            .await
    }

    /// The bodies of the stored resources among `ids` (any order; ids with none are left out), in one query.
    pub async fn resource_bodies(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, String)>, StorageError> {
        Ok(self
            .resource_bodies_with_stamps(ids)
            .await?
            .into_iter()
            .map(|(id, body, _)| (id, body))
            .collect())
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
            let now = now_text();
            sqlx::query("INSERT INTO resources (id, kind, source, body, updated_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id)
                .bind(kind)
                .bind(source.as_str())
                .bind(body)
                .bind(&now)
                .bind(&now)
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
    /// restart with an edited catalogue directory never leaves a half-loaded catalogue. A resource keeps its
    /// creation time, and its change time unless its declaration changed: harvesters read them as issued and
    /// modified, and a restart changes neither.
    pub async fn replace_file_resources(
        &self,
        files: &[(String, String, Value)],
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        // Only the file resources: those are what is replaced (an API resource a file now declares starts afresh).
        let rows = sqlx::query(
            "SELECT id, body, updated_at, created_at FROM resources WHERE source = 'file'",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut before = std::collections::HashMap::new();
        for row in &rows {
            let id: String = row.try_get("id")?;
            let body: String = row.try_get("body")?;
            let updated: String = row.try_get("updated_at")?;
            let created: Option<String> = row.try_get("created_at")?;
            before.insert(id, (body, updated, created));
        }
        sqlx::query("DELETE FROM resources WHERE source = 'file'")
            .execute(&mut *tx)
            .await?;
        let now = now_text();
        for (id, kind, body) in files {
            sqlx::query("DELETE FROM resources WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let body = body.to_string();
            let (updated, created) = match before.get(id) {
                Some((old, updated, created)) => (
                    if *old == body {
                        updated.clone()
                    } else {
                        now.clone()
                    },
                    created.clone().unwrap_or_else(|| updated.clone()),
                ),
                None => (now.clone(), now.clone()),
            };
            sqlx::query("INSERT INTO resources (id, kind, source, body, updated_at, created_at) VALUES ($1, $2, 'file', $3, $4, $5)")
                .bind(id)
                .bind(kind)
                .bind(body)
                .bind(updated)
                .bind(created)
                .execute(&mut *tx)
                .await?;
        }
        super::catalogue_version::bump(&mut tx).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(())
    }
}

/// When a resource was first stored and last changed (RFC 3339 text, as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamps {
    pub created: String,
    pub updated: String,
}

impl Store {
    /// Every stored resource's id, body text and time stamps, in id order, handed to `each` one row at a time: the
    /// rows are streamed from the database, so reading 10 000 resources never holds all their text at once.
    pub async fn each_resource_with_stamps(
        &self,
        mut each: impl FnMut(&str, &str, Stamps),
    ) -> Result<(), StorageError> {
        use futures_util::TryStreamExt;
        use sqlx::{ConnectOptions, Connection};
        const SQL: &str = "SELECT id, body, updated_at, created_at FROM resources ORDER BY id";
        let mut emit = |row: sqlx::any::AnyRow| -> Result<(), StorageError> {
            let updated: String = row.try_get("updated_at")?;
            let created: Option<String> = row.try_get("created_at")?;
            each(
                &row.try_get::<String, _>("id")?,
                &row.try_get::<String, _>("body")?,
                Stamps {
                    created: created.unwrap_or_else(|| updated.clone()),
                    updated,
                },
            );
            Ok(())
        };
        if self.backend() != super::Backend::Sqlite {
            let mut rows = sqlx::query(SQL).fetch(self.pool());
            while let Some(row) = rows.try_next().await? {
                emit(row)?;
            }
            return Ok(());
        }
        // On a connection of its own, closed after: the scan's pages would otherwise stay in the pooled
        // connection's 32 MiB page cache (about 20 MiB for 10 000 resources), evicting the audit log's hot index
        // pages and holding memory nobody reads again. In WAL mode this reader neither waits for nor blocks the
        // writer.
        let mut conn = self.pool().connect_options().connect().await?;
        {
            let mut rows = sqlx::query(SQL).fetch(&mut conn);
            while let Some(row) = rows.try_next().await? {
                emit(row)?;
            }
        }
        conn.close().await?;
        Ok(())
    }

    /// The bodies and time stamps of the stored resources among `ids` (any order; ids with none are left out).
    pub async fn resource_bodies_with_stamps(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, String, Stamps)>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, body, updated_at, created_at FROM resources WHERE id IN ({})",
            super::values::in_list(ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let updated: String = row.try_get("updated_at")?;
                let created: Option<String> = row.try_get("created_at")?;
                Ok((
                    row.try_get("id")?,
                    row.try_get("body")?,
                    Stamps {
                        created: created.unwrap_or_else(|| updated.clone()),
                        updated,
                    },
                ))
            })
            .collect()
    }
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

    /// Harvesters read a resource's creation and change times as its issued and modified dates: reloading the
    /// same catalogue directory (every start) must move neither, and a changed declaration moves only the change.
    #[tokio::test]
    async fn reloading_an_unchanged_file_resource_keeps_its_issued_and_modified_times() {
        for (store, _dir) in stores().await {
            let stamps = |store: &crate::storage::Store| {
                let store = store.clone();
                async move {
                    let rows = store
                        .resource_bodies_with_stamps(&["urn:r:1".to_string()])
                        .await
                        .unwrap();
                    rows[0].2.clone()
                }
            };
            let row = |title: &str| {
                vec![(
                    "urn:r:1".to_string(),
                    "dataset".to_string(),
                    json!({"id": "urn:r:1", "title": title}),
                )]
            };
            store.replace_file_resources(&row("Traffic")).await.unwrap();
            let first = stamps(&store).await;
            assert_eq!(first.created, first.updated);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            store.replace_file_resources(&row("Traffic")).await.unwrap();
            assert_eq!(stamps(&store).await, first);
            store
                .replace_file_resources(&row("Traffic counts"))
                .await
                .unwrap();
            let changed = stamps(&store).await;
            assert_eq!(changed.created, first.created);
            let at = |t: &str| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .unwrap()
            };
            assert!(at(&changed.updated) > at(&first.updated), "{changed:?}");
            let mut streamed = Vec::new();
            store
                .each_resource_with_stamps(|id, _, s| streamed.push((id.to_string(), s)))
                .await
                .unwrap();
            assert_eq!(streamed, vec![("urn:r:1".to_string(), changed)]);
        }
    }
}
