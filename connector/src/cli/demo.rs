//! `twinport demo`: two cities' connectors on loopback with embedded defaults, in a temporary directory. City A
//! sits in front of a small sample LDT platform; city B reads A's catalogue over DSP 2025-1, negotiates a contract
//! (signed by both), is refused another one with the reason, and starts a transfer, each step printed as it happens.
//! Then an application of city B pulls the data through B's own local endpoint (no token in sight), and the demo
//! shows the provider's signed receipt as B verified it and the audit entries of that access on both sides. With
//! `--dcp` the two cities know each other only by `did:web` DID and judge each other by membership credentials from
//! a development issuer; at the end the issuer revokes city B's membership and city A refuses B, saying so.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::issuer::DevIssuer;
use super::pair::Pair;
use super::sample_backend;
use crate::config::LogFormat;

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const FLOOD: &str = "urn:ldt:sample-city:flood-model";
const RAIN_GAUGES: &str = "urn:ldt:city-b:rain-gauges";

pub async fn run(tls: bool, dcp: bool) -> anyhow::Result<()> {
    if std::env::var("RUST_LOG").is_ok() {
        crate::telemetry::init(LogFormat::Human);
    }
    if tls && dcp {
        anyhow::bail!("choose --tls or --dcp: the DCP demo runs over loopback HTTP");
    }
    let (backend, _platform) = sample_backend::start().await?;
    // The issuer's status list is not cached by verifiers, so the revocation at the end shows at once.
    let issuer = match dcp {
        true => {
            Some(DevIssuer::start("did:web:issuer.test", "no-store", axum::Router::new()).await?)
        }
        false => None,
    };
    let pair = match &issuer {
        Some(issuer) => Pair::start_dcp(&backend, issuer).await?,
        None => Pair::start_with(&backend, tls).await?,
    };
    let city_a = pair.provider.clone();
    println!("== Twinport demo: two cities' Local Digital Twins share data under signed contracts");
    let mut http = reqwest::Client::builder();
    if tls {
        let pki = pair.dir.join("pki");
        println!(
            "   Over HTTPS with mutual TLS: certificates from a development PKI in {} (twinport certs dev);",
            pki.display()
        );
        for city in ["a", "b"] {
            let fingerprint = pair_fingerprint(&pair, city);
            println!(
                "   city {} presents certificate SHA-256 {fingerprint}, pinned by the other city",
                city.to_uppercase()
            );
        }
        let ca = std::fs::read(pki.join("ca.pem"))?;
        http = http.add_root_certificate(reqwest::Certificate::from_pem(&ca)?);
    }
    println!("   City A's LDT platform (sample) runs at {backend}");
    println!(
        "1. City A's connector is up: DSP at {}, participant {city_a}",
        pair.a.public_url()
    );
    println!(
        "   City B's connector is up: DSP at {}, participant {}",
        pair.b.public_url(),
        pair.b.state.participant_id()
    );
    let api = Api {
        base: pair.b.management_url(),
        token: pair.token_b.clone(),
        http: http.build()?,
    };
    if let Some(issuer) = &issuer {
        show_dcp_identities(&api, issuer).await?;
    }

    println!("2. City B reads city A's catalogue through its own connector (GET /api/v1/partners/{{A}}/catalog);");
    println!("   its connector discovers A's DSP endpoint and sends a CatalogRequestMessage with a signed token.");
    let catalog = api
        .get(&format!(
            "/api/v1/partners/{}/catalog",
            crate::client::encode_segment(&city_a)
        ))
        .await?;
    print_catalog(&catalog);
    show_open_catalogue(&api.http, pair.a.public_url()).await?;

    println!("3. City B negotiates for \"Traffic counts\" under offer partner-use:");
    let started = Instant::now();
    let negotiation = api
        .post("/api/v1/negotiations", json!({"partner": city_a, "dataset": TRAFFIC, "offer_id": format!("{TRAFFIC}:offer:partner-use")}))
        .await?;
    let id = text(&negotiation, "id");
    let done = wait(&pair, &id, &["FINALIZED", "TERMINATED"]).await?;
    let view = api.get(&format!("/api/v1/negotiations/{id}")).await?;
    print_history(&view);
    println!(
        "   {done} in {} ms (both connectors, request to FINALIZED)",
        started.elapsed().as_millis()
    );
    let agreement_id = text(&view, "agreement_id");
    let export = api
        .get(&format!("/api/v1/agreements/{agreement_id}"))
        .await?;
    println!(
        "   agreement {agreement_id}: signed by A ({} chars of detached JWS), countersigned by B ({} chars); both verified",
        text(&export, "provider_signature").len(),
        text(&export, "consumer_signature").len()
    );

    println!("4. City B asks for the flood model, whose offer is for research only, without declaring a purpose:");
    let refused = api
        .post("/api/v1/negotiations", json!({"partner": city_a, "dataset": FLOOD, "offer_id": format!("{FLOOD}:offer:research-only")}))
        .await?;
    let refused_id = text(&refused, "id");
    wait(&pair, &refused_id, &["TERMINATED", "FINALIZED"]).await?;
    let view = api
        .get(&format!("/api/v1/negotiations/{refused_id}"))
        .await?;
    if let Some(last) = view["history"].as_array().and_then(|h| h.last()) {
        println!("   TERMINATED by city A; the reason city B receives:");
        println!("   {}", text(last, "detail"));
    }

    check_flood_model(&api, &city_a).await?;

    println!("5. City B starts a pull transfer under its agreement:");
    let transfer = api
        .post("/api/v1/transfers", json!({"agreement_id": agreement_id}))
        .await?;
    let tid = text(&transfer, "id");
    wait(&pair, &tid, &["STARTED", "TERMINATED"]).await?;
    let view = api.get(&format!("/api/v1/transfers/{tid}")).await?;
    println!("   transfer {} is {}; data address endpoint {} (bearer token issued, bound to this transfer)",
        tid, text(&view, "state"), text(&view["data_address"], "endpoint"));

    pull_through_local_endpoint(&pair, &api, &tid).await?;

    println!(
        "7. Each side's audit log: B witnesses A's signed checkpoint, then both logs are verified."
    );
    crate::audit::witness::check_partner(pair.b.state.partner_logs(), &city_a).await?;
    super::audit::show_and_verify("City A", &pair.a.state).await?;
    super::audit::show_and_verify("City B", &pair.b.state).await?;
    if let Some(issuer) = &issuer {
        revoke_and_refuse(&pair, &api, issuer, &city_a).await?;
    }

    pair.stop().await;
    println!("== Demo finished: both connectors stopped cleanly.");
    Ok(())
}

/// City B has rain gauges of its own: before it asks for the flood model again, it checks that their data fits the
/// model's rainfall input, as `twinport align` does.
async fn check_flood_model(api: &Api, city_a: &str) -> anyhow::Result<()> {
    println!("   Before asking again, city B checks its own rain gauges against the model's rainfall input (twinport align):");
    let gauges = json!({
        "id": RAIN_GAUGES, "kind": "dataset", "stage": "raw", "title": "City B rain gauges",
        "description": "Rain intensity from city B's gauges, every 5 minutes, as GeoJSON.",
        "bbox": [4.6, 52.2, 5.2, 52.6],
        "distributions": [{"format": "application/geo+json", "backend": "http://127.0.0.1:9/rain"}],
        "offers": [{"policy": "partner-use"}],
        "data": {"attributes": {"intensity": {"type": "number", "unit": "mm/h"}}, "resolution": "PT5M"}
    });
    api.post("/api/v1/resources", gauges).await?;
    let report = api
        .post(
            "/api/v1/alignment",
            json!({"model": {"id": FLOOD, "partner": city_a}, "inputs": {"rainfall": {"id": RAIN_GAUGES}}}),
        )
        .await?;
    let report: crate::alignment::AlignmentReport = serde_json::from_value(report)?;
    for line in super::align::render(&report)
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        println!("   {line}");
    }
    Ok(())
}

/// What the DCP cities are to each other: DIDs, the issuer both trust, and city B's credentials as its operator sees
/// them.
async fn show_dcp_identities(api: &Api, issuer: &DevIssuer) -> anyhow::Result<()> {
    println!(
        "   Neither has a [[partners]] entry: each knows the other only by its did:web DID, served at /.well-known/did.json,"
    );
    println!(
        "   and judges it by the MembershipCredential it holds from {}, which both trust (DCP 1.0).",
        issuer.did
    );
    let identity = api.get("/api/v1/identity").await?;
    for c in identity["credentials"].as_array().into_iter().flatten() {
        println!(
            "   city B holds {} from {}, expiring in {} days (GET /api/v1/identity)",
            c["types"]
                .as_array()
                .map(|t| t
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default(),
            text(c, "issuer"),
            c["days_left"]
        );
    }
    println!("   On every DSP request the receiving city resolves the caller's DID, checks its self-issued token, asks the");
    println!("   caller's Credential Service for its membership and verifies it: issuer trusted, valid, about the caller, not revoked.");
    Ok(())
}

/// The issuer revokes city B's membership: city A refuses B's next request with that reason, and logs it.
async fn revoke_and_refuse(
    pair: &Pair,
    api: &Api,
    issuer: &DevIssuer,
    city_a: &str,
) -> anyhow::Result<()> {
    println!("8. The issuer revokes city B's membership; city B reads city A's catalogue again:");
    issuer.revoke_all_of(super::pair::DID_B);
    let url = format!(
        "{}/api/v1/partners/{}/catalog",
        api.base,
        crate::client::encode_segment(city_a)
    );
    let r = api.http.get(&url).bearer_auth(&api.token).send().await?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    println!("   HTTP {status}: {}", text(&body, "detail"));
    let refused = pair
        .a
        .state
        .store()
        .audit_entries_from(0, 100_000)
        .await?
        .into_iter()
        .filter(|e| e.kind == "identity_refused")
        .count();
    println!("   city A's audit log records the refusal and the step that failed ({refused} identity_refused entry)");
    if status.is_success() {
        anyhow::bail!("city A still served city B after its membership was revoked");
    }
    Ok(())
}

/// The certificate a city of the pair serves, as its partner pins it.
fn pair_fingerprint(pair: &Pair, city: &str) -> String {
    let running = if city == "a" { &pair.a } else { &pair.b };
    running
        .state
        .tls()
        .served_fingerprint()
        .map(|f| f.colon_hex())
        .unwrap_or_default()
}

/// Step 6: city B's application reads the traffic counts through B's local endpoint; the demo prints what came
/// back, the receipt B fetched and verified, and the access as each side's audit log recorded it.
async fn pull_through_local_endpoint(pair: &Pair, api: &Api, tid: &str) -> anyhow::Result<()> {
    let url = format!(
        "{}/transfers/{}",
        pair.b.local_url(),
        crate::client::encode_segment(tid)
    );
    println!(
        "6. An application of city B pulls the data through B's own connector, without any token:"
    );
    println!("   GET {url}");
    // B's shared client trusts the development CA when the demo runs with --tls.
    let response = pair.b.state.http().get(&url).send().await?;
    let status = response.status();
    let request_id = response
        .headers()
        .get(crate::dataplane::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_string();
    let body = response.bytes().await?;
    if !status.is_success() {
        anyhow::bail!(
            "the local endpoint answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let preview: String = String::from_utf8_lossy(&body).chars().take(160).collect();
    println!(
        "   {status}, {} bytes from city A's platform: {preview}...",
        body.len()
    );
    let path = format!(
        "/api/v1/transfers/{}/receipts",
        crate::client::encode_segment(tid)
    );
    // The receipt is fetched and checked once the body has ended, a moment after the application got it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let stored = loop {
        let list = api.get(&path).await?;
        if let Some(first) = list.as_array().and_then(|l| l.first()) {
            break first.clone();
        }
        if Instant::now() > deadline {
            anyhow::bail!("no receipt was stored for request {request_id}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let receipt = &stored["receipt"]["receipt"];
    println!(
        "   receipt {} signed by {}: {} {} -> {}, {} bytes, sha256 {}",
        text(receipt, "requestId"),
        text(receipt, "provider"),
        text(receipt, "method"),
        match text(receipt, "path").as_str() {
            "" => "(the data address itself)".to_string(),
            p => p.to_string(),
        },
        receipt["status"],
        receipt["bytes"],
        text(receipt, "sha256")
    );
    let verdict = if stored["verified"] == true {
        "verified by city B: A's signature checks with A's keys and the digest matches the body received".to_string()
    } else {
        format!("NOT verified: {}", text(&stored, "problem"))
    };
    println!("   {verdict}");
    for (name, state) in [("A", &pair.a.state), ("B", &pair.b.state)] {
        let entries = state.store().audit_entries_from(0, 100_000).await?;
        for e in entries {
            let leaf: Value = serde_json::from_str(&e.leaf).unwrap_or(Value::Null);
            let d = &leaf["details"];
            let ours = d["request_id"] == request_id.as_str();
            if e.kind == "data_access" && ours {
                let extra = match d.get("receipt") {
                    Some(r) => format!(", receipt verified: {}", r["verified"]),
                    None => String::new(),
                };
                println!(
                    "   city {name} audit #{:<3} data_access      {} {} bytes sha256 {}...{extra}",
                    e.index,
                    d["status"],
                    d["bytes"],
                    text(d, "sha256").get(..16).unwrap_or("?")
                );
            } else if e.kind == "receipt_received" && ours {
                println!(
                    "   city {name} audit #{:<3} receipt_received provider's entry #{}, verified: {}",
                    e.index, d["provider_audit_index"], d["verified"]
                );
            }
        }
    }
    Ok(())
}

/// What anyone without a connector finds: the resources city A marked discoverable, on its open catalogue.
async fn show_open_catalogue(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let items: Value = checked(
        http.get(format!("{base}/records/collections/catalogue/items"))
            .send()
            .await?,
    )
    .await?;
    println!(
        "   Anyone (a portal, CKAN, QGIS) finds the {} resources city A marked discoverable, metadata only, on its open catalogue:",
        items["numberMatched"]
    );
    for f in items["features"].as_array().into_iter().flatten() {
        println!(
            "   - {} [{}]",
            text(&f["properties"], "title"),
            text(&f["properties"], "type")
        );
    }
    println!("   DCAT-AP {base}/catalog.ttl, OGC API Records {base}/records, CSW {base}/csw");
    Ok(())
}

struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        checked(r).await
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        checked(r).await
    }
}

async fn checked(r: reqwest::Response) -> anyhow::Result<Value> {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!("management API answered {status}: {body}");
    }
    Ok(body)
}

/// Waits for process `id` on city B to reach one of `states`, woken by the connector's own state events.
async fn wait(pair: &Pair, id: &str, states: &[&str]) -> anyhow::Result<String> {
    let mut events = pair.b.state.events().subscribe();
    let current = match pair.b.state.store().negotiation(id).await? {
        Some(n) => Some(n.state),
        None => pair.b.state.store().transfer(id).await?.map(|t| t.state),
    };
    if let Some(s) = current.filter(|s| states.contains(&s.as_str())) {
        return Ok(s);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(e)) if e.process_id == id && states.contains(&e.state.as_str()) => {
                return Ok(e.state)
            }
            Ok(_) => {}
            Err(_) => anyhow::bail!("process {id} did not reach {states:?} within 30 s"),
        }
    }
}

fn print_history(view: &Value) {
    for h in view["history"].as_array().into_iter().flatten() {
        println!(
            "   {}  {:<10} {}",
            text(h, "at").get(11..23).unwrap_or(""),
            text(h, "to_state"),
            text(h, "event")
        );
    }
}

fn print_catalog(catalog: &Value) {
    println!(
        "   City A's catalogue as city B sees it ({}):",
        text(catalog, "dct:title")
    );
    let datasets = catalog
        .get("dataset")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for d in &datasets {
        // dct:type holds the kind's concept, then a dataset's stage's.
        let types: Vec<&str> = d
            .get("dct:type")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("@id").and_then(Value::as_str))
            .filter_map(|iri| iri.rsplit('#').next())
            .collect();
        let kind = types.first().copied().unwrap_or("?");
        let stage = types
            .get(1)
            .map(|s| format!(", stage {s}"))
            .unwrap_or_default();
        println!(
            "   - {} [{kind}{stage}]  {}",
            text(d, "dct:title"),
            text(d, "@id")
        );
        for offer in d
            .get("hasPolicy")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            println!(
                "       offer {}: {}",
                text(offer, "@id").rsplit(':').next().unwrap_or(""),
                summarise_offer(offer)
            );
        }
    }
    println!(
        "   ({} resources; backend locations are never shown to partners)",
        datasets.len()
    );
}

/// An offer as the partner's legal team would read it: the policy engine's own sentences (`twinport policy
/// explain`), so the demo shows what the connector enforces rather than a paraphrase of the JSON.
fn summarise_offer(offer: &Value) -> String {
    match twinport_policy::Policy::from_json(offer) {
        Ok(p) => twinport_policy::explain(&p).join(" "),
        Err(e) => format!("(the offer does not read: {e})"),
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}
