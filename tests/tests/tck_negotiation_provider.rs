//! The Eclipse DSP TCK's contract negotiation scenarios with Twinport as provider (dsp-tck.md §6.3, CN:01-01 …
//! CN:03-04), one test each, played by the counterparty harness as the TCK's consumer. Each test also checks what
//! the TCK leaves out: Twinport's state by GET while the harness holds its acknowledgement of Twinport's message
//! (a state changes when the counterparty acknowledges), error bodies naming both pids, and every message body
//! against the official schema.
//!
//! The TCK keys the provider's reactions by offer and dataset id; here they are Twinport's own configuration,
//! set through its management API by [`scripted`]: an offer whose rules equal the TCK's request (`use`) is
//! agreed at once, one with other rules is answered with a counter-offer, a policy that needs a purpose (the TCK
//! declares none) terminates at the decision, manual approval makes Twinport wait (do nothing), and the
//! operator's terminate ends a negotiation when the script says the provider terminates without a decision.
//!
//! Ids: the TCK's sample offer ids (`CD123:ACN0101:456`, …) are valid IRIs and used as they are; Twinport's
//! dataset ids must be absolute IRIs, so the datasets are `urn:tck:ACN0101`, … (set `CN_xx_yy_DATASETID`
//! accordingly in a real TCK run).

use std::time::Duration;

use serde_json::{json, Value};
use twinport_e2e::counterparty::{msg, Held, Kind, Process, Received, Reply, Tck};
use twinport_e2e::{Storage, CITY_A, CITY_B};

/// Rules other than the TCK's single `use` permission, which Twinport permits: answered with a counter-offer.
const COUNTER: &str = "tck-counter";
/// The sample policy with plain `use`: the same rules as the TCK's request.
const SAME: &str = "partner-use";
/// The sample policy that needs a declared purpose: other rules than the TCK's, and refused at the decision.
const REFUSED: &str = "research-only";

/// Twinport's script for a TCK dataset (dsp-tck.md §6.3, "CUT script"): the policy of its offer and its approval.
fn script(id: &str) -> (&'static str, &'static str) {
    match id {
        // request → offer; then whatever the consumer does is agreed (accepted → agreement).
        "ACN0101" | "ACN0103" | "ACN0204" | "ACN0205" | "ACN0302" => (COUNTER, "auto"),
        // request → offer; accepted / counter-request → do nothing (waits for an approval that never comes).
        "ACN0303" | "ACN0304" => (COUNTER, "manual"),
        // request → offer; accepted / counter-request → terminate (the policy refuses).
        "ACN0102" | "ACN0206" => (REFUSED, "auto"),
        // request → agreement.
        "ACN0104" | "ACN0203" | "ACN0207" | "ACN0301" => (SAME, "auto"),
        // request → nothing (the operator may terminate).
        "ACN0201" | "ACN0202" => (SAME, "manual"),
        other => panic!("no script for {other}"),
    }
}

/// A TCK dataset published in Twinport, and the offer the TCK requests for it.
struct Dataset {
    id: String,
    offer_id: String,
}

impl Dataset {
    /// The TCK's offer in its initial request.
    fn tck_offer(&self) -> Value {
        msg::tck_offer(&self.offer_id, &self.id)
    }
}

/// Starts Twinport and publishes the TCK dataset `id` scripted as [`script`] says.
async fn scripted(storage: Storage, id: &str) -> (Tck, Dataset) {
    let tck = Tck::start(storage).await;
    let (policy, approval) = script(id);
    if policy == COUNTER {
        tck.store_policy(
            COUNTER,
            json!({"permission": [{"action": "use"}], "prohibition": [{"action": "distribute"}]}),
        )
        .await;
    }
    let dataset = Dataset {
        id: format!("urn:tck:{id}"),
        offer_id: format!("CD123:{id}:456"),
    };
    tck.publish(&dataset.id, &dataset.offer_id, policy, approval)
        .await;
    (tck, dataset)
}

/// Checks Twinport's counter-offer as the TCK does: a follow-up (both pids, no `callbackAddress`) whose offer has
/// an `@id`, `@type` `Offer`, the dataset as `target` and a permission. Returns the offer.
fn assert_counter_offer(m: &Received, n: &Process, dataset: &Dataset) -> Value {
    assert_eq!(m.path, format!("/negotiations/{}/offers", n.our_pid));
    assert_eq!(m.body["consumerPid"], n.consumer_pid(), "{:#}", m.body);
    assert_eq!(m.body["providerPid"], n.provider_pid(), "{:#}", m.body);
    assert!(m.body.get("callbackAddress").is_none(), "{:#}", m.body);
    let offer = &m.body["offer"];
    assert!(offer["@id"].is_string(), "{offer:#}");
    assert_eq!(offer["@type"], "Offer", "{offer:#}");
    assert_eq!(offer["target"], dataset.id.as_str(), "{offer:#}");
    assert!(
        !offer["permission"]
            .as_array()
            .expect("permission")
            .is_empty(),
        "{offer:#}"
    );
    offer.clone()
}

/// Checks Twinport's agreement: the negotiated dataset, Twinport as assigner, the harness (city B) as assignee.
fn assert_agreement(m: &Received, n: &Process, dataset: &Dataset) {
    assert_eq!(m.path, format!("/negotiations/{}/agreement", n.our_pid));
    let a = &m.body["agreement"];
    assert_eq!(a["@type"], "Agreement", "{a:#}");
    assert_eq!(a["target"], dataset.id.as_str(), "{a:#}");
    assert_eq!(a["assigner"], CITY_A, "{a:#}");
    assert_eq!(a["assignee"], CITY_B, "{a:#}");
}

/// The harness's counter-request for `offer` (the one Twinport offered): the TCK's counter-request shape
/// (dsp-tck.md §7), carrying the rules of Twinport's offer. The TCK itself repeats its plain `use` permission;
/// Twinport answers a request whose rules differ from its offer with another counter-offer at once, so the
/// TCK's literal message could never reach the scripted reactions (terminate, do nothing) of CN:01-02 and
/// CN:03-04.
fn counter_request(n: &Process, offer: &Value, dataset: &Dataset) -> Value {
    let mut offer = offer.clone();
    offer["@id"] = json!(dataset.offer_id);
    offer["target"] = json!(dataset.id);
    offer["assignee"] = json!(CITY_B);
    if let Some(o) = offer.as_object_mut() {
        o.remove("assigner");
    }
    msg::counter_request(n.provider_pid(), n.consumer_pid(), offer)
}

/// The opening the counter-offer scenarios share: request, Twinport's counter-offer held (Twinport still shows
/// `REQUESTED`), then acknowledged (`OFFERED`). Returns the process and Twinport's offer.
async fn offered(tck: &Tck, dataset: &Dataset) -> (Process, Value) {
    let mut offer = tck.cp.hold(Kind::ContractOffer);
    let n = tck.request_negotiation(dataset.tck_offer()).await;
    let m = offer.arrived().await;
    let offered = assert_counter_offer(&m, &n, dataset);
    tck.assert_state(&n, "REQUESTED").await;
    offer.release(Reply::Ack);
    tck.wait_state(&n, "OFFERED").await;
    (n, offered)
}

/// The opening the agreement scenarios share: request, Twinport's agreement held (still `REQUESTED`), then
/// acknowledged with the TCK's empty 200 (`AGREED`).
async fn agreed(tck: &Tck, dataset: &Dataset) -> Process {
    let mut agreement = tck.cp.hold(Kind::ContractAgreement);
    let n = tck.request_negotiation(dataset.tck_offer()).await;
    let m = agreement.arrived().await;
    assert_agreement(&m, &n, dataset);
    tck.assert_state(&n, "REQUESTED").await;
    agreement.release(Reply::Empty);
    tck.wait_state(&n, "AGREED").await;
    n
}

/// The verification of an agreed negotiation and Twinport's FINALIZED, held (`VERIFIED`), then acknowledged.
async fn verified_and_finalized(tck: &Tck, n: &Process) {
    let mut finalized = tck.cp.hold(Kind::Finalized);
    tck.send(n, &msg::verification(n.provider_pid(), n.consumer_pid()))
        .await
        .assert_success();
    let m = finalized.arrived().await;
    assert_eq!(m.path, format!("/negotiations/{}/events", n.our_pid));
    tck.assert_state(n, "VERIFIED").await;
    finalized.release(Reply::Empty);
    tck.wait_state(n, "FINALIZED").await;
}

/// Twinport's termination, held (Twinport still shows `before`), then acknowledged with `reply` (the TCK answers
/// with its `ContractNegotiation` or an empty 200, depending on the scenario): `TERMINATED`. Returns it.
async fn terminated_by_twinport(
    tck: &Tck,
    n: &Process,
    mut termination: Held,
    before: &str,
    reply: Reply,
) -> Received {
    let m = termination.arrived().await;
    assert_eq!(m.path, format!("/negotiations/{}/termination", n.our_pid));
    tck.assert_state(n, before).await;
    termination.release(reply);
    tck.wait_state(n, "TERMINATED").await;
    m
}

/// CN:01-01 [ACN0101]: contract request, offer received, consumer terminated.
#[tokio::test]
async fn cn_01_01_offer_received_consumer_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0101").await;
        let (n, _) = offered(&tck, &dataset).await;
        tck.send(
            &n,
            &msg::negotiation_termination(n.provider_pid(), n.consumer_pid()),
        )
        .await
        .assert_success();
        tck.assert_state(&n, "TERMINATED").await;
        tck.finish().await;
    }
}

/// CN:01-02 [ACN0102]: offer received, consumer counter-offer, provider terminated. The counter-request carries
/// the rules of Twinport's offer (see [`counter_request`]); Twinport's policy then refuses (no purpose declared).
#[tokio::test]
async fn cn_01_02_consumer_counter_offer_provider_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0102").await;
        let (n, offer) = offered(&tck, &dataset).await;
        let termination = tck.cp.hold(Kind::NegotiationTermination);
        tck.send(&n, &counter_request(&n, &offer, &dataset))
            .await
            .assert_success();
        let m = terminated_by_twinport(&tck, &n, termination, "REQUESTED", Reply::Ack).await;
        assert_eq!(m.body["code"], "policy-denied", "{:#}", m.body);
        tck.finish().await;
    }
}

/// CN:01-03 [ACN0103]: offer, consumer accepted, provider agreement, consumer verified, provider finalized. The
/// verification is sent while the harness still holds its acknowledgement of the agreement and the hold is
/// released within Twinport's bounded wait (about a second): Twinport must accept it.
#[tokio::test]
async fn cn_01_03_accepted_agreed_verified_finalized() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0103").await;
        let (n, _) = offered(&tck, &dataset).await;
        let mut agreement = tck.cp.hold(Kind::ContractAgreement);
        tck.send(
            &n,
            &msg::event(n.provider_pid(), n.consumer_pid(), "ACCEPTED"),
        )
        .await
        .assert_success();
        let m = agreement.arrived().await;
        assert_agreement(&m, &n, &dataset);
        tck.assert_state(&n, "ACCEPTED").await;
        let mut finalized = tck.cp.hold(Kind::Finalized);
        let verification = msg::verification(n.provider_pid(), n.consumer_pid());
        let (verification, ()) = tokio::join!(tck.send(&n, &verification), async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            agreement.release(Reply::Empty);
        });
        verification.assert_success();
        assert!(
            verification.elapsed >= Duration::from_millis(250),
            "Twinport answered the verification after {:?}, before the harness acknowledged its agreement: \
             it must wait for that acknowledgement (AGREED) first",
            verification.elapsed
        );
        finalized.arrived().await;
        tck.assert_state(&n, "VERIFIED").await;
        finalized.release(Reply::Empty);
        tck.wait_state(&n, "FINALIZED").await;
        tck.finish().await;
    }
}

/// CN:01-04 [ACN0104]: provider agreement, consumer verified, provider finalized. A verification sent while the
/// harness holds its acknowledgement of the agreement (and keeps holding it) is refused with 400 after Twinport's
/// bounded wait of about a second, and changes nothing; once the agreement is acknowledged it is accepted.
#[tokio::test]
async fn cn_01_04_agreed_verified_finalized() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0104").await;
        let mut agreement = tck.cp.hold(Kind::ContractAgreement);
        let n = tck.request_negotiation(dataset.tck_offer()).await;
        let m = agreement.arrived().await;
        assert_agreement(&m, &n, &dataset);
        tck.assert_state(&n, "REQUESTED").await;
        let early = tck
            .send(&n, &msg::verification(n.provider_pid(), n.consumer_pid()))
            .await;
        early.assert_refused(&n);
        assert!(
            early.elapsed >= Duration::from_millis(800) && early.elapsed < Duration::from_secs(5),
            "refused after a bounded wait of about a second, not {:?}",
            early.elapsed
        );
        tck.assert_state(&n, "REQUESTED").await;
        agreement.release(Reply::Empty);
        tck.wait_state(&n, "AGREED").await;
        verified_and_finalized(&tck, &n).await;
        tck.finish().await;
    }
}

/// CN:02-01 [ACN0201]: provider terminated. Twinport waits for manual approval and its operator terminates
/// instead (an automatic termination of a request with the offer's own rules would need a local Rego rule).
#[tokio::test]
async fn cn_02_01_provider_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0201").await;
        let n = tck.request_negotiation(dataset.tck_offer()).await;
        let termination = tck.cp.hold(Kind::NegotiationTermination);
        tck.operator(&format!("negotiations/{}/terminate", n.cut_pid()))
            .await;
        terminated_by_twinport(&tck, &n, termination, "REQUESTED", Reply::Empty).await;
        tck.finish().await;
    }
}

/// CN:02-02 [ACN0202]: consumer terminated while Twinport does nothing (it waits for manual approval).
#[tokio::test]
async fn cn_02_02_consumer_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0202").await;
        let n = tck.request_negotiation(dataset.tck_offer()).await;
        tck.send(
            &n,
            &msg::negotiation_termination(n.provider_pid(), n.consumer_pid()),
        )
        .await
        .assert_success();
        tck.assert_state(&n, "TERMINATED").await;
        tck.finish().await;
    }
}

/// CN:02-03 [ACN0203]: provider agreement, consumer terminated.
#[tokio::test]
async fn cn_02_03_agreed_consumer_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0203").await;
        let n = agreed(&tck, &dataset).await;
        tck.send(
            &n,
            &msg::negotiation_termination(n.provider_pid(), n.consumer_pid()),
        )
        .await
        .assert_success();
        tck.assert_state(&n, "TERMINATED").await;
        tck.finish().await;
    }
}

/// CN:02-04 [ACN0204]: offer received, consumer terminated; as CN:01-01, except that the harness's first
/// acknowledgement of the offer is lost (the connection closes after the harness applied the offer): Twinport
/// must deliver the offer again, the harness answers the copy without a second transition, and only then is
/// Twinport `OFFERED`.
#[tokio::test]
async fn cn_02_04_offer_received_consumer_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0204").await;
        tck.cp.answer(Kind::ContractOffer, Reply::Drop);
        let n = tck.request_negotiation(dataset.tck_offer()).await;
        let m = tck.cp.expect(Kind::ContractOffer).await;
        assert_counter_offer(&m, &n, &dataset);
        tck.cp.expect_repeat(&m.body).await;
        tck.wait_state(&n, "OFFERED").await;
        tck.send(
            &n,
            &msg::negotiation_termination(n.provider_pid(), n.consumer_pid()),
        )
        .await
        .assert_success();
        tck.assert_state(&n, "TERMINATED").await;
        tck.finish().await;
    }
}

/// CN:02-05 [ACN0205]: offer received, provider terminated. The TCK arms its termination handler only once it
/// saw `OFFERED`, so Twinport's first delivery gets 404 and must be retried. Twinport terminates by its
/// operator's action (its offer would otherwise wait for the consumer).
#[tokio::test]
async fn cn_02_05_offer_received_provider_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0205").await;
        let (n, _) = offered(&tck, &dataset).await;
        tck.cp.answer(Kind::NegotiationTermination, Reply::NotFound);
        let termination = tck.cp.hold(Kind::NegotiationTermination);
        tck.operator(&format!("negotiations/{}/terminate", n.cut_pid()))
            .await;
        terminated_by_twinport(&tck, &n, termination, "OFFERED", Reply::Ack).await;
        tck.finish().await;
    }
}

/// CN:02-06 [ACN0206]: offer, consumer accepted, provider terminated (Twinport's policy refuses at the decision);
/// the harness acknowledges the termination late.
#[tokio::test]
async fn cn_02_06_accepted_provider_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0206").await;
        let (n, _) = offered(&tck, &dataset).await;
        let termination = tck.cp.hold(Kind::NegotiationTermination);
        tck.send(
            &n,
            &msg::event(n.provider_pid(), n.consumer_pid(), "ACCEPTED"),
        )
        .await
        .assert_success();
        // Answered late: Twinport stays ACCEPTED until the answer arrives.
        let late = Reply::Late(Duration::from_millis(200), Box::new(Reply::Ack));
        let m = terminated_by_twinport(&tck, &n, termination, "ACCEPTED", late).await;
        assert_eq!(m.body["code"], "policy-denied", "{:#}", m.body);
        tck.finish().await;
    }
}

/// CN:02-07 [ACN0207]: provider agreement, consumer verified, provider terminated.
///
/// Scripted by configuration: a provider with `[contracts] require_countersignature = true` finalizes only
/// agreements the consumer countersigned. The TCK signs nothing, so Twinport accepts its verification (VERIFIED)
/// and then terminates with code `countersignature-required`.
#[tokio::test]
async fn cn_02_07_verified_provider_terminated() {
    for storage in Storage::all() {
        let tck = Tck::start_with(storage, |config| {
            config.contracts.require_countersignature = true;
        })
        .await;
        let (policy, approval) = script("ACN0207");
        let dataset = Dataset {
            id: "urn:tck:ACN0207".into(),
            offer_id: "CD123:ACN0207:456".into(),
        };
        tck.publish(&dataset.id, &dataset.offer_id, policy, approval)
            .await;
        let n = agreed(&tck, &dataset).await;
        let termination = tck.cp.hold(Kind::NegotiationTermination);
        tck.send(&n, &msg::verification(n.provider_pid(), n.consumer_pid()))
            .await
            .assert_success();
        let m = terminated_by_twinport(&tck, &n, termination, "VERIFIED", Reply::Ack).await;
        assert_eq!(m.body["code"], "countersignature-required", "{:#}", m.body);
        tck.finish().await;
    }
}

/// CN:03-01 [ACN0301]: agreement, verified, finalized, then an invalid consumer termination: refused (4xx, not
/// 404: the finalized record is kept) with a `ContractNegotiationError` naming both pids; still `FINALIZED`.
#[tokio::test]
async fn cn_03_01_finalized_then_invalid_consumer_terminated() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0301").await;
        let n = agreed(&tck, &dataset).await;
        verified_and_finalized(&tck, &n).await;
        tck.send(
            &n,
            &msg::negotiation_termination(n.provider_pid(), n.consumer_pid()),
        )
        .await
        .assert_refused(&n);
        tck.assert_state(&n, "FINALIZED").await;
        tck.finish().await;
    }
}

/// CN:03-02 [ACN0302]: offer received, then an invalid consumer verification: refused; still `OFFERED`.
#[tokio::test]
async fn cn_03_02_offered_then_invalid_consumer_verified() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0302").await;
        let (n, _) = offered(&tck, &dataset).await;
        tck.send(&n, &msg::verification(n.provider_pid(), n.consumer_pid()))
            .await
            .assert_refused(&n);
        tck.assert_state(&n, "OFFERED").await;
        tck.finish().await;
    }
}

/// CN:03-03 [ACN0303]: offer, consumer accepted (Twinport waits for manual approval: does nothing), then an
/// illegal consumer verification: refused; still `ACCEPTED`.
#[tokio::test]
async fn cn_03_03_accepted_then_illegal_consumer_verified() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0303").await;
        let (n, _) = offered(&tck, &dataset).await;
        tck.send(
            &n,
            &msg::event(n.provider_pid(), n.consumer_pid(), "ACCEPTED"),
        )
        .await
        .assert_success();
        tck.assert_state(&n, "ACCEPTED").await;
        tck.send(&n, &msg::verification(n.provider_pid(), n.consumer_pid()))
            .await
            .assert_refused(&n);
        tck.assert_state(&n, "ACCEPTED").await;
        tck.finish().await;
    }
}

/// CN:03-04 [ACN0304]: offer, consumer counter-offer twice. The first counter-request is accepted (`REQUESTED`;
/// Twinport waits for manual approval). The exact same message again (same `@id`: the TCK retries a message
/// whose answer it did not like) is a repeat: 200 and no transition. The same counter-request as a new message
/// (new `@id`, as the TCK builds it) is `REQUESTED`→`REQUESTED`: refused. Still `REQUESTED`.
#[tokio::test]
async fn cn_03_04_second_counter_request_refused() {
    for storage in Storage::all() {
        let (tck, dataset) = scripted(storage, "ACN0304").await;
        let (n, offer) = offered(&tck, &dataset).await;
        let counter = counter_request(&n, &offer, &dataset);
        tck.send(&n, &counter).await.assert_success();
        tck.assert_state(&n, "REQUESTED").await;
        let repeat = tck.send(&n, &counter).await;
        assert_eq!(
            repeat.status, 200,
            "an exact repeat is answered 200: {:#}",
            repeat.body
        );
        tck.assert_state(&n, "REQUESTED").await;
        let mut again = counter.clone();
        again["@id"] = json!(uuid::Uuid::new_v4().to_string());
        tck.send(&n, &again).await.assert_refused(&n);
        tck.assert_state(&n, "REQUESTED").await;
        tck.finish().await;
    }
}
