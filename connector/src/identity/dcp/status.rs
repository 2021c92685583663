//! Revocation and suspension: each credential's `credentialStatus` entries are checked against the status list
//! they point to (Bitstring Status List or StatusList2021). The list must be a credential signed by the same issuer
//! as the credential it judges (an unsigned list could be swapped by anyone between us and the issuer), and is kept
//! as its caching headers allow within `[dcp] status_cache_seconds`.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use twinport_contracts::credentials::{verify_credential, VerifiedCredential};
use twinport_contracts::status_list::{StatusEntry, StatusList};

use super::fetch::{Cache, Fetcher};
use super::resolver::Resolver;
use super::{Refusal, LEEWAY};

/// A status list whose signature checked out, with who signed it.
struct CheckedList {
    issuer: String,
    list: StatusList,
}

/// Fetches, verifies and caches status lists.
pub struct StatusLists {
    fetcher: Fetcher,
    max_age: Duration,
    cache: Cache<Arc<CheckedList>>,
}

impl StatusLists {
    pub fn new(fetcher: Fetcher, max_age: Duration) -> StatusLists {
        StatusLists {
            fetcher,
            max_age,
            cache: Cache::default(),
        }
    }

    /// Refuses a credential whose status list says it is revoked or suspended; other purposes (`refresh`,
    /// `message`) do not invalidate it.
    pub async fn check(
        &self,
        credential: &VerifiedCredential,
        resolver: &Resolver,
        now: OffsetDateTime,
    ) -> Result<(), Refusal> {
        let name = credential.id.as_deref().unwrap_or("a credential");
        for value in &credential.status {
            let entry = StatusEntry::parse(value)
                .map_err(|e| Refusal::new("status", format!("{name}: {e}")))?;
            let list = self
                .list(&entry.list_url, &credential.issuer, resolver, now)
                .await?;
            if list.issuer != credential.issuer {
                return Err(Refusal::new(
                    "status",
                    format!(
                        "{name}: its status list {} is signed by {}, not by its issuer {}",
                        entry.list_url, list.issuer, credential.issuer
                    ),
                ));
            }
            let status = list
                .list
                .status(&entry)
                .map_err(|e| Refusal::new("status", format!("{name}: {e}")))?;
            if status != 0 {
                match entry.purpose.as_str() {
                    "revocation" => {
                        return Err(Refusal::new(
                            "revoked",
                            format!(
                                "{name} ({}) is revoked by its issuer {}",
                                credential.types.join(", "),
                                credential.issuer
                            ),
                        ))
                    }
                    "suspension" => {
                        return Err(Refusal::new(
                            "suspended",
                            format!(
                                "{name} ({}) is suspended by its issuer {}",
                                credential.types.join(", "),
                                credential.issuer
                            ),
                        ))
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    async fn list(
        &self,
        url: &str,
        issuer: &str,
        resolver: &Resolver,
        now: OffsetDateTime,
    ) -> Result<Arc<CheckedList>, Refusal> {
        if let Some(list) = self.cache.get(url) {
            return Ok(list);
        }
        let unavailable =
            |why: String| Refusal::new("status-unavailable", format!("status list {url}: {why}"));
        let fetched = self
            .fetcher
            .get(url, self.max_age)
            .await
            .map_err(unavailable)?;
        let text = String::from_utf8(fetched.body).map_err(|_| unavailable("not text".into()))?;
        let text = text.trim();
        if text.starts_with('{') {
            return Err(unavailable(
                "it is an unsigned JSON document; only a status list credential signed by its issuer (JWT) is accepted".into(),
            ));
        }
        let doc = resolver.resolve(issuer).await?;
        let verified = verify_credential(text, now, LEEWAY, &|did: &str| {
            (did == doc.id).then_some(doc.as_ref())
        })
        .map_err(|e| unavailable(e.to_string()))?;
        if !verified
            .types
            .iter()
            .any(|t| t == "BitstringStatusListCredential" || t == "StatusList2021Credential")
        {
            return Err(unavailable(format!(
                "it is a {}, not a status list credential",
                verified.types.join(", ")
            )));
        }
        let list =
            StatusList::from_subject(&verified.subject).map_err(|e| unavailable(e.to_string()))?;
        let mut fresh_for = fetched.fresh_for;
        if let Some(until) = verified.valid_until {
            let left = until - now;
            fresh_for = fresh_for.min(Duration::try_from(left).unwrap_or(Duration::ZERO));
        }
        let checked = Arc::new(CheckedList {
            issuer: verified.issuer,
            list,
        });
        self.cache.put(url, checked.clone(), fresh_for);
        Ok(checked)
    }
}
