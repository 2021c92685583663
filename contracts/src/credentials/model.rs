//! Reading a credential out of its JWS, leniently where peers differ (reference/dcp.md §10 pitfall 9): `type` one
//! string or several, `credentialSubject` and `credentialStatus` one object or several, `issuer` a string or an
//! object with an `id`; VCDM 1.1 (`vc` claim beside the JWT claims) and VCDM 2.0 (the payload is the credential)
//! alike. Times: RFC 3339 strings in the credential, NumericDate in JWT claims; every bound given is kept.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::compact::Compact;
use super::{CredentialError, CredentialFormat};

/// The base type every credential has and no trust decision is made on.
pub(super) const BASE_CREDENTIAL_TYPE: &str = "VerifiableCredential";

/// A credential read from its JWS, not verified.
#[derive(Debug, Clone)]
pub(super) struct ParsedCredential {
    pub jws: Compact,
    pub format: CredentialFormat,
    /// How errors name it when it has no id (its place in the presentation).
    pub position: String,
    pub issuer: String,
    pub id: Option<String>,
    /// Without `VerifiableCredential`.
    pub types: Vec<String>,
    pub subjects: Vec<Map<String, Value>>,
    /// The JWT `sub` claim, which VC-JWT issuers set to the subject's id.
    pub jwt_subject: Option<String>,
    pub status: Vec<Value>,
    /// The latest of `issuanceDate`, `validFrom` and `nbf` (Unix seconds).
    pub not_before: Option<i64>,
    /// The earliest of `expirationDate`, `validUntil` and `exp` (Unix seconds).
    pub not_after: Option<i64>,
}

impl ParsedCredential {
    /// Reads the credential in the compact JWS `jwt`; `what` names it in errors.
    pub(super) fn parse(jwt: &str, what: &str) -> Result<ParsedCredential, CredentialError> {
        let jws = Compact::parse(jwt, what)?;
        let malformed = |why: String| CredentialError::Malformed {
            what: what.to_string(),
            why,
        };
        let claims = &jws.payload;
        let (format, credential) = match claims.get("vc") {
            Some(Value::Object(vc)) => (CredentialFormat::Vc11Jwt, vc),
            Some(_) => return Err(malformed("the vc claim is not an object".into())),
            None => (CredentialFormat::Vc20Jose, claims),
        };

        let all_types = strings(credential.get("type")).ok_or_else(|| {
            malformed("type is missing or not a string or list of strings".into())
        })?;
        if !all_types.iter().any(|t| t == BASE_CREDENTIAL_TYPE) {
            return Err(malformed(format!(
                "type {all_types:?} does not include {BASE_CREDENTIAL_TYPE}"
            )));
        }
        let mut types: Vec<String> = Vec::new();
        for t in all_types {
            if t != BASE_CREDENTIAL_TYPE && !types.contains(&t) {
                types.push(t);
            }
        }

        let named_issuer = match credential.get("issuer") {
            None | Some(Value::Null) => None,
            Some(v) => Some(id_of(v).ok_or_else(|| {
                malformed("issuer is neither a string nor an object with an id".into())
            })?),
        };
        let iss = optional_string(claims, "iss").map_err(&malformed)?;
        let issuer = match (named_issuer, iss) {
            (Some(a), Some(b)) if a != b => {
                return Err(malformed(format!(
                    "issuer {a} differs from the iss claim {b}"
                )))
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => return Err(malformed("no issuer".into())),
        };

        let id = match optional_string(credential, "id").map_err(&malformed)? {
            Some(id) => Some(id),
            None => optional_string(claims, "jti").map_err(&malformed)?,
        };

        let mut subjects = match credential.get("credentialSubject") {
            Some(Value::Object(s)) => vec![s.clone()],
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|s| s.as_object().cloned())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| malformed("credentialSubject holds a non-object".into()))?,
            _ => {
                return Err(malformed(
                    "credentialSubject is missing or not an object".into(),
                ))
            }
        };
        let jwt_subject = optional_string(claims, "sub").map_err(&malformed)?;
        // VC-JWT 1.1 may carry the subject's id only as `sub`.
        if let (CredentialFormat::Vc11Jwt, [only], Some(sub)) =
            (format, subjects.as_mut_slice(), &jwt_subject)
        {
            only.entry("id")
                .or_insert_with(|| Value::String(sub.clone()));
        }

        let status = match credential.get("credentialStatus") {
            None | Some(Value::Null) => Vec::new(),
            Some(entry @ Value::Object(_)) => vec![entry.clone()],
            Some(Value::Array(entries)) if entries.iter().all(Value::is_object) => entries.clone(),
            Some(_) => {
                return Err(malformed(
                    "credentialStatus is not an object or a list of objects".into(),
                ))
            }
        };

        let mut not_before = None;
        let mut not_after = None;
        for field in ["issuanceDate", "validFrom"] {
            if let Some(t) = date_time(credential, field).map_err(&malformed)? {
                not_before = Some(not_before.map_or(t, |b: i64| b.max(t)));
            }
        }
        if let Some(t) = numeric_date(claims, "nbf").map_err(&malformed)? {
            not_before = Some(not_before.map_or(t, |b: i64| b.max(t)));
        }
        for field in ["expirationDate", "validUntil"] {
            if let Some(t) = date_time(credential, field).map_err(&malformed)? {
                not_after = Some(not_after.map_or(t, |a: i64| a.min(t)));
            }
        }
        if let Some(t) = numeric_date(claims, "exp").map_err(&malformed)? {
            not_after = Some(not_after.map_or(t, |a: i64| a.min(t)));
        }

        Ok(ParsedCredential {
            jws,
            format,
            position: what.to_string(),
            issuer,
            id,
            types,
            subjects,
            jwt_subject,
            status,
            not_before,
            not_after,
        })
    }

    /// How refusals name the credential: its id (or place) and types.
    pub(super) fn label(&self) -> String {
        let types = if self.types.is_empty() {
            "untyped".to_string()
        } else {
            self.types.join(", ")
        };
        match &self.id {
            Some(id) => format!("credential {id} ({types})"),
            None => format!("{} ({types})", self.position),
        }
    }

    /// Refuses a credential outside its validity period at `now` (Unix seconds), give or take `leeway` seconds.
    pub(super) fn check_validity(&self, now: i64, leeway: i64) -> Result<(), CredentialError> {
        if let Some(until) = self.not_after {
            if now >= until.saturating_add(leeway) {
                return Err(CredentialError::CredentialExpired {
                    credential: self.label(),
                    at: rfc3339(until),
                });
            }
        }
        if let Some(from) = self.not_before {
            if from > now.saturating_add(leeway) {
                return Err(CredentialError::CredentialNotYetValid {
                    credential: self.label(),
                    from: rfc3339(from),
                });
            }
        }
        Ok(())
    }
}

/// `"a"` or `["a", "b"]`.
pub(super) fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

/// Whether `obj`'s `type` is or includes `wanted`.
pub(super) fn has_type(obj: &Map<String, Value>, wanted: &str) -> bool {
    strings(obj.get("type")).is_some_and(|ts| ts.iter().any(|t| t == wanted))
}

/// `"did:..."` or `{"id": "did:..."}`.
pub(super) fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => match o.get("id") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A string member that may be absent.
pub(super) fn optional_string(
    obj: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} is not a string")),
    }
}

/// A JWT NumericDate claim (fractional seconds truncated) as Unix seconds.
pub(super) fn numeric_date(obj: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    let secs = match obj.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e12)
                .map(|f| f as i64)
        }),
        Some(_) => None,
    };
    secs.filter(|s| OffsetDateTime::from_unix_timestamp(*s).is_ok())
        .map(Some)
        .ok_or_else(|| format!("{name} is not a NumericDate in range"))
}

/// An RFC 3339 date-time member as Unix seconds; one without a time zone offset is read as UTC.
pub(super) fn date_time(obj: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    let text = match obj.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(format!("{name} is not a date-time string")),
    };
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339))
        .map(|t| Some(t.unix_timestamp()))
        .map_err(|_| format!("{name} {text:?} is not an RFC 3339 date-time"))
}

/// Unix seconds as an RFC 3339 UTC date-time.
pub(super) fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("@{secs}"))
}

/// `t` as an RFC 3339 UTC date-time, whole seconds.
pub(super) fn format_time(t: OffsetDateTime) -> String {
    rfc3339(t.unix_timestamp())
}

pub(super) fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
