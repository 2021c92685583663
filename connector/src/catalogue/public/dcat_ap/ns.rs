//! The namespaces of the DCAT-AP graph, and the prefixes its serialisations declare.

pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
pub const RDFS_RESOURCE: &str = "http://www.w3.org/2000/01/rdf-schema#Resource";
pub const DCAT: &str = "http://www.w3.org/ns/dcat#";
pub const DCT: &str = "http://purl.org/dc/terms/";
pub const FOAF: &str = "http://xmlns.com/foaf/0.1/";
pub const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
pub const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
pub const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
pub const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
pub const PROV: &str = "http://www.w3.org/ns/prov#";
/// MLDCAT-AP (machine-learning models).
pub const IT6: &str = "http://data.europa.eu/it6/";
pub const GSP: &str = "http://www.opengis.net/ont/geosparql#";
pub const DCATAP: &str = "http://data.europa.eu/r5r/";

/// Prefix → namespace, for Turtle, RDF/XML and JSON-LD output.
pub const PREFIXES: &[(&str, &str)] = &[
    ("dcat", DCAT),
    ("dct", DCT),
    ("foaf", FOAF),
    ("skos", SKOS),
    ("vcard", VCARD),
    ("hydra", HYDRA),
    ("xsd", XSD),
    ("prov", PROV),
    ("gsp", GSP),
    ("dcatap", DCATAP),
    ("it6", IT6),
];

/// The Dataspace Protocol 2025-1 specification, which the connector's own data service conforms to.
pub const DSP_SPEC: &str =
    "https://eclipse-dataspace-protocol-base.github.io/DataspaceProtocol/2025-1/";
/// Where IANA registers a media type; DCAT-AP's `dcat:mediaType` values are these IRIs.
pub const IANA_MEDIA_TYPES: &str = "https://www.iana.org/assignments/media-types/";
/// The ADMS publisher type of a city (`dct:type` of the publisher).
pub const LOCAL_AUTHORITY: &str = "http://purl.org/adms/publishertype/LocalAuthority";
pub const PUBLISHER_TYPES: &str = "http://purl.org/adms/publishertype/1.0";
/// ADMS licence types (`dct:type` of a licence document).
pub const LICENCE_TYPES: &str = "http://purl.org/adms/licencetype";
pub const LICENCE_TYPE_SCHEME: &str = "http://purl.org/adms/licencetype/1.0";
pub const DCAT_AP_3: &str = "http://data.europa.eu/r5r/";
pub const DCAT_AP_NL_3: &str = "https://docs.geostandaarden.nl/dcat/dcat-ap-nl30/";
