//! People on the management API: access tokens from the city's OpenID Connect provider (Keycloak, Entra ID, ...).
//! Discovery and key sets come through `openidconnect`; the token itself is a JWS checked with josekit against an
//! `alg` allow-list, then its claims (issuer, audience, validity, roles) are checked in [`claims`].
//!
//! Failing closed: a token is accepted only when every check passed against keys fetched from the provider. While
//! the provider cannot be reached and no fresh keys are cached, tokens are answered with 503 (not 401, so clients
//! retry instead of discarding a good token), and the connector starts regardless, fetching lazily.

mod claims;
mod keys;
mod provider;

use std::time::Duration;

use josekit::jwt;

pub use claims::{check_claims, Person};
use provider::{KeyLookup, Provider};

use crate::config::OidcConfig;

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The token is not acceptable (401).
    #[error("{0}")]
    Rejected(String),
    /// The token cannot be checked right now (503).
    #[error("{0}")]
    Unavailable(String),
}

/// Checks access tokens against one provider; shared by all requests.
pub struct OidcVerifier {
    provider: Provider,
}

/// Longest wait for the provider's discovery document or key set.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

impl OidcVerifier {
    pub fn new(config: OidcConfig) -> Result<OidcVerifier, String> {
        // No redirects: the metadata and keys must come from the URLs the provider itself names.
        let http = reqwest::Client::builder()
            .user_agent(concat!("twinport/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(OidcVerifier {
            provider: Provider::new(config, http),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        self.provider.config()
    }

    /// Fetches the provider's metadata and keys ahead of the first request; failures are logged and retried lazily.
    pub async fn prefetch(&self) {
        self.provider.prefetch().await;
    }

    /// The person `token` speaks for, if it is a valid access token of the configured provider.
    pub async fn verify(&self, token: &str) -> Result<Person, OidcError> {
        let config = self.provider.config();
        let reject = |why: &str| OidcError::Rejected(why.to_owned());
        // Three parts: a JWS. Five would be an encrypted token, which access tokens for an API are not.
        if token.split('.').count() != 3 {
            return Err(reject("token is not a signed JWT"));
        }
        let header = jwt::decode_header(token).map_err(|_| reject("token header is unreadable"))?;
        let alg = header
            .claim("alg")
            .and_then(|v| v.as_str())
            .ok_or_else(|| reject("token has no alg"))?;
        if !config.algorithms.iter().any(|a| a == alg) {
            return Err(OidcError::Rejected(format!(
                "token algorithm {alg} is not accepted"
            )));
        }
        let kid = header
            .claim("kid")
            .and_then(|v| v.as_str())
            .ok_or_else(|| reject("token names no signing key (kid)"))?;
        let keys = self.provider.key_set_with(kid).await.map_err(|e| match e {
            KeyLookup::Unknown => {
                reject("token is signed with a key the provider does not publish")
            }
            KeyLookup::Unavailable(why) => OidcError::Unavailable(format!(
                "the identity provider cannot be reached ({why}); try again shortly"
            )),
        })?;
        let jwk = keys
            .get(kid)
            .ok_or_else(|| reject("token is signed with a key the provider does not publish"))?;
        let verifier = keys::verifier_for(alg, jwk).map_err(OidcError::Rejected)?;
        let (payload, _) = jwt::decode_with_verifier(token, verifier.as_ref())
            .map_err(|_| reject("token signature is invalid"))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        check_claims(payload.claims_set(), config, now).map_err(OidcError::Rejected)
    }
}
