//! Issuing credentials (what an issuer signs: test issuers, fixtures) and presentations (what a holder's Credential
//! Service answers a presentation query with), in the shapes EDC IdentityHub produces (reference/dcp.md §5).

use std::time::Duration;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::compact::{sign, Compact};
use super::model::{format_time, BASE_CREDENTIAL_TYPE};
use super::{
    CredentialError, CredentialFormat, PRESENTATION_EXCHANGE_CONTEXT, VC_V1_CONTEXT, VC_V2_CONTEXT,
};
use crate::identity::SigningKey;

/// What an issuer signs.
pub struct CredentialRequest<'a> {
    pub key: &'a SigningKey,
    pub issuer_did: &'a str,
    /// The DID URL of the signing key in the issuer's DID document (`<did>#<key>`).
    pub key_id: &'a str,
    /// The credential's id (omitted when empty).
    pub id: &'a str,
    /// The credential's types besides `VerifiableCredential`, e.g. `["MembershipCredential"]`.
    pub types: &'a [&'a str],
    /// The `credentialSubject` object; its `id` is the holder's DID.
    pub subject: &'a Value,
    pub valid_from: OffsetDateTime,
    pub valid_until: Option<OffsetDateTime>,
    /// The `credentialStatus` object, written as given.
    pub status: Option<&'a Value>,
    pub format: CredentialFormat,
}

/// What a holder signs to present its credentials.
pub struct PresentationRequest<'a> {
    pub key: &'a SigningKey,
    pub holder_did: &'a str,
    /// The DID URL of the signing key in the holder's DID document (`<did>#<key>`, an `authentication` key).
    pub key_id: &'a str,
    /// The verifier's DID.
    pub audience: &'a str,
    /// The credentials as compact JWS.
    pub credentials: &'a [String],
    pub now: OffsetDateTime,
    pub lifetime: Duration,
    pub format: CredentialFormat,
}

fn request_error(what: &str, why: impl Into<String>) -> CredentialError {
    CredentialError::Malformed {
        what: what.to_string(),
        why: why.into(),
    }
}

/// EDC refuses a `kid` that is not a DID URL of the signer (reference/dcp.md §10 pitfall 1).
fn check_key_id(what: &str, did: &str, key_id: &str) -> Result<(), CredentialError> {
    match key_id
        .strip_prefix(did)
        .and_then(|rest| rest.strip_prefix('#'))
    {
        Some(fragment) if !did.is_empty() && !fragment.is_empty() => Ok(()),
        _ => Err(request_error(
            what,
            format!("key_id {key_id:?} is not a DID URL of {did:?} (<did>#<key>)"),
        )),
    }
}

/// Signs a credential: a VC-JWT (`vc` claim, `iss`, `sub`, `jti`, `nbf`, `iat`, `exp`) for
/// [`CredentialFormat::Vc11Jwt`], a JOSE-secured VCDM 2.0 credential (`typ` `vc+jwt`) for
/// [`CredentialFormat::Vc20Jose`]. Returns the compact JWS.
pub fn issue_credential(r: &CredentialRequest<'_>) -> Result<String, CredentialError> {
    const WHAT: &str = "credential request";
    check_key_id(WHAT, r.issuer_did, r.key_id)?;
    let subject_id = r
        .subject
        .as_object()
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| request_error(WHAT, "the subject is not an object with an id"))?;
    if r.valid_until.is_some_and(|until| until < r.valid_from) {
        return Err(request_error(WHAT, "valid_until is before valid_from"));
    }
    let mut types = vec![BASE_CREDENTIAL_TYPE];
    for t in r.types {
        if !t.is_empty() && !types.contains(t) {
            types.push(t);
        }
    }

    let mut credential = Map::new();
    let context = match r.format {
        CredentialFormat::Vc11Jwt => VC_V1_CONTEXT,
        CredentialFormat::Vc20Jose => VC_V2_CONTEXT,
    };
    credential.insert("@context".into(), json!([context]));
    if !r.id.is_empty() {
        credential.insert("id".into(), json!(r.id));
    }
    credential.insert("type".into(), json!(types));
    credential.insert("issuer".into(), json!(r.issuer_did));
    let (from_name, until_name) = match r.format {
        CredentialFormat::Vc11Jwt => ("issuanceDate", "expirationDate"),
        CredentialFormat::Vc20Jose => ("validFrom", "validUntil"),
    };
    credential.insert(from_name.into(), json!(format_time(r.valid_from)));
    if let Some(until) = r.valid_until {
        credential.insert(until_name.into(), json!(format_time(until)));
    }
    credential.insert("credentialSubject".into(), r.subject.clone());
    if let Some(status) = r.status {
        credential.insert("credentialStatus".into(), status.clone());
    }

    let alg = r.key.algorithm().jws_name();
    match r.format {
        CredentialFormat::Vc11Jwt => {
            let from = r.valid_from.unix_timestamp();
            let mut claims = Map::new();
            claims.insert("iss".into(), json!(r.issuer_did));
            claims.insert("sub".into(), json!(subject_id));
            if !r.id.is_empty() {
                claims.insert("jti".into(), json!(r.id));
            }
            claims.insert("nbf".into(), json!(from));
            claims.insert("iat".into(), json!(from));
            if let Some(until) = r.valid_until {
                claims.insert("exp".into(), json!(until.unix_timestamp()));
            }
            claims.insert("vc".into(), Value::Object(credential));
            sign(
                r.key,
                &json!({"alg": alg, "kid": r.key_id, "typ": "JWT"}),
                &Value::Object(claims),
            )
        }
        CredentialFormat::Vc20Jose => sign(
            r.key,
            &json!({"alg": alg, "kid": r.key_id, "typ": "vc+jwt", "cty": "vc"}),
            &Value::Object(credential),
        ),
    }
}

/// Signs a presentation of `credentials` to `audience`, valid from `now` for `lifetime`:
/// - [`CredentialFormat::Vc11Jwt`]: a VP-JWT (`iss` = holder, `aud`, `jti`, `iat`, `nbf`, `exp`, `vp` listing the
///   VC-JWTs), as EDC IdentityHub's `JwtPresentationGenerator` makes it;
/// - [`CredentialFormat::Vc20Jose`]: a JOSE-secured VCDM 2.0 presentation (`typ` `vp+jwt`; `holder`, the
///   credentials as `EnvelopedVerifiableCredential` data URLs), with `aud`, `jti`, `iat`, `nbf` and `exp` as JWT
///   claims beside it. (EDC wraps such a presentation once more; verification accepts both.)
pub fn issue_presentation(r: &PresentationRequest<'_>) -> Result<String, CredentialError> {
    const WHAT: &str = "presentation request";
    check_key_id(WHAT, r.holder_did, r.key_id)?;
    for (i, c) in r.credentials.iter().enumerate() {
        Compact::parse(
            c,
            &format!("credential {} of the presentation request", i + 1),
        )?;
    }
    let iat = r.now.unix_timestamp();
    let exp = iat.saturating_add(i64::try_from(r.lifetime.as_secs()).unwrap_or(i64::MAX));
    let jti = uuid::Uuid::new_v4().to_string();
    let alg = r.key.algorithm().jws_name();
    match r.format {
        CredentialFormat::Vc11Jwt => {
            let claims = json!({
                "iss": r.holder_did,
                "aud": r.audience,
                "jti": jti,
                "iat": iat,
                "nbf": iat,
                "exp": exp,
                "vp": {
                    "@context": [VC_V1_CONTEXT, PRESENTATION_EXCHANGE_CONTEXT],
                    "type": "VerifiablePresentation",
                    "verifiableCredential": r.credentials,
                },
            });
            sign(
                r.key,
                &json!({"alg": alg, "kid": r.key_id, "typ": "JWT"}),
                &claims,
            )
        }
        CredentialFormat::Vc20Jose => {
            let enveloped: Vec<Value> = r
                .credentials
                .iter()
                .map(|c| {
                    json!({
                        "@context": [VC_V2_CONTEXT],
                        "type": "EnvelopedVerifiableCredential",
                        "id": format!("data:application/vc+jwt,{c}"),
                    })
                })
                .collect();
            let payload = json!({
                "@context": [VC_V2_CONTEXT],
                "type": "VerifiablePresentation",
                "id": format!("urn:uuid:{jti}"),
                "holder": r.holder_did,
                "verifiableCredential": enveloped,
                "aud": r.audience,
                "jti": jti,
                "iat": iat,
                "nbf": iat,
                "exp": exp,
            });
            sign(
                r.key,
                &json!({"alg": alg, "kid": r.key_id, "typ": "vp+jwt", "cty": "vp"}),
                &payload,
            )
        }
    }
}
