//! The open catalogue as a DCAT-AP 3 graph (valid DCAT-AP-NL 3 too): one page of discoverable records with the
//! catalogue, the connector's Dataspace Protocol data service and Hydra paging, as CKAN's DCAT harvester reads it.
//!
//! Every node an object points to is typed and labelled in the graph itself (licences, languages, frequencies,
//! themes, media types, agents, contact points): the SHACL shapes check classes on the data graph, and a harvester
//! that does not load the EU vocabularies still has a name to show. Datasets, templates, visualisation assets and
//! outputs are `dcat:Dataset`s; models and services are `dcat:DataService`s whose endpoint is this connector (their
//! backends are never published). Kind and stage are `dct:type` concepts of the vocabulary served at `/vocab/ldt`.

mod builder;
mod ns;
mod record;
mod write;

use oxrdf::Triple;

pub use write::{serialise, Syntax};

use self::builder::Builder;
use self::ns::*;
use super::record::{Concept, PublicRecord};
use super::Index;
use crate::authority::THEMES;
use crate::catalogue::resource::Publisher;
use crate::config::CatalogueInfo;

/// Which application profile the page is written for. The graph is the same; the profile the catalogue declares
/// (`dct:conformsTo`) and the language of our own labels differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    DcatAp3,
    DcatApNl3,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "dcat-ap" | "dcat-ap-3" | "euro_dcat_ap_3" => Some(Profile::DcatAp3),
            "dcat-ap-nl" | "dcat-ap-nl-3" => Some(Profile::DcatApNl3),
            _ => None,
        }
    }
}

/// Hydra paging of one page: absolute URLs.
pub struct Paging {
    pub this: String,
    pub first: String,
    pub last: String,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub total: usize,
    pub per_page: usize,
}

/// What one page of the catalogue is made of.
pub struct CatalogPage<'a> {
    pub info: &'a CatalogueInfo,
    /// Our root URL, no trailing slash.
    pub public_url: &'a str,
    pub records: &'a [PublicRecord],
    pub index: &'a Index,
    pub paging: Paging,
    pub profile: Profile,
}

/// The catalogue's IRI: stable across pages and formats.
pub fn catalog_iri(public_url: &str) -> String {
    format!("{public_url}/catalog")
}

/// The page as triples.
pub fn graph(page: &CatalogPage) -> Vec<Triple> {
    let mut g = Builder::default();
    let dsp_base = format!("{}{}", page.public_url, crate::paths::DSP_PATH);
    let catalog = g.named(&catalog_iri(page.public_url));
    let contact = page.info.contact_point.as_ref().map(|c| g.contact(c));
    let publisher = Publisher {
        id: page.info.publisher_id.clone(),
        name: page.info.publisher_name.clone(),
    };

    // Hydra paging on the page's own IRI, as ckanext-dcat writes and reads it (string literals, absolute URLs).
    let p = page.paging.this.clone();
    let this = g.named(&p);
    g.class(&this, &format!("{HYDRA}PagedCollection"));
    g.typed(
        &this,
        &format!("{HYDRA}totalItems"),
        &page.paging.total.to_string(),
        &format!("{XSD}integer"),
    );
    g.typed(
        &this,
        &format!("{HYDRA}itemsPerPage"),
        &page.paging.per_page.to_string(),
        &format!("{XSD}integer"),
    );
    for (name, deprecated, value) in [
        ("first", "firstPage", Some(&page.paging.first)),
        ("last", "lastPage", Some(&page.paging.last)),
        ("next", "nextPage", page.paging.next.as_ref()),
        ("previous", "previousPage", page.paging.previous.as_ref()),
    ] {
        if let Some(v) = value {
            g.text(&this, &format!("{HYDRA}{name}"), v);
            g.text(&this, &format!("{HYDRA}{deprecated}"), v);
        }
    }

    // The catalogue.
    g.class(&catalog, &format!("{DCAT}Catalog"));
    g.text(&catalog, &format!("{DCT}title"), &page.info.title);
    let description = page.info.description.clone().unwrap_or_else(|| {
        format!(
            "The resources of {}'s Local Digital Twin that partners can obtain under contract through its Twinport connector.",
            page.info.publisher_name
        )
    });
    g.text(&catalog, &format!("{DCT}description"), &description);
    let publisher_node = g.agent(&publisher);
    g.link(&catalog, &format!("{DCT}publisher"), &publisher_node);
    g.link(&catalog, &format!("{DCT}creator"), &publisher_node);
    if let Some(c) = &contact {
        g.link(&catalog, &format!("{DCAT}contactPoint"), c);
    }
    for l in &page.info.language {
        let node = g.language(l);
        g.link(&catalog, &format!("{DCT}language"), &node);
    }
    if let Some(l) = &page.info.license {
        let node = g.licence(l);
        g.link(&catalog, &format!("{DCT}license"), &node);
    }
    if let Some(hp) = &page.info.homepage {
        if let Some(node) = g.try_named(hp) {
            g.class(&node, &format!("{FOAF}Document"));
            g.link(&catalog, &format!("{FOAF}homepage"), &node);
        }
    }
    if let Some([w, s, e, n]) = page.index.extent {
        // The area the discoverable resources cover together.
        let place = g.box_location([w, s, e, n]);
        g.link(&catalog, &format!("{DCT}spatial"), &place);
    }
    if let Some(issued) = page.index.issued {
        g.date_time(&catalog, &format!("{DCT}issued"), issued);
    }
    if let Some(modified) = page.index.modified {
        g.date_time(&catalog, &format!("{DCT}modified"), modified);
    }
    let profile = match page.profile {
        Profile::DcatAp3 => DCAT_AP_3,
        Profile::DcatApNl3 => DCAT_AP_NL_3,
    };
    let profile_node = g.named(profile);
    g.class(&profile_node, &format!("{DCT}Standard"));
    g.link(&catalog, &format!("{DCT}conformsTo"), &profile_node);
    let ldt_scheme = g.ldt_scheme(page.public_url, page.profile);
    let themes_scheme = g.scheme(THEMES.scheme, "Data theme");
    g.link(&catalog, &format!("{DCAT}themeTaxonomy"), &themes_scheme);
    g.link(&catalog, &format!("{DCAT}themeTaxonomy"), &ldt_scheme);

    // The connector's own Dataspace Protocol endpoint: where every resource here is negotiated for.
    let dsp = g.named(&dsp_base);
    g.class(&dsp, &format!("{DCAT}DataService"));
    g.link(&catalog, &format!("{DCAT}service"), &dsp);
    g.text(
        &dsp,
        &format!("{DCT}title"),
        &format!("{} (Dataspace Protocol endpoint)", page.info.title),
    );
    g.text(
        &dsp,
        &format!("{DCT}description"),
        "The Dataspace Protocol 2025-1 endpoint of this city's Twinport connector: partner connectors request the catalogue, negotiate contracts and start transfers here.",
    );
    g.text(&dsp, &format!("{DCT}identifier"), &dsp_base);
    g.resource(&dsp, &format!("{DCAT}endpointURL"), &dsp);
    let described = g.named(&format!("{}/.well-known/dspace-version", page.public_url));
    g.resource(&dsp, &format!("{DCAT}endpointDescription"), &described);
    let spec = g.named(DSP_SPEC);
    g.class(&spec, &format!("{DCT}Standard"));
    g.link(&dsp, &format!("{DCT}conformsTo"), &spec);
    g.link(&dsp, &format!("{DCT}publisher"), &publisher_node);
    g.link(&dsp, &format!("{DCT}creator"), &publisher_node);
    g.text(&dsp, &format!("{DCAT}keyword"), "Dataspace Protocol");
    if let Some(c) = &contact {
        g.link(&dsp, &format!("{DCAT}contactPoint"), c);
    }
    for l in &page.info.language {
        let node = g.language(l);
        g.link(&dsp, &format!("{DCT}language"), &node);
    }
    if let Some(l) = &page.info.license {
        let node = g.licence(l);
        g.link(&dsp, &format!("{DCT}license"), &node);
    }
    let restricted = g.concept(
        &PublicRecord::restricted(),
        &format!("{DCT}RightsStatement"),
    );
    g.link(&dsp, &format!("{DCT}accessRights"), &restricted);
    // DCAT-AP-NL wants a theme on every data service: the themes of what it serves on this page, or "regions and
    // cities" for a page with none.
    let mut service_themes: Vec<Concept> = Vec::new();
    for t in page.records.iter().flat_map(|r| r.themes.iter()) {
        if !service_themes.iter().any(|s| s.iri == t.iri) {
            service_themes.push(t.clone());
        }
    }
    if service_themes.is_empty() {
        service_themes.push(PublicRecord::theme("REGI"));
    }
    for t in &service_themes {
        let node = g.theme(t, page.public_url, page.profile);
        g.link(&dsp, &format!("{DCAT}theme"), &node);
    }

    for r in page.records {
        let node = g.named(&r.id);
        g.record(r, &node, &dsp, page);
        if r.is_service() {
            g.link(&catalog, &format!("{DCAT}service"), &node);
        } else {
            g.link(&catalog, &format!("{DCAT}dataset"), &node);
            g.link(&dsp, &format!("{DCAT}servesDataset"), &node);
        }
    }
    g.triples
}

#[cfg(test)]
mod tests;
