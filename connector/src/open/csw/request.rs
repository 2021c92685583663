//! A CSW 2.0.2 request as this service understands it, whichever encoding it came in (KVP or XML), and the
//! checks both encodings share: service and version, the operation name, type names, output schema and format,
//! element set, result type, paging and sorting. Only Dublin Core (`csw:Record`) output is served.

use super::exception::CswError;
use super::filter::Filter;
use super::CSW;

pub const VERSION: &str = "2.0.2";
/// Records per GetRecords response unless `maxRecords` says otherwise (advertised as `MaxRecordDefault`).
pub const DEFAULT_MAX_RECORDS: usize = 10;
/// The largest `maxRecords` served; more is refused so a client learns to page.
pub const MAX_RECORDS_LIMIT: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    GetCapabilities,
    DescribeRecord,
    GetRecords(GetRecords),
    GetRecordById(GetRecordById),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementSet {
    Brief,
    Summary,
    Full,
}

impl ElementSet {
    pub fn parse(v: &str) -> Result<ElementSet, CswError> {
        match v.trim() {
            "brief" => Ok(ElementSet::Brief),
            "summary" => Ok(ElementSet::Summary),
            "full" => Ok(ElementSet::Full),
            other => Err(CswError::invalid(
                "ElementSetName",
                format!("{other:?} is not an element set; use brief, summary or full"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ElementSet::Brief => "brief",
            ElementSet::Summary => "summary",
            ElementSet::Full => "full",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    Results,
    Hits,
}

impl ResultType {
    pub fn parse(v: &str) -> Result<ResultType, CswError> {
        match v.trim() {
            "results" => Ok(ResultType::Results),
            "hits" => Ok(ResultType::Hits),
            other => Err(CswError::invalid(
                "resultType",
                format!("{other:?} is not served; use results or hits"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Identifier,
    Modified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// A sort property (`dc:identifier`, `dct:modified`) and direction.
    pub fn parse(property: &str, descending: bool) -> Result<Sort, CswError> {
        let key = match property.trim().rsplit(':').next().unwrap_or("") {
            "identifier" => SortKey::Identifier,
            "modified" => SortKey::Modified,
            _ => {
                return Err(CswError::invalid(
                    "sortBy",
                    format!("cannot sort by {property:?}; sort by dc:identifier or dct:modified"),
                ))
            }
        };
        Ok(Sort { key, descending })
    }

    /// The KVP form `property:A|D`.
    pub fn parse_kvp(v: &str) -> Result<Sort, CswError> {
        if v.contains(',') {
            return Err(CswError::invalid(
                "sortBy",
                "sorting by more than one property is not supported",
            ));
        }
        let (property, descending) = match v.rsplit_once(':') {
            Some((p, "A")) => (p, false),
            Some((p, "D")) => (p, true),
            _ => (v, false),
        };
        Sort::parse(property, descending)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GetRecords {
    pub result_type: ResultType,
    /// 1-based.
    pub start_position: usize,
    pub max_records: usize,
    pub element_set: ElementSet,
    pub filter: Option<Filter>,
    pub sort: Option<Sort>,
    pub request_id: Option<String>,
}

impl Default for GetRecords {
    fn default() -> GetRecords {
        GetRecords {
            result_type: ResultType::Results,
            start_position: 1,
            max_records: DEFAULT_MAX_RECORDS,
            element_set: ElementSet::Summary,
            filter: None,
            sort: None,
            request_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GetRecordById {
    pub ids: Vec<String>,
    pub element_set: ElementSet,
}

/// The operations of CSW 2.0.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    GetCapabilities,
    DescribeRecord,
    GetRecords,
    GetRecordById,
}

/// The operation a request names; CSW operations this service does not offer get `OperationNotSupported`, any
/// other name `InvalidParameterValue`.
pub fn operation(name: &str) -> Result<Operation, CswError> {
    let name = name.trim();
    let known = [
        ("GetCapabilities", Some(Operation::GetCapabilities)),
        ("DescribeRecord", Some(Operation::DescribeRecord)),
        ("GetRecords", Some(Operation::GetRecords)),
        ("GetRecordById", Some(Operation::GetRecordById)),
        ("GetDomain", None),
        ("Harvest", None),
        ("Transaction", None),
        ("GetRepositoryItem", None),
    ];
    match known.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        Some((_, Some(op))) => Ok(*op),
        Some((n, None)) => Err(CswError::not_supported(n)),
        None => Err(CswError::invalid(
            "request",
            format!("{name:?} is not a CSW operation"),
        )),
    }
}

pub fn check_service(v: Option<&str>) -> Result<(), CswError> {
    match v.map(str::trim) {
        None | Some("") => Err(CswError::missing("service")),
        Some("CSW") => Ok(()),
        Some(other) => Err(CswError::invalid(
            "service",
            format!("{other:?} is not served here; service must be CSW"),
        )),
    }
}

/// `version` of a request other than GetCapabilities: required, and 2.0.2.
pub fn check_version(v: Option<&str>) -> Result<(), CswError> {
    match v.map(str::trim) {
        None | Some("") => Err(CswError::missing("version")),
        Some(VERSION) => Ok(()),
        Some(other) => Err(CswError::invalid(
            "version",
            format!("version {other:?} is not served; this catalogue speaks CSW 2.0.2"),
        )),
    }
}

/// GetCapabilities' `AcceptVersions`: when given, it must include 2.0.2.
pub fn check_accept_versions<'a>(
    mut versions: impl Iterator<Item = &'a str>,
) -> Result<(), CswError> {
    if versions.any(|v| v.trim() == VERSION) {
        Ok(())
    } else {
        Err(CswError::version_negotiation(
            "none of the accepted versions is served; this catalogue speaks CSW 2.0.2",
        ))
    }
}

/// `typeNames`: qualified names, each `csw:Record`.
pub fn check_type_names(v: &str, locator: &str) -> Result<(), CswError> {
    let names: Vec<&str> = v
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(CswError::missing(locator));
    }
    for name in names {
        let (prefix, local) = name.rsplit_once(':').unwrap_or(("csw", name));
        if local != "Record" || !(prefix == "csw" || prefix.is_empty() || prefix == CSW) {
            return Err(CswError::invalid(
                locator,
                format!("{name:?} is not served; the only record type is csw:Record (Dublin Core)"),
            ));
        }
    }
    Ok(())
}

pub fn check_output_schema(v: &str) -> Result<(), CswError> {
    if v.trim() == CSW {
        Ok(())
    } else {
        Err(CswError::invalid(
            "outputSchema",
            format!("{v:?} is not served; the only output schema is {CSW} (Dublin Core)"),
        ))
    }
}

pub fn check_output_format(v: &str) -> Result<(), CswError> {
    match v.trim() {
        "application/xml" | "text/xml" => Ok(()),
        other => Err(CswError::invalid(
            "outputFormat",
            format!("{other:?} is not served; use application/xml"),
        )),
    }
}

pub fn max_records(v: &str) -> Result<usize, CswError> {
    let n: usize = v.trim().parse().map_err(|_| {
        CswError::invalid("maxRecords", format!("{v:?} is not a non-negative integer"))
    })?;
    if n > MAX_RECORDS_LIMIT {
        return Err(CswError::invalid(
            "maxRecords",
            format!("{n} is more than {MAX_RECORDS_LIMIT}; page with startPosition and nextRecord"),
        ));
    }
    Ok(n)
}

pub fn start_position(v: &str) -> Result<usize, CswError> {
    match v.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(CswError::invalid(
            "startPosition",
            format!("{v:?} is not a positive integer (the first record is 1)"),
        )),
    }
}

/// GetRecordById's ids, comma-separated in KVP.
pub fn ids<'a>(values: impl Iterator<Item = &'a str>) -> Result<Vec<String>, CswError> {
    let ids: Vec<String> = values
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Err(CswError::missing("id"));
    }
    if ids.len() > MAX_RECORDS_LIMIT {
        return Err(CswError::invalid(
            "id",
            format!("at most {MAX_RECORDS_LIMIT} ids per request"),
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_known_unsupported_or_invalid() {
        assert_eq!(operation("GetRecords").unwrap(), Operation::GetRecords);
        assert_eq!(
            operation("getrecordbyid").unwrap(),
            Operation::GetRecordById
        );
        assert_eq!(
            operation("Transaction").unwrap_err().code,
            "OperationNotSupported"
        );
        let e = operation("GetCapabilitiese").unwrap_err();
        assert_eq!(
            (e.code, e.locator.as_deref()),
            ("InvalidParameterValue", Some("request"))
        );
    }

    #[test]
    fn values_are_checked() {
        assert!(check_type_names("csw:Record", "typeNames").is_ok());
        assert!(check_type_names("Record", "typeNames").is_ok());
        assert_eq!(
            check_type_names("gmd:MD_Metadata", "typeNames")
                .unwrap_err()
                .locator
                .as_deref(),
            Some("typeNames")
        );
        assert!(check_output_schema("http://www.isotc211.org/2005/gmd").is_err());
        assert!(check_output_schema(CSW).is_ok());
        assert_eq!(max_records("1000").unwrap(), 1000);
        assert_eq!(max_records("0").unwrap(), 0);
        assert!(max_records("1001").is_err());
        assert!(max_records("ten").is_err());
        assert!(start_position("0").is_err());
        assert_eq!(
            check_version(None).unwrap_err().code,
            "MissingParameterValue"
        );
        assert!(check_version(Some("3.0.0")).is_err());
        assert!(check_service(Some("WMS")).is_err());
        assert_eq!(
            check_accept_versions(["3.0.0", "1.0.0"].into_iter())
                .unwrap_err()
                .code,
            "VersionNegotiationFailed"
        );
        assert_eq!(
            Sort::parse_kvp("dct:modified:D").unwrap(),
            Sort {
                key: SortKey::Modified,
                descending: true
            }
        );
        assert!(Sort::parse_kvp("dc:title:A").is_err());
    }
}
