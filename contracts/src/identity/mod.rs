//! Connector identity: the signing key a connector holds, the JWKS it publishes, and the short-lived self-issued
//! JWTs it sends as `Authorization: Bearer` so a partner can check who is calling against that JWKS.

mod jwks;
mod keys;
mod token;

pub use jwks::{jwk_thumbprint, Jwks};
pub use keys::{IdentityError, KeyAlgorithm, SigningKey};
pub use token::{
    issue_token, unverified_issuer, verify_token, TokenClaims, TokenError, TokenValidation,
    MAX_TOKEN_LIFETIME,
};

pub(crate) use jwks::SignatureFailure;
