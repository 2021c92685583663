//! Collects the graph's triples: typed, labelled nodes for the objects a page points to (agents, contact points,
//! concepts and their schemes, languages, licences, standards), each described once however often it is used.

use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode as Subject, Term, Triple};

use super::ns::*;
use super::Profile;
use crate::authority::Language;
use crate::catalogue::metadata::ContactPoint;
use crate::catalogue::public::record::Concept;
use crate::catalogue::resource::{date_datatype, Publisher};

/// Collects triples, typing each described node once.
#[derive(Default)]
pub(super) struct Builder {
    pub(super) triples: Vec<Triple>,
    typed: std::collections::HashSet<(String, String)>,
}

impl Builder {
    pub(super) fn named(&self, iri: &str) -> Subject {
        match NamedNode::new(iri) {
            Ok(n) => n.into(),
            // Resource ids and configured URLs are validated IRIs; anything else becomes a blank node rather
            // than a malformed document.
            Err(_) => BlankNode::default().into(),
        }
    }

    pub(super) fn try_named(&self, iri: &str) -> Option<Subject> {
        NamedNode::new(iri).ok().map(Into::into)
    }

    pub(super) fn push(&mut self, s: &Subject, p: &str, o: Term) {
        self.triples
            .push(Triple::new(s.clone(), NamedNode::new_unchecked(p), o));
    }

    pub(super) fn link(&mut self, s: &Subject, p: &str, o: &Subject) {
        let term: Term = match o {
            Subject::NamedNode(n) => n.clone().into(),
            Subject::BlankNode(b) => b.clone().into(),
        };
        self.push(s, p, term);
    }

    pub(super) fn class(&mut self, s: &Subject, class: &str) {
        if self.typed.insert((s.to_string(), class.to_string())) {
            self.push(s, RDF_TYPE, NamedNode::new_unchecked(class).into());
        }
    }

    pub(super) fn text(&mut self, s: &Subject, p: &str, value: &str) {
        self.push(s, p, Literal::new_simple_literal(value).into());
    }

    pub(super) fn lang_text(&mut self, s: &Subject, p: &str, value: &str, lang: &str) {
        self.push(
            s,
            p,
            Literal::new_language_tagged_literal_unchecked(value, lang).into(),
        );
    }

    pub(super) fn typed(&mut self, s: &Subject, p: &str, value: &str, datatype: &str) {
        self.push(
            s,
            p,
            Literal::new_typed_literal(value, NamedNode::new_unchecked(datatype)).into(),
        );
    }

    pub(super) fn date_time(&mut self, s: &Subject, p: &str, t: time::OffsetDateTime) {
        let text = t
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        self.typed(s, p, &text, &format!("{XSD}dateTime"));
    }

    /// A date or date-time as the record holds it, with the datatype its form has.
    pub(super) fn date(&mut self, s: &Subject, p: &str, value: &str) {
        let datatype = match date_datatype(value) {
            Some("xsd:date") => "date",
            _ => "dateTime",
        };
        self.typed(s, p, value, &format!("{XSD}{datatype}"));
    }

    /// A publisher or creator: a `foaf:Agent` with its name and type.
    pub(super) fn agent(&mut self, a: &Publisher) -> Subject {
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

    pub(super) fn contact(&mut self, c: &ContactPoint) -> Subject {
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
    pub(super) fn concept(&mut self, c: &Concept, class: &str) -> Subject {
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

    pub(super) fn scheme(&mut self, iri: &str, title: &str) -> Subject {
        let node = self.named(iri);
        if self.typed.insert((node.to_string(), "scheme".into())) {
            self.class(&node, &format!("{SKOS}ConceptScheme"));
            self.lang_text(&node, &format!("{DCT}title"), title, "en");
        }
        node
    }

    pub(super) fn ldt_scheme(&mut self, public_url: &str, profile: Profile) -> Subject {
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
    pub(super) fn ldt_concept(
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

    pub(super) fn theme(&mut self, t: &Concept, public_url: &str, profile: Profile) -> Subject {
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

    pub(super) fn language(&mut self, l: &Language) -> Subject {
        let node = self.named(&l.iri());
        if self.typed.insert((node.to_string(), "language".into())) {
            self.class(&node, &format!("{DCT}LinguisticSystem"));
            self.lang_text(&node, &format!("{SKOS}prefLabel"), l.label, "en");
        }
        node
    }

    pub(super) fn licence(&mut self, l: &crate::authority::Licence) -> Subject {
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
    pub(super) fn resource(&mut self, s: &Subject, p: &str, o: &Subject) {
        self.class(o, RDFS_RESOURCE);
        self.link(s, p, o);
    }

    /// A location of its own for a CRS84 box: the box and its centre as WKT.
    pub(super) fn box_location(
        &mut self,
        [w, s, e, n]: crate::catalogue::metadata::Bbox,
    ) -> Subject {
        let place: Subject = BlankNode::default().into();
        self.class(&place, &format!("{DCT}Location"));
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
        place
    }

    pub(super) fn standard(&mut self, iri: &str) -> Subject {
        let node = self.named(iri);
        self.class(&node, &format!("{DCT}Standard"));
        node
    }
}

/// The ADMS licence type of well-known licences, by their EU table code or SPDX id; `None` where the licence's
/// terms are not one of the table's types at a glance.
pub(super) fn licence_type(l: &crate::authority::Licence) -> Option<(&'static str, &'static str)> {
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
