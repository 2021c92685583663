//! The consumer's live pull tokens, one per transfer, kept out of the transfer's data address and history (both
//! shown to every viewer on the management API): the token the local endpoint presents to the provider, when the
//! provider said it expires, and whether it can be renewed. In the database rather than in memory, so every
//! replica sharing a PostgreSQL database serves the city's applications with the same token; a replica renewing a
//! token holds a short lease on its row, so two replicas never both renew (each renewal revokes the token before).

use sqlx::Row;

use super::{now_text, StorageError, Store};

/// A consumer transfer's current pull token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullToken {
    pub transfer_id: String,
    pub token: String,
    /// Unix seconds when it was received.
    pub issued_at: i64,
    /// Unix seconds when the provider said it expires; `None` when it did not say.
    pub expires_at: Option<i64>,
    /// `automatic`, `unavailable: <why>`, or `None` while that is not known yet.
    pub renewal: Option<String>,
}

const COLUMNS: &str = "transfer_id, token, issued_at, expires_at, renewal";

fn read(row: &sqlx::any::AnyRow) -> Result<PullToken, StorageError> {
    Ok(PullToken {
        transfer_id: row.try_get("transfer_id")?,
        token: row.try_get("token")?,
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        renewal: row.try_get("renewal")?,
    })
}

impl Store {
    /// Keeps the token a provider's start (or resume) just gave for `transfer_id`, replacing any earlier one.
    /// Whether it can be renewed is asked again: a resumed transfer may come from a provider that changed.
    pub async fn put_pull_token(
        &self,
        transfer_id: &str,
        token: &str,
        issued_at: i64,
        expires_at: Option<i64>,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO pull_tokens (transfer_id, token, issued_at, expires_at, renewal, lease_until, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, NULL, $5) \
             ON CONFLICT (transfer_id) DO UPDATE SET token = excluded.token, issued_at = excluded.issued_at, \
             expires_at = excluded.expires_at, renewal = NULL, lease_until = NULL, updated_at = excluded.updated_at",
        )
        .bind(transfer_id)
        .bind(token)
        .bind(issued_at)
        .bind(expires_at)
        .bind(now_text())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn pull_token(&self, transfer_id: &str) -> Result<Option<PullToken>, StorageError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM pull_tokens WHERE transfer_id = $1"
        ))
        .bind(transfer_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(read).transpose()
    }

    /// The tokens of consumer transfers that are STARTED: those a renewal may be due for. Tokens of transfers
    /// that ended are forgotten on the way (the provider revoked them anyway).
    pub async fn live_pull_tokens(&self) -> Result<Vec<PullToken>, StorageError> {
        sqlx::query(
            "DELETE FROM pull_tokens WHERE transfer_id IN \
             (SELECT id FROM transfers WHERE state IN ('COMPLETED', 'TERMINATED'))",
        )
        .execute(self.pool())
        .await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM pull_tokens WHERE transfer_id IN \
             (SELECT id FROM transfers WHERE state = 'STARTED' AND role = 'consumer') ORDER BY transfer_id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(read).collect()
    }

    /// Takes the renewal lease of `transfer_id` until `until_ms` (Unix milliseconds) if nobody holds it at
    /// `now_ms`; `false` when another renewal (here or on another replica) is under way. `until_ms` is also the
    /// lease's identity: only the renewal that took it may finish with it.
    pub async fn claim_pull_token_renewal(
        &self,
        transfer_id: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE pull_tokens SET lease_until = $1 \
             WHERE transfer_id = $2 AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(until_ms)
        .bind(transfer_id)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends the renewal holding lease `lease` (the `until_ms` it claimed) of token `seen`: the new token when the
    /// provider gave one, and what renewal now is (`automatic`, `retrying: <why>` or `unavailable: <why>`); the
    /// lease is released. `false`, and nothing written, when the renewal lost its lease meanwhile (it ran out and
    /// another replica took it, or a transfer start stored a newer token): what it got must then be discarded,
    /// never written over the newer state.
    pub async fn finish_pull_token_renewal(
        &self,
        transfer_id: &str,
        seen: &str,
        lease: i64,
        renewed: Option<(&str, i64, Option<i64>)>,
        renewal: &str,
    ) -> Result<bool, StorageError> {
        let query = match renewed {
            Some((token, issued_at, expires_at)) => sqlx::query(
                "UPDATE pull_tokens SET token = $1, issued_at = $2, expires_at = $3, renewal = $4, \
                 lease_until = NULL, updated_at = $5 WHERE transfer_id = $6 AND token = $7 AND lease_until = $8",
            )
            .bind(token)
            .bind(issued_at)
            .bind(expires_at),
            None => sqlx::query(
                "UPDATE pull_tokens SET renewal = $1, lease_until = NULL, updated_at = $2 \
                 WHERE transfer_id = $3 AND token = $4 AND lease_until = $5",
            ),
        };
        let done = query
            .bind(renewal)
            .bind(now_text())
            .bind(transfer_id)
            .bind(seen)
            .bind(lease)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records whether token `seen` of `transfer_id` can be renewed, found out before any renewal: only while
    /// that token is still the one kept and nothing was recorded about it yet.
    pub async fn first_pull_token_renewal_status(
        &self,
        transfer_id: &str,
        seen: &str,
        renewal: &str,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE pull_tokens SET renewal = $1, updated_at = $2 \
             WHERE transfer_id = $3 AND token = $4 AND renewal IS NULL",
        )
        .bind(renewal)
        .bind(now_text())
        .bind(transfer_id)
        .bind(seen)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When process `process_id` last had a history line in state `state` whose event starts with `prefix`
    /// (RFC 3339), and that event, if ever: how a provider tells a repeated refusal from a first one.
    pub async fn last_history_line(
        &self,
        process_id: &str,
        state: &str,
        prefix: &str,
    ) -> Result<Option<(String, String)>, StorageError> {
        let row = sqlx::query(
            "SELECT at, event FROM process_history WHERE process_id = $1 AND to_state = $2 \
             AND substr(event, 1, $3) = $4 ORDER BY seq DESC LIMIT 1",
        )
        .bind(process_id)
        .bind(state)
        .bind(i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX))
        .bind(prefix)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((r.try_get("at")?, r.try_get("event")?)))
            .transpose()
    }
}

impl Store {
    /// Replaces the body of outbox message `id`, once sent or given up, with `body`: the same message without the
    /// pull token it carried, so the provider keeps no live token in plain text.
    pub async fn forget_sent_token(
        &self,
        id: i64,
        body: &serde_json::Value,
    ) -> Result<(), StorageError> {
        sqlx::query("UPDATE outbox SET body = $1 WHERE id = $2 AND status <> 'pending'")
            .bind(body.to_string())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::storage::test_support::{replicas, stores};
    use crate::storage::{Backend, Change, TransferRecord};

    /// The part of migration 0016 that moves tokens kept before it out of addresses and history.
    fn moving_part(backend: Backend) -> &'static str {
        let text = match backend {
            Backend::Sqlite => include_str!("../../migrations/sqlite/0016_pull_tokens.sql"),
            Backend::Postgres => include_str!("../../migrations/postgres/0016_pull_tokens.sql"),
        };
        let at = text
            .find("-- Tokens received before")
            .expect("the moving part");
        &text[at..]
    }

    #[tokio::test]
    async fn tokens_kept_before_the_migration_move_out_of_addresses_and_history() {
        for (store, _dir) in stores().await {
            let address = json!({"@type": "DataAddress", "endpoint": "https://a.example/data/p1",
                "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
                "endpointProperties": [
                    {"@type": "EndpointProperty", "name": "authorization", "value": "old-secret"},
                    {"@type": "EndpointProperty", "name": "authType", "value": "bearer"}]});
            let t = TransferRecord {
                id: "c1".into(),
                role: "consumer".into(),
                provider_pid: Some("p1".into()),
                consumer_pid: Some("c1".into()),
                partner: "https://a.example".into(),
                agreement_id: "ag".into(),
                state: "STARTED".into(),
                format: "HttpData-PULL".into(),
                peer_address: None,
                data_address: Some(address.clone()),
                token_hash: None,
                token_expires: None,
                version: 0,
                created_at: "2026-01-01T00:00:00Z".into(),
                updated_at: "2026-01-01T00:00:00Z".into(),
            };
            let change = Change::new()
                .history(
                    None,
                    "STARTED",
                    "received TransferStartMessage",
                    Some(address.to_string()),
                )
                .history(
                    Some("STARTED"),
                    "STARTED",
                    "a note",
                    Some("code x: not JSON, authorization".into()),
                );
            store.insert_process(&t, &change).await.unwrap();
            sqlx::raw_sql(moving_part(store.backend()))
                .execute(store.pool())
                .await
                .unwrap();
            assert_eq!(
                store.pull_token("c1").await.unwrap().unwrap().token,
                "old-secret"
            );
            let kept = store
                .transfer("c1")
                .await
                .unwrap()
                .unwrap()
                .data_address
                .unwrap();
            assert!(!kept.to_string().contains("old-secret"), "{kept}");
            assert_eq!(
                kept["endpointProperties"].as_array().unwrap().len(),
                1,
                "{kept}"
            );
            assert_eq!(kept["endpoint"], address["endpoint"]);
            let history = store.history("c1").await.unwrap();
            assert!(
                !history[0].detail.as_deref().unwrap().contains("old-secret"),
                "{history:?}"
            );
            assert_eq!(
                history[1].detail.as_deref(),
                Some("code x: not JSON, authorization")
            );
        }
    }

    #[tokio::test]
    async fn a_token_is_replaced_and_renewed_in_place() {
        for (store, _dir) in stores().await {
            assert_eq!(store.pull_token("t1").await.unwrap(), None);
            store
                .put_pull_token("t1", "first", 100, Some(200))
                .await
                .unwrap();
            assert!(store
                .first_pull_token_renewal_status("t1", "first", "automatic")
                .await
                .unwrap());
            // Found out once: a later answer of the same check does not overwrite what renewals recorded.
            assert!(!store
                .first_pull_token_renewal_status("t1", "first", "retrying: x")
                .await
                .unwrap());
            assert!(store.claim_pull_token_renewal("t1", 1, 10).await.unwrap());
            assert!(store
                .finish_pull_token_renewal(
                    "t1",
                    "first",
                    10,
                    Some(("second", 150, Some(250))),
                    "automatic"
                )
                .await
                .unwrap());
            let t = store.pull_token("t1").await.unwrap().unwrap();
            assert_eq!(
                (t.token.as_str(), t.issued_at, t.expires_at),
                ("second", 150, Some(250))
            );
            assert_eq!(t.renewal.as_deref(), Some("automatic"));
            assert!(store.claim_pull_token_renewal("t1", 20, 30).await.unwrap());
            assert!(store
                .finish_pull_token_renewal("t1", "second", 30, None, "unavailable: refused")
                .await
                .unwrap());
            let t = store.pull_token("t1").await.unwrap().unwrap();
            assert_eq!(
                (t.token.as_str(), t.renewal.as_deref()),
                ("second", Some("unavailable: refused"))
            );
            // A new start brings a new token, and renewal is asked about again.
            store
                .put_pull_token("t1", "third", 300, None)
                .await
                .unwrap();
            let t = store.pull_token("t1").await.unwrap().unwrap();
            assert_eq!(
                (t.token.as_str(), t.expires_at, t.renewal),
                ("third", None, None)
            );
        }
    }

    #[tokio::test]
    async fn a_renewal_that_lost_its_lease_writes_nothing() {
        for (first, second, _dir) in replicas().await {
            first.put_pull_token("t", "old", 1, Some(10)).await.unwrap();
            // A renewal starts; meanwhile the transfer is resumed and its start brings a newer token.
            assert!(first
                .claim_pull_token_renewal("t", 1_000, 31_000)
                .await
                .unwrap());
            second
                .put_pull_token("t", "resumed", 5, Some(50))
                .await
                .unwrap();
            assert!(!first
                .finish_pull_token_renewal(
                    "t",
                    "old",
                    31_000,
                    Some(("renewed", 6, Some(60))),
                    "automatic"
                )
                .await
                .unwrap());
            assert!(!first
                .finish_pull_token_renewal("t", "old", 31_000, None, "unavailable: refused")
                .await
                .unwrap());
            let t = second.pull_token("t").await.unwrap().unwrap();
            assert_eq!(
                (t.token.as_str(), t.expires_at, t.renewal),
                ("resumed", Some(50), None)
            );

            // A lease that ran out and was taken by another replica is no longer the first renewal's.
            assert!(first
                .claim_pull_token_renewal("t", 2_000, 32_000)
                .await
                .unwrap());
            assert!(second
                .claim_pull_token_renewal("t", 32_001, 62_001)
                .await
                .unwrap());
            assert!(!first
                .finish_pull_token_renewal(
                    "t",
                    "resumed",
                    32_000,
                    Some(("late", 7, Some(70))),
                    "automatic"
                )
                .await
                .unwrap());
            assert!(second
                .finish_pull_token_renewal(
                    "t",
                    "resumed",
                    62_001,
                    Some(("current", 8, Some(80))),
                    "automatic"
                )
                .await
                .unwrap());
            let t = first.pull_token("t").await.unwrap().unwrap();
            assert_eq!((t.token.as_str(), t.expires_at), ("current", Some(80)));
            // Released: the next renewal may take it at once.
            assert!(first
                .claim_pull_token_renewal("t", 32_002, 62_002)
                .await
                .unwrap());
        }
    }

    #[tokio::test]
    async fn the_last_matching_history_line_is_found() {
        for (store, _dir) in stores().await {
            let t = TransferRecord {
                id: "h1".into(),
                role: "provider".into(),
                provider_pid: Some("h1".into()),
                consumer_pid: Some("c".into()),
                partner: "https://b.example".into(),
                agreement_id: "ag".into(),
                state: "SUSPENDED".into(),
                format: "HttpData-PULL".into(),
                peer_address: None,
                data_address: None,
                token_hash: None,
                token_expires: None,
                version: 0,
                created_at: "2026-01-01T00:00:00Z".into(),
                updated_at: "2026-01-01T00:00:00Z".into(),
            };
            store.insert_process(&t, &Change::new()).await.unwrap();
            let prefix = "refused (transfer-not-started)";
            assert_eq!(
                store
                    .last_history_line("h1", "SUSPENDED", prefix)
                    .await
                    .unwrap(),
                None
            );
            store
                .note(
                    "h1",
                    "SUSPENDED",
                    "refused (transfer-not-started): suspended",
                    None,
                )
                .await
                .unwrap();
            store
                .note("h1", "SUSPENDED", "refused (policy-denied): no", None)
                .await
                .unwrap();
            let (at, event) = store
                .last_history_line("h1", "SUSPENDED", prefix)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(event, "refused (transfer-not-started): suspended");
            assert!(at.ends_with('Z'), "{at}");
            assert_eq!(
                store
                    .last_history_line("h1", "STARTED", prefix)
                    .await
                    .unwrap(),
                None
            );
            assert_eq!(
                store
                    .last_history_line("h1", "SUSPENDED", "refused (pid-mismatch)")
                    .await
                    .unwrap(),
                None
            );
        }
    }

    #[tokio::test]
    async fn one_replica_at_a_time_renews() {
        for (first, second, _dir) in replicas().await {
            first.put_pull_token("t", "tok", 1, Some(10)).await.unwrap();
            assert!(first
                .claim_pull_token_renewal("t", 1_000, 31_000)
                .await
                .unwrap());
            assert!(!second
                .claim_pull_token_renewal("t", 2_000, 32_000)
                .await
                .unwrap());
            // A lease whose holder died ends.
            assert!(second
                .claim_pull_token_renewal("t", 31_001, 61_001)
                .await
                .unwrap());
            assert!(second
                .finish_pull_token_renewal("t", "tok", 61_001, None, "automatic")
                .await
                .unwrap());
            assert!(first
                .claim_pull_token_renewal("t", 31_002, 61_002)
                .await
                .unwrap());
            assert!(!first
                .claim_pull_token_renewal("unknown", 0, 1)
                .await
                .unwrap());
        }
    }
}
