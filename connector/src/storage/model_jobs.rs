//! The jobs partners started on models served as OGC API - Processes, keyed by the model server (the backend's
//! landing page) and its own job id. A job is recorded when the execution that created it is answered, before the
//! partner learns its id, and the data plane serves a job only to the agreement that started it: the model server
//! knows nothing of agreements, so this table is what keeps one partner out of another's runs.

use sqlx::Row;

use super::{now_text, StorageError, Store};

/// One job a partner started through the data plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelJob {
    /// The model server's landing page, as the distribution names it (without credentials).
    pub backend: String,
    /// The model server's job id.
    pub job_id: String,
    pub process_id: String,
    /// The provider transfer the execution came through.
    pub transfer_id: String,
    pub agreement_id: String,
    pub partner: String,
    pub created_at: String,
}

impl Store {
    /// Records a job; `false` when the model server's job id is recorded already (for whichever agreement: the
    /// first record stands, so a job can never change hands).
    pub async fn record_model_job(&self, job: &ModelJob) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "INSERT INTO model_jobs (backend, job_id, process_id, transfer_id, agreement_id, partner, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (backend, job_id) DO NOTHING",
        )
        .bind(&job.backend)
        .bind(&job.job_id)
        .bind(&job.process_id)
        .bind(&job.transfer_id)
        .bind(&job.agreement_id)
        .bind(&job.partner)
        .bind(if job.created_at.is_empty() {
            now_text()
        } else {
            job.created_at.clone()
        })
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The job `job_id` of the model server at `backend`, if a partner started it through the data plane.
    pub async fn model_job(
        &self,
        backend: &str,
        job_id: &str,
    ) -> Result<Option<ModelJob>, StorageError> {
        let row = sqlx::query(
            "SELECT backend, job_id, process_id, transfer_id, agreement_id, partner, created_at \
             FROM model_jobs WHERE backend = $1 AND job_id = $2",
        )
        .bind(backend)
        .bind(job_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ModelJob {
                backend: r.try_get("backend")?,
                job_id: r.try_get("job_id")?,
                process_id: r.try_get("process_id")?,
                transfer_id: r.try_get("transfer_id")?,
                agreement_id: r.try_get("agreement_id")?,
                partner: r.try_get("partner")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::ModelJob;
    use crate::storage::test_support::stores;

    fn job(agreement: &str) -> ModelJob {
        ModelJob {
            backend: "http://127.0.0.1:5000/".into(),
            job_id: "j-1".into(),
            process_id: "hello-world".into(),
            transfer_id: "t-1".into(),
            agreement_id: agreement.into(),
            partner: "https://b.example".into(),
            created_at: String::new(),
        }
    }

    #[tokio::test]
    async fn a_job_belongs_to_the_agreement_that_recorded_it_first() {
        for (store, _dir) in stores().await {
            assert_eq!(
                store
                    .model_job("http://127.0.0.1:5000/", "j-1")
                    .await
                    .unwrap(),
                None
            );
            assert!(store.record_model_job(&job("a-1")).await.unwrap());
            // Another agreement naming the same job id of the same server does not take it over.
            assert!(!store.record_model_job(&job("a-2")).await.unwrap());
            let kept = store
                .model_job("http://127.0.0.1:5000/", "j-1")
                .await
                .unwrap()
                .expect("recorded");
            assert_eq!(kept.agreement_id, "a-1");
            assert!(!kept.created_at.is_empty());
            // The same id on another model server is another job.
            assert_eq!(
                store
                    .model_job("http://127.0.0.1:5001/", "j-1")
                    .await
                    .unwrap(),
                None
            );
        }
    }
}
