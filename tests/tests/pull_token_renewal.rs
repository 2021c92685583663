//! Long-running pulls (issue 23): with pull tokens that last 3 s, an application pulling through the consumer's
//! local endpoint keeps getting data past several lifetimes, because the consumer renews the token through the
//! provider's `pull-token-renewal` extension (authenticated as the consumer, bound to the transfer), each renewal
//! in both audit logs. A terminated transfer, or an agreement that no longer permits the transfer, cannot renew;
//! a provider that does not advertise the extension leaves the transfer view saying so, and the local endpoint's
//! 401 saying why. The live token is never in the views or history operators and viewers read.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport::config::Config;
use twinport_e2e::counterparty::{msg, Kind};
use twinport_e2e::counterparty_provider::{provider_msg, tck_rules, ProviderTck, PULL};
use twinport_e2e::platform::Platform;
use twinport_e2e::{
    audit_leaves, city_pair_with, pull_token, pull_transfer, wait_for_state, City, PullTransfer,
    Storage, CITY_A, CITY_B,
};

const LIFETIME: u64 = 3;
const T: Duration = Duration::from_secs(20);

fn short_tokens(c: &mut Config) {
    c.contracts.pull_token_lifetime = Duration::from_secs(LIFETIME);
}

fn open_policy() -> Value {
    json!({"permission": [{"action": "use"}]})
}

fn distribution(platform: &Platform) -> Value {
    json!({"format": "application/json", "backend": format!("{}/api", platform.url)})
}

fn local(b: &City, tid: &str, below: &str) -> String {
    format!(
        "{}/transfers/{}{below}",
        b.running.local_url(),
        twinport::client::encode_segment(tid)
    )
}

async fn view(city: &City, tid: &str) -> Value {
    let r = city
        .management(
            Method::GET,
            &format!(
                "/api/v1/transfers/{}",
                twinport::client::encode_segment(tid)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Waits until `tid`'s view has a pull token whose renewal satisfies `check`, and returns the view.
async fn view_until(city: &City, tid: &str, check: impl Fn(&str) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let v = view(city, tid).await;
        if v["pull_token"]["renewal"].as_str().is_some_and(&check) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pull token's renewal never became what was expected: {v:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `transfer_state` audit entries of `city` whose event contains `text`.
async fn audited(city: &City, text: &str) -> Vec<Value> {
    audit_leaves(city, "transfer_state")
        .await
        .into_iter()
        .filter(|e| {
            e["details"]["event"]
                .as_str()
                .is_some_and(|ev| ev.contains(text))
        })
        .collect()
}

/// B renews `p`'s token itself, as its data plane does: `POST <A's base>/transfers/{providerPid}/pull-token`
/// with a token of its DSP identity.
async fn renew_directly(
    a: &City,
    b: &City,
    p: &PullTransfer,
    consumer_pid: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/transfers/{}/pull-token",
            a.dsp_base(),
            twinport::client::encode_segment(&p.provider_transfer)
        ))
        .bearer_auth(b.running.state.identity().token_for(CITY_A).unwrap())
        .json(&json!({"providerPid": p.provider_transfer, "consumerPid": consumer_pid}))
        .send()
        .await
        .unwrap()
}

/// Everything a viewer can read of `tid` (its view with history and messages, and the list), as text.
async fn visible(city: &City, tid: &str) -> String {
    let list = city
        .management(Method::GET, "/api/v1/transfers")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    format!("{}{list}", view(city, tid).await)
}

#[tokio::test]
async fn pulls_outlive_several_token_lifetimes_and_each_renewal_is_audited_on_both_sides() {
    for storage in Storage::all() {
        let platform = Platform::start().await;
        let (a, b) = city_pair_with(storage, short_tokens).await;
        let p = pull_transfer(
            &a,
            &b,
            "urn:ldt:t:long-pull",
            open_policy(),
            distribution(&platform),
            None,
        )
        .await;
        let tid = p.consumer_transfer.clone();
        let first = p.token.clone();
        let v = view_until(&b, &tid, |r| r == "automatic").await;
        assert!(v["pull_token"]["expires_at"].is_string(), "{v:#}");

        // Renewed ahead of time by the consumer itself, not only when a pull finds the token expired: while no
        // application pulls, the token is renewed twice in two lifetimes and is never left expired.
        let before = audited(&b, "pull token renewed by the provider")
            .await
            .len();
        tokio::time::sleep(Duration::from_millis(2 * LIFETIME * 1000 + 500)).await;
        let idle = audited(&b, "pull token renewed by the provider")
            .await
            .len()
            - before;
        assert!(idle >= 2, "{idle} renewals while idle");
        let v = view(&b, &tid).await;
        let expires = time::OffsetDateTime::parse(
            v["pull_token"]["expires_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert!(expires > time::OffsetDateTime::now_utc(), "{v:#}");

        // A dashboard polling every 300 ms for four lifetimes never sees anything but data.
        let started = tokio::time::Instant::now();
        let mut pulls = 0;
        while started.elapsed() < Duration::from_secs(4 * LIFETIME) {
            let r = reqwest::get(local(&b, &tid, "/readings")).await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            assert_eq!(
                status,
                200,
                "pull {pulls} after {:?}: {body}",
                started.elapsed()
            );
            assert!(body.contains("Lange Viestraat"), "{body}");
            pulls += 1;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        assert!(pulls >= 10, "{pulls}");

        // Renewed several times, each recorded by the provider (with the policy decision) and the consumer.
        let current = pull_token(&b, &tid).await;
        assert_ne!(current, first);
        let provider_side = audited(&a, "renewed the pull token").await;
        let consumer_side = audited(&b, "pull token renewed by the provider").await;
        assert!(provider_side.len() >= 3, "{provider_side:#?}");
        assert!(consumer_side.len() >= 3, "{consumer_side:#?}");
        assert!(provider_side
            .iter()
            .all(|e| e["transfer"] == p.provider_transfer.as_str() && e["partner"] == CITY_B));
        assert!(consumer_side
            .iter()
            .all(|e| e["transfer"] == tid.as_str() && e["partner"] == CITY_A));
        let decisions = audit_leaves(&a, "policy_decision").await;
        assert!(
            decisions
                .iter()
                .filter(|e| e["details"]["scope"] == "transfer")
                .count()
                >= provider_side.len(),
            "every renewal re-evaluated the agreement in the transfer scope"
        );

        // A renewal revokes the token before it: the first one no longer opens the provider's data address.
        let r = reqwest::Client::new()
            .get(&p.endpoint)
            .bearer_auth(&first)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);

        // The provider revokes the consumer's token behind its back (here: renewed by someone holding B's
        // identity); the next pull is answered 401 by the provider, renewed on demand and sent again.
        let r = renew_directly(&a, &b, &p, &tid).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let renewed: Value = r.json().await.unwrap();
        assert!(renewed["expiresAt"].is_string(), "{renewed:#}");
        let r = reqwest::get(local(&b, &tid, "/readings")).await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        assert_ne!(pull_token(&b, &tid).await, current);

        // No token, past or live, in what operators and viewers read.
        let shown = visible(&b, &tid).await;
        for token in [&first, &current, &pull_token(&b, &tid).await] {
            assert!(
                !shown.contains(token.as_str()),
                "a token in the view: {shown}"
            );
        }
        let v = view(&b, &tid).await;
        assert!(
            !v["data_address"].to_string().contains("authorization"),
            "{v:#}"
        );
        assert_eq!(v["pull_token"]["renewal"], "automatic");
        assert!(!visible(&a, &p.provider_transfer)
            .await
            .contains(first.as_str()));
        // The provider keeps no token in plain text: its sent TransferStartMessage lost it once delivered.
        let sent = a
            .running
            .state
            .store()
            .outbox_for(&p.provider_transfer)
            .await
            .unwrap();
        assert!(sent.iter().any(|m| m.kind == "TransferStartMessage"));
        for m in &sent {
            assert!(!m.body.to_string().contains(first.as_str()), "{:#}", m.body);
            assert!(
                !m.body.to_string().contains("authorization"),
                "{:#}",
                m.body
            );
        }
        // The API description documents the field.
        let doc: Value = reqwest::get(format!(
            "{}/api/v1/openapi.json",
            b.running.management_url()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let schemas = &doc["components"]["schemas"];
        assert!(
            schemas["TransferView"].to_string().contains("pull_token"),
            "{:#}",
            schemas["TransferView"]
        );
        assert!(
            schemas["PullTokenView"]["properties"]["renewal"].is_object(),
            "{schemas:#}"
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_terminated_or_suspended_transfer_cannot_renew_and_says_why() {
    for storage in Storage::all() {
        let platform = Platform::start().await;
        let (a, b) = city_pair_with(storage, short_tokens).await;
        let p = pull_transfer(
            &a,
            &b,
            "urn:ldt:t:ended",
            open_policy(),
            distribution(&platform),
            None,
        )
        .await;
        let tid = p.consumer_transfer.clone();

        // Suspended by the provider: refused, naming the state; resumed, renewable again.
        let act = |path: String| {
            a.management(Method::POST, &path)
                .json(&json!({"reason": "maintenance"}))
                .send()
        };
        let r = act(format!("/api/v1/transfers/{}/suspend", p.provider_transfer))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        wait_for_state(&b, &tid, "SUSPENDED", T).await;
        let r = renew_directly(&a, &b, &p, &tid).await;
        assert_eq!(r.status(), 400);
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["@type"], "TransferError", "{error:#}");
        assert_eq!(error["code"], "transfer-not-started", "{error:#}");
        assert!(
            error["reason"].to_string().contains("SUSPENDED"),
            "{error:#}"
        );

        // Terminated: refused for good.
        let r = act(format!(
            "/api/v1/transfers/{}/terminate",
            p.provider_transfer
        ))
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        wait_for_state(&b, &tid, "TERMINATED", T).await;
        let r = renew_directly(&a, &b, &p, &tid).await;
        assert_eq!(r.status(), 400);
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["code"], "transfer-not-started", "{error:#}");
        assert!(
            error["reason"].to_string().contains("TERMINATED"),
            "{error:#}"
        );
        let refusals = audited(&a, "refused to renew the pull token").await;
        assert!(refusals.len() >= 2, "{refusals:#?}");

        // Only the transfer's consumer may renew: anyone else finds no such transfer.
        let r = reqwest::Client::new()
            .post(format!(
                "{}/transfers/{}/pull-token",
                a.dsp_base(),
                p.provider_transfer
            ))
            .bearer_auth(twinport_e2e::craft_token(
                &a.key,
                json!({"iss": CITY_A, "sub": CITY_A, "aud": CITY_A, "jti": uuid::Uuid::new_v4().to_string(),
                       "iat": twinport_e2e::now(), "exp": twinport_e2e::now() + 60}),
            ))
            .json(&json!({"providerPid": p.provider_transfer, "consumerPid": tid}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        // The ended transfer carries no more data through the local endpoint.
        let r = reqwest::get(local(&b, &tid, "/readings")).await.unwrap();
        assert_eq!(r.status(), 409);
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn an_agreement_that_ran_out_stops_renewal_and_the_application_is_told_why() {
    for storage in Storage::all() {
        let platform = Platform::start().await;
        let (a, b) = city_pair_with(storage, short_tokens).await;
        let deadline = time::OffsetDateTime::now_utc() + time::Duration::seconds(8);
        let until = deadline
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let window = json!({"permission": [{"action": "use",
            "constraint": [{"leftOperand": "dateTime", "operator": "lt",
                            "rightOperand": {"@value": until, "@type": "xsd:dateTime"}}]}]});
        let p = pull_transfer(
            &a,
            &b,
            "urn:ldt:t:window",
            window,
            distribution(&platform),
            None,
        )
        .await;
        let tid = p.consumer_transfer.clone();
        let r = reqwest::get(local(&b, &tid, "/readings")).await.unwrap();
        assert_eq!(r.status(), 200);
        let v = view_until(&b, &tid, |r| r.contains("policy-denied")).await;
        let renewal = v["pull_token"]["renewal"].as_str().unwrap();
        assert!(
            renewal.starts_with("unavailable: the provider refused to renew the token"),
            "{v:#}"
        );
        assert!(renewal.contains("no longer permits"), "{renewal}");
        assert_eq!(v["state"], "STARTED");
        // Once the last token expired, the application hears why there is no data from our own endpoint.
        tokio::time::sleep(Duration::from_secs(LIFETIME + 1)).await;
        let r = reqwest::get(local(&b, &tid, "/readings")).await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: Value = r.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("could not be renewed"), "{problem:#}");
        assert!(detail.contains("policy-denied"), "{problem:#}");
        // The refusal is settled: further pulls are told so without asking the provider each time.
        let refusals = audited(&a, "refused to renew the pull token").await.len();
        assert!(refusals >= 1);
        for _ in 0..3 {
            let r = reqwest::get(local(&b, &tid, "/readings")).await.unwrap();
            assert_eq!(r.status(), 401);
        }
        assert_eq!(
            audited(&a, "refused to renew the pull token").await.len(),
            refusals
        );
        assert!(!audited(&b, "pull token not renewed").await.is_empty());
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// The counterparty harness plays a provider that is not a Twinport: it advertises no extensions.
#[tokio::test]
async fn a_provider_without_the_extension_leaves_renewal_unavailable() {
    for storage in Storage::all() {
        let t = ProviderTck::start(storage).await;
        let ds = "dataset-renewal";
        t.publish(
            ds,
            &provider_msg::offer_id(ds),
            json!({"permission": tck_rules()}),
        );
        let id = t.initiate_negotiation(ds).await;
        let m = t.cp.expect(Kind::ContractRequest).await;
        let n = t.opened(&m);
        t.send(
            &n,
            &provider_msg::agreement(n.provider_pid(), n.consumer_pid(), ds, "ARENEW01"),
        )
        .await
        .assert_success();
        t.cp.expect(Kind::AgreementVerification).await;
        t.wait_state(&n, "VERIFIED").await;
        t.send(
            &n,
            &msg::event(n.provider_pid(), n.consumer_pid(), "FINALIZED"),
        )
        .await
        .assert_success();
        t.assert_state(&n, "FINALIZED").await;
        let _ = id;

        let tid = t.initiate_transfer("ARENEW01", PULL).await;
        let m = t.cp.expect(Kind::TransferRequest).await;
        let p = t.opened(&m);
        let mut start = msg::transfer_start_with_address(p.provider_pid(), p.consumer_pid());
        start["dataAddress"] = json!({"@type": "DataAddress", "endpoint": "http://127.0.0.1:9/data/x",
        "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
        "endpointProperties": [
            {"@type": "EndpointProperty", "name": "authorization", "value": "harness-secret-token"},
            {"@type": "EndpointProperty", "name": "authType", "value": "bearer"},
            {"@type": "EndpointProperty", "name": "expiresIn", "value": "2"}
        ]});
        t.send(&p, &start).await.assert_success();
        t.wait_state(&p, "STARTED").await;

        let v = view_until(&t.cut, &tid, |r| r.starts_with("unavailable")).await;
        let renewal = v["pull_token"]["renewal"].as_str().unwrap();
        assert!(
            renewal.contains("does not advertise the pull-token-renewal extension"),
            "{v:#}"
        );
        assert!(v["pull_token"]["expires_at"].is_string(), "{v:#}");
        assert!(!visible(&t.cut, &tid).await.contains("harness-secret-token"));
        assert_eq!(pull_token(&t.cut, &tid).await, "harness-secret-token");

        // Past its expiry the local endpoint refuses without calling the provider, and says why.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let r = reqwest::get(local(&t.cut, &tid, "/x")).await.unwrap();
        assert_eq!(r.status(), 401);
        let problem: Value = r.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("expired") && detail.contains("does not advertise"),
            "{problem:#}"
        );
        t.finish().await;
    }
}

/// Two replicas of the consumer on one PostgreSQL database: an application pulling through either keeps getting
/// data across several lifetimes, and a token is renewed once per period, not once per replica (the renewal lease).
#[tokio::test]
async fn consumer_replicas_on_postgresql_share_the_token_and_renew_it_once() {
    if std::env::var("TWINPORT_TEST_DATABASE_URL").is_err() {
        println!("skipped: TWINPORT_TEST_DATABASE_URL is not set");
        return;
    }
    let platform = Platform::start().await;
    let (a, b) = city_pair_with(Storage::Postgres, short_tokens).await;
    let p = pull_transfer(
        &a,
        &b,
        "urn:ldt:t:replicated",
        open_policy(),
        distribution(&platform),
        None,
    )
    .await;
    let tid = p.consumer_transfer.clone();
    // The second replica: B's configuration and database, listeners of its own.
    let mut config = b.running.state.config().clone();
    let any = "127.0.0.1:0".parse().unwrap();
    (config.listen, config.management_listen, config.local_listen) = (any, any, any);
    let b2 = City {
        id: b.id.clone(),
        running: twinport::app::start(config)
            .await
            .expect("second replica starts"),
        key: b.key.clone(),
        management_token: b.management_token.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let before = audited(&a, "renewed the pull token").await.len();
    let started = tokio::time::Instant::now();
    let mut pulls = 0;
    while started.elapsed() < Duration::from_secs(3 * LIFETIME) {
        let replica = if pulls % 2 == 0 { &b } else { &b2 };
        let r = reqwest::get(local(replica, &tid, "/readings"))
            .await
            .unwrap();
        let status = r.status();
        assert_eq!(status, 200, "pull {pulls}: {}", r.text().await.unwrap());
        pulls += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let renewals = audited(&a, "renewed the pull token").await.len() - before;
    // One renewal every two seconds over nine, whichever replica did it; both renewing would double that.
    assert!((3..=7).contains(&renewals), "{renewals} renewals in 9 s");
    b2.running.stop().await;
    a.running.stop().await;
    b.running.stop().await;
}

/// A stand-in for the provider's DSP surface: it forwards every request to `target`, except that while `refusing`
/// is set it answers a pull-token renewal `404` with no body, as a provider does when it cannot check the caller's
/// identity for a moment (its JWKS unreachable). Counts the renewals it refused.
struct Flaky {
    url: String,
    refusing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Flaky {
    async fn start(target: String) -> Flaky {
        use axum::extract::State;
        use axum::http::{HeaderMap, Method as AxumMethod, StatusCode, Uri};
        use std::sync::atomic::Ordering;
        type Shared = (
            String,
            std::sync::Arc<std::sync::atomic::AtomicBool>,
            std::sync::Arc<std::sync::atomic::AtomicUsize>,
        );
        async fn forward(
            State((target, refusing, refused)): State<Shared>,
            method: AxumMethod,
            uri: Uri,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> (StatusCode, HeaderMap, axum::body::Bytes) {
            if uri.path().ends_with("/pull-token") && refusing.load(Ordering::SeqCst) {
                refused.fetch_add(1, Ordering::SeqCst);
                return (StatusCode::NOT_FOUND, HeaderMap::new(), Default::default());
            }
            let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let mut request = reqwest::Client::new()
                .request(method, format!("{target}{path}"))
                .body(body);
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    request = request.header(name, value);
                }
            }
            let Ok(r) = request.send().await else {
                return (
                    StatusCode::BAD_GATEWAY,
                    HeaderMap::new(),
                    Default::default(),
                );
            };
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
            let mut kept = HeaderMap::new();
            for (name, value) in r.headers() {
                if name != "content-length" && name != "transfer-encoding" {
                    kept.insert(name.clone(), value.clone());
                }
            }
            (status, kept, r.bytes().await.unwrap_or_default())
        }
        let refusing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let app = axum::Router::new().fallback(forward).with_state((
            target,
            refusing.clone(),
            refused.clone(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Flaky {
            url,
            refusing,
            refused,
        }
    }

    fn refuse(&self, on: bool) {
        self.refusing.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A refusal that may be passing (here a bare `404`, as when the provider cannot reach our JWKS for a moment) does
/// not end automatic renewal: the view says `retrying: …`, the consumer asks again with backoff while the token is
/// valid and after it expired, records the failure once rather than at every attempt, and renews as soon as the
/// provider answers again, so the application gets data again without a restart.
#[tokio::test]
async fn a_passing_refusal_is_retried_until_the_provider_renews_again() {
    for storage in Storage::all() {
        let platform = Platform::start().await;
        let (a, b) = city_pair_with(storage, short_tokens).await;
        let p = pull_transfer(
            &a,
            &b,
            "urn:ldt:t:flaky",
            open_policy(),
            distribution(&platform),
            None,
        )
        .await;
        let tid = p.consumer_transfer.clone();
        view_until(&b, &tid, |r| r == "automatic").await;
        let flaky = Flaky::start(a.running.public_url().trim_end_matches('/').to_string()).await;
        b.running.state.set_partner_url(CITY_A, &flaky.url);
        flaky.refuse(true);

        let v = view_until(&b, &tid, |r| r.starts_with("retrying: ")).await;
        let renewal = v["pull_token"]["renewal"].as_str().unwrap();
        assert!(
            renewal.starts_with("retrying: the provider answered HTTP 404"),
            "{v:#}"
        );
        // Still refusing past the token's expiry: the application is told why, and the consumer keeps asking.
        tokio::time::sleep(Duration::from_secs(LIFETIME + 2)).await;
        let r = reqwest::get(local(&b, &tid, "/readings")).await.unwrap();
        assert_eq!(r.status(), 401);
        let problem: Value = r.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("could not be renewed") && detail.contains("retrying"),
            "{problem:#}"
        );
        assert!(flaky.refused() >= 2, "{} renewals asked", flaky.refused());
        assert_eq!(view(&b, &tid).await["state"], "STARTED");

        // The provider answers again: renewal resumes on its own and the application gets data.
        flaky.refuse(false);
        let refused = flaky.refused();
        view_until(&b, &tid, |r| r == "automatic").await;
        let r = reqwest::get(local(&b, &tid, "/readings")).await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        // Backed off: a handful of attempts in the seconds it refused, not one per round or per pull.
        assert!(refused <= 8, "{refused} renewals asked while refusing");
        // One audit entry for the whole episode, however many attempts it took.
        let failures = audited(&b, "pull token not renewed: retrying").await;
        assert_eq!(failures.len(), 1, "{failures:#?}");
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// A partner asking again and again for a renewal that is refused does not make the provider write each refusal:
/// the first of each code in each state is recorded (history and audit), identical ones within a minute are
/// answered the same without a record.
#[tokio::test]
async fn repeated_refusals_are_recorded_once_not_each_time() {
    for storage in Storage::all() {
        let platform = Platform::start().await;
        let (a, b) = city_pair_with(storage, short_tokens).await;
        let p = pull_transfer(
            &a,
            &b,
            "urn:ldt:t:repeated",
            open_policy(),
            distribution(&platform),
            None,
        )
        .await;
        let tid = p.consumer_transfer.clone();
        let r = a
            .management(
                Method::POST,
                &format!("/api/v1/transfers/{}/suspend", p.provider_transfer),
            )
            .json(&json!({"reason": "maintenance"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        wait_for_state(&b, &tid, "SUSPENDED", T).await;
        wait_for_state(&a, &p.provider_transfer, "SUSPENDED", T).await;
        for _ in 0..6 {
            let r = renew_directly(&a, &b, &p, &tid).await;
            assert_eq!(r.status(), 400);
            let error: Value = r.json().await.unwrap();
            assert_eq!(error["code"], "transfer-not-started", "{error:#}");
            assert!(
                error["reason"].to_string().contains("SUSPENDED"),
                "{error:#}"
            );
        }
        // (B's own worker may have asked once while the suspension was on its way: a refusal in another state.)
        let refusals = audited(&a, "refused to renew the pull token").await;
        let suspended: Vec<_> = refusals
            .iter()
            .filter(|e| e["details"]["from"] == "SUSPENDED")
            .collect();
        assert_eq!(suspended.len(), 1, "{refusals:#?}");
        assert!(refusals.len() <= 2, "{refusals:#?}");
        let event = suspended[0]["details"]["event"].as_str().unwrap();
        assert!(
            event.starts_with("refused to renew the pull token (transfer-not-started): "),
            "{event}"
        );
        let history = a
            .running
            .state
            .store()
            .history(&p.provider_transfer)
            .await
            .unwrap();
        let lines = history
            .iter()
            .filter(|h| h.event.starts_with("refused to renew") && h.to_state == "SUSPENDED")
            .count();
        assert_eq!(lines, 1, "{history:#?}");
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// The provider controls `expiresIn`: a lifetime too long for the consumer's arithmetic, zero, negative or not a
/// number is read within 1 s to a day (or as no lifetime), so the consumer neither overflows nor renews in a loop.
#[tokio::test]
async fn a_lifetime_out_of_range_from_the_provider_is_bounded() {
    for storage in Storage::all() {
        let t = ProviderTck::start(storage).await;
        let ds = "dataset-lifetimes";
        t.publish(
            ds,
            &provider_msg::offer_id(ds),
            json!({"permission": tck_rules()}),
        );
        t.initiate_negotiation(ds).await;
        let m = t.cp.expect(Kind::ContractRequest).await;
        let n = t.opened(&m);
        t.send(
            &n,
            &provider_msg::agreement(n.provider_pid(), n.consumer_pid(), ds, "ALIFE01"),
        )
        .await
        .assert_success();
        t.cp.expect(Kind::AgreementVerification).await;
        t.wait_state(&n, "VERIFIED").await;
        t.send(
            &n,
            &msg::event(n.provider_pid(), n.consumer_pid(), "FINALIZED"),
        )
        .await
        .assert_success();
        t.assert_state(&n, "FINALIZED").await;

        let now = twinport_e2e::now();
        // expiresIn sent → the lifetime the consumer keeps (None: no lifetime).
        let cases = [
            ("9223372036854775807", Some(86_400)),
            ("0", Some(1)),
            ("-5", Some(1)),
            ("abc", None),
        ];
        let mut transfers = Vec::new();
        for (expires_in, kept) in cases {
            let tid = t.initiate_transfer("ALIFE01", PULL).await;
            let m = t.cp.expect(Kind::TransferRequest).await;
            let p = t.opened(&m);
            let mut start = msg::transfer_start_with_address(p.provider_pid(), p.consumer_pid());
            start["dataAddress"] = json!({"@type": "DataAddress", "endpoint": "http://127.0.0.1:9/data/x",
            "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
            "endpointProperties": [
                {"@type": "EndpointProperty", "name": "authorization", "value": "harness-token"},
                {"@type": "EndpointProperty", "name": "authType", "value": "bearer"},
                {"@type": "EndpointProperty", "name": "expiresIn", "value": expires_in}
            ]});
            t.send(&p, &start).await.assert_success();
            t.wait_state(&p, "STARTED").await;
            transfers.push((tid, expires_in, kept));
        }
        for (tid, expires_in, kept) in &transfers {
            let stored = t
                .cut
                .running
                .state
                .store()
                .pull_token(tid)
                .await
                .unwrap()
                .unwrap();
            let lifetime = stored.expires_at.map(|e| e - stored.issued_at);
            assert_eq!(lifetime, *kept, "expiresIn {expires_in}: {stored:?}");
            assert!(stored.issued_at >= now && stored.issued_at <= twinport_e2e::now());
            let v = view_until(&t.cut, tid, |r| r.starts_with("unavailable")).await;
            assert_eq!(
                v["pull_token"]["expires_at"].is_string(),
                kept.is_some(),
                "{v:#}"
            );
        }
        // Settled once each, not re-examined at every round of the worker.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let failures = audited(&t.cut, "pull token not renewed").await;
        assert!(failures.len() <= transfers.len(), "{failures:#?}");
        t.finish().await;
    }
}
