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

/// A PostgreSQL store in a new, empty schema of the test database.
pub async fn postgres_store(base: &str) -> Store {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(base)
        .await
        .expect("connect to TWINPORT_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create schema");
    conn.close().await.ok();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    Store::connect(&url).await.expect("postgres store")
}
