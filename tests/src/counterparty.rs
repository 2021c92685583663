//! A DSP 2025-1 counterparty for the TCK-style tests (issue 17): it plays the partner of one real Twinport on
//! loopback the way the Eclipse DSP TCK does (dsp-tck.md), as consumer or provider, with its own state machine
//! and self-issued tokens, and lets a test decide how it answers each message Twinport sends it.
//!
//! The pieces:
//! - [`Tck`] starts Twinport (city A of [`crate::city_pair`]; city B's connector only lends its identity, so the
//!   tokens the harness presents are B's) and a [`Counterparty`] server that Twinport reaches as city B. It sends
//!   the TCK's messages ([`msg`]) to Twinport, reads Twinport's view of a process with `GET`, scripts Twinport
//!   through its management API (datasets, offers, operator actions), and checks error answers.
//! - [`Counterparty`] is the HTTP server at the callback address the harness advertises (its root, like the TCK's).
//!   It records every request, checks each DSP message against its own state machine (a message that is illegal
//!   from its point of view is refused with 400 and recorded as a violation), and answers as planned: at once
//!   ([`Reply::Ack`], the default), held until the test releases it ([`Counterparty::hold`]), late, with an error,
//!   with 404 (a TCK handler registered late), or not at all (the connection is closed after the message was
//!   processed: a lost acknowledgement). An exact repeat of a message it already applied is answered 200 again and
//!   changes nothing, as DSP asks of every peer.
//! - Like a real peer, the harness's state changes when a message is acknowledged: when it answers 2xx to
//!   Twinport's message, or when Twinport answers 2xx to its own.
//!
//! Messages are validated (bare `@type`, `@context` array with the 2025-1 context, official schema) in the test's
//! own task: when the test takes them with [`Counterparty::expect`] or [`Held::arrived`], and all of them again in
//! [`Tck::finish`], which also fails on violations and on messages no step of the test expected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Response};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::{oneshot, Notify};
use twinport_contracts::negotiation::{self, NegotiationMessageKind, NegotiationState};
use twinport_contracts::process::Role;
use twinport_contracts::transfer::{self, TransferMessageKind, TransferState};

use crate::schemas::{assert_valid, schema_for};
use crate::{city_pair_with, City, Storage, CITY_A, CITY_B};

/// The 2025-1 context every message carries in its `@context` array.
pub const DSP_CONTEXT: &str = "https://w3id.org/dspace/2025/1/context.jsonld";
/// How long the harness waits for a message from Twinport, or for Twinport to reach a state.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long [`Tck::finish`] listens for stray messages after the last step.
const QUIET: Duration = Duration::from_millis(300);

// ---- messages ------------------------------------------------------------------------------------------------

/// The two DSP process protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Negotiation,
    Transfer,
}

impl Protocol {
    /// The path segment of the protocol's endpoints.
    pub fn segment(self) -> &'static str {
        match self {
            Protocol::Negotiation => "negotiations",
            Protocol::Transfer => "transfers",
        }
    }

    /// `@type` of the ACK body.
    pub fn ack_type(self) -> &'static str {
        match self {
            Protocol::Negotiation => "ContractNegotiation",
            Protocol::Transfer => "TransferProcess",
        }
    }

    /// `@type` of the error body.
    pub fn error_type(self) -> &'static str {
        match self {
            Protocol::Negotiation => "ContractNegotiationError",
            Protocol::Transfer => "TransferError",
        }
    }
}

/// Every DSP process message, as the state machines tell them apart (the negotiation event by its `eventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    ContractRequest,
    ContractOffer,
    ContractAgreement,
    AgreementVerification,
    Accepted,
    Finalized,
    NegotiationTermination,
    TransferRequest,
    TransferStart,
    TransferSuspension,
    TransferCompletion,
    TransferTermination,
}

impl Kind {
    /// The kind of a message body, from its `@type` (and `eventType`); `None` for anything else.
    pub fn of(body: &Value) -> Option<Kind> {
        Some(match body.get("@type")?.as_str()? {
            "ContractRequestMessage" => Kind::ContractRequest,
            "ContractOfferMessage" => Kind::ContractOffer,
            "ContractAgreementMessage" => Kind::ContractAgreement,
            "ContractAgreementVerificationMessage" => Kind::AgreementVerification,
            "ContractNegotiationEventMessage" => match body.get("eventType")?.as_str()? {
                "ACCEPTED" => Kind::Accepted,
                "FINALIZED" => Kind::Finalized,
                _ => return None,
            },
            "ContractNegotiationTerminationMessage" => Kind::NegotiationTermination,
            "TransferRequestMessage" => Kind::TransferRequest,
            "TransferStartMessage" => Kind::TransferStart,
            "TransferSuspensionMessage" => Kind::TransferSuspension,
            "TransferCompletionMessage" => Kind::TransferCompletion,
            "TransferTerminationMessage" => Kind::TransferTermination,
            _ => return None,
        })
    }

    pub fn protocol(self) -> Protocol {
        match self {
            Kind::TransferRequest
            | Kind::TransferStart
            | Kind::TransferSuspension
            | Kind::TransferCompletion
            | Kind::TransferTermination => Protocol::Transfer,
            _ => Protocol::Negotiation,
        }
    }

    /// The last path segment(s) of the endpoint that receives this message after the process exists
    /// (`<base>/<protocol>/{receiver's pid}/<suffix>`).
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::ContractRequest => "request",
            Kind::ContractOffer => "offers",
            Kind::ContractAgreement => "agreement",
            Kind::AgreementVerification => "agreement/verification",
            Kind::Accepted | Kind::Finalized => "events",
            Kind::NegotiationTermination | Kind::TransferTermination => "termination",
            Kind::TransferRequest => "request",
            Kind::TransferStart => "start",
            Kind::TransferSuspension => "suspension",
            Kind::TransferCompletion => "completion",
        }
    }

    /// The path of the endpoint that creates a process with this message (`/negotiations/request`,
    /// `/negotiations/offers`, `/transfers/request`).
    pub fn creating_path(self) -> Option<&'static str> {
        match self {
            Kind::ContractRequest => Some("/negotiations/request"),
            Kind::ContractOffer => Some("/negotiations/offers"),
            Kind::TransferRequest => Some("/transfers/request"),
            _ => None,
        }
    }

    fn negotiation(self) -> Option<NegotiationMessageKind> {
        use NegotiationMessageKind as M;
        Some(match self {
            Kind::ContractRequest => M::ContractRequest,
            Kind::ContractOffer => M::ContractOffer,
            Kind::ContractAgreement => M::ContractAgreement,
            Kind::AgreementVerification => M::ContractAgreementVerification,
            Kind::Accepted => M::AcceptedEvent,
            Kind::Finalized => M::FinalizedEvent,
            Kind::NegotiationTermination => M::Termination,
            _ => return None,
        })
    }

    fn transfer(self) -> Option<TransferMessageKind> {
        use TransferMessageKind as M;
        Some(match self {
            Kind::TransferRequest => M::TransferRequest,
            Kind::TransferStart => M::TransferStart,
            Kind::TransferSuspension => M::TransferSuspension,
            Kind::TransferCompletion => M::TransferCompletion,
            Kind::TransferTermination => M::TransferTermination,
            _ => return None,
        })
    }
}

/// The next state when `sender` sends `kind` in `state` (`None`: no process yet), by the pure state machines of
/// `twinport-contracts`, or why the message is illegal.
pub fn next_state(state: Option<&str>, kind: Kind, sender: Role) -> Result<String, String> {
    if let Some(m) = kind.negotiation() {
        let state = state
            .map(|s| s.parse::<NegotiationState>().map_err(|e| e.to_string()))
            .transpose()?;
        negotiation::transition(state, m, sender)
            .map(|s| s.as_str().to_string())
            .map_err(|e| e.to_string())
    } else {
        let m = kind.transfer().expect("a transfer message");
        let state = state
            .map(|s| s.parse::<TransferState>().map_err(|e| e.to_string()))
            .transpose()?;
        transfer::transition(state, m, sender)
            .map(|s| s.as_str().to_string())
            .map_err(|e| e.to_string())
    }
}

/// Checks what the TCK checks of every body it reads (dsp-tck.md §5.2) and the official schema for its `@type`:
/// a bare string `@type`, an `@context` array holding the 2025-1 context.
pub fn assert_wire_valid(body: &Value) {
    let ty = body["@type"]
        .as_str()
        .unwrap_or_else(|| panic!("@type must be a single bare string: {body:#}"));
    assert!(!ty.contains(':'), "@type must be a bare term: {body:#}");
    let context = body["@context"]
        .as_array()
        .unwrap_or_else(|| panic!("@context must be an array: {body:#}"));
    assert!(
        context.iter().any(|c| c == DSP_CONTEXT),
        "@context must contain {DSP_CONTEXT}: {body:#}"
    );
    let schema = schema_for(ty).unwrap_or_else(|| panic!("no official schema for {ty}: {body:#}"));
    assert_valid(schema, body);
}

/// The TCK's messages exactly as dsp-tck.md §7 shows them (compacted: no `constraints`, no nulls): a random
/// `@id`, the bare `@type`, `@context` as an array.
pub mod msg {
    use serde_json::{json, Value};

    use super::DSP_CONTEXT;

    fn message(ty: &str, fields: Value) -> Value {
        let mut m = json!({
            "@id": uuid::Uuid::new_v4().to_string(),
            "@type": ty,
            "@context": [DSP_CONTEXT],
        });
        for (k, v) in fields.as_object().expect("fields object") {
            m[k] = v.clone();
        }
        m
    }

    /// The TCK's offer in a request: `@id`, `target`, `@type`, one `use` permission.
    pub fn tck_offer(offer_id: &str, target: &str) -> Value {
        json!({"@id": offer_id, "target": target, "@type": "Offer", "permission": [{"action": "use"}]})
    }

    pub fn catalog_request() -> Value {
        message("CatalogRequestMessage", json!({}))
    }

    /// The initial `ContractRequestMessage` (TCK as consumer).
    pub fn contract_request(consumer_pid: &str, offer: Value, callback: &str) -> Value {
        message(
            "ContractRequestMessage",
            json!({"consumerPid": consumer_pid, "offer": offer, "callbackAddress": callback}),
        )
    }

    /// A counter `ContractRequestMessage`: no `callbackAddress`, both pids.
    pub fn counter_request(provider_pid: &str, consumer_pid: &str, offer: Value) -> Value {
        message(
            "ContractRequestMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid, "offer": offer}),
        )
    }

    /// `ContractNegotiationEventMessage` with `eventType` `ACCEPTED` or `FINALIZED`.
    pub fn event(provider_pid: &str, consumer_pid: &str, event_type: &str) -> Value {
        message(
            "ContractNegotiationEventMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid, "eventType": event_type}),
        )
    }

    pub fn verification(provider_pid: &str, consumer_pid: &str) -> Value {
        message(
            "ContractAgreementVerificationMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid}),
        )
    }

    /// `ContractNegotiationTerminationMessage` with the TCK's `code` `"1"`.
    pub fn negotiation_termination(provider_pid: &str, consumer_pid: &str) -> Value {
        message(
            "ContractNegotiationTerminationMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid, "code": "1"}),
        )
    }

    /// A counter `ContractOfferMessage` (TCK as provider): both pids, no `callbackAddress`.
    pub fn contract_offer(provider_pid: &str, consumer_pid: &str, offer: Value) -> Value {
        message(
            "ContractOfferMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid, "offer": offer}),
        )
    }

    /// `ContractAgreementMessage` (TCK as provider) for `agreement` (see [`tck_agreement`]).
    pub fn contract_agreement(provider_pid: &str, consumer_pid: &str, agreement: Value) -> Value {
        message(
            "ContractAgreementMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid, "agreement": agreement}),
        )
    }

    /// The TCK's agreement: a new `@id`, one `use` permission, a timestamp now.
    pub fn tck_agreement(target: &str, assignee: &str, assigner: &str) -> Value {
        let timestamp = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .expect("timestamp");
        json!({"@type": "Agreement", "@id": format!("urn:uuid:{}", uuid::Uuid::new_v4()), "target": target,
               "permission": [{"action": "use"}], "timestamp": timestamp,
               "assignee": assignee, "assigner": assigner})
    }

    /// The TCK's `TransferRequestMessage` (no `dataAddress`: a pull).
    pub fn transfer_request(
        consumer_pid: &str,
        agreement_id: &str,
        format: &str,
        callback: &str,
    ) -> Value {
        message(
            "TransferRequestMessage",
            json!({"consumerPid": consumer_pid, "agreementId": agreement_id, "format": format,
                   "callbackAddress": callback}),
        )
    }

    /// `TransferStartMessage` with the TCK's data address (TCK as provider).
    pub fn transfer_start_with_address(provider_pid: &str, consumer_pid: &str) -> Value {
        message(
            "TransferStartMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid,
                   "dataAddress": {"@type": "DataAddress", "endpoint": "http://example.com",
                                   "endpointType": "https://w3id.org/idsa/v4.1/HTTP"}}),
        )
    }

    /// `TransferStartMessage`; the TCK as consumer sends none with a `dataAddress`.
    pub fn transfer_start(provider_pid: &str, consumer_pid: &str) -> Value {
        message(
            "TransferStartMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid}),
        )
    }

    /// `TransferSuspensionMessage` with `code` `"1"`.
    pub fn transfer_suspension(provider_pid: &str, consumer_pid: &str) -> Value {
        message(
            "TransferSuspensionMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid, "code": "1"}),
        )
    }

    pub fn transfer_completion(provider_pid: &str, consumer_pid: &str) -> Value {
        message(
            "TransferCompletionMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid}),
        )
    }

    /// `TransferTerminationMessage` with `code` `"1"`.
    pub fn transfer_termination(provider_pid: &str, consumer_pid: &str) -> Value {
        message(
            "TransferTerminationMessage",
            json!({"providerPid": provider_pid, "consumerPid": consumer_pid, "code": "1"}),
        )
    }
}

// ---- the counterparty server ---------------------------------------------------------------------------------

/// How the counterparty answers one message from Twinport.
#[derive(Debug)]
pub enum Reply {
    /// 200 with the harness's view of the process (`ContractNegotiation` / `TransferProcess`) after the transition.
    Ack,
    /// 200 with an empty body (the TCK answers some messages so); the transition is applied.
    Empty,
    /// This status with a `ContractNegotiationError` / `TransferError` naming both pids; no transition.
    Refuse(u16),
    /// 404 with the TCK's `No handler registered on this endpoint` (a handler the TCK arms late); no transition.
    NotFound,
    /// The message is processed (the transition applied), then the connection is closed without an answer: the
    /// acknowledgement is lost on the way.
    Drop,
    /// Waits, then answers as the inner reply.
    Late(Duration, Box<Reply>),
}

/// A message the counterparty received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Order of arrival, from 0.
    pub seq: usize,
    pub kind: Option<Kind>,
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// An exact copy of a message already applied (a retry after a lost acknowledgement).
    pub repeat: bool,
    pub at: Instant,
}

/// Our side of one process, as the counterparty sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub protocol: Protocol,
    /// The role the harness plays.
    pub role: Role,
    pub our_pid: String,
    /// Twinport's pid, once known.
    pub their_pid: Option<String>,
}

impl Process {
    pub fn provider_pid(&self) -> &str {
        match self.role {
            Role::Provider => &self.our_pid,
            Role::Consumer => self.their_pid.as_deref().expect("provider pid known"),
        }
    }

    pub fn consumer_pid(&self) -> &str {
        match self.role {
            Role::Consumer => &self.our_pid,
            Role::Provider => self.their_pid.as_deref().expect("consumer pid known"),
        }
    }

    /// Twinport's pid, which names the process in Twinport's paths.
    pub fn cut_pid(&self) -> &str {
        self.their_pid.as_deref().expect("Twinport's pid known")
    }
}

#[derive(Debug)]
struct Tracked {
    process: Process,
    state: Option<String>,
    /// Bodies of the messages from Twinport already applied, to tell a repeat from a new message.
    applied: Vec<Value>,
    /// The harness's own message in flight (sent, not answered yet). Twinport's next message can overtake its
    /// answer to ours on the wire; a message legal only after ours proves that Twinport acknowledged it, so the
    /// harness applies its own first.
    pending: Option<Kind>,
}

enum Plan {
    Reply(Reply),
    Hold {
        arrived: oneshot::Sender<Received>,
        release: oneshot::Receiver<Reply>,
    },
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Sequence numbers of received messages a test step has taken ([`Counterparty::expect`], [`Held::arrived`]).
    consumed: Vec<usize>,
    /// Sequence numbers of received messages answered by a plan the test set ([`Counterparty::answer`],
    /// [`Counterparty::hold`]): expected, even if no step looks at them.
    planned: Vec<usize>,
    plans: HashMap<Kind, Vec<Plan>>,
    processes: HashMap<String, Tracked>,
    violations: Vec<String>,
    /// Fixed answers by (method, path), e.g. a catalog for Twinport to read before it negotiates as consumer.
    routes: HashMap<(String, String), (u16, Value)>,
    /// Messages arrived and held, not released yet (sequence number, `@type`), for failure messages.
    holding: Vec<(usize, String)>,
}

/// The counterparty's HTTP server; see the module documentation.
#[derive(Clone)]
pub struct Counterparty {
    /// Root URL; the harness's callback address (the TCK's handlers match full paths from the root).
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    arrived: Arc<Notify>,
}

/// A message whose acknowledgement the test holds: [`Held::arrived`] waits for it, [`Held::release`] answers.
/// Dropped without a release, the message is acknowledged at once.
pub struct Held {
    kind: Kind,
    arrived: Option<oneshot::Receiver<Received>>,
    release: Option<oneshot::Sender<Reply>>,
    cp: Counterparty,
}

impl Held {
    /// Waits (up to [`WAIT`]) until the message arrived and is being held; returns it, checked against its schema.
    pub async fn arrived(&mut self) -> Received {
        let rx = self.arrived.take().expect("arrived() is called once");
        let got = match tokio::time::timeout(WAIT, rx).await {
            Ok(Ok(r)) => r,
            _ => panic!(
                "no legal {:?} arrived within {WAIT:?}; received: {:#?}\nrefused by the harness: {:#?}",
                self.kind,
                self.cp.summary(),
                self.cp.violations()
            ),
        };
        self.cp.consume(got.seq);
        assert_wire_valid(&got.body);
        got
    }

    /// Answers the held message with `reply`.
    pub fn release(mut self, reply: Reply) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(reply);
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(Reply::Ack);
        }
    }
}

/// What the server answers; an error closes the connection without an answer.
type ServerAnswer = Result<Response<Body>, std::io::Error>;

impl Counterparty {
    /// Starts the server on `127.0.0.1:0`.
    pub async fn start() -> Counterparty {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the counterparty");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let cp = Counterparty {
            url,
            inner: Arc::new(Mutex::new(Inner::default())),
            arrived: Arc::new(Notify::new()),
        };
        let server = cp.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let cp = server.clone();
                // hyper directly rather than axum: a service error closes the connection without an answer,
                // which is how a lost acknowledgement is played.
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let cp = cp.clone();
                        async move { cp.handle(req).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        cp
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a process the harness takes part in (done by [`Tck`]'s senders; needed only for processes a
    /// test opens by hand).
    pub fn track(&self, process: &Process, state: Option<&str>) {
        self.lock().processes.insert(
            process.our_pid.clone(),
            Tracked {
                process: process.clone(),
                state: state.map(str::to_string),
                applied: Vec::new(),
                pending: None,
            },
        );
    }

    /// The harness's state of a process (`None`: not yet acknowledged).
    pub fn state(&self, our_pid: &str) -> Option<String> {
        self.lock()
            .processes
            .get(our_pid)
            .and_then(|t| t.state.clone())
    }

    /// The harness's record of a process, with Twinport's pid once learnt.
    pub fn process(&self, our_pid: &str) -> Process {
        self.lock()
            .processes
            .get(our_pid)
            .map(|t| t.process.clone())
            .unwrap_or_else(|| panic!("the harness does not know process {our_pid}"))
    }

    /// Answers every `method` request to `path` (from the root, no trailing `/`) with `status` and `body`, before
    /// any DSP handling: for what the TCK does not serve but Twinport asks for, e.g. the catalog it reads before
    /// negotiating as consumer (`POST /catalog/request`).
    pub fn serve(&self, method: &str, path: &str, status: u16, body: Value) {
        self.lock()
            .routes
            .insert((method.to_string(), path.to_string()), (status, body));
    }

    /// The process a creating message from Twinport opened with the harness (CN_C / TP_C direction): found by the
    /// pid Twinport chose, which it names in the body.
    pub fn process_opened_by(&self, received: &Received) -> Process {
        let theirs = match received.kind {
            Some(Kind::ContractOffer) => received.body["providerPid"].as_str(),
            _ => received.body["consumerPid"].as_str(),
        }
        .expect("Twinport's pid in the body");
        self.lock()
            .processes
            .values()
            .find(|t| t.process.their_pid.as_deref() == Some(theirs))
            .map(|t| t.process.clone())
            .unwrap_or_else(|| panic!("no process opened by Twinport's pid {theirs}"))
    }

    /// The next message of `kind` gets `reply` instead of [`Reply::Ack`] (plans for one kind are used in order).
    pub fn answer(&self, kind: Kind, reply: Reply) {
        self.lock()
            .plans
            .entry(kind)
            .or_default()
            .push(Plan::Reply(reply));
    }

    /// The next message of `kind` is held unanswered until the returned handle is released.
    pub fn hold(&self, kind: Kind) -> Held {
        let (arrived_tx, arrived_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        self.lock().plans.entry(kind).or_default().push(Plan::Hold {
            arrived: arrived_tx,
            release: release_rx,
        });
        Held {
            kind,
            arrived: Some(arrived_rx),
            release: Some(release_tx),
            cp: self.clone(),
        }
    }

    /// Waits (up to [`WAIT`]) for the next message of `kind` no step has taken yet, marks it taken and checks it
    /// against its schema. Repeats of an applied message are skipped (see [`Counterparty::repeats`]).
    pub async fn expect(&self, kind: Kind) -> Received {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let found = {
                let inner = self.lock();
                inner
                    .received
                    .iter()
                    .find(|r| r.kind == Some(kind) && !r.repeat && !inner.consumed.contains(&r.seq))
                    .cloned()
            };
            if let Some(r) = found {
                self.consume(r.seq);
                assert_wire_valid(&r.body);
                return r;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "no {kind:?} arrived within {WAIT:?}; received: {:#?}\nrefused by the harness: {:#?}",
                    self.summary(),
                    self.violations()
                );
            }
        }
    }

    /// Waits (up to [`WAIT`]) until Twinport delivered `body` again after the harness applied it (a retry after a
    /// lost acknowledgement), and returns the copy.
    pub async fn expect_repeat(&self, body: &Value) -> Received {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(r) = self.repeats().into_iter().find(|r| &r.body == body) {
                return r;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "Twinport did not deliver the message again within {WAIT:?}: {body:#}\nreceived: {:#?}",
                    self.summary()
                );
            }
        }
    }

    /// Copies of already applied messages Twinport sent again (e.g. after a lost acknowledgement).
    pub fn repeats(&self) -> Vec<Received> {
        self.lock()
            .received
            .iter()
            .filter(|r| r.repeat)
            .cloned()
            .collect()
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// What the harness found wrong in Twinport's messages (illegal transitions, wrong paths or pids).
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    fn consume(&self, seq: usize) {
        self.lock().consumed.push(seq);
    }

    /// One line per received request, for failure messages.
    pub fn summary(&self) -> Vec<String> {
        let inner = self.lock();
        inner
            .received
            .iter()
            .map(|r| {
                format!(
                    "#{} {} {} {}{}{}",
                    r.seq,
                    r.method,
                    r.path,
                    r.body["@type"].as_str().unwrap_or("(not DSP)"),
                    if r.repeat { " (repeat)" } else { "" },
                    if inner.consumed.contains(&r.seq) || inner.planned.contains(&r.seq) {
                        ""
                    } else {
                        " (not taken by any step)"
                    }
                )
            })
            .collect()
    }

    /// Messages no step of the test took (repeats excluded), after a short quiet period.
    pub async fn unexpected(&self) -> Vec<String> {
        tokio::time::sleep(QUIET).await;
        let inner = self.lock();
        inner
            .received
            .iter()
            .filter(|r| {
                r.kind.is_some()
                    && !r.repeat
                    && !inner.consumed.contains(&r.seq)
                    && !inner.planned.contains(&r.seq)
            })
            .map(|r| format!("#{} {} {:#}", r.seq, r.path, r.body))
            .collect()
    }

    async fn handle(&self, req: hyper::Request<hyper::body::Incoming>) -> ServerAnswer {
        let method = req.method().to_string();
        let path = req.uri().path().trim_end_matches('/').to_string();
        let headers = req.headers().clone();
        let bytes = axum::body::to_bytes(Body::new(req.into_body()), 4 << 20)
            .await
            .unwrap_or_default();
        let route = self
            .lock()
            .routes
            .get(&(method.clone(), path.clone()))
            .cloned();
        if let Some((status, body)) = route {
            return Ok(json_response(status, body));
        }
        if method == "GET" && path == "/.well-known/dspace-version" {
            // Where Twinport finds the harness's DSP base if it ever needs to discover it: the root.
            return Ok(json_response(
                200,
                json!({"protocolVersions": [{"version": "2025-1", "path": "/", "binding": "HTTPS"}]}),
            ));
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let kind = Kind::of(&body);
        let (received, verdict, plan) = {
            let mut inner = self.lock();
            let seq = inner.received.len();
            let verdict = match kind {
                Some(kind) if method == "POST" => judge(&mut inner, kind, &path, &body),
                _ => Verdict::NotDsp,
            };
            let received = Received {
                seq,
                kind,
                method: method.clone(),
                path: path.clone(),
                headers,
                body: body.clone(),
                repeat: matches!(verdict, Verdict::Repeat(_)),
                at: Instant::now(),
            };
            inner.received.push(received.clone());
            let plan = match (&verdict, kind) {
                (Verdict::Legal { .. }, Some(kind)) => {
                    let plans = inner.plans.entry(kind).or_default();
                    (!plans.is_empty()).then(|| plans.remove(0))
                }
                _ => None,
            };
            if plan.is_some() {
                inner.planned.push(seq);
            }
            (received, verdict, plan)
        };
        self.arrived.notify_waiters();
        let our_pid = match verdict {
            Verdict::NotDsp => {
                return Ok(text_response(404, "No handler registered on this endpoint"));
            }
            Verdict::Unknown => {
                return Ok(text_response(404, "No handler registered on this endpoint"));
            }
            Verdict::Repeat(our_pid) => {
                let ack = self.ack_body(&our_pid);
                return Ok(json_response(200, ack));
            }
            Verdict::Illegal(our_pid, reason) => {
                return Ok(json_response(400, self.error_body(&our_pid, &reason)));
            }
            Verdict::Legal { our_pid } => our_pid,
        };
        let kind = kind.expect("a legal message has a kind");
        let mut reply = match plan {
            None => Reply::Ack,
            Some(Plan::Reply(r)) => r,
            Some(Plan::Hold { arrived, release }) => {
                let ty = received.body["@type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.lock().holding.push((received.seq, ty));
                let _ = arrived.send(received.clone());
                let reply = release.await.unwrap_or(Reply::Ack);
                self.lock().holding.retain(|(seq, _)| *seq != received.seq);
                reply
            }
        };
        loop {
            match reply {
                Reply::Late(after, inner) => {
                    tokio::time::sleep(after).await;
                    reply = *inner;
                }
                Reply::Ack => {
                    if let Err(e) = self.apply(&our_pid, kind, &received.body) {
                        return Ok(json_response(400, self.error_body(&our_pid, &e)));
                    }
                    return Ok(json_response(200, self.ack_body(&our_pid)));
                }
                Reply::Empty => {
                    if let Err(e) = self.apply(&our_pid, kind, &received.body) {
                        return Ok(json_response(400, self.error_body(&our_pid, &e)));
                    }
                    return Ok(Response::builder()
                        .status(200)
                        .body(Body::empty())
                        .expect("response"));
                }
                Reply::Refuse(status) => {
                    return Ok(json_response(
                        status,
                        self.error_body(&our_pid, "refused by the test"),
                    ));
                }
                Reply::NotFound => {
                    return Ok(text_response(404, "No handler registered on this endpoint"));
                }
                Reply::Drop => {
                    let _ = self.apply(&our_pid, kind, &received.body);
                    return Err(std::io::Error::other("acknowledgement lost on purpose"));
                }
            }
        }
    }

    /// The message is acknowledged: the harness's state moves on. Judged again against the current state, since a
    /// held message may have been overtaken by the harness's own (e.g. a termination): if it no longer applies,
    /// the answer is a refusal, not a violation (it was legal when it arrived).
    fn apply(&self, our_pid: &str, kind: Kind, body: &Value) -> Result<(), String> {
        let mut inner = self.lock();
        let Some(t) = inner.processes.get_mut(our_pid) else {
            return Ok(());
        };
        let next = next_state(t.state.as_deref(), kind, t.process.role.other())?;
        t.state = Some(next);
        t.applied.push(body.clone());
        Ok(())
    }

    fn ack_body(&self, our_pid: &str) -> Value {
        let inner = self.lock();
        let t = &inner.processes[our_pid];
        let p = &t.process;
        json!({
            "@context": [DSP_CONTEXT],
            "@type": p.protocol.ack_type(),
            "providerPid": p.provider_pid(),
            "consumerPid": p.consumer_pid(),
            "state": t.state.clone().unwrap_or_default(),
        })
    }

    fn error_body(&self, our_pid: &str, reason: &str) -> Value {
        let inner = self.lock();
        let p = &inner.processes[our_pid].process;
        let theirs = p.their_pid.clone().unwrap_or_default();
        let (provider_pid, consumer_pid) = match p.role {
            Role::Provider => (p.our_pid.clone(), theirs),
            Role::Consumer => (theirs, p.our_pid.clone()),
        };
        json!({
            "@context": [DSP_CONTEXT],
            "@type": p.protocol.error_type(),
            "providerPid": provider_pid,
            "consumerPid": consumer_pid,
            "code": "400",
            "reason": [reason],
        })
    }
}

enum Verdict {
    /// Not a DSP process message (or not a POST): answered 404 like a path without a TCK handler.
    NotDsp,
    /// For a process the harness does not know: 404.
    Unknown,
    /// An exact copy of a message already applied.
    Repeat(String),
    /// Illegal from the harness's point of view: 400, recorded as a violation.
    Illegal(String, String),
    Legal {
        our_pid: String,
    },
}

/// Judges a message from Twinport against the harness's process: path, pids, state machine.
fn judge(inner: &mut Inner, kind: Kind, path: &str, body: &Value) -> Verdict {
    let protocol = kind.protocol();
    let prefix = format!("/{}/", protocol.segment());
    if Some(path) == kind.creating_path() {
        // Twinport opens a process with the harness as the other party (the CN_C / TP_C direction).
        let role = if kind == Kind::ContractOffer {
            Role::Consumer
        } else {
            Role::Provider
        };
        let their_field = if role == Role::Provider {
            "consumerPid"
        } else {
            "providerPid"
        };
        let Some(their_pid) = body[their_field].as_str() else {
            inner
                .violations
                .push(format!("{kind:?} at {path} without {their_field}: {body}"));
            return Verdict::Unknown;
        };
        if let Some(t) = inner
            .processes
            .values()
            .find(|t| t.process.their_pid.as_deref() == Some(their_pid))
        {
            if t.applied.contains(body) {
                return Verdict::Repeat(t.process.our_pid.clone());
            }
        }
        let our_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let process = Process {
            protocol,
            role,
            our_pid: our_pid.clone(),
            their_pid: Some(their_pid.to_string()),
        };
        inner.processes.insert(
            our_pid.clone(),
            Tracked {
                process,
                state: None,
                applied: Vec::new(),
                pending: None,
            },
        );
        return match next_state(None, kind, role.other()) {
            Ok(_) => Verdict::Legal { our_pid },
            Err(e) => {
                inner.violations.push(format!("{kind:?} at {path}: {e}"));
                Verdict::Illegal(our_pid, e)
            }
        };
    }
    let Some(rest) = path.strip_prefix(&prefix) else {
        inner
            .violations
            .push(format!("{kind:?} sent to {path}, not under {prefix}"));
        return Verdict::Unknown;
    };
    let Some((pid, suffix)) = rest.split_once('/') else {
        inner.violations.push(format!(
            "{kind:?} sent to {path}: no endpoint after the pid"
        ));
        return Verdict::Unknown;
    };
    let Some(t) = inner.processes.get_mut(pid) else {
        inner.violations.push(format!(
            "{kind:?} sent to {path}: the harness has no process {pid}"
        ));
        return Verdict::Unknown;
    };
    if t.applied.contains(body) {
        return Verdict::Repeat(pid.to_string());
    }
    let mut problems = Vec::new();
    if suffix != kind.suffix() {
        problems.push(format!(
            "{kind:?} sent to {path}; its endpoint is .../{}",
            kind.suffix()
        ));
    }
    let (ours_field, theirs_field) = match t.process.role {
        Role::Consumer => ("consumerPid", "providerPid"),
        Role::Provider => ("providerPid", "consumerPid"),
    };
    if body[ours_field] != t.process.our_pid.as_str() {
        problems.push(format!(
            "{ours_field} is {}, the harness's pid is {}",
            body[ours_field], t.process.our_pid
        ));
    }
    match (&t.process.their_pid, body[theirs_field].as_str()) {
        (Some(known), Some(sent)) if known != sent => problems.push(format!(
            "{theirs_field} is {sent}, Twinport's pid is {known}"
        )),
        (None, Some(sent)) => t.process.their_pid = Some(sent.to_string()),
        (_, None) => problems.push(format!("{theirs_field} missing")),
        _ => {}
    }
    let mut next = next_state(t.state.as_deref(), kind, t.process.role.other());
    if let (Err(_), Some(own)) = (&next, t.pending) {
        if let Ok(ours) = next_state(t.state.as_deref(), own, t.process.role) {
            if let Ok(after) = next_state(Some(&ours), kind, t.process.role.other()) {
                t.state = Some(ours);
                t.pending = None;
                next = Ok(after);
            }
        }
    }
    let our_pid = pid.to_string();
    match (next, problems.is_empty()) {
        (Ok(_), true) => Verdict::Legal { our_pid },
        (next, _) => {
            if let Err(e) = next {
                problems.push(format!("in the harness's state {:?}: {e}", t.state));
            }
            let reason = problems.join("; ");
            inner
                .violations
                .push(format!("{kind:?} at {path}: {reason}"));
            Verdict::Illegal(our_pid, reason)
        }
    }
}

fn json_response(status: u16, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("response")
}

fn text_response(status: u16, text: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Body::from(text))
        .expect("response")
}

// ---- the fixture ---------------------------------------------------------------------------------------------

/// Twinport's answer to one request of the harness.
#[derive(Debug, Clone)]
pub struct CutAnswer {
    pub status: u16,
    pub body: Value,
    /// How long Twinport took to answer.
    pub elapsed: Duration,
}

impl CutAnswer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The TCK's success rule: any 2xx.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.is_success(),
            "expected 2xx, got {}: {:#}",
            self.status,
            self.body
        );
        self
    }

    /// The TCK's rule for a message that must be refused (dsp-tck.md §5.1): 4xx other than 404; and the DSP one:
    /// a `ContractNegotiationError` / `TransferError` naming both pids of `process`, valid against its schema.
    #[track_caller]
    pub fn assert_refused(&self, process: &Process) -> &Self {
        assert!(
            (400..500).contains(&self.status) && self.status != 404,
            "expected a 4xx other than 404, got {}: {:#}",
            self.status,
            self.body
        );
        let ty = process.protocol.error_type();
        assert_eq!(self.body["@type"], ty, "error body: {:#}", self.body);
        assert_eq!(
            self.body["providerPid"],
            process.provider_pid(),
            "error body names the provider pid: {:#}",
            self.body
        );
        assert_eq!(
            self.body["consumerPid"],
            process.consumer_pid(),
            "error body names the consumer pid: {:#}",
            self.body
        );
        assert_wire_valid(&self.body);
        self
    }
}

/// One real Twinport (city A) and the counterparty playing city B against it.
pub struct Tck {
    /// The connector under test.
    pub cut: City,
    /// City B's connector: only its identity is used (the tokens the harness presents). Its DSP endpoints are
    /// never reached, because city A sends everything for B to the counterparty.
    pub partner: City,
    pub cp: Counterparty,
    http: reqwest::Client,
}

impl Tck {
    /// Starts Twinport on `storage` and the counterparty, and points Twinport's partner B at the counterparty.
    pub async fn start(storage: Storage) -> Tck {
        Tck::start_with(storage, |_| {}).await
    }

    /// Like [`Tck::start`], with `tweak` applied to Twinport's configuration (and its partner's) before they start.
    pub async fn start_with(
        storage: Storage,
        tweak: impl Fn(&mut twinport::config::Config),
    ) -> Tck {
        let (cut, partner) = city_pair_with(storage, tweak).await;
        let cp = Counterparty::start().await;
        cut.running.state.set_partner_url(CITY_B, &cp.url);
        Tck {
            cut,
            partner,
            cp,
            http: reqwest::Client::new(),
        }
    }

    /// Twinport's DSP base (the TCK's `dataspacetck.dsp.connector.http.url`).
    pub fn base(&self) -> String {
        self.cut.dsp_base()
    }

    /// Twinport's root (the TCK's `dataspacetck.dsp.connector.http.base.url`).
    pub fn root(&self) -> String {
        self.cut.running.public_url().to_string()
    }

    /// A fresh token of city B for Twinport, as the TCK's configured `Authorization` header would carry.
    pub fn token(&self) -> String {
        self.partner
            .running
            .state
            .identity()
            .token_for(CITY_A)
            .expect("token")
    }

    async fn call(&self, method: Method, url: String, body: Option<&Value>) -> CutAnswer {
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(self.token())
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            req = req.json(body);
        }
        let started = Instant::now();
        let res = req.send().await.expect("Twinport answers");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        CutAnswer {
            status,
            body: serde_json::from_str(&text).unwrap_or(if text.is_empty() {
                Value::Null
            } else {
                Value::String(text)
            }),
            elapsed: started.elapsed(),
        }
    }

    /// `POST <base><path>` with `body`, as city B.
    pub async fn post(&self, path: &str, body: &Value) -> CutAnswer {
        self.call(Method::POST, format!("{}{path}", self.base()), Some(body))
            .await
    }

    /// `GET <base><path>`, as city B.
    pub async fn get(&self, path: &str) -> CutAnswer {
        self.call(Method::GET, format!("{}{path}", self.base()), None)
            .await
    }

    /// `GET` of any URL on Twinport's DSP listener (e.g. `<root>/.well-known/dspace-version`), as city B.
    pub async fn get_url(&self, url: &str) -> CutAnswer {
        self.call(Method::GET, url.to_string(), None).await
    }

    /// Sends the harness's own message `body` for `process` to the endpoint its kind goes to, and applies the
    /// transition in the harness when Twinport acknowledges it (2xx). Returns Twinport's answer.
    pub async fn send(&self, process: &Process, body: &Value) -> CutAnswer {
        let kind = Kind::of(body).expect("a DSP process message");
        let path = format!(
            "/{}/{}/{}",
            kind.protocol().segment(),
            process.cut_pid(),
            kind.suffix()
        );
        self.sending(&process.our_pid, kind);
        let answer = self.post(&path, body).await;
        self.sent(&process.our_pid, kind, answer.is_success());
        answer
    }

    /// Sends the exact same message twice at once (a burst, or a retry racing the first copy): DSP asks that the
    /// copy change nothing. Returns both answers in sending order.
    pub async fn send_twice(&self, process: &Process, body: &Value) -> (CutAnswer, CutAnswer) {
        tokio::join!(self.send(process, body), self.send(process, body))
    }

    /// The harness's own message of `kind` for process `our_pid` is on its way.
    fn sending(&self, our_pid: &str, kind: Kind) {
        let mut inner = self.cp.lock();
        if let Some(t) = inner.processes.get_mut(our_pid) {
            t.pending = Some(kind);
        }
    }

    /// Twinport answered the harness's message: acknowledged (`ok`), the harness moves on, unless Twinport's next
    /// message already moved it. A message the harness's state machine refuses (the negative scenarios send such
    /// on purpose) changes nothing.
    fn sent(&self, our_pid: &str, kind: Kind, ok: bool) {
        let mut inner = self.cp.lock();
        if let Some(t) = inner.processes.get_mut(our_pid) {
            if ok && t.pending.take().is_some() {
                if let Ok(next) = next_state(t.state.as_deref(), kind, t.process.role) {
                    t.state = Some(next);
                }
            }
            t.pending = None;
        }
    }

    /// The harness as consumer opens a negotiation with the TCK's initial `ContractRequestMessage` for `offer`
    /// (see [`msg::tck_offer`]). Checks the DSP answer: 201 + a schema-valid `ContractNegotiation` in state
    /// `REQUESTED`, echoing our consumer pid, with a `urn:uuid` provider pid; then GETs the process at once (the
    /// TCK stores the provider pid and may ask right away): 200, `REQUESTED`, both pids.
    ///
    /// Hold Twinport's first reaction ([`Counterparty::hold`]) before calling this if it would react: otherwise
    /// the process may already have moved on when the GET arrives.
    pub async fn request_negotiation(&self, offer: Value) -> Process {
        let process = self.open_negotiation(offer).await;
        self.assert_requested_after_201(&process).await;
        process
    }

    /// [`Tck::request_negotiation`] without the GET.
    pub async fn open_negotiation(&self, offer: Value) -> Process {
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let body = msg::contract_request(&consumer_pid, offer, &self.cp.url);
        self.open(Protocol::Negotiation, &consumer_pid, &body).await
    }

    /// The harness as consumer requests a transfer under `agreement_id` in `format` with the TCK's
    /// `TransferRequestMessage`: 201 + a schema-valid `TransferProcess` in state `REQUESTED` with both pids, then a
    /// GET at once: `REQUESTED`. As with negotiations, hold Twinport's start first.
    pub async fn request_transfer(&self, agreement_id: &str, format: &str) -> Process {
        let consumer_pid = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let body = msg::transfer_request(&consumer_pid, agreement_id, format, &self.cp.url);
        let process = self.open(Protocol::Transfer, &consumer_pid, &body).await;
        self.assert_requested_after_201(&process).await;
        process
    }

    /// The GET right after the 201 (the TCK may ask at once): `REQUESTED`, since the harness has acknowledged
    /// nothing of Twinport's yet.
    async fn assert_requested_after_201(&self, process: &Process) {
        let now = self.state(process).await;
        assert_eq!(
            now,
            "REQUESTED",
            "Twinport's state of {} right after its 201, before the harness acknowledged anything of Twinport's \
             (a state changes only when the counterparty acknowledges); received so far: {:#?}",
            process.cut_pid(),
            self.cp.summary()
        );
    }

    /// Sends a message that creates a process with the harness as consumer and checks the 201 answer.
    async fn open(&self, protocol: Protocol, consumer_pid: &str, body: &Value) -> Process {
        let process = Process {
            protocol,
            role: Role::Consumer,
            our_pid: consumer_pid.to_string(),
            their_pid: None,
        };
        self.cp.track(&process, None);
        let kind = Kind::of(body).expect("a DSP message");
        let path = kind.creating_path().expect("a creating message");
        self.sending(consumer_pid, kind);
        let answer = self.post(path, body).await;
        self.sent(consumer_pid, kind, answer.status == 201);
        assert_eq!(
            answer.status, 201,
            "an initial {} creates the process: {:#}",
            body["@type"], answer.body
        );
        assert_wire_valid(&answer.body);
        assert_eq!(answer.body["@type"], protocol.ack_type());
        assert_eq!(answer.body["state"], "REQUESTED", "{:#}", answer.body);
        assert_eq!(answer.body["consumerPid"], consumer_pid);
        let provider_pid = answer.body["providerPid"]
            .as_str()
            .expect("providerPid")
            .to_string();
        assert!(
            provider_pid.starts_with("urn:uuid:"),
            "providerPid {provider_pid} is a urn:uuid"
        );
        {
            // Twinport's first message may have taught the harness its pid already (it can overtake the 201).
            let mut inner = self.cp.lock();
            let t = inner.processes.get_mut(consumer_pid).expect("tracked");
            let known = t.process.their_pid.get_or_insert(provider_pid.clone());
            assert_eq!(
                known, &provider_pid,
                "Twinport's first message named another providerPid than its 201"
            );
        }
        self.cp.process(consumer_pid)
    }

    /// A finalized agreement for `offer`, negotiated the shortest way (request, agreement, verification,
    /// FINALIZED; the request must carry the offer's own rules so Twinport agrees at once): the TCK's transfer
    /// tests start from an agreement (`TP_xx_yy_AGREEMENTID`). Returns its id.
    pub async fn finalized_agreement(&self, offer: Value) -> String {
        let mut agreement = self.cp.hold(Kind::ContractAgreement);
        let n = self.open_negotiation(offer).await;
        let m = agreement.arrived().await;
        let id = m.body["agreement"]["@id"]
            .as_str()
            .expect("agreement @id")
            .to_string();
        agreement.release(Reply::Empty);
        self.wait_state(&n, "AGREED").await;
        self.send(&n, &msg::verification(n.provider_pid(), n.consumer_pid()))
            .await
            .assert_success();
        self.cp.expect(Kind::Finalized).await;
        self.wait_state(&n, "FINALIZED").await;
        id
    }

    /// Twinport's view of `process` by `GET <base>/<protocol>/{Twinport's pid}`: checks 200, the schema and both
    /// pids, and returns the state.
    pub async fn state(&self, process: &Process) -> String {
        let answer = self
            .get(&format!(
                "/{}/{}",
                process.protocol.segment(),
                process.cut_pid()
            ))
            .await;
        assert_eq!(answer.status, 200, "GET of the process: {:#}", answer.body);
        assert_wire_valid(&answer.body);
        assert_eq!(answer.body["@type"], process.protocol.ack_type());
        assert_eq!(answer.body["providerPid"], process.provider_pid());
        assert_eq!(answer.body["consumerPid"], process.consumer_pid());
        answer.body["state"].as_str().expect("state").to_string()
    }

    /// One GET, which must show `state` (the TCK's negotiation check, which GETs once).
    #[track_caller]
    pub fn assert_state<'a>(
        &'a self,
        process: &'a Process,
        state: &'a str,
    ) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let now = self.state(process).await;
            let holding = self.cp.lock().holding.clone();
            let held = if holding.is_empty() {
                String::new()
            } else {
                format!(
                    "; the harness is holding its acknowledgement of {holding:?}, and a state changes only when \
                     the counterparty acknowledges"
                )
            };
            assert_eq!(
                now,
                state,
                "Twinport's state of {} (checked at {caller}{held})",
                process.cut_pid()
            );
        }
    }

    /// Polls GET until Twinport shows `state` (the TCK's transfer check), failing after [`WAIT`]. Used after
    /// the harness acknowledged a message: Twinport records the state once it has read the answer.
    pub async fn wait_state(&self, process: &Process, state: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.state(process).await;
            if now == state {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Twinport's state of {} is still {now}, not {state}, after {WAIT:?}",
                process.cut_pid()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    // ---- scripting Twinport through its management API ----

    /// Stores an ODRL policy `id` in Twinport.
    pub async fn store_policy(&self, id: &str, policy: Value) {
        let r = self
            .cut
            .management(Method::POST, "/api/v1/policies")
            .json(&json!({"id": id, "policy": policy}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }

    /// Publishes dataset `dataset` with one offer `offer_id` under policy `policy`, approved `approval`
    /// (`"auto"` or `"manual"`).
    pub async fn publish(&self, dataset: &str, offer_id: &str, policy: &str, approval: &str) {
        let r = self
            .cut
            .management(Method::POST, "/api/v1/resources")
            .json(&json!({
                "id": dataset, "kind": "dataset", "stage": "raw", "description": "A resource of the tests.", "title": format!("TCK dataset {dataset}"),
                "distributions": [{"format": "application/json", "backend": "http://127.0.0.1:9/tck"}],
                "offers": [{"id": offer_id, "policy": policy, "approval": approval}]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }

    /// An operator action on Twinport (`POST /api/v1/<path>`), which must succeed.
    pub async fn operator(&self, path: &str) -> Value {
        self.operator_with(path, json!({"reason": "scripted by the TCK test"}))
            .await
    }

    /// An operator action with its own body (e.g. the terms of a counter-request), which must succeed.
    pub async fn operator_with(&self, path: &str, body: Value) -> Value {
        let r = self
            .cut
            .management(Method::POST, &format!("/api/v1/{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "operator action {path}: {status} {body:#}"
        );
        body
    }

    /// Ends the test: Twinport sent nothing no step expected (after a short quiet period), every message it sent
    /// is valid on the wire, and the harness found no violation. Then stops both connectors.
    pub async fn finish(self) {
        let unexpected = self.cp.unexpected().await;
        for r in self.cp.received() {
            if r.kind.is_some() {
                assert_wire_valid(&r.body);
            }
        }
        let violations = self.cp.violations();
        assert!(
            violations.is_empty(),
            "Twinport sent messages the counterparty refused: {violations:#?}\nreceived: {:#?}",
            self.cp.summary()
        );
        assert!(
            unexpected.is_empty(),
            "Twinport sent messages no step of the scenario expects: {unexpected:#?}"
        );
        self.cut.running.stop().await;
        self.partner.running.stop().await;
    }
}
