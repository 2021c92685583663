//! Checks on identifiers. DSP and DCAT-AP need absolute IRIs: a relative `@id` silently vanishes when a partner
//! reads our JSON as JSON-LD, so we refuse them at the door.

/// True for an absolute URI: a scheme (letter, then letters, digits, `+`, `-`, `.`), a colon and a non-empty rest
/// without whitespace.
pub fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    starts_with_letter
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::is_absolute_uri;

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
        for bad in ["", "ACN0101", "1abc:x", "https://a b", "urn:", ":x"] {
            assert!(!is_absolute_uri(bad), "{bad}");
        }
    }
}
