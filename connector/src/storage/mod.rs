//! Durable state through sqlx: an embedded SQLite file by default (WAL), PostgreSQL for production. One code path
//! serves both through sqlx's `Any` driver; only the migrations differ per backend, because DDL dialects do.

mod agreements;
mod data_plane;
mod outbox;
mod policies;
mod processes;
mod resources;
mod tokens;

#[cfg(test)]
pub(crate) mod test_support;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use agreements::AgreementRecord;
pub use data_plane::StoredReceipt;
pub use outbox::OutboxMessage;
pub use policies::{PolicyRecord, PolicyVersion};
pub use processes::{Change, HistoryEntry, NegotiationRecord, NewOutbox, TransferRecord};
pub use resources::{ResourceRecord, ResourceSource};
pub use tokens::TokenUse;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A storage failure. The connector logs the detail and answers 500/503; clients never see SQL text.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage url {0:?} is not supported (use sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error("cannot prepare storage directory {path}: {message}")]
    Directory { path: String, message: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
}

/// Handle to the connector's database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects, creating the SQLite file (and its directory) on first start, and applies migrations.
    pub async fn connect(url: &str) -> Result<Store, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StorageError::UnsupportedUrl(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                pool_options
                    // One connection: SQLite has a single writer anyway, and waiting for the pool is fair and
                    // wakes at once, where SQLite's busy handler sleeps and retries (tens of ms under load).
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // In WAL mode, NORMAL syncs at checkpoints: a committed transaction survives a crash
                            // or kill of the process (the WAL is in the OS), at a fraction of FULL's fsyncs.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                pool_options
                    .max_connections(16)
                    .connect_with(options)
                    .await?
            }
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True when the database answers; backs `/readyz`.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Makes sure the SQLite file's directory exists and asks sqlx to create the file if missing.
fn prepare_sqlite(url: &str) -> Result<String, StorageError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest
        .split_once('?')
        .map_or((rest, None), |(p, q)| (p, Some(q)));
    if path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| StorageError::Directory {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
        }
    }
    let query = match query {
        Some(q) if q.contains("mode=") => q.to_string(),
        Some(q) => format!("{q}&mode=rwc"),
        None => "mode=rwc".to_string(),
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Current time as stored in text columns (RFC 3339, UTC).
pub(crate) fn now_text() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
