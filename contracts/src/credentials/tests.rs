//! Issue → parse → verify round trips in both DCP formats, EDC's doubly enveloped presentation built by hand, and
//! one test per refusal, each checking the step that failed.

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::*;
use crate::did::DidDocument;
use crate::identity::{KeyAlgorithm, SigningKey};

const HOLDER: &str = "did:web:localhost%3A4711:holder";
const ISSUER: &str = "did:web:issuer.test%3A8443";
const VERIFIER: &str = "did:web:city-a.example:twinport";
const OTHER: &str = "did:web:mallory.example";

const FORMATS: [CredentialFormat; 2] = [CredentialFormat::Vc11Jwt, CredentialFormat::Vc20Jose];

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap()
}

fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

/// A participant: `k1` is listed under all three relationships, `k2` under `capabilityInvocation` only.
struct Party {
    did: &'static str,
    k1: SigningKey,
    k2: SigningKey,
}

impl Party {
    fn new(did: &'static str, alg: KeyAlgorithm) -> Party {
        Party {
            did,
            k1: SigningKey::generate(alg).unwrap(),
            k2: SigningKey::generate(alg).unwrap(),
        }
    }

    fn kid(&self, frag: &str) -> String {
        format!("{}#{frag}", self.did)
    }

    /// The DID document in the DCP shape (reference/dcp.md §7).
    fn document(&self) -> DidDocument {
        let jwk = |k: &SigningKey| {
            let mut j = k.public_jwk();
            j.as_object_mut().unwrap().remove("kid");
            j
        };
        let did = self.did;
        let body = json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],
            "id": did,
            "verificationMethod": [
                {"id": self.kid("k1"), "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk(&self.k1)},
                {"id": self.kid("k2"), "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk(&self.k2)}
            ],
            "authentication": [self.kid("k1")],
            "assertionMethod": ["#k1"],
            "capabilityInvocation": [self.kid("k1"), self.kid("k2")],
            "service": [{"id": format!("{did}#cs"), "type": "CredentialService", "serviceEndpoint": "https://localhost:4711/cs"}]
        });
        DidDocument::parse(body.to_string().as_bytes(), did).unwrap()
    }
}

/// A credential request with owned parts, for tests to tweak.
struct Cred<'w> {
    key: &'w SigningKey,
    issuer_did: &'static str,
    key_id: String,
    id: String,
    types: Vec<String>,
    subject: Value,
    valid_from: OffsetDateTime,
    valid_until: Option<OffsetDateTime>,
    status: Option<Value>,
    format: CredentialFormat,
}

/// A presentation request with owned parts, for tests to tweak.
struct Pres<'w> {
    key: &'w SigningKey,
    key_id: String,
    audience: &'static str,
    now: OffsetDateTime,
    lifetime: Duration,
}

struct World {
    holder: Party,
    issuer: Party,
    docs: HashMap<String, DidDocument>,
    trusted: TrustedIssuers,
}

impl World {
    fn new(alg: KeyAlgorithm) -> World {
        let holder = Party::new(HOLDER, alg);
        let issuer = Party::new(ISSUER, alg);
        let docs = [&holder, &issuer]
            .into_iter()
            .map(|p| (p.did.to_string(), p.document()))
            .collect();
        World {
            holder,
            issuer,
            docs,
            trusted: TrustedIssuers::new([(
                ISSUER.to_string(),
                vec!["MembershipCredential".into()],
            )]),
        }
    }

    fn credential<'w>(
        &'w self,
        format: CredentialFormat,
        tweak: impl FnOnce(&mut Cred<'w>),
    ) -> String {
        let mut c = Cred {
            key: &self.issuer.k1,
            issuer_did: ISSUER,
            key_id: self.issuer.kid("k1"),
            id: "urn:uuid:6a1f0c2e-membership".into(),
            types: vec!["MembershipCredential".into()],
            subject: json!({"id": HOLDER, "memberOf": "city-a", "holderIdentifier": "BPNL000000000001"}),
            valid_from: now() - days(30),
            valid_until: Some(now() + days(335)),
            status: Some(json!({
                "id": "https://issuer.test:8443/status/1#94567",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "94567",
                "statusListCredential": "https://issuer.test:8443/status/1"
            })),
            format,
        };
        tweak(&mut c);
        let types: Vec<&str> = c.types.iter().map(String::as_str).collect();
        issue_credential(&CredentialRequest {
            key: c.key,
            issuer_did: c.issuer_did,
            key_id: &c.key_id,
            id: &c.id,
            types: &types,
            subject: &c.subject,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            status: c.status.as_ref(),
            format: c.format,
        })
        .unwrap()
    }

    fn presentation<'w>(
        &'w self,
        format: CredentialFormat,
        credentials: &[String],
        tweak: impl FnOnce(&mut Pres<'w>),
    ) -> String {
        let mut p = Pres {
            key: &self.holder.k1,
            key_id: self.holder.kid("k1"),
            audience: VERIFIER,
            now: now(),
            lifetime: Duration::from_secs(60),
        };
        tweak(&mut p);
        issue_presentation(&PresentationRequest {
            key: p.key,
            holder_did: HOLDER,
            key_id: &p.key_id,
            audience: p.audience,
            credentials,
            now: p.now,
            lifetime: p.lifetime,
            format,
        })
        .unwrap()
    }

    fn check(&self) -> PresentationCheck<'_> {
        PresentationCheck {
            holder: HOLDER,
            audience: VERIFIER,
            now: now(),
            leeway: Duration::from_secs(5),
            trusted: &self.trusted,
            lenient_issuer_keys: false,
        }
    }

    fn verify(&self, vp: &str) -> Result<Vec<VerifiedCredential>, CredentialError> {
        self.verify_with(vp, &self.check())
    }

    fn verify_with(
        &self,
        vp: &str,
        check: &PresentationCheck<'_>,
    ) -> Result<Vec<VerifiedCredential>, CredentialError> {
        let parsed = parse_presentation(&json!(vp))?;
        verify_presentation(&parsed, check, &|did| self.docs.get(did))
    }
}

/// Signs arbitrary header and payload, for shapes the issuing functions never produce.
fn craft(key: &SigningKey, header: Value, payload: Value) -> String {
    compact::sign(key, &header, &payload).unwrap()
}

fn decode(segment: &str) -> Map<String, Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn payload(jws: &str) -> Map<String, Value> {
    decode(jws.split('.').nth(1).unwrap())
}

fn header(jws: &str) -> Map<String, Value> {
    decode(jws.split('.').next().unwrap())
}

/// Replaces the payload of a JWS, keeping its signature.
fn tamper(jws: &str, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    let parts: Vec<&str> = jws.split('.').collect();
    let mut p = payload(jws);
    edit(&mut p);
    let forged = URL_SAFE_NO_PAD.encode(Value::Object(p).to_string());
    format!("{}.{forged}.{}", parts[0], parts[2])
}

fn v2_envelope(media: &str, jws: &str) -> Value {
    json!({"@context": [VC_V2_CONTEXT], "type": "EnvelopedVerifiableCredential", "id": format!("data:{media},{jws}")})
}

#[test]
fn both_formats_round_trip_with_both_key_types() {
    for alg in [KeyAlgorithm::Es256, KeyAlgorithm::EdDsa] {
        let w = World::new(alg);
        for format in FORMATS {
            let vc = w.credential(format, |_| {});
            let vp = w.presentation(format, std::slice::from_ref(&vc), |_| {});
            let parsed = parse_presentation(&json!(vp)).unwrap();
            assert_eq!(parsed.holder(), HOLDER, "{format:?}");
            assert_eq!(parsed.format(), format);
            assert_eq!(parsed.kid(), w.holder.kid("k1"));
            assert_eq!(parsed.dids(), vec![HOLDER.to_string(), ISSUER.to_string()]);
            let [c] = parsed.credentials() else {
                panic!("one credential")
            };
            assert_eq!(
                (c.issuer(), c.id(), c.types(), c.format(), c.jwt()),
                (
                    ISSUER,
                    Some("urn:uuid:6a1f0c2e-membership"),
                    &["MembershipCredential".to_string()][..],
                    format,
                    vc.as_str()
                )
            );
            assert_eq!(c.kid(), w.issuer.kid("k1"));

            let verified = w.verify(&vp).unwrap();
            assert_eq!(verified.len(), 1);
            let v = &verified[0];
            assert_eq!(v.id.as_deref(), Some("urn:uuid:6a1f0c2e-membership"));
            assert_eq!(v.types, vec!["MembershipCredential".to_string()]);
            assert_eq!(v.issuer, ISSUER);
            assert_eq!(v.subject_id(), Some(HOLDER));
            assert_eq!(v.subject["memberOf"], "city-a");
            assert_eq!(v.subject["holderIdentifier"], "BPNL000000000001");
            assert_eq!(v.valid_until, Some(now() + days(335)));
            assert_eq!(v.status.len(), 1);
            assert_eq!(v.status[0]["type"], "BitstringStatusListEntry");
            assert_eq!(v.status[0]["statusListIndex"], "94567");
        }
    }
}

#[test]
fn issued_shapes_are_what_edc_sends() {
    let w = World::new(KeyAlgorithm::Es256);
    // VC 1.1: VP-JWT with a vp claim listing VC-JWTs.
    let vc = w.credential(CredentialFormat::Vc11Jwt, |_| {});
    assert_eq!(
        Value::Object(header(&vc)),
        json!({"alg": "ES256", "kid": w.issuer.kid("k1"), "typ": "JWT"})
    );
    let c = payload(&vc);
    assert_eq!(
        (c["iss"].as_str(), c["sub"].as_str()),
        (Some(ISSUER), Some(HOLDER))
    );
    assert_eq!(c["jti"], "urn:uuid:6a1f0c2e-membership");
    assert_eq!(c["nbf"], (now() - days(30)).unix_timestamp());
    assert_eq!(c["exp"], (now() + days(335)).unix_timestamp());
    assert_eq!(c["vc"]["@context"], json!([VC_V1_CONTEXT]));
    assert_eq!(
        c["vc"]["type"],
        json!(["VerifiableCredential", "MembershipCredential"])
    );
    assert_eq!(c["vc"]["issuer"], ISSUER);
    assert_eq!(c["vc"]["issuanceDate"], "2026-08-22T14:13:20Z");
    assert_eq!(c["vc"]["expirationDate"], "2027-08-22T14:13:20Z");
    assert_eq!(c["vc"]["credentialSubject"]["id"], HOLDER);
    let vp = w.presentation(CredentialFormat::Vc11Jwt, std::slice::from_ref(&vc), |_| {});
    let p = payload(&vp);
    assert_eq!(
        (p["iss"].as_str(), p["aud"].as_str()),
        (Some(HOLDER), Some(VERIFIER))
    );
    assert_eq!(p["iat"], now().unix_timestamp());
    assert_eq!(p["exp"], now().unix_timestamp() + 60);
    assert!(p["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(
        p["vp"],
        json!({"@context": [VC_V1_CONTEXT, PRESENTATION_EXCHANGE_CONTEXT], "type": "VerifiablePresentation", "verifiableCredential": [vc]})
    );

    // VC 2.0: the payload is the credential; the presentation envelopes it.
    let vc = w.credential(CredentialFormat::Vc20Jose, |_| {});
    assert_eq!(header(&vc)["typ"], "vc+jwt");
    let c = payload(&vc);
    assert_eq!(c["@context"], json!([VC_V2_CONTEXT]));
    assert_eq!(
        (c["issuer"].as_str(), c["validFrom"].as_str()),
        (Some(ISSUER), Some("2026-08-22T14:13:20Z"))
    );
    assert_eq!(c["validUntil"], "2027-08-22T14:13:20Z");
    assert!(!c.contains_key("vc") && !c.contains_key("issuanceDate"));
    let vp = w.presentation(
        CredentialFormat::Vc20Jose,
        std::slice::from_ref(&vc),
        |_| {},
    );
    assert_eq!(header(&vp)["typ"], "vp+jwt");
    let p = payload(&vp);
    assert_eq!(p["type"], "VerifiablePresentation");
    assert_eq!(
        (p["holder"].as_str(), p["aud"].as_str()),
        (Some(HOLDER), Some(VERIFIER))
    );
    assert_eq!(
        p["verifiableCredential"],
        json!([v2_envelope("application/vc+jwt", &vc)])
    );
}

/// EDC IdentityHub's form (reference/dcp.md §5): an outer JWS enveloping the presentation JWS, no `aud` anywhere.
fn edc_double_envelope(
    w: &World,
    outer_key: &SigningKey,
    inner_key: &SigningKey,
    inner_extra: Value,
) -> String {
    let vc = w.credential(CredentialFormat::Vc20Jose, |_| {});
    let h = |k: &SigningKey| json!({"alg": k.algorithm().jws_name(), "kid": w.holder.kid("k1"), "typ": "vp+jwt"});
    let mut inner_payload = json!({
        "@context": [VC_V2_CONTEXT],
        "type": "VerifiablePresentation",
        "holder": HOLDER,
        "verifiableCredential": [{"@context": VC_V2_CONTEXT, "type": "EnvelopedVerifiableCredential", "id": format!("data:application/vc+jwt,{vc}")}]
    });
    for (k, v) in inner_extra.as_object().unwrap() {
        inner_payload[k] = v.clone();
    }
    let inner = craft(inner_key, h(inner_key), inner_payload);
    craft(
        outer_key,
        h(outer_key),
        json!({"@context": [VC_V2_CONTEXT], "type": "EnvelopedVerifiablePresentation", "id": format!("data:application/vp+jwt,{inner}")}),
    )
}

#[test]
fn edcs_doubly_enveloped_presentation_verifies_and_both_signatures_count() {
    let w = World::new(KeyAlgorithm::Es256);
    let k = &w.holder.k1;
    let vp = edc_double_envelope(&w, k, k, json!({}));
    let parsed = parse_presentation(&json!(vp)).unwrap();
    assert_eq!(parsed.format(), CredentialFormat::Vc20Jose);
    assert_eq!(parsed.holder(), HOLDER);
    let verified = w.verify(&vp).unwrap();
    assert_eq!(verified[0].types, vec!["MembershipCredential".to_string()]);
    assert_eq!(verified[0].subject_id(), Some(HOLDER));

    let stranger = SigningKey::generate(KeyAlgorithm::Es256).unwrap();
    assert_eq!(
        w.verify(&edc_double_envelope(&w, &stranger, k, json!({}))),
        Err(CredentialError::BadSignature {
            whose: "presentation envelope".into()
        })
    );
    assert_eq!(
        w.verify(&edc_double_envelope(&w, k, &stranger, json!({}))),
        Err(CredentialError::BadSignature {
            whose: "presentation".into()
        })
    );
    // An audience, where present, must be ours.
    assert!(w
        .verify(&edc_double_envelope(
            &w,
            k,
            k,
            json!({"aud": [OTHER, VERIFIER]})
        ))
        .is_ok());
    assert_eq!(
        w.verify(&edc_double_envelope(&w, k, k, json!({"aud": OTHER}))),
        Err(CredentialError::AudienceMismatch {
            expected: VERIFIER.into(),
            found: OTHER.into()
        })
    );
}

#[test]
fn lenient_shapes_peers_send_are_read() {
    // A bare VC 2.0 presentation with `type` as a string, `holder` as an object, credentials as raw JWS and as
    // data URLs; credentials with `issuer` as an object, `credentialSubject` and `credentialStatus` as lists.
    let w = World::new(KeyAlgorithm::EdDsa);
    let h = json!({"alg": "EdDSA", "kid": w.issuer.kid("k1"), "typ": "vc+ld+json+jwt"});
    let entry = |i: u32| json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": i.to_string(), "statusListCredential": "https://issuer.test:8443/s"});
    let vc_a = craft(
        &w.issuer.k1,
        h.clone(),
        json!({
            "@context": [VC_V2_CONTEXT], "id": "urn:a", "type": ["VerifiableCredential", "MembershipCredential", "MembershipCredential"],
            "issuer": {"id": ISSUER, "name": "Issuer"}, "validFrom": "2026-01-01T00:00:00.000Z",
            "credentialSubject": [{"id": HOLDER, "level": 2}], "credentialStatus": [entry(1), entry(2)]
        }),
    );
    // Times without an offset are read as UTC; `type` may be a single string too.
    let vc_b = craft(
        &w.issuer.k1,
        h,
        json!({
            "@context": [VC_V2_CONTEXT], "type": ["VerifiableCredential", "DataExchangeGovernanceCredential"],
            "issuer": ISSUER, "validFrom": "2026-01-01T00:00:00", "validUntil": "2027-01-01T00:00:00",
            "credentialSubject": {"id": HOLDER}, "credentialStatus": null
        }),
    );
    let vp = craft(
        &w.holder.k1,
        json!({"alg": "EdDSA", "kid": w.holder.kid("k1"), "typ": "JWT"}),
        json!({
            "@context": [VC_V2_CONTEXT], "type": "VerifiablePresentation", "holder": {"id": HOLDER},
            "verifiableCredential": [vc_a, v2_envelope("application/vc+ld+json+jwt", &vc_b)]
        }),
    );
    let trusted = TrustedIssuers::new([(ISSUER.to_string(), vec!["*".to_string()])]);
    let verified = w
        .verify_with(
            &vp,
            &PresentationCheck {
                trusted: &trusted,
                lenient_issuer_keys: false,
                ..w.check()
            },
        )
        .unwrap();
    assert_eq!(verified.len(), 2);
    assert_eq!(verified[0].types, vec!["MembershipCredential".to_string()]);
    assert_eq!(verified[0].issuer, ISSUER);
    assert_eq!(verified[0].subject["level"], 2);
    assert_eq!(verified[0].status, vec![entry(1), entry(2)]);
    assert_eq!(verified[0].valid_until, None);
    assert_eq!(verified[1].id, None);
    assert_eq!(verified[1].status, Vec::<Value>::new());
    assert_eq!(
        verified[1].valid_until,
        Some(OffsetDateTime::from_unix_timestamp(1_798_761_600).unwrap())
    );

    // A VC 1.1 credential whose subject id is only in `sub`, with `vp.type` as a list and `aud` a list.
    let vc = craft(
        &w.issuer.k1,
        json!({"alg": "EdDSA", "kid": w.issuer.kid("k1")}),
        json!({
            "iss": ISSUER, "sub": HOLDER, "jti": "urn:c",
            "vc": {"type": "VerifiableCredential", "credentialSubject": {"memberOf": "x"}, "issuanceDate": "2026-01-01T00:00:00Z"}
        }),
    );
    let vp = craft(
        &w.holder.k1,
        json!({"alg": "EdDSA", "kid": w.holder.kid("k1")}),
        json!({
            "iss": HOLDER, "aud": [VERIFIER], "vp": {"type": ["VerifiablePresentation"], "holder": HOLDER, "verifiableCredential": vc}
        }),
    );
    let verified = w
        .verify_with(
            &vp,
            &PresentationCheck {
                trusted: &trusted,
                lenient_issuer_keys: false,
                ..w.check()
            },
        )
        .unwrap();
    assert_eq!(verified[0].id.as_deref(), Some("urn:c"));
    assert_eq!(verified[0].types, Vec::<String>::new());
    assert_eq!(verified[0].subject_id(), Some(HOLDER));
    // An untyped credential needs an issuer trusted for any type.
    assert!(
        matches!(w.verify(&vp), Err(CredentialError::IssuerNotTrusted { types, .. }) if types.is_empty())
    );
}

#[test]
fn a_presentation_signed_by_a_key_not_listed_for_authentication_is_refused() {
    let w = World::new(KeyAlgorithm::Es256);
    let vc = w.credential(CredentialFormat::Vc20Jose, |_| {});
    for format in FORMATS {
        // k2 is a key of the holder, but only for capabilityInvocation.
        let kid = w.holder.kid("k2");
        let vp = w.presentation(format, std::slice::from_ref(&vc), |r| {
            r.key = &w.holder.k2;
            r.key_id = kid.clone();
        });
        let err = w.verify(&vp).unwrap_err();
        assert!(
            matches!(&err, CredentialError::KeyNotAuthorised { kid: k, relationship: "authentication", whose, .. } if *k == kid && whose == "presentation"),
            "{err}"
        );
        assert_eq!(err.step(), "key-not-authorised");
    }
    // A kid of another DID (or a bare thumbprint) is refused even before a document is looked up.
    let vp = craft(
        &w.holder.k1,
        json!({"alg": "ES256", "kid": format!("{OTHER}#k1")}),
        json!({"iss": HOLDER, "aud": VERIFIER, "vp": {"verifiableCredential": [vc]}}),
    );
    assert!(matches!(
        w.verify(&vp),
        Err(CredentialError::KeyNotAuthorised { .. })
    ));
    let vp = craft(
        &w.holder.k1,
        json!({"alg": "ES256", "kid": w.holder.k1.kid()}),
        json!({"iss": HOLDER, "aud": VERIFIER, "vp": {"verifiableCredential": [vc]}}),
    );
    assert!(matches!(
        w.verify(&vp),
        Err(CredentialError::KeyNotAuthorised { .. })
    ));
}

#[test]
fn a_credential_signed_by_a_key_not_listed_for_assertion_is_refused() {
    let w = World::new(KeyAlgorithm::EdDsa);
    for format in FORMATS {
        let kid = w.issuer.kid("k2");
        let vc = w.credential(format, |r| {
            r.key = &w.issuer.k2;
            r.key_id = kid.clone();
        });
        let vp = w.presentation(format, &[vc], |_| {});
        let err = w.verify(&vp).unwrap_err();
        assert!(
            matches!(&err, CredentialError::KeyNotAuthorised { kid: k, relationship: "assertionMethod", whose, .. }
                if *k == kid && whose.contains("urn:uuid:6a1f0c2e-membership") && whose.contains("MembershipCredential")),
            "{err}"
        );
    }
}

#[test]
fn a_credential_whose_kid_is_not_a_key_of_its_issuer_is_refused() {
    let w = World::new(KeyAlgorithm::Es256);
    // Signed by the holder's own assertionMethod key while claiming the trusted issuer: the signature is valid for
    // that key, so only the kid/issuer check stops it.
    for format in FORMATS {
        let kid = w.holder.kid("k1");
        // issue_credential refuses such a request, so sign the honest payload under the foreign kid by hand.
        let honest = w.credential(format, |_| {});
        let vc = craft(
            &w.holder.k1,
            json!({"alg": "ES256", "kid": kid}),
            Value::Object(payload(&honest)),
        );
        let vp = w.presentation(format, &[vc], |_| {});
        let err = w.verify(&vp).unwrap_err();
        assert!(
            matches!(&err, CredentialError::KeyNotAuthorised { kid: k, why, .. } if *k == kid && why.contains(ISSUER)),
            "{err}"
        );
    }
}

#[test]
fn issuing_refuses_a_key_id_outside_the_signers_did_and_a_subject_without_id() {
    let w = World::new(KeyAlgorithm::Es256);
    let kid = w.issuer.kid("k1");
    let with_id = json!({"id": HOLDER});
    let without_id = json!({"name": "no id"});
    let issue = |key_id: &str, subject: &Value| {
        issue_credential(&CredentialRequest {
            key: &w.issuer.k1,
            issuer_did: ISSUER,
            key_id,
            id: "urn:x",
            types: &["MembershipCredential"],
            subject,
            valid_from: now(),
            valid_until: None,
            status: None,
            format: CredentialFormat::Vc11Jwt,
        })
    };
    assert!(issue(&kid, &with_id).is_ok());
    for (key_id, subject) in [
        ("did:web:holder.example#k1", &with_id),
        (ISSUER, &with_id),
        ("k1", &with_id),
        (kid.as_str(), &without_id),
    ] {
        let err = issue(key_id, subject).unwrap_err();
        assert!(
            matches!(&err, CredentialError::Malformed { what, .. } if what == "credential request"),
            "{key_id}: {err}"
        );
    }
    let kid = w.holder.kid("k1");
    let not_jws = ["not a jwt".to_string()];
    let r = PresentationRequest {
        key: &w.holder.k1,
        holder_did: HOLDER,
        key_id: &kid,
        audience: VERIFIER,
        credentials: &not_jws,
        now: now(),
        lifetime: Duration::from_secs(60),
        format: CredentialFormat::Vc11Jwt,
    };
    assert!(matches!(
        issue_presentation(&r),
        Err(CredentialError::Malformed { .. })
    ));
}

#[test]
fn a_tampered_credential_or_presentation_is_refused() {
    let w = World::new(KeyAlgorithm::Es256);
    for format in FORMATS {
        let vc = w.credential(format, |_| {});
        let forged = tamper(&vc, |p| {
            let credential = match format {
                CredentialFormat::Vc11Jwt => p["vc"].as_object_mut().unwrap(),
                CredentialFormat::Vc20Jose => p,
            };
            credential.insert(
                "credentialSubject".into(),
                json!({"id": HOLDER, "memberOf": "city-b"}),
            );
        });
        let vp = w.presentation(format, &[forged], |_| {});
        let err = w.verify(&vp).unwrap_err();
        assert!(
            matches!(&err, CredentialError::BadSignature { whose } if whose.contains("urn:uuid:6a1f0c2e-membership")),
            "{err}"
        );
        assert_eq!(err.step(), "signature");

        let vp = w.presentation(format, &[vc], |_| {});
        let forged = tamper(&vp, |p| {
            p.insert("exp".into(), json!(now().unix_timestamp() + 86_400));
        });
        assert_eq!(
            w.verify(&forged),
            Err(CredentialError::BadSignature {
                whose: "presentation".into()
            })
        );
    }
}

#[test]
fn issuers_are_trusted_only_for_their_types() {
    let w = World::new(KeyAlgorithm::Es256);
    for format in FORMATS {
        let vp = w.presentation(format, &[w.credential(format, |_| {})], |_| {});
        let with = |trusted: &TrustedIssuers| {
            w.verify_with(
                &vp,
                &PresentationCheck {
                    trusted,
                    ..w.check()
                },
            )
        };
        let not_trusted = CredentialError::IssuerNotTrusted {
            issuer: ISSUER.into(),
            types: vec!["MembershipCredential".into()],
        };
        let refused = Err(not_trusted.clone());
        assert_eq!(with(&TrustedIssuers::default()), refused);
        assert_eq!(
            with(&TrustedIssuers::new([(
                OTHER.to_string(),
                vec!["*".to_string()]
            )])),
            refused
        );
        assert_eq!(
            with(&TrustedIssuers::new([(
                ISSUER.to_string(),
                vec!["BpnCredential".to_string()]
            )])),
            refused
        );
        assert_eq!(
            with(&TrustedIssuers::new([(ISSUER.to_string(), vec![])])),
            refused
        );
        assert!(with(&TrustedIssuers::new([(
            ISSUER.to_string(),
            vec!["*".to_string()]
        )]))
        .is_ok());
        assert!(with(&TrustedIssuers::new([
            (ISSUER.to_string(), vec!["BpnCredential".to_string()]),
            (ISSUER.to_string(), vec!["MembershipCredential".to_string()]),
        ]))
        .is_ok());
        // The refusal comes before any issuer document is needed, and can be had before fetching any.
        let parsed = parse_presentation(&json!(vp)).unwrap();
        let untrusted = TrustedIssuers::new([(OTHER.to_string(), vec!["*".to_string()])]);
        assert_eq!(parsed.check_trust(&untrusted), Err(not_trusted.clone()));
        assert_eq!(parsed.check_trust(&w.trusted), Ok(()));
        let only_holder = |did: &str| if did == HOLDER { w.docs.get(did) } else { None };
        assert_eq!(
            verify_presentation(
                &parsed,
                &PresentationCheck {
                    trusted: &untrusted,
                    ..w.check()
                },
                &only_holder
            ),
            refused
        );
    }
    // Trusted for one of several types is enough.
    let vc = w.credential(CredentialFormat::Vc11Jwt, |r| {
        r.types = vec!["BpnCredential".into(), "MembershipCredential".into()]
    });
    let vp = w.presentation(CredentialFormat::Vc11Jwt, &[vc], |_| {});
    assert!(w.verify(&vp).is_ok());
}

#[test]
fn trusted_issuers_answer_per_type() {
    let t = TrustedIssuers::new([
        (ISSUER.to_string(), vec!["MembershipCredential".to_string()]),
        (OTHER.to_string(), vec!["*".to_string()]),
    ]);
    assert!(t.allows(ISSUER, "MembershipCredential"));
    assert!(!t.allows(ISSUER, "BpnCredential"));
    assert!(t.allows(OTHER, "Anything"));
    assert!(!t.allows(HOLDER, "MembershipCredential"));
    assert!(!t.is_empty() && TrustedIssuers::default().is_empty());
    assert_eq!(t.issuers().collect::<Vec<_>>(), vec![ISSUER, OTHER]);
    assert!(!t.allows_any(ISSUER, &[]) && t.allows_any(OTHER, &[]));
}

#[test]
fn a_presentation_by_someone_other_than_the_caller_is_refused() {
    let w = World::new(KeyAlgorithm::Es256);
    for format in FORMATS {
        let vp = w.presentation(format, &[w.credential(format, |_| {})], |_| {});
        let err = w
            .verify_with(
                &vp,
                &PresentationCheck {
                    holder: OTHER,
                    ..w.check()
                },
            )
            .unwrap_err();
        assert_eq!(
            err,
            CredentialError::HolderMismatch {
                expected: OTHER.into(),
                found: HOLDER.into()
            }
        );
        assert_eq!(err.step(), "holder-mismatch");
    }
}

#[test]
fn a_credential_about_someone_else_is_refused() {
    let w = World::new(KeyAlgorithm::Es256);
    let no_id = json!([{"id": HOLDER}, {"name": "x"}]);
    for format in FORMATS {
        let vc = w.credential(format, |r| r.subject = json!({"id": OTHER}));
        let vp = w.presentation(format, &[vc], |_| {});
        let err = w.verify(&vp).unwrap_err();
        assert!(
            matches!(&err, CredentialError::SubjectNotHolder { subject, holder, .. } if subject == OTHER && holder == HOLDER),
            "{err}"
        );
        assert_eq!(err.step(), "holder-binding");
    }
    // A second subject without an id, crafted since issue_credential wants an object with an id.
    let vc = craft(
        &w.issuer.k1,
        json!({"alg": "ES256", "kid": w.issuer.kid("k1")}),
        json!({
            "@context": [VC_V2_CONTEXT], "type": ["VerifiableCredential", "MembershipCredential"], "issuer": ISSUER,
            "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": no_id
        }),
    );
    let vp = w.presentation(CredentialFormat::Vc20Jose, &[vc], |_| {});
    assert!(
        matches!(w.verify(&vp), Err(CredentialError::SubjectNotHolder { subject, .. }) if subject.contains("without id"))
    );
    // A VC-JWT whose `sub` names someone else while the subject names the holder.
    let vc = craft(
        &w.issuer.k1,
        json!({"alg": "ES256", "kid": w.issuer.kid("k1")}),
        json!({
            "iss": ISSUER, "sub": OTHER, "vc": {"type": ["VerifiableCredential", "MembershipCredential"], "credentialSubject": {"id": HOLDER}}
        }),
    );
    let vp = w.presentation(CredentialFormat::Vc11Jwt, &[vc], |_| {});
    assert!(
        matches!(w.verify(&vp), Err(CredentialError::SubjectNotHolder { subject, .. }) if subject == OTHER)
    );
}

#[test]
fn credentials_outside_their_validity_period_are_refused() {
    let w = World::new(KeyAlgorithm::EdDsa);
    for format in FORMATS {
        let verify_vc = |tweak: &dyn Fn(&mut Cred<'_>)| {
            let vp = w.presentation(format, &[w.credential(format, |r| tweak(r))], |_| {});
            w.verify(&vp)
        };
        let err = verify_vc(&|r| {
            r.valid_from = now() - days(400);
            r.valid_until = Some(now() - time::Duration::seconds(6));
        })
        .unwrap_err();
        assert!(
            matches!(&err, CredentialError::CredentialExpired { credential, .. } if credential.contains("MembershipCredential")),
            "{err}"
        );
        assert_eq!(err.step(), "expired");
        // Within the leeway it is still valid.
        assert!(verify_vc(&|r| r.valid_until = Some(now() - time::Duration::seconds(4))).is_ok());
        let err = verify_vc(&|r| {
            r.valid_from = now() + time::Duration::seconds(6);
            r.valid_until = None;
        })
        .unwrap_err();
        assert!(
            matches!(&err, CredentialError::CredentialNotYetValid { from, .. } if from == "2026-09-21T14:13:26Z"),
            "{err}"
        );
        assert_eq!(err.step(), "not-yet-valid");
        assert!(verify_vc(&|r| r.valid_from = now() + time::Duration::seconds(4)).is_ok());
    }
    // A VC-JWT whose `exp` is earlier than its expirationDate expires at `exp`.
    let vc = craft(
        &w.issuer.k1,
        json!({"alg": "EdDSA", "kid": w.issuer.kid("k1")}),
        json!({
            "iss": ISSUER, "exp": now().unix_timestamp() - 60,
            "vc": {"type": ["VerifiableCredential", "MembershipCredential"], "credentialSubject": {"id": HOLDER}, "expirationDate": "2030-01-01T00:00:00Z"}
        }),
    );
    let vp = w.presentation(CredentialFormat::Vc11Jwt, &[vc], |_| {});
    assert!(matches!(
        w.verify(&vp),
        Err(CredentialError::CredentialExpired { .. })
    ));
    // And one whose `nbf` is later than its issuanceDate is not valid before `nbf`.
    let vc = craft(
        &w.issuer.k1,
        json!({"alg": "EdDSA", "kid": w.issuer.kid("k1")}),
        json!({
            "iss": ISSUER, "nbf": now().unix_timestamp() + 60,
            "vc": {"type": ["VerifiableCredential", "MembershipCredential"], "credentialSubject": {"id": HOLDER}, "issuanceDate": "2026-01-01T00:00:00Z"}
        }),
    );
    let vp = w.presentation(CredentialFormat::Vc11Jwt, &[vc], |_| {});
    assert!(matches!(
        w.verify(&vp),
        Err(CredentialError::CredentialNotYetValid { from, .. }) if from == "2026-09-21T14:14:20Z"
    ));
}

#[test]
fn presentations_outside_their_validity_period_are_refused() {
    let w = World::new(KeyAlgorithm::Es256);
    for format in FORMATS {
        let vc = w.credential(format, |_| {});
        let vp = w.presentation(format, std::slice::from_ref(&vc), |r| {
            r.now = now() - time::Duration::seconds(70)
        });
        let err = w.verify(&vp).unwrap_err();
        assert_eq!(
            err,
            CredentialError::PresentationExpired {
                at: "2026-09-21T14:13:10Z".into()
            }
        );
        assert_eq!(err.step(), "expired");
        let vp = w.presentation(format, std::slice::from_ref(&vc), |r| {
            r.now = now() + time::Duration::seconds(30)
        });
        let err = w.verify(&vp).unwrap_err();
        assert!(
            matches!(err, CredentialError::PresentationNotYetValid { .. }),
            "{err}"
        );
        assert_eq!(err.step(), "not-yet-valid");
    }
}

#[test]
fn a_vc11_presentation_must_be_addressed_to_us() {
    let w = World::new(KeyAlgorithm::Es256);
    let vc = w.credential(CredentialFormat::Vc11Jwt, |_| {});
    let vp = w.presentation(CredentialFormat::Vc11Jwt, std::slice::from_ref(&vc), |r| {
        r.audience = OTHER
    });
    let err = w.verify(&vp).unwrap_err();
    assert_eq!(
        err,
        CredentialError::AudienceMismatch {
            expected: VERIFIER.into(),
            found: OTHER.into()
        }
    );
    assert_eq!(err.step(), "audience");
    // Without `aud` at all.
    let vp = craft(
        &w.holder.k1,
        json!({"alg": "ES256", "kid": w.holder.kid("k1")}),
        json!({
            "iss": HOLDER, "vp": {"type": "VerifiablePresentation", "verifiableCredential": [vc]}
        }),
    );
    assert!(
        matches!(w.verify(&vp), Err(CredentialError::AudienceMismatch { found, .. }) if found == "no audience")
    );
    // A VC 2.0 presentation carrying a wrong `aud` is refused too.
    let vc2 = w.credential(CredentialFormat::Vc20Jose, |_| {});
    let vp = w.presentation(CredentialFormat::Vc20Jose, &[vc2], |r| r.audience = OTHER);
    assert!(matches!(
        w.verify(&vp),
        Err(CredentialError::AudienceMismatch { .. })
    ));
}

#[test]
fn a_presentation_without_credentials_is_refused() {
    let w = World::new(KeyAlgorithm::Es256);
    for format in FORMATS {
        let vp = w.presentation(format, &[], |_| {});
        let parsed = parse_presentation(&json!(vp)).unwrap();
        assert_eq!(parsed.dids(), vec![HOLDER.to_string()]);
        let err = w.verify(&vp).unwrap_err();
        assert_eq!(err, CredentialError::NoCredentials);
        assert_eq!(err.step(), "empty");
    }
}

#[test]
fn json_ld_and_other_unsupported_forms_are_refused() {
    let w = World::new(KeyAlgorithm::Es256);
    let ldp = json!({"@context": [VC_V1_CONTEXT], "type": "VerifiablePresentation", "proof": {"type": "JsonWebSignature2020"}});
    let err = parse_presentation(&ldp).unwrap_err();
    assert!(matches!(&err, CredentialError::Unsupported { .. }), "{err}");
    assert_eq!(err.step(), "unsupported");
    assert!(matches!(
        parse_presentation(&json!(42)),
        Err(CredentialError::Malformed { .. })
    ));

    let vc = w.credential(CredentialFormat::Vc20Jose, |_| {});
    let holder_header = json!({"alg": "ES256", "kid": w.holder.kid("k1")});
    let vp_with = |item: Value| {
        craft(
            &w.holder.k1,
            holder_header.clone(),
            json!({"type": "VerifiablePresentation", "holder": HOLDER, "verifiableCredential": [item]}),
        )
    };
    for item in [
        json!({"@context": [VC_V2_CONTEXT], "type": "VerifiableCredential", "issuer": ISSUER, "proof": {}}),
        v2_envelope("application/vc+sd-jwt", &vc),
        v2_envelope("application/vc+jwt;base64", &vc),
        v2_envelope("application/vc+ld+json+cose", &vc),
    ] {
        let err = parse_presentation(&json!(vp_with(item.clone()))).unwrap_err();
        assert!(
            matches!(err, CredentialError::Unsupported { .. }),
            "{item}: {err}"
        );
    }
    // A JWE (five segments) and alg "none" are not signed presentations.
    assert!(matches!(
        parse_presentation(&json!("a.b.c.d.e")),
        Err(CredentialError::Unsupported { .. })
    ));
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": w.holder.kid("k1")}).to_string()),
        URL_SAFE_NO_PAD.encode(
            json!({"iss": HOLDER, "aud": VERIFIER, "vp": {"verifiableCredential": [vc]}})
                .to_string()
        )
    );
    let err = w.verify(&none).unwrap_err();
    assert!(
        matches!(&err, CredentialError::Unsupported { why, .. } if why == "none"),
        "{err}"
    );
    // A key published in a format other than JWK.
    let body = json!({
        "id": ISSUER,
        "verificationMethod": [{"id": format!("{ISSUER}#k1"), "type": "Ed25519VerificationKey2020", "controller": ISSUER, "publicKeyBase58": "H3C2AVvLMv6gmMNam3uVAjZpfkcJCwDwnZn6z3wXmqPV"}],
        "assertionMethod": ["#k1"]
    });
    let doc = DidDocument::parse(body.to_string().as_bytes(), ISSUER).unwrap();
    let docs = |did: &str| if did == ISSUER { Some(&doc) } else { None };
    let err = verify_credential(&vc, now(), Duration::ZERO, false, &docs).unwrap_err();
    assert!(
        matches!(&err, CredentialError::Unsupported { what, .. } if what.contains("#k1")),
        "{err}"
    );
}

#[test]
fn malformed_presentations_and_credentials_say_what_is_wrong() {
    let w = World::new(KeyAlgorithm::Es256);
    let h = json!({"alg": "ES256", "kid": w.holder.kid("k1")});
    for (payload, needle) in [
        (
            json!({"aud": VERIFIER, "vp": {"verifiableCredential": []}}),
            "iss",
        ),
        (json!({"iss": HOLDER, "vp": "x"}), "vp claim"),
        (json!({"iss": HOLDER, "vp": {"holder": OTHER}}), "differs"),
        (json!({"type": "VerifiablePresentation"}), "no holder"),
        (json!({"type": "Something"}), "neither"),
        (
            json!({"type": "EnvelopedVerifiablePresentation", "id": "https://x"}),
            "data: URL",
        ),
        (
            json!({"type": "VerifiablePresentation", "holder": HOLDER, "verifiableCredential": ["x.y"]}),
            "credential 1",
        ),
        (
            json!({"type": "VerifiablePresentation", "holder": HOLDER, "verifiableCredential": [7]}),
            "credential 1",
        ),
    ] {
        let err = parse_presentation(&json!(craft(&w.holder.k1, h.clone(), payload.clone())))
            .unwrap_err();
        assert!(
            matches!(&err, CredentialError::Malformed { .. }),
            "{payload}: {err}"
        );
        assert!(err.to_string().contains(needle), "{payload}: {err}");
    }
    let hi = json!({"alg": "ES256", "kid": w.issuer.kid("k1")});
    for (payload, needle) in [
        (
            json!({"issuer": ISSUER, "credentialSubject": {"id": HOLDER}}),
            "type",
        ),
        (
            json!({"type": "MembershipCredential", "issuer": ISSUER, "credentialSubject": {"id": HOLDER}}),
            "VerifiableCredential",
        ),
        (
            json!({"type": "VerifiableCredential", "credentialSubject": {"id": HOLDER}}),
            "no issuer",
        ),
        (
            json!({"type": "VerifiableCredential", "issuer": ISSUER, "iss": OTHER, "credentialSubject": {"id": HOLDER}}),
            "differs",
        ),
        (
            json!({"type": "VerifiableCredential", "issuer": ISSUER}),
            "credentialSubject",
        ),
        (
            json!({"type": "VerifiableCredential", "issuer": ISSUER, "credentialSubject": {"id": HOLDER}, "validFrom": "yesterday"}),
            "RFC 3339",
        ),
        (
            json!({"type": "VerifiableCredential", "issuer": ISSUER, "credentialSubject": {"id": HOLDER}, "exp": "soon"}),
            "NumericDate",
        ),
        (
            json!({"type": "VerifiableCredential", "issuer": ISSUER, "credentialSubject": {"id": HOLDER}, "credentialStatus": "revoked"}),
            "credentialStatus",
        ),
    ] {
        let err = verify_credential(
            &craft(&w.issuer.k1, hi.clone(), payload.clone()),
            now(),
            Duration::ZERO,
            false,
            &|d| w.docs.get(d),
        )
        .unwrap_err();
        assert!(
            matches!(&err, CredentialError::Malformed { .. }),
            "{payload}: {err}"
        );
        assert!(err.to_string().contains(needle), "{payload}: {err}");
    }
    // No kid in the header.
    let err = parse_presentation(&json!(craft(
        &w.holder.k1,
        json!({"alg": "ES256"}),
        json!({"iss": HOLDER, "vp": {}})
    )))
    .unwrap_err();
    assert!(err.to_string().contains("kid"), "{err}");
}

#[test]
fn a_missing_did_document_is_reported_as_such() {
    let w = World::new(KeyAlgorithm::Es256);
    let vp = w.presentation(
        CredentialFormat::Vc11Jwt,
        &[w.credential(CredentialFormat::Vc11Jwt, |_| {})],
        |_| {},
    );
    let parsed = parse_presentation(&json!(vp)).unwrap();
    for missing in [HOLDER, ISSUER] {
        let docs = |did: &str| {
            if did == missing {
                None
            } else {
                w.docs.get(did)
            }
        };
        let err = verify_presentation(&parsed, &w.check(), &docs).unwrap_err();
        assert_eq!(
            err,
            CredentialError::DidUnavailable {
                did: missing.into()
            }
        );
        assert_eq!(err.step(), "did-unresolvable");
    }
    // A document for another DID than asked counts as missing.
    let holder_doc = w.docs.get(HOLDER).unwrap();
    let wrong = |_: &str| Some(holder_doc);
    assert_eq!(
        verify_presentation(&parsed, &w.check(), &wrong),
        Err(CredentialError::DidUnavailable { did: ISSUER.into() })
    );
}

#[test]
fn dids_lists_the_holder_and_each_issuer_once() {
    let w = World::new(KeyAlgorithm::EdDsa);
    let second = Party::new("did:web:second-issuer.test", KeyAlgorithm::EdDsa);
    let kid = second.kid("k1");
    let s = json!({"id": HOLDER});
    let vc2 = issue_credential(&CredentialRequest {
        key: &second.k1,
        issuer_did: second.did,
        key_id: &kid,
        id: "",
        types: &["BpnCredential"],
        subject: &s,
        valid_from: now(),
        valid_until: None,
        status: None,
        format: CredentialFormat::Vc11Jwt,
    })
    .unwrap();
    let a = w.credential(CredentialFormat::Vc11Jwt, |_| {});
    let vp = w.presentation(CredentialFormat::Vc11Jwt, &[a.clone(), vc2, a], |_| {});
    let parsed = parse_presentation(&json!(vp)).unwrap();
    assert_eq!(
        parsed.dids(),
        vec![
            HOLDER.to_string(),
            ISSUER.to_string(),
            second.did.to_string()
        ]
    );
    // Verification then needs all three documents and trust in both issuers.
    let mut docs = w.docs.clone();
    docs.insert(second.did.to_string(), second.document());
    let trusted = TrustedIssuers::new([
        (ISSUER.to_string(), vec!["MembershipCredential".to_string()]),
        (second.did.to_string(), vec!["BpnCredential".to_string()]),
    ]);
    let verified = verify_presentation(
        &parsed,
        &PresentationCheck {
            trusted: &trusted,
            lenient_issuer_keys: false,
            ..w.check()
        },
        &|d| docs.get(d),
    )
    .unwrap();
    assert_eq!(
        verified
            .iter()
            .map(|v| v.types[0].as_str())
            .collect::<Vec<_>>(),
        [
            "MembershipCredential",
            "BpnCredential",
            "MembershipCredential"
        ]
    );
    assert_eq!(verified[1].id, None);
    assert_eq!(verified[1].valid_until, None);
}

#[test]
fn a_standalone_credential_verifies_by_its_issuers_assertion_key() {
    // E.g. a status list credential fetched as a JWT: no holder binding, trust is the caller's.
    let w = World::new(KeyAlgorithm::Es256);
    let subject = json!({"id": "https://issuer.test:8443/status/1#list", "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"});
    for format in FORMATS {
        let jwt = w.credential(format, |r| {
            r.id = "https://issuer.test:8443/status/1".into();
            r.types = vec!["BitstringStatusListCredential".into()];
            r.subject = subject.clone();
            r.status = None;
        });
        let docs = |d: &str| w.docs.get(d);
        let v = verify_credential(&jwt, now(), Duration::from_secs(5), false, &docs).unwrap();
        assert_eq!(v.types, vec!["BitstringStatusListCredential".to_string()]);
        assert_eq!(v.subject["encodedList"], subject["encodedList"]);
        assert!(v.status.is_empty());
        let later = now() + days(400);
        assert!(matches!(
            verify_credential(&jwt, later, Duration::from_secs(5), false, &docs),
            Err(CredentialError::CredentialExpired { .. })
        ));
        assert_eq!(
            verify_credential(&jwt, now(), Duration::ZERO, false, &|_| None),
            Err(CredentialError::DidUnavailable { did: ISSUER.into() })
        );
        let forged = tamper(&jwt, |p| {
            p.insert("nbf".into(), json!(0));
        });
        assert!(matches!(
            verify_credential(&forged, now(), Duration::ZERO, false, &docs),
            Err(CredentialError::BadSignature { .. })
        ));
    }
}

#[test]
fn every_error_has_a_step_and_a_message_naming_it() {
    let cases = [
        (
            CredentialError::Malformed {
                what: "presentation".into(),
                why: "x".into(),
            },
            "malformed",
            "malformed presentation",
        ),
        (
            CredentialError::Unsupported {
                what: "presentation".into(),
                why: "LDP".into(),
            },
            "unsupported",
            "unsupported presentation",
        ),
        (CredentialError::NoCredentials, "empty", "no credentials"),
        (
            CredentialError::DidUnavailable { did: ISSUER.into() },
            "did-unresolvable",
            ISSUER,
        ),
        (
            CredentialError::KeyNotAuthorised {
                whose: "presentation".into(),
                kid: "did:x#k".into(),
                relationship: "authentication",
                why: "y".into(),
            },
            "key-not-authorised",
            "did:x#k is not authorised for authentication",
        ),
        (
            CredentialError::BadSignature {
                whose: "presentation".into(),
            },
            "signature",
            "bad signature on the presentation",
        ),
        (
            CredentialError::HolderMismatch {
                expected: HOLDER.into(),
                found: OTHER.into(),
            },
            "holder-mismatch",
            OTHER,
        ),
        (
            CredentialError::AudienceMismatch {
                expected: VERIFIER.into(),
                found: OTHER.into(),
            },
            "audience",
            VERIFIER,
        ),
        (
            CredentialError::PresentationExpired { at: "t".into() },
            "expired",
            "presentation expired",
        ),
        (
            CredentialError::PresentationNotYetValid { from: "t".into() },
            "not-yet-valid",
            "not valid before",
        ),
        (
            CredentialError::CredentialExpired {
                credential: "credential c (T)".into(),
                at: "t".into(),
            },
            "expired",
            "credential c (T) expired",
        ),
        (
            CredentialError::CredentialNotYetValid {
                credential: "credential c (T)".into(),
                from: "t".into(),
            },
            "not-yet-valid",
            "credential c (T) is not valid",
        ),
        (
            CredentialError::IssuerNotTrusted {
                issuer: ISSUER.into(),
                types: vec!["A".into(), "B".into()],
            },
            "issuer-not-trusted",
            "not trusted for A, B",
        ),
        (
            CredentialError::SubjectNotHolder {
                credential: "credential c".into(),
                subject: OTHER.into(),
                holder: HOLDER.into(),
            },
            "holder-binding",
            "holder binding",
        ),
        (
            CredentialError::Signing("x".into()),
            "signing",
            "signing failed",
        ),
    ];
    for (err, step, needle) in cases {
        assert_eq!(err.step(), step, "{err:?}");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn format_names_map_both_ways() {
    for format in FORMATS {
        assert_eq!(CredentialFormat::from_name(format.profile()), Some(format));
        assert_eq!(CredentialFormat::from_name(format.edc_name()), Some(format));
    }
    assert_eq!(
        CredentialFormat::from_name("vc10-sl2021/jwt"),
        Some(CredentialFormat::Vc11Jwt)
    );
    assert_eq!(CredentialFormat::from_name("ldp_vc"), None);
}

/// The DCP examples hold placeholders, not JWTs: each must be refused for what it is, never accepted.
#[test]
fn dcp_presentation_response_examples_are_read_for_what_they_are() {
    let base =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/dcp-1.0");
    if !base.is_dir() {
        eprintln!("skipped: {} is absent", base.display());
        return;
    }
    let mut seen = 0;
    for file in [
        "artifacts/src/main/resources/presentation/example/presentation-response-message.json",
        "artifacts/src/main/resources/presentation/example/presentation-response-message-w-presentation-submission.json",
        "schema-cases/presentation/presentation-response-message--presentation-response-message-with-object.json",
    ] {
        let message: Value = serde_json::from_slice(&std::fs::read(base.join(file)).unwrap()).unwrap();
        for item in message["presentation"].as_array().unwrap() {
            let err = parse_presentation(item).unwrap_err();
            let expected = if item.is_object() { "unsupported" } else { "malformed" };
            assert_eq!(err.step(), expected, "{file}: {item}: {err}");
            seen += 1;
        }
    }
    assert_eq!(seen, 5);
}

/// A real VP-JWT from the Tractus-X wallet stub's API description (ES256K, `aud` as a list, `credentialSubject`
/// as a list, `credentialStatus: null`, an LD `proof` inside the JWT claims): it parses, and names what to fetch.
#[test]
fn tractus_x_wallet_stub_presentation_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata/tractusx-wallet-stub/docs/api/openAPI.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} is absent", path.display());
        return;
    };
    // The example under `presentation:` is a folded YAML scalar: one JWT split over lines.
    let start = text
        .find("                    presentation:\n")
        .expect("presentation example");
    let jwt: String = text[start..]
        .lines()
        .skip(2)
        .take_while(|l| !l.trim_start().starts_with('\''))
        .map(str::trim)
        .collect();
    let parsed = parse_presentation(&json!(jwt)).unwrap();
    let did = "did:web:c464-203-129-213-107.ngrok-free.app:BPNL000000000000";
    assert_eq!(parsed.format(), CredentialFormat::Vc11Jwt);
    assert_eq!(parsed.holder(), did);
    assert_eq!(
        parsed.kid(),
        format!("{did}#c3932ff5-8da4-3de9-a942-62125f394e41")
    );
    assert_eq!(parsed.dids(), vec![did.to_string()]);
    let [c] = parsed.credentials() else {
        panic!("one credential")
    };
    assert_eq!(c.types(), ["MembershipCredential".to_string()]);
    assert_eq!(c.issuer(), did);
    assert_eq!(
        c.id(),
        Some(format!("{did}#92db267a-6772-3ad0-837a-2daa7fed8c07").as_str())
    );
    assert_eq!(c.format(), CredentialFormat::Vc11Jwt);
    // Its holder is not the caller here, which is refused before any document is needed.
    let trusted = TrustedIssuers::new([(did.to_string(), vec!["*".to_string()])]);
    let check = PresentationCheck {
        holder: HOLDER,
        audience: did,
        now: now(),
        leeway: Duration::ZERO,
        trusted: &trusted,
        lenient_issuer_keys: false,
    };
    assert!(matches!(
        verify_presentation(&parsed, &check, &|_| None),
        Err(CredentialError::HolderMismatch { .. })
    ));
}

#[test]
fn an_issuer_vouches_only_for_the_types_it_is_trusted_for() {
    let w = World::new(KeyAlgorithm::Es256);
    for format in FORMATS {
        let vc = w.credential(format, |c| {
            c.types = vec!["MembershipCredential".into(), "AdminCredential".into()];
        });
        let vp = w.presentation(format, &[vc], |_| {});
        let verified = w.verify_with(&vp, &w.check()).unwrap();
        assert_eq!(verified[0].types, vec!["MembershipCredential".to_string()]);
    }
}

#[test]
fn an_issuer_key_listed_only_for_authentication_signs_credentials_only_when_lenient() {
    let mut w = World::new(KeyAlgorithm::Es256);
    let body = json!({
        "id": ISSUER,
        "verificationMethod": [{"id": w.issuer.kid("k1"), "type": "JsonWebKey2020", "controller": ISSUER,
            "publicKeyJwk": w.issuer.k1.public_jwk()}],
        "authentication": [w.issuer.kid("k1")],
    });
    w.docs.insert(
        ISSUER.to_string(),
        DidDocument::parse(body.to_string().as_bytes(), ISSUER).unwrap(),
    );
    for format in FORMATS {
        let vp = w.presentation(format, &[w.credential(format, |_| {})], |_| {});
        let strict = w.verify_with(&vp, &w.check()).unwrap_err();
        assert_eq!(strict.step(), "key-not-authorised", "{strict}");
        let lenient = w
            .verify_with(
                &vp,
                &PresentationCheck {
                    lenient_issuer_keys: true,
                    ..w.check()
                },
            )
            .unwrap();
        assert_eq!(lenient[0].types, vec!["MembershipCredential".to_string()]);
    }
}

#[test]
fn each_credential_is_judged_on_its_own_when_asked() {
    let w = World::new(KeyAlgorithm::Es256);
    for format in FORMATS {
        let good = w.credential(format, |_| {});
        let expired = w.credential(format, |c| {
            c.valid_from = now() - days(60);
            c.valid_until = Some(now() - days(1));
        });
        let vp = w.presentation(format, &[good, expired], |_| {});
        let parsed = parse_presentation(&json!(vp)).unwrap();
        let each = verify_presentation_each(&parsed, &w.check(), &|did| w.docs.get(did)).unwrap();
        assert_eq!(each.len(), 2);
        assert!(each[0].is_ok());
        assert_eq!(each[1].as_ref().unwrap_err().step(), "expired");
        // All at once, the same presentation is refused.
        assert_eq!(
            w.verify_with(&vp, &w.check()).unwrap_err().step(),
            "expired"
        );
    }
}
