//! Checks on identifiers. DSP and DCAT-AP need absolute IRIs: a relative `@id` silently vanishes when a partner
//! reads our JSON as JSON-LD, so we refuse them at the door. Every IRI also obeys the one id rule
//! ([`twinport_contracts::ids`]): bounded length, no control, space, bidirectional or invisible characters. Web
//! addresses the catalogue publishes are IRIs too, and published text holds no character XML cannot carry.

use twinport_contracts::ids::check_id;

/// Why `s` is not an absolute IRI acceptable as an identifier, or `None` when it is.
pub fn iri_problem(s: &str) -> Option<String> {
    if let Err(e) = check_id(s) {
        return Some(format!("the id {e}"));
    }
    if !is_absolute_uri(s) {
        return Some("must be an absolute IRI (e.g. urn:ldt:city:traffic)".into());
    }
    None
}

/// True for an absolute IRI (RFC 3987: a scheme, then what the grammar allows; a fragment is allowed) with
/// something after the scheme, that also obeys the id rule.
pub fn is_absolute_uri(s: &str) -> bool {
    iri_string::types::IriStr::new(s).is_ok()
        && s.split_once(':').is_some_and(|(_, rest)| !rest.is_empty())
        && check_id(s).is_ok()
}

/// An `http(s)` URL with a host: a web page or an API description.
pub fn is_web_url(s: &str) -> bool {
    // Also an IRI by the grammar: it is published as an RDF node, which a URL parser's leniency (spaces, braces)
    // would make impossible.
    iri_problem(s).is_none()
        && url::Url::parse(s)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Why a text published in XML and RDF cannot be: a control character other than tab and line breaks, or a
/// Unicode non-character, makes an XML document (a CSW response, an RDF/XML page) unreadable for every client.
pub fn text_problem(text: &str) -> Option<String> {
    text.chars()
        .find(|c| {
            (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                || matches!(c, '\u{FFFE}' | '\u{FFFF}')
        })
        .map(|c| format!("must not contain the control character U+{:04X}", c as u32))
}

#[cfg(test)]
mod tests {
    use super::{iri_problem, is_absolute_uri};

    #[test]
    fn absolute_uris() {
        for ok in [
            "https://city.example/x",
            "urn:uuid:1234",
            "did:web:city.example",
            "urn:ngsi-ld:Park:1",
        ] {
            assert!(is_absolute_uri(ok), "{ok}");
        }
        for bad in [
            "",
            "ACN0101",
            "1abc:x",
            "https://a b",
            "urn:",
            ":x",
            "urn:a\u{202E}b",
            "urn:a\0",
            "http://[bad/x",
            "urn:a%zz",
            "urn:a<b>",
        ] {
            assert!(!is_absolute_uri(bad), "{bad}");
        }
    }

    #[test]
    fn problems_name_the_broken_rule() {
        assert_eq!(iri_problem("urn:ok"), None);
        let long = format!("urn:{}", "x".repeat(2000));
        assert!(iri_problem(&long).unwrap().contains("at most 1024"));
        assert!(iri_problem("urn:evil\u{202E}txt")
            .unwrap()
            .contains("bidirectional"));
        assert!(iri_problem("relative").unwrap().contains("absolute IRI"));
    }
}
