//! The EU Publications Office authority tables the open catalogue draws its values from (DCAT-AP and DCAT-AP-NL
//! require them): data themes, licences, update frequencies, access rights and languages. A resource may name an
//! entry by its code (`TRAN`, `CC_BY_4_0`, `daily`) or by its full IRI; what is published is always the IRI with the
//! entry's label, so a harvester never meets a concept without a name.

use std::sync::LazyLock;

pub const THEME_SCHEME: &str = "http://publications.europa.eu/resource/authority/data-theme";
pub const LICENCE_SCHEME: &str = "http://publications.europa.eu/resource/authority/licence";
pub const FREQUENCY_SCHEME: &str = "http://publications.europa.eu/resource/authority/frequency";
pub const ACCESS_RIGHT_SCHEME: &str =
    "http://publications.europa.eu/resource/authority/access-right";
pub const LANGUAGE_SCHEME: &str = "http://publications.europa.eu/resource/authority/language";
pub const FILE_TYPE_SCHEME: &str = "http://publications.europa.eu/resource/authority/file-type";

/// One entry of an authority table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub code: &'static str,
    pub label: &'static str,
}

/// An authority table: its scheme IRI and entries.
pub struct Table {
    pub scheme: &'static str,
    entries: Vec<Entry>,
}

impl Table {
    fn from_tsv(scheme: &'static str, text: &'static str) -> Table {
        let entries = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let (code, label) = l.split_once('\t')?;
                Some(Entry { code, label })
            })
            .collect();
        Table { scheme, entries }
    }

    /// The entry a code (any case) or a full IRI of this table names.
    pub fn find(&self, value: &str) -> Option<Entry> {
        let code = in_scheme(value, self.scheme).unwrap_or(value);
        self.entries
            .iter()
            .find(|e| e.code.eq_ignore_ascii_case(code))
            .copied()
    }

    pub fn iri(&self, entry: Entry) -> String {
        format!("{}/{}", self.scheme, entry.code)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

/// The code of an IRI in `scheme` (`http://publications.europa.eu/resource/authority/...`), also when written
/// with `https`, as the Publications Office's own pages show it and people paste it.
fn in_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let rest = value.strip_prefix(scheme).or_else(|| {
        let tail = scheme.strip_prefix("http://")?;
        value.strip_prefix("https://")?.strip_prefix(tail)
    })?;
    rest.strip_prefix('/')
}

pub static THEMES: LazyLock<Table> =
    LazyLock::new(|| Table::from_tsv(THEME_SCHEME, include_str!("../vocab/eu-data-themes.tsv")));
pub static LICENCES: LazyLock<Table> =
    LazyLock::new(|| Table::from_tsv(LICENCE_SCHEME, include_str!("../vocab/eu-licences.tsv")));
pub static FREQUENCIES: LazyLock<Table> = LazyLock::new(|| {
    Table::from_tsv(
        FREQUENCY_SCHEME,
        include_str!("../vocab/eu-frequencies.tsv"),
    )
});
/// DCAT-AP-NL allows only these three of the table's values.
pub static ACCESS_RIGHTS: LazyLock<Table> = LazyLock::new(|| {
    Table::from_tsv(
        ACCESS_RIGHT_SCHEME,
        "PUBLIC\tpublic\nRESTRICTED\trestricted\nNON_PUBLIC\tnon-public\n",
    )
});

/// EU language table codes (ISO 639-2/B style, upper case) for the ISO 639-1 codes a resource may use.
const LANGUAGES: &[(&str, &str, &str)] = &[
    ("bg", "BUL", "Bulgarian"),
    ("cs", "CES", "Czech"),
    ("da", "DAN", "Danish"),
    ("de", "DEU", "German"),
    ("el", "ELL", "Greek"),
    ("en", "ENG", "English"),
    ("es", "SPA", "Spanish"),
    ("et", "EST", "Estonian"),
    ("fi", "FIN", "Finnish"),
    ("fr", "FRA", "French"),
    ("fy", "FRY", "Western Frisian"),
    ("ga", "GLE", "Irish"),
    ("hr", "HRV", "Croatian"),
    ("hu", "HUN", "Hungarian"),
    ("is", "ISL", "Icelandic"),
    ("it", "ITA", "Italian"),
    ("lb", "LTZ", "Luxembourgish"),
    ("lt", "LIT", "Lithuanian"),
    ("lv", "LAV", "Latvian"),
    ("mt", "MLT", "Maltese"),
    ("nl", "NLD", "Dutch"),
    ("no", "NOR", "Norwegian"),
    ("pl", "POL", "Polish"),
    ("pt", "POR", "Portuguese"),
    ("ro", "RON", "Romanian"),
    ("sk", "SLK", "Slovak"),
    ("sl", "SLV", "Slovenian"),
    ("sv", "SWE", "Swedish"),
    ("tr", "TUR", "Turkish"),
    ("uk", "UKR", "Ukrainian"),
];

/// A language a resource is in: its ISO 639-1 code (what Records and CSW publish) and its EU table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    pub code: &'static str,
    pub eu_code: &'static str,
    pub label: &'static str,
}

impl Language {
    /// Reads `nl`, `NLD` or the EU table IRI.
    pub fn parse(value: &str) -> Option<Language> {
        let code = in_scheme(value, LANGUAGE_SCHEME).unwrap_or(value);
        LANGUAGES
            .iter()
            .find(|(two, three, _)| {
                two.eq_ignore_ascii_case(code) || three.eq_ignore_ascii_case(code)
            })
            .map(|&(code, eu_code, label)| Language {
                code,
                eu_code,
                label,
            })
    }

    pub fn iri(&self) -> String {
        format!("{LANGUAGE_SCHEME}/{}", self.eu_code)
    }

    pub fn known() -> String {
        LANGUAGES
            .iter()
            .map(|(c, _, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A licence a resource is published under: an EU licence table entry or an SPDX licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Licence {
    Eu(Entry),
    /// An SPDX licence id (`CC-BY-4.0`), published as `http://spdx.org/licenses/<id>`.
    Spdx(String),
}

impl Licence {
    /// Reads an EU table code or IRI, an SPDX licence IRI, or `spdx:<id>`.
    pub fn parse(value: &str) -> Option<Licence> {
        if let Some(entry) = LICENCES.find(value) {
            return Some(Licence::Eu(entry));
        }
        let id = value
            .strip_prefix("http://spdx.org/licenses/")
            .or_else(|| value.strip_prefix("https://spdx.org/licenses/"))
            .or_else(|| value.strip_prefix("spdx:"))?;
        let id = id.strip_suffix(".html").unwrap_or(id);
        let well_formed = !id.is_empty()
            && id.len() <= 64
            && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'));
        well_formed.then(|| Licence::Spdx(id.to_string()))
    }

    pub fn iri(&self) -> String {
        match self {
            Licence::Eu(e) => LICENCES.iri(*e),
            Licence::Spdx(id) => format!("http://spdx.org/licenses/{id}"),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Licence::Eu(e) => e.label.to_string(),
            Licence::Spdx(id) => id.clone(),
        }
    }

    /// The SPDX id OGC API Records wants in `license`, when there is one (an EU table entry has one when SPDX lists
    /// the same licence).
    pub fn spdx_id(&self) -> Option<&str> {
        match self {
            Licence::Spdx(id) => Some(id),
            Licence::Eu(e) => eu_to_spdx(e.code),
        }
    }
}

/// SPDX ids of the EU licence table entries cities use that SPDX lists too.
fn eu_to_spdx(code: &str) -> Option<&'static str> {
    Some(match code {
        "CC0" => "CC0-1.0",
        "CC_BY_4_0" => "CC-BY-4.0",
        "CC_BYSA_4_0" => "CC-BY-SA-4.0",
        "CC_BYNC_4_0" => "CC-BY-NC-4.0",
        "CC_BYND_4_0" => "CC-BY-ND-4.0",
        "CC_BYNCSA_4_0" => "CC-BY-NC-SA-4.0",
        "CC_BYNCND_4_0" => "CC-BY-NC-ND-4.0",
        "CC_BY_3_0" => "CC-BY-3.0",
        "CC_BY_3_0_NL" => "CC-BY-3.0-NL",
        "APACHE_2_0" => "Apache-2.0",
        "MIT" => "MIT",
        "EUPL_1_2" => "EUPL-1.2",
        "MPL_2_0" => "MPL-2.0",
        "ODC_BL" => "ODbL-1.0",
        "ODC_BY" => "ODC-By-1.0",
        "ODC_PDDL" => "PDDL-1.0",
        "OGL_3_0" => "OGL-UK-3.0",
        _ => return None,
    })
}

/// File types (EU file-type table) for the media types a distribution commonly has; `dct:format` beside
/// `dcat:mediaType`.
pub fn file_type(media_type: &str) -> Option<&'static str> {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    Some(match essence.to_ascii_lowercase().as_str() {
        "application/json" => "JSON",
        "application/ld+json" => "JSON_LD",
        "application/geo+json" | "application/vnd.geo+json" => "GEOJSON",
        "text/csv" => "CSV",
        "application/xml" | "text/xml" => "XML",
        "text/turtle" => "RDF_TURTLE",
        "application/rdf+xml" => "RDF_XML",
        "application/n-triples" => "RDF_N_TRIPLES",
        "application/pdf" => "PDF",
        "text/html" => "HTML",
        "text/plain" => "TXT",
        "application/zip" => "ZIP",
        "image/png" => "PNG",
        "image/jpeg" => "JPEG",
        "image/tiff" => "TIFF",
        "application/x-netcdf" | "application/netcdf" => "NETCDF",
        "application/vnd.ogc.gml+xml" | "application/gml+xml" => "GML",
        "model/gltf+json" | "model/gltf-binary" => "GLTF",
        "application/vnd.google-earth.kml+xml" => "KML",
        "application/geopackage+sqlite3" => "GPKG",
        "application/x-parquet" | "application/vnd.apache.parquet" => "PARQUET",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_iris_name_the_same_entry() {
        let by_code = THEMES.find("tran").unwrap();
        let by_iri = THEMES.find(&format!("{THEME_SCHEME}/TRAN")).unwrap();
        assert_eq!(by_code, by_iri);
        assert_eq!(by_code.label, "Transport");
        assert_eq!(THEMES.entries().len(), 13);
        assert!(THEMES.find("http://example.org/TRAN").is_none());
        assert_eq!(
            THEMES.find("https://publications.europa.eu/resource/authority/data-theme/TRAN"),
            Some(by_code)
        );
        assert_eq!(
            FREQUENCIES.iri(FREQUENCIES.find("daily").unwrap()),
            format!("{FREQUENCY_SCHEME}/DAILY")
        );
        assert!(ACCESS_RIGHTS.find("SENSITIVE").is_none());
    }

    #[test]
    fn licences_are_eu_entries_or_spdx_ids() {
        let cc = Licence::parse("CC_BY_4_0").unwrap();
        assert_eq!(cc.iri(), format!("{LICENCE_SCHEME}/CC_BY_4_0"));
        assert_eq!(cc.spdx_id(), Some("CC-BY-4.0"));
        assert_eq!(Licence::parse("CC_BYSA_3_0_NL").unwrap().spdx_id(), None);
        let spdx = Licence::parse("https://spdx.org/licenses/CC-BY-4.0").unwrap();
        assert_eq!(spdx.iri(), "http://spdx.org/licenses/CC-BY-4.0");
        assert_eq!(spdx.spdx_id(), Some("CC-BY-4.0"));
        assert!(Licence::parse("free for all").is_none());
        assert!(Licence::parse("spdx:").is_none());
    }

    #[test]
    fn languages_read_two_and_three_letter_codes() {
        let nl = Language::parse("nl").unwrap();
        assert_eq!(nl.iri(), format!("{LANGUAGE_SCHEME}/NLD"));
        assert_eq!(Language::parse("ENG").unwrap().code, "en");
        assert!(Language::parse("xx").is_none());
    }
}
