//! Property names as IRIs: a model input and a dataset may call the same thing `temperature` and mean different
//! things (a Smart Data Models weather temperature, a room temperature), or call it differently and mean the same,
//! so names are expanded with each side's own JSON-LD `@context` before they are compared.
//!
//! Expansion is deliberately small and never fetches anything: inline term definitions (a string or `{"@id"}`),
//! `@vocab`, compact IRIs (`prefix:suffix`), absolute IRIs as written, the NGSI-LD core terms, and for anything no
//! context defines the NGSI-LD default vocabulary. The only context named by URL that is understood is the NGSI-LD
//! core context, whose terms are built in; any other URL is refused, so the caller can ask for it inline.

use std::collections::HashMap;

use serde_json::Value;

/// The NGSI-LD core context's IRIs start here; core terms expand to `<this><term>`.
const CORE: &str = "https://uri.etsi.org/ngsi-ld/";
/// Where terms that no context defines end up (the NGSI-LD core context's `@vocab`).
pub(crate) const DEFAULT_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/default-context/";
/// Deeper nesting than this is refused rather than followed (contexts are small; this bounds hostile input).
const MAX_DEPTH: usize = 8;

/// NGSI-LD core terms: protected by the core context, so no other context can redefine them.
const CORE_TERMS: &[&str] = &[
    "id",
    "type",
    "value",
    "object",
    "languageMap",
    "vocab",
    "json",
    "observedAt",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "datasetId",
    "instanceId",
    "unitCode",
    "scope",
    "lang",
    "location",
    "observationSpace",
    "operationSpace",
];

/// Whether `url` names the NGSI-LD core context (any version), the one remote context known without fetching.
pub(crate) fn is_core_context(url: &str) -> bool {
    url.strip_prefix("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context")
        .is_some_and(|rest| rest.ends_with(".jsonld"))
}

/// The terms one `@context` defines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    terms: HashMap<String, String>,
    vocab: Option<String>,
}

impl Terms {
    /// Reads a context: an inline object, a whole `{"@context": …}` document, the NGSI-LD core context URL, or an
    /// array of these. Refuses other URLs and values that cannot be a context, saying why.
    pub fn read(context: &Value) -> Result<Terms, String> {
        let mut terms = Terms::default();
        terms.add(context, 0)?;
        Ok(terms)
    }

    fn add(&mut self, value: &Value, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("the @context nests deeper than {MAX_DEPTH} levels"));
        }
        match value {
            Value::Null => Ok(()),
            Value::String(url) if is_core_context(url) => Ok(()),
            Value::String(url) => Err(format!(
                "the @context names {url}, which cannot be fetched here (only the NGSI-LD core context is known); \
                 give its content inline"
            )),
            Value::Array(items) => items.iter().try_for_each(|v| self.add(v, depth + 1)),
            Value::Object(map) => {
                if let Some(inner) = map.get("@context") {
                    return self.add(inner, depth + 1);
                }
                for (term, def) in map {
                    if term == "@vocab" {
                        self.vocab = def.as_str().map(str::to_string);
                        continue;
                    }
                    if term.starts_with('@') {
                        continue;
                    }
                    let iri = match def {
                        Value::String(s) => s,
                        Value::Object(o) => match o.get("@id") {
                            Some(Value::String(id)) => id,
                            Some(_) => {
                                return Err(format!("the @context's term {term:?} has an @id that is not a string"))
                            }
                            // A definition without @id (only @type, @container) keeps the vocabulary mapping.
                            None => continue,
                        },
                        // `null` un-defines a term, leaving it to the vocabulary.
                        Value::Null => {
                            self.terms.remove(term);
                            continue;
                        }
                        _ => return Err(format!("the @context's term {term:?} is defined by neither a string nor an object")),
                    };
                    self.terms.insert(term.clone(), iri.clone());
                }
                Ok(())
            }
            Value::Bool(_) | Value::Number(_) => {
                Err("an @context must be an object, a URL or a list of them".to_string())
            }
        }
    }

    /// The IRI a property name (or entity type) denotes under these terms.
    pub fn expand(&self, term: &str) -> String {
        let term = term.trim();
        if CORE_TERMS.contains(&term) {
            return format!("{CORE}{term}");
        }
        match self.terms.get(term) {
            Some(iri) => self.compact(iri).unwrap_or_else(|| iri.clone()),
            None => self.compact(term).unwrap_or_else(|| {
                if is_absolute(term) {
                    term.to_string()
                } else {
                    format!("{}{term}", self.vocab.as_deref().unwrap_or(DEFAULT_VOCAB))
                }
            }),
        }
    }

    /// `prefix:suffix` with a defined prefix, expanded; `None` for anything else.
    fn compact(&self, s: &str) -> Option<String> {
        let (prefix, suffix) = s.split_once(':')?;
        if suffix.starts_with("//") {
            return None;
        }
        self.terms.get(prefix).map(|base| format!("{base}{suffix}"))
    }
}

fn is_absolute(s: &str) -> bool {
    s.contains("://") || s.starts_with("urn:")
}

/// Pairs the need's property names with the dataset's. Names are compared as IRIs under each side's context; when
/// only one side states a context, the other side has not said what its names mean, so a plain-name match counts
/// too (and is reported as such); when neither does, plain names are compared.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    need: Option<Terms>,
    have: Option<Terms>,
}

/// Where a need's property was found on the dataset's side.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found<'a> {
    pub name: &'a str,
    /// Matched by plain name only, not by IRI.
    pub by_name: bool,
}

impl Matcher {
    /// Fails with the reason when a context is given but cannot be used.
    pub(crate) fn new(need: Option<&Value>, have: Option<&Value>) -> Result<Matcher, String> {
        let read = |side: &str, v: Option<&Value>| {
            v.map(|v| Terms::read(v).map_err(|e| format!("{side} {e}")))
                .transpose()
        };
        Ok(Matcher {
            need: read("the model's", need)?,
            have: read("the dataset's", have)?,
        })
    }

    /// The need's name for display and details, expanded when only IRIs can be compared.
    pub(crate) fn need_iri(&self, name: &str) -> String {
        match (&self.need, &self.have) {
            (None, None) => name.to_string(),
            (Some(t), _) => t.expand(name),
            (None, Some(_)) => Terms::default().expand(name),
        }
    }

    fn have_iri(&self, name: &str) -> String {
        match (&self.need, &self.have) {
            (None, None) => name.to_string(),
            (_, Some(t)) => t.expand(name),
            (Some(_), None) => Terms::default().expand(name),
        }
    }

    /// Indexes the dataset's names once, so each lookup is a hash probe.
    pub(crate) fn index<'a, I>(&self, have_names: I) -> HaveIndex<'a>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let fallback = self.need.is_some() != self.have.is_some();
        let mut by_iri = HashMap::new();
        let mut by_name = HashMap::new();
        for name in have_names {
            by_iri.entry(self.have_iri(name)).or_insert(name);
            if fallback {
                by_name.entry(name.trim().to_string()).or_insert(name);
            }
        }
        HaveIndex { by_iri, by_name }
    }

    /// The dataset's name for the need's `name`, if it has one.
    pub(crate) fn find<'a>(&self, index: &HaveIndex<'a>, name: &str) -> Option<Found<'a>> {
        if let Some(found) = index.by_iri.get(&self.need_iri(name)) {
            return Some(Found {
                name: found,
                by_name: false,
            });
        }
        index.by_name.get(name.trim()).map(|found| Found {
            name: found,
            by_name: true,
        })
    }
}

/// The dataset's names by IRI (and by plain name where that may match).
#[derive(Debug, Default)]
pub(crate) struct HaveIndex<'a> {
    by_iri: HashMap<String, &'a str>,
    by_name: HashMap<String, &'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const WEATHER: &str = "https://smartdatamodels.org/dataModel.Weather/";

    #[test]
    fn terms_expand_with_string_and_id_definitions_and_compact_iris() {
        let ctx = json!([
            {"sdm": WEATHER, "temperature": "sdm:temperature", "rain": {"@id": "sdm:precipitation", "@type": "@id"}},
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
        ]);
        let t = Terms::read(&ctx).unwrap();
        assert_eq!(t.expand("temperature"), format!("{WEATHER}temperature"));
        assert_eq!(t.expand("rain"), format!("{WEATHER}precipitation"));
        assert_eq!(t.expand("sdm:windSpeed"), format!("{WEATHER}windSpeed"));
        assert_eq!(t.expand("humidity"), format!("{DEFAULT_VOCAB}humidity"));
        assert_eq!(
            t.expand("location"),
            "https://uri.etsi.org/ngsi-ld/location"
        );
        assert_eq!(
            t.expand("https://schema.org/name"),
            "https://schema.org/name"
        );
        assert_eq!(t.expand("urn:x:y"), "urn:x:y");
    }

    #[test]
    fn vocab_and_whole_documents_are_read() {
        let t = Terms::read(&json!({"@context": {"@vocab": "https://schema.org/"}})).unwrap();
        assert_eq!(t.expand("name"), "https://schema.org/name");
    }

    #[test]
    fn remote_contexts_other_than_the_core_are_refused() {
        let e = Terms::read(&json!("https://example.org/context.jsonld")).unwrap_err();
        assert!(e.contains("https://example.org/context.jsonld"), "{e}");
        assert!(Terms::read(&json!(42)).is_err());
        assert!(Terms::read(&json!({"a": 1})).is_err());
        assert!(Terms::read(&json!({"a": {"@id": 1}})).is_err());
        assert!(Terms::read(&json!(
            "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
        ))
        .is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_not_followed() {
        let mut v = json!({});
        for _ in 0..50 {
            v = json!([v]);
        }
        assert!(Terms::read(&v).is_err());
    }

    #[test]
    fn matcher_compares_iris_or_plain_names() {
        let sdm = json!({"temperature": format!("{WEATHER}temperature")});
        let other = json!({"temperature": "https://example.org/roomTemperature"});

        let both = Matcher::new(Some(&sdm), Some(&sdm)).unwrap();
        let idx = both.index(["temperature"]);
        assert_eq!(
            both.find(&idx, "temperature").map(|f| f.by_name),
            Some(false)
        );

        let differ = Matcher::new(Some(&sdm), Some(&other)).unwrap();
        let idx = differ.index(["temperature"]);
        assert_eq!(differ.find(&idx, "temperature"), None);

        let one_side = Matcher::new(Some(&sdm), None).unwrap();
        let idx = one_side.index(["temperature"]);
        assert_eq!(
            one_side.find(&idx, "temperature").map(|f| f.by_name),
            Some(true)
        );

        let neither = Matcher::new(None, None).unwrap();
        let idx = neither.index(["temperature"]);
        assert_eq!(
            neither.find(&idx, "temperature").map(|f| f.by_name),
            Some(false)
        );
        assert_eq!(neither.find(&idx, "Temperature"), None);
    }
}
