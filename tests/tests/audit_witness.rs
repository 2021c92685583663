//! The periodic partner checkpoint check: with `audit_witness_interval_seconds` short, a connector pins its partner's
//! log by itself, keeps accepting consistent growth, and logs a split-view alarm when what it holds and what the
//! partner shows cannot both be true — without any operator asking.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use twinport_contracts::transparency::checkpoint::{Checkpoint, SignedCheckpoint};
use twinport_contracts::transparency::note::NoteSigner;
use twinport_e2e::{city_pair, City, Storage, CITY_A};

async fn count(city: &City, kind: &str) -> usize {
    let v: Value = city
        .management(
            Method::GET,
            &format!("/api/v1/audit/entries?kind={kind}&limit=1000"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .filter(|e| e["partner"] == CITY_A)
        .count()
}

async fn wait_for(city: &City, kind: &str, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while count(city, kind).await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {n} {kind} entries in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn partners_are_checked_periodically_and_a_split_view_raises_an_alarm() {
    // This test binary holds only this test, so the variable reaches only these connectors.
    std::env::set_var("TWINPORT_AUDIT_WITNESS_INTERVAL_SECONDS", "1");
    let (a, b) = city_pair(Storage::Sqlite).await;
    assert_eq!(
        b.running.state.config().audit_witness_interval,
        Some(Duration::from_secs(1))
    );

    // Nobody calls the check endpoint: B pins A's log, then keeps checking it.
    wait_for(&b, "partner_checkpoint", 2).await;
    assert_eq!(count(&b, "split_view_alarm").await, 0);

    // A shows B a different history: B's stored checkpoint of A is replaced by one A's key signed over another root
    // (as if A had shown it earlier and rewritten its log since).
    let key_pem = std::fs::read_to_string(twinport::audit::key_path(
        &a.running.state.config().data_dir,
    ))
    .unwrap();
    let origin = a.running.state.audit().origin().to_owned();
    let key = NoteSigner::from_pkcs8_pem(&origin, &key_pem).unwrap();
    let size = a
        .running
        .state
        .audit()
        .checkpoint()
        .await
        .unwrap()
        .checkpoint
        .size;
    let forged = SignedCheckpoint::sign(
        Checkpoint {
            origin: origin.clone(),
            size,
            root: [7u8; 32],
        },
        &key,
    )
    .unwrap();
    let db = b.running.state.config().storage_url.clone();
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&db).await.unwrap();
        sqlx::query("UPDATE audit_partner_checkpoints SET note = $1, size = $2 WHERE partner = $3")
            .bind(&forged.note)
            .bind(size as i64)
            .bind(CITY_A)
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    wait_for(&b, "split_view_alarm", 1).await;
    a.running.stop().await;
    b.running.stop().await;
}
