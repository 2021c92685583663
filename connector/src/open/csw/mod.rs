//! CSW 2.0.2 at `/csw`: the open catalogue for INSPIRE-era and legacy geo portals (OWSLib, QGIS MetaSearch,
//! GeoNetwork harvesters). GET with key-value pairs and POST with an XML body; GetCapabilities, DescribeRecord,
//! GetRecords (results or hits, paging, brief/summary/full Dublin Core, OGC Filter 1.1 or CQL constraints,
//! sorting by identifier or modification) and GetRecordById. Read-only: the transactional and harvesting
//! operations answer `OperationNotSupported`. Every error is an OWS exception report.

mod capabilities;
mod cql;
mod crs;
mod dom;
mod dublin_core;
mod exception;
mod filter;
mod filter_xml;
mod kvp;
mod like;
mod post;
mod request;
mod responses;
mod search;
mod write;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::CSW_PATH;
use crate::catalogue::public::OpenCatalogue;
use exception::CswError;
use request::Request;

pub const CSW: &str = "http://www.opengis.net/cat/csw/2.0.2";
pub const OWS: &str = "http://www.opengis.net/ows";
pub const OGC: &str = "http://www.opengis.net/ogc";
pub const GML: &str = "http://www.opengis.net/gml";
pub const DC: &str = "http://purl.org/dc/elements/1.1/";
pub const DCT: &str = "http://purl.org/dc/terms/";
pub const XLINK: &str = "http://www.w3.org/1999/xlink";
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

const XML_MEDIA: &str = "application/xml; charset=utf-8";
/// The largest POST body read. A GetRecords with a generous filter is a few kilobytes.
const MAX_BODY: usize = 64 * 1024;

pub fn routes() -> Router<OpenCatalogue> {
    Router::new().route(CSW_PATH, get(kvp_request).post(xml_request))
}

async fn kvp_request(State(open): State<OpenCatalogue>, RawQuery(raw): RawQuery) -> Response {
    respond(&open, kvp::parse(raw.as_deref().unwrap_or(""))).await
}

async fn xml_request(
    State(open): State<OpenCatalogue>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = match read_body(&headers, body).await {
        Ok(text) => post::parse(&text),
        Err(e) => Err(e),
    };
    respond(&open, request).await
}

/// The body as UTF-8 XML text, at most [`MAX_BODY`] bytes.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<String, CswError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let essence = ct
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let xml =
            essence == "text/xml" || essence == "application/xml" || essence.ends_with("+xml");
        if !xml {
            return Err(CswError::invalid(
                "Content-Type",
                format!("a POST request is an XML document (text/xml or application/xml), not {essence:?}"),
            ));
        }
    }
    let too_large = || CswError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "NoApplicableCode",
        locator: None,
        text: format!("the request body is larger than {MAX_BODY} bytes"),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        let limit = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if limit {
            too_large()
        } else {
            CswError::invalid(
                "request",
                format!("the request body could not be read: {e}"),
            )
        }
    })?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| CswError::invalid("request", "the request body is not UTF-8"))
}

async fn respond(open: &OpenCatalogue, request: Result<Request, CswError>) -> Response {
    let answer = match request {
        Ok(r) => answer(open, r).await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(body) => ([(header::CONTENT_TYPE, XML_MEDIA)], body).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn answer(open: &OpenCatalogue, request: Request) -> Result<Vec<u8>, CswError> {
    let public_url = open.public_url();
    let written = match request {
        Request::GetCapabilities => {
            let index = open.index().await?;
            let endpoint = format!("{public_url}{CSW_PATH}");
            capabilities::document(open.info(), &endpoint, &index.update_sequence)
        }
        Request::DescribeRecord => responses::describe_record(),
        Request::GetRecords(q) => {
            let found = search::get_records(open, &q).await?;
            responses::get_records(&found, &q, public_url)
        }
        Request::GetRecordById(q) => {
            let records = search::by_ids(open, &q.ids).await?;
            responses::get_record_by_id(&records, q.element_set, public_url)
        }
    };
    written.map_err(CswError::internal)
}
