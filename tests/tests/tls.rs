//! Transport security end to end: two connectors over HTTPS with mutual TLS negotiate to FINALIZED; a client
//! without a certificate is refused at the handshake; a partner's valid token over another connector's certificate
//! is refused with a DSP 401; the management API over HTTPS; a certificate reload switches what new connections
//! see (and a failed one keeps the old certificate); bad certificate files stop start-up naming the key.

use std::time::Duration;

use reqwest::Method;
use twinport::tls::Fingerprint;
use twinport_e2e::{
    catalog_request, pki_client, provider_negotiation, start_negotiation, tls_pair, wait_for_state,
    City, CITY_A, PKI_DIR,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const T: Duration = Duration::from_secs(10);

/// The fingerprint of the certificate `url`'s server presents to a fresh connection.
async fn served_fingerprint(client: &reqwest::Client, url: &str) -> Fingerprint {
    let r = client.get(url).send().await.expect("request");
    let info = r
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .expect("tls info");
    Fingerprint::of(info.peer_certificate().expect("server certificate"))
}

fn pki_fingerprint(city: &City, name: &str) -> Fingerprint {
    use rustls::pki_types::pem::PemObject;
    let path = city.dir.path().join(PKI_DIR).join(format!("{name}.pem"));
    let der = rustls::pki_types::CertificateDer::from_pem_file(path).expect("certificate");
    Fingerprint::of(&der)
}

#[tokio::test]
async fn mutual_tls_pair_negotiates_to_finalized() {
    let (a, b) = tls_pair(true).await;
    assert!(a.running.public_url().starts_with("https://"));
    assert!(b.running.management_url().starts_with("https://"));
    // Both directions run over mutual TLS: B's requests reach A, A's replies (callbacks) reach B.
    let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let provider = provider_negotiation(&a, &id).await.expect("provider side");
    wait_for_state(&a, &provider.id, "FINALIZED", T).await;
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused_at_the_handshake() {
    let (a, b) = tls_pair(true).await;
    let url = format!("{}/.well-known/dspace-version", a.running.public_url());
    let refused = pki_client(&a, None).get(&url).send().await;
    assert!(
        refused.is_err(),
        "answered without a client certificate: {refused:?}"
    );
    let plain = reqwest::Client::new()
        .get(url.replace("https://", "http://"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    // The same request with a partner's certificate goes through, so the refusal was about the certificate.
    let ok = pki_client(&a, Some("city-b"))
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn a_valid_token_over_another_connectors_certificate_gets_a_dsp_401() {
    let (a, b) = tls_pair(true).await;
    let url = format!("{}/catalog/request", a.running.state.dsp_base());
    let token = b.running.state.identity().token_for(CITY_A).unwrap();
    // city-c's certificate is valid (same CA) and passes the handshake, but it is not city B's pinned one.
    let r = pki_client(&a, Some("city-c"))
        .post(&url)
        .bearer_auth(token)
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["@type"], "CatalogError", "{body}");
    assert!(
        body.to_string().contains("client certificate"),
        "the reason names the certificate: {body}"
    );

    let token = b.running.state.identity().token_for(CITY_A).unwrap();
    let r = pki_client(&a, Some("city-b"))
        .post(&url)
        .bearer_auth(token)
        .json(&catalog_request(vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn the_management_api_is_served_over_https() {
    let (a, b) = tls_pair(false).await;
    let url = a.running.management_url();
    assert!(url.starts_with("https://"), "{url}");
    let r = a
        .management(Method::GET, "/api/v1/resources")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // No client certificate is asked for on the management listener, even from a stranger to the PKI.
    let fp = served_fingerprint(&pki_client(&a, None), &format!("{url}/healthz")).await;
    assert_eq!(fp, pki_fingerprint(&a, "city-a"));
    let plain = reqwest::Client::new()
        .get(format!("{}/healthz", url.replace("https://", "http://")))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    // Without mutual TLS the DSP listener does not ask for a certificate either.
    let version = pki_client(&a, None)
        .get(format!(
            "{}/.well-known/dspace-version",
            a.running.public_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(version.status(), 200);
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn reload_switches_the_served_certificate_and_a_bad_one_is_not_taken() {
    let (a, b) = tls_pair(true).await;
    let pki = a.dir.path().join(PKI_DIR);
    let health = format!("{}/healthz", a.running.management_url());
    let dsp = format!("{}/.well-known/dspace-version", a.running.public_url());
    let old = pki_fingerprint(&a, "city-a");
    assert_eq!(
        served_fingerprint(&pki_client(&a, None), &health).await,
        old
    );

    // A renewed certificate (city-c's, same CA) is written over the files; nothing changes until the reload.
    std::fs::copy(pki.join("city-c.pem"), pki.join("city-a.pem")).unwrap();
    std::fs::copy(pki.join("city-c-key.pem"), pki.join("city-a-key.pem")).unwrap();
    assert_eq!(
        served_fingerprint(&pki_client(&a, None), &health).await,
        old
    );
    let renewed = pki_fingerprint(&a, "city-c");
    assert_eq!(a.running.state.tls().reload().unwrap(), Some(renewed));
    assert_eq!(
        served_fingerprint(&pki_client(&a, None), &health).await,
        renewed
    );
    assert_eq!(
        served_fingerprint(&pki_client(&a, Some("city-b")), &dsp).await,
        renewed
    );

    // A half-written renewal is refused, naming the key, and the working certificate stays.
    std::fs::write(
        pki.join("city-a.pem"),
        "-----BEGIN CERTIFICATE-----\ntruncated",
    )
    .unwrap();
    let e = a.running.state.tls().reload().unwrap_err().to_string();
    assert!(e.starts_with("tls.cert:"), "{e}");
    assert_eq!(
        served_fingerprint(&pki_client(&a, None), &health).await,
        renewed
    );
    assert_eq!(a.running.state.tls().served_fingerprint(), Some(renewed));
    a.running.stop().await;
    b.running.stop().await;
}

#[tokio::test]
async fn bad_certificate_files_stop_start_up_naming_the_key() {
    let (a, b) = tls_pair(false).await;
    let pki = a.dir.path().join(PKI_DIR);
    let base = twinport::config::Config::load(&a.config_path()).unwrap();
    a.running.stop().await;
    b.running.stop().await;
    let start = |edit: &dyn Fn(&mut twinport::config::Config)| {
        let mut config = base.clone();
        config.storage_url = format!(
            "sqlite://{}",
            a.dir
                .path()
                .join(format!("{}.db", uuid::Uuid::new_v4()))
                .display()
        );
        edit(&mut config);
        twinport::app::start(config)
    };
    let server = |c: &mut twinport::config::Config| c.tls.server.as_mut().unwrap().clone();

    let missing = start(&|c| {
        let mut files = server(c);
        files.cert = pki.join("missing.pem");
        c.tls.server = Some(files.clone());
        c.tls.client = Some(files);
    })
    .await;
    let e = missing.err().expect("refused").to_string();
    assert!(
        e.starts_with("tls.cert:") && e.contains("cannot read"),
        "{e}"
    );

    let wrong_key = start(&|c| {
        let mut files = server(c);
        files.key = pki.join("city-b-key.pem");
        c.tls.server = Some(files.clone());
        c.tls.client = Some(files);
    })
    .await;
    let e = wrong_key.err().expect("refused").to_string();
    assert!(
        e.starts_with("tls.key:") && e.contains("does not fit"),
        "{e}"
    );

    let not_a_key = start(&|c| {
        let mut files = server(c);
        files.key = pki.join("city-b.pem");
        c.tls.server = Some(files.clone());
        c.tls.client = Some(files);
    })
    .await;
    let e = not_a_key.err().expect("refused").to_string();
    assert!(
        e.starts_with("tls.key:") && e.contains("no usable private key"),
        "{e}"
    );

    let bad_ca = start(&|c| c.tls.ca = Some(pki.join("city-a-key.pem"))).await;
    let e = bad_ca.err().expect("refused").to_string();
    assert!(e.starts_with("tls.ca:"), "{e}");
}

/// Regression (merge of the data plane with mutual TLS): a transfer's data token is bound to the partner's
/// certificate too, so a token copied to another connector is refused, on data and on receipts.
#[tokio::test]
async fn the_data_plane_serves_a_transfer_only_over_its_partners_certificate() {
    let (a, b) = tls_pair(true).await;
    let platform = twinport_e2e::platform::Platform::start().await;
    let p = twinport_e2e::pull_transfer(
        &a,
        &b,
        "urn:ldt:t:tls-data",
        serde_json::json!({"permission": [{"action": "use"}]}),
        serde_json::json!({"format": "application/json", "backend": format!("{}/api", platform.url)}),
        None,
    )
    .await;
    let url = format!("{}/items", p.endpoint);
    let other = pki_client(&a, Some("city-c"))
        .get(&url)
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
    let body = other.text().await.unwrap();
    assert!(
        body.contains("certificate"),
        "the reason names the certificate: {body}"
    );

    let own = pki_client(&a, Some("city-b"))
        .get(&url)
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let receipt_url = own
        .headers()
        .get("twinport-receipt")
        .and_then(|v| v.to_str().ok())
        .expect("receipt header")
        .to_string();
    own.bytes().await.unwrap();
    let stolen = pki_client(&a, Some("city-c"))
        .get(&receipt_url)
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 401);
    let fetched = pki_client(&a, Some("city-b"))
        .get(&receipt_url)
        .bearer_auth(&p.token)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    a.running.stop().await;
    b.running.stop().await;
}
