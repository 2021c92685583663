//! The open catalogue as a DCAT-AP 3 graph (valid DCAT-AP-NL 3 too): one page of discoverable records with the
//! catalogue, the connector's Dataspace Protocol data service and Hydra paging, as CKAN's DCAT harvester reads it.
//!
//! Every node an object points to is typed and labelled in the graph itself (licences, languages, frequencies,
//! themes, media types, agents, contact points): the SHACL shapes check classes on the data graph, and a harvester
//! that does not load the EU vocabularies still has a name to show. Datasets, templates, visualisation assets and
//! outputs are `dcat:Dataset`s; models and services are `dcat:DataService`s whose endpoint is this connector (their
//! backends are never published). Kind and stage are `dct:type` concepts of the vocabulary served at `/vocab/ldt`.

mod ns;
mod write;

use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode as Subject, Term, Triple};

pub use write::{serialise, Syntax};

use self::ns::*;
use super::record::{Concept, PublicRecord};
use super::Index;
use crate::authority::{Language, THEMES};
use crate::catalogue::kind::{DatasetStage, ResourceKind};
use crate::catalogue::metadata::ContactPoint;
use crate::catalogue::resource::{date_datatype, Publisher};
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
        let place: Subject = BlankNode::default().into();
        g.class(&place, &format!("{DCT}Location"));
        let wkt = format!("POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))");
        g.typed(
            &place,
            &format!("{DCAT}bbox"),
            &wkt,
            &format!("{GSP}wktLiteral"),
        );
        let centroid = format!("POINT({} {})", (w + e) / 2.0, (s + n) / 2.0);
        g.typed(
            &place,
            &format!("{DCAT}centroid"),
            &centroid,
            &format!("{GSP}wktLiteral"),
        );
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

/// Collects triples, typing each described node once.
#[derive(Default)]
struct Builder {
    triples: Vec<Triple>,
    typed: std::collections::HashSet<(String, String)>,
}

impl Builder {
    fn named(&self, iri: &str) -> Subject {
        match NamedNode::new(iri) {
            Ok(n) => n.into(),
            // Resource ids and configured URLs are validated IRIs; anything else becomes a blank node rather
            // than a malformed document.
            Err(_) => BlankNode::default().into(),
        }
    }

    fn try_named(&self, iri: &str) -> Option<Subject> {
        NamedNode::new(iri).ok().map(Into::into)
    }

    fn push(&mut self, s: &Subject, p: &str, o: Term) {
        self.triples
            .push(Triple::new(s.clone(), NamedNode::new_unchecked(p), o));
    }

    fn link(&mut self, s: &Subject, p: &str, o: &Subject) {
        let term: Term = match o {
            Subject::NamedNode(n) => n.clone().into(),
            Subject::BlankNode(b) => b.clone().into(),
        };
        self.push(s, p, term);
    }

    fn class(&mut self, s: &Subject, class: &str) {
        if self.typed.insert((s.to_string(), class.to_string())) {
            self.push(s, RDF_TYPE, NamedNode::new_unchecked(class).into());
        }
    }

    fn text(&mut self, s: &Subject, p: &str, value: &str) {
        self.push(s, p, Literal::new_simple_literal(value).into());
    }

    fn lang_text(&mut self, s: &Subject, p: &str, value: &str, lang: &str) {
        self.push(
            s,
            p,
            Literal::new_language_tagged_literal_unchecked(value, lang).into(),
        );
    }

    fn typed(&mut self, s: &Subject, p: &str, value: &str, datatype: &str) {
        self.push(
            s,
            p,
            Literal::new_typed_literal(value, NamedNode::new_unchecked(datatype)).into(),
        );
    }

    fn date_time(&mut self, s: &Subject, p: &str, t: time::OffsetDateTime) {
        let text = t
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        self.typed(s, p, &text, &format!("{XSD}dateTime"));
    }

    /// A date or date-time as the record holds it, with the datatype its form has.
    fn date(&mut self, s: &Subject, p: &str, value: &str) {
        let datatype = match date_datatype(value) {
            Some("xsd:date") => "date",
            _ => "dateTime",
        };
        self.typed(s, p, value, &format!("{XSD}{datatype}"));
    }

    /// A publisher or creator: a `foaf:Agent` with its name and type.
    fn agent(&mut self, a: &Publisher) -> Subject {
        let node = self.named(&a.id);
        if self.typed.insert((node.to_string(), "agent".into())) {
            self.class(&node, &format!("{FOAF}Agent"));
            self.text(&node, &format!("{FOAF}name"), &a.name);
            let kind = Concept {
                iri: LOCAL_AUTHORITY.into(),
                label: "Local Authority".into(),
                scheme: Some(PUBLISHER_TYPES),
            };
            let kind_node = self.concept(&kind, &format!("{SKOS}Concept"));
            self.link(&node, &format!("{DCT}type"), &kind_node);
        }
        node
    }

    fn contact(&mut self, c: &ContactPoint) -> Subject {
        let node: Subject = BlankNode::default().into();
        self.class(&node, &format!("{VCARD}Kind"));
        self.class(&node, &format!("{VCARD}Organization"));
        self.text(&node, &format!("{VCARD}fn"), &c.name);
        if let Some(email) = &c.email {
            if let Some(mail) = self.try_named(&format!("mailto:{email}")) {
                self.link(&node, &format!("{VCARD}hasEmail"), &mail);
            }
        }
        if let Some(url) = &c.url {
            if let Some(u) = self.try_named(url) {
                self.link(&node, &format!("{VCARD}hasURL"), &u);
            }
        }
        node
    }

    /// A concept node typed `class` (and `skos:Concept`), labelled.
    fn concept(&mut self, c: &Concept, class: &str) -> Subject {
        let node = self.named(&c.iri);
        if self
            .typed
            .insert((node.to_string(), format!("label {class}")))
        {
            self.class(&node, class);
            self.class(&node, &format!("{SKOS}Concept"));
            if !self.typed.contains(&(node.to_string(), "labelled".into())) {
                self.typed.insert((node.to_string(), "labelled".into()));
                self.lang_text(&node, &format!("{SKOS}prefLabel"), &c.label, "en");
            }
            if let Some(scheme) = c.scheme {
                let s = self.scheme(scheme, scheme.rsplit('/').next().unwrap_or(scheme));
                self.link(&node, &format!("{SKOS}inScheme"), &s);
            }
        }
        node
    }

    fn scheme(&mut self, iri: &str, title: &str) -> Subject {
        let node = self.named(iri);
        if self.typed.insert((node.to_string(), "scheme".into())) {
            self.class(&node, &format!("{SKOS}ConceptScheme"));
            self.lang_text(&node, &format!("{DCT}title"), title, "en");
        }
        node
    }

    fn ldt_scheme(&mut self, public_url: &str, profile: Profile) -> Subject {
        let iri = format!("{public_url}{}", crate::paths::VOCAB_PATH);
        let node = self.named(&iri);
        if self.typed.insert((node.to_string(), "scheme".into())) {
            self.class(&node, &format!("{SKOS}ConceptScheme"));
            let (title, lang) = match profile {
                Profile::DcatApNl3 => ("LDT-bronsoorten en datasetfasen (OASC MIM8)", "nl"),
                Profile::DcatAp3 => ("LDT resource kinds and dataset stages (OASC MIM8)", "en"),
            };
            self.lang_text(&node, &format!("{DCT}title"), title, lang);
        }
        node
    }

    /// A kind or stage concept of our vocabulary, labelled in the profile's language.
    fn ldt_concept(
        &mut self,
        name: &str,
        label: (&str, &str),
        public_url: &str,
        profile: Profile,
    ) -> Subject {
        let node = self.named(&crate::catalogue::kind::concept_iri(public_url, name));
        if self.typed.insert((node.to_string(), "ldt".into())) {
            self.class(&node, &format!("{SKOS}Concept"));
            self.lang_text(&node, &format!("{SKOS}prefLabel"), label.0, "en");
            if profile == Profile::DcatApNl3 {
                self.lang_text(&node, &format!("{SKOS}prefLabel"), label.1, "nl");
            }
            self.text(&node, &format!("{SKOS}notation"), name);
            let scheme = self.ldt_scheme(public_url, profile);
            self.link(&node, &format!("{SKOS}inScheme"), &scheme);
        }
        node
    }

    fn theme(&mut self, t: &Concept, public_url: &str, profile: Profile) -> Subject {
        let node = self.concept(t, &format!("{SKOS}Concept"));
        if t.scheme.is_none() {
            // A city's own theme: in no published scheme, so it is listed under the catalogue's own.
            let scheme = self.ldt_scheme(public_url, profile);
            if self.typed.insert((node.to_string(), "in ldt".into())) {
                self.link(&node, &format!("{SKOS}inScheme"), &scheme);
            }
        }
        node
    }

    fn language(&mut self, l: &Language) -> Subject {
        let node = self.named(&l.iri());
        if self.typed.insert((node.to_string(), "language".into())) {
            self.class(&node, &format!("{DCT}LinguisticSystem"));
            self.lang_text(&node, &format!("{SKOS}prefLabel"), l.label, "en");
        }
        node
    }

    fn licence(&mut self, l: &crate::authority::Licence) -> Subject {
        let node = self.named(&l.iri());
        if self.typed.insert((node.to_string(), "licence".into())) {
            self.class(&node, &format!("{DCT}LicenseDocument"));
            self.lang_text(&node, &format!("{DCT}title"), &l.label(), "en");
            if let Some((code, label)) = licence_type(l) {
                let concept = Concept {
                    iri: format!("{LICENCE_TYPES}/{code}"),
                    label: label.into(),
                    scheme: Some(LICENCE_TYPE_SCHEME),
                };
                let t = self.concept(&concept, &format!("{SKOS}Concept"));
                self.link(&node, &format!("{DCT}type"), &t);
            }
        }
        node
    }

    /// A node given as a plain web resource (`dcat:accessURL`, `dcat:endpointURL`): DCAT-AP's range shapes ask for
    /// the class `rdfs:Resource`, which only an explicit type gives without inference.
    fn resource(&mut self, s: &Subject, p: &str, o: &Subject) {
        self.class(o, RDFS_RESOURCE);
        self.link(s, p, o);
    }

    fn standard(&mut self, iri: &str) -> Subject {
        let node = self.named(iri);
        self.class(&node, &format!("{DCT}Standard"));
        node
    }

    fn record(&mut self, r: &PublicRecord, node: &Subject, dsp: &Subject, page: &CatalogPage) {
        let class = if r.is_service() {
            "DataService"
        } else {
            "Dataset"
        };
        self.class(node, &format!("{DCAT}{class}"));
        self.text(node, &format!("{DCT}title"), &r.title);
        self.text(node, &format!("{DCT}description"), &r.description);
        self.text(node, &format!("{DCT}identifier"), &r.id);
        let kind = kind_label(r.kind);
        let kind_node = self.ldt_concept(r.kind.as_str(), kind, page.public_url, page.profile);
        self.link(node, &format!("{DCT}type"), &kind_node);
        if let Some(stage) = r.stage {
            let stage_node = self.ldt_concept(
                stage.as_str(),
                stage_label(stage),
                page.public_url,
                page.profile,
            );
            self.link(node, &format!("{DCT}type"), &stage_node);
        }
        let publisher = self.agent(&r.publisher);
        self.link(node, &format!("{DCT}publisher"), &publisher);
        let creator = self.agent(&r.creator);
        self.link(node, &format!("{DCT}creator"), &creator);
        if let Some(c) = &r.contact_point {
            let cp = self.contact(c);
            self.link(node, &format!("{DCAT}contactPoint"), &cp);
        }
        for k in &r.keywords {
            self.text(node, &format!("{DCAT}keyword"), k);
        }
        for t in &r.themes {
            let theme = self.theme(t, page.public_url, page.profile);
            self.link(node, &format!("{DCAT}theme"), &theme);
        }
        for l in &r.language {
            let lang = self.language(l);
            self.link(node, &format!("{DCT}language"), &lang);
        }
        self.date_time(
            node,
            &format!("{DCT}issued"),
            super::index::parse_stamp(&r.issued),
        );
        self.date_time(
            node,
            &format!("{DCT}modified"),
            super::index::parse_stamp(&r.modified),
        );
        let rights = self.concept(&r.access_rights_concept(), &format!("{DCT}RightsStatement"));
        self.link(node, &format!("{DCT}accessRights"), &rights);
        let licence = r.license.as_ref().map(|l| self.licence(l));
        for c in &r.conforms_to {
            let standard = self.standard(c);
            self.link(node, &format!("{DCT}conformsTo"), &standard);
        }
        // The record's own page on the Records interface documents it; it is the landing page too unless the
        // operator named one.
        let record_page = self.named(&crate::paths::record_url(page.public_url, &r.id));
        self.class(&record_page, &format!("{FOAF}Document"));
        self.link(node, &format!("{FOAF}page"), &record_page);
        let landing = r
            .landing_page
            .as_deref()
            .and_then(|u| self.try_named(u))
            .unwrap_or_else(|| record_page.clone());
        self.class(&landing, &format!("{FOAF}Document"));
        self.link(node, &format!("{DCAT}landingPage"), &landing);
        if let Some(v) = &r.version {
            self.text(node, &format!("{DCAT}version"), v);
        }
        if r.is_service() {
            // Called through this connector once a contract is agreed: its DSP endpoint is the way in.
            self.resource(node, &format!("{DCAT}endpointURL"), dsp);
            if let Some(d) = r
                .endpoint_description
                .as_deref()
                .and_then(|u| self.try_named(u))
            {
                self.resource(node, &format!("{DCAT}endpointDescription"), &d);
            }
            if let Some(l) = &licence {
                self.link(node, &format!("{DCT}license"), l);
            }
            return;
        }
        if let Some(f) = &r.update_frequency {
            let freq = self.concept(f, &format!("{DCT}Frequency"));
            self.link(node, &format!("{DCT}accrualPeriodicity"), &freq);
        }
        if r.spatial.is_some() || r.bbox.is_some() {
            let place = match &r.spatial {
                Some(iri) => self.named(iri),
                None => BlankNode::default().into(),
            };
            self.class(&place, &format!("{DCT}Location"));
            if let Some([w, s, e, n]) = r.bbox {
                let wkt = format!("POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))");
                self.typed(
                    &place,
                    &format!("{DCAT}bbox"),
                    &wkt,
                    &format!("{GSP}wktLiteral"),
                );
                let centroid = format!("POINT({} {})", (w + e) / 2.0, (s + n) / 2.0);
                self.typed(
                    &place,
                    &format!("{DCAT}centroid"),
                    &centroid,
                    &format!("{GSP}wktLiteral"),
                );
            }
            self.link(node, &format!("{DCT}spatial"), &place);
        }
        if let Some(t) = &r.temporal {
            let period: Subject = BlankNode::default().into();
            self.class(&period, &format!("{DCT}PeriodOfTime"));
            if let Some(start) = &t.start {
                self.date(&period, &format!("{DCAT}startDate"), start);
            }
            if let Some(end) = &t.end {
                self.date(&period, &format!("{DCAT}endDate"), end);
            }
            self.link(node, &format!("{DCT}temporal"), &period);
        }
        for input in &r.derived_from {
            if let Some(i) = self.try_named(input) {
                self.link(node, &format!("{PROV}wasDerivedFrom"), &i);
            }
        }
        for (i, d) in r.distributions.iter().enumerate() {
            let dist = self.named(&format!("{}#distribution-{}", r.id, i + 1));
            self.class(&dist, &format!("{DCAT}Distribution"));
            self.text(
                &dist,
                &format!("{DCT}title"),
                &format!("{} ({})", r.title, d.media_type),
            );
            self.text(
                &dist,
                &format!("{DCT}description"),
                "Served by the city's Twinport connector to partners under a contract negotiated over the Dataspace Protocol.",
            );
            self.resource(&dist, &format!("{DCAT}accessURL"), dsp);
            self.link(&dist, &format!("{DCAT}accessService"), dsp);
            if let Some(media) = self.try_named(&format!("{IANA_MEDIA_TYPES}{}", d.media_type)) {
                self.class(&media, &format!("{DCT}MediaType"));
                self.link(&dist, &format!("{DCAT}mediaType"), &media);
            }
            if let Some(code) = d.file_type {
                let format = self.concept(
                    &Concept {
                        iri: format!("{}/{code}", crate::authority::FILE_TYPE_SCHEME),
                        label: code.to_string(),
                        scheme: Some(crate::authority::FILE_TYPE_SCHEME),
                    },
                    &format!("{DCT}MediaTypeOrExtent"),
                );
                self.link(&dist, &format!("{DCT}format"), &format);
            }
            if let Some(l) = &licence {
                self.link(&dist, &format!("{DCT}license"), l);
            }
            // What the resource conforms to (a data model, a schema) is what its payload conforms to.
            for c in &r.conforms_to {
                let standard = self.standard(c);
                self.link(&dist, &format!("{DCT}conformsTo"), &standard);
            }
            self.link(&dist, &format!("{DCT}accessRights"), &rights);
            for l in &r.language {
                let lang = self.language(l);
                self.link(&dist, &format!("{DCT}language"), &lang);
            }
            self.link(node, &format!("{DCAT}distribution"), &dist);
        }
    }
}

/// The ADMS licence type of well-known licences, by their EU table code or SPDX id; `None` where the licence's
/// terms are not one of the table's types at a glance.
fn licence_type(l: &crate::authority::Licence) -> Option<(&'static str, &'static str)> {
    let id = match l {
        crate::authority::Licence::Eu(e) => e.code.to_ascii_uppercase(),
        crate::authority::Licence::Spdx(id) => id.to_ascii_uppercase(),
    };
    if id.contains("CC0") || id.contains("PDDL") || id.contains("PDM") {
        Some(("PublicDomain", "Public domain"))
    } else if id.contains("BY")
        || ["APACHE", "MIT", "BSD", "ISC", "OGL", "DL_DE"]
            .iter()
            .any(|p| id.contains(p))
    {
        Some(("Attribution", "Attribution"))
    } else {
        None
    }
}

fn kind_label(k: ResourceKind) -> (&'static str, &'static str) {
    match k {
        ResourceKind::Dataset => ("Data resource", "Databron"),
        ResourceKind::ModelOrService => ("Model or service", "Model of dienst"),
        ResourceKind::WorkflowTemplate => (
            "Workflow or scenario template",
            "Workflow- of scenariosjabloon",
        ),
        ResourceKind::VisualisationAsset => ("Visualisation asset", "Visualisatie"),
        ResourceKind::PublishedOutput => ("Published output", "Gepubliceerde uitkomst"),
    }
}

fn stage_label(s: DatasetStage) -> (&'static str, &'static str) {
    match s {
        DatasetStage::Raw => ("Raw data", "Ruwe data"),
        DatasetStage::WorkflowReady => ("Workflow-ready data", "Workflow-klare data"),
        DatasetStage::ModelInput => ("Model input", "Modelinvoer"),
        DatasetStage::ModelOutput => ("Model output", "Modeluitvoer"),
    }
}

#[cfg(test)]
mod tests;
