//! The one rule every identifier obeys wherever it enters: process ids, agreement ids, dataset and offer ids,
//! resource, policy and partner ids. An id is a short line of visible text: it is stored, logged, put in URLs,
//! shown to legal teams and compared byte for byte, so nothing in it may hide, reorder or end text.
//!
//! The rule lives here, in the pure crate, so the DSP parsers and the connector's management API apply the very
//! same check; storage then never sees a value it cannot hold (PostgreSQL refuses NUL) or an audit entry that
//! outgrows its leaf.

/// The longest identifier accepted, in bytes. Real ids (UUIDs, URNs, IRIs of datasets) are far shorter; the bound
/// keeps every stored row and audit entry small.
pub const MAX_ID_BYTES: usize = 1024;

/// The longest free-text member of a message accepted (a `code`, a format, one `reason`), in bytes.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;

/// Why a value is not an acceptable identifier or text.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("is {len} bytes long; at most {max} are accepted")]
    TooLong { len: usize, max: usize },
    #[error("contains {what} (U+{code:04X}) at byte {at}")]
    Forbidden {
        what: &'static str,
        code: u32,
        at: usize,
    },
    #[error("is not an absolute http(s) URL: {0}")]
    NotUrl(String),
}

/// Checks an identifier: 1 to [`MAX_ID_BYTES`] bytes, no control, whitespace, bidirectional or invisible
/// formatting characters.
pub fn check_id(id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty);
    }
    check_len(id, MAX_ID_BYTES)?;
    for (at, c) in id.char_indices() {
        if let Some(what) = forbidden_in_id(c) {
            return Err(forbidden(what, c, at));
        }
    }
    Ok(())
}

/// Checks free text: at most `max` bytes and no control characters other than tab and line breaks (which a
/// human-written reason may carry), and no bidirectional overrides, which could make a reason read backwards.
pub fn check_text(text: &str, max: usize) -> Result<(), IdError> {
    check_len(text, max)?;
    for (at, c) in text.char_indices() {
        if matches!(c, '\t' | '\n' | '\r') {
            continue;
        }
        if c.is_control() {
            return Err(forbidden("a control character", c, at));
        }
        if is_bidi_control(c) {
            return Err(forbidden("a bidirectional control character", c, at));
        }
    }
    Ok(())
}

/// Makes free text safe to store and show without refusing it: control characters other than tab and line
/// breaks, and bidirectional controls, become U+FFFD, and the text is cut to `max` bytes on a character boundary.
pub fn sanitize_text(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let c = if (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || is_bidi_control(c) {
            char::REPLACEMENT_CHARACTER
        } else {
            c
        };
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// Checks an address a peer asks to be called back on: an id that parses as an absolute `http` or `https` URL
/// with a host.
pub fn check_url(address: &str) -> Result<(), IdError> {
    check_id(address)?;
    let url = url::Url::parse(address).map_err(|e| IdError::NotUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(IdError::NotUrl(format!(
            "scheme {} is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(IdError::NotUrl("it has no host".into()));
    }
    Ok(())
}

fn check_len(s: &str, max: usize) -> Result<(), IdError> {
    if s.len() > max {
        return Err(IdError::TooLong { len: s.len(), max });
    }
    Ok(())
}

fn forbidden(what: &'static str, c: char, at: usize) -> IdError {
    IdError::Forbidden {
        what,
        code: c as u32,
        at,
    }
}

fn forbidden_in_id(c: char) -> Option<&'static str> {
    if c.is_control() {
        Some("a control character")
    } else if c.is_whitespace() {
        Some("white space")
    } else if is_bidi_control(c) {
        Some("a bidirectional control character")
    } else if is_invisible(c) {
        Some("an invisible formatting character")
    } else {
        None
    }
}

/// The explicit directional marks, embeddings, overrides and isolates (Unicode UAX #9 §2), the characters of
/// "Trojan Source" (CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Format characters that render as nothing, so two ids that look equal would differ.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_pass() {
        for id in [
            "urn:uuid:5b0e2b4e-55a7-4f0a-9a1f-6c1d2d6b0e11",
            "traffic-flow",
            "https://data.city.example/dataset/air",
            "parkeerplaatsen-Zuidas_2026",
            "Straße",
        ] {
            assert_eq!(check_id(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn nul_control_space_bidi_and_invisible_characters_are_refused() {
        for (id, what) in [
            ("a\0b", "control"),
            ("a\u{7f}b", "control"),
            ("a\u{85}b", "control"),
            ("a b", "white space"),
            ("a\u{3000}b", "white space"),
            ("safe\u{202E}fdp.exe", "bidirectional"),
            ("a\u{2067}b", "bidirectional"),
            ("a\u{200B}b", "invisible"),
            ("\u{FEFF}id", "invisible"),
        ] {
            let err = check_id(id).unwrap_err().to_string();
            assert!(err.contains(what), "{id:?}: {err}");
        }
    }

    #[test]
    fn empty_and_overlong_ids_are_refused() {
        assert_eq!(check_id(""), Err(IdError::Empty));
        assert_eq!(check_id(&"a".repeat(MAX_ID_BYTES)), Ok(()));
        assert_eq!(
            check_id(&"a".repeat(MAX_ID_BYTES + 1)),
            Err(IdError::TooLong {
                len: MAX_ID_BYTES + 1,
                max: MAX_ID_BYTES
            })
        );
    }

    #[test]
    fn text_keeps_line_breaks_but_not_nul_or_overrides() {
        assert_eq!(check_text("line one\nline two\ttab", 100), Ok(()));
        assert!(check_text("a\0b", 100).is_err());
        assert!(check_text("a\u{202E}b", 100).is_err());
        assert!(check_text(&"x".repeat(101), 100).is_err());
    }

    #[test]
    fn sanitized_text_is_bounded_and_has_no_controls() {
        assert_eq!(
            sanitize_text("ok\u{202E}\u{1}x\n", 100),
            "ok\u{FFFD}\u{FFFD}x\n"
        );
        assert_eq!(sanitize_text("ééé", 5), "éé");
    }

    #[test]
    fn callback_addresses_are_absolute_http_urls() {
        assert_eq!(check_url("https://partner.example/dsp"), Ok(()));
        assert_eq!(check_url("http://127.0.0.1:8080/dsp/"), Ok(()));
        for bad in [
            "/dsp",
            "ftp://x/y",
            "file:///etc/passwd",
            "https://",
            "not a url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
