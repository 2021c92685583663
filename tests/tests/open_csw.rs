//! The open catalogue's CSW 2.0.2 face (`/csw`), checked as geo portals use it: OWSLib's client reads the
//! capabilities (whose operation URLs it then calls, so they must be the public URL), pages through the deploy
//! examples' catalogue until `nextRecord` is 0, searches with OGC filters (text, type, subject, boxes in both axis
//! orders, logic) and CQL, counts hits and reads records by id with their boxes the right way round. Bad requests
//! get a 400 OWS exception report, never a 500, and no record names a backend. `.ci/run` installs OWSLib and sets
//! `TWINPORT_PY_OWSLIB`; without it the OWSLib part is skipped with the reason printed.

use reqwest::StatusCode;
use serde_json::{json, Value};
use twinport_e2e::open_catalogue::{example_pair, python, python_ok};
use twinport_e2e::Storage;

const ALL: [&str; 8] = [
    "urn:ldt:example-city:air-quality-hourly",
    "urn:ldt:example-city:district-3d-tiles",
    "urn:ldt:example-city:flood-depths-2030",
    "urn:ldt:example-city:flood-model",
    "urn:ldt:example-city:heat-model-input-2040",
    "urn:ldt:example-city:heat-scenario-2040",
    "urn:ldt:example-city:heatwave-workflow",
    "urn:ldt:example-city:traffic-flow",
];

fn short(names: &[&str]) -> Value {
    json!(names
        .iter()
        .map(|n| format!("urn:ldt:example-city:{n}"))
        .collect::<Vec<_>>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owslib_pages_searches_and_reads_records_by_id() {
    let Some(py) = python("TWINPORT_PY_OWSLIB") else {
        return;
    };
    for storage in Storage::all() {
        let (a, b) = example_pair(storage).await;
        let endpoint = format!("{}/csw", a.running.public_url());
        let out = python_ok(&py, "csw_client.py", std::slice::from_ref(&endpoint)).await;
        let r: Value = serde_json::from_str(&out).expect("the script prints JSON");
        assert_eq!(r["title"], "Example City Local Digital Twin", "{out}");
        assert_eq!(
            (r["service_type"].as_str(), r["version"].as_str()),
            (Some("CSW"), Some("2.0.2"))
        );
        // OWSLib sends each request to the URL its operation advertises: ours, public, for GET and POST.
        for op in [
            "GetCapabilities",
            "DescribeRecord",
            "GetRecords",
            "GetRecordById",
        ] {
            assert_eq!(r["operations"][op], json!([endpoint]), "{op}");
        }
        assert_eq!(r["paged"]["matches"], 8);
        assert_eq!(r["paged"]["ids"], json!(ALL));
        assert_eq!(r["paged"]["next"], json!([4, 7, 0]));

        assert_eq!(
            r["anytext_flood"],
            short(&["flood-depths-2030", "flood-model"])
        );
        assert_eq!(
            r["title_flood"],
            short(&["flood-depths-2030", "flood-model"])
        );
        assert_eq!(r["abstract_cloudburst"], short(&["flood-depths-2030"]));
        assert_eq!(r["subject_raw"], short(&["traffic-flow"]));
        assert_eq!(r["services"], short(&["flood-model"]));
        assert_eq!(
            r["heat_not_workflow"],
            short(&["heat-model-input-2040", "heat-scenario-2040"])
        );
        assert_eq!(
            r["flood_or_traffic"],
            short(&["flood-depths-2030", "flood-model", "traffic-flow"])
        );
        let located: Vec<&str> = ALL
            .iter()
            .copied()
            .filter(|id| !id.ends_with("heatwave-workflow"))
            .collect();
        assert_eq!(r["bbox_epsg4326"], json!(located));
        assert_eq!(r["bbox_crs84"], json!(located));
        assert_eq!(r["bbox_swapped"], json!([]));
        assert_eq!(r["cql_title"], short(&["flood-depths-2030", "flood-model"]));
        assert_eq!(
            r["hits"],
            json!({"matches": 8, "returned": 0, "records": 0})
        );

        let air = &r["by_id"]["urn:ldt:example-city:air-quality-hourly"];
        assert_eq!(air["title"], "Hourly air quality per district");
        assert_eq!(air["type"], "http://purl.org/dc/dcmitype/Dataset");
        // Latitude first on the wire; OWSLib turns it back into minx = west longitude.
        assert_eq!(
            air["bbox"],
            json!({"minx": 4.73, "miny": 52.28, "maxx": 5.07, "maxy": 52.43, "crs": "4326"})
        );
        for subject in [
            "air quality",
            "Environment",
            "Health",
            "dataset",
            "workflow-ready",
        ] {
            assert!(
                air["subjects"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(subject)),
                "{subject}: {air}"
            );
        }
        assert_eq!(air["format"], "application/ld+json");
        assert_eq!(
            air["license"],
            "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0"
        );
        assert_eq!(
            air["accessrights"],
            "http://publications.europa.eu/resource/authority/access-right/RESTRICTED"
        );
        assert_eq!(air["publisher"], "Example City, Environment Department");
        let workflow = &r["by_id"]["urn:ldt:example-city:heatwave-workflow"];
        assert_eq!(workflow["bbox"], Value::Null);
        assert_eq!(workflow["license"], "http://spdx.org/licenses/Apache-2.0");
        assert!(r["by_id"].as_object().unwrap().len() == 2);
        a.running.stop().await;
        b.running.stop().await;
    }
}

async fn get(url: &str) -> (StatusCode, String, String) {
    let r = reqwest::get(url).await.expect("request");
    let status = r.status();
    let media = r.headers()["content-type"].to_str().unwrap().to_string();
    (status, media, r.text().await.unwrap())
}

async fn post(url: &str, content_type: &str, body: String) -> (StatusCode, String, String) {
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = r.status();
    let media = r.headers()["content-type"].to_str().unwrap().to_string();
    (status, media, r.text().await.unwrap())
}

fn exception(body: &str, code: &str, locator: &str) -> bool {
    body.contains("<ows:ExceptionReport")
        && body.contains(r#"version="1.2.0""#)
        && body.contains(&format!(r#"exceptionCode="{code}""#))
        && body.contains(&format!(r#"locator="{locator}""#))
}

const GET_RECORDS: &str = r#"<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml" service="CSW" version="2.0.2" resultType="results" maxRecords="10"><csw:Query typeNames="csw:Record"><csw:ElementSetName>full</csw:ElementSetName>CONSTRAINT</csw:Query></csw:GetRecords>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_an_exception_report_and_records_name_no_backend() {
    for storage in Storage::all() {
        let (a, b) = example_pair(storage).await;
        let csw = format!("{}/csw", a.running.public_url());
        let kvp = |q: &str| format!("{csw}?service=CSW&version=2.0.2&{q}");

        for (url, code, locator) in [
            (csw.clone(), "MissingParameterValue", "request"),
            (
                kvp("request=Frobnicate"),
                "InvalidParameterValue",
                "request",
            ),
            (
                kvp("request=Transaction"),
                "OperationNotSupported",
                "Transaction",
            ),
            (
                format!("{csw}?service=CSW&version=3.0.0&request=GetRecords"),
                "InvalidParameterValue",
                "version",
            ),
            (
                format!("{csw}?service=WFS&version=2.0.2&request=GetRecords"),
                "InvalidParameterValue",
                "service",
            ),
            (
                kvp("request=GetRecords&maxRecords=5000"),
                "InvalidParameterValue",
                "maxRecords",
            ),
            (
                kvp("request=GetRecords&maxRecords=many"),
                "InvalidParameterValue",
                "maxRecords",
            ),
            (
                kvp("request=GetRecords&startPosition=0"),
                "InvalidParameterValue",
                "startPosition",
            ),
            (
                kvp("request=GetRecords&typeNames=gmd:MD_Metadata"),
                "InvalidParameterValue",
                "typeNames",
            ),
            (
                kvp("request=GetRecords&outputSchema=http://www.isotc211.org/2005/gmd"),
                "InvalidParameterValue",
                "outputSchema",
            ),
            (
                kvp("request=GetRecords&constraintLanguage=CQL_TEXT&constraint=dc:title%20~%20'x'"),
                "InvalidParameterValue",
                "Constraint",
            ),
            (
                kvp("request=GetRecords&constraintLanguage=FILTER&constraint=%3Cogc:Filter"),
                "InvalidParameterValue",
                "Constraint",
            ),
            (kvp("request=GetRecordById"), "MissingParameterValue", "id"),
        ] {
            let (status, media, body) = get(&url).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
            assert_eq!(media, "application/xml; charset=utf-8");
            assert!(exception(&body, code, locator), "{url}: {body}");
        }

        let bbox = |srs: &str, lower: &str| {
            GET_RECORDS.replace(
                "CONSTRAINT",
                &format!(r#"<csw:Constraint version="1.1.0"><ogc:Filter><ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName><gml:Envelope srsName="{srs}"><gml:lowerCorner>{lower}</gml:lowerCorner><gml:upperCorner>52.5 5.1</gml:upperCorner></gml:Envelope></ogc:BBOX></ogc:Filter></csw:Constraint>"#),
            )
        };
        for (body, code, locator) in [
            ("<csw:GetRecords".to_string(), "InvalidParameterValue", "request"),
            (
                GET_RECORDS.replace(r#"version="2.0.2""#, r#"version="9.9""#),
                "InvalidParameterValue",
                "version",
            ),
            (
                GET_RECORDS.replace(r#"maxRecords="10""#, r#"maxRecords="100000""#),
                "InvalidParameterValue",
                "maxRecords",
            ),
            (
                GET_RECORDS.replace("csw:Record", "gmd:MD_Metadata"),
                "InvalidParameterValue",
                "typeNames",
            ),
            (bbox("EPSG:28992", "52.3 4.7"), "InvalidParameterValue", "srsName"),
            (bbox("urn:ogc:def:crs:EPSG::4326", "52.3"), "InvalidParameterValue", "Constraint"),
            (bbox("urn:ogc:def:crs:EPSG::4326", "53 4.7"), "InvalidParameterValue", "Constraint"),
            (
                r#"<csw:Transaction xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"/>"#.into(),
                "OperationNotSupported",
                "Transaction",
            ),
        ] {
            let (status, media, text) = post(&csw, "text/xml", body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {text}");
            assert_eq!(media, "application/xml; charset=utf-8");
            assert!(exception(&text, code, locator), "{body}: {text}");
        }
        let (status, _, text) = post(&csw, "application/json", "{}".into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            exception(&text, "InvalidParameterValue", "Content-Type"),
            "{text}"
        );
        let huge = format!("<csw:GetRecords>{}</csw:GetRecords>", " ".repeat(70 * 1024));
        let (status, _, text) = post(&csw, "text/xml", huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(text.contains("<ows:ExceptionReport"), "{text}");

        // A well-formed POST works, and the full records name no backend.
        let (status, media, text) = post(
            &csw,
            "application/xml",
            GET_RECORDS.replace("CONSTRAINT", ""),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(media, "application/xml; charset=utf-8");
        assert!(text.contains(r#"numberOfRecordsMatched="8""#), "{text}");
        assert_eq!(text.matches("<csw:Record>").count(), 8, "{text}");
        for host in [
            "broker:1026",
            "outputs:8000",
            "models:5000",
            "tiles:8000",
            "file:///srv",
        ] {
            assert!(!text.contains(host), "{host} published");
        }
        let (status, _, caps) = get(&kvp("request=GetCapabilities")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(caps.contains(&format!(r#"xlink:href="{csw}""#)), "{caps}");
        let (status, _, describe) = get(&kvp("request=DescribeRecord&typeName=csw:Record")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            describe.contains("csw:DescribeRecordResponse"),
            "{describe}"
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}
