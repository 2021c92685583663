//! Every way a partner token can be wrong is refused on the catalogue with 401 and a `CatalogError` saying why;
//! version metadata and keys stay open.

use serde_json::{json, Value};
use twinport_contracts::identity::{KeyAlgorithm, SigningKey};
use twinport_e2e::schemas::assert_valid;
use twinport_e2e::{catalog_request, city_pair, craft_token, now, Storage, CITY_A, CITY_B};

fn claims(iss: &str, aud: &str, iat: i64, exp: i64) -> Value {
    json!({"iss": iss, "sub": iss, "aud": aud, "iat": iat, "nbf": iat, "exp": exp, "jti": uuid::Uuid::new_v4().to_string()})
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn every_bad_token_is_refused_with_a_reason() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let url = format!("{}/catalog/request", a.dsp_base());
    let t = now();
    let stranger = SigningKey::generate(KeyAlgorithm::EdDsa).unwrap();
    let mut tampered = craft_token(&b.key, claims(CITY_B, CITY_A, t, t + 60));
    // Change a character inside the signature: the last one also holds unused padding bits, so changing it may
    // leave the decoded signature intact (the old code also compared against the wrong character).
    let i = tampered.len() - 10;
    let flipped = if &tampered[i..=i] == "A" { "B" } else { "A" };
    tampered.replace_range(i..=i, flipped);
    let none_alg = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(CITY_B, CITY_A, t, t + 60))
    );
    let hs256 = {
        use josekit::jws::{JwsHeader, HS256};
        let mut header = JwsHeader::new();
        header.set_key_id(b.key.kid());
        let payload = josekit::jwt::JwtPayload::from_map(
            claims(CITY_B, CITY_A, t, t + 60)
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        josekit::jwt::encode_with_signer(
            &payload,
            &header,
            &HS256
                .signer_from_bytes(b"a-shared-secret-of-32-bytes-len!")
                .unwrap(),
        )
        .unwrap()
    };
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no token", None, "missing bearer token"),
        ("not a bearer", Some("Basic abc".into()), "not a bearer"),
        ("garbage", Some("Bearer not.a.jwt".into()), "malformed"),
        (
            "unknown partner",
            Some(format!(
                "Bearer {}",
                craft_token(
                    &stranger,
                    claims("https://stranger.example", CITY_A, t, t + 60)
                )
            )),
            "unknown partner",
        ),
        (
            "signed by another key",
            Some(format!(
                "Bearer {}",
                craft_token(&stranger, claims(CITY_B, CITY_A, t, t + 60))
            )),
            "",
        ),
        ("tampered signature", Some(format!("Bearer {tampered}")), ""),
        ("alg none", Some(format!("Bearer {none_alg}")), "alg"),
        ("alg HS256", Some(format!("Bearer {hs256}")), "alg"),
        (
            "wrong audience",
            Some(format!(
                "Bearer {}",
                craft_token(
                    &b.key,
                    claims(CITY_B, "https://elsewhere.example", t, t + 60)
                )
            )),
            "audience",
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                craft_token(&b.key, claims(CITY_B, CITY_A, t - 600, t - 400))
            )),
            "expired",
        ),
        (
            "not yet valid",
            Some(format!(
                "Bearer {}",
                craft_token(&b.key, claims(CITY_B, CITY_A, t + 600, t + 700))
            )),
            "not yet valid",
        ),
        (
            "lifetime over 300 s",
            Some(format!(
                "Bearer {}",
                craft_token(&b.key, claims(CITY_B, CITY_A, t, t + 301))
            )),
            "lifetime",
        ),
        (
            "sub differs from iss",
            Some(format!(
                "Bearer {}",
                craft_token(
                    &b.key,
                    json!({"iss": CITY_B, "sub": "https://x.example", "aud": CITY_A, "iat": t, "exp": t + 60, "jti": "x1"})
                )
            )),
            "sub",
        ),
        (
            "no jti",
            Some(format!(
                "Bearer {}",
                craft_token(
                    &b.key,
                    json!({"iss": CITY_B, "sub": CITY_B, "aud": CITY_A, "iat": t, "exp": t + 60})
                )
            )),
            "jti",
        ),
    ];
    let client = reqwest::Client::new();
    for (name, header, expected) in cases {
        let mut req = client.post(&url).json(&catalog_request(vec![]));
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{name}");
        let body: Value = r.json().await.unwrap();
        assert_valid("catalog/catalog-error-schema.json", &body);
        let reason = body["reason"][0].as_str().unwrap().to_lowercase();
        assert!(
            reason.contains(expected),
            "{name}: reason {reason:?} should mention {expected:?}"
        );
    }
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_replayed_token_is_refused_on_every_catalogue_endpoint() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let url = format!("{}/catalog/request", a.dsp_base());
    let t = now();
    let token = craft_token(&b.key, claims(CITY_B, CITY_A, t, t + 120));
    let client = reqwest::Client::new();
    let first = client
        .post(&url)
        .bearer_auth(&token)
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let again = client
        .post(&url)
        .bearer_auth(&token)
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    let body: Value = again.json().await.unwrap();
    assert!(body["reason"][0].as_str().unwrap().contains("replayed"));
    // The same token on the dataset endpoint is a replay too.
    let ds = client
        .get(format!(
            "{}/catalog/datasets/urn%3Aldt%3Asample-city%3Atraffic-counts",
            a.dsp_base()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ds.status(), 401);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn keys_can_come_from_a_jwks_url() {
    // City A trusts city C through C's published JWKS (fetched and cached), not inline keys.
    let (a, b) = city_pair(Storage::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let jwks_url = format!("{}/.well-known/jwks.json", b.running.public_url());
    let mut config = twinport::config::Config::load(&a.config_path()).unwrap();
    config.partners = vec![twinport::config::PartnerConfig {
        id: CITY_B.into(),
        name: None,
        url: None,
        keys: twinport::config::PartnerKeys::Url {
            url: jwks_url,
            cache_for: std::time::Duration::from_secs(300),
        },
        claims: Default::default(),
    }];
    config.storage_url = format!("sqlite://{}", dir.path().join("a2.db").display());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.management_listen = "127.0.0.1:0".parse().unwrap();
    config.public_url = None;
    let a2 = twinport::app::start(config).await.unwrap();
    let token = b.running.state.identity().token_for(CITY_A).unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/catalog/request", a2.state.dsp_base()))
        .bearer_auth(token)
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    a2.stop().await;
    a.running.stop().await;
    b.running.stop().await;
}
