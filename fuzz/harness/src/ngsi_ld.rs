//! `ngsi_ld_query` and `ngsi_ld_link`: a partner's NGSI-LD query string and `Link` header, through the parsers the
//! data plane judges them with. The broker never sees the partner's text, only what is rebuilt from the parsed
//! values, so the rebuilt text must parse to exactly what was judged (or the broker could read something nobody
//! judged), and a judged `Link` may name only a context the resource declares.

use std::collections::BTreeMap;
use std::fmt::{Debug, Display};
use std::sync::OnceLock;

use serde_json::{json, Value};
use twinport::dataplane::ngsi_ld::link::{context_link, context_url, judge};
use twinport::dataplane::ngsi_ld::q::{self, ParseError};
use twinport::dataplane::ngsi_ld::query::{self, Kind, Parameters};
use twinport::dataplane::ngsi_ld::ActiveContext;

/// Reads `data` as a whole query string and, on its own, as each query language.
pub fn ngsi_ld_query(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    reparses(text, q::query);
    reparses(text, q::types);
    reparses(text, q::scopes);
    reparses(text, q::name);
    if let Ok(names) = q::names(text) {
        let printed: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(
            q::names(&printed.join(",")).as_ref(),
            Ok(&names),
            "names {text:?}: the printed form reads differently"
        );
    }
    query_string(text);
}

/// `parse(print(parse(x))) == parse(x)`, and printing is a fixed point.
fn reparses<T: Display + PartialEq + Debug>(text: &str, parse: fn(&str) -> Result<T, ParseError>) {
    let Ok(parsed) = parse(text) else {
        return;
    };
    let printed = parsed.to_string();
    match parse(&printed) {
        Ok(again) => {
            assert_eq!(
                again, parsed,
                "{text:?}: the printed form {printed:?} reads differently"
            );
            assert_eq!(
                again.to_string(),
                printed,
                "{text:?}: printing is not stable"
            );
        }
        Err(e) => panic!("{text:?}: the printed form {printed:?} does not read back: {e}"),
    }
}

/// The whole query string, as Query Entities and as Retrieve Entity: the canonical string the broker gets must
/// parse to the same parameters and be its own canonical form.
fn query_string(text: &str) {
    let Ok(pairs) = query::pairs(Some(text)) else {
        return;
    };
    if let Ok(Some(rebuilt)) = query::canonical_pairs(&pairs) {
        match query::pairs(Some(&rebuilt)) {
            Ok(again) => assert_eq!(
                again, pairs,
                "{text:?}: re-encoded as {rebuilt:?} reads differently"
            ),
            Err(e) => panic!("{text:?}: re-encoded as {rebuilt:?} does not read back: {e}"),
        }
    }
    for kind in [Kind::Query, Kind::Retrieve] {
        let Ok(parameters) = Parameters::parse(&pairs, kind) else {
            continue;
        };
        let canonical = parameters.canonical();
        let reread =
            query::pairs(canonical.as_deref()).and_then(|pairs| Parameters::parse(&pairs, kind));
        match reread {
            Ok(again) => {
                assert_eq!(
                    again, parameters,
                    "{text:?}: the canonical query {canonical:?} reads differently"
                );
                assert_eq!(
                    again.canonical(),
                    canonical,
                    "{text:?}: the canonical query is not stable"
                );
            }
            Err(e) => panic!("{text:?}: the canonical query {canonical:?} does not read back: {e}"),
        }
    }
}

/// The declared context every accepted link must resolve to, as the catalogue would declare it.
const CITY: &str = "https://city-a.example/ngsi-ld/context.jsonld";
/// A second declared context that includes the first by reference.
const CITY_ALL: &str = "https://city-a.example/ngsi-ld/all.jsonld";

fn declared() -> &'static BTreeMap<String, Value> {
    static DECLARED: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    DECLARED.get_or_init(|| {
        BTreeMap::from([
            (
                CITY.to_string(),
                json!({"@context": {
                    "sdm": "https://smartdatamodels.org/dataModel.Transportation/",
                    "speed": "sdm:averageVehicleSpeed",
                    "Road": {"@id": "https://smartdatamodels.org/dataModel.Transportation/Road"}
                }}),
            ),
            (
                CITY_ALL.to_string(),
                json!([CITY, {"parking": "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"}]),
            ),
        ])
    })
}

/// Reads `data` as one `Link` header line, and split at line breaks as several.
pub fn ngsi_ld_link(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(Some(url)) = context_url(text) {
        let written = context_link(&url);
        match context_url(&written) {
            Ok(Some(again)) => assert_eq!(
                again, url,
                "{text:?}: the rebuilt link {written:?} names another URL"
            ),
            other => panic!("{text:?}: the rebuilt link {written:?} does not read back: {other:?}"),
        }
    }
    judged(&[text]);
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() > 1 {
        judged(&lines);
    }
}

fn judged(lines: &[&str]) {
    let Ok(judged) = judge(lines, declared()) else {
        return;
    };
    let Some(outgoing) = &judged.outgoing else {
        assert_eq!(
            judged.context,
            ActiveContext::default(),
            "{lines:?}: no link is forwarded, yet terms are expanded with a partner context"
        );
        return;
    };
    assert!(
        axum::http::HeaderValue::from_str(outgoing).is_ok(),
        "{lines:?}: the forwarded link {outgoing:?} is not a header value"
    );
    let url = match context_url(outgoing) {
        Ok(Some(url)) => url,
        other => panic!("{lines:?}: the forwarded link {outgoing:?} names no context: {other:?}"),
    };
    assert_eq!(
        outgoing,
        &context_link(&url),
        "{lines:?}: the forwarded link is not rebuilt"
    );
    let key = declared()
        .keys()
        .find(|k| url::Url::parse(k).is_ok_and(|d| d == url));
    let Some(key) = key else {
        panic!("{lines:?}: the forwarded link {outgoing:?} names a context the resource does not declare");
    };
    match ActiveContext::declared(key, declared()) {
        Ok(ctx) => assert_eq!(
            ctx, judged.context,
            "{lines:?}: terms are expanded with another context than the forwarded one"
        ),
        Err(e) => panic!("{lines:?}: the declared context {key} does not load: {e:?}"),
    }
}
