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
    /// Issuer keys listed only under `authentication` may sign lists (`key_relationships = "lenient"`).
    lenient_issuer_keys: bool,
    /// Lists served as plain JSON are accepted from the issuer's own did:web host
    /// (`accept_unsigned_status_lists`).
    accept_unsigned: bool,
}

impl StatusLists {
    pub fn new(
        fetcher: Fetcher,
        max_age: Duration,
        lenient_issuer_keys: bool,
        accept_unsigned: bool,
    ) -> StatusLists {
        StatusLists {
            fetcher,
            max_age,
            cache: Cache::default(),
            lenient_issuer_keys,
            accept_unsigned,
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
        let unavailable = |why: String| {
            tracing::warn!(url, detail = %why, "status list unavailable");
            Refusal::new(
                "status-unavailable",
                format!("status list {url} could not be fetched or is not a status list credential of the issuer"),
            )
        };
        let fetched = self
            .fetcher
            .get(url, self.max_age, super::fetch::MAX_BODY)
            .await
            .map_err(unavailable)?;
        let text = String::from_utf8(fetched.body).map_err(|_| unavailable("not text".into()))?;
        let text = text.trim();
        let verified = if text.starts_with('{') {
            self.unsigned(url, text, issuer).map_err(|why| {
                Refusal::new("status-unavailable", format!("status list {url}: {why}"))
            })?
        } else {
            let doc = resolver.resolve(issuer).await?;
            verify_credential(text, now, LEEWAY, self.lenient_issuer_keys, &|did: &str| {
                (did == doc.id).then_some(doc.as_ref())
            })
            .map_err(|e| unavailable(e.to_string()))?
        };
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

impl StatusLists {
    /// A list served as plain JSON (as the DCP TCK and EDC's MVD serve theirs): only with
    /// `accept_unsigned_status_lists`, only over HTTPS from the host the issuer's did:web DID names (so it is the
    /// issuer's own server that vouches for it), and only if it names that issuer.
    fn unsigned(&self, url: &str, text: &str, issuer: &str) -> Result<VerifiedCredential, String> {
        use serde_json::Value;
        if !self.accept_unsigned {
            return Err("it is an unsigned JSON document; only a status list credential signed by its issuer \
                        (JWT) is accepted unless accept_unsigned_status_lists is set"
                .into());
        }
        let host = twinport_contracts::did::DidWeb::parse(issuer)
            .map_err(|e| e.to_string())?
            .authority();
        let served_by = url::Url::parse(url)
            .ok()
            .filter(|u| u.scheme() == "https" || self.fetcher.is_insecure_test_url(u))
            .and_then(|u| {
                u.host_str()
                    .map(|h| u.port().map_or(h.to_string(), |p| format!("{h}:{p}")))
            });
        if served_by.as_deref() != Some(host.as_str()) {
            return Err(format!(
                "an unsigned list is accepted only over HTTPS from the issuer's own host {host}"
            ));
        }
        let vc: Value = serde_json::from_str(text).map_err(|_| "not JSON".to_string())?;
        let named = match vc.get("issuer") {
            Some(Value::String(i)) => Some(i.as_str()),
            Some(o) => o.get("id").and_then(Value::as_str),
            None => None,
        };
        if named != Some(issuer) {
            return Err(format!("the list does not name {issuer} as its issuer"));
        }
        let types = match vc.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let subject = match vc.get("credentialSubject") {
            Some(Value::Object(m)) => m.clone(),
            Some(Value::Array(a)) => a
                .first()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default(),
            _ => return Err("the list has no credentialSubject".into()),
        };
        Ok(VerifiedCredential {
            id: vc.get("id").and_then(Value::as_str).map(str::to_owned),
            types: types
                .into_iter()
                .filter(|t| t != "VerifiableCredential")
                .collect(),
            issuer: issuer.to_string(),
            subject,
            valid_until: None,
            status: Vec::new(),
        })
    }
}
