//! Our own credentials, which the Credential Service presents: compact JWS credentials (VCDM 1.1 JWT or VCDM 2.0
//! JOSE), one per `*.jwt` file in `[dcp] credentials_dir`. They are ours, so they are not verified here (the
//! partner does that), but each must be about our DID; what each is and when it expires is shown to operators, and
//! the log warns before one runs out.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use twinport_contracts::credentials::{parse_credential, CredentialError};

/// One credential we hold.
#[derive(Debug, Clone, Serialize)]
pub struct HeldCredential {
    /// The file it was loaded from (its name only).
    pub file: String,
    pub id: Option<String>,
    /// Its types, without `VerifiableCredential`.
    pub types: Vec<String>,
    pub issuer: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires: Option<OffsetDateTime>,
    #[serde(skip)]
    pub jwt: String,
}

/// Why our credentials cannot be loaded; start-up stops on it.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("dcp.credentials_dir: cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("dcp.credentials_dir: {file} is not a credential: {why}")]
    Malformed { file: String, why: String },
    #[error("dcp.credentials_dir: {file} is about {subject}, not about this connector ({did})")]
    NotOurs {
        file: String,
        subject: String,
        did: String,
    },
    #[error("cannot store the credential in {path}: {message}")]
    Write { path: String, message: String },
    #[error("no credential file {0}")]
    NotFound(String),
}

/// The credentials we hold, and the directory they are kept in.
#[derive(Debug)]
pub struct Wallet {
    dir: PathBuf,
    did: String,
    credentials: RwLock<Vec<HeldCredential>>,
}

impl Wallet {
    /// Loads every `*.jwt` file of `dir`; a missing directory is an empty wallet.
    pub fn load(dir: &Path, did: &str) -> Result<Wallet, WalletError> {
        let read_error = |e: std::io::Error| WalletError::Read {
            path: dir.display().to_string(),
            message: e.to_string(),
        };
        let empty = || Wallet {
            dir: dir.to_path_buf(),
            did: did.to_string(),
            credentials: RwLock::new(Vec::new()),
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(empty()),
            Err(e) => return Err(read_error(e)),
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jwt"))
            .collect();
        paths.sort();
        let mut credentials = Vec::with_capacity(paths.len());
        for path in paths {
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(read_error)?;
            credentials.push(held(&file, text.trim(), did)?);
        }
        Ok(Wallet {
            credentials: RwLock::new(credentials),
            ..empty()
        })
    }

    /// Adds a credential (from the management API): checked like the files, then written to the credentials
    /// directory (so it is there after a restart) under a name derived from its content, and held at once.
    pub fn add(&self, jwt: &str) -> Result<HeldCredential, WalletError> {
        use sha2::Digest;
        let jwt = jwt.trim();
        let file = format!(
            "{}.jwt",
            &hex::encode(sha2::Sha256::digest(jwt.as_bytes()))[..16]
        );
        let credential = held(&file, jwt, &self.did)?;
        let write_error = |e: std::io::Error| WalletError::Write {
            path: self.dir.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(write_error)?;
        let partial = self.dir.join(format!(".{file}.partial"));
        std::fs::write(&partial, jwt).map_err(write_error)?;
        std::fs::rename(&partial, self.dir.join(&file)).map_err(write_error)?;
        if let Ok(mut all) = self.credentials.write() {
            all.retain(|c| c.file != file);
            all.push(credential.clone());
        }
        Ok(credential)
    }

    /// Removes a credential file we hold (by its file name, as [`Wallet::list`] shows it).
    pub fn remove(&self, file: &str) -> Result<(), WalletError> {
        let known = self.list().iter().any(|c| c.file == file);
        if !known {
            return Err(WalletError::NotFound(file.to_string()));
        }
        std::fs::remove_file(self.dir.join(file)).map_err(|e| WalletError::Write {
            path: self.dir.display().to_string(),
            message: e.to_string(),
        })?;
        if let Ok(mut all) = self.credentials.write() {
            all.retain(|c| c.file != file);
        }
        Ok(())
    }

    /// What we hold, for operators.
    pub fn list(&self) -> Vec<HeldCredential> {
        self.credentials
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The credentials a query may receive: of a requested type or id, of a type we let partners see (`present`,
    /// empty = all). Expired ones are presented too: the verifier then refuses them saying so, which tells both
    /// operators more than a credential that silently went missing.
    pub fn select(&self, types: &[String], ids: &[String], present: &[String]) -> Vec<String> {
        let shown = |t: &String| present.is_empty() || present.contains(t);
        self.list()
            .into_iter()
            .filter(|c| {
                c.types.iter().any(|t| types.contains(t) && shown(t))
                    || c.id
                        .as_ref()
                        .is_some_and(|id| ids.contains(id) && c.types.iter().any(shown))
            })
            .map(|c| c.jwt)
            .collect()
    }

    /// Logs a warning for each credential that has expired or expires within `within`.
    pub fn warn_expiring(&self, now: OffsetDateTime, within: Duration) {
        for c in self.list() {
            let Some(expires) = c.expires else { continue };
            let left = expires - now;
            if left <= time::Duration::ZERO {
                tracing::error!(file = %c.file, types = ?c.types, %expires, "our credential has expired: partners will refuse it");
            } else if left <= time::Duration::try_from(within).unwrap_or(time::Duration::MAX) {
                tracing::warn!(file = %c.file, types = ?c.types, %expires, days_left = left.whole_days(), "our credential expires soon: ask its issuer for a new one");
            }
        }
    }
}

fn held(file: &str, jwt: &str, did: &str) -> Result<HeldCredential, WalletError> {
    let credential = parse_credential(jwt).map_err(|e| WalletError::Malformed {
        file: file.to_string(),
        why: e.to_string(),
    })?;
    credential
        .check_about(did)
        .map_err(|e| WalletError::NotOurs {
            file: file.to_string(),
            subject: match e {
                CredentialError::SubjectNotHolder { subject, .. } => subject,
                other => other.to_string(),
            },
            did: did.to_string(),
        })?;
    Ok(HeldCredential {
        file: file.to_string(),
        id: credential.id().map(str::to_owned),
        types: credential.types().to_vec(),
        issuer: credential.issuer().to_string(),
        expires: credential
            .not_after()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()),
        jwt: jwt.to_string(),
    })
}
