//! The Eclipse DSP TCK's contract negotiation scenarios with Twinport as consumer (dsp-tck.md §6.4, CN_C:01-01 …
//! CN_C:03-06), one test each, with the counterparty harness as the TCK's provider (city B) serving a catalogue
//! ([`ProviderTck`]). Each test also checks what the TCK leaves out: Twinport's state by `GET
//! <cb>/negotiations/{consumerPid}` while the harness holds its acknowledgement of Twinport's message (a state
//! changes when the counterparty acknowledges it), the operator's view of that pending transition, error bodies
//! naming both pids, exact repeats, and every message body against the official schema.
//!
//! The TCK's initiate call is Twinport's operator starting a negotiation (`POST /api/v1/negotiations` for partner
//! B's offer `offer<ds>`), which reads the dataset from B's catalogue first. The TCK keys the consumer's reactions
//! by dataset; Twinport's are its own rules, so the script is what the harness's catalogue offers for the dataset
//! (what Twinport therefore requests) against the TCK's fixed offer and agreement (one `use` permission):
//! - [`Terms::Tck`], the TCK's own terms: its offer is the one requested, accepted at once (offer → accept), and
//!   its agreement verified at once (agreement → verify);
//! - [`Terms::Other`], `use` without `distribute`: the TCK's offer differs from the request and waits for the
//!   operator (offer → nothing, or the operator's accept / terminate), and its agreement differs from the offer
//!   on the table and is rejected with a termination (agreement → terminate).
//!
//! Ids are the TCK's sample ones (`CN_C_xx_yy_DATASETID=ACNCxxyy`, offers `offerACNCxxyy`): Twinport reads them
//! from the partner's catalogue and sends them back verbatim. The harness answers Twinport's request with the
//! TCK's 200 (not 201) and a `ContractNegotiation` in `REQUESTED`.

use std::time::Duration;

use serde_json::{json, Value};
use twinport_e2e::counterparty::{msg, Held, Kind, Process, Reply};
use twinport_e2e::counterparty_provider::{provider_msg, tck_rules, ProviderTck};
use twinport_e2e::Storage;

/// What the harness's catalogue offers for a TCK dataset, so what Twinport requests: see the module docs.
#[derive(Clone, Copy)]
enum Terms {
    /// The TCK's own terms (one `use` permission).
    Tck,
    /// `use`, but never `distribute`: other terms than the TCK's offer and agreement.
    Other,
}

impl Terms {
    fn offer(self) -> Value {
        match self {
            Terms::Tck => json!({"permission": tck_rules()}),
            Terms::Other => {
                json!({"permission": tck_rules(), "prohibition": [{"action": "distribute"}]})
            }
        }
    }
}

/// Starts Twinport and the harness, with `dataset` in the harness's catalogue offering `terms`.
async fn setup(storage: Storage, dataset: &str, terms: Terms) -> ProviderTck {
    let t = ProviderTck::start(storage).await;
    t.publish(dataset, &provider_msg::offer_id(dataset), terms.offer());
    t
}

/// The common opening (dsp-tck.md §6.4): the operator starts the negotiation; Twinport's initial request is
/// checked as the TCK checks it and acknowledged with the TCK's 200; a GET right after shows `REQUESTED`.
/// Returns Twinport's negotiation id (its consumerPid) and the harness's process.
async fn requested(t: &ProviderTck, dataset: &str) -> (String, Process) {
    let id = t.initiate_negotiation(dataset).await;
    let m = t.cp.expect(Kind::ContractRequest).await;
    t.assert_contract_request(&m, &id, dataset);
    let n = t.opened(&m);
    t.assert_state(&n, "REQUESTED").await;
    (id, n)
}

/// The TCK's offer for `dataset`, which Twinport must answer 2xx. Returns the body sent.
async fn send_offer(t: &ProviderTck, n: &Process, dataset: &str) -> Value {
    let offer = provider_msg::offer(n.provider_pid(), n.consumer_pid(), dataset);
    t.send(n, &offer).await.assert_success();
    offer
}

/// The TCK's offer of the terms Twinport requested: Twinport accepts at once. Its ACCEPTED is held (Twinport
/// still `OFFERED`, the operator sees the transition pending), then acknowledged: `ACCEPTED`.
async fn offered_and_accepted(t: &ProviderTck, id: &str, n: &Process, dataset: &str) -> Value {
    let mut accepted = t.cp.hold(Kind::Accepted);
    let offer = send_offer(t, n, dataset).await;
    let m = accepted.arrived().await;
    t.assert_follow_up(&m, n);
    assert_eq!(m.body["eventType"], "ACCEPTED", "{:#}", m.body);
    t.assert_state(n, "OFFERED").await;
    ProviderTck::assert_pending(
        &t.negotiation_view(id).await,
        "ContractNegotiationEventMessage",
        "ACCEPTED",
    );
    accepted.release(Reply::Ack);
    t.wait_state(n, "ACCEPTED").await;
    offer
}

/// The TCK's offer of other terms than requested: Twinport answers 2xx, shows `OFFERED` and waits for its
/// operator (it sends nothing).
async fn offered_waiting(t: &ProviderTck, id: &str, n: &Process, dataset: &str) {
    send_offer(t, n, dataset).await;
    t.assert_state(n, "OFFERED").await;
    let view = t.negotiation_view(id).await;
    assert!(
        view["waiting_for"]
            .as_str()
            .is_some_and(|w| w.contains(&format!("/api/v1/negotiations/{id}/accept"))),
        "Twinport waits for its operator: {view:#}"
    );
}

/// The TCK's agreement (id `agreement_id`): Twinport's 200 acknowledges it, so it is `AGREED` at once, and it
/// verifies the agreement. Its verification is held and returned: Twinport still shows `AGREED`, the operator sees
/// `VERIFIED` pending.
async fn agreed_verification_held(
    t: &ProviderTck,
    id: &str,
    n: &Process,
    dataset: &str,
    agreement_id: &str,
) -> Held {
    let mut verification = t.cp.hold(Kind::AgreementVerification);
    let agreement =
        provider_msg::agreement(n.provider_pid(), n.consumer_pid(), dataset, agreement_id);
    t.send(n, &agreement).await.assert_success();
    t.assert_state(n, "AGREED").await;
    let m = verification.arrived().await;
    t.assert_follow_up(&m, n);
    t.assert_state(n, "AGREED").await;
    let view = t.negotiation_view(id).await;
    ProviderTck::assert_pending(&view, "ContractAgreementVerificationMessage", "VERIFIED");
    assert_eq!(view["agreement_id"], agreement_id, "{view:#}");
    verification
}

/// [`agreed_verification_held`], then the verification acknowledged: `VERIFIED`.
async fn agreed_and_verified(t: &ProviderTck, id: &str, n: &Process, dataset: &str) {
    let agreement_id = uuid::Uuid::new_v4().to_string();
    let verification = agreed_verification_held(t, id, n, dataset, &agreement_id).await;
    verification.release(Reply::Ack);
    t.wait_state(n, "VERIFIED").await;
}

/// The TCK's FINALIZED, which Twinport must answer 2xx; then `FINALIZED` by GET. Returns the body sent.
async fn finalized(t: &ProviderTck, n: &Process) -> Value {
    let event = msg::event(n.provider_pid(), n.consumer_pid(), "FINALIZED");
    t.send(n, &event).await.assert_success();
    t.assert_state(n, "FINALIZED").await;
    event
}

/// The TCK's termination, which Twinport must answer 2xx; then `TERMINATED` by GET. Returns the body sent.
async fn terminated_by_tck(t: &ProviderTck, n: &Process) -> Value {
    let termination = msg::negotiation_termination(n.provider_pid(), n.consumer_pid());
    t.send(n, &termination).await.assert_success();
    t.assert_state(n, "TERMINATED").await;
    termination
}

/// Twinport's termination (already planned as `termination`) arrives: checked, held (Twinport still shows
/// `before`, the operator sees `TERMINATED` pending), then acknowledged: `TERMINATED`. Returns its body.
async fn terminated_by_twinport(
    t: &ProviderTck,
    id: &str,
    n: &Process,
    mut termination: Held,
    before: &str,
) -> Value {
    let m = termination.arrived().await;
    t.assert_follow_up(&m, n);
    assert!(m.body["code"].is_string(), "{:#}", m.body);
    t.assert_state(n, before).await;
    ProviderTck::assert_pending(
        &t.negotiation_view(id).await,
        "ContractNegotiationTerminationMessage",
        "TERMINATED",
    );
    termination.release(Reply::Ack);
    t.wait_state(n, "TERMINATED").await;
    m.body
}

/// CN_C:01-01 [ACNC0101]: offer, consumer accepted, provider agreed, consumer verified, provider finalized.
/// Also: Twinport's request held (its process is not shown before the harness's pid is known: the GET waits about
/// a second, then 404); the FINALIZED sent while Twinport's verification is still unacknowledged, with the
/// acknowledgement coming late but within the bounded wait (accepted); an exact repeat of FINALIZED (200, nothing
/// changes) and the same content with a new `@id` (judged: refused, the negotiation is final).
#[tokio::test]
async fn cn_c_01_01_offer_accepted_agreed_verified_finalized() {
    for storage in Storage::all() {
        let ds = "ACNC0101";
        let t = setup(storage, ds, Terms::Tck).await;
        let mut request = t.cp.hold(Kind::ContractRequest);
        let id = t.initiate_negotiation(ds).await;
        let m = request.arrived().await;
        t.assert_contract_request(&m, &id, ds);
        let hidden = t.get(&format!("/negotiations/{id}")).await;
        assert_eq!(
            hidden.status, 404,
            "not shown before the provider's pid is known: {:#}",
            hidden.body
        );
        assert!(
            hidden.elapsed >= Duration::from_millis(500),
            "the GET waited for the acknowledgement in flight: {:?}",
            hidden.elapsed
        );
        request.release(Reply::Ack);
        let n = t.opened(&m);
        t.assert_state(&n, "REQUESTED").await;

        offered_and_accepted(&t, &id, &n, ds).await;
        let agreement_id = uuid::Uuid::new_v4().to_string();
        let verification = agreed_verification_held(&t, &id, &n, ds, &agreement_id).await;
        // The TCK finalizes as soon as it has processed the verification; here its acknowledgement reaches
        // Twinport 300 ms after the FINALIZED, within the wait Twinport allows a message legal only after it.
        verification.release(Reply::Late(
            Duration::from_millis(300),
            Box::new(Reply::Ack),
        ));
        let event = msg::event(n.provider_pid(), n.consumer_pid(), "FINALIZED");
        let answer = t.send(&n, &event).await;
        answer.assert_success();
        assert!(
            answer.elapsed < Duration::from_secs(3),
            "{:?}",
            answer.elapsed
        );
        t.assert_state(&n, "FINALIZED").await;

        t.send(&n, &event).await.assert_success();
        t.assert_state(&n, "FINALIZED").await;
        t.send(&n, &provider_msg::again(&event))
            .await
            .assert_refused(&n);
        t.assert_state(&n, "FINALIZED").await;
        let view = t.negotiation_view(&id).await;
        assert_eq!(view["state"], "FINALIZED", "{view:#}");
        assert_eq!(view["agreement_id"], agreement_id.as_str(), "{view:#}");
        assert!(view.get("pending").is_none_or(Value::is_null), "{view:#}");
        t.finish().await;
    }
}

/// CN_C:01-02 [ACNC0102]: offer, consumer counter-offer, provider terminated. The TCK's offer differs from what
/// Twinport requested, so Twinport waits for its operator, who counters with other terms
/// (`POST /api/v1/negotiations/{id}/counter`): a counter `ContractRequestMessage` to
/// `<provider>/negotiations/{providerPid}/request`, without `callbackAddress`, REQUESTED once acknowledged.
#[tokio::test]
async fn cn_c_01_02_offer_consumer_counter_offer_provider_terminated() {
    for storage in Storage::all() {
        let ds = "ACNC0102";
        let t = setup(storage, ds, Terms::Other).await;
        let (id, n) = requested(&t, ds).await;
        offered_waiting(&t, &id, &n, ds).await;
        let mut counter = t.cp.hold(Kind::ContractRequest);
        t.operator_with(
            &format!("negotiations/{id}/counter"),
            json!({"terms": {"permission": [{"action": "use"}]}}),
        )
        .await;
        let m = counter.arrived().await;
        t.assert_follow_up(&m, &n);
        assert!(m.body.get("callbackAddress").is_none(), "{:#}", m.body);
        t.assert_state(&n, "OFFERED").await;
        counter.release(Reply::Ack);
        t.wait_state(&n, "REQUESTED").await;
        terminated_by_tck(&t, &n).await;
        t.finish().await;
    }
}

/// CN_C:01-03 [ACNC0103]: offer received, consumer terminated. The TCK's offer differs from what Twinport
/// requested, so Twinport waits for its operator, who terminates.
#[tokio::test]
async fn cn_c_01_03_offer_received_consumer_terminated() {
    for storage in Storage::all() {
        let ds = "ACNC0103";
        let t = setup(storage, ds, Terms::Other).await;
        let (id, n) = requested(&t, ds).await;
        offered_waiting(&t, &id, &n, ds).await;
        let termination = t.cp.hold(Kind::NegotiationTermination);
        t.operator(&format!("negotiations/{id}/terminate")).await;
        terminated_by_twinport(&t, &id, &n, termination, "OFFERED").await;
        t.finish().await;
    }
}

/// CN_C:01-04 [ACNC0104]: provider agreement, consumer verified, provider finalized. The agreement comes straight
/// after the request, on the terms Twinport requested.
#[tokio::test]
async fn cn_c_01_04_agreement_verified_finalized() {
    for storage in Storage::all() {
        let ds = "ACNC0104";
        let t = setup(storage, ds, Terms::Tck).await;
        let (id, n) = requested(&t, ds).await;
        agreed_and_verified(&t, &id, &n, ds).await;
        finalized(&t, &n).await;
        t.finish().await;
    }
}

/// CN_C:02-01 [ACNC0201]: provider terminated, in `REQUESTED`. Also: the exact termination again (200, nothing
/// changes) and the same content with a new `@id` (refused: the negotiation is final; still 400, not 404).
#[tokio::test]
async fn cn_c_02_01_provider_terminated() {
    for storage in Storage::all() {
        let ds = "ACNC0201";
        let t = setup(storage, ds, Terms::Tck).await;
        let (_, n) = requested(&t, ds).await;
        let termination = terminated_by_tck(&t, &n).await;
        t.send(&n, &termination).await.assert_success();
        t.assert_state(&n, "TERMINATED").await;
        t.send(&n, &provider_msg::again(&termination))
            .await
            .assert_refused(&n);
        t.assert_state(&n, "TERMINATED").await;
        t.finish().await;
    }
}

/// CN_C:02-02 [ACNC0202]: consumer terminated right after its request was acknowledged. The TCK arms its
/// termination handler only after it has seen `REQUESTED`: the first delivery gets 404 and Twinport must retry;
/// the retry is held (Twinport still `REQUESTED`), then acknowledged.
#[tokio::test]
async fn cn_c_02_02_consumer_terminated() {
    for storage in Storage::all() {
        let ds = "ACNC0202";
        let t = setup(storage, ds, Terms::Tck).await;
        let (id, n) = requested(&t, ds).await;
        t.cp.answer(Kind::NegotiationTermination, Reply::NotFound);
        let termination = t.cp.hold(Kind::NegotiationTermination);
        t.operator(&format!("negotiations/{id}/terminate")).await;
        let body = terminated_by_twinport(&t, &id, &n, termination, "REQUESTED").await;
        let deliveries: Vec<_> =
            t.cp.received()
                .into_iter()
                .filter(|r| r.kind == Some(Kind::NegotiationTermination))
                .collect();
        assert_eq!(deliveries.len(), 2, "one 404, one retry: {deliveries:#?}");
        assert_eq!(deliveries[0].body, body, "the retry is the same message");
        t.finish().await;
    }
}

/// CN_C:02-03 [ACNC0203]: provider agreement, consumer terminated. The TCK's agreement (one `use` permission)
/// differs from the terms Twinport requested, so Twinport acknowledges it (`AGREED`), rejects it and terminates
/// with `agreement-rejected`; it stores no agreement.
#[tokio::test]
async fn cn_c_02_03_agreement_consumer_terminated() {
    for storage in Storage::all() {
        let ds = "ACNC0203";
        let t = setup(storage, ds, Terms::Other).await;
        let (id, n) = requested(&t, ds).await;
        let termination = t.cp.hold(Kind::NegotiationTermination);
        let agreement_id = uuid::Uuid::new_v4().to_string();
        t.send(
            &n,
            &provider_msg::agreement(n.provider_pid(), n.consumer_pid(), ds, &agreement_id),
        )
        .await
        .assert_success();
        let body = terminated_by_twinport(&t, &id, &n, termination, "AGREED").await;
        assert_eq!(body["code"], "agreement-rejected", "{body:#}");
        assert!(
            body["reason"].to_string().contains("terms differ"),
            "the reason names the problem: {body:#}"
        );
        let r = t
            .cut
            .management(
                reqwest::Method::GET,
                &format!("/api/v1/agreements/{agreement_id}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "a rejected agreement is not stored");
        t.finish().await;
    }
}

/// CN_C:02-04 [ACNC0204]: offer received, provider terminated. Twinport does nothing with an offer other than
/// its request (it waits for its operator).
#[tokio::test]
async fn cn_c_02_04_offer_received_provider_terminated() {
    for storage in Storage::all() {
        let ds = "ACNC0204";
        let t = setup(storage, ds, Terms::Other).await;
        let (id, n) = requested(&t, ds).await;
        offered_waiting(&t, &id, &n, ds).await;
        terminated_by_tck(&t, &n).await;
        t.finish().await;
    }
}

/// CN_C:02-05 [ACNC0205]: offer, consumer accepted, provider terminated (from `ACCEPTED`).
#[tokio::test]
async fn cn_c_02_05_offer_accepted_provider_terminated() {
    for storage in Storage::all() {
        let ds = "ACNC0205";
        let t = setup(storage, ds, Terms::Tck).await;
        let (id, n) = requested(&t, ds).await;
        offered_and_accepted(&t, &id, &n, ds).await;
        terminated_by_tck(&t, &n).await;
        t.finish().await;
    }
}

/// CN_C:02-06 [ACNC0206]: provider agreement, consumer verified, provider terminated (from `VERIFIED`).
#[tokio::test]
async fn cn_c_02_06_agreement_verified_provider_terminated() {
    for storage in Storage::all() {
        let ds = "ACNC0206";
        let t = setup(storage, ds, Terms::Tck).await;
        let (id, n) = requested(&t, ds).await;
        agreed_and_verified(&t, &id, &n, ds).await;
        terminated_by_tck(&t, &n).await;
        t.finish().await;
    }
}

/// CN_C:03-01 [ACNC0301]: invalid provider finalized, in `REQUESTED`: 4xx (not 404) with both pids, state kept.
#[tokio::test]
async fn cn_c_03_01_invalid_provider_finalized() {
    for storage in Storage::all() {
        let ds = "ACNC0301";
        let t = setup(storage, ds, Terms::Tck).await;
        let (_, n) = requested(&t, ds).await;
        t.send(
            &n,
            &msg::event(n.provider_pid(), n.consumer_pid(), "FINALIZED"),
        )
        .await
        .assert_refused(&n);
        t.assert_state(&n, "REQUESTED").await;
        t.finish().await;
    }
}

/// CN_C:03-02 [ACNC0302]: offer received, invalid provider agreed (an agreement in `OFFERED`): refused, state
/// kept.
#[tokio::test]
async fn cn_c_03_02_offer_received_invalid_provider_agreed() {
    for storage in Storage::all() {
        let ds = "ACNC0302";
        let t = setup(storage, ds, Terms::Other).await;
        let (id, n) = requested(&t, ds).await;
        offered_waiting(&t, &id, &n, ds).await;
        let agreement_id = uuid::Uuid::new_v4().to_string();
        t.send(
            &n,
            &provider_msg::agreement(n.provider_pid(), n.consumer_pid(), ds, &agreement_id),
        )
        .await
        .assert_refused(&n);
        t.assert_state(&n, "OFFERED").await;
        t.finish().await;
    }
}

/// CN_C:03-03 [ACNC0303]: offer received, invalid provider finalized (in `OFFERED`): refused, state kept.
#[tokio::test]
async fn cn_c_03_03_offer_received_invalid_provider_finalized() {
    for storage in Storage::all() {
        let ds = "ACNC0303";
        let t = setup(storage, ds, Terms::Other).await;
        let (id, n) = requested(&t, ds).await;
        offered_waiting(&t, &id, &n, ds).await;
        t.send(
            &n,
            &msg::event(n.provider_pid(), n.consumer_pid(), "FINALIZED"),
        )
        .await
        .assert_refused(&n);
        t.assert_state(&n, "OFFERED").await;
        t.finish().await;
    }
}

/// CN_C:03-04 [ACNC0304]: offer, consumer accepted, invalid provider finalized (in `ACCEPTED`): refused, state
/// kept.
#[tokio::test]
async fn cn_c_03_04_offer_accepted_invalid_provider_finalized() {
    for storage in Storage::all() {
        let ds = "ACNC0304";
        let t = setup(storage, ds, Terms::Tck).await;
        let (id, n) = requested(&t, ds).await;
        offered_and_accepted(&t, &id, &n, ds).await;
        t.send(
            &n,
            &msg::event(n.provider_pid(), n.consumer_pid(), "FINALIZED"),
        )
        .await
        .assert_refused(&n);
        t.assert_state(&n, "ACCEPTED").await;
        t.finish().await;
    }
}

/// CN_C:03-05 [ACNC0305]: offer, consumer accepted, invalid provider offer (a second offer in `ACCEPTED`):
/// refused, state kept. Also: the first offer delivered again exactly is answered 200 and changes nothing (no
/// second ACCEPTED).
#[tokio::test]
async fn cn_c_03_05_offer_accepted_invalid_provider_offer() {
    for storage in Storage::all() {
        let ds = "ACNC0305";
        let t = setup(storage, ds, Terms::Tck).await;
        let (id, n) = requested(&t, ds).await;
        let offer = offered_and_accepted(&t, &id, &n, ds).await;
        t.send(&n, &offer).await.assert_success();
        t.assert_state(&n, "ACCEPTED").await;
        t.send(&n, &provider_msg::again(&offer))
            .await
            .assert_refused(&n);
        t.assert_state(&n, "ACCEPTED").await;
        t.finish().await;
    }
}

/// CN_C:03-06 [ACNC0306]: offer, consumer accepted, provider agreed, invalid provider finalized (in `AGREED`).
/// The TCK's script has the consumer not verify; Twinport always verifies a valid agreement at once, so here its
/// verification is sent but its acknowledgement held: Twinport stays `AGREED`, and FINALIZED, legal only once the
/// verification is acknowledged, is refused after a bounded wait of about a second, with both pids. Released
/// afterwards, the verification moves Twinport to `VERIFIED`.
#[tokio::test]
async fn cn_c_03_06_offer_accepted_agreed_invalid_provider_finalized() {
    for storage in Storage::all() {
        let ds = "ACNC0306";
        let t = setup(storage, ds, Terms::Tck).await;
        let (id, n) = requested(&t, ds).await;
        offered_and_accepted(&t, &id, &n, ds).await;
        let agreement_id = uuid::Uuid::new_v4().to_string();
        let verification = agreed_verification_held(&t, &id, &n, ds, &agreement_id).await;
        let answer = t
            .send(
                &n,
                &msg::event(n.provider_pid(), n.consumer_pid(), "FINALIZED"),
            )
            .await;
        answer.assert_refused(&n);
        assert!(
            answer.elapsed >= Duration::from_millis(500) && answer.elapsed < Duration::from_secs(5),
            "refused after the bounded wait for the verification's acknowledgement: {:?}",
            answer.elapsed
        );
        t.assert_state(&n, "AGREED").await;
        verification.release(Reply::Ack);
        t.wait_state(&n, "VERIFIED").await;
        t.finish().await;
    }
}
