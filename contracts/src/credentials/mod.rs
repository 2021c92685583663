//! Verifiable credentials and presentations as DCP 1.0 exchanges them (VCDM 1.1 JWT and VCDM 2.0 JOSE): issuing
//! them (a holder presenting its credentials, test issuers), reading a presentation a Credential Service returned
//! without trusting it yet (to learn which DID documents to fetch), and verifying it against those documents: the
//! presentation signed by an `authentication` key of its holder, who must be the caller of the DSP request; each
//! credential signed by an `assertionMethod` key of its issuer, the issuer trusted for the credential's type, the
//! credential valid now and about the holder. Credential status is not checked here (that needs I/O): the status
//! entries are handed back for the caller to check against the status lists. Pure: no I/O, no clock reads.
//!
//! Both DCP profiles are read and written: `vc11-sl2021/jwt` (a VP-JWT whose `vp` claim lists VC-JWTs) and
//! `vc20-bssl/jwt` (a JOSE-secured VCDM 2.0 presentation listing enveloped credentials; the doubly enveloped form
//! EDC IdentityHub sends is accepted too). Deserialisation is lenient where peers differ (`type`, `credentialSubject`,
//! `credentialStatus` as one or many, `issuer` as a string or an object), strict where security is at stake (only
//! compact JWS, only the algorithms the identity module allows, keys only from the relationship that authorises them).

mod compact;
mod issue;
mod model;
mod verify;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use issue::{issue_credential, issue_presentation, CredentialRequest, PresentationRequest};
pub use verify::{
    parse_credential, parse_presentation, verify_credential, verify_presentation,
    verify_presentation_each, PresentationCheck, UnverifiedCredential, UnverifiedPresentation,
    VerifiedCredential,
};

/// The VCDM 1.1 base context.
pub const VC_V1_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";
/// The VCDM 2.0 base context.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Presentation Exchange submission context EDC puts into VC 1.1 presentations.
pub const PRESENTATION_EXCHANGE_CONTEXT: &str =
    "https://identity.foundation/presentation-exchange/submission/v1";

/// The credential and presentation formats of the two DCP profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialFormat {
    /// VCDM 1.1 secured as JWT (`vc`/`vp` claims): profile `vc11-sl2021/jwt`, EDC `VC1_0_JWT`.
    Vc11Jwt,
    /// VCDM 2.0 secured with JOSE (enveloped credentials): profile `vc20-bssl/jwt`, EDC `VC2_0_JOSE`.
    Vc20Jose,
}

impl CredentialFormat {
    /// The DCP profile alias.
    pub fn profile(self) -> &'static str {
        match self {
            CredentialFormat::Vc11Jwt => "vc11-sl2021/jwt",
            CredentialFormat::Vc20Jose => "vc20-bssl/jwt",
        }
    }

    /// EDC's name for the format.
    pub fn edc_name(self) -> &'static str {
        match self {
            CredentialFormat::Vc11Jwt => "VC1_0_JWT",
            CredentialFormat::Vc20Jose => "VC2_0_JOSE",
        }
    }

    /// Reads a DCP profile alias or an EDC format name; `vc10-sl2021/jwt`, which the DCP examples and several
    /// wallets use for the VCDM 1.1 profile, is accepted too.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "vc11-sl2021/jwt" | "vc10-sl2021/jwt" | "VC1_0_JWT" => Some(CredentialFormat::Vc11Jwt),
            "vc20-bssl/jwt" | "VC2_0_JOSE" => Some(CredentialFormat::Vc20Jose),
            _ => None,
        }
    }
}

/// Which issuers are trusted for which credential types (EDC `edc.iam.trustedissuer.<alias>.{id,supportedtypes}`):
/// issuer DID -> the types it may issue, `"*"` meaning any. An issuer not listed is trusted for nothing, and so is
/// one listed with no types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedIssuers {
    issuers: BTreeMap<String, BTreeSet<String>>,
}

impl TrustedIssuers {
    /// The list; an issuer named twice is trusted for the union of its types.
    pub fn new(entries: impl IntoIterator<Item = (String, Vec<String>)>) -> Self {
        let mut issuers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (issuer, types) in entries {
            issuers.entry(issuer).or_default().extend(types);
        }
        TrustedIssuers { issuers }
    }

    /// Whether `issuer` may issue credentials of `credential_type`.
    pub fn allows(&self, issuer: &str, credential_type: &str) -> bool {
        self.issuers
            .get(issuer)
            .is_some_and(|types| types.contains("*") || types.contains(credential_type))
    }

    /// No issuer is trusted: every credential will be refused.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    /// The trusted issuer DIDs.
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.issuers.keys().map(String::as_str)
    }

    /// Whether `issuer` is trusted for at least one of `types` (a credential's types without
    /// `VerifiableCredential`); a credential with no other type needs an issuer trusted for any type (`"*"`).
    pub fn allows_any(&self, issuer: &str, types: &[String]) -> bool {
        if types.is_empty() {
            return self.issuers.get(issuer).is_some_and(|t| t.contains("*"));
        }
        types.iter().any(|t| self.allows(issuer, t))
    }
}

/// Why a credential or presentation is refused, or could not be issued. Each names the failed step in plain words,
/// for refusals and the audit log; [`CredentialError::step`] gives a short stable code for it.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CredentialError {
    #[error("malformed {what}: {why}")]
    Malformed { what: String, why: String },
    #[error("unsupported {what}: {why}")]
    Unsupported { what: String, why: String },
    #[error("the presentation holds no credentials")]
    NoCredentials,
    #[error("no DID document available for {did}")]
    DidUnavailable { did: String },
    #[error("key {kid} is not authorised for {relationship} to sign the {whose}: {why}")]
    KeyNotAuthorised {
        whose: String,
        kid: String,
        relationship: &'static str,
        why: String,
    },
    #[error("bad signature on the {whose}")]
    BadSignature { whose: String },
    #[error("the presentation holder {found} is not the caller {expected} (the issuer of its identity token)")]
    HolderMismatch { expected: String, found: String },
    #[error("the presentation is addressed to {found}, not to {expected}")]
    AudienceMismatch { expected: String, found: String },
    #[error("the presentation expired at {at}")]
    PresentationExpired { at: String },
    #[error("the presentation is not valid before {from}")]
    PresentationNotYetValid { from: String },
    #[error("{credential} expired at {at}")]
    CredentialExpired { credential: String, at: String },
    #[error("{credential} is not valid before {from}")]
    CredentialNotYetValid { credential: String, from: String },
    #[error("issuer {issuer} is not trusted for {}", if types.is_empty() { "untyped credentials".to_string() } else { types.join(", ") })]
    IssuerNotTrusted { issuer: String, types: Vec<String> },
    #[error("{credential} is about {subject}, not about the holder {holder} (holder binding)")]
    SubjectNotHolder {
        credential: String,
        subject: String,
        holder: String,
    },
    #[error("signing failed: {0}")]
    Signing(String),
}

impl CredentialError {
    /// A short stable code for the failed step.
    pub fn step(&self) -> &'static str {
        match self {
            CredentialError::Malformed { .. } => "malformed",
            CredentialError::Unsupported { .. } => "unsupported",
            CredentialError::NoCredentials => "empty",
            CredentialError::DidUnavailable { .. } => "did-unresolvable",
            CredentialError::KeyNotAuthorised { .. } => "key-not-authorised",
            CredentialError::BadSignature { .. } => "signature",
            CredentialError::HolderMismatch { .. } => "holder-mismatch",
            CredentialError::AudienceMismatch { .. } => "audience",
            CredentialError::PresentationExpired { .. }
            | CredentialError::CredentialExpired { .. } => "expired",
            CredentialError::PresentationNotYetValid { .. }
            | CredentialError::CredentialNotYetValid { .. } => "not-yet-valid",
            CredentialError::IssuerNotTrusted { .. } => "issuer-not-trusted",
            CredentialError::SubjectNotHolder { .. } => "holder-binding",
            CredentialError::Signing(_) => "signing",
        }
    }
}
