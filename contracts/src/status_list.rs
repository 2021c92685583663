//! Credential status lists: reading a `credentialStatus` entry (Bitstring Status List 1.0's
//! `BitstringStatusListEntry` or the older `StatusList2021Entry`), decoding the list a status list credential carries,
//! and looking the entry's bits up in it. Decoding only: fetching the list credential, checking its proof and
//! trusting its issuer are the caller's job, so this module stays pure. `StatusList::encode` builds a list subject for
//! test issuers.
//!
//! Interop notes that shaped it (DCP reference §6, pitfall 11): Bitstring lists are multibase base64url (`u` prefix),
//! StatusList2021 lists are bare base64; bit 0 is the most significant bit of byte 0; the 131 072-bit minimum of the
//! Bitstring spec is not enforced because the DCP TCK serves 16 384-bit lists.

use std::io::{Read, Write};

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::{Map, Value};

/// The largest decompressed list accepted, 16 MiB (134 million entries, a thousand times the spec's minimum): a
/// list is attacker-supplied GZIP, and a few kilobytes of it can inflate to gigabytes.
pub const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// The widest `statusSize` supported: a status is returned as a `u32`, and no deployment seen uses more than a few bits.
pub const MAX_STATUS_SIZE: u8 = 8;

/// Base64 as status lists are met in practice: the URL-safe alphabet, padding optional. The standard alphabet's
/// `+` and `/` are translated to it first, so both alphabets are read.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// What a list encodes as: base64url without padding, as Bitstring Status List requires (StatusList2021 readers
/// accept it too, since they read both alphabets).
const ENCODE_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false),
);

/// Which of the two status list specifications an entry or list follows; they differ in type names and in how the
/// list is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusListKind {
    /// W3C Bitstring Status List 1.0 (VCDM 2.0, DCP profile `vc20-bssl/jwt`).
    Bitstring,
    /// The StatusList2021 draft (VCDM 1.1, DCP profile `vc11-sl2021/jwt`).
    StatusList2021,
}

impl StatusListKind {
    /// The `credentialStatus.type` of an entry of this kind.
    pub fn entry_type(self) -> &'static str {
        match self {
            StatusListKind::Bitstring => "BitstringStatusListEntry",
            StatusListKind::StatusList2021 => "StatusList2021Entry",
        }
    }

    /// The `credentialSubject.type` of a list of this kind.
    pub fn list_type(self) -> &'static str {
        match self {
            StatusListKind::Bitstring => "BitstringStatusList",
            StatusListKind::StatusList2021 => "StatusList2021",
        }
    }

    /// The type the list credential itself carries next to `VerifiableCredential`.
    pub fn credential_type(self) -> &'static str {
        match self {
            StatusListKind::Bitstring => "BitstringStatusListCredential",
            StatusListKind::StatusList2021 => "StatusList2021Credential",
        }
    }
}

/// Why a status entry or list could not be read, or a status not looked up. Each is the issuer's or the
/// presenter's fault, so a verifier refuses the credential rather than assuming "not revoked".
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum StatusError {
    /// The credentialStatus entry or list subject is not a JSON object.
    #[error("{0} is not a JSON object")]
    NotAnObject(&'static str),
    /// A required field is absent.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A field is present but not of the form the specs require.
    #[error("field `{field}` is malformed: {reason}")]
    BadField {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The `type` names neither Bitstring Status List nor StatusList2021.
    #[error("unsupported status type {0} (expected BitstringStatusListEntry / StatusList2021Entry or BitstringStatusList / StatusList2021)")]
    UnsupportedType(String),
    /// `statusSize` outside `1..=MAX_STATUS_SIZE`.
    #[error("statusSize {0} is not supported (1 to 8 bits)")]
    UnsupportedStatusSize(u64),
    /// A Bitstring list's `encodedList` uses a multibase encoding other than base64url (`u`), e.g. base58btc (`z`).
    #[error("encodedList uses multibase prefix `{0}`; only base64url (`u`) is supported")]
    UnsupportedMultibase(char),
    /// `encodedList` is not valid base64.
    #[error("encodedList is not valid base64: {0}")]
    BadBase64(String),
    /// `encodedList` is not valid GZIP data.
    #[error("encodedList is not valid GZIP: {0}")]
    BadGzip(String),
    /// The list inflates beyond [`MAX_DECODED_BYTES`].
    #[error("encodedList decompresses to more than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// The list decompresses to no bits at all.
    #[error("encodedList decompresses to an empty bitstring")]
    EmptyList,
    /// The entry is of one specification and the list of the other.
    #[error("a {entry:?} entry cannot be looked up in a {list:?} list")]
    KindMismatch {
        /// The entry's kind.
        entry: StatusListKind,
        /// The list's kind.
        list: StatusListKind,
    },
    /// The entry's `statusPurpose` is not one the list declares (spec: STATUS_VERIFICATION_ERROR).
    #[error("entry purpose `{entry}` does not match the list's purpose `{list}`")]
    PurposeMismatch {
        /// The entry's purpose.
        entry: String,
        /// The list's purpose(s), comma-separated.
        list: String,
    },
    /// `statusListIndex * statusSize` lies past the end of the list (spec: RANGE_ERROR).
    #[error("status index {index} (statusSize {size}) is outside the list of {bits} bits")]
    IndexOutOfRange {
        /// The entry's `statusListIndex`.
        index: u64,
        /// The entry's `statusSize`.
        size: u8,
        /// The list's length in bits.
        bits: u64,
    },
}

/// One `credentialStatus` entry: where the status lives and which bits are this credential's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// The specification the entry follows.
    pub kind: StatusListKind,
    /// `statusPurpose`, e.g. `revocation` or `suspension`.
    pub purpose: String,
    /// `statusListIndex`: the entry's position, counted in entries of `size` bits.
    pub index: u64,
    /// `statusListCredential`: the URL of the status list credential to fetch.
    pub list_url: String,
    /// `statusSize` in bits, 1 when absent.
    pub size: u8,
}

impl StatusEntry {
    /// Reads a `credentialStatus` object of type `BitstringStatusListEntry` or `StatusList2021Entry`.
    /// `statusListIndex` is a decimal string by both specs; a JSON number is accepted too, since some issuers write one.
    pub fn parse(entry: &Value) -> Result<StatusEntry, StatusError> {
        let obj = entry
            .as_object()
            .ok_or(StatusError::NotAnObject("credentialStatus"))?;
        let kind = kind_of(obj, |k| k.entry_type())?;
        let purpose = required_str(obj, "statusPurpose")?.to_owned();
        if purpose.is_empty() {
            return Err(bad("statusPurpose", "empty"));
        }
        let index = parse_index(
            obj.get("statusListIndex")
                .ok_or(StatusError::MissingField("statusListIndex"))?,
        )?;
        let list_url = required_str(obj, "statusListCredential")?;
        // Only checked, not normalised: the caller fetches (and may cache by) the URL exactly as the issuer wrote it.
        url::Url::parse(list_url).map_err(|e| bad("statusListCredential", e.to_string()))?;
        let size = match obj.get("statusSize") {
            None => 1,
            Some(v) => parse_size(v)?,
        };
        Ok(StatusEntry {
            kind,
            purpose,
            index,
            list_url: list_url.to_owned(),
            size,
        })
    }
}

/// A decoded status list: the bitstring of one status list credential's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    /// The specification the list follows.
    pub kind: StatusListKind,
    /// The list's (first) `statusPurpose`. A Bitstring list may declare several; [`StatusList::has_purpose`] knows them all.
    pub purpose: String,
    /// Further purposes of a Bitstring list whose `statusPurpose` is an array.
    more_purposes: Vec<String>,
    /// The decompressed bitstring, bit 0 = most significant bit of byte 0.
    bits: Vec<u8>,
}

impl StatusList {
    /// Reads a status list credential's `credentialSubject` (type `BitstringStatusList` or `StatusList2021`,
    /// `statusPurpose`, `encodedList`) and decodes the list. The list credential's proof must already be checked.
    pub fn from_subject(subject: &Map<String, Value>) -> Result<StatusList, StatusError> {
        let kind = kind_of(subject, |k| k.list_type())?;
        let mut purposes = match subject.get("statusPurpose") {
            None => return Err(StatusError::MissingField("statusPurpose")),
            Some(Value::String(p)) => vec![p.clone()],
            // Bitstring Status List: "one or more strings"; a list may serve several purposes at once.
            Some(Value::Array(items)) if kind == StatusListKind::Bitstring => items
                .iter()
                .map(|p| {
                    p.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad("statusPurpose", "not a string"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(bad("statusPurpose", "not a string")),
        };
        if purposes.is_empty() || purposes.iter().any(String::is_empty) {
            return Err(bad("statusPurpose", "empty"));
        }
        let encoded = required_str(subject, "encodedList")?;
        let bits = decode_list(kind, encoded, MAX_DECODED_BYTES)?;
        let purpose = purposes.remove(0);
        Ok(StatusList {
            kind,
            purpose,
            more_purposes: purposes,
            bits,
        })
    }

    /// Whether the list declares `purpose`.
    pub fn has_purpose(&self, purpose: &str) -> bool {
        self.purpose == purpose || self.more_purposes.iter().any(|p| p == purpose)
    }

    /// The list's length in bits.
    pub fn len_bits(&self) -> u64 {
        self.bits.len() as u64 * 8
    }

    /// The entry's status: `statusSize` bits read from bit `index * statusSize` on, the first read being the most
    /// significant. 0 means "not revoked / not suspended". The entry's kind and purpose must be the list's.
    pub fn status(&self, entry: &StatusEntry) -> Result<u32, StatusError> {
        if entry.kind != self.kind {
            return Err(StatusError::KindMismatch {
                entry: entry.kind,
                list: self.kind,
            });
        }
        if !self.has_purpose(&entry.purpose) {
            let mut list = self.purpose.clone();
            for p in &self.more_purposes {
                list.push_str(", ");
                list.push_str(p);
            }
            return Err(StatusError::PurposeMismatch {
                entry: entry.purpose.clone(),
                list,
            });
        }
        // The fields are public, so the size is checked again here rather than trusted from `parse`.
        if entry.size == 0 || entry.size > MAX_STATUS_SIZE {
            return Err(StatusError::UnsupportedStatusSize(entry.size.into()));
        }
        let out_of_range = || StatusError::IndexOutOfRange {
            index: entry.index,
            size: entry.size,
            bits: self.len_bits(),
        };
        let start = entry
            .index
            .checked_mul(entry.size.into())
            .ok_or_else(out_of_range)?;
        let end = start
            .checked_add(entry.size.into())
            .ok_or_else(out_of_range)?;
        if end > self.len_bits() {
            return Err(out_of_range());
        }
        let mut status = 0u32;
        for position in start..end {
            // In range: `end <= len_bits`, so `position / 8 < bits.len()`.
            let byte = self.bits[(position / 8) as usize];
            let bit = (byte >> (7 - (position % 8))) & 1;
            status = (status << 1) | u32::from(bit);
        }
        Ok(status)
    }

    /// Builds a status list `credentialSubject` (`type`, `statusPurpose`, `encodedList`) of `length_bits` bits
    /// (rounded up to whole bytes) with the given single-bit entries set, for test issuers. Indices at or past the
    /// list's end are skipped, so the list published is always the length asked for.
    pub fn encode(
        kind: StatusListKind,
        purpose: &str,
        set_indices: &[u64],
        length_bits: usize,
    ) -> Value {
        let mut bits = vec![0u8; length_bits.div_ceil(8)];
        for &index in set_indices {
            if let Ok(i) = usize::try_from(index) {
                if let Some(byte) = bits.get_mut(i / 8) {
                    *byte |= 0x80 >> (i % 8);
                }
            }
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing to a Vec cannot fail; an empty list is the fallback rather than a panic.
        let compressed = gz
            .write_all(&bits)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        let body = ENCODE_BASE64.encode(compressed);
        let encoded = match kind {
            StatusListKind::Bitstring => format!("u{body}"),
            StatusListKind::StatusList2021 => body,
        };
        serde_json::json!({
            "type": kind.list_type(),
            "statusPurpose": purpose,
            "encodedList": encoded,
        })
    }
}

/// Strips the encoding of `encodedList` and inflates it, refusing more than `limit` decompressed bytes.
fn decode_list(kind: StatusListKind, encoded: &str, limit: usize) -> Result<Vec<u8>, StatusError> {
    let body = match kind {
        StatusListKind::Bitstring => match encoded.chars().next() {
            Some('u') => &encoded[1..],
            Some(other) => return Err(StatusError::UnsupportedMultibase(other)),
            None => return Err(bad("encodedList", "empty")),
        },
        // Bare base64 by the 2021 draft. A `u`-prefixed list in a StatusList2021 subject is a Bitstring habit;
        // raw base64 of GZIP always starts `H4sI` (the magic 1f 8b 08), so `uH4sI` cannot be anything else.
        StatusListKind::StatusList2021 => encoded
            .strip_prefix('u')
            .filter(|rest| rest.starts_with("H4sI"))
            .unwrap_or(encoded),
    };
    if body.is_empty() {
        return Err(bad("encodedList", "empty"));
    }
    let translated: String = body
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let compressed = LENIENT_BASE64
        .decode(translated.as_bytes())
        .map_err(|e| StatusError::BadBase64(e.to_string()))?;
    let mut bits = Vec::new();
    // Read one byte past the limit: reaching it proves the list is too large without inflating the rest.
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(cap)
        .read_to_end(&mut bits)
        .map_err(|e| StatusError::BadGzip(e.to_string()))?;
    if bits.len() > limit {
        return Err(StatusError::TooLarge { limit });
    }
    if bits.is_empty() {
        return Err(StatusError::EmptyList);
    }
    Ok(bits)
}

/// The kind named by `type` (a string, or an array holding one of the names) through `name_of`.
fn kind_of(
    obj: &Map<String, Value>,
    name_of: fn(StatusListKind) -> &'static str,
) -> Result<StatusListKind, StatusError> {
    let kinds = [StatusListKind::Bitstring, StatusListKind::StatusList2021];
    let matches = |t: &str| kinds.into_iter().find(|&k| name_of(k) == t);
    match obj.get("type") {
        None => Err(StatusError::MissingField("type")),
        Some(Value::String(t)) => {
            matches(t).ok_or_else(|| StatusError::UnsupportedType(format!("`{t}`")))
        }
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .find_map(matches)
            .ok_or_else(|| StatusError::UnsupportedType(Value::Array(items.clone()).to_string())),
        Some(_) => Err(bad("type", "not a string")),
    }
}

fn parse_index(v: &Value) -> Result<u64, StatusError> {
    match v {
        // Digits only: no sign, no blanks, no exponent; u64::from_str alone would also take a leading `+`.
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| bad("statusListIndex", "too large"))
        }
        Value::String(_) => Err(bad("statusListIndex", "not a decimal string")),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| bad("statusListIndex", "not a non-negative integer")),
        _ => Err(bad("statusListIndex", "neither a string nor a number")),
    }
}

fn parse_size(v: &Value) -> Result<u8, StatusError> {
    let n = match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| bad("statusSize", "not a positive integer"))?,
        // Not in the spec, but a string is what `statusListIndex` uses, so some issuers write this one the same way.
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| bad("statusSize", "too large"))?
        }
        _ => return Err(bad("statusSize", "not a positive integer")),
    };
    match u8::try_from(n) {
        Ok(size) if (1..=MAX_STATUS_SIZE).contains(&size) => Ok(size),
        _ => Err(StatusError::UnsupportedStatusSize(n)),
    }
}

fn required_str<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
) -> Result<&'a str, StatusError> {
    match obj.get(field) {
        None => Err(StatusError::MissingField(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(bad(field, "not a string")),
    }
}

fn bad(field: &'static str, reason: impl Into<String>) -> StatusError {
    StatusError::BadField {
        field,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Both specs' example list: 16 384 zero bytes (131 072 entries), StatusList2021 form.
    const ZERO_LIST: &str = "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

    fn subject(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("test subject is an object")
    }

    fn entry(kind: StatusListKind, purpose: &str, index: u64) -> StatusEntry {
        StatusEntry {
            kind,
            purpose: purpose.into(),
            index,
            list_url: "https://issuer.test/status/1".into(),
            size: 1,
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).expect("gzip to vec");
        gz.finish().expect("gzip to vec")
    }

    #[test]
    fn spec_vector_decodes_in_both_forms() {
        for (kind, encoded) in [
            (StatusListKind::StatusList2021, ZERO_LIST.to_owned()),
            (StatusListKind::Bitstring, format!("u{ZERO_LIST}")),
        ] {
            let list = StatusList::from_subject(&subject(json!({
                "type": kind.list_type(), "statusPurpose": "revocation", "encodedList": encoded
            })))
            .expect("spec vector decodes");
            assert_eq!(list.bits.len(), 16_384);
            assert!(list.bits.iter().all(|&b| b == 0));
            assert_eq!(list.status(&entry(kind, "revocation", 131_071)), Ok(0));
            assert!(matches!(
                list.status(&entry(kind, "revocation", 131_072)),
                Err(StatusError::IndexOutOfRange { bits: 131_072, .. })
            ));
        }
    }

    #[test]
    fn spec_examples_decode() {
        let Some(dir) = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/testdata/vc-status-list")
            .canonicalize()
            .ok()
        else {
            println!("skipped: vc-status-list test data not found");
            return;
        };
        // The Bitstring Status List text and the StatusList2021 draft DCP cites.
        for (file, kind, at_least) in [
            ("index.html", StatusListKind::Bitstring, 2),
            (
                "transitions/2023/FPWD/index.html",
                StatusListKind::StatusList2021,
                1,
            ),
        ] {
            let html = std::fs::read_to_string(dir.join(file)).expect("spec text readable");
            let mut found = 0;
            for piece in html.split("\"encodedList\": \"").skip(1) {
                // The examples wrap the value in a highlight span: skip tags, stop at the first quote outside one.
                let mut value = String::new();
                let mut in_tag = false;
                for c in piece.chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' => in_tag = false,
                        '"' if !in_tag => break,
                        c if !in_tag => value.push(c),
                        _ => {}
                    }
                }
                let list = StatusList::from_subject(&subject(json!({
                    "type": kind.list_type(), "statusPurpose": "revocation", "encodedList": value
                })))
                .unwrap_or_else(|e| panic!("{file} example {value}: {e}"));
                assert_eq!(list.len_bits(), 131_072);
                assert_eq!(list.status(&entry(kind, "revocation", 94_567)), Ok(0));
                found += 1;
            }
            assert!(
                found >= at_least,
                "{file}: expected the spec's examples, found {found}"
            );
        }
    }

    #[test]
    fn encode_decode_round_trip_is_msb_first() {
        let set = [0, 1, 7, 8, 131_071];
        for kind in [StatusListKind::Bitstring, StatusListKind::StatusList2021] {
            let subj = StatusList::encode(kind, "suspension", &set, 131_072);
            assert_eq!(subj["type"], kind.list_type());
            let encoded = subj["encodedList"].as_str().expect("string");
            assert_eq!(encoded.starts_with('u'), kind == StatusListKind::Bitstring);
            let list = StatusList::from_subject(&subject(subj.clone())).expect("round trip");
            assert_eq!(list.kind, kind);
            assert_eq!(list.purpose, "suspension");
            assert_eq!(
                list.bits[0], 0b1100_0001,
                "bits 0, 1 and 7 of byte 0, MSB first"
            );
            assert_eq!(list.bits[1], 0b1000_0000, "bit 8 = MSB of byte 1");
            assert_eq!(list.bits[16_383], 0b0000_0001);
            for i in [0u64, 1, 2, 6, 7, 8, 9, 131_070, 131_071] {
                let expected = u32::from(set.contains(&i));
                assert_eq!(
                    list.status(&entry(kind, "suspension", i)),
                    Ok(expected),
                    "index {i}"
                );
            }
        }
    }

    #[test]
    fn multi_bit_status_reads_msb_first() {
        // Bits 0..8 = 1100_0001: size 2 gives entries 0b11, 0b00, 0b00, 0b01.
        let list = StatusList::from_subject(&subject(StatusList::encode(
            StatusListKind::Bitstring,
            "message",
            &[0, 1, 7],
            64,
        )))
        .expect("decodes");
        let at = |index, size| {
            list.status(&StatusEntry {
                size,
                ..entry(StatusListKind::Bitstring, "message", index)
            })
        };
        assert_eq!(at(0, 2), Ok(3));
        assert_eq!(at(1, 2), Ok(0));
        assert_eq!(at(3, 2), Ok(1));
        assert_eq!(at(0, 8), Ok(0b1100_0001));
        assert_eq!(at(7, 8), Ok(0));
        assert!(matches!(at(8, 8), Err(StatusError::IndexOutOfRange { .. })));
        assert_eq!(at(0, 9), Err(StatusError::UnsupportedStatusSize(9)));
        assert!(matches!(
            at(u64::MAX, 8),
            Err(StatusError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn purpose_and_kind_must_match_the_list() {
        let list = StatusList::from_subject(&subject(StatusList::encode(
            StatusListKind::Bitstring,
            "revocation",
            &[],
            8,
        )))
        .expect("decodes");
        assert_eq!(
            list.status(&entry(StatusListKind::Bitstring, "suspension", 0)),
            Err(StatusError::PurposeMismatch {
                entry: "suspension".into(),
                list: "revocation".into()
            })
        );
        assert!(matches!(
            list.status(&entry(StatusListKind::StatusList2021, "revocation", 0)),
            Err(StatusError::KindMismatch { .. })
        ));
        let multi = StatusList::from_subject(&subject(json!({
            "type": "BitstringStatusList", "statusPurpose": ["revocation", "suspension"], "encodedList": format!("u{ZERO_LIST}")
        })))
        .expect("several purposes");
        assert_eq!(
            multi.status(&entry(StatusListKind::Bitstring, "suspension", 5)),
            Ok(0)
        );
        assert!(multi
            .status(&entry(StatusListKind::Bitstring, "refresh", 5))
            .is_err());
    }

    #[test]
    fn index_out_of_range_is_refused() {
        let list = StatusList::from_subject(&subject(StatusList::encode(
            StatusListKind::StatusList2021,
            "revocation",
            &[15],
            16,
        )))
        .expect("decodes");
        assert_eq!(
            list.status(&entry(StatusListKind::StatusList2021, "revocation", 15)),
            Ok(1)
        );
        assert_eq!(
            list.status(&entry(StatusListKind::StatusList2021, "revocation", 16)),
            Err(StatusError::IndexOutOfRange {
                index: 16,
                size: 1,
                bits: 16
            })
        );
    }

    #[test]
    fn other_multibase_prefixes_and_garbage_are_refused() {
        let decode = |kind: StatusListKind, encoded: &str| {
            StatusList::from_subject(&subject(json!({
                "type": kind.list_type(), "statusPurpose": "revocation", "encodedList": encoded
            })))
        };
        assert_eq!(
            decode(StatusListKind::Bitstring, "z3Jx9"),
            Err(StatusError::UnsupportedMultibase('z'))
        );
        // A bare (StatusList2021-style) list in a Bitstring subject: `H` is no multibase base64url prefix.
        assert_eq!(
            decode(StatusListKind::Bitstring, ZERO_LIST),
            Err(StatusError::UnsupportedMultibase('H'))
        );
        assert!(matches!(
            decode(StatusListKind::Bitstring, "u!!not base64"),
            Err(StatusError::BadBase64(_))
        ));
        assert!(matches!(
            decode(StatusListKind::Bitstring, "uAAAA"),
            Err(StatusError::BadGzip(_))
        ));
        assert!(matches!(
            decode(StatusListKind::StatusList2021, "bm90IGd6aXA"),
            Err(StatusError::BadGzip(_))
        ));
        assert!(matches!(
            decode(StatusListKind::Bitstring, "u"),
            Err(StatusError::BadField { .. })
        ));
        assert!(matches!(
            decode(StatusListKind::StatusList2021, ""),
            Err(StatusError::BadField { .. })
        ));
        // A GZIP stream cut short fails its length/CRC check.
        let truncated = ENCODE_BASE64.encode(&gzip(&[0xff; 64])[..20]);
        assert!(matches!(
            decode(StatusListKind::StatusList2021, &truncated),
            Err(StatusError::BadGzip(_))
        ));
        let empty = ENCODE_BASE64.encode(gzip(&[]));
        assert_eq!(
            decode(StatusListKind::StatusList2021, &empty),
            Err(StatusError::EmptyList)
        );
    }

    #[test]
    fn both_base64_alphabets_with_or_without_padding_are_read() {
        let compressed = gzip(&[0x80, 0, 0xff]);
        let forms = [
            base64::engine::general_purpose::STANDARD.encode(&compressed),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(&compressed),
            base64::engine::general_purpose::URL_SAFE.encode(&compressed),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&compressed),
        ];
        for form in forms {
            for (kind, encoded) in [
                (StatusListKind::StatusList2021, form.clone()),
                (StatusListKind::Bitstring, format!("u{form}")),
                // The `u` habit carried over into a StatusList2021 subject.
                (StatusListKind::StatusList2021, format!("u{form}")),
            ] {
                let list = StatusList::from_subject(&subject(json!({
                    "type": kind.list_type(), "statusPurpose": "revocation", "encodedList": encoded
                })))
                .unwrap_or_else(|e| panic!("{encoded}: {e}"));
                assert_eq!(list.bits, vec![0x80, 0, 0xff]);
            }
        }
    }

    #[test]
    fn oversized_decompression_is_refused() {
        // The limit is a parameter inside, so the refusal is exercised cheaply as well as at the real cap.
        let encoded = ENCODE_BASE64.encode(gzip(&[0u8; 4097]));
        assert_eq!(
            decode_list(StatusListKind::StatusList2021, &encoded, 4096),
            Err(StatusError::TooLarge { limit: 4096 })
        );
        assert_eq!(
            decode_list(StatusListKind::StatusList2021, &encoded, 4097).map(|b| b.len()),
            Ok(4097)
        );

        let bomb = ENCODE_BASE64.encode(gzip(&vec![0u8; MAX_DECODED_BYTES + 1]));
        assert!(
            bomb.len() < 256 * 1024,
            "a small input: {} bytes",
            bomb.len()
        );
        let refused = StatusList::from_subject(&subject(json!({
            "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": format!("u{bomb}")
        })));
        assert_eq!(
            refused,
            Err(StatusError::TooLarge {
                limit: MAX_DECODED_BYTES
            })
        );
    }

    #[test]
    fn entries_parse_from_both_specs() {
        let bsl = StatusEntry::parse(&json!({
            "id": "https://example.com/credentials/status/3#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://example.com/credentials/status/3"
        }))
        .expect("bitstring entry");
        assert_eq!(
            bsl,
            StatusEntry {
                kind: StatusListKind::Bitstring,
                purpose: "revocation".into(),
                index: 94_567,
                list_url: "https://example.com/credentials/status/3".into(),
                size: 1
            }
        );
        let sl = StatusEntry::parse(&json!({
            "type": "StatusList2021Entry", "statusPurpose": "suspension",
            "statusListIndex": 12, "statusListCredential": "http://localhost:8080/status/list"
        }))
        .expect("2021 entry with a numeric index");
        assert_eq!(
            (sl.kind, sl.index, sl.size),
            (StatusListKind::StatusList2021, 12, 1)
        );
        let sized = StatusEntry::parse(&json!({
            "type": "BitstringStatusListEntry", "statusPurpose": "message", "statusListIndex": "3",
            "statusSize": 2, "statusListCredential": "https://example.com/s"
        }))
        .expect("sized entry");
        assert_eq!(sized.size, 2);
    }

    #[test]
    fn malformed_entries_are_refused() {
        let base = json!({
            "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": "1", "statusListCredential": "https://example.com/s"
        });
        let with = |field: &str, value: Value| {
            let mut v = base.clone();
            v[field] = value;
            StatusEntry::parse(&v)
        };
        let without = |field: &str| {
            let mut v = base.clone();
            v.as_object_mut().expect("object").remove(field);
            StatusEntry::parse(&v)
        };
        assert!(StatusEntry::parse(&base).is_ok());
        assert_eq!(
            StatusEntry::parse(&json!("x")),
            Err(StatusError::NotAnObject("credentialStatus"))
        );
        assert!(matches!(
            with("type", json!("RevocationList2020Status")),
            Err(StatusError::UnsupportedType(_))
        ));
        assert_eq!(without("type"), Err(StatusError::MissingField("type")));
        assert_eq!(
            without("statusPurpose"),
            Err(StatusError::MissingField("statusPurpose"))
        );
        assert_eq!(
            without("statusListIndex"),
            Err(StatusError::MissingField("statusListIndex"))
        );
        assert_eq!(
            without("statusListCredential"),
            Err(StatusError::MissingField("statusListCredential"))
        );
        for index in [
            json!("-1"),
            json!("+1"),
            json!(" 1"),
            json!("1e3"),
            json!(""),
            json!(-1),
            json!(1.5),
            json!(null),
            json!("99999999999999999999999"),
        ] {
            assert!(
                matches!(
                    with("statusListIndex", index.clone()),
                    Err(StatusError::BadField { .. })
                ),
                "{index}"
            );
        }
        assert!(matches!(
            with("statusListCredential", json!("not a url")),
            Err(StatusError::BadField { .. })
        ));
        assert_eq!(
            with("statusSize", json!(0)),
            Err(StatusError::UnsupportedStatusSize(0))
        );
        assert_eq!(
            with("statusSize", json!(9)),
            Err(StatusError::UnsupportedStatusSize(9))
        );
        assert!(matches!(
            with("statusSize", json!(-2)),
            Err(StatusError::BadField { .. })
        ));
        assert_eq!(with("statusSize", json!("4")).map(|e| e.size), Ok(4));
        assert_eq!(
            with(
                "type",
                json!(["CredentialStatus", "BitstringStatusListEntry"])
            )
            .map(|e| e.kind),
            Ok(StatusListKind::Bitstring)
        );
    }

    #[test]
    fn malformed_subjects_are_refused() {
        let with = |v: Value| StatusList::from_subject(&subject(v));
        assert_eq!(
            with(json!({"statusPurpose": "revocation", "encodedList": ZERO_LIST})),
            Err(StatusError::MissingField("type"))
        );
        assert!(matches!(
            with(
                json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "encodedList": ZERO_LIST})
            ),
            Err(StatusError::UnsupportedType(_))
        ));
        assert_eq!(
            with(json!({"type": "StatusList2021", "encodedList": ZERO_LIST})),
            Err(StatusError::MissingField("statusPurpose"))
        );
        assert_eq!(
            with(json!({"type": "StatusList2021", "statusPurpose": "revocation"})),
            Err(StatusError::MissingField("encodedList"))
        );
        assert!(matches!(
            with(
                json!({"type": "StatusList2021", "statusPurpose": ["revocation"], "encodedList": ZERO_LIST})
            ),
            Err(StatusError::BadField {
                field: "statusPurpose",
                ..
            })
        ));
        assert!(matches!(
            with(
                json!({"type": "BitstringStatusList", "statusPurpose": [], "encodedList": format!("u{ZERO_LIST}")})
            ),
            Err(StatusError::BadField {
                field: "statusPurpose",
                ..
            })
        ));
    }
}
