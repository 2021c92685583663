//! Errors of the policy library. Messages are lowercase and name the JSON path of the offending part of a
//! document, so a legal team can find the mistake without reading code.

use thiserror::Error;

/// Everything that can go wrong while reading a policy, a test file or a Rego module.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The policy document is not valid JSON at all.
    #[error("invalid json: {0}")]
    Json(String),
    /// The document is JSON but a part of it does not follow the ODRL shape; `path` locates it.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// A Rego module failed to parse or compile.
    #[error("rego module {name:?}: {message}")]
    Rego { name: String, message: String },
    /// A policy test file is malformed.
    #[error("test file: {0}")]
    TestFile(String),
}

impl PolicyError {
    pub(crate) fn invalid(path: &str, message: impl Into<String>) -> Self {
        PolicyError::Invalid {
            path: if path.is_empty() {
                "$".to_string()
            } else {
                path.to_string()
            },
            message: message.into(),
        }
    }
}
