//! The claims each partner known by DID proved with its credentials at its last DSP request (see
//! `identity::dcp`), kept until the first of those credentials expires, so a restart or another replica judges
//! its data-plane requests on them too.

use serde_json::{Map, Value};
use sqlx::Row;

use super::{StorageError, Store};

impl Store {
    /// Records what `did`'s credentials said, replacing what was kept; expired rows are purged.
    pub async fn put_dcp_claims(
        &self,
        did: &str,
        claims: &Map<String, Value>,
        valid_until: i64,
        now: i64,
    ) -> Result<(), StorageError> {
        // Expired rows go now and then (reads filter on validity, so they are never used), not on every write.
        if now % 8 == 0 {
            sqlx::query("DELETE FROM dcp_claims WHERE valid_until <= $1")
                .bind(now)
                .execute(self.pool())
                .await?;
        }
        sqlx::query(
            "INSERT INTO dcp_claims (did, claims, valid_until, verified_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (did) DO UPDATE SET claims = excluded.claims, valid_until = excluded.valid_until, \
             verified_at = excluded.verified_at",
        )
        .bind(did)
        .bind(Value::Object(claims.clone()).to_string())
        .bind(valid_until)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// What `did`'s credentials said, if that still holds at `now`.
    pub async fn dcp_claims(
        &self,
        did: &str,
        now: i64,
    ) -> Result<Option<(Map<String, Value>, i64)>, StorageError> {
        let row = sqlx::query(
            "SELECT claims, valid_until FROM dcp_claims WHERE did = $1 AND valid_until > $2",
        )
        .bind(did)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            let text: String = r.try_get("claims")?;
            let claims = serde_json::from_str::<Map<String, Value>>(&text)
                .map_err(|e| StorageError::Corrupt(format!("dcp_claims of {did}: {e}")))?;
            Ok((claims, r.try_get("valid_until")?))
        })
        .transpose()
    }

    /// Forgets what `did`'s credentials said (a refusal: it may no longer prove it).
    pub async fn forget_dcp_claims(&self, did: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM dcp_claims WHERE did = $1")
            .bind(did)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::storage::test_support::stores;
    use serde_json::json;

    #[tokio::test]
    async fn claims_are_kept_until_they_expire_and_replaced_or_forgotten() {
        for (store, _dir) in stores().await {
            let claims = json!({"membership": "partner-city"})
                .as_object()
                .unwrap()
                .clone();
            store
                .put_dcp_claims("did:web:b.test", &claims, 200, 100)
                .await
                .unwrap();
            assert_eq!(
                store.dcp_claims("did:web:b.test", 150).await.unwrap(),
                Some((claims.clone(), 200))
            );
            assert_eq!(store.dcp_claims("did:web:b.test", 200).await.unwrap(), None);
            assert_eq!(store.dcp_claims("did:web:c.test", 150).await.unwrap(), None);
            let other = json!({"membership": "observer"})
                .as_object()
                .unwrap()
                .clone();
            store
                .put_dcp_claims("did:web:b.test", &other, 300, 150)
                .await
                .unwrap();
            assert_eq!(
                store.dcp_claims("did:web:b.test", 250).await.unwrap(),
                Some((other, 300))
            );
            store.forget_dcp_claims("did:web:b.test").await.unwrap();
            assert_eq!(store.dcp_claims("did:web:b.test", 250).await.unwrap(), None);
        }
    }
}
