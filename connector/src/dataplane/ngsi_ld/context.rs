//! Term expansion under the one @context a request is judged with. A partner names types and attributes with short
//! terms that mean whatever its context says, so every term is expanded with that same context before it is compared
//! with what the distribution allows, and a partner that maps an innocent-looking term to a forbidden attribute IRI
//! (the "@context trick") is judged on the IRI, exactly as the broker will read it.
//!
//! Expansion is deliberately small: term definitions (string or `{"@id"}`), compact IRIs (`prefix:suffix`),
//! absolute IRIs as written, NGSI-LD core terms (protected, so no partner context can redefine them) and the core
//! context's `@vocab` for anything undefined. Context documents are never fetched: only the core context and the
//! contexts the distribution declares (with their content) are usable.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::super::problem::Refusal;

/// The NGSI-LD core context, which needs no declaration.
pub const CORE_CONTEXT_PREFIX: &str = "https://uri.etsi.org/ngsi-ld/";
/// Where terms no context defines end up (the core context's `@vocab`).
pub const DEFAULT_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

/// Core terms: always `https://uri.etsi.org/ngsi-ld/<term>`, never restricted, never filtered.
pub(super) const CORE_TERMS: &[&str] = &[
    "id",
    "type",
    "@context",
    "@id",
    "@type",
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
];

/// Core attributes that describe where an entity is: served like any other attribute only when allowed.
const CORE_ATTRIBUTES: &[&str] = &["location", "observationSpace", "operationSpace"];

/// Term → IRI for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActiveContext {
    terms: HashMap<String, String>,
}

impl ActiveContext {
    /// The core context alone plus the declared context at `url` (a key of `declared`) and what it references.
    pub fn declared(
        url: &str,
        declared: &BTreeMap<String, Value>,
    ) -> Result<ActiveContext, Refusal> {
        let mut ctx = ActiveContext::default();
        ctx.add_url(url, declared)?;
        Ok(ctx)
    }

    fn add_url(&mut self, url: &str, declared: &BTreeMap<String, Value>) -> Result<(), Refusal> {
        if url.starts_with(CORE_CONTEXT_PREFIX) {
            return Ok(());
        }
        let doc = declared
            .get(url)
            .ok_or_else(|| not_declared(url, declared))?;
        // A declared document may be the whole `{"@context": ...}` or the context value itself.
        let value = doc.get("@context").unwrap_or(doc).clone();
        self.add(&value, declared, 0)
    }

    fn add(
        &mut self,
        value: &Value,
        declared: &BTreeMap<String, Value>,
        depth: usize,
    ) -> Result<(), Refusal> {
        if depth > 8 {
            return Err(Refusal::bad_request("@context nests too deeply"));
        }
        match value {
            Value::String(url) => self.add_url(url, declared),
            Value::Array(items) => items
                .iter()
                .try_for_each(|v| self.add(v, declared, depth + 1)),
            Value::Object(map) => {
                for (term, def) in map {
                    if term.starts_with('@') {
                        continue;
                    }
                    let iri = match def {
                        Value::String(s) => s.clone(),
                        Value::Object(o) => match o.get("@id").and_then(Value::as_str) {
                            Some(id) => id.to_string(),
                            None => continue,
                        },
                        _ => continue,
                    };
                    self.terms.insert(term.clone(), iri);
                }
                Ok(())
            }
            Value::Null => Ok(()),
            _ => Err(Refusal::bad_request(
                "@context must be a URL, an object or a list",
            )),
        }
    }

    /// The IRI a term denotes under this context.
    pub fn expand(&self, term: &str) -> String {
        let term = term.trim();
        if CORE_TERMS.contains(&term) || CORE_ATTRIBUTES.contains(&term) {
            return format!("{CORE_CONTEXT_PREFIX}{term}");
        }
        if let Some(iri) = self.terms.get(term) {
            return self.expand_iri(iri);
        }
        self.expand_iri_or_vocab(term)
    }

    fn expand_iri(&self, iri: &str) -> String {
        if let Some((prefix, suffix)) = iri.split_once(':') {
            if !suffix.starts_with("//") {
                if let Some(base) = self.terms.get(prefix) {
                    return format!("{base}{suffix}");
                }
            }
        }
        iri.to_string()
    }

    fn expand_iri_or_vocab(&self, term: &str) -> String {
        if let Some((prefix, suffix)) = term.split_once(':') {
            if suffix.starts_with("//") || prefix == "urn" {
                return term.to_string();
            }
            if let Some(base) = self.terms.get(prefix) {
                return format!("{base}{suffix}");
            }
            return term.to_string();
        }
        format!("{DEFAULT_VOCAB}{term}")
    }
}

/// Whether `iri` is a core term's IRI (`id`, `type`, the system timestamps, ...): never restricted.
pub(super) fn is_core_term(iri: &str) -> bool {
    iri.strip_prefix(CORE_CONTEXT_PREFIX)
        .is_some_and(|term| CORE_TERMS.contains(&term))
}

pub(super) fn not_declared(url: &str, declared: &BTreeMap<String, Value>) -> Refusal {
    Refusal::bad_request(format!(
        "@context {url} is not one this resource accepts (declared: {})",
        if declared.is_empty() {
            "only the NGSI-LD core context".to_string()
        } else {
            declared.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    ))
}
