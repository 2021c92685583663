//! Alignment checks as recorded: the report, and the resources it covered, so "has this partner's model been
//! checked, against its current description, recently enough?" is one indexed query.

use sqlx::Row;

use super::{StorageError, Store};

/// One resource a check covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlignmentSubject {
    /// Empty for our own catalogue.
    pub partner: String,
    pub resource: String,
    /// `model`, `input`, `output` or `visualisation`.
    pub role: String,
    /// SHA-256 of the description that was checked.
    pub digest: String,
    /// The verdict for this resource (for an input: its own pairing; for a model: the whole run).
    pub verdict: String,
}

/// A recorded check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlignment {
    pub id: String,
    pub checked_at: i64,
    /// Where the audit log recorded it; orders checks made within one second.
    pub audit_index: i64,
    pub verdict: String,
    pub report: String,
}

impl Store {
    /// Records a check and what it covered, in one transaction.
    pub async fn put_alignment(
        &self,
        check: &StoredAlignment,
        subjects: &[AlignmentSubject],
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO alignment_checks (id, checked_at, audit_index, verdict, report) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&check.id)
        .bind(check.checked_at)
        .bind(check.audit_index)
        .bind(&check.verdict)
        .bind(&check.report)
        .execute(&mut *tx)
        .await?;
        for s in subjects {
            sqlx::query(
                "INSERT INTO alignment_subjects \
                 (check_id, partner, resource, role, digest, verdict, checked_at, audit_index) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&check.id)
            .bind(&s.partner)
            .bind(&s.resource)
            .bind(&s.role)
            .bind(&s.digest)
            .bind(&s.verdict)
            .bind(check.checked_at)
            .bind(check.audit_index)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A recorded check by id.
    pub async fn alignment(&self, id: &str) -> Result<Option<StoredAlignment>, StorageError> {
        let row = sqlx::query(
            "SELECT id, checked_at, audit_index, verdict, report FROM alignment_checks WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(StoredAlignment {
                id: r.try_get("id")?,
                checked_at: r.try_get("checked_at")?,
                audit_index: r.try_get("audit_index")?,
                verdict: r.try_get("verdict")?,
                report: r.try_get("report")?,
            })
        })
        .transpose()
    }

    /// The latest check since `since` that covered `resource` of `partner` in `role`, with that subject's digest
    /// and verdict, and the check's id.
    pub async fn latest_alignment_of(
        &self,
        partner: &str,
        resource: &str,
        role: &str,
        since: i64,
    ) -> Result<Option<(String, AlignmentSubject)>, StorageError> {
        let row = sqlx::query(
            "SELECT check_id, digest, verdict FROM alignment_subjects \
             WHERE partner = $1 AND resource = $2 AND role = $3 AND checked_at >= $4 \
             ORDER BY audit_index DESC LIMIT 1",
        )
        .bind(partner)
        .bind(resource)
        .bind(role)
        .bind(since)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok((
                r.try_get("check_id")?,
                AlignmentSubject {
                    partner: partner.to_owned(),
                    resource: resource.to_owned(),
                    role: role.to_owned(),
                    digest: r.try_get("digest")?,
                    verdict: r.try_get("verdict")?,
                },
            ))
        })
        .transpose()
    }

    /// Whether any check ever covered `resource` of `partner` in `role`.
    pub async fn ever_aligned_as(
        &self,
        partner: &str,
        resource: &str,
        role: &str,
    ) -> Result<bool, StorageError> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM alignment_subjects WHERE partner = $1 AND resource = $2 AND role = $3 LIMIT 1",
        )
        .bind(partner)
        .bind(resource)
        .bind(role)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::{AlignmentSubject, StoredAlignment};
    use crate::storage::test_support::stores;

    fn subject(role: &str, digest: &str, verdict: &str) -> AlignmentSubject {
        AlignmentSubject {
            partner: "https://city-a.example".into(),
            resource: "urn:ldt:city-a:flood-model".into(),
            role: role.into(),
            digest: digest.into(),
            verdict: verdict.into(),
        }
    }

    #[tokio::test]
    async fn the_latest_check_of_a_resource_is_found_by_partner_and_role() {
        for (store, _dir) in stores().await {
            // c1 and c2 in the same second: the audit index orders them.
            for (id, at, index, digest, verdict) in [
                ("c1", 200, 7, "d1", "misaligned"),
                ("c2", 200, 8, "d2", "aligned"),
            ] {
                let check = StoredAlignment {
                    id: id.into(),
                    checked_at: at,
                    audit_index: index,
                    verdict: verdict.into(),
                    report: "{}".into(),
                };
                store
                    .put_alignment(&check, &[subject("model", digest, verdict)])
                    .await
                    .expect("put");
            }
            let (id, s) = store
                .latest_alignment_of(
                    "https://city-a.example",
                    "urn:ldt:city-a:flood-model",
                    "model",
                    0,
                )
                .await
                .expect("query")
                .expect("found");
            assert_eq!(
                (id.as_str(), s.digest.as_str(), s.verdict.as_str()),
                ("c2", "d2", "aligned")
            );
            let too_old = store
                .latest_alignment_of(
                    "https://city-a.example",
                    "urn:ldt:city-a:flood-model",
                    "model",
                    201,
                )
                .await
                .expect("query");
            assert!(too_old.is_none());
            assert!(!store
                .ever_aligned_as(
                    "https://city-a.example",
                    "urn:ldt:city-a:flood-model",
                    "input"
                )
                .await
                .expect("query"));
            assert_eq!(
                store
                    .alignment("c1")
                    .await
                    .expect("read")
                    .map(|c| c.verdict),
                Some("misaligned".into())
            );
        }
    }
}
