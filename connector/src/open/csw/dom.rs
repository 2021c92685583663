//! A small namespace-aware element tree read from a CSW request body or a KVP `constraint`, so the request and
//! filter readers can walk it instead of juggling reader events. Bounded on purpose: the body is already capped,
//! nesting is limited (the filter evaluator recurses over it), a DOCTYPE is refused (no entity expansion tricks),
//! and only the five predefined entities and character references are read.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::exception::CswError;

/// How deep elements may nest: a GetRecords with a nested filter needs about ten levels.
const MAX_DEPTH: usize = 32;
/// How many elements a request may have.
const MAX_ELEMENTS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    /// The namespace IRI, empty when unbound.
    pub ns: String,
    pub local: String,
    /// Attributes by local name (namespace declarations left out); CSW attributes are unqualified.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own character data, concatenated.
    pub text: String,
}

impl Element {
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == local)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this local name.
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local == local)
    }

    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.local == local)
    }

    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }
}

fn malformed(detail: impl std::fmt::Display) -> CswError {
    CswError::invalid("request", format!("the XML is not well-formed: {detail}"))
}

/// Reads one document into its root element.
pub fn parse(xml: &str) -> Result<Element, CswError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (resolved, event) = reader.read_resolved_event().map_err(malformed)?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(malformed(format!(
                    "the prefix {:?} is not declared",
                    String::from_utf8_lossy(&prefix)
                )))
            }
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(malformed("content after the root element"));
            }
            Event::Start(start) => {
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(CswError::invalid(
                        "request",
                        "the request has too many or too deeply nested elements",
                    ));
                }
                stack.push(element(&reader, &start, ns)?);
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(CswError::invalid(
                        "request",
                        "the request has too many or too deeply nested elements",
                    ));
                }
                let e = element(&reader, &start, ns)?;
                attach(&mut stack, &mut root, e);
            }
            Event::End(_) => {
                let e = stack
                    .pop()
                    .ok_or_else(|| malformed("an end tag without a start"))?;
                attach(&mut stack, &mut root, e);
            }
            Event::Text(t) => {
                let text = t.xml10_content().map_err(malformed)?;
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(t) => {
                let text = t.xml10_content().map_err(malformed)?;
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&text),
                    None => return Err(malformed("CDATA outside the root element")),
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(malformed)? {
                    Some(c) => c,
                    None => {
                        let name = r.decode().map_err(malformed)?;
                        match name.as_ref() {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "apos" => '\'',
                            "quot" => '"',
                            other => return Err(malformed(format!("unknown entity &{other};"))),
                        }
                    }
                };
                match stack.last_mut() {
                    Some(e) => e.text.push(c),
                    None => return Err(malformed("a reference outside the root element")),
                }
            }
            Event::DocType(_) => {
                return Err(CswError::invalid(
                    "request",
                    "a DOCTYPE is not accepted in a request",
                ))
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed("the document ends inside an element"));
    }
    root.ok_or_else(|| malformed("there is no root element"))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, e: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(e),
        None => *root = Some(e),
    }
}

fn element(reader: &NsReader<&[u8]>, start: &BytesStart, ns: String) -> Result<Element, CswError> {
    let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(malformed)?;
        let key = a.key;
        if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        let (_, name) = reader.resolve_attribute(key);
        let value = a
            .decode_and_unescape_value(reader.decoder())
            .map_err(malformed)?;
        attrs.push((
            String::from_utf8_lossy(name.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        ns,
        local,
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_carry_namespaces_attributes_and_text() {
        let e = parse(
            r#"<?xml version="1.0"?><csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"
                 xmlns:ogc="http://www.opengis.net/ogc" service="CSW" maxRecords="3">
                 <csw:Query typeNames="csw:Record"><ogc:Literal>a &amp; b &#x41;<![CDATA[<c>]]></ogc:Literal>
                 <csw:ElementSetName/></csw:Query></csw:GetRecords>"#,
        )
        .unwrap();
        assert_eq!(e.local, "GetRecords");
        assert_eq!(e.ns, "http://www.opengis.net/cat/csw/2.0.2");
        assert_eq!(e.attr("maxRecords"), Some("3"));
        let q = e.child("Query").unwrap();
        assert_eq!(q.attr("typeNames"), Some("csw:Record"));
        assert_eq!(q.child("Literal").unwrap().text, "a & b A<c>");
        assert_eq!(q.child("Literal").unwrap().ns, "http://www.opengis.net/ogc");
        assert!(q.child("ElementSetName").is_some());
    }

    #[test]
    fn malformed_and_hostile_documents_are_refused() {
        for xml in [
            "<a><b></a>",
            "<a>",
            "",
            "not xml",
            "<x:a/>",
            "<a/><b/>",
            "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
            "<a>&unknown;</a>",
        ] {
            let e = parse(xml).unwrap_err();
            assert_eq!(e.code, "InvalidParameterValue", "{xml}");
        }
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        assert!(parse(&deep).unwrap_err().text.contains("nested"));
    }
}
