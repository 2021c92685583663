//! Links to the provider's data address, pointed at the local endpoint instead, so the city's applications can
//! follow them (a model's job in a `Location`, the `results` link of its status): those URLs need the transfer's
//! token, which applications never hold. A `Location` below the transfer's data address is rewritten always; a
//! body only when the provider marks it (`twinport-links: data-address`, which a Twinport provider sets on the
//! JSON documents it rewrote for the transfer), and then as it streams, without holding it: the provider writes
//! such documents in RFC 8785 form, where a URL in a string is exactly the characters of the URL, so replacing
//! `"<data address>` followed by `/`, `?`, `#` or `"` finds every link and nothing else. The receipt is checked
//! against the body as the provider sent it, before this rewriting.

use bytes::Bytes;

/// Characters that may follow the data address in a link to it (anything else continues another URL, such as
/// another transfer's address that merely starts the same).
fn ends_address(b: u8) -> bool {
    matches!(b, b'/' | b'?' | b'#' | b'"')
}

/// `value` with the data address `endpoint` replaced by `local`, when it names something below it.
pub fn location(value: &str, endpoint: &str, local: &str) -> Option<String> {
    let rest = value.strip_prefix(endpoint)?;
    (rest.is_empty() || rest.bytes().next().is_some_and(ends_address))
        .then(|| format!("{local}{rest}"))
}

/// Rewrites a JSON body chunk by chunk.
pub struct Rewriter {
    /// `"` and the data address.
    pattern: Vec<u8>,
    /// `"` and the local endpoint's address for the transfer, escaped for a JSON string.
    replacement: Vec<u8>,
    /// Bytes not handed on yet: the start of a possible match, or a match waiting for the byte after it.
    held: Vec<u8>,
}

impl Rewriter {
    pub fn new(endpoint: &str, local: &str) -> Rewriter {
        let escaped = serde_json::to_string(local).unwrap_or_default();
        let inner = escaped
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or_default();
        Rewriter {
            pattern: format!("\"{endpoint}").into_bytes(),
            replacement: format!("\"{inner}").into_bytes(),
            held: Vec::new(),
        }
    }

    /// What can be handed on after `chunk`.
    pub fn push(&mut self, chunk: &[u8]) -> Bytes {
        self.held.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(self.held.len());
        let mut pos = 0;
        loop {
            let found = find(&self.held[pos..], &self.pattern).map(|i| pos + i);
            match found {
                Some(at) => {
                    let end = at + self.pattern.len();
                    out.extend_from_slice(&self.held[pos..at]);
                    let Some(&next) = self.held.get(end) else {
                        // The byte that decides is in the next chunk.
                        self.held.drain(..at);
                        return Bytes::from(out);
                    };
                    if ends_address(next) {
                        out.extend_from_slice(&self.replacement);
                    } else {
                        out.extend_from_slice(&self.pattern);
                    }
                    pos = end;
                }
                None => {
                    // The tail may begin a match the next chunk completes.
                    let keep = (self.held.len() - pos).min(self.pattern.len() - 1);
                    let cut = self.held.len() - keep;
                    out.extend_from_slice(&self.held[pos..cut]);
                    self.held.drain(..cut);
                    return Bytes::from(out);
                }
            }
        }
    }

    /// What is still held when the body has ended.
    pub fn finish(&mut self) -> Bytes {
        Bytes::from(std::mem::take(&mut self.held))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENDPOINT: &str = "https://a.example/data/urn:uuid:p1";
    const LOCAL: &str = "http://127.0.0.1:8082/transfers/urn:uuid:c1";

    fn through(body: &str, split: usize) -> String {
        let mut r = Rewriter::new(ENDPOINT, LOCAL);
        let mut out = Vec::new();
        let bytes = body.as_bytes();
        for chunk in bytes.chunks(split.max(1)) {
            out.extend_from_slice(&r.push(chunk));
        }
        out.extend_from_slice(&r.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_link_to_the_data_address_is_pointed_at_the_local_endpoint_however_the_body_is_cut() {
        let body = format!(
            r#"{{"links":[{{"href":"{ENDPOINT}/jobs/j1?f=json"}},{{"href":"{ENDPOINT}"}},{{"href":"{ENDPOINT}2/x"}},{{"href":"https://other.example/{ENDPOINT}"}}],"text":"see {ENDPOINT}/x"}}"#
        );
        let want = format!(
            r#"{{"links":[{{"href":"{LOCAL}/jobs/j1?f=json"}},{{"href":"{LOCAL}"}},{{"href":"{ENDPOINT}2/x"}},{{"href":"https://other.example/{ENDPOINT}"}}],"text":"see {ENDPOINT}/x"}}"#
        );
        for split in [1, 2, 3, 7, 19, 40, 1000] {
            assert_eq!(through(&body, split), want, "chunks of {split}");
        }
        // Nothing to rewrite: the body passes unchanged.
        let plain = r#"{"outputs":[{"id":"echo","value":"Hello"}]}"#;
        assert_eq!(through(plain, 5), plain);
        // A body that ends inside what could have been a link.
        let cut = format!("[\"{}", &ENDPOINT[..10]);
        assert_eq!(through(&cut, 3), cut);
    }

    #[test]
    fn a_location_below_the_data_address_names_the_local_endpoint() {
        assert_eq!(
            location(&format!("{ENDPOINT}/jobs/j1"), ENDPOINT, LOCAL).as_deref(),
            Some(format!("{LOCAL}/jobs/j1").as_str())
        );
        assert_eq!(
            location(&format!("{ENDPOINT}2/jobs/j1"), ENDPOINT, LOCAL),
            None
        );
        assert_eq!(
            location("https://elsewhere.example/jobs/j1", ENDPOINT, LOCAL),
            None
        );
    }
}
