//! Who this connector is and who its partners are: our signing key and participant id (which sign every token we
//! send), the partner directory with each partner's keys, and the check that turns an incoming bearer token into
//! an authenticated partner.

mod authenticate;
pub mod dcp;
pub mod oidc;
mod partners;

use std::path::Path;
use std::time::Duration;

use twinport_contracts::identity::{issue_si_token, issue_token, Jwks, SiTokenRequest, SigningKey};

pub use authenticate::{authenticate, AuthError, AuthenticatedPartner};
pub use partners::{FilePartnersChange, PartnerDirectory, PartnerSource};

/// Lifetime of the tokens we issue: short, well under the 300 s partners accept, to narrow the replay window.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(120);

/// This connector's identity.
#[derive(Clone, Debug)]
pub struct LocalIdentity {
    pub participant_id: String,
    key: SigningKey,
    /// Whether we speak DCP: our participant id is our DID and partners known by DID get self-issued ID tokens.
    dcp: bool,
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
            dcp: false,
        }
    }

    /// This identity as a DCP participant: tokens to partners known by DID are DCP self-issued ID tokens.
    pub fn speaking_dcp(mut self) -> LocalIdentity {
        self.dcp = true;
        self
    }

    /// The DID URL of our key in our DID document (`<did>#<kid>`).
    pub fn key_id(&self) -> String {
        format!("{}#{}", self.participant_id, self.key.kid())
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

    /// A fresh self-issued token for a request to `audience`. To a partner known by DID while we speak DCP, it
    /// is a DCP self-issued ID token (`kid` = our key's DID URL) wrapping an access token to our Credential
    /// Service that only that partner can use (our embedded Secure Token Service); Twinport partners verifying by
    /// JWKS accept it too, since it is signed with the same key.
    pub fn token_for(
        &self,
        audience: &str,
    ) -> Result<String, twinport_contracts::identity::IdentityError> {
        let now = time::OffsetDateTime::now_utc();
        if !(self.dcp && audience.starts_with("did:")) {
            return issue_token(
                &self.key,
                &self.participant_id,
                audience,
                now,
                TOKEN_LIFETIME,
            );
        }
        let access_token = issue_token(
            &self.key,
            &self.participant_id,
            audience,
            now,
            TOKEN_LIFETIME,
        )?;
        issue_si_token(&SiTokenRequest {
            key: &self.key,
            did: &self.participant_id,
            key_id: &self.key_id(),
            audience,
            access_token: &access_token,
            now,
            lifetime: TOKEN_LIFETIME,
        })
    }

    pub fn jwks(&self) -> Jwks {
        self.key.jwks()
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }
}
