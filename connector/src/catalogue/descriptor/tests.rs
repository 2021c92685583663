use serde_json::{json, Value};

use crate::catalogue::resource::parse_resource;

fn model() -> Value {
    json!({
        "id": "urn:ldt:city-a:flood-model", "kind": "model-or-service", "title": "Flood model",
        "description": "Pluvial flooding from a rainfall series.",
        "distributions": [{"format": "application/json", "backend": "http://models:5000",
                           "ogc_api_processes": {"processes": ["flood"]}}],
        "offers": [{"policy": "research"}],
        "model": {
            "api": "ogc-api-processes", "process": "flood", "job_control": ["sync-execute", "async-execute"],
            "inputs": {"rainfall": {
                "schema": {"type": "object", "required": ["intensity"],
                           "properties": {"intensity": {"type": "number"}}},
                "units": {"intensity": "mm/h"}, "crs": "EPSG:28992",
                "extent": {"bbox": [110000.0, 470000.0, 135000.0, 495000.0]},
                "temporal": {"start": "2030-01-01", "end": "2030-12-31"}, "resolution": "PT1H"
            }},
            "outputs": {"depths": {"schema": {"type": "object"}, "media_type": "application/geo+json",
                                   "unit": "m", "crs": "EPSG:28992"}},
            "parameters": {"duration": {"schema": {"type": "integer", "minimum": 1}, "default": 6}},
            "method": {"description": "Shallow-water equations on a 5 m grid.", "version": "2.1",
                       "references": ["https://example.org/paper"], "license": "EUPL_1_2",
                       "training_data": ["urn:ldt:city-a:rainfall-2010"]}
        }
    })
}

fn dataset() -> Value {
    json!({
        "id": "urn:ldt:city-a:rainfall", "kind": "dataset", "stage": "raw", "title": "Rainfall",
        "description": "Rain gauges.", "bbox": [4.7, 52.2, 5.1, 52.5],
        "temporal": {"start": "2030-01-01", "end": "2030-12-31"},
        "distributions": [{"format": "application/geo+json", "backend": "http://platform/rain"}],
        "offers": [{"policy": "research"}],
        "data": {"attributes": {"intensity": {"type": "number", "unit": "mm/h"}}, "resolution": "PT15M"}
    })
}

fn refused(v: Value) -> Vec<String> {
    let mut fields: Vec<String> = parse_resource(v)
        .expect_err("refused")
        .into_iter()
        .map(|e| e.field)
        .collect();
    fields.sort();
    fields
}

#[test]
fn a_described_model_and_dataset_are_accepted() {
    let m = parse_resource(model()).expect("model");
    assert_eq!(m.model.as_ref().map(|d| d.inputs.len()), Some(1));
    parse_resource(dataset()).expect("dataset");
}

#[test]
fn bad_descriptors_are_refused_naming_the_field() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/model/inputs/rainfall/units/intensity",
            json!("furlongs per fortnight"),
            "model.inputs.rainfall.units.intensity",
        ),
        (
            "/model/inputs/rainfall/unit",
            json!("XYZQ"),
            "model.inputs.rainfall.unit",
        ),
        (
            "/model/inputs/rainfall/crs",
            json!("EPSG:999999"),
            "model.inputs.rainfall.crs",
        ),
        (
            "/model/inputs/rainfall/schema",
            json!({"type": "numbr"}),
            "model.inputs.rainfall.schema",
        ),
        (
            "/model/inputs/rainfall/resolution",
            json!("1 hour"),
            "model.inputs.rainfall.resolution",
        ),
        (
            "/model/inputs/rainfall/temporal",
            json!({"start": "2031-01-01", "end": "2030-01-01"}),
            "model.inputs.rainfall.temporal.end",
        ),
        (
            "/model/inputs/rainfall/extent",
            json!({"bbox": [135000.0, 470000.0, 110000.0, 495000.0]}),
            "model.inputs.rainfall.extent.bbox",
        ),
        (
            "/model/inputs/rainfall/max_occurs",
            json!("many"),
            "model.inputs.rainfall.max_occurs",
        ),
        (
            "/model/parameters/duration/default",
            json!(0),
            "model.parameters.duration.default",
        ),
        (
            "/model/method/references",
            json!(["not a url"]),
            "model.method.references[0]",
        ),
        (
            "/model/method/license",
            json!("CC BY"),
            "model.method.license",
        ),
        (
            "/model/inputs/rainfall/context",
            json!("https://example.org/remote-context.jsonld"),
            "model.inputs.rainfall.context",
        ),
    ];
    for (pointer, value, field) in cases {
        let mut v = model();
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
        v.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("{pointer}"))
            .insert(key.to_string(), value);
        assert_eq!(refused(v), [field], "{pointer}");
    }
}

#[test]
fn a_dataset_with_bad_facts_is_refused() {
    let mut v = dataset();
    v["data"]["attributes"]["intensity"]["unit"] = json!("parsecs per hour per hour per");
    v["data"]["resolution"] = json!("PT0S");
    v["data"]["crs"] = json!("EPSG:0");
    v["data"]["attributes"]["when"] = json!({"type": "timestamp"});
    assert_eq!(
        refused(v),
        [
            "data.attributes.intensity.unit",
            "data.attributes.when.type",
            "data.crs",
            "data.resolution"
        ]
    );
}

#[test]
fn descriptors_belong_to_their_kind() {
    let mut v = dataset();
    v["model"] = model()["model"].clone();
    assert_eq!(refused(v), ["model"]);
    let mut v = model();
    v["data"] = json!({"unit": "m"});
    assert_eq!(refused(v), ["data"]);
}

#[test]
fn a_misspelt_descriptor_key_is_refused() {
    let mut v = model();
    v["model"]["inputs"]["rainfall"]["unti"] = json!("mm/h");
    let fields = refused(v);
    assert_eq!(fields.len(), 1, "{fields:?}");
}

#[test]
fn unece_codes_as_ngsi_ld_writes_them_are_accepted() {
    let mut v = dataset();
    v["data"]["attributes"] = json!({"temperature": {"type": "number", "unit": "CEL"},
                                     "speed": {"type": "number", "unit": "KMH"}});
    parse_resource(v).expect("UN/CEFACT codes");
}
