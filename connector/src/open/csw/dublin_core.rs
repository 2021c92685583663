//! A [`PublicRecord`] as a CSW 2.0.2 Dublin Core record, in the three element sets: `csw:BriefRecord`
//! (identifier, title, type, box), `csw:SummaryRecord` (adds subjects, formats, relations, modified, abstract,
//! spatial, in the order `record.xsd` fixes) and `csw:Record` (everything DC and DCMI terms can say about it).
//! `dc:type` is the DCMI type (Service for a model or service, Dataset for the other kinds); the LDT kind and
//! dataset stage are `dc:subject`s in the scheme of the connector's LDT vocabulary. Boxes are latitude first in
//! `urn:x-ogc:def:crs:EPSG:6.11:4326`, as pycsw writes them and OWSLib reads them back.

use std::io;

use super::crs::RECORD_CRS;
use super::filter::dcmi_type;
use super::request::ElementSet;
use super::write::Xml;
use crate::catalogue::public::PublicRecord;

/// Writes `r` in element set `set`.
pub fn write(x: &mut Xml, r: &PublicRecord, set: ElementSet, public_url: &str) -> io::Result<()> {
    let root = match set {
        ElementSet::Brief => "csw:BriefRecord",
        ElementSet::Summary => "csw:SummaryRecord",
        ElementSet::Full => "csw:Record",
    };
    x.start(root, &[])?;
    x.text_element("dc:identifier", &[], &r.id)?;
    x.text_element("dc:title", &[], &r.title)?;
    x.text_element("dc:type", &[], dcmi_type(r.kind))?;
    if set != ElementSet::Brief {
        subjects(x, r, public_url)?;
        formats(x, r)?;
        x.text_elements("dc:relation", r.derived_from.iter().map(String::as_str))?;
        x.text_element("dct:modified", &[], &r.modified)?;
        if !r.description.is_empty() {
            x.text_element("dct:abstract", &[], &r.description)?;
        }
        if let Some(place) = &r.spatial {
            x.text_element("dct:spatial", &[], place)?;
        }
    }
    if set == ElementSet::Full {
        full(x, r)?;
    }
    if let Some([west, south, east, north]) = r.bbox {
        x.start(
            "ows:BoundingBox",
            &[("crs", RECORD_CRS), ("dimensions", "2")],
        )?;
        x.text_element("ows:LowerCorner", &[], &format!("{south} {west}"))?;
        x.text_element("ows:UpperCorner", &[], &format!("{north} {east}"))?;
        x.end("ows:BoundingBox")?;
    }
    x.end(root)
}

fn subjects(x: &mut Xml, r: &PublicRecord, public_url: &str) -> io::Result<()> {
    x.text_elements("dc:subject", r.keywords.iter().map(String::as_str))?;
    for t in &r.themes {
        match t.scheme {
            Some(scheme) => x.text_element("dc:subject", &[("scheme", scheme)], &t.label)?,
            None => x.text_element("dc:subject", &[], &t.label)?,
        }
    }
    let vocab = format!("{public_url}{}", crate::paths::VOCAB_PATH);
    x.text_element("dc:subject", &[("scheme", &vocab)], r.kind.as_str())?;
    if let Some(stage) = r.stage {
        x.text_element("dc:subject", &[("scheme", &vocab)], stage.as_str())?;
    }
    Ok(())
}

fn formats(x: &mut Xml, r: &PublicRecord) -> io::Result<()> {
    x.text_elements(
        "dc:format",
        r.distinct_formats()
            .into_iter()
            .map(|d| d.media_type.as_str()),
    )
}

/// What the full record adds to the summary.
fn full(x: &mut Xml, r: &PublicRecord) -> io::Result<()> {
    x.text_element("dc:date", &[], &r.issued)?;
    x.text_element("dct:issued", &[], &r.issued)?;
    x.text_element("dc:publisher", &[], &r.publisher.name)?;
    x.text_element("dc:creator", &[], &r.creator.name)?;
    x.text_elements("dc:language", r.language.iter().map(|l| l.code))?;
    let access = r.access_rights_concept();
    x.text_element("dc:rights", &[], &format!("access: {}", access.label))?;
    x.text_element("dct:accessRights", &[], &access.iri)?;
    if let Some(l) = &r.license {
        x.text_element("dct:license", &[], &l.iri())?;
    }
    if let Some(t) = &r.temporal {
        let open = |v: &Option<String>| v.clone().unwrap_or_else(|| "..".into());
        x.text_element(
            "dct:temporal",
            &[],
            &format!("{}/{}", open(&t.start), open(&t.end)),
        )?;
    }
    x.text_elements("dct:conformsTo", r.conforms_to.iter().map(String::as_str))?;
    if let Some(page) = &r.landing_page {
        x.text_element("dct:references", &[("scheme", "WWW:LINK")], page)?;
    }
    if let Some(d) = &r.endpoint_description {
        x.text_element("dct:references", &[("scheme", "WWW:LINK")], d)?;
    }
    Ok(())
}
