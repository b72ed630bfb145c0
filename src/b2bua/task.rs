//! The signaling task (shell): owns the transaction layer and its timers, takes validated
//! messages from the transports, answers malformed requests with the status the validator mapped
//! (RFC 3261 §8.2.6, stateless), applies the edge [`pipeline`] to new requests,
//! and hands every transmit to the transports. One task, no locks: the transaction table is its
//! own state.

use crate::app::Shutdown;
use crate::b2bua::call::CallEvent;
use crate::b2bua::calls::Calls;
use crate::b2bua::cdr::WallClock;
use crate::b2bua::control::Ops;
use crate::b2bua::credentials::CredentialStore;
use crate::b2bua::health::{HealthPolicy, PeerHealthTable};
use crate::b2bua::keepalive::Upstream;
use crate::b2bua::pipeline::{self, LocalIdentity, Reply};
use crate::b2bua::probe::Probes;
use crate::b2bua::random;
use crate::b2bua::register::PendingRegisters;
use crate::b2bua::registrant::Registrants;
use crate::b2bua::registrar::{Registrar, RegistrarConfig};
use crate::b2bua::resolve::PeerNames;
use crate::b2bua::subs::Subs;
use crate::config::Config;
use crate::config::Transport;
use crate::error::SipError;
use crate::media::{MediaControl, MediaEvent};
use crate::metrics::Metrics;
use crate::metrics::labels::{Direction, DropReason, TimerLabel, TransactionKind};
use crate::nat::Watch;
use crate::sip::header::HeaderName;
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::response::error_response;
use crate::sip::transaction::{CancelTarget, Timer, Timers, TransactionLayer, TxEvent, TxKey};
use crate::sip::validate::Disposition;
use crate::transport::route::{response_address, stamp_via};
use crate::transport::{ConnId, Inbound, SendError, Target, Transports};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::{debug, trace};

/// The signaling core's state.
pub struct Core {
    pub(crate) layer: TransactionLayer<Target>,
    pub(crate) transports: Arc<Transports>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) config: Arc<Config>,
    pub(crate) health: PeerHealthTable,
    pub(crate) calls: Calls,
    pub(crate) probes: Probes,
    pub(crate) registrar: Registrar<Target>,
    /// Subscription dialogs and relayed out-of-dialog requests.
    pub(crate) subs: Subs,
    pub(crate) pending_registers: PendingRegisters,
    /// Per-process secret for identifiers derived from the other side's (REGISTER relay).
    pub(crate) secret: [u8; 16],
    /// Peer credentials for digest challenges (see [`Core::set_credentials`]).
    pub(crate) credentials: CredentialStore,
    /// The SBC's own registrations with trunks.
    pub(crate) registrants: Registrants,
    /// Addresses of peers configured by host name.
    pub(crate) peer_names: Arc<PeerNames>,
    /// Registered flows watched with keep-alives, and what withdraws them at the PBX.
    pub(crate) watch: Watch<Upstream>,
    /// Keep-alives in flight: transaction → binding key.
    pub(crate) pings: HashMap<TxKey, Bytes>,
    identity: LocalIdentity,
    pub(crate) server: Bytes,
    /// Kind of every live transaction, for the active gauge and timeout labels.
    kinds: HashMap<TxKey, TransactionKind>,
    /// INVITEs without a final response yet, kept to answer 487 when they are cancelled.
    pending_invites: HashMap<TxKey, Message>,
    /// Where connection tasks report a send that failed after the fact.
    failed: Option<mpsc::Sender<TxKey>>,
    /// Connections that closed (their registrations are gone with them).
    closed: Option<mpsc::Receiver<ConnId>>,
    /// Edge policy state, when a policy is in force ([`Core::with_policy`]).
    pub(crate) policy: Option<crate::b2bua::policy::PolicyHooks>,
    /// Call records, control requests and the drain.
    pub(crate) ops: Ops,
    /// The media relay, when calls' media is anchored (see [`Core::set_media`]).
    pub(crate) media: Option<MediaControl>,
    /// Calls whose media stopped, reported by the relay.
    media_events: Option<mpsc::Receiver<MediaEvent>>,
}

/// Failed sends waiting to be reported to the transaction layer.
const FAILED_SENDS: usize = 1024;

/// Current time on the runtime's clock (virtual under `tokio::time::pause`).
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// The next closed connection, or never when nothing reports them.
async fn next_closed(closed: &mut Option<mpsc::Receiver<ConnId>>) -> Option<ConnId> {
    match closed {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The wall clock paired with the runtime's clock, anchoring call record timestamps.
#[allow(clippy::disallowed_methods)] // the signaling shell's one wall-clock read
fn wall_clock() -> WallClock {
    WallClock::new(std::time::SystemTime::now(), now())
}

/// The next message of an optional channel, or never.
async fn next_or_never<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// A fresh To tag: 64 random bits, hex.
fn new_tag() -> Bytes {
    Bytes::from(random::hex(&random::bytes::<8>()))
}

impl Core {
    /// A core for `config`, answering as `server` (the Server header value) for the addresses
    /// in `identity`.
    pub fn new(
        config: Arc<Config>,
        transports: Arc<Transports>,
        metrics: Arc<Metrics>,
        identity: LocalIdentity,
        server: Bytes,
    ) -> Core {
        let timers = Timers {
            t1: config.sip.t1,
            t2: config.sip.t2,
            t4: config.sip.t4,
        };
        Core {
            layer: TransactionLayer::new(timers),
            health: PeerHealthTable::new(&config.peers, HealthPolicy::default(), now()),
            calls: Calls::default(),
            probes: Probes::default(),
            registrar: Registrar::new(RegistrarConfig {
                phone_expiry_udp: config.registration.phone_expiry_udp,
                phone_expiry_stream: config.registration.phone_expiry_stream,
                pbx_expiry: config.registration.pbx_expiry,
                max_per_aor: config.registration.max_per_aor,
                max_bindings: config.registration.max_bindings,
            }),
            watch: Watch::new(config.registration.keepalive_interval),
            pings: HashMap::new(),
            subs: Subs::default(),
            pending_registers: PendingRegisters::default(),
            secret: random::bytes(),
            credentials: CredentialStore::default(),
            registrants: Registrants::default(),
            peer_names: Arc::default(),
            config,
            transports,
            metrics,
            identity,
            server,
            kinds: HashMap::new(),
            pending_invites: HashMap::new(),
            failed: None,
            closed: None,
            policy: None,
            ops: Ops::new(wall_clock()),
            media: None,
            media_events: None,
        }
    }

    /// The wall clock anchoring this task's record timestamps.
    pub fn wall_clock(&self) -> WallClock {
        self.ops.clock
    }

    /// Sets the peer credentials used to answer digest challenges.
    pub fn set_credentials(&mut self, credentials: CredentialStore) {
        self.registrants = Registrants::from_config(&self.config, &credentials, now());
        self.credentials = credentials;
    }

    /// Sets where the addresses of peers configured by host name are looked up.
    pub fn set_peer_names(&mut self, names: Arc<PeerNames>) {
        self.peer_names = names;
    }

    /// Anchors every call's media through `control`; calls whose media stops are reported on
    /// `events` and ended.
    pub fn set_media(&mut self, control: MediaControl, events: mpsc::Receiver<MediaEvent>) {
        self.media = Some(control);
        self.media_events = Some(events);
    }

    /// Sets where the transports report closed connections.
    pub fn set_closed_connections(&mut self, closed: mpsc::Receiver<ConnId>) {
        self.closed = Some(closed);
    }

    /// Number of live transactions.
    pub fn transactions(&self) -> usize {
        self.layer.len()
    }

    /// Number of live calls.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Runs until shutdown or until every transport is gone; calls still in the table then end
    /// with their call records (reason `shutdown`).
    pub async fn run(mut self, mut inbound: mpsc::Receiver<Inbound>, mut shutdown: Shutdown) {
        let (failed_tx, mut failed_rx) = mpsc::channel(FAILED_SENDS);
        self.failed = Some(failed_tx);
        let mut closed = self.closed.take();
        let mut control = self.ops.control.take().map(|c| c.0);
        let mut media_events = self.media_events.take();
        loop {
            self.check_idle();
            let deadline = [
                self.layer.poll_timeout(),
                self.calls.next_deadline(),
                self.subs.next_deadline(),
                self.next_probe(),
                self.registrants.next_due(),
                self.watch.next_due(),
                self.registrar.poll_timeout(),
                self.policy_deadline(),
            ]
            .into_iter()
            .flatten()
            .min()
            .map(tokio::time::Instant::from_std);
            let timer = async move {
                match deadline {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            let request = async {
                match control.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                msg = inbound.recv() => match msg {
                    Some(msg) => self.on_inbound(msg),
                    None => break,
                },
                Some(request) = request => self.on_control(request, now()),
                () = timer => {
                    let now = now();
                    self.layer.handle_timeout(now);
                    self.flush(true);
                    self.call_timers(now);
                    self.sub_timers(now);
                    self.send_probes(now);
                    self.send_registrations(now);
                    self.send_keepalives(now);
                    self.policy_housekeeping(now);
                    let gone = self.registrar.expire(now);
                    for binding in &gone {
                        debug!(aor = %binding.aor, "registration expired");
                    }
                    self.bindings_gone(gone, now);
                    self.metrics.registrations_active(self.registrar.len());
                    self.flush(false);
                }
                Some(conn) = next_closed(&mut closed) => {
                    self.connection_closed(conn, now());
                    self.subs_connection_closed(conn, now());
                    self.flush(false);
                }
                Some(event) = next_or_never(&mut media_events) => {
                    self.media_event(event, now());
                    self.flush(false);
                }
                Some(key) = failed_rx.recv() => {
                    self.layer.handle_transport_error(&key, now());
                    self.flush(false);
                }
                _ = shutdown.triggered() => break,
            }
        }
        self.abandon_calls(now());
    }

    /// A client transaction of the SBC's own (probe, relayed or own REGISTER, keep-alive,
    /// subscription) got no response; `status` is what a subscription side is told (408 on a
    /// timeout, 480 on a transport error). False when `key` belongs to none of them.
    fn no_response(&mut self, key: &TxKey, status: u16, now: std::time::Instant) -> bool {
        self.probe_result(key, None, now)
            || self.register_response(key, None, now)
            || self.registrant_result(key, None, now)
            || self.keepalive_result(key, None, now)
            || self.subs_failed(key, status, now)
    }

    pub(crate) fn labels(&self, target: &Target) -> (Arc<str>, Transport) {
        match self.transports.listener(target.listener) {
            Some(l) => (Arc::clone(&l.realm_name), l.transport),
            None => (Arc::from(""), target.transport),
        }
    }

    /// Where responses to a request that arrived on `source` with top Via `via` go.
    fn reply_target(source: &Target, via: Option<&crate::sip::header::Via>) -> Target {
        let mut target = source.clone();
        if source.transport == Transport::Udp {
            if let Some(via) = via {
                target.remote = response_address(via, source.remote, 5060);
            }
        }
        target
    }

    fn on_inbound(
        &mut self,
        Inbound {
            source,
            disposition,
        }: Inbound,
    ) {
        let (realm, transport) = self.labels(&source);
        let now = now();
        match disposition {
            Disposition::Process(mut msg) => {
                if let Some(method) = msg.method().cloned() {
                    self.metrics
                        .sip_request(&method, &realm, transport, Direction::In);
                    let via = stamp_via(&mut msg, source.remote).ok();
                    let target = Self::reply_target(&source, via.as_ref());
                    if self.policy_screen(&msg, &source, &target) {
                        let reliable = target.reliable();
                        let result = self.layer.handle_incoming(msg, target, reliable, now);
                        if let Err(e) = result {
                            debug!(error = %e, "request refused by the transaction layer");
                        }
                    }
                } else {
                    if let (Some(code), Ok(cseq)) = (msg.status(), msg.cseq()) {
                        self.metrics.sip_response(
                            code,
                            &cseq.method,
                            &realm,
                            transport,
                            Direction::In,
                        );
                    }
                    let reliable = source.reliable();
                    if let Err(e) = self.layer.handle_incoming(msg, source, reliable, now) {
                        debug!(error = %e, "response refused by the transaction layer");
                    }
                }
            }
            Disposition::Reject {
                status,
                error,
                mut head,
            } => {
                self.metrics.parse_error(error.metric_reason(), transport);
                debug!(%status, %error, remote = %source.remote, "refusing malformed request");
                // An ACK is never answered (RFC 3261 §17.2.3).
                if head.method() == Some(&Method::Ack) {
                    return;
                }
                let via = stamp_via(&mut head, source.remote).ok();
                let target = Self::reply_target(&source, via.as_ref());
                let mut response = error_response(&head, &error, status, &new_tag());
                response
                    .headers
                    .push(Header::new(HeaderName::Server, self.server.clone()));
                let method = head
                    .method()
                    .cloned()
                    .unwrap_or(Method::Other(Bytes::new()));
                self.metrics
                    .sip_response(status, &method, &realm, transport, Direction::Out);
                let reliable = target.reliable();
                self.layer.send_stateless(response, target, reliable);
            }
            Disposition::Drop(error) => {
                self.metrics.parse_error(error.metric_reason(), transport);
                self.metrics.dropped(DropReason::InvalidResponse);
            }
        }
        self.flush(false);
    }

    /// Handles every queued event, then sends every queued transmit. Transmits that no event
    /// explains (a timer fired, or a retransmitted request was absorbed) are retransmissions.
    pub(crate) fn flush(&mut self, after_timer: bool) {
        let mut events = 0;
        while let Some(event) = self.layer.poll_event() {
            events += 1;
            self.on_event(event);
        }
        while let Some(transmit) = self.layer.poll_transmit() {
            let is_trying = transmit.payload.starts_with(b"SIP/2.0 100 ");
            if (after_timer && !is_trying) || (!after_timer && events == 0) {
                if let Some(kind) = transmit.key.as_ref().and_then(|k| self.kinds.get(k)) {
                    self.metrics.retransmission(*kind);
                }
            }
            let key = transmit.key.clone();
            let remote = transmit.to.remote;
            let reliable = transmit.reliable;
            let failed = self.failed.clone();
            let metrics = Arc::clone(&self.metrics);
            self.transports
                .send_or_connect(transmit.to, transmit.payload, move |e: SendError| {
                    if let SendError::Forbidden(addr) = e {
                        // The transports never send toward broadcast, multicast or unspecified
                        // addresses; that is a drop, not a transport failure.
                        debug!(%addr, "not sending toward a broadcast/multicast/unspecified address");
                        metrics.dropped(DropReason::BroadcastTarget);
                        return;
                    }
                    debug!(error = %e, %remote, "send failed");
                    if let (true, Some(key), Some(failed)) = (reliable, key, failed) {
                        let _ = failed.try_send(key);
                    }
                });
        }
        // A transport error may have produced events of its own.
        while let Some(event) = self.layer.poll_event() {
            self.on_event(event);
        }
    }

    pub(crate) fn started(&mut self, key: &TxKey, kind: TransactionKind) {
        self.kinds.insert(key.clone(), kind);
        self.metrics.transaction_started(kind);
    }

    /// Answers a server transaction with `status` and `extra` headers.
    pub(crate) fn reply(
        &mut self,
        key: &TxKey,
        request: &Message,
        from: &Target,
        status: u16,
        extra: Vec<Header>,
    ) {
        self.answer(key, request, from, Reply { status, extra });
    }

    fn answer(&mut self, key: &TxKey, request: &Message, from: &Target, reply: Reply) {
        let response = pipeline::build(request, &reply, &new_tag(), &self.server);
        let (realm, transport) = self.labels(from);
        if let Some(method) = request.method() {
            self.metrics
                .sip_response(reply.status, method, &realm, transport, Direction::Out);
        }
        if reply.status >= 200 {
            self.pending_invites.remove(key);
        }
        if let Err(e) = self.layer.respond(key, response, now()) {
            debug!(error = %e, "response refused by the transaction layer");
        }
    }

    fn on_event(&mut self, event: TxEvent<Target>) {
        let now = now();
        match event {
            TxEvent::NewRequest { key, request, from } => {
                let kind = if key.method() == &Method::Invite {
                    TransactionKind::ServerInvite
                } else {
                    TransactionKind::ServerNonInvite
                };
                self.started(&key, kind);
                let Some((key, request, from)) = self.subs_request(key, request, from, now) else {
                    return;
                };
                let call = request
                    .call_id()
                    .ok()
                    .and_then(|c| self.calls.by_call_id(c.as_bytes()));
                let has_to_tag = request.to_header().ok().is_some_and(|t| t.tag().is_some());
                match call {
                    Some((id, leg)) => self.call_event(
                        id,
                        CallEvent::Request {
                            leg,
                            request,
                            tx: key,
                        },
                        now,
                    ),
                    None if matches!(key.method(), Method::Invite | Method::Register)
                        && !has_to_tag
                        && self.refuse_while_draining(&key, &request, &from) => {}
                    None if key.method() == &Method::Invite && !has_to_tag => {
                        self.new_call(key, request, from, now)
                    }
                    None if key.method() == &Method::Register => {
                        self.register(key, request, from, now)
                    }
                    // A request inside a dialog this SBC does not have (RFC 3261 §12.2.2).
                    None if has_to_tag => self.reply(&key, &request, &from, 481, Vec::new()),
                    None => {
                        let reply = pipeline::edge_request(&request, &self.identity);
                        self.answer(&key, &request, &from, reply);
                    }
                }
            }
            TxEvent::Cancel {
                key,
                request,
                from,
                target,
            } => {
                self.started(&key, TransactionKind::ServerNonInvite);
                let call = match &target {
                    CancelTarget::Proceeding(invite) | CancelTarget::Answered(invite) => {
                        self.calls.by_tx(invite)
                    }
                    CancelTarget::NotFound => None,
                };
                if let Some((id, leg)) = call {
                    self.call_event(
                        id,
                        CallEvent::Request {
                            leg,
                            request,
                            tx: key,
                        },
                        now,
                    );
                    return;
                }
                let status = match target {
                    CancelTarget::Proceeding(invite_key) => {
                        if let Some(invite) = self.pending_invites.remove(&invite_key) {
                            let reply = Reply {
                                status: 487,
                                extra: Vec::new(),
                            };
                            self.answer(&invite_key, &invite, &from, reply);
                        }
                        200
                    }
                    CancelTarget::Answered(_) => 200,
                    CancelTarget::NotFound => 481,
                };
                self.answer(
                    &key,
                    &request,
                    &from,
                    Reply {
                        status,
                        extra: Vec::new(),
                    },
                );
            }
            TxEvent::Ack2xx { request, .. } => {
                let call = request
                    .call_id()
                    .ok()
                    .and_then(|c| self.calls.by_call_id(c.as_bytes()));
                match call {
                    Some((id, leg)) => self.call_event(id, CallEvent::Ack { leg, request }, now),
                    None => trace!("ACK for a 2xx outside any dialog, ignored"),
                }
            }
            TxEvent::Response { key, response }
                if self.probe_result(&key, response.status(), now) => {}
            TxEvent::Response { key, response }
                if self.register_response(&key, Some(&response), now) => {}
            TxEvent::Response { key, response } if self.subs_response(&key, &response, now) => {}
            TxEvent::Response { key, response }
                if self.registrant_result(&key, Some(&response), now) => {}
            TxEvent::Response { key, response }
                if self.keepalive_result(&key, response.status(), now) => {}
            TxEvent::Response { key, response } => match self.calls.by_tx(&key) {
                Some((id, leg)) => self.call_event(
                    id,
                    CallEvent::Response {
                        leg,
                        response,
                        tx: key,
                    },
                    now,
                ),
                None => trace!(?key, "response for a client transaction without a call"),
            },
            TxEvent::StrayResponse { .. } => self.metrics.dropped(DropReason::StrayResponse),
            TxEvent::Timeout { key, timer } => {
                if let (Some(kind), Some(label)) = (self.kinds.get(&key), timer_label(timer)) {
                    self.metrics.transaction_timeout(*kind, label);
                }
                if self.no_response(&key, 408, now) {
                    return;
                }
                if let Some((id, leg)) = self.calls.by_tx(&key) {
                    self.call_event(id, CallEvent::TxTimeout { leg, tx: key }, now);
                }
            }
            TxEvent::TransportError { key } => {
                debug!(?key, "transport error on a transaction");
                if self.no_response(&key, 480, now) {
                    return;
                }
                if let Some((id, leg)) = self.calls.by_tx(&key) {
                    self.call_event(id, CallEvent::TransportError { leg, tx: key }, now);
                }
            }
            TxEvent::Terminated { key } => {
                self.pending_invites.remove(&key);
                self.calls.tx_done(&key);
                self.subs.tx_done(&key);
                if let Some(kind) = self.kinds.remove(&key) {
                    self.metrics.transaction_ended(kind);
                }
            }
        }
    }
}

fn timer_label(timer: Timer) -> Option<TimerLabel> {
    Some(match timer {
        Timer::A => TimerLabel::A,
        Timer::B => TimerLabel::B,
        Timer::D => TimerLabel::D,
        Timer::E => TimerLabel::E,
        Timer::F => TimerLabel::F,
        Timer::G => TimerLabel::G,
        Timer::H => TimerLabel::H,
        Timer::I => TimerLabel::I,
        Timer::J => TimerLabel::J,
        Timer::K => TimerLabel::K,
        Timer::L => TimerLabel::L,
        Timer::M => TimerLabel::M,
        Timer::Trying => return None,
    })
}
