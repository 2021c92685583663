//! A thin layer over quick-xml's writer for the CSW responses: elements by prefixed name with attributes and
//! text, escaped by quick-xml, indented, into a buffer. Writing to a `Vec` cannot fail, but the writer's
//! `io::Result` is passed on rather than unwrapped.

use std::io;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

pub struct Xml {
    w: Writer<Vec<u8>>,
}

impl Xml {
    /// A document with its XML declaration.
    pub fn new() -> io::Result<Xml> {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        Ok(Xml { w })
    }

    fn tag<'a>(name: &'a str, attrs: &[(&str, &str)]) -> BytesStart<'a> {
        let mut start = BytesStart::new(name);
        for a in attrs {
            start.push_attribute(*a);
        }
        start
    }

    pub fn start(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.w.write_event(Event::Start(Self::tag(name, attrs)))
    }

    pub fn end(&mut self, name: &str) -> io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.w.write_event(Event::Empty(Self::tag(name, attrs)))
    }

    /// `<name attrs>text</name>`.
    pub fn text_element(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> io::Result<()> {
        self.start(name, attrs)?;
        self.w.write_event(Event::Text(BytesText::new(text)))?;
        self.end(name)
    }

    /// One `<name>` per value.
    pub fn text_elements<'a>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = &'a str>,
    ) -> io::Result<()> {
        for v in values {
            self.text_element(name, &[], v)?;
        }
        Ok(())
    }

    pub fn finish(self) -> Vec<u8> {
        let mut out = self.w.into_inner();
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut x = Xml::new().unwrap();
        x.start("a", &[("k", "x\"<&")]).unwrap();
        x.text_element("b", &[], "1 < 2 & </b>").unwrap();
        x.end("a").unwrap();
        let s = String::from_utf8(x.finish()).unwrap();
        assert!(s.contains(r#"<a k="x&quot;&lt;&amp;">"#), "{s}");
        assert!(s.contains("<b>1 &lt; 2 &amp; &lt;/b&gt;</b>"), "{s}");
        assert!(
            s.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#),
            "{s}"
        );
    }
}
