//! `check` as a whole: four findings in order, a realistic pairing end to end, the wire form of what it reads, no
//! panic on any input, and its cost.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ::time::macros::datetime;
use serde_json::json;

use super::*;

const WEATHER: &str = "https://smartdatamodels.org/dataModel.Weather/";

/// A flood model's rainfall input: hourly, Amsterdam in RD New, 2024, two SDM weather properties.
fn flood_model_input() -> Need {
    Need {
        schema: Some(json!({
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "precipitation": {"type": "number"},
                    "temperature": {"type": "number"},
                    "dateObserved": {"type": "string", "format": "date-time"}
                },
                "required": ["precipitation", "dateObserved"]
            }
        })),
        context: Some(json!({
            "sdm": WEATHER,
            "precipitation": "sdm:precipitation",
            "temperature": "sdm:temperature",
            "dateObserved": "sdm:dateObserved"
        })),
        unit: None,
        units: BTreeMap::from([
            ("precipitation".into(), "mm/h".into()),
            ("temperature".into(), "Cel".into()),
        ]),
        crs: Some("EPSG:28992".into()),
        extent: Some(Extent {
            bbox: [110_000.0, 476_000.0, 135_000.0, 497_000.0],
            crs: "EPSG:28992".into(),
        }),
        window: Some(Window {
            start: Some(datetime!(2024-01-01 0:00 UTC)),
            end: Some(datetime!(2025-01-01 0:00 UTC)),
        }),
        resolution: Some("PT1H".into()),
    }
}

/// An NGSI-LD WeatherObserved dataset: 15-minute, CRS84 over the Netherlands, since 2020, Rec 20 units.
fn weather_dataset() -> Have {
    let attr = |t: &str, unit: Option<&str>| Attribute {
        r#type: Some(t.into()),
        unit: unit.map(str::to_string),
    };
    Have {
        schema: None,
        entity_type: Some("WeatherObserved".into()),
        attributes: BTreeMap::from([
            ("precipitation".into(), attr("Property", Some("unece:H67"))),
            ("temperature".into(), attr("Property", Some("CEL"))),
            ("dateObserved".into(), attr("Property", None)),
            ("location".into(), attr("GeoProperty", None)),
        ]),
        context: Some(json!([
            {"precipitation": format!("{WEATHER}precipitation"), "temperature": format!("{WEATHER}temperature"),
             "dateObserved": format!("{WEATHER}dateObserved"), "WeatherObserved": format!("{WEATHER}WeatherObserved")},
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
        ])),
        unit: None,
        units: BTreeMap::new(),
        crs: Some("OGC:CRS84".into()),
        extent: Some(Extent {
            bbox: [3.3, 50.7, 7.3, 53.6],
            crs: "OGC:CRS84".into(),
        }),
        window: Some(Window {
            start: Some(datetime!(2020-01-01 0:00 UTC)),
            end: None,
        }),
        resolution: Some("PT15M".into()),
    }
}

#[test]
fn check_gives_four_findings_in_order() {
    for (need, have) in [
        (Need::default(), Have::default()),
        (flood_model_input(), weather_dataset()),
    ] {
        let dims: Vec<Dimension> = check(&need, &have).iter().map(|f| f.dimension).collect();
        assert_eq!(
            dims,
            [
                Dimension::Schema,
                Dimension::Units,
                Dimension::Space,
                Dimension::Time
            ]
        );
    }
}

#[test]
fn nothing_asked_is_nothing_missed_but_an_undescribed_schema_is_unknown() {
    let findings = check(&Need::default(), &Have::default());
    let verdicts: Vec<Verdict> = findings.iter().map(|f| f.verdict).collect();
    // Every model input has a schema (descriptors require one), so only the schema can be unknown here.
    assert_eq!(
        verdicts,
        [
            Verdict::Unknown,
            Verdict::Aligned,
            Verdict::Aligned,
            Verdict::Aligned
        ]
    );
    assert!(findings.iter().all(|f| !f.reason.is_empty()));
}

#[test]
fn facts_the_model_asks_for_and_the_dataset_lacks_are_unknown() {
    let need = Need {
        schema: Some(
            serde_json::json!({"type": "object", "required": ["t"], "properties": {"t": {"type": "number"}}}),
        ),
        unit: Some("Cel".into()),
        crs: Some("EPSG:28992".into()),
        resolution: Some("PT1H".into()),
        ..Default::default()
    };
    for f in check(&need, &Have::default()) {
        assert_eq!(f.verdict, Verdict::Unknown, "{f:?}");
    }
}

#[test]
fn a_flood_model_and_an_ngsi_ld_weather_dataset() {
    let findings = check(&flood_model_input(), &weather_dataset());
    let verdicts: Vec<Verdict> = findings.iter().map(|f| f.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Aligned,
            Verdict::Aligned,
            Verdict::Convertible,
            Verdict::Convertible
        ],
        "{findings:#?}"
    );
    let space = &findings[2];
    assert_eq!(space.details["from"], "OGC:CRS84");
    assert_eq!(space.details["to"], "EPSG:28992");
    assert_eq!(space.details["coverage"], 1.0);
    let time = &findings[3];
    assert_eq!(time.details["relation"], "aggregate");
    assert_eq!(time.details["factor"], 4);

    // The same dataset in Fahrenheit, daily, ending mid-2024: convertible units, misaligned time.
    let mut have = weather_dataset();
    have.attributes.get_mut("temperature").unwrap().unit = Some("FAH".into());
    have.resolution = Some("P1D".into());
    have.window = Some(Window {
        start: Some(datetime!(2020-01-01 0:00 UTC)),
        end: Some(datetime!(2024-07-01 0:00 UTC)),
    });
    let findings = check(&flood_model_input(), &have);
    assert_eq!(
        findings[1].verdict,
        Verdict::Convertible,
        "{:?}",
        findings[1]
    );
    assert_eq!(findings[1].details["conversions"][0]["from"], "[degF]");
    assert_eq!(
        findings[3].verdict,
        Verdict::Misaligned,
        "{:?}",
        findings[3]
    );
    assert!(
        findings[3].reason.contains("2024-07-01 to 2025-01-01"),
        "{}",
        findings[3].reason
    );
}

#[test]
fn need_and_have_read_from_json() {
    let need: Need = serde_json::from_value(json!({
        "unit": "Cel",
        "extent": {"bbox": [4.0, 52.0, 5.0, 53.0], "crs": "OGC:CRS84"},
        "window": {"start": "2024-01-01T00:00:00Z", "end": null},
        "resolution": "PT1H"
    }))
    .unwrap();
    assert_eq!(
        need.window.as_ref().and_then(|w| w.start),
        Some(datetime!(2024-01-01 0:00 UTC))
    );
    let have: Have = serde_json::from_value(json!({
        "entity_type": "WeatherObserved",
        "attributes": {"temperature": {"type": "Property", "unit": "CEL"}}
    }))
    .unwrap();
    assert_eq!(
        have.attributes["temperature"].r#type.as_deref(),
        Some("Property")
    );
    let back: Have = serde_json::from_value(serde_json::to_value(&have).unwrap()).unwrap();
    assert_eq!(back, have);
}

#[test]
fn no_panic_on_hostile_input() {
    let strings = [
        "",
        " ",
        "\u{0}",
        "NaN",
        "-",
        "P99999999999Y",
        "EPSG:99999999999999999999",
        "ucum:",
        "unece:",
    ];
    let numbers = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN,
        -0.0,
        1e308,
    ];
    for s in strings {
        for n in numbers {
            let extent = Some(Extent {
                bbox: [n, n, n, n],
                crs: s.into(),
            });
            let need = Need {
                schema: Some(json!(s)),
                context: Some(json!(s)),
                unit: Some(s.into()),
                units: BTreeMap::from([(s.to_string(), s.to_string())]),
                crs: Some(s.into()),
                extent: extent.clone(),
                window: Some(Window {
                    start: Some(datetime!(2024-01-01 0:00 UTC)),
                    end: None,
                }),
                resolution: Some(s.into()),
            };
            let have = Have {
                schema: Some(json!({"properties": {s: {"type": s}}})),
                entity_type: Some(s.into()),
                attributes: BTreeMap::from([(
                    s.to_string(),
                    Attribute {
                        r#type: Some(s.into()),
                        unit: Some(s.into()),
                    },
                )]),
                context: Some(json!({s: s})),
                unit: Some(s.into()),
                units: BTreeMap::from([(s.to_string(), s.to_string())]),
                crs: Some(s.into()),
                extent,
                window: Some(Window {
                    start: None,
                    end: Some(datetime!(2024-01-01 0:00 UTC)),
                }),
                resolution: Some(s.into()),
            };
            assert_eq!(check(&need, &have).len(), 4);
        }
    }
    // A NaN box in a real CRS, and an absurd duration against a real one.
    let need = Need {
        extent: Some(Extent {
            bbox: [f64::NAN, 52.0, 5.0, 53.0],
            crs: "CRS84".into(),
        }),
        resolution: Some("P99999999999Y".into()),
        ..Default::default()
    };
    let have = Have {
        extent: need.extent.clone(),
        resolution: Some("PT1H".into()),
        ..Default::default()
    };
    let f = check(&need, &have);
    assert_eq!(
        (f[2].verdict, f[3].verdict),
        (Verdict::Unknown, Verdict::Unknown)
    );
}

/// A pairing is checked in well under 5 ms; measured over many runs so one slow start does not decide it. The bound
/// is for optimised builds; unoptimised test builds get ten times as long.
#[test]
fn check_is_fast() {
    let (need, have) = (flood_model_input(), weather_dataset());
    let _ = check(&need, &have); // the Rec 20 table and the meta-schemas are read once, on first use
    let runs = 50;
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(check(&need, &have));
    }
    let each = start.elapsed() / runs;
    let bound = if cfg!(debug_assertions) {
        Duration::from_millis(50)
    } else {
        Duration::from_millis(5)
    };
    assert!(each < bound, "check took {each:?} per pairing");
    eprintln!("check: {each:?} per pairing");
}
