//! `canonical_json`: any JSON document through the RFC 8785 writer every signature, receipt and audit leaf hash
//! is computed over. The two parties only agree on a hash if the canonical bytes are a faithful, stable spelling
//! of the document: they must read back as the same document, canonicalize to themselves, and match the
//! reference implementation the writer replaced.

use serde_json::Value;
use twinport_contracts::canonical::canonicalize;

/// Reads `data` as JSON (anything else is skipped) and checks its canonical form.
pub fn canonical_json(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // Parsed JSON holds only finite numbers, so every parsed document has a canonical form.
    let bytes = match canonicalize(&value) {
        Ok(bytes) => bytes,
        Err(e) => panic!("a parsed document has no canonical form: {e}"),
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(e) => panic!("the canonical form is not UTF-8: {e}"),
    };
    let reread: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("the canonical form {text} is not JSON: {e}"),
    };
    assert!(
        same_document(&value, &reread),
        "the canonical form {text} reads back as another document"
    );
    match canonicalize(&reread) {
        Ok(again) => assert_eq!(
            again, bytes,
            "canonicalizing the canonical form {text} changes it"
        ),
        Err(e) => panic!("the canonical form {text} has no canonical form: {e}"),
    }
    // The reference refuses what it cannot represent; where it answers, both writers must agree byte for byte.
    if let Ok(reference) = serde_json_canonicalizer::to_vec(&value) {
        assert_eq!(
            String::from_utf8_lossy(&reference),
            text,
            "the canonical writer and the reference implementation disagree"
        );
    }
}

/// Equal as JSON documents: numbers compare as the IEEE 754 doubles RFC 8785 writes (so `1.0` is `1`, and an
/// integer beyond 2^53 is the double nearest to it), everything else exactly; member order does not matter.
fn same_document(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_document(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_document(v, w)))
        }
        _ => a == b,
    }
}
