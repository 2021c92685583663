//! The counterparty harness ([`crate::counterparty`]) as the TCK's **provider**, for the consumer-side scenarios
//! (CN_C, TP_C in dsp-tck.md §6.4 and §6.6): Twinport (city A) is the consumer and the harness answers as city B.
//!
//! The [`crate::counterparty::Counterparty`] plays either role: a `ContractRequestMessage` or
//! `TransferRequestMessage` Twinport posts to `/negotiations/request` or `/transfers/request` opens a process with
//! the harness as provider, judged by the same state machine, held, refused or acknowledged as the test plans.
//! [`ProviderTck`] adds what this direction needs around it:
//! - the provider's catalogue, served by the counterparty's fixed routes: Twinport's operator starts a negotiation
//!   from the dataset **as the partner's catalogue publishes it** (`GET <base>/catalog/datasets/{id}`). The TCK
//!   keys the consumer's reactions by dataset; here what the catalogue offers for a dataset decides whether
//!   Twinport accepts the TCK's offer at once, waits for its operator, or rejects the TCK's agreement;
//! - the TCK's initiate calls, mapped to Twinport's management API;
//! - the TCK's provider-side messages with the ids the TCK derives ([`provider_msg`]);
//! - the operator's view of a process (`pending`, `waiting_for`) while the harness holds an acknowledgement.

use std::ops::Deref;
use std::sync::Mutex;

use reqwest::Method;
use serde_json::{json, Value};

use crate::counterparty::{assert_wire_valid, msg, Process, Received, Tck, DSP_CONTEXT};
use crate::{Storage, CITY_A, CITY_B};

/// The TCK's default transfer format (`TP_C_xx_yy_FORMAT` in its sample configuration).
pub const PULL: &str = "HttpData-PULL";

/// The rules of the TCK's offers and agreements: one `use` permission (its `constraints: []` is dropped by
/// compaction, dsp-tck.md §7).
pub fn tck_rules() -> Value {
    json!([{"action": "use"}])
}

/// The TCK's messages as provider (dsp-tck.md §7), built on [`msg`]: the TCK's `TCK_PARTICIPANT` is city B (the
/// harness), its `CONNECTOR_UNDER_TEST` city A (Twinport).
pub mod provider_msg {
    use serde_json::{json, Value};

    use super::{msg, tck_rules, CITY_A, CITY_B};

    /// The offer id the TCK derives from a dataset id (`"offer" + datasetId`, its `IdGenerator`).
    pub fn offer_id(dataset: &str) -> String {
        format!("offer{dataset}")
    }

    /// The TCK's `ContractOfferMessage` for `dataset` (a follow-up: both pids, no `callbackAddress`).
    pub fn offer(provider_pid: &str, consumer_pid: &str, dataset: &str) -> Value {
        msg::contract_offer(
            provider_pid,
            consumer_pid,
            json!({"@type": "Offer", "@id": offer_id(dataset), "permission": tck_rules(),
                   "target": dataset, "assignee": CITY_A, "assigner": CITY_B}),
        )
    }

    /// The TCK's `ContractAgreementMessage` for `dataset`, with agreement id `agreement_id` (the TCK mints one; the
    /// transfer tests use the TCK's agreement ids, `ATPC0101`, …).
    pub fn agreement(
        provider_pid: &str,
        consumer_pid: &str,
        dataset: &str,
        agreement_id: &str,
    ) -> Value {
        let mut agreement = msg::tck_agreement(dataset, CITY_A, CITY_B);
        agreement["@id"] = json!(agreement_id);
        msg::contract_agreement(provider_pid, consumer_pid, agreement)
    }

    /// The data address of the TCK's `TransferStartMessage` ([`msg::transfer_start_with_address`]).
    pub fn data_address() -> Value {
        json!({"@type": "DataAddress", "endpoint": "http://example.com",
               "endpointType": "https://w3id.org/idsa/v4.1/HTTP"})
    }

    /// The same message with a new `@id`: the same content, so a receiver judges it as a new message.
    pub fn again(body: &Value) -> Value {
        let mut copy = body.clone();
        copy["@id"] = json!(uuid::Uuid::new_v4().to_string());
        copy
    }
}

// ---- the fixture ---------------------------------------------------------------------------------------------

/// Twinport as consumer (city A), the counterparty as the TCK's provider (city B) with a catalogue. Derefs to the
/// [`Tck`] for sending, GETs and plans.
pub struct ProviderTck {
    pub tck: Tck,
    /// The datasets published in the harness's catalogue.
    datasets: Mutex<Vec<Value>>,
}

impl Deref for ProviderTck {
    type Target = Tck;
    fn deref(&self) -> &Tck {
        &self.tck
    }
}

impl ProviderTck {
    /// Starts Twinport and the counterparty (Twinport's partner B), with an empty catalogue.
    pub async fn start(storage: Storage) -> ProviderTck {
        let t = ProviderTck {
            tck: Tck::start(storage).await,
            datasets: Mutex::new(Vec::new()),
        };
        t.serve_catalog();
        t
    }

    /// Publishes dataset `id` in the harness's catalogue with one offer `offer_id` carrying `offer_terms`
    /// (`permission`, `prohibition`, …), as the TCK's provider would have it. Checked against the official
    /// `Dataset` schema.
    pub fn publish(&self, id: &str, offer_id: &str, offer_terms: Value) {
        let mut offer = json!({"@type": "Offer", "@id": offer_id});
        for (k, v) in offer_terms.as_object().expect("offer terms object") {
            offer[k] = v.clone();
        }
        let dataset = json!({
            "@context": [DSP_CONTEXT],
            "@id": id,
            "@type": "Dataset",
            "hasPolicy": [offer],
            "distribution": [{
                "@type": "Distribution",
                "format": PULL,
                "accessService": {"@id": "urn:tck:data-service", "@type": "DataService",
                                  "endpointURL": self.cp.url},
            }],
        });
        assert_wire_valid(&dataset);
        self.cp.serve(
            "GET",
            &format!("/catalog/datasets/{id}"),
            200,
            dataset.clone(),
        );
        self.datasets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dataset);
        self.serve_catalog();
    }

    /// `POST /catalog/request`: every published dataset.
    fn serve_catalog(&self) {
        let datasets: Vec<Value> = self
            .datasets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|d| {
                let mut d = d.clone();
                if let Some(o) = d.as_object_mut() {
                    o.remove("@context");
                }
                d
            })
            .collect();
        let catalog = json!({"@context": [DSP_CONTEXT], "@id": "urn:tck:catalog", "@type": "Catalog",
                             "participantId": CITY_B, "dataset": datasets});
        self.cp.serve("POST", "/catalog/request", 200, catalog);
    }

    /// The TCK's negotiation initiate call (`{"providerId", "offerId": "offer<ds>", "datasetId", …}`) as Twinport's
    /// operator makes it: `POST /api/v1/negotiations` for partner B's offer `offer<ds>` of `dataset`. Returns
    /// Twinport's negotiation id (also its consumerPid).
    pub async fn initiate_negotiation(&self, dataset: &str) -> String {
        let r = self
            .cut
            .management(Method::POST, "/api/v1/negotiations")
            .json(&json!({"partner": CITY_B, "dataset": dataset,
                          "offer_id": provider_msg::offer_id(dataset)}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 201, "the operator starts a negotiation: {body:#}");
        body["id"].as_str().expect("negotiation id").to_string()
    }

    /// The TCK's transfer initiate call as Twinport's operator makes it: `POST /api/v1/transfers`. Returns
    /// Twinport's transfer id (also its consumerPid).
    pub async fn initiate_transfer(&self, agreement_id: &str, format: &str) -> String {
        let r = self
            .cut
            .management(Method::POST, "/api/v1/transfers")
            .json(&json!({"agreement_id": agreement_id, "format": format}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 201, "the operator requests a transfer: {body:#}");
        body["id"].as_str().expect("transfer id").to_string()
    }

    /// The harness's process for the one Twinport opened with its creating message `m` (known from its arrival,
    /// whether or not the harness acknowledged it yet).
    pub fn opened(&self, m: &Received) -> Process {
        let p = self.cp.process_opened_by(m);
        assert_eq!(p.cut_pid(), m.body["consumerPid"]);
        p
    }

    /// Checks Twinport's initial `ContractRequestMessage` as the TCK does (dsp-tck.md §6.4): at
    /// `/negotiations/request`, `consumerPid` = Twinport's id, no `providerPid`, `callbackAddress` = Twinport's DSP
    /// base without a trailing `/`, the offer with `@id` `offer<ds>` verbatim, `@type` `Offer`, a permission, the
    /// dataset as `target`.
    pub fn assert_contract_request(&self, m: &Received, id: &str, dataset: &str) {
        assert_eq!(m.path, "/negotiations/request");
        assert_eq!(m.body["consumerPid"], id, "{:#}", m.body);
        assert!(m.body.get("providerPid").is_none(), "{:#}", m.body);
        let callback = m.body["callbackAddress"].as_str().expect("callbackAddress");
        assert!(!callback.ends_with('/'), "{callback}");
        assert_eq!(
            callback,
            self.base(),
            "the TCK posts to <cb>: Twinport's base"
        );
        let offer = &m.body["offer"];
        assert_eq!(offer["@id"], provider_msg::offer_id(dataset), "{offer:#}");
        assert_eq!(offer["@type"], "Offer", "{offer:#}");
        assert_eq!(offer["target"], dataset, "{offer:#}");
        assert!(
            !offer["permission"]
                .as_array()
                .expect("permission")
                .is_empty(),
            "{offer:#}"
        );
    }

    /// Checks a message Twinport sent the harness for process `p` arrived at `/<protocol>/{harness pid}/<suffix>`
    /// naming both pids.
    pub fn assert_follow_up(&self, m: &Received, p: &Process) {
        let kind = m.kind.expect("a DSP message");
        assert_eq!(
            m.path,
            format!(
                "/{}/{}/{}",
                kind.protocol().segment(),
                p.our_pid,
                kind.suffix()
            )
        );
        assert_eq!(m.body["providerPid"], p.provider_pid(), "{:#}", m.body);
        assert_eq!(m.body["consumerPid"], p.consumer_pid(), "{:#}", m.body);
    }

    /// Twinport's operator view of negotiation `id` (`GET /api/v1/negotiations/{id}`).
    pub async fn negotiation_view(&self, id: &str) -> Value {
        self.view(&format!("/api/v1/negotiations/{id}")).await
    }

    /// Twinport's operator view of transfer `id` (`GET /api/v1/transfers/{id}`).
    pub async fn transfer_view(&self, id: &str) -> Value {
        self.view(&format!("/api/v1/transfers/{id}")).await
    }

    async fn view(&self, path: &str) -> Value {
        let r = self.cut.management(Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    /// While the harness holds its acknowledgement of Twinport's `message` (`@type`), the operator sees the
    /// transition pending: `pending` {`message`, `to`, `since`, `attempts`} and `waiting_for` "sent <message>,
    /// awaiting acknowledgement since …".
    pub fn assert_pending(view: &Value, message: &str, to: &str) {
        let pending = &view["pending"];
        assert_eq!(pending["message"], message, "pending: {view:#}");
        assert_eq!(pending["to"], to, "pending: {view:#}");
        assert!(pending["since"].is_string(), "pending.since: {view:#}");
        assert!(
            pending["attempts"].is_number(),
            "pending.attempts: {view:#}"
        );
        let waiting = view["waiting_for"].as_str().unwrap_or_default();
        assert!(
            waiting.starts_with(&format!("sent {message}, awaiting acknowledgement since")),
            "waiting_for: {view:#}"
        );
    }

    /// Ends the test like [`Tck::finish`].
    pub async fn finish(self) {
        self.tck.finish().await;
    }
}
