//! Connector identity: the signing key a connector holds, the JWKS it publishes, and the short-lived self-issued
//! JWTs it sends as `Authorization: Bearer` so a partner can check who is calling against that JWKS.

mod jwks;
mod keys;
mod si_token;
mod token;

pub use jwks::{jwk_thumbprint, Jwks};
pub use keys::{IdentityError, KeyAlgorithm, SigningKey, VerifyAlgorithm};
pub use si_token::{issue_si_token, unverified_si_token, verify_si_token, SiToken, SiTokenRequest};
pub use token::{
    issue_token, unverified_issuer, verify_token, TokenClaims, TokenError, TokenValidation,
    MAX_TOKEN_LIFETIME,
};

pub(crate) use jwks::SignatureFailure;
