//! DCP 1.0 between two connectors known to each other only by `did:web` DIDs, with credentials from a test issuer
//! (see `twinport_e2e::dcp`): negotiation and transfer with nothing configured per partner, a policy on a
//! credential claim, each refusal naming the step that failed (in the DSP answer and the audit log), single-use
//! tokens, a Credential Service that answers only the verifier its access token was made for, and what the
//! connector publishes (DID document, version metadata).

use reqwest::Method;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use twinport_contracts::credentials::CredentialFormat;
use twinport_contracts::did::DidDocument;
use twinport_contracts::identity::{issue_si_token, SiTokenRequest};
use twinport_e2e::dcp::{dcp_pair, TestIssuer, DID_A, DID_B, ISSUER};
use twinport_e2e::platform::Platform;
use twinport_e2e::schemas::assert_valid;
use twinport_e2e::{
    audit_leaves, catalog_request, offer, pull_transfer_from, City, StoppedCity, Storage,
};

/// B asks A for its catalogue, as B's own client does it (B's DCP token, A verifying it against B's DID and
/// credentials).
async fn catalogue_of_a(b: &City) -> Result<Value, String> {
    let partner = b
        .running
        .state
        .partners()
        .get(DID_A)
        .expect("A is known by DID");
    b.running
        .state
        .client()
        .catalog(&partner, vec![])
        .await
        .map_err(|e| e.to_string())
}

fn members_only() -> Value {
    json!({"permission": [{"action": "use", "constraint": [
        {"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "partner-city"}]}]})
}

fn city_credential(issuer: &TestIssuer, holder: &str, code: &str) -> String {
    issuer
        .valid(
            holder,
            &["CityCredential"],
            json!({"cityCode": code}),
            CredentialFormat::Vc20Jose,
        )
        .0
}

/// What `city` holds about `partner` for its policies now.
fn claims_of(city: &City, partner: &str) -> serde_json::Map<String, Value> {
    city.running.state.partners().get(partner).unwrap().claims
}

async fn refusals(a: &City) -> Vec<Value> {
    audit_leaves(a, "identity_refused").await
}

#[tokio::test]
async fn partners_known_only_by_did_negotiate_and_pull_with_their_credentials() {
    for storage in Storage::all() {
        let issuer = TestIssuer::start(ISSUER).await;
        let (a, b) = dcp_pair(
            storage,
            &issuer,
            vec![issuer.membership(DID_B, "partner-city")],
            &|_| {},
        )
        .await;
        let platform = Platform::start().await;
        // Nothing is configured per partner: B reaches A through A's DID document, A judges B by its credentials.
        assert!(
            a.running.state.config().partners.is_empty()
                && b.running.state.config().partners.is_empty()
        );
        let pull = pull_transfer_from(
            &a,
            &b,
            DID_A,
            "urn:ldt:dcp:roads",
            members_only(),
            json!({"format": "application/json", "backend": format!("{}/api/v1", platform.url)}),
            None,
        )
        .await;
        let r = reqwest::Client::new()
            .get(format!("{}/collections/roads/items?limit=1", pull.endpoint))
            .bearer_auth(&pull.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let seen = a.running.state.partners().get(DID_B).unwrap();
        assert_eq!(seen.claims["membership"], "partner-city");
        assert_eq!(seen.claims["credentials"], json!(["MembershipCredential"]));
        // A restart does not lose what B's credentials proved: the data plane still judges B's pulls on them,
        // before B makes any new DSP request.
        let a = StoppedCity::stop(a).await.start(None).await;
        let r = reqwest::Client::new()
            .get(format!("{}/collections/roads/items?limit=1", pull.endpoint))
            .bearer_auth(&pull.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        assert!(refusals(&a).await.is_empty());
    }
}

#[tokio::test]
async fn a_policy_on_a_credential_claim_permits_and_denies_as_written() {
    let issuer = TestIssuer::start(ISSUER).await;
    let (a, b) = dcp_pair(
        Storage::Sqlite,
        &issuer,
        vec![
            issuer.membership(DID_B, "observer"),
            city_credential(&issuer, DID_B, "GM0307"),
        ],
        &|_| {},
    )
    .await;
    for (id, policy, resource) in [
        ("members", members_only(), "urn:ldt:dcp:members"),
        // A policy on a credential beyond the required membership: A asks B for it because a policy reads it.
        (
            "amersfoort",
            json!({"permission": [{"action": "use", "constraint": [
            {"leftOperand": "claim:CityCredential.cityCode", "operator": "eq", "rightOperand": "GM0307"}]}]}),
            "urn:ldt:dcp:amersfoort",
        ),
        (
            "utrecht",
            json!({"permission": [{"action": "use", "constraint": [
            {"leftOperand": "claim:CityCredential.cityCode", "operator": "eq", "rightOperand": "GM0344"}]}]}),
            "urn:ldt:dcp:utrecht",
        ),
        (
            "observers",
            json!({"permission": [{"action": "use", "constraint": [
            {"leftOperand": "claim:membership", "operator": "eq", "rightOperand": "observer"}]}]}),
            "urn:ldt:dcp:observers",
        ),
    ] {
        offer(
            &a,
            id,
            policy,
            json!({"id": resource, "kind": "workflow-template", "description": "A resource of the tests.", "title": resource,
                "distributions": [{"format": "application/json", "backend": "http://platform/x"}]}),
        )
        .await;
    }
    let catalog = catalogue_of_a(&b).await.unwrap();
    let ids: Vec<&str> = catalog["dataset"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["@id"].as_str())
        .filter(|id| id.starts_with("urn:ldt:dcp:"))
        .collect();
    assert_eq!(
        ids,
        vec!["urn:ldt:dcp:amersfoort", "urn:ldt:dcp:observers"],
        "an observer sees what observers may take, not what members may"
    );
}

/// One refused partner per case: the DSP answer and A's audit log both name the failed step.
#[tokio::test]
async fn partners_with_unacceptable_credentials_are_refused_with_the_step_that_failed() {
    let issuer = TestIssuer::start(ISSUER).await;
    let rogue = TestIssuer::start("did:web:rogue.test").await;
    let now = OffsetDateTime::now_utc();
    let (expired, _) = issuer.credential(
        DID_B,
        &["MembershipCredential"],
        json!({"membership": "partner-city"}),
        now - Duration::days(60),
        now - Duration::days(1),
        CredentialFormat::Vc11Jwt,
    );
    let (revoked, index) = issuer.valid(
        DID_B,
        &["MembershipCredential"],
        json!({"membership": "partner-city"}),
        CredentialFormat::Vc20Jose,
    );
    issuer.revoke(index);
    let untrusted = rogue.membership(DID_B, "partner-city");
    let (not_yet, _) = issuer.credential(
        DID_B,
        &["MembershipCredential"],
        json!({"membership": "partner-city"}),
        now + Duration::days(2),
        now + Duration::days(30),
        CredentialFormat::Vc11Jwt,
    );
    for (credentials, step) in [
        (vec![expired], "expired"),
        (vec![revoked], "revoked"),
        (vec![untrusted], "issuer-not-trusted"),
        (vec![], "credential-missing"),
        (vec![not_yet], "not-yet-valid"),
    ] {
        let (a, b) = dcp_pair(Storage::Sqlite, &issuer, credentials, &|_| {}).await;
        let dcp = a.running.state.partners().directory().dcp().unwrap();
        dcp.map_origin_for_tests("rogue.test", &rogue.url).unwrap();
        let refused = catalogue_of_a(&b).await.expect_err("refused");
        assert!(
            refused.contains(step) && refused.contains(DID_B),
            "{step}: {refused}"
        );
        let logged = refusals(&a).await;
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert_eq!(logged[0]["partner"], DID_B);
        assert_eq!(logged[0]["details"]["step"], step, "{:?}", logged[0]);
        // A refused partner has no claims to be judged by.
        assert!(claims_of(&a, DID_B).is_empty());
    }
}

#[tokio::test]
async fn a_credential_revoked_after_use_is_refused_at_the_next_request() {
    let issuer = TestIssuer::start(ISSUER).await;
    let (credential, index) = issuer.valid(
        DID_B,
        &["MembershipCredential"],
        json!({"membership": "partner-city"}),
        CredentialFormat::Vc11Jwt,
    );
    let (a, b) = dcp_pair(Storage::Sqlite, &issuer, vec![credential], &|_| {}).await;
    catalogue_of_a(&b).await.expect("valid at first");
    assert_eq!(claims_of(&a, DID_B)["membership"], "partner-city");
    // The issuer's list says `no-store`, so A reads it again and sees the revocation at once.
    issuer.revoke(index);
    let refused = catalogue_of_a(&b).await.expect_err("revoked now");
    assert!(refused.contains("revoked"), "{refused}");
    // What the revoked credential proved is forgotten, here and in the database: the data plane stops honouring it.
    assert!(claims_of(&a, DID_B).is_empty());
    assert_eq!(
        a.running
            .state
            .store()
            .dcp_claims(DID_B, twinport_e2e::now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(refusals(&a).await[0]["details"]["step"], "revoked");
}

#[tokio::test]
async fn a_dcp_token_is_single_use_and_an_access_token_serves_only_its_verifier() {
    let issuer = TestIssuer::start(ISSUER).await;
    let (a, b) = dcp_pair(
        Storage::Sqlite,
        &issuer,
        vec![issuer.membership(DID_B, "partner-city")],
        &|_| {},
    )
    .await;
    let http = reqwest::Client::new();
    let token = b.running.state.identity().token_for(DID_A).unwrap();
    let post = |t: String| {
        http.post(format!("{}/catalog/request", a.dsp_base()))
            .bearer_auth(t)
            .json(&catalog_request(vec![]))
            .send()
    };
    assert_eq!(post(token.clone()).await.unwrap().status(), 200);
    let again = post(token.clone()).await.unwrap();
    assert_eq!(again.status(), 401);
    assert!(again.text().await.unwrap().contains("replay"));

    // The access token inside B's token was made for A. Anyone else wrapping it in a token of its own (here the
    // issuer, whose DID resolves for B) gets nothing from B's Credential Service.
    let access_token = {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        claims["token"].as_str().unwrap().to_string()
    };
    let forwarded = issue_si_token(&SiTokenRequest {
        key: &issuer.key,
        did: ISSUER,
        key_id: &issuer.key_id(),
        audience: DID_B,
        access_token: &access_token,
        now: OffsetDateTime::now_utc(),
        lifetime: std::time::Duration::from_secs(60),
    })
    .unwrap();
    let query = json!({"@context": ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"], "type": "PresentationQueryMessage",
        "scope": ["org.eclipse.dspace.dcp.vc.type:MembershipCredential:read"]});
    let cs = format!("{}/dcp/presentations/query", b.running.public_url());
    let r = http
        .post(&cs)
        .bearer_auth(&forwarded)
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "{}", r.text().await.unwrap());
    let r = http.post(&cs).json(&query).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // A itself, the verifier the access token was made for, gets B's membership in a valid response.
    let own = issue_si_token(&SiTokenRequest {
        key: &a.key,
        did: DID_A,
        key_id: &a.running.state.identity().key_id(),
        audience: DID_B,
        access_token: &access_token,
        now: OffsetDateTime::now_utc(),
        lifetime: std::time::Duration::from_secs(60),
    })
    .unwrap();
    let r = http
        .post(&cs)
        .bearer_auth(&own)
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    twinport_contracts::dcp::schemas::expect_valid(
        "presentation/presentation-response-message-schema.json",
        &answer,
    );
    assert_eq!(answer["presentation"].as_array().unwrap().len(), 1);
    // ... once: the same token again is a replay.
    let r = http
        .post(&cs)
        .bearer_auth(&own)
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn operators_see_add_and_remove_the_connector_s_credentials() {
    let issuer = TestIssuer::start(ISSUER).await;
    let (a, _b) = dcp_pair(Storage::Sqlite, &issuer, vec![], &|_| {}).await;
    let identity: Value = a
        .management(Method::GET, "/api/v1/identity")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(identity["participant_id"], DID_A);
    assert_eq!(
        identity["did_document"],
        "https://city-a.test/.well-known/did.json"
    );
    let held = identity["credentials"].as_array().unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["types"], json!(["MembershipCredential"]));
    assert!(
        (28..=30).contains(&held[0]["days_left"].as_i64().unwrap()),
        "{held:?}"
    );

    let add = |credential: String| {
        a.management(Method::POST, "/api/v1/identity/credentials")
            .json(&json!({"credential": credential}))
            .send()
    };
    let now = OffsetDateTime::now_utc();
    let (city, _) = issuer.credential(
        DID_A,
        &["CityCredential"],
        json!({"cityCode": "GM0307"}),
        now - Duration::days(1),
        now + Duration::days(3),
        CredentialFormat::Vc20Jose,
    );
    let r = add(city.clone()).await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let added: Value = r.json().await.unwrap();
    assert_eq!(added["types"], json!(["CityCredential"]));
    let file = added["file"].as_str().unwrap().to_string();
    assert!(
        a.dir.path().join("credentials").join(&file).is_file(),
        "kept for the next start"
    );
    // Someone else's credential, or something that is not one, is refused naming the field.
    let r = add(issuer.membership(DID_B, "partner-city")).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains(DID_B));
    assert_eq!(add("not a credential".into()).await.unwrap().status(), 422);
    let remove = || {
        a.management(
            Method::DELETE,
            &format!("/api/v1/identity/credentials/{file}"),
        )
        .send()
    };
    assert_eq!(remove().await.unwrap().status(), 204);
    assert!(!a.dir.path().join("credentials").join(&file).exists());
    assert_eq!(remove().await.unwrap().status(), 404);
    let actions: Vec<String> = audit_leaves(&a, "management_action")
        .await
        .iter()
        .map(|l| {
            l["details"]["action"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        actions.contains(&"credential.add".to_string())
            && actions.contains(&"credential.remove".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_dcp_connector_publishes_its_did_document_and_advertises_dcp() {
    let issuer = TestIssuer::start(ISSUER).await;
    let (a, _b) = dcp_pair(Storage::Sqlite, &issuer, vec![], &|_| {}).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/.well-known/did.json", a.running.public_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc = DidDocument::parse(&r.bytes().await.unwrap(), DID_A).unwrap();
    assert_eq!(
        doc.service_endpoint("CredentialService").map(str::to_owned),
        Some(format!("{}/dcp", a.running.public_url()))
    );
    let versions: Value = http
        .get(format!(
            "{}/.well-known/dspace-version",
            a.running.public_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_valid("common/protocol-version-schema.json", &versions);
    let entries = versions["protocolVersions"].as_array().unwrap();
    assert_eq!(
        entries[0]["auth"],
        json!({"protocol": "DCP", "version": "1.0", "profile": ["vc11-sl2021/jwt", "vc20-bssl/jwt"]})
    );
    assert_eq!(entries[0]["identifierType"], "did:web");
    assert_eq!(entries[1]["auth"]["protocol"], "twinport-self-issued-jwt");
    assert_eq!(entries[0]["path"], entries[1]["path"]);
}

/// A bare DCP participant (no Twinport: its own DID document and Credential Service) authenticates with a valid
/// membership, and is refused when its presentation breaks holder binding or its credential is self-issued. A's
/// presentation query is valid against the DCP schema.
#[tokio::test]
async fn a_bare_dcp_participant_is_judged_by_what_its_credential_service_presents() {
    let issuer = TestIssuer::start(ISSUER).await;
    let rogue = TestIssuer::start("did:web:rogue.test").await;
    let (a, _b) = dcp_pair(Storage::Sqlite, &issuer, vec![], &|_| {}).await;
    let dcp = a.running.state.partners().directory().dcp().unwrap();
    dcp.map_origin_for_tests("rogue.test", &rogue.url).unwrap();
    let http = reqwest::Client::new();
    let ask = || {
        http.post(format!("{}/catalog/request", a.dsp_base()))
            .bearer_auth(rogue.token_for(DID_A))
            .json(&catalog_request(vec![]))
            .send()
    };
    for (presented, expected) in [
        (
            vec![issuer.membership("did:web:rogue.test", "partner-city")],
            None,
        ),
        (
            vec![issuer.membership(DID_B, "partner-city")],
            Some("holder-binding"),
        ),
        (
            vec![rogue.membership("did:web:rogue.test", "partner-city")],
            Some("issuer-not-trusted"),
        ),
    ] {
        rogue.present(presented);
        let r = ask().await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        match expected {
            None => assert_eq!(status, 200, "{body}"),
            Some(step) => {
                assert_eq!(status, 401, "{body}");
                assert!(body.contains(step), "{step}: {body}");
            }
        }
    }
    // A Credential Service that is down fails the caller closed, saying where it could not ask, not what happened.
    rogue.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let r = ask().await.unwrap();
    assert_eq!(r.status(), 401);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("credential-service") && !body.contains("503"),
        "{body}"
    );
    rogue.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let queries = rogue.queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 3);
    for (query, valid) in &queries {
        assert!(valid, "not a valid PresentationQueryMessage: {query}");
        assert_eq!(
            query["scope"],
            json!(["org.eclipse.dspace.dcp.vc.type:MembershipCredential:read"])
        );
    }
}

/// A partner known only by DID names the addresses we call back. One with a fragment (a path hidden from the one we
/// append) is refused before any process exists; a valid one opens the negotiation.
#[tokio::test]
async fn a_did_partner_cannot_hide_where_we_call_it_back() {
    use twinport_e2e::counterparty::msg;
    let issuer = TestIssuer::start(ISSUER).await;
    let rogue = TestIssuer::start("did:web:rogue.test").await;
    let (a, _b) = dcp_pair(Storage::Sqlite, &issuer, vec![], &|_| {}).await;
    let dcp = a.running.state.partners().directory().dcp().unwrap();
    dcp.map_origin_for_tests("rogue.test", &rogue.url).unwrap();
    rogue.present(vec![issuer.membership("did:web:rogue.test", "partner-city")]);
    let offer = msg::tck_offer(
        "urn:ldt:sample-city:traffic-counts:offer:partner-use",
        "urn:ldt:sample-city:traffic-counts",
    );
    let http = reqwest::Client::new();
    let request = |callback: &str| {
        http.post(format!("{}/negotiations/request", a.dsp_base()))
            .bearer_auth(rogue.token_for(DID_A))
            .json(&msg::contract_request(
                &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
                offer.clone(),
                callback,
            ))
            .send()
    };
    for callback in [
        "http://127.0.0.1:9/latest/meta-data#",
        "https://user:secret@rogue.test/dsp",
        "http://rogue.test/dsp?x=1",
    ] {
        let r = request(callback).await.unwrap();
        assert_eq!(r.status(), 400, "{callback}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("invalid-callback-address"),
            "{callback}: {body}"
        );
    }
    assert!(a
        .running
        .state
        .store()
        .negotiations()
        .await
        .unwrap()
        .is_empty());
    let r = request("http://rogue.test/dsp").await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// A credential only a policy reads (not a required one) that fails costs the partner only its own claims: the
/// request passes on the valid membership, and the policy on the failed credential denies.
#[tokio::test]
async fn a_failing_optional_credential_costs_only_its_own_claims() {
    let issuer = TestIssuer::start(ISSUER).await;
    let (city, index) = issuer.valid(
        DID_B,
        &["CityCredential"],
        json!({"cityCode": "GM0307"}),
        CredentialFormat::Vc11Jwt,
    );
    issuer.revoke(index);
    let (a, b) = dcp_pair(
        Storage::Sqlite,
        &issuer,
        vec![issuer.membership(DID_B, "partner-city"), city],
        &|_| {},
    )
    .await;
    offer(
        &a,
        "amersfoort",
        json!({"permission": [{"action": "use", "constraint": [
            {"leftOperand": "claim:CityCredential.cityCode", "operator": "eq", "rightOperand": "GM0307"}]}]}),
        json!({"id": "urn:ldt:dcp:amersfoort", "kind": "workflow-template", "description": "A resource of the tests.", "title": "Amersfoort only",
            "distributions": [{"format": "application/json", "backend": "http://platform/x"}]}),
    )
    .await;
    let catalog = catalogue_of_a(&b).await.expect("the membership is valid");
    let ids: Vec<&str> = catalog["dataset"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["@id"].as_str())
        .collect();
    assert!(!ids.contains(&"urn:ldt:dcp:amersfoort"), "{ids:?}");
    let claims = claims_of(&a, DID_B);
    assert_eq!(claims["membership"], "partner-city");
    assert!(claims.get("CityCredential").is_none(), "{claims:?}");
    assert!(claims.get("cityCode").is_none(), "{claims:?}");
}
