//! CSW 2.0.2 GET requests (key-value pairs). Parameter names are case-insensitive (OGC 06-121r3 §11.5.2); a
//! parameter given twice is refused; parameters this service has no use for (`namespace`, `sections`,
//! `distributedSearch`, vendor extras) are ignored, as OWS servers do. `constraint` is an OGC Filter
//! (`constraintLanguage=FILTER`) or CQL text (`CQL_TEXT`).

use std::collections::HashMap;

use super::exception::CswError;
use super::request::{
    self, ElementSet, GetRecordById, GetRecords, Operation, Request, ResultType, Sort,
};
use super::{cql, dom, filter_xml};

/// The parameters, by lower-cased name.
fn params(raw: &str) -> Result<HashMap<String, String>, CswError> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        let key = k.to_ascii_lowercase();
        if out.insert(key.clone(), v.into_owned()).is_some() {
            return Err(CswError::invalid(
                &key,
                format!("the parameter {key} is given more than once"),
            ));
        }
    }
    Ok(out)
}

/// Reads a GET request's query string.
pub fn parse(raw: &str) -> Result<Request, CswError> {
    let p = params(raw)?;
    let get = |k: &str| p.get(k).map(String::as_str);
    let op = request::operation(get("request").ok_or_else(|| CswError::missing("request"))?)?;
    request::check_service(get("service"))?;
    if op == Operation::GetCapabilities {
        if let Some(versions) = get("acceptversions") {
            request::check_accept_versions(versions.split(','))?;
        }
        // OWSLib sends `version` with GetCapabilities; when given it must be ours.
        if let Some(v) = get("version") {
            request::check_version(Some(v))?;
        }
        return Ok(Request::GetCapabilities);
    }
    request::check_version(get("version"))?;
    if let Some(f) = get("outputformat") {
        request::check_output_format(f)?;
    }
    match op {
        Operation::GetCapabilities => Ok(Request::GetCapabilities),
        Operation::DescribeRecord => {
            if let Some(names) = get("typename") {
                request::check_type_names(names, "typeName")?;
            }
            if let Some(lang) = get("schemalanguage") {
                check_schema_language(lang)?;
            }
            Ok(Request::DescribeRecord)
        }
        Operation::GetRecordById => {
            if let Some(s) = get("outputschema") {
                request::check_output_schema(s)?;
            }
            let ids = request::ids(get("id").ok_or_else(|| CswError::missing("id"))?.split(','))?;
            let element_set = match get("elementsetname") {
                Some(v) => ElementSet::parse(v)?,
                None => ElementSet::Summary,
            };
            Ok(Request::GetRecordById(GetRecordById { ids, element_set }))
        }
        Operation::GetRecords => get_records(&get).map(Request::GetRecords),
    }
}

pub fn check_schema_language(v: &str) -> Result<(), CswError> {
    match v.trim() {
        "XMLSCHEMA"
        | "http://www.w3.org/XML/Schema"
        | "http://www.w3.org/2001/XMLSchema"
        | "http://www.w3.org/TR/xmlschema-1/" => Ok(()),
        other => Err(CswError::invalid(
            "schemaLanguage",
            format!("{other:?} is not served; records are described in XML Schema"),
        )),
    }
}

fn get_records<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<GetRecords, CswError> {
    let mut q = GetRecords::default();
    if let Some(names) = get("typenames") {
        request::check_type_names(names, "typeNames")?;
    }
    if let Some(s) = get("outputschema") {
        request::check_output_schema(s)?;
    }
    if get("elementname").is_some() {
        return Err(CswError::invalid(
            "ElementName",
            "ElementName is not supported; use ElementSetName brief, summary or full",
        ));
    }
    if get("responsehandler").is_some() {
        return Err(CswError::invalid(
            "ResponseHandler",
            "asynchronous responses are not supported",
        ));
    }
    if let Some(v) = get("elementsetname") {
        q.element_set = ElementSet::parse(v)?;
    }
    if let Some(v) = get("resulttype") {
        q.result_type = ResultType::parse(v)?;
    }
    if let Some(v) = get("startposition") {
        q.start_position = request::start_position(v)?;
    }
    if let Some(v) = get("maxrecords") {
        q.max_records = request::max_records(v)?;
    }
    if let Some(v) = get("sortby") {
        q.sort = Some(Sort::parse_kvp(v)?);
    }
    q.request_id = get("requestid").map(String::from);
    if let Some(constraint) = get("constraint") {
        let language =
            get("constraintlanguage").ok_or_else(|| CswError::missing("constraintLanguage"))?;
        q.filter = Some(match language.trim().to_ascii_uppercase().as_str() {
            "FILTER" => {
                let xml =
                    dom::parse(constraint).map_err(|e| CswError::invalid("Constraint", e.text))?;
                filter_xml::parse(&xml)?
            }
            "CQL_TEXT" => cql::parse(constraint)?,
            other => {
                return Err(CswError::invalid(
                    "constraintLanguage",
                    format!("{other:?} is not supported; use FILTER or CQL_TEXT"),
                ))
            }
        });
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::super::filter::{Filter, Like, Property};
    use super::*;

    fn records(query: &str) -> GetRecords {
        match parse(query).unwrap() {
            Request::GetRecords(q) => q,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn owslib_and_pycsw_requests_are_read() {
        assert_eq!(
            parse("service=CSW&version=2.0.2&request=GetCapabilities").unwrap(),
            Request::GetCapabilities
        );
        assert_eq!(
            parse("SERVICE=CSW&REQUEST=GetCapabilities&AcceptVersions=2.0.2,3.0.0").unwrap(),
            Request::GetCapabilities
        );
        let q = records(
            "service=CSW&version=2.0.2&request=GetRecords&typenames=csw:Record&elementsetname=full&resulttype=results&constraintlanguage=CQL_TEXT&constraint=dc%3Atitle%20like%20%27%25lor%25%27&startposition=3&maxrecords=2",
        );
        assert_eq!(q.element_set, ElementSet::Full);
        assert_eq!((q.start_position, q.max_records), (3, 2));
        assert_eq!(
            q.filter,
            Some(Filter::Like(
                Property::Title,
                Like::parse("%lor%", '%', '_', Some('\\')).unwrap()
            ))
        );
        let q = records("service=CSW&version=2.0.2&request=GetRecords&typenames=csw:Record&constraintlanguage=FILTER&constraint=%3Cogc%3AFilter%20xmlns%3Aogc%3D%22http%3A%2F%2Fwww.opengis.net%2Fogc%22%3E%3Cogc%3APropertyIsEqualTo%3E%3Cogc%3APropertyName%3Edc%3Atitle%3C%2Fogc%3APropertyName%3E%3Cogc%3ALiteral%3ELorem%20ipsum%3C%2Fogc%3ALiteral%3E%3C%2Fogc%3APropertyIsEqualTo%3E%3C%2Fogc%3AFilter%3E");
        assert_eq!(
            q.filter,
            Some(Filter::Equal(Property::Title, "lorem ipsum".into()))
        );
        assert_eq!(q.element_set, ElementSet::Summary);
        assert_eq!(
            parse("service=CSW&version=2.0.2&request=GetRecordById&id=urn:a,urn:b&elementsetname=brief&outputSchema=http://www.opengis.net/cat/csw/2.0.2&outputFormat=application/xml").unwrap(),
            Request::GetRecordById(GetRecordById {
                ids: vec!["urn:a".into(), "urn:b".into()],
                element_set: ElementSet::Brief
            })
        );
    }

    #[test]
    fn mistakes_name_their_parameter() {
        for (query, code, locator) in [
            ("", "MissingParameterValue", "request"),
            ("request=GetCapabilities", "MissingParameterValue", "service"),
            ("service=WMS&request=GetCapabilities", "InvalidParameterValue", "service"),
            ("service=CSW&request=GetCapabilitiese", "InvalidParameterValue", "request"),
            ("service=CSW&request=Transaction&version=2.0.2", "OperationNotSupported", "Transaction"),
            ("service=CSW&request=GetRecords", "MissingParameterValue", "version"),
            ("service=CSW&request=GetRecords&version=3.0.0", "InvalidParameterValue", "version"),
            ("service=CSW&request=GetCapabilities&version=3.0.0", "InvalidParameterValue", "version"),
            ("service=CSW&request=GetCapabilities&acceptversions=3.0.0", "VersionNegotiationFailed", "AcceptVersions"),
            ("service=CSW&version=2.0.2&request=GetRecords&maxrecords=5000", "InvalidParameterValue", "maxRecords"),
            ("service=CSW&version=2.0.2&request=GetRecords&maxrecords=", "InvalidParameterValue", "maxRecords"),
            ("service=CSW&version=2.0.2&request=GetRecords&typenames=gmd:MD_Metadata", "InvalidParameterValue", "typeNames"),
            ("service=CSW&version=2.0.2&request=GetRecords&outputschema=http://www.isotc211.org/2005/gmd", "InvalidParameterValue", "outputSchema"),
            ("service=CSW&version=2.0.2&request=GetRecords&elementsetname=everything", "InvalidParameterValue", "ElementSetName"),
            ("service=CSW&version=2.0.2&request=GetRecords&resulttype=validate", "InvalidParameterValue", "resultType"),
            ("service=CSW&version=2.0.2&request=GetRecords&constraint=x", "MissingParameterValue", "constraintLanguage"),
            ("service=CSW&version=2.0.2&request=GetRecords&constraint=x&constraintlanguage=SQL", "InvalidParameterValue", "constraintLanguage"),
            ("service=CSW&version=2.0.2&request=GetRecords&constraint=%3Cogc:Filter&constraintlanguage=FILTER", "InvalidParameterValue", "Constraint"),
            ("service=CSW&version=2.0.2&request=GetRecordById", "MissingParameterValue", "id"),
            ("service=CSW&version=2.0.2&request=GetRecords&request=GetRecords", "InvalidParameterValue", "request"),
            ("service=CSW&version=2.0.2&request=DescribeRecord&typename=gmd:MD_Metadata", "InvalidParameterValue", "typeName"),
        ] {
            let e = parse(query).unwrap_err();
            assert_eq!((e.code, e.locator.as_deref()), (code, Some(locator)), "{query}: {}", e.text);
        }
    }
}
