//! CSW errors as OWS 1.0 exception reports (`ows:ExceptionReport version="1.2.0"`, an `exceptionCode` and a
//! `locator` naming the parameter). A client's mistake is always a 400 (an unknown or unsupported operation
//! included: CSW 2.0.2 fixes no status codes, and OWSLib raises on any 400 with the report's text); only a
//! failing store is a 500.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::write::Xml;
use super::{OWS, XML_MEDIA, XSI};
use crate::storage::StorageError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CswError {
    pub status: StatusCode,
    pub code: &'static str,
    pub locator: Option<String>,
    pub text: String,
}

impl CswError {
    fn client(code: &'static str, locator: &str, text: impl Into<String>) -> CswError {
        CswError {
            status: StatusCode::BAD_REQUEST,
            code,
            locator: (!locator.is_empty()).then(|| locator.to_string()),
            text: text.into(),
        }
    }

    /// A parameter has a value this service cannot use.
    pub fn invalid(locator: &str, text: impl Into<String>) -> CswError {
        CswError::client("InvalidParameterValue", locator, text)
    }

    /// A required parameter is missing.
    pub fn missing(locator: &str) -> CswError {
        CswError::client(
            "MissingParameterValue",
            locator,
            format!("the parameter {locator} is required"),
        )
    }

    /// A CSW operation this service does not offer.
    pub fn not_supported(operation: &str) -> CswError {
        CswError::client(
            "OperationNotSupported",
            operation,
            format!(
                "{operation} is not offered by this read-only catalogue; it answers GetCapabilities, DescribeRecord, GetRecords and GetRecordById"
            ),
        )
    }

    /// None of the versions the client accepts is served.
    pub fn version_negotiation(text: impl Into<String>) -> CswError {
        CswError::client("VersionNegotiationFailed", "AcceptVersions", text)
    }

    /// The response could not be written; cannot happen with an in-memory buffer, kept as an error, not a panic.
    pub fn internal(e: std::io::Error) -> CswError {
        tracing::error!(error = %e, "open catalogue: a CSW response could not be written");
        CswError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "NoApplicableCode",
            locator: None,
            text: "the response could not be written".into(),
        }
    }
}

impl From<StorageError> for CswError {
    fn from(e: StorageError) -> CswError {
        // The store's message may name tables or paths: logged, not sent to an anonymous client.
        tracing::error!(error = %e, "open catalogue: storage failed while answering a CSW request");
        CswError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "NoApplicableCode",
            locator: None,
            text: "the catalogue could not be read; try again later".into(),
        }
    }
}

impl CswError {
    fn report(&self) -> std::io::Result<Vec<u8>> {
        let mut x = Xml::new()?;
        x.start(
            "ows:ExceptionReport",
            &[
                ("xmlns:ows", OWS),
                ("xmlns:xsi", XSI),
                ("version", "1.2.0"),
                ("language", "en"),
                (
                    "xsi:schemaLocation",
                    "http://www.opengis.net/ows http://schemas.opengis.net/ows/1.0.0/owsExceptionReport.xsd",
                ),
            ],
        )?;
        let mut attrs = vec![("exceptionCode", self.code)];
        if let Some(l) = &self.locator {
            attrs.push(("locator", l.as_str()));
        }
        x.start("ows:Exception", &attrs)?;
        x.text_element("ows:ExceptionText", &[], &self.text)?;
        x.end("ows:Exception")?;
        x.end("ows:ExceptionReport")?;
        Ok(x.finish())
    }
}

impl IntoResponse for CswError {
    fn into_response(self) -> Response {
        match self.report() {
            Ok(body) => (self.status, [(header::CONTENT_TYPE, XML_MEDIA)], body).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}
