//! Who this connector is and who its partners are: our signing key and participant id (which sign every token we
//! send), the partner directory with each partner's keys, and the check that turns an incoming bearer token into
//! an authenticated partner.

mod authenticate;
pub mod oidc;
mod partners;

use std::path::Path;
use std::time::Duration;

use twinport_contracts::identity::{issue_token, Jwks, SigningKey};

pub use authenticate::{authenticate, AuthError, AuthenticatedPartner};
pub use partners::PartnerDirectory;

/// Lifetime of the tokens we issue: short, well under the 300 s partners accept, to narrow the replay window.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(120);

/// This connector's identity.
#[derive(Clone, Debug)]
pub struct LocalIdentity {
    pub participant_id: String,
    key: SigningKey,
}

/// Why the signing key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing_key: cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("signing_key: {path} is not a PKCS#8 PEM Ed25519 or P-256 private key: {message}")]
    Parse { path: String, message: String },
}

impl LocalIdentity {
    pub fn new(participant_id: String, key: SigningKey) -> LocalIdentity {
        LocalIdentity {
            participant_id,
            key,
        }
    }

    pub fn load(participant_id: &str, path: &Path) -> Result<LocalIdentity, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|e| KeyError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(LocalIdentity::new(participant_id.to_string(), key))
    }

    /// A fresh self-issued token for a request to `audience`.
    pub fn token_for(
        &self,
        audience: &str,
    ) -> Result<String, twinport_contracts::identity::IdentityError> {
        issue_token(
            &self.key,
            &self.participant_id,
            audience,
            time::OffsetDateTime::now_utc(),
            TOKEN_LIFETIME,
        )
    }

    pub fn jwks(&self) -> Jwks {
        self.key.jwks()
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }
}
