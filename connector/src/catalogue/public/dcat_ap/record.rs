//! One discoverable record in the graph: a `dcat:Dataset` with its distributions, or a `dcat:DataService` whose
//! endpoint is this connector's DSP endpoint; kind and stage as `dct:type` concepts of the LDT vocabulary.

use oxrdf::{BlankNode, NamedOrBlankNode as Subject};

use super::builder::Builder;
use super::ns::*;
use super::CatalogPage;
use crate::catalogue::public::record::{Concept, PublicRecord};

impl Builder {
    pub(super) fn record(
        &mut self,
        r: &PublicRecord,
        node: &Subject,
        dsp: &Subject,
        page: &CatalogPage,
    ) {
        let class = if r.is_service() {
            "DataService"
        } else {
            "Dataset"
        };
        self.class(node, &format!("{DCAT}{class}"));
        self.text(node, &format!("{DCT}title"), &r.title);
        self.text(node, &format!("{DCT}description"), &r.description);
        self.text(node, &format!("{DCT}identifier"), &r.id);
        let kind = r.kind.labels();
        let kind_node = self.ldt_concept(r.kind.as_str(), kind, page.public_url, page.profile);
        self.link(node, &format!("{DCT}type"), &kind_node);
        if let Some(stage) = r.stage {
            let stage_node = self.ldt_concept(
                stage.as_str(),
                stage.labels(),
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
            crate::catalogue::public::index::parse_stamp(&r.issued),
        );
        self.date_time(
            node,
            &format!("{DCT}modified"),
            crate::catalogue::public::index::parse_stamp(&r.modified),
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
            self.served_model(r, node);
            return;
        }
        if let Some(f) = &r.update_frequency {
            let freq = self.concept(f, &format!("{DCT}Frequency"));
            self.link(node, &format!("{DCT}accrualPeriodicity"), &freq);
        }
        if let Some(place) = r.spatial.as_deref().and_then(|iri| self.try_named(iri)) {
            self.class(&place, &format!("{DCT}Location"));
            self.link(node, &format!("{DCT}spatial"), &place);
        }
        // The box is a location of this resource's own: a named place shared by several resources must not
        // collect all their boxes.
        if let Some(bbox) = r.bbox {
            let place = self.box_location(bbox);
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
        if let Some(resolution) = r
            .described
            .as_ref()
            .and_then(|d| d.data.as_ref())
            .and_then(|d| d.resolution.as_deref())
        {
            self.typed(
                node,
                &format!("{DCAT}temporalResolution"),
                resolution,
                &format!("{XSD}duration"),
            );
        }
        if let Some(run) = r
            .generated_by
            .as_deref()
            .and_then(|iri| self.try_named(iri))
        {
            self.class(&run, &format!("{PROV}Activity"));
            self.link(node, &format!("{PROV}wasGeneratedBy"), &run);
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

    /// A trained model (one with training data) as MLDCAT-AP describes it: the service serves an
    /// `it6:MachineLearningModel` trained on the catalogue entries named. Deterministic models stay services only.
    fn served_model(&mut self, r: &PublicRecord, service: &Subject) {
        let Some(method) = r
            .described
            .as_ref()
            .and_then(|d| d.model.as_ref())
            .and_then(|m| m.method.as_ref())
            .filter(|m| !m.training_data.is_empty())
        else {
            return;
        };
        let model = self.named(&format!("{}#model", r.id));
        self.class(&model, &format!("{IT6}MachineLearningModel"));
        self.text(&model, &format!("{DCT}title"), &r.title);
        self.text(
            &model,
            &format!("{DCT}identifier"),
            &format!("{}#model", r.id),
        );
        self.text(&model, &format!("{DCT}description"), &method.description);
        if let Some(v) = method.version.as_ref().or(r.version.as_ref()) {
            self.text(&model, &format!("{DCAT}version"), v);
        }
        for data in &method.training_data {
            if let Some(d) = self.try_named(data) {
                self.link(&model, &format!("{IT6}trainedOn"), &d);
            }
        }
        self.link(service, &format!("{IT6}servesModel"), &model);
    }
}
