//! NGSI-LD requests judged on expanded IRIs, with only what was judged reaching the broker. Per request, before
//! the broker is contacted: the partner's `Link` header is read per RFC 8288 and its one @context must be declared
//! ([`link`]); the query string is parsed in full, parameter by parameter and through the NGSI-LD query languages
//! ([`query`], [`q`]); every type and attribute it names anywhere is expanded with that context
//! ([`ActiveContext`]) and compared with what the distribution allows. The broker then gets a `Link` and a query
//! string rebuilt from the parsed values, never the partner's text, so it cannot read the request differently from
//! how it was judged. Where the resource filters responses, [`filter_response`] removes what the lists exclude.

pub mod context;
pub mod link;
pub mod q;
pub mod query;

use serde_json::Value;

use super::problem::Refusal;
use crate::catalogue::NgsiLdSettings;
use context::{is_core_term, CORE_TERMS};
pub use context::{ActiveContext, CORE_CONTEXT_PREFIX, DEFAULT_VOCAB};
use query::{Kind, Param, Parameters};

/// Which NGSI-LD operation a path addresses, relative to the broker base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `…/entities`: Query Entities.
    Entities,
    /// `…/entities/{id}`: Retrieve Entity.
    Entity,
    /// Anything else (types, attributes, temporal, subscriptions, ...).
    Other,
}

impl Endpoint {
    /// The operation `below` (decoded segments under the base URL) addresses. The base may be the API root
    /// (`…/ngsi-ld/v1`) or the entities resource itself (`…/ngsi-ld/v1/entities?type=Road`).
    pub fn of(base: &url::Url, below: &[String]) -> Endpoint {
        let base_is_entities = base
            .path_segments()
            .and_then(|mut s| s.rfind(|seg| !seg.is_empty()))
            .is_some_and(|last| last == "entities");
        let rest = if base_is_entities {
            below
        } else {
            match below.split_first() {
                Some((first, rest)) if first == "entities" => rest,
                _ => return Endpoint::Other,
            }
        };
        match rest.len() {
            0 => Endpoint::Entities,
            1 => Endpoint::Entity,
            _ => Endpoint::Other,
        }
    }
}

/// A partner's request as far as the NGSI-LD rules read it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub endpoint: Endpoint,
    /// Every `Link` header line, as text.
    pub link: &'a [&'a str],
    /// The partner's query string, still percent-encoded.
    pub query: Option<&'a str>,
    /// The backend URL's own query (the operator's, trusted: `type=Road`).
    pub base_query: Option<&'a str>,
    /// The `Accept` header lines, joined.
    pub accept: Option<&'a str>,
}

/// What the broker is sent after judgement, and the context for filtering its response.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The partner's query string rebuilt from the parsed, judged values (to follow the base URL's own).
    pub query: Option<String>,
    /// The `Link` header to send: the judged context, rebuilt; `None` for the core context alone.
    pub link: Option<String>,
    pub context: ActiveContext,
}

/// Checks a partner's request against the settings, before the broker is contacted, and builds what the broker gets.
pub fn judge(settings: &NgsiLdSettings, incoming: &Incoming<'_>) -> Result<Judged, Refusal> {
    let link = link::judge(incoming.link, &settings.contexts)?;
    let bad = |e: query::QueryError| Refusal::bad_request(e.to_string());
    let pairs = query::pairs(incoming.query).map_err(bad)?;
    if !settings.query_parameters.is_empty() {
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, _)| !settings.query_parameters.contains(k))
        {
            return Err(Refusal::forbidden(format!(
                "query parameter {k} is not allowed on this resource (allowed: {})",
                settings.query_parameters.join(", ")
            )));
        }
    }
    let base: Vec<String> =
        url::form_urlencoded::parse(incoming.base_query.unwrap_or_default().as_bytes())
            .map(|(k, _)| k.into_owned())
            .collect();
    if let Some((k, _)) = pairs.iter().find(|(k, _)| base.contains(k)) {
        return Err(Refusal::forbidden(format!(
            "query parameter {k} is fixed by this resource and cannot be given again"
        )));
    }
    let restricted = !settings.entity_types.is_empty() || !settings.attributes.is_empty();
    let kind = match incoming.endpoint {
        Endpoint::Entities => Kind::Query,
        Endpoint::Entity => Kind::Retrieve,
        Endpoint::Other if restricted => {
            return Err(Refusal::forbidden(
                "this resource serves entity queries only (…/entities or …/entities/{id})",
            ))
        }
        // No rule reads these paths' parameters: only their encoding is made canonical.
        Endpoint::Other => {
            return Ok(Judged {
                query: query::canonical_pairs(&pairs).map_err(bad)?,
                link: link.outgoing,
                context: link.context,
            })
        }
    };
    let params = Parameters::parse(&pairs, kind).map_err(bad)?;
    if restricted {
        let judge = Judge {
            settings,
            ctx: &link.context,
        };
        judge.parameters(&params, kind, base.iter().any(|k| k == "type"))?;
        judge.representation(&params, incoming.accept)?;
    }
    Ok(Judged {
        query: params.canonical(),
        link: link.outgoing,
        context: link.context,
    })
}

struct Judge<'a> {
    settings: &'a NgsiLdSettings,
    ctx: &'a ActiveContext,
}

impl Judge<'_> {
    fn attribute(&self, param: &str, term: &str) -> Result<(), Refusal> {
        let iri = self.ctx.expand(term);
        let allowed = self.settings.attributes.is_empty()
            || self.settings.attributes.contains(&iri)
            || is_core_term(&iri);
        if allowed {
            Ok(())
        } else {
            Err(Refusal::forbidden(format!(
                "attribute {term} ({iri}) in {param} is not covered by this resource"
            )))
        }
    }

    fn entity_type(&self, term: &str) -> Result<(), Refusal> {
        let iri = self.ctx.expand(term);
        if self.settings.entity_types.is_empty() || self.settings.entity_types.contains(&iri) {
            Ok(())
        } else {
            Err(Refusal::forbidden(format!(
                "entity type {term} ({iri}) is not covered by this resource"
            )))
        }
    }

    fn parameters(
        &self,
        params: &Parameters,
        kind: Kind,
        base_has_type: bool,
    ) -> Result<(), Refusal> {
        use query::Value as V;
        let reaches_out = |what: &str| {
            Err(Refusal::forbidden(format!(
                "{what} would return entities or attributes this resource's lists do not judge; not served here"
            )))
        };
        let mut has_type = base_has_type;
        let mut has_attrs = false;
        for (param, value) in params.iter() {
            let name = param.name();
            match (param, value) {
                (Param::Type, V::Types(types)) => {
                    has_type = true;
                    types
                        .atoms()
                        .try_for_each(|t| self.entity_type(t.as_str()))?;
                }
                (_, V::Names(names)) => {
                    has_attrs |= matches!(param, Param::Attrs | Param::Pick);
                    names
                        .iter()
                        .try_for_each(|n| self.attribute(name, n.as_str()))?;
                }
                (_, V::Name(n)) => self.attribute(name, n.as_str())?,
                (Param::Q, V::Query(q)) => {
                    for term in q.atoms() {
                        if term.path.is_linked() {
                            return reaches_out(&format!("a linked entity query ({term}) in q"));
                        }
                        self.attribute(name, term.path.attribute())?;
                    }
                }
                (Param::Csf, _) => return reaches_out("a context source filter (csf)"),
                (Param::Join, V::Words(w)) if w.as_slice() != ["@none"] => {
                    return reaches_out("join (linked entity retrieval)")
                }
                (Param::JoinLevel | Param::ContainedBy, _) => {
                    return reaches_out(&format!("{name} (linked entity retrieval)"))
                }
                (Param::EntityMap, V::Flag(true)) => return reaches_out("entityMap"),
                _ => {}
            }
        }
        // A geo-query without geoproperty filters on location: where the entities are is an attribute too.
        if params.get(Param::Georel).is_some() && params.get(Param::Geoproperty).is_none() {
            self.attribute("a geo-query (on location)", "location")?;
        }
        // Without a filter on the way back, an unrestricted request could return what the lists exclude.
        if !self.settings.filter_responses {
            if !self.settings.entity_types.is_empty() {
                if kind == Kind::Retrieve {
                    // A broker ignores `type` on a retrieve: the entity's type is unknown until it is read.
                    return Err(Refusal::forbidden(
                        "entities by id are not served for this resource (their type is unknown beforehand, \
                         and a retrieve ignores type=); query …/entities?type=…&id=… instead",
                    ));
                }
                if !has_type {
                    return Err(Refusal::forbidden(
                        "a type= query naming an allowed entity type is required",
                    ));
                }
            }
            if !self.settings.attributes.is_empty() && !has_attrs {
                return Err(Refusal::forbidden(
                    "an attrs= (or pick=) list of allowed attributes is required",
                ));
            }
        }
        Ok(())
    }

    /// GeoJSON representations carry a geometry taken from `geometryProperty` (by default `location`).
    fn representation(&self, params: &Parameters, accept: Option<&str>) -> Result<(), Refusal> {
        let geojson = accept.is_some_and(|a| {
            a.split(',').any(|range| {
                range
                    .split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/geo+json"))
            })
        });
        if !geojson {
            return Ok(());
        }
        match params.get(Param::GeometryProperty) {
            Some(query::Value::Name(n)) => self.attribute("geometryProperty", n.as_str()),
            _ => self.attribute("a GeoJSON geometry (application/geo+json)", "location"),
        }
    }
}

/// What filtering did to a response.
#[derive(Debug, PartialEq)]
pub enum Filtered {
    Body(Vec<u8>),
    /// A single entity of a type the resource does not cover.
    Forbidden,
}

/// Removes entities of uncovered types and uncovered attributes from an NGSI-LD JSON response (one entity or a
/// list). A body that is not JSON is refused: serving it unfiltered would defeat the restriction.
pub fn filter_response(
    settings: &NgsiLdSettings,
    ctx: &ActiveContext,
    body: &[u8],
) -> Result<Filtered, Refusal> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        Refusal::bad_gateway("the broker's response is not JSON and cannot be filtered")
    })?;
    let type_ok = |e: &serde_json::Map<String, Value>| {
        if settings.entity_types.is_empty() {
            return true;
        }
        let types: Vec<&str> = match e.get("type").or_else(|| e.get("@type")) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        !types.is_empty()
            && types
                .iter()
                .all(|t| settings.entity_types.contains(&ctx.expand(t)))
    };
    let strip = |e: &mut serde_json::Map<String, Value>| {
        if settings.attributes.is_empty() {
            return;
        }
        e.retain(|k, _| {
            CORE_TERMS.contains(&k.as_str()) || settings.attributes.contains(&ctx.expand(k))
        });
    };
    let out = match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(mut e) if type_ok(&e) => {
                        strip(&mut e);
                        Some(Value::Object(e))
                    }
                    _ => None,
                })
                .collect(),
        ),
        Value::Object(mut e) => {
            if !type_ok(&e) {
                return Ok(Filtered::Forbidden);
            }
            strip(&mut e);
            Value::Object(e)
        }
        _ => {
            return Err(Refusal::bad_gateway(
                "the broker's response is not an entity or a list",
            ))
        }
    };
    Ok(Filtered::Body(serde_json::to_vec(&out).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    const CITY_CTX: &str = "https://city-a.example/context.jsonld";
    const PARTNER_CTX: &str = "https://city-b.example/context.jsonld";
    const SPEED: &str = "https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed";
    const OWNER: &str = "https://city-a.example/ns/ownerName";
    const FLOW: &str = "https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved";

    fn link(url: &str) -> String {
        link::context_link(&url::Url::parse(url).unwrap())
    }

    fn settings(filter: bool) -> NgsiLdSettings {
        let mut contexts = BTreeMap::new();
        contexts.insert(
            CITY_CTX.to_string(),
            json!({"@context": {"sdm": "https://smartdatamodels.org/dataModel.Transportation/",
                                "speed": "sdm:averageVehicleSpeed", "TrafficFlowObserved": "sdm:TrafficFlowObserved",
                                "owner": {"@id": OWNER}}}),
        );
        // The partner's own context maps an innocent name onto the forbidden attribute.
        contexts.insert(
            PARTNER_CTX.to_string(),
            json!({"speed": OWNER, "Flow": FLOW}),
        );
        NgsiLdSettings {
            tenant: Some("city".into()),
            entity_types: vec![FLOW.into()],
            attributes: vec![SPEED.into()],
            query_parameters: Vec::new(),
            filter_responses: filter,
            contexts,
        }
    }

    fn ctx(url: Option<&str>) -> ActiveContext {
        let line = url.map(link);
        let lines: Vec<&str> = line.iter().map(String::as_str).collect();
        link::judge(&lines, &settings(false).contexts)
            .unwrap()
            .context
    }

    fn judge_with(
        s: &NgsiLdSettings,
        context: Option<&str>,
        endpoint: Endpoint,
        query: &str,
    ) -> Result<Judged, Refusal> {
        let line = context.map(link);
        let lines: Vec<&str> = line.iter().map(String::as_str).collect();
        judge(
            s,
            &Incoming {
                endpoint,
                link: &lines,
                query: Some(query),
                base_query: None,
                accept: None,
            },
        )
    }

    /// Query Entities under the city's own context.
    fn city(s: &NgsiLdSettings, query: &str) -> Result<Judged, Refusal> {
        judge_with(s, Some(CITY_CTX), Endpoint::Entities, query)
    }

    fn status(r: Result<Judged, Refusal>) -> u16 {
        r.map(|_| 200).unwrap_or_else(|e| e.status.as_u16())
    }

    #[test]
    fn terms_expand_through_definitions_prefixes_core_and_vocab() {
        let c = ctx(Some(CITY_CTX));
        assert_eq!(c.expand("speed"), SPEED);
        assert_eq!(c.expand("owner"), OWNER);
        assert_eq!(c.expand("sdm:averageVehicleSpeed"), SPEED);
        assert_eq!(
            c.expand("location"),
            "https://uri.etsi.org/ngsi-ld/location"
        );
        assert_eq!(c.expand("colour"), format!("{DEFAULT_VOCAB}colour"));
        assert_eq!(c.expand(OWNER), OWNER);
        // No Link header: the core context alone.
        assert_eq!(ctx(None).expand("speed"), format!("{DEFAULT_VOCAB}speed"));
    }

    #[test]
    fn a_partner_context_cannot_rename_a_forbidden_attribute_into_an_allowed_name() {
        let s = settings(false);
        assert!(city(&s, "type=TrafficFlowObserved&attrs=speed").is_ok());
        let trick = |q| judge_with(&s, Some(PARTNER_CTX), Endpoint::Entities, q);
        let refused = trick("type=Flow&attrs=speed").unwrap_err();
        assert_eq!(refused.status, 403);
        assert!(refused.detail.contains(OWNER), "{}", refused.detail);
        // The same trick inside a q filter.
        assert_eq!(status(trick("type=Flow&attrs=sdm:x&q=speed>50")), 403);
    }

    #[test]
    fn types_parameters_and_paths_are_restricted() {
        let mut s = settings(false);
        let e = city(&s, "type=Building&attrs=speed").unwrap_err();
        assert!(e.detail.contains("Building"));
        // Without type= or attrs= the broker could return anything: refused unless responses are filtered.
        assert_eq!(status(city(&s, "attrs=speed")), 403);
        assert_eq!(status(city(&s, "type=TrafficFlowObserved")), 403);
        let base_typed = judge(
            &s,
            &Incoming {
                endpoint: Endpoint::Entities,
                link: &[],
                query: Some(&format!("attrs={SPEED}")),
                base_query: Some(
                    "type=https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved",
                ),
                accept: None,
            },
        );
        assert!(base_typed.is_ok(), "the backend URL's type= counts");
        assert_eq!(
            status(judge_with(&s, Some(CITY_CTX), Endpoint::Other, "")),
            403
        );
        s.filter_responses = true;
        assert!(judge_with(&s, Some(CITY_CTX), Endpoint::Entity, "").is_ok());
        s.query_parameters = vec!["type".into(), "attrs".into()];
        let e = city(&s, "type=TrafficFlowObserved&georel=near").unwrap_err();
        assert_eq!(e.status, 403);
        assert!(e.detail.contains("georel"));
    }

    #[test]
    fn a_parameter_the_backend_url_fixes_cannot_be_given_again() {
        let s = settings(false);
        let e = judge(
            &s,
            &Incoming {
                endpoint: Endpoint::Entities,
                link: &[],
                query: Some("type=Other&attrs=sdm:x"),
                base_query: Some(
                    "type=https://smartdatamodels.org/dataModel.Transportation/TrafficFlowObserved",
                ),
                accept: None,
            },
        )
        .unwrap_err();
        assert_eq!(e.status, 403);
        assert!(e.detail.contains("type"), "{}", e.detail);
    }

    #[test]
    fn a_negated_forbidden_attribute_in_q_is_refused() {
        let s = settings(false);
        for q in [
            "!owner",
            "speed>1|!owner",
            "(speed>1;(!owner))",
            "owner",
            "owner.observedAt>2024-01-01",
        ] {
            let e = city(&s, &format!("type=TrafficFlowObserved&attrs=speed&q={q}")).unwrap_err();
            assert_eq!(e.status, 403, "{q}");
            assert!(e.detail.contains(OWNER), "{q}: {}", e.detail);
        }
        // A forbidden name inside a quoted string is a value, not an attribute.
        let ok = city(
            &s,
            "type=TrafficFlowObserved&attrs=speed&q=speed==%22;!owner%22",
        )
        .unwrap();
        assert_eq!(
            ok.query.as_deref(),
            Some("type=TrafficFlowObserved&attrs=speed&q=speed%3D%3D%22%3B%21owner%22")
        );
    }

    #[test]
    fn every_parameter_naming_an_attribute_is_judged() {
        let s = settings(true);
        for q in [
            "attrs=owner",
            "pick=id,owner",
            "omit=owner",
            "expandValues=owner",
            "jsonKeys=owner",
            "q=owner",
            "georel=within&geometry=Point&coordinates=[1,2]&geoproperty=owner",
            "geometryProperty=owner",
        ] {
            let e = city(&s, q).unwrap_err();
            assert_eq!(e.status, 403, "{q}");
            assert!(e.detail.contains(OWNER), "{q}: {}", e.detail);
        }
        for q in [
            "attrs=speed",
            "pick=id,type,speed",
            "omit=speed",
            "expandValues=speed",
            "q=speed.observedAt>2024-01-01",
        ] {
            assert!(city(&s, q).is_ok(), "{q}");
        }
        // A geo-query without geoproperty filters on location, which this resource does not list.
        let e = city(&s, "georel=within&geometry=Point&coordinates=[1,2]").unwrap_err();
        assert!(e.detail.contains("location"), "{}", e.detail);
        let mut with_location = settings(true);
        with_location
            .attributes
            .push(format!("{CORE_CONTEXT_PREFIX}location"));
        assert!(city(
            &with_location,
            "georel=near;maxDistance==100&geometry=Point&coordinates=[1,2]"
        )
        .is_ok());
    }

    #[test]
    fn a_geojson_representation_is_judged_on_its_geometry() {
        let s = settings(true);
        let geo = |accept: &str, q: &str| {
            judge(
                &s,
                &Incoming {
                    endpoint: Endpoint::Entities,
                    link: &[],
                    query: Some(q),
                    base_query: None,
                    accept: Some(accept),
                },
            )
        };
        assert_eq!(status(geo("application/geo+json", "")), 403);
        assert_eq!(
            status(geo("application/json;q=0.5, APPLICATION/GEO+JSON", "")),
            403
        );
        assert_eq!(status(geo("application/json", "")), 200);
        assert_eq!(
            status(geo(
                "application/geo+json",
                &format!("geometryProperty={SPEED}")
            )),
            200
        );
    }

    #[test]
    fn linked_entities_joins_and_context_source_filters_are_refused_when_restricted() {
        let s = settings(true);
        for q in [
            "q=speed{owner}==%22x%22",
            "join=inline",
            "join=flat",
            "joinLevel=2",
            "containedBy=urn:a",
            "entityMap=true",
            "csf=endpoint==%22x%22",
        ] {
            assert_eq!(status(city(&s, q)), 403, "{q}");
        }
        for q in [
            "join=@none",
            "entityMap=false",
            "local=true",
            "limit=5&offset=10&count=true",
        ] {
            assert!(city(&s, q).is_ok(), "{q}");
        }
        // An unrestricted resource has nothing these could escape: parsed, not judged.
        let open = NgsiLdSettings::default();
        let open_query = |q| judge_with(&open, None, Endpoint::Entities, q);
        for q in [
            "q=speed{owner}==%22x%22",
            "join=inline&joinLevel=2",
            "csf=endpoint==%22x%22",
        ] {
            assert!(open_query(q).is_ok(), "{q}");
        }
        assert_eq!(status(open_query("q=speed>")), 400, "but parsed");
    }

    #[test]
    fn an_entity_by_id_with_type_is_refused_on_a_strict_resource() {
        let strict = settings(false);
        for q in ["", "type=TrafficFlowObserved&attrs=speed"] {
            let e = judge_with(&strict, Some(CITY_CTX), Endpoint::Entity, q).unwrap_err();
            assert_eq!(e.status, 403, "{q}");
            assert!(e.detail.contains("by id"), "{}", e.detail);
        }
        // Filtering responses checks the entity's type on the way back (see filter_response).
        let filtered = settings(true);
        assert!(judge_with(
            &filtered,
            Some(CITY_CTX),
            Endpoint::Entity,
            "type=TrafficFlowObserved"
        )
        .is_ok());
        assert_eq!(
            status(judge_with(
                &filtered,
                Some(CITY_CTX),
                Endpoint::Entity,
                "q=speed"
            )),
            400,
            "a retrieve takes no q"
        );
    }

    #[test]
    fn the_broker_gets_the_judged_link_and_a_canonical_query() {
        let s = settings(false);
        let judged = city(
            &s,
            "attrs=speed&type=%28TrafficFlowObserved%29&q=(speed%3E40|speed==1..5);speed!=3&limit=010",
        )
        .unwrap();
        assert_eq!(
            judged.query.as_deref(),
            Some("type=%28TrafficFlowObserved%29&attrs=speed&q=%28speed%3E40%7Cspeed%3D%3D1..5%29%3Bspeed%21%3D3&limit=10")
        );
        assert_eq!(judged.link.as_deref(), Some(link(CITY_CTX).as_str()));
        for bad in [
            "attrs=speed&attrs=owner",
            "attrs=speed&type=A&foo=1",
            "attrs=speed&type=A&q=speed>",
        ] {
            assert_eq!(status(city(&s, bad)), 400, "{bad}");
        }
        // Paths no rule reads, on an unrestricted resource: only the encoding changes.
        let open = NgsiLdSettings::default();
        let other = judge_with(&open, None, Endpoint::Other, "details=true&x=a+b").unwrap();
        assert_eq!(other.query.as_deref(), Some("details=true&x=a%2Bb"));
        assert_eq!(other.link, None);
    }

    #[test]
    fn endpoints_are_told_apart_relative_to_the_base() {
        let api = url::Url::parse("http://broker:1026/ngsi-ld/v1").unwrap();
        let entities =
            url::Url::parse("http://broker:1026/ngsi-ld/v1/entities/?type=Road").unwrap();
        let seg = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(Endpoint::of(&api, &seg(&["entities"])), Endpoint::Entities);
        assert_eq!(
            Endpoint::of(&api, &seg(&["entities", "urn:x"])),
            Endpoint::Entity
        );
        assert_eq!(
            Endpoint::of(&api, &seg(&["temporal", "entities"])),
            Endpoint::Other
        );
        assert_eq!(
            Endpoint::of(&api, &seg(&["entities", "urn:x", "attrs"])),
            Endpoint::Other
        );
        assert_eq!(Endpoint::of(&api, &seg(&["types"])), Endpoint::Other);
        assert_eq!(Endpoint::of(&api, &seg(&[])), Endpoint::Other);
        assert_eq!(Endpoint::of(&entities, &seg(&[])), Endpoint::Entities);
        assert_eq!(Endpoint::of(&entities, &seg(&["urn:x"])), Endpoint::Entity);
        assert_eq!(
            Endpoint::of(&entities, &seg(&["urn:x", "entities"])),
            Endpoint::Other
        );
    }

    #[test]
    fn q_expressions_name_their_attributes() {
        let names = |text: &str| -> Vec<String> {
            q::query(text)
                .unwrap()
                .atoms()
                .map(|t| t.path.attribute().to_string())
                .collect()
        };
        assert_eq!(
            names(r#"speed>50;(a==1|b.c!="x;y")"#),
            vec!["speed", "a", "b"]
        );
        assert_eq!(names("name~=\"^A\""), vec!["name"]);
    }

    #[test]
    fn responses_lose_uncovered_entities_and_attributes() {
        let s = settings(true);
        let c = ctx(Some(CITY_CTX));
        let body = json!([
            {"id": "urn:a", "type": "TrafficFlowObserved", "speed": {"type": "Property", "value": 40},
             "owner": {"type": "Property", "value": "J. Doe"}},
            {"id": "urn:b", "type": "Building", "speed": {"type": "Property", "value": 1}}
        ]);
        let Filtered::Body(out) = filter_response(&s, &c, body.to_string().as_bytes()).unwrap()
        else {
            panic!("filtered");
        };
        let out: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            out,
            json!([{"id": "urn:a", "type": "TrafficFlowObserved", "speed": {"type": "Property", "value": 40}}])
        );
        let single = json!({"id": "urn:b", "type": "Building"});
        assert_eq!(
            filter_response(&s, &c, single.to_string().as_bytes()).unwrap(),
            Filtered::Forbidden
        );
        assert!(filter_response(&s, &c, b"not json").is_err());
    }

    #[test]
    fn an_entity_retrieved_by_id_is_checked_on_its_type() {
        let s = settings(true);
        let c = ctx(Some(CITY_CTX));
        // What a broker answers to …/entities/urn:b?type=TrafficFlowObserved: the entity, whatever its type.
        for (entity, forbidden) in [
            (
                json!({"id": "urn:b", "type": "Building", "speed": {"type": "Property", "value": 1}}),
                true,
            ),
            (
                json!({"id": "urn:b", "type": ["TrafficFlowObserved", "Building"]}),
                true,
            ),
            (json!({"id": "urn:b"}), true),
            (
                json!({"id": "urn:a", "type": "TrafficFlowObserved", "owner": "J. Doe", "speed": 3}),
                false,
            ),
        ] {
            let out = filter_response(&s, &c, entity.to_string().as_bytes()).unwrap();
            assert_eq!(out == Filtered::Forbidden, forbidden, "{entity}");
            if let Filtered::Body(b) = out {
                let v: Value = serde_json::from_slice(&b).unwrap();
                assert_eq!(
                    v,
                    json!({"id": "urn:a", "type": "TrafficFlowObserved", "speed": 3})
                );
            }
        }
    }
}
