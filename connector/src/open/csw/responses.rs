//! The CSW response documents: `csw:GetRecordsResponse` (search status and results with `nextRecord`, 0 on the
//! last page), `csw:GetRecordByIdResponse` wrapping the records (OWSLib looks for records inside it) and a minimal
//! `csw:DescribeRecordResponse` pointing at the official Dublin Core record schema.

use std::io;

use time::OffsetDateTime;

use super::dublin_core;
use super::request::{ElementSet, GetRecords, VERSION};
use super::search::Found;
use super::write::Xml;
use super::{CSW, DC, DCT, OWS, XSI};
use crate::catalogue::public::PublicRecord;

const DISCOVERY_SCHEMA: &str =
    "http://www.opengis.net/cat/csw/2.0.2 http://schemas.opengis.net/csw/2.0.2/CSW-discovery.xsd";

fn namespaces<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("xmlns:csw", CSW),
        ("xmlns:dc", DC),
        ("xmlns:dct", DCT),
        ("xmlns:ows", OWS),
        ("xmlns:xsi", XSI),
    ]
}

pub fn get_records(found: &Found, q: &GetRecords, public_url: &str) -> io::Result<Vec<u8>> {
    let mut x = Xml::new()?;
    let mut attrs = namespaces();
    attrs.push(("version", VERSION));
    attrs.push(("xsi:schemaLocation", DISCOVERY_SCHEMA));
    x.start("csw:GetRecordsResponse", &attrs)?;
    if let Some(id) = &q.request_id {
        x.text_element("csw:RequestId", &[], id)?;
    }
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    x.empty("csw:SearchStatus", &[("timestamp", &now)])?;
    let matched = found.matched.to_string();
    let returned = found.records.len().to_string();
    let next = found.next.to_string();
    x.start(
        "csw:SearchResults",
        &[
            ("numberOfRecordsMatched", &matched),
            ("numberOfRecordsReturned", &returned),
            ("nextRecord", &next),
            ("recordSchema", CSW),
            ("elementSet", q.element_set.as_str()),
        ],
    )?;
    for r in &found.records {
        dublin_core::write(&mut x, r, q.element_set, public_url)?;
    }
    x.end("csw:SearchResults")?;
    x.end("csw:GetRecordsResponse")?;
    Ok(x.finish())
}

pub fn get_record_by_id(
    records: &[PublicRecord],
    set: ElementSet,
    public_url: &str,
) -> io::Result<Vec<u8>> {
    let mut x = Xml::new()?;
    let mut attrs = namespaces();
    attrs.push(("xsi:schemaLocation", DISCOVERY_SCHEMA));
    x.start("csw:GetRecordByIdResponse", &attrs)?;
    for r in records {
        dublin_core::write(&mut x, r, set, public_url)?;
    }
    x.end("csw:GetRecordByIdResponse")?;
    Ok(x.finish())
}

pub fn describe_record() -> io::Result<Vec<u8>> {
    const XS: &str = "http://www.w3.org/2001/XMLSchema";
    let mut x = Xml::new()?;
    x.start(
        "csw:DescribeRecordResponse",
        &[
            ("xmlns:csw", CSW),
            ("xmlns:xsi", XSI),
            ("xsi:schemaLocation", DISCOVERY_SCHEMA),
        ],
    )?;
    x.start(
        "csw:SchemaComponent",
        &[("schemaLanguage", "XMLSCHEMA"), ("targetNamespace", CSW)],
    )?;
    x.start(
        "xs:schema",
        &[
            ("xmlns:xs", XS),
            ("targetNamespace", CSW),
            ("elementFormDefault", "qualified"),
            ("version", VERSION),
        ],
    )?;
    // The record types are the standard's own; this service adds none.
    x.empty(
        "xs:include",
        &[(
            "schemaLocation",
            "http://schemas.opengis.net/csw/2.0.2/record.xsd",
        )],
    )?;
    x.end("xs:schema")?;
    x.end("csw:SchemaComponent")?;
    x.end("csw:DescribeRecordResponse")?;
    Ok(x.finish())
}
