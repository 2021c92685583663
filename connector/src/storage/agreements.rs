//! Contract agreements with both parties' signatures and the keys that verified them, so an agreement can be
//! exported and checked offline long after a key rotation.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::listing::{paged, Conditions, Page, PageRequest, Window};
use super::{now_text, StorageError, Store};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgreementRecord {
    pub id: String,
    pub negotiation_id: String,
    pub provider: String,
    pub consumer: String,
    pub target: String,
    pub body: Value,
    pub policy_id: Option<String>,
    pub policy_version: Option<i64>,
    pub provider_signature: Option<String>,
    pub consumer_signature: Option<String>,
    pub provider_jwks: Option<Value>,
    pub consumer_jwks: Option<Value>,
    pub created_at: String,
}

const COLUMNS: &str =
    "id, negotiation_id, provider, consumer, target, body, policy_id, policy_version, \
    provider_signature, consumer_signature, provider_jwks, consumer_jwks, created_at";

fn opt_json(v: Option<String>) -> Result<Option<Value>, StorageError> {
    v.map(|t| {
        serde_json::from_str(&t).map_err(|e| StorageError::Corrupt(format!("agreement: {e}")))
    })
    .transpose()
}

fn agreement(row: &AnyRow) -> Result<AgreementRecord, StorageError> {
    Ok(AgreementRecord {
        id: row.try_get("id")?,
        negotiation_id: row.try_get("negotiation_id")?,
        provider: row.try_get("provider")?,
        consumer: row.try_get("consumer")?,
        target: row.try_get("target")?,
        body: opt_json(Some(row.try_get("body")?))?.unwrap_or(Value::Null),
        policy_id: row.try_get("policy_id")?,
        policy_version: row.try_get("policy_version")?,
        provider_signature: row.try_get("provider_signature")?,
        consumer_signature: row.try_get("consumer_signature")?,
        provider_jwks: opt_json(row.try_get("provider_jwks")?)?,
        consumer_jwks: opt_json(row.try_get("consumer_jwks")?)?,
        created_at: row.try_get("created_at")?,
    })
}

/// Inserts a new agreement inside a process change's transaction.
pub(super) async fn insert_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    a: &AgreementRecord,
) -> Result<(), StorageError> {
    sqlx::query(&format!("INSERT INTO agreements ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
        .bind(&a.id)
        .bind(&a.negotiation_id)
        .bind(&a.provider)
        .bind(&a.consumer)
        .bind(&a.target)
        .bind(a.body.to_string())
        .bind(a.policy_id.as_deref())
        .bind(a.policy_version)
        .bind(a.provider_signature.as_deref())
        .bind(a.consumer_signature.as_deref())
        .bind(a.provider_jwks.as_ref().map(Value::to_string))
        .bind(a.consumer_jwks.as_ref().map(Value::to_string))
        .bind(if a.created_at.is_empty() { now_text() } else { a.created_at.clone() })
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Stores an agreement, or (same id) fills in signatures that were not known before.
    pub async fn put_agreement(&self, a: &AgreementRecord) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        let exists = sqlx::query("SELECT 1 FROM agreements WHERE id = $1")
            .bind(&a.id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if exists {
            sqlx::query(
                "UPDATE agreements SET provider_signature = COALESCE(provider_signature, $1), \
                 consumer_signature = COALESCE(consumer_signature, $2), provider_jwks = COALESCE(provider_jwks, $3), \
                 consumer_jwks = COALESCE(consumer_jwks, $4) WHERE id = $5",
            )
            .bind(a.provider_signature.as_deref())
            .bind(a.consumer_signature.as_deref())
            .bind(a.provider_jwks.as_ref().map(Value::to_string))
            .bind(a.consumer_jwks.as_ref().map(Value::to_string))
            .bind(&a.id)
            .execute(&mut *tx)
            .await?;
        } else {
            insert_in(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn agreement(&self, id: &str) -> Result<Option<AgreementRecord>, StorageError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM agreements WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(agreement).transpose()
    }

    pub async fn agreements(&self) -> Result<Vec<AgreementRecord>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM agreements ORDER BY created_at, id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(agreement).collect()
    }

    /// One page of the agreements `filter` selects, oldest first (creation time, then id).
    pub async fn agreements_page(
        &self,
        filter: &AgreementFilter,
        page: &PageRequest,
    ) -> Result<Page<AgreementRecord>, StorageError> {
        let mut c = Conditions::default();
        if let Some(partner) = &filter.partner {
            c.add("(provider = ? OR consumer = ?)", &[partner, partner]);
        }
        c.equals("provider", filter.provider.as_deref());
        c.equals("consumer", filter.consumer.as_deref());
        c.equals("target", filter.dataset.as_deref());
        c.equals("policy_id", filter.policy.as_deref());
        c.within("created_at", &filter.created);
        let (rest, args) = c.page(&["created_at", "id"], page);
        let sql = format!("SELECT {COLUMNS} FROM agreements {rest}");
        let rows = args
            .iter()
            .fold(sqlx::query(&sql), |query, value| query.bind(value))
            .fetch_all(self.pool())
            .await?;
        let rows = rows.iter().map(agreement).collect::<Result<Vec<_>, _>>()?;
        Ok(paged(rows, page, |a| {
            vec![a.created_at.clone(), a.id.clone()]
        }))
    }
}

/// What a list of agreements is narrowed to; `None` (or an open window) means any.
#[derive(Debug, Clone, Default)]
pub struct AgreementFilter {
    /// Either party.
    pub partner: Option<String>,
    pub provider: Option<String>,
    pub consumer: Option<String>,
    /// The agreement's target.
    pub dataset: Option<String>,
    pub policy: Option<String>,
    pub created: Window,
}
