//! Writes a graph in the three syntaxes harvesters read (Turtle, RDF/XML, JSON-LD) with Oxigraph's serialisers,
//! grouping each subject's triples so the Turtle reads as one block per resource.

use oxrdf::Triple;
use oxrdfio::{RdfFormat, RdfSerializer};

use super::ns::PREFIXES;

/// The syntaxes the catalogue is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Turtle,
    RdfXml,
    JsonLd,
}

impl Syntax {
    pub const ALL: [Syntax; 3] = [Syntax::Turtle, Syntax::RdfXml, Syntax::JsonLd];

    pub fn media_type(self) -> &'static str {
        match self {
            Syntax::Turtle => "text/turtle",
            Syntax::RdfXml => "application/rdf+xml",
            Syntax::JsonLd => "application/ld+json",
        }
    }

    /// The file extension in `/catalog.<ext>`; `xml` is RDF/XML too, as CKAN serves it.
    pub fn extension(self) -> &'static str {
        match self {
            Syntax::Turtle => "ttl",
            Syntax::RdfXml => "rdf",
            Syntax::JsonLd => "jsonld",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Syntax> {
        match ext {
            "ttl" => Some(Syntax::Turtle),
            "rdf" | "xml" => Some(Syntax::RdfXml),
            "jsonld" => Some(Syntax::JsonLd),
            _ => None,
        }
    }

    fn format(self) -> RdfFormat {
        match self {
            Syntax::Turtle => RdfFormat::Turtle,
            Syntax::RdfXml => RdfFormat::RdfXml,
            Syntax::JsonLd => RdfFormat::JsonLd {
                profile: Default::default(),
            },
        }
    }
}

/// `triples` in `syntax`. Subjects keep the order they first appear in.
pub fn serialise(triples: &[Triple], syntax: Syntax) -> std::io::Result<Vec<u8>> {
    let mut serializer = RdfSerializer::from_format(syntax.format());
    for (prefix, ns) in PREFIXES {
        serializer = serializer
            .with_prefix(*prefix, *ns)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    let mut writer = serializer.for_writer(Vec::new());
    let mut order: Vec<&oxrdf::NamedOrBlankNode> = Vec::new();
    let mut by_subject: std::collections::HashMap<&oxrdf::NamedOrBlankNode, Vec<&Triple>> =
        std::collections::HashMap::new();
    for t in triples {
        let entry = by_subject.entry(&t.subject).or_default();
        if entry.is_empty() {
            order.push(&t.subject);
        }
        entry.push(t);
    }
    for subject in order {
        for t in &by_subject[subject] {
            writer.serialize_triple(*t)?;
        }
    }
    writer.finish()
}
