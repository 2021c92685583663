//! The states a city records for the duties of its agreements: an append-only history per agreement, the latest
//! record per duty in force. A write moves the store's generation on, so the data plane's next decision sees it.

use std::collections::BTreeMap;

use sqlx::Row;
use twinport_policy::context::DutyState;

use super::{now_text, StorageError, Store};

/// One record: which duty of which agreement, in what state, by whom and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DutyRecord {
    pub agreement_id: String,
    /// The duty's `@id`, or its action name (`attribute`) when it has none.
    pub duty: String,
    #[schema(value_type = String)]
    pub state: DutyState,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
}

fn state_text(s: DutyState) -> &'static str {
    match s {
        DutyState::Fulfilled => "fulfilled",
        DutyState::Violated => "violated",
        DutyState::NotSet => "not-set",
    }
}

fn state_of(text: &str) -> Result<DutyState, StorageError> {
    match text {
        "fulfilled" => Ok(DutyState::Fulfilled),
        "violated" => Ok(DutyState::Violated),
        "not-set" => Ok(DutyState::NotSet),
        other => Err(StorageError::Corrupt(format!("duty state {other:?}"))),
    }
}

impl Store {
    /// Appends a record; it is in force from now on.
    pub async fn record_duty_state(&self, r: &DutyRecord) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO duty_states (agreement_id, duty, state, note, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.agreement_id)
        .bind(&r.duty)
        .bind(state_text(r.state))
        .bind(r.note.as_deref())
        .bind(&r.recorded_by)
        .bind(if r.recorded_at.is_empty() {
            now_text()
        } else {
            r.recorded_at.clone()
        })
        .execute(&mut *tx)
        .await?;
        super::data_plane_version::bump(&mut tx).await?;
        tx.commit().await?;
        self.bump_generation();
        Ok(())
    }

    /// Every record for an agreement's duties, oldest first.
    pub async fn duty_history(&self, agreement: &str) -> Result<Vec<DutyRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT agreement_id, duty, state, note, recorded_by, recorded_at FROM duty_states \
             WHERE agreement_id = $1 ORDER BY seq",
        )
        .bind(agreement)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DutyRecord {
                    agreement_id: row.try_get("agreement_id")?,
                    duty: row.try_get("duty")?,
                    state: state_of(&row.try_get::<String, _>("state")?)?,
                    note: row.try_get("note")?,
                    recorded_by: row.try_get("recorded_by")?,
                    recorded_at: row.try_get("recorded_at")?,
                })
            })
            .collect()
    }

    /// The state in force for each duty of an agreement that has a record: the latest one.
    pub async fn duty_states(
        &self,
        agreement: &str,
    ) -> Result<BTreeMap<String, DutyState>, StorageError> {
        Ok(self
            .duty_history(agreement)
            .await?
            .into_iter()
            .map(|r| (r.duty, r.state))
            .collect())
    }
}
