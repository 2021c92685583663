//! DCP 1.0 (Decentralized Claims Protocol) presentation messages: the `PresentationQueryMessage` a verifier sends
//! to a holder's Credential Service, the `PresentationResponseMessage` that answers it, and the scope strings that
//! name the credentials asked for. Pure: building and reading the JSON bodies; the HTTP exchange, the tokens and
//! the presentations' signatures are checked elsewhere.

mod presentation;
mod scope;

#[cfg(any(test, feature = "official-schemas"))]
#[doc(hidden)]
pub mod schemas;

pub use presentation::{
    parse_presentation_query, parse_presentation_response, presentation_query,
    presentation_response, PresentationQuery,
};
pub use scope::{Scope, ID_ALIAS, TRACTUSX_TYPE_ALIAS, TYPE_ALIAS};

/// The DCP 1.0 JSON-LD context; every DCP message's `@context` array must contain it.
pub const DCP_CONTEXT: &str = "https://w3id.org/dspace-dcp/v1.0/dcp.jsonld";

/// The Presentation Exchange submission context EDC puts first in the queries it sends.
pub const PRESENTATION_EXCHANGE_CONTEXT: &str =
    "https://identity.foundation/presentation-exchange/submission/v1";

/// Why a received DCP message is refused; [`DcpError::status`] is the HTTP status the Credential Service answers.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DcpError {
    /// Not a well-formed message of the expected type (context, type or field shapes).
    #[error("malformed DCP message: {0}")]
    Malformed(String),
    /// A query carries both `scope` and `presentationDefinition`; DCP allows exactly one.
    #[error("a presentation query must carry either scope or presentationDefinition, not both")]
    BothScopeAndDefinition,
    /// A query uses a Presentation Exchange `presentationDefinition`, which this implementation does not support.
    #[error("presentationDefinition queries are not supported; use scope")]
    DefinitionNotSupported,
    /// A query's `scope` array is empty.
    #[error("scope must name at least one credential")]
    EmptyScope,
    /// A response carries no presentation (the schema allows it, the DCP TCK demands refusing it).
    #[error("the presentation response carries no presentation")]
    EmptyPresentation,
    /// A scope string does not follow `alias:discriminator[:read|write|*]`.
    #[error("bad scope {0:?}: expected alias:type[:read|write|*]")]
    BadScope(String),
}

impl DcpError {
    /// The HTTP status for this refusal: 501 Not Implemented for an unsupported presentation definition (DCP says
    /// so), 400 Bad Request for the rest.
    pub fn status(&self) -> u16 {
        match self {
            DcpError::DefinitionNotSupported => 501,
            _ => 400,
        }
    }
}
