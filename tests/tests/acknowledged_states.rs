//! DSP 2025-1 states as acknowledged transitions, between real connectors: a process moves when the partner
//! acknowledges our message, a partner's message is judged against the acknowledged state (after a bounded wait
//! for our delivery in flight), a lost acknowledgement heals through the sender's retry without a second
//! transition, and a consumer accepts at once an offer whose terms its legal team pre-approved.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twinport_e2e::{
    awaiting_operator_approval, city_pair, city_pair_with, dsp_post as post, provider_negotiation,
    proxied_pair, start_negotiation, wait_for_state, City, StoppedCity, Storage, CITY_A, CITY_B,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
const HEAT: &str = "urn:ldt:sample-city:heat-scenario-2040";
const HEAT_RESEARCH_OFFER: &str = "urn:ldt:sample-city:heat-scenario-2040:offer:research-only";
/// A callback nobody answers: the provider's messages stay unacknowledged.
const NOBODY: &str = "http://127.0.0.1:9/dsp";
const T: Duration = Duration::from_secs(20);

async fn view(city: &City, path: &str) -> Value {
    city.management(Method::GET, path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// City B's negotiation opened by A's offer `provider_pid`, once it has arrived.
async fn consumer_of(b: &City, provider_pid: &str) -> twinport::storage::NegotiationRecord {
    for _ in 0..500 {
        let found = b
            .running
            .state
            .store()
            .negotiations()
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.provider_pid.as_deref() == Some(provider_pid));
        if let Some(n) = found {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the offer {provider_pid} never reached city B");
}

async fn history_events(city: &City, id: &str) -> Vec<String> {
    city.running
        .state
        .store()
        .history(id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.event)
        .collect()
}

/// The provider's agreement is answered by the consumer but the answer is lost, and so are the answers to the
/// verification and to FINALIZED: each sender retries, each receiver answers the copy without a second
/// transition, and both sides end FINALIZED exactly once, with one agreement.
#[tokio::test]
async fn a_lost_acknowledgement_heals_by_the_retry_and_finalizes_once() {
    let (a, b, to_a, to_b) = proxied_pair().await;
    to_b.lose_next_answer("/agreement");
    to_a.lose_next_answer("/agreement/verification");
    to_b.lose_next_answer("/events");
    let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
    wait_for_state(&b, &id, "FINALIZED", T).await;
    let provider = provider_negotiation(&a, &id).await.unwrap();
    wait_for_state(&a, &provider.id, "FINALIZED", T).await;

    // Each message went out twice: the copy after the lost answer is what healed it.
    let posts = |r: &twinport_e2e::proxy::Recorder, end: &str| {
        r.exchanges()
            .iter()
            .filter(|e| e.method == "POST" && e.path.ends_with(end))
            .count()
    };
    assert_eq!(posts(&to_b, "/agreement"), 2);
    assert_eq!(posts(&to_a, "/agreement/verification"), 2);
    assert_eq!(posts(&to_b, "/events"), 2);

    let once = |events: &[String], what: &str| {
        assert_eq!(
            events.iter().filter(|e| e.starts_with(what)).count(),
            1,
            "{what}: {events:#?}"
        )
    };
    let consumer = history_events(&b, &id).await;
    once(&consumer, "received agreement");
    once(&consumer, "received FINALIZED");
    let producer = history_events(&a, &provider.id).await;
    once(&producer, "received verification");
    once(
        &producer,
        &format!("{CITY_B} acknowledged ContractAgreementMessage"),
    );
    once(
        &producer,
        &format!("{CITY_B} acknowledged ContractNegotiationEventMessage"),
    );
    let agreements = a.running.state.store().agreements().await.unwrap();
    assert_eq!(
        agreements
            .iter()
            .filter(|g| g.negotiation_id == provider.id)
            .count(),
        1
    );
    a.running.stop().await;
    b.running.stop().await;
}

/// The provider's agreement cannot reach the consumer: the negotiation stays REQUESTED with the agreement
/// pending (shown to the operator), and a verification the consumer sends anyway waits for that delivery, then is
/// refused with 400 and changes nothing.
#[tokio::test]
async fn a_message_legal_only_after_our_unacknowledged_one_is_refused_after_a_bounded_wait() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let (status, ack) = post(
            &b,
            &a,
            "/negotiations/request",
            &json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "ContractRequestMessage",
                "consumerPid": consumer_pid,
                "callbackAddress": NOBODY,
                "offer": {"@type": "Offer", "@id": TRAFFIC_OFFER, "target": TRAFFIC,
                          "assigner": CITY_A, "permission": [{"action": "use"}]}
            }),
        )
        .await;
        assert_eq!(status, 201, "{ack}");
        let provider_pid = ack["providerPid"].as_str().unwrap().to_string();

        // The operator sees the acknowledged state and what is in flight.
        let mut n = Value::Null;
        for _ in 0..100 {
            n = view(&a, &format!("/api/v1/negotiations/{provider_pid}")).await;
            if n["pending"]["attempts"].as_i64().unwrap_or(0) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(n["state"], "REQUESTED", "{n:#}");
        assert_eq!(n["pending"]["message"], "ContractAgreementMessage", "{n:#}");
        assert_eq!(n["pending"]["to"], "AGREED", "{n:#}");
        let waiting = n["waiting_for"].as_str().unwrap();
        assert!(
            waiting.starts_with("sent ContractAgreementMessage, awaiting acknowledgement since")
                && waiting.contains("(AGREED once acknowledged)")
                && waiting.contains("connection refused"),
            "{waiting}"
        );

        let started = std::time::Instant::now();
        let (status, error) = post(
            &b,
            &a,
            &format!("/negotiations/{provider_pid}/agreement/verification"),
            &json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "ContractAgreementVerificationMessage",
                "@id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
                "providerPid": provider_pid,
                "consumerPid": consumer_pid
            }),
        )
        .await;
        assert_eq!(status, 400, "{error}");
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "judged without waiting for the delivery in flight"
        );
        assert_eq!(error["@type"], "ContractNegotiationError");
        assert_eq!(error["code"], "invalid-transition");
        assert_eq!(error["providerPid"], provider_pid.as_str());
        assert_eq!(error["consumerPid"], consumer_pid.as_str());
        let n = a
            .running
            .state
            .store()
            .negotiation(&provider_pid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.state, "REQUESTED");
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// A provider whose agreement awaits acknowledgement restarts: the pending transition comes back from the
/// outbox, the agreement is delivered once the consumer is reachable, and both sides finalize.
#[tokio::test]
async fn a_pending_transition_survives_a_restart_and_completes() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let (id, provider) = awaiting_operator_approval(&a, &b).await;
        // The consumer goes away; the approved agreement cannot reach it.
        let b = StoppedCity::stop(b).await;

        let approved: Value = a
            .management(
                Method::POST,
                &format!("/api/v1/negotiations/{}/approve", provider.id),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(approved["state"], "REQUESTED", "{approved:#}");
        assert_eq!(approved["pending"]["to"], "AGREED", "{approved:#}");

        // The provider restarts with the agreement still unacknowledged.
        let a = StoppedCity::stop(a).await;
        let a_url = a.public_url();
        let a = a.start(None).await;
        let n = view(&a, &format!("/api/v1/negotiations/{}", provider.id)).await;
        assert_eq!(n["state"], "REQUESTED", "{n:#}");
        assert_eq!(n["pending"]["message"], "ContractAgreementMessage", "{n:#}");

        // The consumer comes back on its address; the queued agreement goes through and both finalize.
        let b = b.start(Some((CITY_A, &a_url))).await;
        wait_for_state(&b, &id, "FINALIZED", T).await;
        wait_for_state(&a, &provider.id, "FINALIZED", T).await;
        let events = history_events(&a, &provider.id).await;
        assert_eq!(
            events
                .iter()
                .filter(
                    |e| e.starts_with(&format!("{CITY_B} acknowledged ContractAgreementMessage"))
                )
                .count(),
            1,
            "{events:#?}"
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// City B's legal team pre-approved the `partner-use` terms: A's offer with exactly those terms is accepted at
/// once and finalized; A's research-only offer waits for B's operator, and the history says how it differs.
#[tokio::test]
async fn an_offer_with_pre_approved_terms_is_accepted_and_another_waits_with_the_difference() {
    for storage in Storage::all() {
        let (a, b) = city_pair_with(storage, |config| {
            if config.participant_id == CITY_B {
                config.contracts.accept_policy = Some("partner-use".into());
            }
        })
        .await;
        let offer = |dataset: &str, offer_id: &str| json!({"partner": CITY_B, "dataset": dataset, "offer_id": offer_id});
        let r = a
            .management(Method::POST, "/api/v1/negotiations/offers")
            .json(&offer(TRAFFIC, TRAFFIC_OFFER))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let accepted: Value = r.json().await.unwrap();
        let provider_id = accepted["id"].as_str().unwrap().to_string();
        let consumer = consumer_of(&b, &provider_id).await;
        wait_for_state(&b, &consumer.id, "FINALIZED", T).await;
        wait_for_state(&a, &provider_id, "FINALIZED", T).await;
        let history = b.running.state.store().history(&consumer.id).await.unwrap();
        assert!(
            history
                .iter()
                .any(|h| h.event.starts_with("accepted automatically")
                    && h.detail.as_deref()
                        == Some("the offer's terms are those of acceptance policy partner-use v1")),
            "{history:#?}"
        );

        let r = a
            .management(Method::POST, "/api/v1/negotiations/offers")
            .json(&offer(HEAT, HEAT_RESEARCH_OFFER))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let waiting: Value = r.json().await.unwrap();
        let provider_id = waiting["id"].as_str().unwrap().to_string();
        let consumer = consumer_of(&b, &provider_id).await;
        assert_eq!(consumer.state, "OFFERED");
        let history = b.running.state.store().history(&consumer.id).await.unwrap();
        let left = history
            .iter()
            .find(|h| h.event == "left to the operator")
            .unwrap_or_else(|| panic!("{history:#?}"));
        let detail = left.detail.as_deref().unwrap();
        assert!(
            detail.starts_with("the offer differs from acceptance policy partner-use v1: "),
            "{detail}"
        );
        assert!(b
            .running
            .state
            .store()
            .outbox_for(&consumer.id)
            .await
            .unwrap()
            .is_empty());
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// A callback that answers every message 200 and records the paths it received.
async fn recording_callback() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(uri.path().to_string());
            axum::http::StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/dsp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// Respond first, then act: what a partner's creating message causes (here the agreement) is held until our answer
/// has been sent, so it never overtakes the pid the partner needs to recognise it. Handled below the HTTP layer,
/// nothing goes out until the answer releases it; through DSP, the answer releases it at once.
#[tokio::test]
async fn what_a_request_causes_waits_for_the_answer_to_the_request() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let (callback, seen) = recording_callback().await;
        let request = |consumer_pid: &str| {
            json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "ContractRequestMessage",
                "consumerPid": consumer_pid,
                "callbackAddress": callback,
                "offer": {"@type": "Offer", "@id": TRAFFIC_OFFER, "target": TRAFFIC,
                          "assigner": CITY_A, "permission": [{"action": "use"}]}
            })
        };
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let ack = twinport::contracting::negotiation::on_initial_request(
            a.running.state.contracting(),
            CITY_B,
            &request(&consumer_pid),
        )
        .await
        .unwrap();
        assert!(ack.created);
        a.running.state.outbox_signal().wake();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            seen.lock().unwrap().is_empty(),
            "{:?}",
            seen.lock().unwrap()
        );
        let queued = a
            .running
            .state
            .store()
            .outbox_for(&ack.process_id)
            .await
            .unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].kind, "ContractAgreementMessage");
        assert_eq!(queued[0].status, "pending");
        assert!(a.running.state.creations().is_held(&ack.process_id));

        // The answer has been sent: released, delivered, acknowledged.
        a.running.state.creations().answered(&ack.process_id);
        a.running.state.outbox_signal().wake();
        wait_for_state(&a, &ack.process_id, "AGREED", T).await;
        assert_eq!(
            seen.lock().unwrap().clone(),
            vec![format!("/dsp/negotiations/{consumer_pid}/agreement")]
        );

        // Through DSP the answer itself releases what the request caused.
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let (status, ack) = post(&b, &a, "/negotiations/request", &request(&consumer_pid)).await;
        assert_eq!(status, 201, "{ack}");
        let provider_pid = ack["providerPid"].as_str().unwrap();
        wait_for_state(&a, provider_pid, "AGREED", T).await;
        assert!(!a.running.state.creations().is_held(provider_pid));
        a.running.stop().await;
        b.running.stop().await;
    }
}
