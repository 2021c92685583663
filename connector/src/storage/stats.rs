//! Counts for the `/metrics` gauges, read with `GROUP BY` at scrape time: processes by role and state, and the
//! outbox backlog with the age of its oldest message. The same SQL serves SQLite and PostgreSQL.

use sqlx::Row;

use super::{StorageError, Store};

/// Process and outbox counts at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreStats {
    /// `(role, state, count)` of contract negotiations.
    pub negotiations: Vec<(String, String, i64)>,
    /// `(role, state, count)` of transfer processes.
    pub transfers: Vec<(String, String, i64)>,
    pub outbox_pending: i64,
    /// Seconds since the oldest pending outbox message was queued; 0 when none is pending.
    pub outbox_oldest_age_seconds: f64,
}

impl Store {
    pub async fn stats(&self) -> Result<StoreStats, StorageError> {
        let negotiations = self.by_role_and_state("negotiations").await?;
        let transfers = self.by_role_and_state("transfers").await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'",
        )
        .fetch_one(self.pool())
        .await?;
        let outbox_pending: i64 = row.try_get("n")?;
        let oldest: Option<String> = row.try_get("oldest")?;
        Ok(StoreStats {
            negotiations,
            transfers,
            outbox_pending,
            outbox_oldest_age_seconds: oldest.as_deref().map_or(0.0, age_seconds),
        })
    }

    async fn by_role_and_state(
        &self,
        table: &'static str,
    ) -> Result<Vec<(String, String, i64)>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT role, state, COUNT(*) AS n FROM {table} GROUP BY role, state ORDER BY role, state"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("role")?, r.try_get("state")?, r.try_get("n")?)))
            .collect()
    }
}

/// Seconds from an RFC 3339 timestamp until now; an unreadable one counts as 0 rather than failing the scrape.
fn age_seconds(text: &str) -> f64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| {
            (time::OffsetDateTime::now_utc() - t)
                .as_seconds_f64()
                .max(0.0)
        })
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::test_support::stores;

    async fn exec(store: &Store, sql: &str) {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }

    #[tokio::test]
    async fn counts_processes_by_role_and_state_and_the_pending_outbox() {
        for (store, _dir) in stores().await {
            assert_eq!(store.stats().await.unwrap(), StoreStats::default());
            for (id, role, state) in [
                ("n1", "consumer", "REQUESTED"),
                ("n2", "consumer", "REQUESTED"),
                ("n3", "provider", "FINALIZED"),
            ] {
                exec(&store, &format!(
                    "INSERT INTO negotiations (id, role, partner, state, dataset, offer, offer_by, version, created_at, updated_at) \
                     VALUES ('{id}', '{role}', 'p', '{state}', 'd', '{{}}', 'p', 1, 't', 't')"
                ))
                .await;
            }
            exec(&store,
                "INSERT INTO transfers (id, role, partner, agreement_id, state, format, version, created_at, updated_at) \
                 VALUES ('t1', 'provider', 'p', 'a', 'STARTED', 'HttpData-PULL', 1, 't', 't')",
            )
            .await;
            for (status, created) in [
                ("pending", "2020-01-01T00:00:00Z"),
                ("pending", "2030-01-01T00:00:00Z"),
                ("delivered", "2000-01-01T00:00:00Z"),
            ] {
                exec(&store, &format!(
                    "INSERT INTO outbox (process_id, partner, kind, url, body, status, attempts, next_attempt_ms, created_at) \
                     VALUES ('n1', 'p', 'k', 'u', '{{}}', '{status}', 0, 0, '{created}')"
                ))
                .await;
            }
            let stats = store.stats().await.unwrap();
            assert_eq!(
                stats.negotiations,
                vec![
                    ("consumer".into(), "REQUESTED".into(), 2),
                    ("provider".into(), "FINALIZED".into(), 1)
                ]
            );
            assert_eq!(
                stats.transfers,
                vec![("provider".into(), "STARTED".into(), 1)]
            );
            assert_eq!(stats.outbox_pending, 2);
            // The delivered message from 2000 is not the oldest pending one; the one from 2020 is.
            let years = stats.outbox_oldest_age_seconds / (365.25 * 86_400.0);
            assert!((4.0..100.0).contains(&years), "{years}");
        }
    }

    #[test]
    fn unreadable_timestamps_count_as_zero() {
        assert_eq!(age_seconds("yesterday"), 0.0);
        assert_eq!(age_seconds("2999-01-01T00:00:00Z"), 0.0);
    }
}
