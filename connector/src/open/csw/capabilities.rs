//! The CSW 2.0.2 capabilities document. OWSLib sends every later request to the URL each operation advertises
//! here, not to the URL it was given, so every `xlink:href` is the connector's public CSW URL (never one derived
//! from the request). It lists only what the service does: four operations, Dublin Core output, the filter
//! operators and queryables [`super::filter`] answers.

use std::io;

use super::filter::QUERYABLES;
use super::request::{DEFAULT_MAX_RECORDS, VERSION};
use super::write::Xml;
use super::{CSW, DC, DCT, GML, OGC, OWS, XLINK, XSI};
use crate::config::CatalogueInfo;

/// The capabilities of the CSW at `endpoint`; `update_sequence` changes whenever the catalogue does.
pub fn document(info: &CatalogueInfo, endpoint: &str, sequence: &str) -> io::Result<Vec<u8>> {
    let mut x = Xml::new()?;
    x.start(
        "csw:Capabilities",
        &[
            ("xmlns:csw", CSW),
            ("xmlns:dc", DC),
            ("xmlns:dct", DCT),
            ("xmlns:gml", GML),
            ("xmlns:ogc", OGC),
            ("xmlns:ows", OWS),
            ("xmlns:xlink", XLINK),
            ("xmlns:xsi", XSI),
            ("version", VERSION),
            ("updateSequence", sequence),
            (
                "xsi:schemaLocation",
                "http://www.opengis.net/cat/csw/2.0.2 http://schemas.opengis.net/csw/2.0.2/CSW-discovery.xsd",
            ),
        ],
    )?;
    identification(&mut x, info)?;
    provider(&mut x, info)?;
    operations(&mut x, endpoint)?;
    filter_capabilities(&mut x)?;
    x.end("csw:Capabilities")?;
    Ok(x.finish())
}

fn identification(x: &mut Xml, info: &CatalogueInfo) -> io::Result<()> {
    x.start("ows:ServiceIdentification", &[])?;
    x.text_element("ows:Title", &[], &info.title)?;
    if let Some(d) = &info.description {
        x.text_element("ows:Abstract", &[], d)?;
    }
    x.start("ows:Keywords", &[])?;
    x.text_elements(
        "ows:Keyword",
        ["catalogue", "discovery", "local digital twin"],
    )?;
    x.end("ows:Keywords")?;
    x.text_element("ows:ServiceType", &[("codeSpace", "OGC")], "CSW")?;
    x.text_element("ows:ServiceTypeVersion", &[], VERSION)?;
    x.text_element("ows:Fees", &[], "none")?;
    x.text_element(
        "ows:AccessConstraints",
        &[],
        "none for the metadata; the data of each resource is shared under a contract (Dataspace Protocol)",
    )?;
    x.end("ows:ServiceIdentification")
}

fn provider(x: &mut Xml, info: &CatalogueInfo) -> io::Result<()> {
    x.start("ows:ServiceProvider", &[])?;
    x.text_element("ows:ProviderName", &[], &info.publisher_name)?;
    let site = info.homepage.as_deref().unwrap_or(&info.publisher_id);
    x.empty(
        "ows:ProviderSite",
        &[("xlink:type", "simple"), ("xlink:href", site)],
    )?;
    x.start("ows:ServiceContact", &[])?;
    if let Some(cp) = &info.contact_point {
        x.text_element("ows:IndividualName", &[], &cp.name)?;
        x.start("ows:ContactInfo", &[])?;
        if let Some(email) = &cp.email {
            x.start("ows:Address", &[])?;
            x.text_element("ows:ElectronicMailAddress", &[], email)?;
            x.end("ows:Address")?;
        }
        if let Some(url) = &cp.url {
            x.empty(
                "ows:OnlineResource",
                &[("xlink:type", "simple"), ("xlink:href", url)],
            )?;
        }
        x.end("ows:ContactInfo")?;
    }
    x.text_element(
        "ows:Role",
        &[("codeSpace", "ISOTC211/19115")],
        "pointOfContact",
    )?;
    x.end("ows:ServiceContact")?;
    x.end("ows:ServiceProvider")
}

fn parameter<'a>(
    x: &mut Xml,
    element: &str,
    name: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> io::Result<()> {
    x.start(element, &[("name", name)])?;
    x.text_elements("ows:Value", values)?;
    x.end(element)
}

fn operations(x: &mut Xml, endpoint: &str) -> io::Result<()> {
    const SCHEMA_LANGUAGE: &str = "http://www.w3.org/XML/Schema";
    let formats = ["application/xml"];
    x.start("ows:OperationsMetadata", &[])?;
    for op in [
        "GetCapabilities",
        "DescribeRecord",
        "GetRecords",
        "GetRecordById",
    ] {
        x.start("ows:Operation", &[("name", op)])?;
        x.start("ows:DCP", &[])?;
        x.start("ows:HTTP", &[])?;
        x.empty(
            "ows:Get",
            &[("xlink:type", "simple"), ("xlink:href", endpoint)],
        )?;
        x.empty(
            "ows:Post",
            &[("xlink:type", "simple"), ("xlink:href", endpoint)],
        )?;
        x.end("ows:HTTP")?;
        x.end("ows:DCP")?;
        match op {
            "GetCapabilities" => {
                parameter(x, "ows:Parameter", "sections", ["All"])?;
            }
            "DescribeRecord" => {
                parameter(x, "ows:Parameter", "outputFormat", formats)?;
                parameter(x, "ows:Parameter", "schemaLanguage", [SCHEMA_LANGUAGE])?;
                parameter(x, "ows:Parameter", "typeName", ["csw:Record"])?;
            }
            "GetRecords" => {
                parameter(
                    x,
                    "ows:Parameter",
                    "CONSTRAINTLANGUAGE",
                    ["CQL_TEXT", "FILTER"],
                )?;
                parameter(
                    x,
                    "ows:Parameter",
                    "ElementSetName",
                    ["brief", "full", "summary"],
                )?;
                parameter(x, "ows:Parameter", "outputFormat", formats)?;
                parameter(x, "ows:Parameter", "outputSchema", [CSW])?;
                parameter(x, "ows:Parameter", "resultType", ["hits", "results"])?;
                parameter(x, "ows:Parameter", "typeNames", ["csw:Record"])?;
                parameter(
                    x,
                    "ows:Constraint",
                    "SupportedDublinCoreQueryables",
                    QUERYABLES,
                )?;
                parameter(
                    x,
                    "ows:Constraint",
                    "SupportedSortProperties",
                    ["dc:identifier", "dct:modified"],
                )?;
            }
            _ => {
                parameter(
                    x,
                    "ows:Parameter",
                    "ElementSetName",
                    ["brief", "full", "summary"],
                )?;
                parameter(x, "ows:Parameter", "outputFormat", formats)?;
                parameter(x, "ows:Parameter", "outputSchema", [CSW])?;
            }
        }
        x.end("ows:Operation")?;
    }
    parameter(x, "ows:Parameter", "service", ["CSW"])?;
    parameter(x, "ows:Parameter", "version", [VERSION])?;
    parameter(
        x,
        "ows:Constraint",
        "MaxRecordDefault",
        [DEFAULT_MAX_RECORDS.to_string().as_str()],
    )?;
    parameter(
        x,
        "ows:Constraint",
        "MaxRecordLimit",
        [super::request::MAX_RECORDS_LIMIT.to_string().as_str()],
    )?;
    parameter(x, "ows:Constraint", "PostEncoding", ["XML"])?;
    x.end("ows:OperationsMetadata")
}

fn filter_capabilities(x: &mut Xml) -> io::Result<()> {
    x.start("ogc:Filter_Capabilities", &[])?;
    x.start("ogc:Spatial_Capabilities", &[])?;
    x.start("ogc:GeometryOperands", &[])?;
    x.text_element("ogc:GeometryOperand", &[], "gml:Envelope")?;
    x.end("ogc:GeometryOperands")?;
    x.start("ogc:SpatialOperators", &[])?;
    x.empty("ogc:SpatialOperator", &[("name", "BBOX")])?;
    x.end("ogc:SpatialOperators")?;
    x.end("ogc:Spatial_Capabilities")?;
    x.start("ogc:Scalar_Capabilities", &[])?;
    x.empty("ogc:LogicalOperators", &[])?;
    x.start("ogc:ComparisonOperators", &[])?;
    x.text_elements(
        "ogc:ComparisonOperator",
        [
            "Between",
            "EqualTo",
            "GreaterThan",
            "GreaterThanEqualTo",
            "LessThan",
            "LessThanEqualTo",
            "Like",
            "NotEqualTo",
        ],
    )?;
    x.end("ogc:ComparisonOperators")?;
    x.end("ogc:Scalar_Capabilities")?;
    x.start("ogc:Id_Capabilities", &[])?;
    x.empty("ogc:EID", &[])?;
    x.empty("ogc:FID", &[])?;
    x.end("ogc:Id_Capabilities")?;
    x.end("ogc:Filter_Capabilities")
}
