//! Durable state through sqlx: an embedded SQLite file by default (WAL), PostgreSQL for production. One code path
//! serves both through sqlx's `Any` driver; only the migrations differ per backend, because DDL dialects do.

mod agreements;
mod alignment_checks;
mod catalogue_version;
mod data_plane;
mod data_plane_version;
mod dcp_claims;
mod duties;
mod listing;
mod model_jobs;
mod outbox;
mod partners;
mod policies;
mod processes;
mod pull_tokens;
mod received;
mod received_receipts;
mod resources;
mod stats;
mod tokens;
pub(crate) mod values;

#[cfg(test)]
pub(crate) mod test_support;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use agreements::{AgreementFilter, AgreementRecord};
pub use alignment_checks::{AlignmentSubject, StoredAlignment};
pub(crate) use data_plane::insert_receipts;
pub use data_plane::IssuedReceipt;
pub use duties::DutyRecord;
pub use listing::{Page, PageRequest, Window};
pub use model_jobs::ModelJob;
pub use outbox::OutboxMessage;
pub use partners::StoredPartner;
pub use policies::{PolicyFilter, PolicyRecord, PolicyVersion};
pub use processes::{
    AnyQuery, Change, Common, CommonMut, HistoryEntry, NegotiationRecord, NewOutbox, ProcessFilter,
    ProcessRow, TransferRecord,
};
pub use pull_tokens::PullToken;
pub(crate) use received_receipts::insert_received_receipts;
pub use received_receipts::ReceivedReceipt;
pub use resources::{ResourceFilter, ResourceRecord, ResourceSource, Stamps};
pub use stats::StoreStats;
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
    /// sqlx's "pool timed out" says nothing of why; `cause` is what one direct connection attempt met.
    #[error("pool timed out: {cause}")]
    PoolTimedOut { cause: String },
}

/// Handle to the connector's database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Bumped after every committed write to transfers, resources or duty states, so the data plane's per-request caches can
    /// tell that what they hold may be stale (see [`Store::generation`]).
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
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
                            // The audit log's seven indexes grow with every append; a 32 MiB page cache (instead
                            // of 2 MiB) keeps their hot pages in memory. Durability is unaffected.
                            conn.execute("PRAGMA cache_size = -32768").await?;
                            // Checkpoint the WAL every 8192 pages (32 MiB) instead of 1000: under a stream of
                            // appends each checkpoint rewrites the same hot index pages into the database and
                            // syncs it, and at the default it ran every second or third batch. Measured: 1.6x more
                            // durable audit appends per second. A crash replays a longer WAL on the next start.
                            conn.execute("PRAGMA wal_autocheckpoint = 8192").await?;
                            // A multi-row INSERT inside a transaction keeps a statement journal (to undo just
                            // that statement); in a temporary file that was ~8 page writes per audit append.
                            conn.execute("PRAGMA temp_store = MEMORY").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                match pool_options
                    .max_connections(16)
                    .connect_with(options.clone())
                    .await
                {
                    Err(sqlx::Error::PoolTimedOut) => {
                        return Err(StorageError::PoolTimedOut {
                            cause: connect_once(&options, &url).await,
                        })
                    }
                    other => other?,
                }
            }
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            generation: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The write generation of transfers, resources and duty states. On SQLite one process owns the file and sees
    /// every such write, so it counts them in memory; on PostgreSQL other replicas may write, so it is read from
    /// the database (one row each for the data plane and the catalogue, moved on inside every such write's
    /// transaction), and `None` if that read fails (callers then read the rows themselves). A value read *before*
    /// a lookup and still current afterwards means the looked-up rows have not changed since; the in-memory bump
    /// follows the commit, so once a write returned, no cache filled before it is trusted.
    pub async fn generation(&self) -> Option<u64> {
        match self.backend {
            Backend::Sqlite => Some(self.generation.load(std::sync::atomic::Ordering::Acquire)),
            Backend::Postgres => self.shared_generation().await.ok(),
        }
    }

    /// Marks transfers, resources or duty states as changed.
    pub(crate) fn bump_generation(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
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

/// Where a storage URL points, for logs: the SQLite file, or the PostgreSQL user, host, port and database. Never
/// the password or the query (which may carry one).
pub fn location(url: &str) -> String {
    if let Some(file) = sqlite_file(url) {
        return format!("sqlite {}", file.display());
    }
    if url.starts_with("sqlite:") {
        return "sqlite in memory".to_string();
    }
    match url::Url::parse(url) {
        Ok(u) => {
            let user = match u.username() {
                "" => String::new(),
                user => format!("{user}@"),
            };
            format!(
                "postgres {user}{}:{}{}",
                u.host_str().unwrap_or("localhost"),
                u.port().unwrap_or(5432),
                u.path()
            )
        }
        Err(_) => "an unreadable storage URL".to_string(),
    }
}

/// Why the pool gave up: one direct connection, bounded, and its error in words an operator acts on.
async fn connect_once(options: &AnyConnectOptions, url: &str) -> String {
    use sqlx::ConnectOptions;
    let place = location(url);
    let address = url::Url::parse(url).map_or_else(
        |_| "the database".to_string(),
        |u| {
            let host = u.host_str().unwrap_or("localhost");
            format!("{host}:{}", u.port().unwrap_or(5432))
        },
    );
    match tokio::time::timeout(Duration::from_secs(5), options.connect()).await {
        Err(_) => format!("no answer from {address} within 5 s ({place})"),
        Ok(Ok(_)) => format!(
            "{place} accepted a direct connection, but none came free within 10 s (too many connections?)"
        ),
        Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("connection refused to {address} ({place})")
        }
        Ok(Err(e)) => format!("{e} ({place})"),
    }
}

/// A new, empty schema in the PostgreSQL database at `base`, and the URL that connects into it: benchmarks and
/// tests each get a database of their own without creating databases.
pub async fn new_postgres_schema(base: &str, prefix: &str) -> Result<String, StorageError> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let schema = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(base).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// Makes sure the SQLite file's directory exists and asks sqlx to create the file if missing.
/// The file an SQLite storage URL names (`None` for another backend or an in-memory database).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let (path, _) = sqlite_parts(url);
    (path != ":memory:").then(|| std::path::PathBuf::from(path))
}

fn sqlite_parts(url: &str) -> (&str, Option<&str>) {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    rest.split_once('?')
        .map_or((rest, None), |(p, q)| (p, Some(q)))
}

fn prepare_sqlite(url: &str) -> Result<String, StorageError> {
    let (path, query) = sqlite_parts(url);
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
        check_sqlite_writable(std::path::Path::new(path))?;
    }
    let query = match query {
        Some(q) if q.contains("mode=") => q.to_string(),
        Some(q) => format!("{q}&mode=rwc"),
        None => "mode=rwc".to_string(),
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// SQLite reports an unwritable file or directory as "(code: 14) unable to open database file", naming neither.
/// The database file must be readable and writable, and so must its directory, where SQLite keeps the
/// write-ahead log (`-wal`, `-shm`) next to it: check both and say which failed and why.
fn check_sqlite_writable(file: &std::path::Path) -> Result<(), StorageError> {
    let dir = match file.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_path_buf(),
        None => std::path::PathBuf::from("."),
    };
    let probe = dir.join(format!(".twinport-write-check-{}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => {
            return Err(StorageError::Directory {
                path: dir.display().to_string(),
                message: format!(
                    "the database directory is not writable by this user, and SQLite keeps its write-ahead log \
                     there ({e})"
                ),
            })
        }
    }
    if file.exists() {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(file)
            .map_err(|e| StorageError::Directory {
                path: file.display().to_string(),
                message: format!(
                    "the database file cannot be opened for reading and writing ({e})"
                ),
            })?;
    }
    Ok(())
}

/// Current time as stored in text columns (RFC 3339, UTC).
pub(crate) fn now_text() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod connect_tests {
    use super::*;

    #[test]
    fn a_location_never_shows_the_password_or_the_query() {
        assert_eq!(
            location("postgres://app:s3cret@db.city.example:6543/twinport?password=s3cret"),
            "postgres app@db.city.example:6543/twinport"
        );
        assert_eq!(
            location("postgres://127.0.0.1/test"),
            "postgres 127.0.0.1:5432/test"
        );
        assert_eq!(
            location("sqlite:///var/lib/twinport/twinport.db?mode=rwc"),
            "sqlite /var/lib/twinport/twinport.db"
        );
    }

    #[tokio::test]
    async fn a_pool_timeout_says_the_connection_was_refused_and_where() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = Store::connect(&format!("postgres://twinport:pw@127.0.0.1:{port}/city"))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("pool timed out: "), "{err}");
        assert!(
            err.contains(&format!("connection refused to 127.0.0.1:{port}")),
            "{err}"
        );
        assert!(!err.contains("pw"), "{err}");
    }

    #[tokio::test]
    async fn an_unwritable_database_directory_is_named_with_its_cause() {
        // /proc/self exists and nobody, root included, may create files in it.
        let err = Store::connect("sqlite:///proc/self/twinport.db")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("/proc/self"), "{err}");
        assert!(err.contains("not writable by this user"), "{err}");
        assert!(!err.contains("code: 14"), "{err}");
    }
}
