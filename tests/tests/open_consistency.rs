//! One resource, many faces: the deploy examples' catalogue read through the Dataspace Protocol (as partner city B),
//! DCAT-AP, OGC API Records and CSW describes the same resources with the same ids, titles and kinds, and the
//! landing document names every interface. `.ci/run` sets `TWINPORT_PY_RDF` (rdflib, for the DCAT pages).

use serde_json::Value;
use twinport_e2e::open_catalogue::{example_pair, python, python_ok};
use twinport_e2e::{Storage, CITY_A};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsp_dcat_records_and_csw_describe_the_same_resources() {
    let Some(py) = python("TWINPORT_PY_RDF") else {
        return;
    };
    let (a, b) = example_pair(Storage::Sqlite).await;
    let base = a.running.public_url().to_string();
    let out = python_ok(&py, "consistency.py", std::slice::from_ref(&base)).await;
    let faces: Value = serde_json::from_str(&out).expect("faces");
    let dcat = faces["dcat"].as_object().unwrap();
    assert_eq!(dcat.len(), 8, "{out}");
    for face in ["records", "csw"] {
        assert_eq!(
            &faces[face], &faces["dcat"],
            "{face} differs from DCAT:\n{out}"
        );
    }
    // What partner B sees over DSP (the offers its policies show it) agrees with the open faces on each resource.
    let partner = b.running.state.config().partner(CITY_A).unwrap().clone();
    let catalog = b
        .running
        .state
        .client()
        .catalog(&partner, vec![])
        .await
        .expect("catalogue");
    let datasets = catalog["dataset"].as_array().unwrap();
    assert!(datasets.len() >= 4, "{catalog}");
    for d in datasets {
        let id = d["@id"].as_str().unwrap();
        let kind = d["dct:type"][0]["@id"]
            .as_str()
            .and_then(|iri| iri.strip_prefix(&format!("{base}/vocab/ldt#")))
            .unwrap();
        assert_eq!(dcat[id]["title"], d["dct:title"], "{id}");
        assert_eq!(dcat[id]["kind"], kind, "{id}");
    }
    // The landing document names each interface by absolute URL.
    let landing: Value = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hrefs: Vec<&str> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["href"].as_str())
        .collect();
    for path in [
        "/catalog.ttl",
        "/records",
        "/csw?",
        "/vocab/ldt",
        "/.well-known/dspace-version",
    ] {
        assert!(
            hrefs
                .iter()
                .any(|h| h.starts_with(&format!("{base}{path}"))),
            "{path}: {hrefs:?}"
        );
    }
    a.running.stop().await;
    b.running.stop().await;
}
