//! The graph's shape on a sample page, and that each syntax carries the same triples.

use oxrdfio::{RdfFormat, RdfParser};

use super::*;
use crate::authority::Language;
use crate::catalogue::resource::parse_resource;
use crate::config::ContactPoint;
use crate::storage::Stamps;

fn info() -> CatalogueInfo {
    CatalogueInfo {
        title: "Sample City twin".into(),
        description: Some("What Sample City shares.".into()),
        publisher_id: "https://sample-city.example/".into(),
        publisher_name: "Sample City".into(),
        homepage: Some("https://sample-city.example/".into()),
        language: vec![Language::parse("nl").unwrap()],
        license: crate::authority::Licence::parse("CC_BY_4_0"),
        contact_point: Some(ContactPoint {
            name: "Twin team".into(),
            email: Some("twin@sample-city.example".into()),
            url: None,
        }),
    }
}

fn records(info: &CatalogueInfo) -> Vec<PublicRecord> {
    let stamps = Stamps {
        created: "2026-01-02T03:04:05Z".into(),
        updated: "2026-02-03T04:05:06.789Z".into(),
    };
    let dataset = parse_resource(serde_json::json!({
        "id": "urn:ldt:sample:traffic", "kind": "dataset", "stage": "raw", "title": "Traffic",
        "description": "Counts.", "discoverable": true, "themes": ["TRAN"], "bbox": [4.7, 52.3, 5.1, 52.5],
        "temporal": {"start": "2026-01-01"}, "update_frequency": "hourly",
        "distributions": [{"format": "application/ld+json", "backend": "http://broker:1026/secret"}],
        "offers": [{"policy": "open"}]
    }))
    .unwrap();
    let model = parse_resource(serde_json::json!({
        "id": "urn:ldt:sample:flood", "kind": "model-or-service", "title": "Flood model",
        "description": "Simulates.", "discoverable": true, "themes": ["ENVI"],
        "endpoint_description": "https://sample-city.example/flood/process.json",
        "distributions": [{"format": "application/json", "backend": "http://models:5000/flood"}],
        "offers": [{"policy": "open"}]
    }))
    .unwrap();
    vec![
        PublicRecord::new(&dataset, &stamps, info),
        PublicRecord::new(&model, &stamps, info),
    ]
}

fn page<'a>(
    info: &'a CatalogueInfo,
    records: &'a [PublicRecord],
    index: &'a Index,
) -> CatalogPage<'a> {
    CatalogPage {
        info,
        public_url: "https://twin.sample-city.example",
        records,
        index,
        paging: Paging {
            this: "https://twin.sample-city.example/catalog.ttl?page=1".into(),
            first: "https://twin.sample-city.example/catalog.ttl?page=1".into(),
            last: "https://twin.sample-city.example/catalog.ttl?page=2".into(),
            next: Some("https://twin.sample-city.example/catalog.ttl?page=2".into()),
            previous: None,
            total: 102,
            per_page: 100,
        },
        profile: Profile::DcatAp3,
    }
}

fn has(triples: &[Triple], s: &str, p: &str, o: &str) -> bool {
    triples.iter().any(|t| {
        t.subject.to_string() == s && t.predicate.as_str() == p && t.object.to_string() == o
    })
}

#[test]
fn datasets_services_kinds_and_paging_are_in_the_graph() {
    let info = info();
    let records = records(&info);
    let index = Index::default();
    let triples = graph(&page(&info, &records, &index));
    let base = "https://twin.sample-city.example";
    assert!(has(
        &triples,
        "<urn:ldt:sample:traffic>",
        RDF_TYPE,
        &format!("<{DCAT}Dataset>")
    ));
    assert!(has(
        &triples,
        "<urn:ldt:sample:flood>",
        RDF_TYPE,
        &format!("<{DCAT}DataService>")
    ));
    assert!(has(
        &triples,
        "<urn:ldt:sample:traffic>",
        &format!("{DCT}type"),
        &format!("<{base}/vocab/ldt#dataset>")
    ));
    assert!(has(
        &triples,
        "<urn:ldt:sample:traffic>",
        &format!("{DCT}type"),
        &format!("<{base}/vocab/ldt#raw>")
    ));
    assert!(has(
        &triples,
        "<https://twin.sample-city.example/catalog.ttl?page=1>",
        &format!("{HYDRA}next"),
        "\"https://twin.sample-city.example/catalog.ttl?page=2\""
    ));
    assert!(has(
        &triples,
        &format!("<{base}/dsp/2025-1>"),
        &format!("{DCAT}servesDataset"),
        "<urn:ldt:sample:traffic>"
    ));
    // Themes carry their label; the licence and language are typed where they are used.
    assert!(has(
        &triples,
        "<http://publications.europa.eu/resource/authority/data-theme/TRAN>",
        &format!("{SKOS}prefLabel"),
        "\"Transport\"@en"
    ));
    assert!(has(
        &triples,
        "<http://publications.europa.eu/resource/authority/licence/CC_BY_4_0>",
        RDF_TYPE,
        &format!("<{DCT}LicenseDocument>")
    ));
    // Backend locations are never published.
    assert!(!triples
        .iter()
        .any(|t| t.to_string().contains("broker:1026") || t.to_string().contains("models:5000")));
}

#[test]
fn every_syntax_carries_the_same_triples() {
    let info = info();
    let records = records(&info);
    let index = Index::default();
    let triples = graph(&page(&info, &records, &index));
    for syntax in Syntax::ALL {
        let bytes = serialise(&triples, syntax).unwrap();
        let format = RdfFormat::from_media_type(syntax.media_type()).unwrap();
        let parsed: Vec<_> = RdfParser::from_format(format)
            .for_reader(bytes.as_slice())
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{syntax:?}: {e}\n{}", String::from_utf8_lossy(&bytes)));
        assert_eq!(parsed.len(), triples.len(), "{syntax:?}");
    }
}

#[test]
fn a_trained_model_is_an_mldcat_model_and_data_facts_are_published() {
    let info = info();
    let stamps = Stamps {
        created: "2026-01-02T03:04:05Z".into(),
        updated: "2026-01-02T03:04:05Z".into(),
    };
    let model = parse_resource(serde_json::json!({
        "id": "urn:ldt:sample:heat", "kind": "model-or-service", "title": "Heat model",
        "description": "Predicts.", "discoverable": true, "themes": ["ENVI"],
        "endpoint_description": "https://sample-city.example/heat/process.json",
        "distributions": [{"format": "application/json", "backend": "http://models:5000"}],
        "offers": [{"policy": "open"}],
        "model": {"api": "ogc-api-processes",
                  "inputs": {"t": {"schema": {"type": "number"}, "unit": "Cel"}},
                  "outputs": {"risk": {"schema": {"type": "number"}}},
                  "method": {"description": "Gradient boosting.", "version": "3",
                             "training_data": ["urn:ldt:sample:traffic"]}}
    }))
    .unwrap();
    let output = parse_resource(serde_json::json!({
        "id": "urn:ldt:sample:risk", "kind": "published-output", "title": "Risk",
        "description": "Heat risk.", "discoverable": true, "themes": ["ENVI"],
        "generated_by": "https://twin.sample-city.example/runs/42",
        "distributions": [{"format": "text/csv", "backend": "http://outputs/risk.csv"}],
        "offers": [{"policy": "open"}],
        "data": {"resolution": "P1D"}
    }))
    .unwrap();
    let records = vec![
        PublicRecord::new(&model, &stamps, &info),
        PublicRecord::new(&output, &stamps, &info),
    ];
    let index = Index::default();
    let triples = graph(&page(&info, &records, &index));
    assert!(has(
        &triples,
        "<urn:ldt:sample:heat>",
        &format!("{IT6}servesModel"),
        "<urn:ldt:sample:heat#model>"
    ));
    assert!(has(
        &triples,
        "<urn:ldt:sample:heat#model>",
        &format!("{IT6}trainedOn"),
        "<urn:ldt:sample:traffic>"
    ));
    // The API standard the descriptor names is what the service conforms to.
    assert!(has(
        &triples,
        "<urn:ldt:sample:heat>",
        &format!("{DCT}conformsTo"),
        "<http://www.opengis.net/spec/ogcapi-processes-1/1.0>"
    ));
    assert!(has(
        &triples,
        "<urn:ldt:sample:risk>",
        &format!("{DCAT}temporalResolution"),
        &format!("\"P1D\"^^<{XSD}duration>")
    ));
    assert!(has(
        &triples,
        "<urn:ldt:sample:risk>",
        &format!("{PROV}wasGeneratedBy"),
        "<https://twin.sample-city.example/runs/42>"
    ));
}
