//! A credential issuer for development and benchmarks (and the end-to-end tests' fixture): a `did:web` identity
//! with its DID document and one Bitstring status list, served on `127.0.0.1:0`, that signs membership and other
//! credentials for the participants it is told about. Not a production issuer: it issues whatever it is asked.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use twinport_contracts::credentials::{issue_credential, CredentialFormat, CredentialRequest};
use twinport_contracts::identity::{KeyAlgorithm, SigningKey};
use twinport_contracts::status_list::{StatusList, StatusListKind};

use crate::identity::dcp::document::did_document;

/// A development issuer, before and after it listens.
pub struct DevIssuer {
    pub did: String,
    pub key: SigningKey,
    /// Where it listens (`http://127.0.0.1:<port>`), once served.
    pub url: String,
    /// The status list URL its credentials name, on the host its DID names.
    status_list: String,
    revoked: Arc<Mutex<Vec<u64>>>,
    next_index: AtomicU64,
    /// Who got which status index.
    issued: Mutex<Vec<(String, u64)>>,
    /// How often its status list was fetched.
    pub status_fetches: Arc<AtomicUsize>,
}

impl DevIssuer {
    /// Starts `did`'s issuer; its status list is served with `Cache-Control: list_cache_control`, and `extra`
    /// routes are served beside its own.
    pub async fn start(
        did: &str,
        list_cache_control: &'static str,
        extra: Router,
    ) -> anyhow::Result<DevIssuer> {
        let key = SigningKey::generate(KeyAlgorithm::Es256)?;
        let host = twinport_contracts::did::DidWeb::parse(did)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .authority();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let issuer = DevIssuer {
            did: did.to_string(),
            status_list: format!("https://{host}/status/1"),
            url,
            key,
            revoked: Arc::default(),
            next_index: AtomicU64::new(1),
            issued: Mutex::default(),
            status_fetches: Arc::default(),
        };
        let document = did_document(did, &issuer.key_id(), &issuer.key.public_jwk(), &issuer.url);
        let list = {
            let (key, key_id, did, url) = (
                issuer.key.clone(),
                issuer.key_id(),
                did.to_string(),
                issuer.status_list.clone(),
            );
            let (revoked, fetches) = (issuer.revoked.clone(), issuer.status_fetches.clone());
            move || {
                fetches.fetch_add(1, Ordering::SeqCst);
                let set = revoked.lock().map(|r| r.clone()).unwrap_or_default();
                let mut subject =
                    StatusList::encode(StatusListKind::Bitstring, "revocation", &set, 16_384);
                subject["id"] = json!(format!("{url}#list"));
                let now = OffsetDateTime::now_utc();
                let jwt = issue_credential(&CredentialRequest {
                    key: &key,
                    issuer_did: &did,
                    key_id: &key_id,
                    id: &url,
                    types: &["BitstringStatusListCredential"],
                    subject: &subject,
                    valid_from: now - Duration::hours(1),
                    valid_until: Some(now + Duration::days(1)),
                    status: None,
                    format: CredentialFormat::Vc20Jose,
                })
                .unwrap_or_default();
                (
                    [
                        ("cache-control", list_cache_control),
                        ("content-type", "application/vc+jwt"),
                    ],
                    jwt,
                )
            }
        };
        let app = Router::new()
            .route(
                "/.well-known/did.json",
                get(move || std::future::ready(axum::Json(document.clone()))),
            )
            .route("/status/1", get(move || std::future::ready(list())))
            .merge(extra);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "development issuer stopped");
            }
        });
        Ok(issuer)
    }

    pub fn key_id(&self) -> String {
        format!("{}#{}", self.did, self.key.kid())
    }

    /// A credential for `holder` of `types` with `claims` in its subject, valid from `from` to `until`, with a
    /// status entry of its own; returns it and its status index.
    pub fn credential(
        &self,
        holder: &str,
        types: &[&str],
        claims: Value,
        from: OffsetDateTime,
        until: OffsetDateTime,
        format: CredentialFormat,
    ) -> anyhow::Result<(String, u64)> {
        let index = self.next_index.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut issued) = self.issued.lock() {
            issued.push((holder.to_string(), index));
        }
        let mut subject = claims;
        subject["id"] = json!(holder);
        let status = json!({
            "id": format!("{}#{index}", self.status_list),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": index.to_string(),
            "statusListCredential": self.status_list,
        });
        let jwt = issue_credential(&CredentialRequest {
            key: &self.key,
            issuer_did: &self.did,
            key_id: &self.key_id(),
            id: &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            types,
            subject: &subject,
            valid_from: from,
            valid_until: Some(until),
            status: Some(&status),
            format,
        })?;
        Ok((jwt, index))
    }

    /// A `MembershipCredential` for `holder` saying `membership`, valid from yesterday for 30 days.
    pub fn membership(&self, holder: &str, membership: &str) -> anyhow::Result<String> {
        let now = OffsetDateTime::now_utc();
        Ok(self
            .credential(
                holder,
                &["MembershipCredential"],
                json!({"membership": membership}),
                now - Duration::days(1),
                now + Duration::days(30),
                CredentialFormat::Vc11Jwt,
            )?
            .0)
    }

    /// Revokes every credential issued to `holder`; how many.
    pub fn revoke_all_of(&self, holder: &str) -> usize {
        let indices: Vec<u64> = self
            .issued
            .lock()
            .map(|i| {
                i.iter()
                    .filter(|(h, _)| h == holder)
                    .map(|(_, n)| *n)
                    .collect()
            })
            .unwrap_or_default();
        for &i in &indices {
            self.revoke(i);
        }
        indices.len()
    }

    /// Sets the credential with status `index` revoked from the next fetch of the list on.
    pub fn revoke(&self, index: u64) {
        if let Ok(mut r) = self.revoked.lock() {
            r.push(index);
        }
    }

    /// The `[dcp]` section of a development connector that trusts this issuer for memberships and city
    /// credentials, resolving its
    /// host and `hosts` (the other participants, remapped at run time) over loopback HTTP.
    pub fn dcp_section(&self, hosts: &[&str]) -> String {
        let host = self
            .status_list
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut insecure: Vec<String> = hosts.iter().map(|h| format!("{h:?}")).collect();
        insecure.push(format!("{host:?}"));
        format!(
            "\n[dcp]\ncredentials_dir = \"credentials\"\nallow_private_networks = true\ninsecure_http_hosts = [{}]\n[dcp.resolve]\n{host:?} = {:?}\n[[dcp.trusted_issuers]]\nid = {:?}\ntypes = [\"MembershipCredential\", \"CityCredential\"]\n",
            insecure.join(", "),
            self.url,
            self.did
        )
    }
}
