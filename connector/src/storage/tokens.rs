//! The replay guard for partner tokens: every `jti` is remembered until its token expires. Kept in the database,
//! not in memory, so a replay is caught across restarts and across replicas sharing one database.

use super::{StorageError, Store};

/// Whether a token id was new or had been presented before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Fresh,
    Replayed,
}

impl Store {
    /// Records a token id; `Replayed` if the same issuer's `jti` was already seen. Expired ids are purged.
    pub async fn record_token_use(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<TokenUse, StorageError> {
        // Purging on a fraction of calls keeps the table small without a second write on every request.
        if jti.as_bytes().first().is_some_and(|b| b % 16 == 0) {
            sqlx::query("DELETE FROM seen_tokens WHERE expires_at < $1")
                .bind(now)
                .execute(self.pool())
                .await?;
        }
        // The key is scoped to the issuer so one partner cannot burn another partner's token ids.
        let key = format!("{issuer} {jti}");
        // A row whose token has expired may be reused (it was not purged yet); a live one means replay.
        let done = sqlx::query(
            "INSERT INTO seen_tokens (jti, issuer, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_tokens.expires_at < $4",
        )
        .bind(key)
        .bind(issuer)
        .bind(expires_at)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(if done.rows_affected() == 1 {
            TokenUse::Fresh
        } else {
            TokenUse::Replayed
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TokenUse;
    use crate::storage::test_support::stores;

    #[tokio::test]
    async fn a_token_id_is_accepted_once_per_issuer() {
        for (store, _dir) in stores().await {
            assert_eq!(
                store
                    .record_token_use("https://b", "j1", 200, 100)
                    .await
                    .unwrap(),
                TokenUse::Fresh
            );
            assert_eq!(
                store
                    .record_token_use("https://b", "j1", 200, 150)
                    .await
                    .unwrap(),
                TokenUse::Replayed
            );
            assert_eq!(
                store
                    .record_token_use("https://c", "j1", 200, 150)
                    .await
                    .unwrap(),
                TokenUse::Fresh
            );
            // Once expired the id is forgotten, but an expired token is refused before it gets here.
            assert_eq!(
                store
                    .record_token_use("https://b", "j1", 400, 300)
                    .await
                    .unwrap(),
                TokenUse::Fresh
            );
        }
    }
}
