//! People on the management API: access tokens from an OIDC provider stand-in (discovery, JWKS, signed tokens),
//! each route's role, every way a token can be wrong, key rotation, the provider being down, production mode
//! refusing the static token, and management actions recorded with the person's subject.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use twinport::management::Role;
use twinport_e2e::oidc_provider::{write_config, OidcConnector, OidcProvider, TestKey};

/// Every management route with the role it needs, as the OpenAPI document writes it. Calls fill in ids that name
/// nothing, so allowed calls end in 404/400/422 and do no harm; what matters is whether the role check let them
/// through.
const ROUTES: &[(&str, &str, Role)] = &[
    ("GET", "/api/v1/resources", Role::Viewer),
    ("GET", "/api/v1/resources/{id}", Role::Viewer),
    ("POST", "/api/v1/resources", Role::Operator),
    ("PUT", "/api/v1/resources/{id}", Role::Operator),
    ("DELETE", "/api/v1/resources/{id}", Role::Operator),
    ("GET", "/api/v1/policies", Role::Viewer),
    ("GET", "/api/v1/policies/{id}", Role::Viewer),
    ("GET", "/api/v1/policies/{id}/versions", Role::Viewer),
    ("POST", "/api/v1/policies", Role::Legal),
    ("PUT", "/api/v1/policies/{id}", Role::Legal),
    ("DELETE", "/api/v1/policies/{id}", Role::Legal),
    ("POST", "/api/v1/policies/{id}/dry-run", Role::Legal),
    ("GET", "/api/v1/partners", Role::Viewer),
    ("POST", "/api/v1/partners", Role::Operator),
    ("GET", "/api/v1/partners/{id}", Role::Viewer),
    ("PUT", "/api/v1/partners/{id}", Role::Operator),
    ("DELETE", "/api/v1/partners/{id}", Role::Operator),
    ("GET", "/api/v1/partners/{id}/catalog", Role::Operator),
    ("GET", "/api/v1/negotiations", Role::Viewer),
    ("POST", "/api/v1/negotiations", Role::Operator),
    ("POST", "/api/v1/negotiations/offers", Role::Operator),
    ("GET", "/api/v1/negotiations/{id}", Role::Viewer),
    ("POST", "/api/v1/negotiations/{id}/accept", Role::Operator),
    ("POST", "/api/v1/negotiations/{id}/approve", Role::Operator),
    (
        "POST",
        "/api/v1/negotiations/{id}/terminate",
        Role::Operator,
    ),
    ("GET", "/api/v1/agreements", Role::Viewer),
    ("GET", "/api/v1/agreements/{id}", Role::Viewer),
    ("GET", "/api/v1/transfers", Role::Viewer),
    ("POST", "/api/v1/transfers", Role::Operator),
    ("GET", "/api/v1/transfers/{id}", Role::Viewer),
    ("POST", "/api/v1/transfers/{id}/suspend", Role::Operator),
    ("POST", "/api/v1/transfers/{id}/resume", Role::Operator),
    ("POST", "/api/v1/transfers/{id}/complete", Role::Operator),
    ("POST", "/api/v1/transfers/{id}/terminate", Role::Operator),
    ("GET", "/api/v1/audit/entries", Role::Auditor),
    ("GET", "/api/v1/audit/checkpoint", Role::Auditor),
    ("GET", "/api/v1/audit/proofs/inclusion", Role::Auditor),
    ("GET", "/api/v1/audit/proofs/consistency", Role::Auditor),
    ("GET", "/api/v1/audit/receipts/{index}", Role::Auditor),
    ("POST", "/api/v1/audit/partners/{id}/check", Role::Auditor),
];

fn claim_value(role: Role) -> String {
    format!("twinport-{role}")
}

async fn problem(response: Response, status: u16) -> String {
    assert_eq!(response.status(), status, "{:?}", response.url().path());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    body["detail"].as_str().unwrap_or_default().to_owned()
}

/// A concrete URL for a route template: unknown ids, and the query parameters the proofs require.
fn concrete(template: &str) -> String {
    let path = template.replace("{id}", "nope").replace("{index}", "0");
    match template {
        "/api/v1/audit/proofs/inclusion" => format!("{path}?index=0"),
        "/api/v1/audit/proofs/consistency" => format!("{path}?old=0"),
        _ => path,
    }
}

async fn call(c: &OidcConnector, method: &str, path: &str, token: &str) -> Response {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = c.request(method.clone(), path, token);
    if method == Method::POST || method == Method::PUT {
        request = request.json(&json!({}));
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn each_role_reaches_exactly_the_routes_it_is_meant_for() {
    let idp = OidcProvider::start().await;
    let c = OidcConnector::start(&idp, true, "").await;
    for held in Role::ALL {
        let token = idp.token(
            &format!("{held}-person"),
            &[&claim_value(held), "unrelated"],
        );
        for (method, template, needed) in ROUTES {
            let path = &concrete(template);
            let response = call(&c, method, path, &token).await;
            if held.grants(*needed) {
                let status = response.status().as_u16();
                assert!(
                    status != 401 && status != 403,
                    "{held} should reach {method} {path}, got {status}"
                );
            } else {
                let detail = problem(response, 403).await;
                assert_eq!(
                    detail,
                    format!("forbidden: {held}-person lacks the {needed} role"),
                    "{method} {path}"
                );
            }
        }
    }
    // Signed in, but holding none of the mapped values: not even reading.
    let nobody = idp.token("nobody", &["offline_access"]);
    for (method, template, needed) in ROUTES {
        let detail = problem(call(&c, method, &concrete(template), &nobody).await, 403).await;
        assert!(
            detail.ends_with(&format!("lacks the {needed} role")),
            "{detail}"
        );
    }
    // The OpenAPI description stays public: it holds no data.
    let doc = reqwest::get(format!(
        "{}/api/v1/openapi.json",
        c.running.management_url()
    ))
    .await
    .unwrap();
    assert_eq!(doc.status(), 200);
    c.running.stop().await;
}

#[tokio::test]
async fn roles_from_a_nested_claim_with_a_custom_mapping() {
    let idp = OidcProvider::start().await;
    let c = OidcConnector::start(
        &idp,
        true,
        "roles_claim = \"realm_access.roles\"\n[oidc.roles]\noperator = [\"city-ops\"]\n",
    )
    .await;
    let mut claims = idp.claims("kc-user", &[]);
    claims["realm_access"] = json!({"roles": ["city-ops", "default-roles-city"]});
    let token = idp.sign(&claims);
    let ok = call(&c, "GET", "/api/v1/resources", &token).await;
    assert_eq!(ok.status(), 200);
    let denied = call(&c, "POST", "/api/v1/policies", &token).await;
    assert!(problem(denied, 403).await.ends_with("lacks the legal role"));
    // The default value means nothing once the mapping is configured.
    let defaults = idp.token("other", &["twinport-operator"]);
    let detail = problem(call(&c, "GET", "/api/v1/resources", &defaults).await, 403).await;
    assert!(detail.ends_with("lacks the viewer role"));
    c.running.stop().await;
}

fn unsigned(header: Value, claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.", part(&header), part(claims))
}

fn hs256(kid: &str, claims: &Value) -> String {
    use josekit::jws::{JwsHeader, HS256};
    let mut header = JwsHeader::new();
    header.set_key_id(kid);
    let payload = josekit::jwt::JwtPayload::from_map(claims.as_object().unwrap().clone()).unwrap();
    let signer = HS256
        .signer_from_bytes(b"a secret some client of the provider knows")
        .unwrap();
    josekit::jwt::encode_with_signer(&payload, &header, &signer).unwrap()
}

#[tokio::test]
async fn tokens_that_must_not_pass() {
    let idp = OidcProvider::start().await;
    let c = OidcConnector::start(&idp, true, "leeway_seconds = 10").await;
    let roles = [claim_value(Role::Operator)];
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let good = idp.claims("alice", &roles);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let with = |key: &str, value: Value| {
        let mut claims = good.clone();
        claims[key] = value;
        idp.sign(&claims)
    };
    let kid = idp.current_key().kid;
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong issuer",
            with("iss", json!("https://evil.example/realms/city")),
            "another issuer",
        ),
        (
            "wrong audience",
            with("aud", json!(["account", "some-other-app"])),
            "audience",
        ),
        ("expired", with("exp", json!(now - 60)), "expired"),
        (
            "not yet valid",
            with("nbf", json!(now + 120)),
            "not valid yet",
        ),
        ("no subject", with("sub", json!("")), "no sub"),
        (
            "unknown key",
            TestKey::p256("stolen-laptop").sign(&good),
            "key the provider does not publish",
        ),
        (
            "published kid, other key",
            TestKey::rsa(&kid).sign(&good),
            "signature is invalid",
        ),
        (
            "alg none",
            unsigned(json!({"alg": "none", "kid": kid}), &good),
            "algorithm none is not accepted",
        ),
        (
            "HS256",
            hs256(&kid, &good),
            "algorithm HS256 is not accepted",
        ),
        ("garbage", "not-a-token".to_string(), "not a signed JWT"),
        ("garbage parts", "a.b.c".to_string(), "header is unreadable"),
    ];
    for (what, token, expected) in cases {
        let response = call(&c, "GET", "/api/v1/resources", &token).await;
        assert_eq!(response.status(), 401, "{what}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let detail = problem(response, 401).await;
        assert!(detail.contains(expected), "{what}: {detail}");
    }
    // The same claims, correctly signed, pass: the cases above failed for the reason they name.
    let ok = call(&c, "GET", "/api/v1/resources", &idp.sign(&good)).await;
    assert_eq!(ok.status(), 200);
    let missing = reqwest::Client::new()
        .get(format!("{}/api/v1/resources", c.running.management_url()))
        .header("authorization", "Basic YWxpY2U6c2VjcmV0")
        .send()
        .await
        .unwrap();
    assert!(problem(missing, 401).await.contains("not a bearer token"));
    c.running.stop().await;
}

#[tokio::test]
async fn unknown_kids_refresh_keys_at_a_limited_rate_and_rotation_is_picked_up() {
    let idp = OidcProvider::start().await;
    let c = OidcConnector::start(&idp, true, "key_refresh_seconds = 1").await;
    let viewer = claim_value(Role::Viewer);
    let claims = idp.claims("bob", &[viewer.as_str()]);
    let ok = call(&c, "GET", "/api/v1/agreements", &idp.sign(&claims)).await;
    assert_eq!(ok.status(), 200);
    let fetched = idp.key_fetches();
    assert!(fetched >= 1);

    // A flood of made-up key ids costs the provider one fetch per interval, not one per request.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for i in 0..20 {
        let forged = TestKey::p256(&format!("random-{i}")).sign(&claims);
        let response = call(&c, "GET", "/api/v1/agreements", &forged).await;
        assert_eq!(response.status(), 401);
    }
    assert_eq!(idp.key_fetches(), fetched + 1);

    // The provider rotates: the new kid is unknown to the cache, fetched once the interval allows, and accepted.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let new_key = idp.rotate("key-2");
    let rotated = call(&c, "GET", "/api/v1/agreements", &new_key.sign(&claims)).await;
    assert_eq!(rotated.status(), 200);
    assert_eq!(idp.key_fetches(), fetched + 2);
    c.running.stop().await;
}

#[tokio::test]
async fn provider_down_means_503_until_it_is_back() {
    let idp = OidcProvider::start().await;
    idp.set_up(false);
    // The connector starts although the provider cannot be reached.
    let c = OidcConnector::start(&idp, true, "key_refresh_seconds = 1").await;
    let token = idp.token("carol", &[&claim_value(Role::Auditor)]);
    let detail = problem(
        call(&c, "GET", "/api/v1/audit/checkpoint", &token).await,
        503,
    )
    .await;
    assert!(
        detail.contains("identity provider cannot be reached"),
        "{detail}"
    );
    idp.set_up(true);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let ok = call(&c, "GET", "/api/v1/audit/checkpoint", &token).await;
    assert_eq!(ok.status(), 200);
    c.running.stop().await;
}

#[tokio::test]
async fn production_mode_refuses_the_static_token() {
    let idp = OidcProvider::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &idp, false, "");
    let path = dir.path().join("twinport.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("mode = \"production\"\n{text}")).unwrap();
    let refused = twinport::config::Config::load(&path).expect_err("static token in production");
    assert!(
        refused
            .to_string()
            .starts_with("management_token: not allowed in production mode"),
        "{refused}"
    );
    let without_oidc: String = std::fs::read_to_string(&path)
        .unwrap()
        .split("\n[oidc]")
        .next()
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("management_token"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, without_oidc).unwrap();
    let refused = twinport::config::Config::load(&path).expect_err("production needs oidc");
    assert!(refused
        .to_string()
        .starts_with("oidc: required in production mode"));
}

#[tokio::test]
async fn development_mode_accepts_both_the_static_token_and_people() {
    let idp = OidcProvider::start().await;
    let c = OidcConnector::start(&idp, false, "").await;
    let token = c.static_token.clone().expect("development keeps the token");
    let by_token = call(&c, "GET", "/api/v1/audit/checkpoint", &token).await;
    assert_eq!(by_token.status(), 200);
    let person = idp.token("dave", &[&claim_value(Role::Viewer)]);
    assert_eq!(
        call(&c, "GET", "/api/v1/resources", &person).await.status(),
        200
    );
    let wrong = call(&c, "GET", "/api/v1/resources", "0123456789abcdef-wrong").await;
    assert_eq!(wrong.status(), 401);
    c.running.stop().await;
}

#[tokio::test]
async fn management_actions_record_the_person_who_took_them() {
    let idp = OidcProvider::start().await;
    let c = OidcConnector::start(&idp, true, "").await;
    let operator = idp.token("f3a9-erin", &[&claim_value(Role::Operator)]);
    let created = c
        .request(Method::POST, "/api/v1/resources", &operator)
        .json(&json!({
            "id": "urn:ldt:sample-city:noise-map",
            "kind": "visualisation-asset",
            "description": "A resource of the tests.", "title": "Noise map",
            "distributions": [{"format": "application/json", "backend": "http://platform:8000/noise"}],
            "offers": [{"policy": "partner-use"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

    let auditor = idp.token("auditor-1", &[&claim_value(Role::Auditor)]);
    let entries: Value = call(
        &c,
        "GET",
        "/api/v1/audit/entries?kind=management_action",
        &auditor,
    )
    .await
    .json()
    .await
    .unwrap();
    let entry = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"] == "urn:ldt:sample-city:noise-map")
        .expect("the creation is logged");
    // The leaf holds a commitment, never the person; the erasable side table holds who it was.
    let leaf_text = entry["leaf"].as_str().unwrap();
    assert!(!leaf_text.contains("erin"));
    let leaf: Value = serde_json::from_str(leaf_text).unwrap();
    let commitment = leaf["personal"]
        .as_str()
        .and_then(|s| s.strip_prefix("sha256:"))
        .expect("commitment");
    let (_, body) = c
        .running
        .state
        .store()
        .audit_personal(commitment)
        .await
        .unwrap()
        .expect("personal details kept");
    let personal: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(personal["subject"], "f3a9-erin");
    assert_eq!(personal["name"], "f3a9-erin (test person)");
    assert_eq!(personal["email"], "f3a9-erin@city-a.example");
    c.running.stop().await;
}

#[tokio::test]
async fn backend_passwords_are_shown_to_operators_only() {
    let idp = OidcProvider::start().await;
    let c = OidcConnector::start(&idp, true, "").await;
    let operator = idp.token("f3a9-erin", &[&claim_value(Role::Operator)]);
    let created = c
        .request(Method::POST, "/api/v1/resources", &operator)
        .json(&json!({
            "id": "urn:ldt:sample-city:parking",
            "kind": "dataset", "stage": "workflow-ready",
            "description": "A resource of the tests.", "title": "Parking",
            "distributions": [{"format": "application/json", "backend": "https://twin:s3cret@platform.example/parking"}],
            "offers": [{"policy": "partner-use"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let path = "/api/v1/resources/urn:ldt:sample-city:parking";
    let backend = |v: &Value| {
        v["distributions"][0]["backend"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let seen: Value = call(&c, "GET", path, &operator).await.json().await.unwrap();
    assert_eq!(
        backend(&seen),
        "https://twin:s3cret@platform.example/parking"
    );

    for role in [Role::Viewer, Role::Auditor, Role::Legal] {
        let token = idp.token("someone", &[&claim_value(role)]);
        let seen: Value = call(&c, "GET", path, &token).await.json().await.unwrap();
        assert_eq!(
            backend(&seen),
            "https://twin:redacted@platform.example/parking",
            "{role}"
        );
        let listed: Value = call(&c, "GET", "/api/v1/resources?kind=dataset", &token)
            .await
            .json()
            .await
            .unwrap();
        let text = listed.to_string();
        assert!(text.contains("urn:ldt:sample-city:parking"), "{text}");
        assert!(!text.contains("s3cret"), "{role}: {text}");
    }
}
