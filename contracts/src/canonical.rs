//! RFC 8785 JSON Canonicalization Scheme: the one byte sequence both parties hash and sign for a JSON document,
//! independent of member order, whitespace or number spelling.
//!
//! Written straight from the `serde_json::Value` into one buffer. Every audit entry and receipt goes through here,
//! and the general-purpose canonicalizer crate (kept as the reference the tests compare against) re-parsed every
//! key and buffered every member separately: it was 8 % of the data plane's CPU per proxied request.

use serde_json::{Number, Value};
use sha2::{Digest, Sha256};

/// Why a document has no canonical form (e.g. a number JCS cannot represent).
#[derive(thiserror::Error, Debug)]
#[error("canonical json: {0}")]
pub struct CanonicalError(String);

/// Integers up to this magnitude are exact in an IEEE 754 double, so their digits are already canonical.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The RFC 8785 canonical UTF-8 bytes of `v`.
pub fn canonicalize(v: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(512);
    write_value(&mut out, v)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, v: &Value) -> Result<(), CanonicalError> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            // §3.2.3: members sorted by their names as UTF-16 code units (not UTF-8 bytes or code points, which
            // order supplementary characters differently).
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_unstable_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (name, value)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, name);
                out.push(b':');
                write_value(out, value)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// §3.2.2.3: a number is written as ECMAScript writes the IEEE 754 double it denotes.
fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), CanonicalError> {
    if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE_INTEGER) {
        out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
        return Ok(());
    }
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER) {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
        return Ok(());
    }
    let f = n
        .as_f64()
        .filter(|f| f.is_finite())
        .ok_or_else(|| CanonicalError(format!("number {n} is not a finite double")))?;
    out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
    Ok(())
}

/// §3.2.2.2: only `"`, `\` and the C0 controls are escaped, with the short forms where JSON has them and
/// lowercase `\u00xx` otherwise; everything else, `/` and non-ASCII included, is written as it is.
fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut plain_from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain_from..i]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(short);
        }
        plain_from = i + 1;
    }
    out.extend_from_slice(&bytes[plain_from..]);
    out.push(b'"');
}

/// Lowercase hex SHA-256, the digest format used in logs and receipts.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jcs(text: &str) -> String {
        let v: Value = serde_json::from_str(text).expect("test input is json");
        String::from_utf8(canonicalize(&v).expect("canonicalizable")).expect("jcs output is utf-8")
    }

    #[test]
    fn rfc8785_section_3_2_2_sample() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        let expected = r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;
        assert_eq!(jcs(input), expected);
    }

    #[test]
    fn rfc8785_section_3_2_3_sorts_by_utf16_code_units() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
            \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
            \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(jcs(input), expected);
    }

    #[test]
    fn rfc8785_appendix_b_numbers() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("0.000001", "0.000001"),
            ("1e-7", "1e-7"),
            ("9007199254740992", "9007199254740992"),
            ("295147905179352830000", "295147905179352830000"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                jcs(&format!("[{input}]")),
                format!("[{expected}]"),
                "number {input}"
            );
        }
    }

    #[test]
    fn nested_objects_are_sorted_and_whitespace_removed() {
        assert_eq!(
            jcs(r#"{"b":[1e2,"\u20ac",0.1],"a":{"z":true,"y":null}}"#),
            r#"{"a":{"y":null,"z":true},"b":[100,"€",0.1]}"#
        );
    }

    /// A small deterministic generator, so a failure reproduces.
    struct Xorshift(u64);

    impl Xorshift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Characters where JCS is easy to get wrong: escapes, C0 controls, DEL, the BMP's top (which sorts after
    /// supplementary characters in UTF-16), supplementary characters, line separators.
    const CHARS: &[char] = &[
        'a',
        'b',
        'Z',
        '0',
        ' ',
        '"',
        '\\',
        '/',
        '\u{0}',
        '\u{8}',
        '\t',
        '\n',
        '\u{b}',
        '\u{c}',
        '\r',
        '\u{1f}',
        '\u{7f}',
        '\u{80}',
        '\u{f6}',
        '\u{20ac}',
        '\u{2028}',
        '\u{e000}',
        '\u{fb33}',
        '\u{ffff}',
        '\u{10000}',
        '\u{1f600}',
    ];

    fn random_string(rng: &mut Xorshift) -> String {
        (0..rng.below(6))
            .map(|_| CHARS[rng.below(CHARS.len() as u64) as usize])
            .collect()
    }

    fn random_number(rng: &mut Xorshift) -> Value {
        match rng.below(8) {
            0 => Value::from(rng.below(1000)),
            1 => Value::from(rng.next()),
            2 => Value::from(-(rng.below(1 << 60) as i64)),
            3 => Value::from(i64::MIN),
            4 => Value::from((1u64 << 53) + rng.below(3) - 1),
            5 => Value::from(f64::from_bits(rng.next() & !(0x7ff << 52))), // subnormal or zero
            6 => Value::from(
                (rng.below(2_000_000) as f64 - 1e6) * 10f64.powi(rng.below(60) as i32 - 30),
            ),
            _ => {
                let f = f64::from_bits(rng.next());
                if f.is_finite() {
                    Value::from(f)
                } else {
                    Value::from(0.5)
                }
            }
        }
    }

    fn random_value(rng: &mut Xorshift, depth: u32) -> Value {
        match if depth == 0 {
            rng.below(4)
        } else {
            rng.below(6)
        } {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 1),
            2 => random_number(rng),
            3 => Value::String(random_string(rng)),
            4 => Value::Array(
                (0..rng.below(4))
                    .map(|_| random_value(rng, depth - 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.below(6))
                    .map(|_| (random_string(rng), random_value(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn agrees_with_the_reference_implementation_on_random_documents() {
        let mut rng = Xorshift(0x2545_f491_4f6c_dd1d);
        for case in 0..20_000 {
            let v = random_value(&mut rng, 4);
            let ours = canonicalize(&v).expect("canonicalizable");
            let reference = serde_json_canonicalizer::to_vec(&v).expect("reference canonicalizes");
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&reference),
                "case {case}: {v}"
            );
        }
    }

    #[test]
    fn sha256_hex_matches_known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
