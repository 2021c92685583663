//! Storage fixtures for unit tests: every storage test runs on SQLite, and on PostgreSQL too when
//! `TWINPORT_TEST_DATABASE_URL` is set (each test in a schema of its own, so tests run in parallel).

use super::Store;

/// The backends to run a storage test against, each freshly migrated and empty.
pub async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    out.push((Store::connect(&url).await.expect("sqlite store"), Some(dir)));
    if let Ok(base) = std::env::var("TWINPORT_TEST_DATABASE_URL") {
        out.push((postgres_store(&base).await, None));
    }
    out
}

/// Per backend, two handles on one fresh database, as two replicas of a connector (or two processes) see it.
pub async fn replicas() -> Vec<(Store, Store, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let first = Store::connect(&url).await.expect("sqlite store");
    let second = Store::connect(&url).await.expect("second sqlite store");
    out.push((first, second, Some(dir)));
    if let Ok(base) = std::env::var("TWINPORT_TEST_DATABASE_URL") {
        let url = postgres_url(&base).await;
        let first = Store::connect(&url).await.expect("postgres store");
        let second = Store::connect(&url).await.expect("second postgres store");
        out.push((first, second, None));
    }
    out
}

/// A PostgreSQL store in a new, empty schema of the test database.
pub async fn postgres_store(base: &str) -> Store {
    Store::connect(&postgres_url(base).await)
        .await
        .expect("postgres store")
}

/// The URL of a new, empty schema of the test database.
async fn postgres_url(base: &str) -> String {
    super::new_postgres_schema(base, "t")
        .await
        .expect("a new schema in TWINPORT_TEST_DATABASE_URL")
}
