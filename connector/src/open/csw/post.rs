//! CSW 2.0.2 POST requests (XML, as OWSLib's `getrecords2` and `describerecord` send them): the root element
//! names the operation, its attributes carry service, version and paging, `csw:Query` the type names, element
//! set, constraint (`ogc:Filter` or `csw:CqlText`) and sorting.

use super::dom::{self, Element};
use super::exception::CswError;
use super::kvp::check_schema_language;
use super::request::{
    self, ElementSet, GetRecordById, GetRecords, Operation, Request, ResultType, Sort,
};
use super::{cql, filter_xml, CSW};

/// The CSW 3.0 namespace: a request in it is answered with a version error, not "unknown operation".
const CSW30: &str = "http://www.opengis.net/cat/csw/3.0";

/// Reads a POST body.
pub fn parse(body: &str) -> Result<Request, CswError> {
    let root = dom::parse(body)?;
    if root.ns == CSW30 {
        return Err(CswError::invalid(
            "version",
            "CSW 3.0 is not served; this catalogue speaks CSW 2.0.2",
        ));
    }
    if root.ns != CSW {
        return Err(CswError::invalid(
            "request",
            format!(
                "{{{}}}{} is not a CSW 2.0.2 request (expected an element in {CSW})",
                root.ns, root.local
            ),
        ));
    }
    let op = request::operation(&root.local)?;
    request::check_service(root.attr("service"))?;
    if op == Operation::GetCapabilities {
        if let Some(accept) = root.child("AcceptVersions") {
            request::check_accept_versions(
                accept.children_named("Version").map(Element::trimmed_text),
            )?;
        }
        return Ok(Request::GetCapabilities);
    }
    request::check_version(root.attr("version"))?;
    if let Some(f) = root.attr("outputFormat") {
        request::check_output_format(f)?;
    }
    match op {
        Operation::GetCapabilities => Ok(Request::GetCapabilities),
        Operation::DescribeRecord => {
            for name in root.children_named("TypeName") {
                request::check_type_names(name.trimmed_text(), "TypeName")?;
            }
            if let Some(lang) = root.attr("schemaLanguage") {
                check_schema_language(lang)?;
            }
            Ok(Request::DescribeRecord)
        }
        Operation::GetRecordById => {
            if let Some(s) = root.attr("outputSchema") {
                request::check_output_schema(s)?;
            }
            let ids = request::ids(root.children_named("Id").map(Element::trimmed_text))?;
            let element_set = match root.child("ElementSetName") {
                Some(e) => ElementSet::parse(e.trimmed_text())?,
                None => ElementSet::Summary,
            };
            Ok(Request::GetRecordById(GetRecordById { ids, element_set }))
        }
        Operation::GetRecords => get_records(&root).map(Request::GetRecords),
    }
}

fn get_records(root: &Element) -> Result<GetRecords, CswError> {
    let mut q = GetRecords::default();
    if let Some(s) = root.attr("outputSchema") {
        request::check_output_schema(s)?;
    }
    if let Some(v) = root.attr("resultType") {
        q.result_type = ResultType::parse(v)?;
    }
    if let Some(v) = root.attr("startPosition") {
        q.start_position = request::start_position(v)?;
    }
    if let Some(v) = root.attr("maxRecords") {
        q.max_records = request::max_records(v)?;
    }
    q.request_id = root.attr("requestId").map(String::from);
    if root.child("ResponseHandler").is_some() {
        return Err(CswError::invalid(
            "ResponseHandler",
            "asynchronous responses are not supported",
        ));
    }
    let query = root
        .child("Query")
        .ok_or_else(|| CswError::missing("Query"))?;
    request::check_type_names(query.attr("typeNames").unwrap_or(""), "typeNames")?;
    if query.child("ElementName").is_some() {
        return Err(CswError::invalid(
            "ElementName",
            "ElementName is not supported; use ElementSetName brief, summary or full",
        ));
    }
    if let Some(e) = query.child("ElementSetName") {
        q.element_set = ElementSet::parse(e.trimmed_text())?;
    }
    if let Some(c) = query.child("Constraint") {
        q.filter = Some(match (c.child("Filter"), c.child("CqlText")) {
            (Some(f), None) => filter_xml::parse(f)?,
            (None, Some(text)) => cql::parse(text.trimmed_text())?,
            _ => {
                return Err(CswError::invalid(
                    "Constraint",
                    "csw:Constraint holds one ogc:Filter or one csw:CqlText",
                ))
            }
        });
    }
    if let Some(sort) = query.child("SortBy") {
        let props: Vec<&Element> = sort.children_named("SortProperty").collect();
        let [one] = props.as_slice() else {
            return Err(CswError::invalid(
                "SortBy",
                "sort by one ogc:SortProperty (dc:identifier or dct:modified)",
            ));
        };
        let name = one
            .child("PropertyName")
            .ok_or_else(|| CswError::missing("SortBy"))?;
        let descending = match one.child("SortOrder").map(Element::trimmed_text) {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(other) => {
                return Err(CswError::invalid(
                    "SortBy",
                    format!("{other:?} is not a sort order; use ASC or DESC"),
                ))
            }
        };
        q.sort = Some(Sort::parse(name.trimmed_text(), descending)?);
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::super::filter::Filter;
    use super::super::request::SortKey;
    use super::*;

    /// What OWSLib 0.35 `getrecords2(constraints=[PropertyIsLike(...), BBox(...)], esn="full", maxrecords=3,
    /// startposition=4)` posts (whitespace aside).
    const OWSLIB: &str = r#"<?xml version='1.0' encoding='utf-8'?>
<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc"
  xmlns:gml="http://www.opengis.net/gml" xmlns:ows="http://www.opengis.net/ows"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" outputSchema="http://www.opengis.net/cat/csw/2.0.2"
  outputFormat="application/xml" version="2.0.2" service="CSW" resultType="results" startPosition="4"
  maxRecords="3" xsi:schemaLocation="http://www.opengis.net/cat/csw/2.0.2 http://schemas.opengis.net/csw/2.0.2/CSW-discovery.xsd">
  <csw:Query typeNames="csw:Record">
    <csw:ElementSetName>full</csw:ElementSetName>
    <csw:Constraint version="1.1.0">
      <ogc:Filter><ogc:And>
        <ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\"><ogc:PropertyName>csw:AnyText</ogc:PropertyName><ogc:Literal>%flood%</ogc:Literal></ogc:PropertyIsLike>
        <ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>52.3 4.7</gml:lowerCorner><gml:upperCorner>52.5 5.1</gml:upperCorner></gml:Envelope></ogc:BBOX>
      </ogc:And></ogc:Filter>
    </csw:Constraint>
    <ogc:SortBy><ogc:SortProperty><ogc:PropertyName>dct:modified</ogc:PropertyName><ogc:SortOrder>DESC</ogc:SortOrder></ogc:SortProperty></ogc:SortBy>
  </csw:Query>
</csw:GetRecords>"#;

    #[test]
    fn owslib_get_records_is_read() {
        let Request::GetRecords(q) = parse(OWSLIB).unwrap() else {
            panic!("GetRecords")
        };
        assert_eq!((q.start_position, q.max_records), (4, 3));
        assert_eq!(q.element_set, ElementSet::Full);
        assert!(matches!(&q.filter, Some(Filter::And(parts)) if parts.len() == 2));
        assert_eq!(
            q.sort,
            Some(Sort {
                key: SortKey::Modified,
                descending: true
            })
        );
    }

    #[test]
    fn other_requests_are_read() {
        assert_eq!(
            parse(r#"<csw:GetCapabilities xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ows="http://www.opengis.net/ows" service="CSW"><ows:AcceptVersions><ows:Version>2.0.2</ows:Version></ows:AcceptVersions></csw:GetCapabilities>"#).unwrap(),
            Request::GetCapabilities
        );
        assert_eq!(
            parse(r#"<csw:DescribeRecord xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2" schemaLanguage="http://www.w3.org/XML/Schema"><csw:TypeName>csw:Record</csw:TypeName></csw:DescribeRecord>"#).unwrap(),
            Request::DescribeRecord
        );
        assert_eq!(
            parse(r#"<csw:GetRecordById xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"><csw:Id>urn:a</csw:Id><csw:ElementSetName>full</csw:ElementSetName></csw:GetRecordById>"#).unwrap(),
            Request::GetRecordById(GetRecordById { ids: vec!["urn:a".into()], element_set: ElementSet::Full })
        );
        let Request::GetRecords(q) = parse(r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"><csw:Query typeNames="csw:Record"><csw:Constraint version="1.1.0"><csw:CqlText>dc:title like '%flood%'</csw:CqlText></csw:Constraint></csw:Query></csw:GetRecords>"#).unwrap() else {
            panic!("GetRecords")
        };
        assert!(matches!(q.filter, Some(Filter::Like(..))));
    }

    #[test]
    fn mistakes_are_refused_with_their_locator() {
        for (xml, code, locator) in [
            ("<csw:GetRecords", "InvalidParameterValue", "request"),
            (
                r#"<GetRecords service="CSW" version="2.0.2"/>"#,
                "InvalidParameterValue",
                "request",
            ),
            (
                r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/3.0" service="CSW" version="3.0.0"/>"#,
                "InvalidParameterValue",
                "version",
            ),
            (
                r#"<csw:Harvest xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"/>"#,
                "OperationNotSupported",
                "Harvest",
            ),
            (
                r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"/>"#,
                "MissingParameterValue",
                "Query",
            ),
            (
                r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2" maxRecords="99999"><csw:Query typeNames="csw:Record"/></csw:GetRecords>"#,
                "InvalidParameterValue",
                "maxRecords",
            ),
            (
                r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"><csw:Query typeNames="gmd:MD_Metadata"/></csw:GetRecords>"#,
                "InvalidParameterValue",
                "typeNames",
            ),
            (
                r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2" outputSchema="http://www.isotc211.org/2005/gmd"><csw:Query typeNames="csw:Record"/></csw:GetRecords>"#,
                "InvalidParameterValue",
                "outputSchema",
            ),
            (
                r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"><csw:Query typeNames="csw:Record"><csw:ElementName>dc:title</csw:ElementName></csw:Query></csw:GetRecords>"#,
                "InvalidParameterValue",
                "ElementName",
            ),
            (
                r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"><csw:Query typeNames="csw:Record"><csw:Constraint/></csw:Query></csw:GetRecords>"#,
                "InvalidParameterValue",
                "Constraint",
            ),
        ] {
            let e = parse(xml).unwrap_err();
            assert_eq!(
                (e.code, e.locator.as_deref()),
                (code, Some(locator)),
                "{xml}: {}",
                e.text
            );
        }
    }
}
