//! DSP messages that repeat or misname a process, and processes the partner has not acknowledged. A partner retries
//! a message whose acknowledgement it lost, or a burst delivers one twice: the copy must answer with the process the
//! first one opened (one negotiation, one agreement, one transfer, one token), never open another. A follow-up whose
//! body names another process than its path is refused with the DSP error and changes nothing. A process whose
//! partner pid is not known yet is never shown with an empty pid.

use std::time::Duration;

use serde_json::{json, Value};
use twinport_e2e::schemas::assert_valid;
use twinport_e2e::{
    city_pair, dsp_post as post, start_negotiation, wait_for_state, Storage, CITY_A,
};

const TRAFFIC: &str = "urn:ldt:sample-city:traffic-counts";
const TRAFFIC_OFFER: &str = "urn:ldt:sample-city:traffic-counts:offer:partner-use";
/// A callback nobody answers: the provider's follow-ups queue up and stay out of the test's way.
const NOBODY: &str = "http://127.0.0.1:9/dsp";
const T: Duration = Duration::from_secs(20);

fn contract_request(consumer_pid: &str) -> Value {
    json!({
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@type": "ContractRequestMessage",
        "consumerPid": consumer_pid,
        "callbackAddress": NOBODY,
        "offer": {"@type": "Offer", "@id": TRAFFIC_OFFER, "target": TRAFFIC,
                  "assigner": CITY_A, "permission": [{"action": "use"}]}
    })
}

/// A callback that acknowledges every message (200), so what the provider sends takes effect: its state moves
/// when the partner acknowledges.
async fn acknowledging_callback() -> String {
    let app = axum::Router::new().fallback(|| async { axum::http::StatusCode::OK });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/dsp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Statuses of the copies, sorted: exactly one 201 and the rest 200, all naming one provider pid.
fn one_created(answers: &[(u16, Value)]) -> String {
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    let mut expected = vec![200; answers.len() - 1];
    expected.push(201);
    assert_eq!(statuses, expected, "{answers:?}");
    let pid = answers[0].1["providerPid"].as_str().unwrap().to_string();
    assert!(pid.starts_with("urn:uuid:"), "{answers:?}");
    for (_, body) in answers {
        assert_eq!(body["providerPid"], pid.as_str(), "{answers:?}");
    }
    pid
}

#[tokio::test]
async fn a_repeated_contract_request_answers_the_negotiation_it_opened() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let msg = contract_request(&consumer_pid);
        // Two copies at once (a burst), then a late retry.
        let (first, second) = tokio::join!(
            post(&b, &a, "/negotiations/request", &msg),
            post(&b, &a, "/negotiations/request", &msg)
        );
        let third = post(&b, &a, "/negotiations/request", &msg).await;
        let answers = [first, second, third];
        for (_, body) in &answers {
            assert_valid("negotiation/contract-negotiation-schema.json", body);
        }
        let provider_pid = one_created(&answers);
        let opened: Vec<_> = a
            .running
            .state
            .store()
            .negotiations()
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.consumer_pid.as_deref() == Some(consumer_pid.as_str()))
            .collect();
        assert_eq!(opened.len(), 1, "{storage:?}: {opened:#?}");
        assert_eq!(
            opened[0].provider_pid.as_deref(),
            Some(provider_pid.as_str())
        );
        let agreements = a
            .running
            .state
            .store()
            .agreements()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.negotiation_id == opened[0].id)
            .count();
        assert!(agreements <= 1, "{storage:?}: {agreements} agreements");
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_repeated_transfer_request_opens_one_transfer() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
        wait_for_state(&b, &id, "FINALIZED", T).await;
        let agreement = b
            .running
            .state
            .store()
            .negotiation(&id)
            .await
            .unwrap()
            .unwrap()
            .agreement_id
            .unwrap();
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let msg = json!({
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "TransferRequestMessage",
            "consumerPid": consumer_pid,
            "agreementId": agreement,
            "format": "HttpData-PULL",
            "callbackAddress": NOBODY
        });
        let (first, second) = tokio::join!(
            post(&b, &a, "/transfers/request", &msg),
            post(&b, &a, "/transfers/request", &msg)
        );
        let third = post(&b, &a, "/transfers/request", &msg).await;
        let answers = [first, second, third];
        for (_, body) in &answers {
            assert_valid("transfer/transfer-process-schema.json", body);
        }
        let provider_pid = one_created(&answers);
        let opened: Vec<_> = a
            .running
            .state
            .store()
            .transfers()
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.consumer_pid.as_deref() == Some(consumer_pid.as_str()))
            .collect();
        assert_eq!(opened.len(), 1, "{storage:?}: {opened:#?}");
        assert_eq!(
            opened[0].provider_pid.as_deref(),
            Some(provider_pid.as_str())
        );
        a.running.stop().await;
        b.running.stop().await;
    }
}

#[tokio::test]
async fn a_follow_up_naming_another_process_is_refused_and_not_applied() {
    for storage in Storage::all() {
        let (a, b) = city_pair(storage).await;
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let (status, ack) = post(
            &b,
            &a,
            "/negotiations/request",
            &contract_request(&consumer_pid),
        )
        .await;
        assert_eq!(status, 201, "{ack}");
        let provider_pid = ack["providerPid"].as_str().unwrap().to_string();
        let n = a
            .running
            .state
            .store()
            .negotiation(&provider_pid)
            .await
            .unwrap()
            .unwrap();
        let before = n.state.clone();
        let path = format!("/negotiations/{provider_pid}/termination");
        for (ppid, cpid, named) in [
            (
                provider_pid.as_str(),
                "urn:uuid:someone-else",
                "consumerPid urn:uuid:someone-else",
            ),
            (
                "urn:uuid:another-negotiation",
                consumer_pid.as_str(),
                "providerPid urn:uuid:another-negotiation",
            ),
        ] {
            let termination = json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "ContractNegotiationTerminationMessage",
                "providerPid": ppid, "consumerPid": cpid, "code": "1"
            });
            let (status, err) = post(&b, &a, &path, &termination).await;
            assert_eq!(status, 400, "{storage:?}: {err}");
            assert_valid("negotiation/contract-negotiation-error-schema.json", &err);
            assert!(err["reason"][0].as_str().unwrap().contains(named), "{err}");
            let now = a
                .running
                .state
                .store()
                .negotiation(&provider_pid)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                now.state, before,
                "{storage:?}: a refused message changed the state"
            );
        }
        // The same message naming the right process is applied.
        let termination = json!({
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "ContractNegotiationTerminationMessage",
            "providerPid": provider_pid, "consumerPid": consumer_pid, "code": "1"
        });
        let (status, err) = post(&b, &a, &path, &termination).await;
        assert_eq!(status, 200, "{err}");
        wait_for_state(&a, &provider_pid, "TERMINATED", T).await;

        // Transfers: a completion naming another consumer pid leaves the transfer STARTED.
        let id = start_negotiation(&b, CITY_A, TRAFFIC, TRAFFIC_OFFER, None).await;
        wait_for_state(&b, &id, "FINALIZED", T).await;
        let agreement = b
            .running
            .state
            .store()
            .negotiation(&id)
            .await
            .unwrap()
            .unwrap()
            .agreement_id
            .unwrap();
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let (status, ack) = post(
            &b,
            &a,
            "/transfers/request",
            &json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "TransferRequestMessage",
                "consumerPid": consumer_pid, "agreementId": agreement,
                "format": "HttpData-PULL", "callbackAddress": acknowledging_callback().await
            }),
        )
        .await;
        assert_eq!(status, 201, "{ack}");
        let provider_pid = ack["providerPid"].as_str().unwrap().to_string();
        wait_for_state(&a, &provider_pid, "STARTED", T).await;
        let path = format!("/transfers/{provider_pid}/completion");
        let completion = |cpid: &str| {
            json!({
                "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
                "@type": "TransferCompletionMessage",
                "providerPid": provider_pid, "consumerPid": cpid
            })
        };
        let (status, err) = post(&b, &a, &path, &completion("urn:uuid:someone-else")).await;
        assert_eq!(status, 400, "{storage:?}: {err}");
        assert_eq!(err["@type"], "TransferError", "{err}");
        assert!(
            err["reason"][0]
                .as_str()
                .unwrap()
                .contains("consumerPid urn:uuid:someone-else"),
            "{err}"
        );
        let t = a
            .running
            .state
            .store()
            .transfer(&provider_pid)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(t.state, "STARTED", "{storage:?}");
        let (status, err) = post(&b, &a, &path, &completion(&consumer_pid)).await;
        assert_eq!(status, 200, "{err}");
        wait_for_state(&a, &provider_pid, "COMPLETED", T).await;
        a.running.stop().await;
        b.running.stop().await;
    }
}

/// Regression: right after a consumer sends its `ContractRequestMessage`, a GET of the process answered 200 with an
/// empty `providerPid` and a state it had not reached. Until the provider's acknowledgement is recorded the process
/// does not exist for the partner: 404 after a bounded wait; afterwards, both pids.
#[tokio::test]
async fn a_process_is_not_shown_before_the_partner_acknowledged_it() {
    let (a, b) = city_pair(Storage::Sqlite).await;
    let a_public = a.running.public_url().to_string();
    // B's request goes nowhere for now: its outbox retries while the test asks B about the process, as A.
    b.running
        .state
        .set_partner_url(CITY_A, "http://127.0.0.1:9");
    let id = twinport::contracting::negotiation::start(
        b.running.state.contracting(),
        CITY_A,
        TRAFFIC,
        json!({"@id": TRAFFIC_OFFER, "@type": "Offer", "assigner": CITY_A, "permission": [{"action": "use"}]}),
        None,
    )
    .await
    .unwrap()
    .id;
    let get = || async {
        let token = a
            .running
            .state
            .identity()
            .token_for(twinport_e2e::CITY_B)
            .unwrap();
        let res = reqwest::Client::new()
            .get(format!("{}/negotiations/{id}", b.dsp_base()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    };
    let started = std::time::Instant::now();
    let (status, body) = get().await;
    assert_eq!(status, 404, "{body}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the GET waits about a second for the acknowledgement first"
    );
    // Once A is reachable the request is acknowledged and the process has both pids.
    b.running.state.set_partner_url(CITY_A, &a_public);
    b.running.state.outbox_signal().wake();
    let mut shown = Value::Null;
    for _ in 0..100 {
        let (status, body) = get().await;
        if status == 200 {
            shown = serde_json::from_str(&body).unwrap();
            break;
        }
    }
    assert_valid("negotiation/contract-negotiation-schema.json", &shown);
    assert_eq!(shown["consumerPid"], id.as_str(), "{shown}");
    assert!(
        shown["providerPid"]
            .as_str()
            .unwrap()
            .starts_with("urn:uuid:"),
        "{shown}"
    );
    a.running.stop().await;
    b.running.stop().await;
}
