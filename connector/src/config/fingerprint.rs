//! SHA-256 fingerprints of certificates (over the DER encoding), the form partners pin each other's certificates
//! in: `openssl x509 -noout -fingerprint -sha256` prints the same value with colons.

use std::fmt;

use sha2::{Digest, Sha256};

/// The SHA-256 digest of a certificate's DER encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

/// Why a configured fingerprint was not understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("must be a SHA-256 fingerprint: 64 hexadecimal digits, colons allowed (got {0} digits)")]
pub struct FingerprintError(usize);

impl Fingerprint {
    pub fn of(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// Accepts `ab12...`, `AB:12:...` and `sha256:ab12...`.
    pub fn parse(text: &str) -> Result<Fingerprint, FingerprintError> {
        let text = text.trim();
        let text = text
            .strip_prefix("sha256:")
            .or_else(|| text.strip_prefix("SHA256:"))
            .unwrap_or(text);
        let digits: String = text.chars().filter(|c| *c != ':').collect();
        let mut out = [0u8; 32];
        match hex::decode_to_slice(&digits, &mut out) {
            Ok(()) => Ok(Fingerprint(out)),
            Err(_) => Err(FingerprintError(digits.len())),
        }
    }

    /// Upper-case hex with colons, as `openssl` prints it.
    pub fn colon_hex(&self) -> String {
        self.0
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings_of_one_digest() {
        let fp = Fingerprint::of(b"certificate");
        let plain = fp.to_string();
        assert_eq!(plain.len(), 64);
        assert_eq!(Fingerprint::parse(&plain), Ok(fp));
        assert_eq!(Fingerprint::parse(&fp.colon_hex()), Ok(fp));
        assert_eq!(Fingerprint::parse(&format!("sha256:{plain}")), Ok(fp));
        assert_eq!(
            Fingerprint::parse(&plain.to_uppercase())
                .unwrap()
                .to_string(),
            plain
        );
    }

    #[test]
    fn refuses_what_is_not_a_sha256_digest() {
        assert_eq!(Fingerprint::parse("abcd"), Err(FingerprintError(4)));
        assert!(Fingerprint::parse(&"zz".repeat(32)).is_err());
        assert!(Fingerprint::parse(&"ab".repeat(33)).is_err());
    }
}
