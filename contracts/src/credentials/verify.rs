//! Reading and verifying presentations and credentials (reference/dcp.md §5, checks in its order): the presentation
//! signed by an `authentication` key of its holder (both signatures of a doubly enveloped one), the holder being the
//! caller, the audience (required for VC 1.1 VP-JWTs, checked when present on VC 2.0 presentations, which EDC sends
//! without one: pitfall 10), the presentation's validity period; then per credential: the signing key a key of the
//! issuer listed under `assertionMethod`, the issuer trusted for the credential's type, the signature, validity,
//! and holder binding (every subject is the holder).

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::compact::Compact;
use super::model::{
    has_type, id_of, numeric_date, optional_string, rfc3339, secs, ParsedCredential,
};
use super::{CredentialError, CredentialFormat, TrustedIssuers};
use crate::did::{DidDocument, Relationship};

/// A credential as read from a presentation, not verified.
#[derive(Debug, Clone)]
pub struct UnverifiedCredential {
    inner: ParsedCredential,
}

impl UnverifiedCredential {
    pub fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    /// The types besides `VerifiableCredential`.
    pub fn types(&self) -> &[String] {
        &self.inner.types
    }

    /// The issuer's DID, as the credential claims it.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The DID URL of the key that signed it.
    pub fn kid(&self) -> &str {
        self.inner.jws.kid()
    }

    pub fn format(&self) -> CredentialFormat {
        self.inner.format
    }

    /// The credential's compact JWS.
    pub fn jwt(&self) -> &str {
        self.inner.jws.text()
    }

    /// Whether every subject (and the JWT `sub`) is `holder`: the holder-binding check, on its own.
    pub fn check_about(&self, holder: &str) -> Result<(), CredentialError> {
        check_holder_binding(&self.inner, holder)
    }

    /// When it stops being valid (Unix seconds): the earliest of `expirationDate`, `validUntil` and `exp`.
    pub fn not_after(&self) -> Option<i64> {
        self.inner.not_after
    }
}

/// Reads one credential (compact JWS) without verifying anything: for a holder looking at its own credentials.
pub fn parse_credential(jwt: &str) -> Result<UnverifiedCredential, CredentialError> {
    ParsedCredential::parse(jwt, "credential").map(|inner| UnverifiedCredential { inner })
}

/// One signed layer of a presentation.
#[derive(Debug, Clone)]
struct Envelope {
    jws: Compact,
    whose: &'static str,
    /// Required on VC 1.1 VP-JWTs; checked when present otherwise.
    audience_required: bool,
}

/// A presentation parsed but not verified: names the DID documents [`verify_presentation`] needs.
#[derive(Debug, Clone)]
pub struct UnverifiedPresentation {
    format: CredentialFormat,
    holder: String,
    /// Outermost first; each must be signed by the holder.
    envelopes: Vec<Envelope>,
    credentials: Vec<UnverifiedCredential>,
}

impl UnverifiedPresentation {
    /// The holder's DID, as the presentation claims it.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The DIDs whose documents verification needs: the holder, then every credential issuer, each once.
    pub fn dids(&self) -> Vec<String> {
        let mut dids = vec![self.holder.clone()];
        for c in &self.credentials {
            if !dids.iter().any(|d| d == c.issuer()) {
                dids.push(c.issuer().to_string());
            }
        }
        dids
    }

    /// The DID URL of the key that signed the (outermost) presentation.
    pub fn kid(&self) -> &str {
        self.envelopes.first().map_or("", |e| e.jws.kid())
    }

    pub fn format(&self) -> CredentialFormat {
        self.format
    }

    pub fn credentials(&self) -> &[UnverifiedCredential] {
        &self.credentials
    }

    /// Refuses, before any DID document is fetched, a presentation with a credential from an issuer not trusted
    /// for its type: lets a verifier avoid fetching documents of issuers it would refuse anyway.
    pub fn check_trust(&self, trusted: &TrustedIssuers) -> Result<(), CredentialError> {
        self.credentials
            .iter()
            .try_for_each(|c| check_trust(&c.inner, trusted))
    }
}

/// What the verifier expects of a presentation.
pub struct PresentationCheck<'a> {
    /// The issuer of the caller's self-issued ID token: the presentation's holder must be this DID.
    pub holder: &'a str,
    /// Our DID: a VC 1.1 VP-JWT's `aud` must be this; a VC 2.0 presentation may lack `aud` (EDC sends none), but
    /// if it has one it must match.
    pub audience: &'a str,
    pub now: OffsetDateTime,
    pub leeway: std::time::Duration,
    pub trusted: &'a TrustedIssuers,
    /// Whether an issuer's key listed under `authentication` only (not `assertionMethod`) may sign credentials:
    /// the Tractus-X wallet stub publishes its keys that way.
    pub lenient_issuer_keys: bool,
}

/// A verified credential: the claims a policy may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCredential {
    pub id: Option<String>,
    /// Without `VerifiableCredential`.
    pub types: Vec<String>,
    pub issuer: String,
    /// The first `credentialSubject`, with all its claims.
    pub subject: Map<String, Value>,
    /// The earliest of `expirationDate`, `validUntil` and the JWT `exp`.
    pub valid_until: Option<OffsetDateTime>,
    /// The `credentialStatus` entries as given (one object, or a list, flattened), for the caller to check.
    pub status: Vec<Value>,
}

impl VerifiedCredential {
    /// The first subject's `id`: the holder's DID.
    pub fn subject_id(&self) -> Option<&str> {
        self.subject.get("id").and_then(Value::as_str)
    }
}

impl From<ParsedCredential> for VerifiedCredential {
    fn from(c: ParsedCredential) -> Self {
        VerifiedCredential {
            id: c.id,
            types: c.types,
            issuer: c.issuer,
            subject: c.subjects.into_iter().next().unwrap_or_default(),
            valid_until: c
                .not_after
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()),
            status: c.status,
        }
    }
}

const PRESENTATION: &str = "presentation";

fn malformed(what: &str, why: impl Into<String>) -> CredentialError {
    CredentialError::Malformed {
        what: what.to_string(),
        why: why.into(),
    }
}

fn unsupported(what: &str, why: impl Into<String>) -> CredentialError {
    CredentialError::Unsupported {
        what: what.to_string(),
        why: why.into(),
    }
}

/// Reads a presentation as a Credential Service returned it (one item of a PresentationResponseMessage's
/// `presentation`): a JWT string in either format; a JSON-LD object with an embedded proof is refused as
/// unsupported. Nothing is verified; [`UnverifiedPresentation::dids`] says which DID documents to fetch.
pub fn parse_presentation(vp: &Value) -> Result<UnverifiedPresentation, CredentialError> {
    match vp {
        Value::String(jwt) => parse_jwt_presentation(jwt),
        Value::Object(_) => Err(unsupported(
            PRESENTATION,
            "a JSON-LD presentation with an embedded proof (LDP); only JWT presentations are supported",
        )),
        _ => Err(malformed(PRESENTATION, "neither a JWT string nor an object")),
    }
}

fn parse_jwt_presentation(jwt: &str) -> Result<UnverifiedPresentation, CredentialError> {
    let outer = Compact::parse(jwt, PRESENTATION)?;
    if outer.payload.contains_key("vp") {
        return parse_vc11(outer);
    }
    if has_type(&outer.payload, "EnvelopedVerifiablePresentation") {
        const ENVELOPE: &str = "presentation envelope";
        let id = match outer.payload.get("id") {
            Some(Value::String(id)) => id,
            _ => {
                return Err(malformed(
                    ENVELOPE,
                    "no id holding the enveloped presentation",
                ))
            }
        };
        let inner = Compact::parse(data_url(id, ENVELOPE)?, PRESENTATION)?;
        if !has_type(&inner.payload, "VerifiablePresentation") {
            return Err(malformed(
                PRESENTATION,
                "the enveloped payload is not a VerifiablePresentation",
            ));
        }
        let (holder, credentials) = vc20_content(&inner.payload)?;
        return Ok(UnverifiedPresentation {
            format: CredentialFormat::Vc20Jose,
            holder,
            envelopes: vec![
                Envelope {
                    jws: outer,
                    whose: ENVELOPE,
                    audience_required: false,
                },
                Envelope {
                    jws: inner,
                    whose: PRESENTATION,
                    audience_required: false,
                },
            ],
            credentials,
        });
    }
    if has_type(&outer.payload, "VerifiablePresentation") {
        let (holder, credentials) = vc20_content(&outer.payload)?;
        return Ok(UnverifiedPresentation {
            format: CredentialFormat::Vc20Jose,
            holder,
            envelopes: vec![Envelope {
                jws: outer,
                whose: PRESENTATION,
                audience_required: false,
            }],
            credentials,
        });
    }
    Err(malformed(
        PRESENTATION,
        "neither a vp claim (VC 1.1) nor a VerifiablePresentation (VC 2.0)",
    ))
}

/// A VP-JWT: `iss` is the holder, the `vp` claim lists the credentials.
fn parse_vc11(jws: Compact) -> Result<UnverifiedPresentation, CredentialError> {
    let vp = match jws.payload.get("vp") {
        Some(Value::Object(vp)) => vp,
        _ => return Err(malformed(PRESENTATION, "the vp claim is not an object")),
    };
    if vp.contains_key("type") && !has_type(vp, "VerifiablePresentation") {
        return Err(malformed(
            PRESENTATION,
            "the vp claim is not a VerifiablePresentation",
        ));
    }
    let holder = optional_string(&jws.payload, "iss")
        .map_err(|why| malformed(PRESENTATION, why))?
        .filter(|h| !h.is_empty())
        .ok_or_else(|| malformed(PRESENTATION, "no iss claim naming the holder"))?;
    if let Some(named) = vp.get("holder").filter(|h| !h.is_null()) {
        if id_of(named).as_deref() != Some(holder.as_str()) {
            return Err(malformed(
                PRESENTATION,
                format!("the holder {named} differs from the iss claim {holder}"),
            ));
        }
    }
    let credentials = credential_items(vp.get("verifiableCredential"))?;
    Ok(UnverifiedPresentation {
        format: CredentialFormat::Vc11Jwt,
        holder,
        envelopes: vec![Envelope {
            jws,
            whose: PRESENTATION,
            audience_required: true,
        }],
        credentials,
    })
}

/// A VCDM 2.0 presentation: `holder` (a string or an object with an id; an `iss` claim beside it must agree) and
/// its credentials.
fn vc20_content(
    vp: &Map<String, Value>,
) -> Result<(String, Vec<UnverifiedCredential>), CredentialError> {
    let named = match vp.get("holder") {
        None | Some(Value::Null) => None,
        Some(h) => Some(id_of(h).ok_or_else(|| {
            malformed(
                PRESENTATION,
                "holder is neither a string nor an object with an id",
            )
        })?),
    };
    let iss = optional_string(vp, "iss").map_err(|why| malformed(PRESENTATION, why))?;
    let holder = match (named, iss) {
        (Some(h), Some(i)) if h != i => {
            return Err(malformed(
                PRESENTATION,
                format!("the holder {h} differs from the iss claim {i}"),
            ))
        }
        (Some(h), _) | (None, Some(h)) => h,
        (None, None) => return Err(malformed(PRESENTATION, "no holder")),
    };
    Ok((holder, credential_items(vp.get("verifiableCredential"))?))
}

/// `verifiableCredential`: one item or a list of them, each a compact JWS, a `data:` URL holding one, or an
/// `EnvelopedVerifiableCredential` object whose `id` is such a URL.
fn credential_items(v: Option<&Value>) -> Result<Vec<UnverifiedCredential>, CredentialError> {
    let items: Vec<&Value> = match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let what = format!("credential {} in the presentation", i + 1);
            let jwt = match item {
                Value::String(s) if s.starts_with("data:") => data_url(s, &what)?,
                Value::String(s) => s.as_str(),
                Value::Object(o) if has_type(o, "EnvelopedVerifiableCredential") => {
                    match o.get("id") {
                        Some(Value::String(id)) => data_url(id, &what)?,
                        _ => return Err(malformed(&what, "the envelope has no id")),
                    }
                }
                Value::Object(_) => {
                    return Err(unsupported(
                        &what,
                        "a JSON-LD credential with an embedded proof (LDP); only JWT credentials are supported",
                    ))
                }
                _ => return Err(malformed(&what, "neither a JWT string nor an object")),
            };
            ParsedCredential::parse(jwt, &what).map(|inner| UnverifiedCredential { inner })
        })
        .collect()
}

/// The JWS in an envelope's `data:<media type>,<JWS>` URL; the media type must be a JWT one (`application/vp+jwt`,
/// `application/vc+jwt`, `application/vc+ld+json+jwt`, ...), not SD-JWT, not base64-encoded.
fn data_url<'s>(url: &'s str, what: &str) -> Result<&'s str, CredentialError> {
    let (media, data) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .ok_or_else(|| malformed(what, "the envelope id is not a data: URL"))?;
    let media = media.to_ascii_lowercase();
    let mut params = media.split(';').map(str::trim);
    let media_type = params.next().unwrap_or_default();
    if params.any(|p| p == "base64") {
        return Err(unsupported(what, "a base64-encoded data: URL"));
    }
    if media_type.ends_with("sd-jwt") || !media_type.ends_with("jwt") {
        return Err(unsupported(
            what,
            format!("enveloped media type {media_type:?} (only JWT)"),
        ));
    }
    Ok(data)
}

fn check_trust(c: &ParsedCredential, trusted: &TrustedIssuers) -> Result<(), CredentialError> {
    if trusted.allows_any(&c.issuer, &c.types) {
        Ok(())
    } else {
        Err(CredentialError::IssuerNotTrusted {
            issuer: c.issuer.clone(),
            types: c.types.clone(),
        })
    }
}

fn audience_text(aud: &Value) -> String {
    match aud {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn check_envelope_claims(
    e: &Envelope,
    expected_audience: &str,
    now: i64,
    leeway: i64,
) -> Result<(), CredentialError> {
    let claims = &e.jws.payload;
    match claims.get("aud") {
        None | Some(Value::Null) if e.audience_required => {
            return Err(CredentialError::AudienceMismatch {
                expected: expected_audience.to_string(),
                found: "no audience".into(),
            })
        }
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if a == expected_audience => {}
        Some(Value::Array(list)) if list.iter().any(|a| a.as_str() == Some(expected_audience)) => {}
        Some(other) => {
            return Err(CredentialError::AudienceMismatch {
                expected: expected_audience.to_string(),
                found: audience_text(other),
            })
        }
    }
    let bad_time = |why: String| malformed(e.whose, why);
    if let Some(exp) = numeric_date(claims, "exp").map_err(bad_time)? {
        if now >= exp.saturating_add(leeway) {
            return Err(CredentialError::PresentationExpired { at: rfc3339(exp) });
        }
    }
    if let Some(nbf) = numeric_date(claims, "nbf").map_err(bad_time)? {
        if nbf > now.saturating_add(leeway) {
            return Err(CredentialError::PresentationNotYetValid { from: rfc3339(nbf) });
        }
    }
    Ok(())
}

/// Holder binding: every subject, and the JWT `sub` if any, is the holder.
fn check_holder_binding(c: &ParsedCredential, holder: &str) -> Result<(), CredentialError> {
    let subject_ids = c
        .subjects
        .iter()
        .map(|s| s.get("id").and_then(Value::as_str))
        .chain(c.jwt_subject.as_deref().map(Some));
    for id in subject_ids {
        if id != Some(holder) {
            return Err(CredentialError::SubjectNotHolder {
                credential: c.label(),
                subject: id.unwrap_or("a subject without id").to_string(),
                holder: holder.to_string(),
            });
        }
    }
    Ok(())
}

/// Verifies a presentation and its credentials against the DID documents `documents` gives for the DIDs
/// [`UnverifiedPresentation::dids`] named: the holder is `check.holder`; each presentation signature is by an
/// `authentication` key of the holder; the audience (see [`PresentationCheck::audience`]); `exp`/`nbf`; at least
/// one credential; per credential: its `kid` a DID URL of its issuer, the issuer trusted for at least one of its
/// types, the signature by an `assertionMethod` key of the issuer, validity (`issuanceDate`/`validFrom`,
/// `expirationDate`/`validUntil`, `nbf`/`exp`, all with `check.leeway`), and every subject the holder. Status is not
/// checked (that needs I/O): each credential's status entries are returned for the caller to check.
pub fn verify_presentation<'d>(
    p: &UnverifiedPresentation,
    check: &PresentationCheck<'_>,
    documents: &dyn Fn(&str) -> Option<&'d DidDocument>,
) -> Result<Vec<VerifiedCredential>, CredentialError> {
    verify_presentation_each(p, check, documents)?
        .into_iter()
        .collect()
}

/// Like [`verify_presentation`], judging each credential on its own: the presentation itself (holder, its
/// signatures, audience, times, at least one credential) must pass, and then each credential gets its own answer,
/// in the order [`UnverifiedPresentation::credentials`] lists them, so a caller can drop one it does not need.
pub fn verify_presentation_each<'d>(
    p: &UnverifiedPresentation,
    check: &PresentationCheck<'_>,
    documents: &dyn Fn(&str) -> Option<&'d DidDocument>,
) -> Result<Vec<Result<VerifiedCredential, CredentialError>>, CredentialError> {
    if p.holder != check.holder {
        return Err(CredentialError::HolderMismatch {
            expected: check.holder.to_string(),
            found: p.holder.clone(),
        });
    }
    for e in &p.envelopes {
        e.jws
            .verify_signed_by(&p.holder, Relationship::Authentication, e.whose, documents)?;
    }
    let now = check.now.unix_timestamp();
    let leeway = secs(check.leeway);
    for e in &p.envelopes {
        check_envelope_claims(e, check.audience, now, leeway)?;
    }
    if p.credentials.is_empty() {
        return Err(CredentialError::NoCredentials);
    }
    Ok(p.credentials
        .iter()
        .map(|c| {
            let c = &c.inner;
            let label = c.label();
            c.jws
                .check_kid_of(&c.issuer, Relationship::AssertionMethod, &label)?;
            check_trust(c, check.trusted)?;
            verify_issuer_signature(c, check.lenient_issuer_keys, documents)?;
            c.check_validity(now, leeway)?;
            check_holder_binding(c, &p.holder)?;
            let mut verified = VerifiedCredential::from(c.clone());
            // An issuer vouches only for the types it is trusted for: a type it added beyond those counts for
            // nothing (else a city registry trusted for CityCredential could mint memberships).
            verified
                .types
                .retain(|t| check.trusted.allows(&verified.issuer, t));
            Ok(verified)
        })
        .collect())
}

/// The issuer's signature: by an `assertionMethod` key, or with `lenient` also an `authentication` key.
fn verify_issuer_signature<'d>(
    c: &ParsedCredential,
    lenient: bool,
    documents: &dyn Fn(&str) -> Option<&'d DidDocument>,
) -> Result<(), CredentialError> {
    let label = c.label();
    match c
        .jws
        .verify_signed_by(&c.issuer, Relationship::AssertionMethod, &label, documents)
    {
        Err(CredentialError::KeyNotAuthorised { .. }) if lenient => {
            c.jws
                .verify_signed_by(&c.issuer, Relationship::Authentication, &label, documents)
        }
        other => other,
    }
}

/// Verifies a standalone credential (e.g. a status list credential fetched as a JWT): signed by an
/// `assertionMethod` key of its issuer, valid at `now` give or take `leeway`. Whether the issuer is trusted is the
/// caller's decision.
pub fn verify_credential<'d>(
    jwt: &str,
    now: OffsetDateTime,
    leeway: std::time::Duration,
    lenient_issuer_keys: bool,
    documents: &dyn Fn(&str) -> Option<&'d DidDocument>,
) -> Result<VerifiedCredential, CredentialError> {
    let c = ParsedCredential::parse(jwt, "credential")?;
    verify_issuer_signature(&c, lenient_issuer_keys, documents)?;
    c.check_validity(now.unix_timestamp(), secs(leeway))?;
    Ok(c.into())
}
