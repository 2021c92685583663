//! The log's own Ed25519 checkpoint key, `<data_dir>/audit-log-key.pem`, generated on first start.
//!
//! It is deliberately not the connector's signing key: that one may be P-256 (signed notes need Ed25519 for the
//! witness ecosystem) and may be rotated, while the log key is the log's identity for as long as the log exists.

use std::path::{Path, PathBuf};

use twinport_contracts::transparency::note::{NoteSigner, NoteVerifier};

use super::AuditError;

pub const KEY_FILE: &str = "audit-log-key.pem";

pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Loads the key, or creates it (owner-only permissions) when the file does not exist yet.
pub fn load_or_generate(data_dir: &Path, origin: &str) -> Result<NoteSigner, AuditError> {
    let path = key_path(data_dir);
    let key_err = |message: String| AuditError::Key {
        path: path.display().to_string(),
        message,
    };
    match std::fs::read_to_string(&path) {
        Ok(pem) => NoteSigner::from_pkcs8_pem(origin, &pem).map_err(|e| key_err(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = NoteSigner::generate(origin).map_err(|e| key_err(e.to_string()))?;
            std::fs::create_dir_all(data_dir).map_err(|e| key_err(e.to_string()))?;
            write_private(&path, key.to_pkcs8_pem()).map_err(|e| key_err(e.to_string()))?;
            tracing::info!(path = %path.display(), vkey = %key.verifier().vkey(), "generated audit log key");
            Ok(key)
        }
        Err(e) => Err(key_err(e.to_string())),
    }
}

/// The verifier key of an existing log key, for tools that read the log without running it.
pub fn load_verifier(data_dir: &Path, origin: &str) -> Result<NoteVerifier, AuditError> {
    let path = key_path(data_dir);
    let err = |message: String| AuditError::Key {
        path: path.display().to_string(),
        message,
    };
    let pem = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
    Ok(NoteSigner::from_pkcs8_pem(origin, &pem)
        .map_err(|e| err(e.to_string()))?
        .verifier())
}

fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(pem.as_bytes())?;
    f.sync_all()
}
