//! The call table of the signaling task (shell glue, no I/O of its own): creates a
//! [`Call`] for every routed INVITE, finds the call of every later
//! request, response, ACK, timeout and timer, and executes the call's actions through the
//! transaction layer. Indexes: each leg's Call-ID, and every transaction key the call uses;
//! timers in one ordered wheel. A call leaves every table when it ends.

use crate::b2bua::call::{
    Action, Call, CallEvent, CallPlan, CallTimer, CallTimers, EndReason, HeaderPolicy, Leg,
    LegIdentity,
};
use crate::b2bua::cdr::{CallDraft, PolicyRecord};
use crate::b2bua::control::CallSummary;
use crate::b2bua::health::AddressKey;
use crate::b2bua::route::{self, Candidate, RouteDecision, Source};
use crate::b2bua::task::Core;
use crate::config::{Host as ConfigHost, Transport};
use crate::metrics::labels::Direction;
use crate::sip::header::NameAddr;
use crate::sip::message::Message;
use crate::sip::transaction::TxKey;
use crate::sip::uri::{Host, SipUri, Uri};
use crate::transport::{ListenerId, Target};
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;
use tracing::debug;

/// One call and where its legs are.
pub(crate) struct CallEntry {
    call: Call,
    /// Where requests to the caller go (the flow its INVITE came on).
    a: Target,
    /// The peer the B leg talks to.
    b: Target,
    a_call_id: Bytes,
    b_call_id: Bytes,
    /// The peer the call was routed to (a bounded metric label: configured names only).
    peer: String,
    started: Instant,
    rang: bool,
    answered: bool,
    /// A's INVITE, kept so a new B leg can be started on failover.
    invite: Message,
    /// The Request-URI user after number manipulation.
    user: Option<String>,
    /// Addresses still to try, in failover order.
    remaining: VecDeque<Candidate>,
    /// The address the current B leg goes to (the health key).
    address: AddressKey,
    /// The current B leg's INVITE transaction.
    b_invite: Option<TxKey>,
    /// Whether the call has sent anything to A (then failover would be visible: no more).
    a_heard: bool,
    /// What the call record will say.
    record: CallDraft,
}

/// Every live call and its indexes.
#[derive(Default)]
pub(crate) struct Calls {
    calls: HashMap<u64, CallEntry>,
    by_call_id: HashMap<Bytes, (u64, Leg)>,
    by_tx: HashMap<TxKey, (u64, Leg)>,
    timers: HashMap<(u64, CallTimer), (Instant, u64)>,
    wheel: BTreeMap<(Instant, u64), (u64, CallTimer)>,
    next_id: u64,
    next_timer: u64,
}

impl Calls {
    /// Live calls.
    pub(crate) fn len(&self) -> usize {
        self.calls.len()
    }

    /// The earliest call timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.wheel.keys().next().map(|(t, _)| *t)
    }

    /// The call a request or ACK with this Call-ID belongs to.
    pub(crate) fn by_call_id(&self, call_id: &[u8]) -> Option<(u64, Leg)> {
        self.by_call_id.get(call_id).copied()
    }

    /// The call a transaction belongs to.
    pub(crate) fn by_tx(&self, key: &TxKey) -> Option<(u64, Leg)> {
        self.by_tx.get(key).copied()
    }

    /// Forgets a finished transaction.
    pub(crate) fn tx_done(&mut self, key: &TxKey) {
        self.by_tx.remove(key);
    }

    /// Arms a timer the policy owns on call `id` (duration limit and its warning).
    pub(crate) fn set_policy_timer(&mut self, id: u64, timer: CallTimer, at: Instant) {
        self.set_timer(id, timer, at);
    }

    fn set_timer(&mut self, id: u64, timer: CallTimer, at: Instant) {
        self.cancel_timer(id, timer);
        self.next_timer += 1;
        self.timers.insert((id, timer), (at, self.next_timer));
        self.wheel.insert((at, self.next_timer), (id, timer));
    }

    fn cancel_all_timers(&mut self, id: u64) {
        let timers: Vec<CallTimer> = self
            .timers
            .keys()
            .filter(|(c, _)| *c == id)
            .map(|(_, t)| *t)
            .collect();
        for t in timers {
            self.cancel_timer(id, t);
        }
    }

    fn cancel_timer(&mut self, id: u64, timer: CallTimer) {
        if let Some(slot) = self.timers.remove(&(id, timer)) {
            self.wheel.remove(&slot);
        }
    }

    /// Pops one call timer due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(u64, CallTimer)> {
        let (&slot, &(id, timer)) = self.wheel.iter().next()?;
        if slot.0 > now {
            return None;
        }
        self.wheel.remove(&slot);
        self.timers.remove(&(id, timer));
        Some((id, timer))
    }

    /// Forgets the current B leg of call `id` (its Call-ID, transactions and timers) before a new
    /// B leg replaces it.
    fn clear_leg_b(&mut self, id: u64) {
        if let Some(entry) = self.calls.get(&id) {
            self.by_call_id.remove(&entry.b_call_id);
        }
        self.by_tx
            .retain(|_, (call, leg)| !(*call == id && *leg == Leg::B));
        self.cancel_all_timers(id);
    }

    /// The numbers of the live calls.
    pub(crate) fn ids(&self) -> Vec<u64> {
        self.calls.keys().copied().collect()
    }

    /// The live calls, for the admin API, oldest first.
    pub(crate) fn summaries(&self, clock: &crate::b2bua::cdr::WallClock) -> Vec<CallSummary> {
        let mut list: Vec<CallSummary> = self
            .calls
            .iter()
            .map(|(id, e)| CallSummary {
                id: *id,
                state: match (e.answered, e.rang) {
                    (true, _) => "answered",
                    (false, true) => "ringing",
                    _ => "calling",
                },
                start: clock.rfc3339(e.started),
                peer: e.peer.clone(),
                caller: e.record.caller.clone(),
                callee: e.record.callee.clone(),
            })
            .collect();
        list.sort_by_key(|c| c.id);
        list
    }

    fn remove(&mut self, id: u64) -> Option<CallEntry> {
        let entry = self.calls.remove(&id)?;
        self.by_call_id.remove(&entry.a_call_id);
        self.by_call_id.remove(&entry.b_call_id);
        self.by_tx.retain(|_, (call, _)| *call != id);
        self.cancel_all_timers(id);
        Some(entry)
    }
}

/// The SBC as it presents itself on a listener.
fn identity(
    local: SocketAddr,
    advertised: Option<&ConfigHost>,
    transport: Transport,
) -> LegIdentity {
    let host = match advertised {
        Some(ConfigHost::Ip(ip)) => Host::from(*ip),
        Some(ConfigHost::Name(name)) => Host::Name(Bytes::from(name.clone())),
        None => Host::from(local.ip()),
    };
    let mut contact = SipUri::new(host.clone(), Some(local.port()));
    if transport != Transport::Udp {
        contact.params_mut().set(
            "transport",
            Some(Bytes::from(transport.as_str().to_ascii_lowercase())),
        );
    }
    LegIdentity {
        transport: Bytes::from(transport.as_str().to_ascii_uppercase()),
        host,
        port: Some(local.port()),
        contact: Uri::Sip(contact),
    }
}

impl Core {
    pub(crate) fn listener_for(&self, realm: &str, transport: Transport) -> Option<ListenerId> {
        self.transports
            .listeners()
            .iter()
            .position(|l| &*l.realm_name == realm && l.transport == transport)
            .map(|i| i as ListenerId)
    }

    pub(crate) fn leg_identity(&self, listener: ListenerId) -> Option<LegIdentity> {
        let info = self.transports.listener(listener)?;
        let realm = self.config.realms.get(info.realm)?;
        Some(identity(
            info.local,
            realm.advertised_address.as_ref(),
            info.transport,
        ))
    }

    /// The configured peer a request from `remote` comes from, if any.
    pub(crate) fn peer_of(&self, remote: SocketAddr) -> Option<&str> {
        self.config.peers.iter().find_map(|p| {
            p.addresses
                .iter()
                .any(|a| self.peer_names.matches(&a.host, remote.ip()))
                .then_some(p.name.as_str())
        })
    }

    /// A new INVITE outside any dialog: the policy admits it (or answers 403), then it is
    /// routed and becomes a call, or is answered.
    pub(crate) fn new_call(&mut self, key: TxKey, invite: Message, from: Target, now: Instant) {
        if !self.policy_admit_call(&key, &invite, &from) {
            return;
        }
        self.route_call(key, invite, from, now);
        self.policy_not_started();
    }

    /// Routes a new INVITE and starts a call, or answers it.
    fn route_call(&mut self, key: TxKey, invite: Message, from: Target, now: Instant) {
        let Some(info) = self.transports.listener(from.listener).cloned() else {
            return;
        };
        let uri = match invite.request_uri() {
            Ok(uri) => uri,
            Err(_) => return self.reply(&key, &invite, &from, 400, Vec::new()),
        };
        let source = Source {
            realm: &info.realm_name,
            peer: self.peer_of(from.remote),
        };
        let decision = route::route(
            &self.config.routes,
            &self.config.peers,
            &self.health.at(now),
            &source,
            &uri,
        );
        let (user, candidates) = match decision {
            Ok(RouteDecision::Peer {
                user, candidates, ..
            }) => (user, VecDeque::from(candidates)),
            Ok(RouteDecision::Registered { user, .. }) => {
                return self.call_registered(key, invite, from, &user, now);
            }
            Err(no) => return self.reply(&key, &invite, &from, no.status(), no.headers()),
        };
        let mut remaining = candidates;
        let mut last_status = 503;
        while let Some(candidate) = remaining.pop_front() {
            let (plan, b) = match self.plan_for(&candidate, user.as_deref(), &invite, from.listener)
            {
                Ok(planned) => planned,
                Err(status) => {
                    last_status = status;
                    continue;
                }
            };
            debug!(peer = %candidate.peer, "call routed");
            let address = AddressKey {
                peer: candidate.peer,
                index: candidate.index,
            };
            self.start_call(key, invite, from, plan, b, address, user, remaining, now);
            return;
        }
        self.reply(&key, &invite, &from, last_status, Vec::new());
    }

    /// A call to a phone registered through the SBC: the Request-URI user is the binding key of
    /// the Contact the PBX was given; the call goes over the flow the phone registered on.
    fn call_registered(
        &mut self,
        key: TxKey,
        invite: Message,
        from: Target,
        user: &str,
        now: Instant,
    ) {
        let Some(binding) = self.registrar.lookup(user.as_bytes()).cloned() else {
            return self.reply(&key, &invite, &from, 404, Vec::new());
        };
        let Ok(aor) = Uri::parse(&Bytes::from(binding.aor.clone())) else {
            return self.reply(&key, &invite, &from, 500, Vec::new());
        };
        let plan = match self.build_plan(
            &invite,
            from.listener,
            binding.flow.listener,
            binding.contact.clone(),
            NameAddr::new(aor),
        ) {
            Ok(plan) => plan,
            Err(status) => return self.reply(&key, &invite, &from, status, Vec::new()),
        };
        let address = AddressKey {
            peer: "registered".to_owned(),
            index: 0,
        };
        let b = binding.flow.clone();
        self.start_call(
            key,
            invite,
            from,
            plan,
            b,
            address,
            None,
            VecDeque::new(),
            now,
        );
    }

    /// Creates the call for A's `invite` (server transaction `key`) along `plan`, toward `b`
    /// (`address` in peer health; `remaining` addresses left for failover), indexes it and
    /// executes its first actions.
    #[allow(clippy::too_many_arguments)] // one call's whole starting state, used in two places
    fn start_call(
        &mut self,
        key: TxKey,
        invite: Message,
        from: Target,
        plan: CallPlan,
        b: Target,
        address: AddressKey,
        user: Option<String>,
        remaining: VecDeque<Candidate>,
        now: Instant,
    ) {
        let Ok(a_call_id) = invite.call_id() else {
            return;
        };
        let a_call_id = a_call_id.as_bytes().clone();
        self.calls.next_id += 1;
        let id = self.calls.next_id;
        let peers = [self.peer_of(from.remote), Some(address.peer.as_str())];
        let transform = self.media_transform(id, [&from, &b], peers);
        let (call, actions) = Call::with_body_transform(&invite, plan, transform, now);
        let b_call_id = call.b_call_id();
        self.calls
            .by_call_id
            .insert(a_call_id.clone(), (id, Leg::A));
        self.calls
            .by_call_id
            .insert(b_call_id.clone(), (id, Leg::B));
        self.calls.by_tx.insert(key, (id, Leg::A));
        self.metrics.call_started(&address.peer);
        self.policy_call_started(id);
        let source_peer = self.peer_of(from.remote).map(str::to_owned);
        let caller = self.leg_record(Some(&invite), &from, source_peer.as_deref());
        let mut record = CallDraft::new(id, now, caller);
        record.callee = self.leg_record(None, &b, Some(&address.peer));
        self.calls.calls.insert(
            id,
            CallEntry {
                call,
                a: from,
                b,
                a_call_id,
                b_call_id,
                peer: address.peer.clone(),
                started: now,
                rang: false,
                answered: false,
                invite,
                user,
                remaining,
                address,
                b_invite: None,
                a_heard: false,
                record,
            },
        );
        self.execute(id, actions, now);
    }

    /// The plan and B-leg target for one candidate address, or the status to answer with.
    pub(crate) fn plan_for(
        &self,
        candidate: &Candidate,
        user: Option<&str>,
        invite: &Message,
        a_listener: ListenerId,
    ) -> Result<(CallPlan, Target), u16> {
        let peer = self.config.peer(&candidate.peer).ok_or(500u16)?;
        let transport = candidate.address.transport;
        let b_listener = self.listener_for(&peer.realm, transport).ok_or(503u16)?;
        let local = self
            .transports
            .listener(b_listener)
            .ok_or(503u16)?
            .local
            .ip();
        let Some(peer_ip) = self.peer_names.address(&candidate.address.host, local) else {
            debug!(peer = %candidate.peer, "peer host name not resolved (yet)");
            return Err(503);
        };
        let remote = SocketAddr::new(peer_ip, candidate.address.port);
        // A peer configured by name sees its name in the Request-URI, as it would from a proxy.
        let uri_host = match &candidate.address.host {
            ConfigHost::Name(name) => Host::Name(Bytes::from(name.clone())),
            ConfigHost::Ip(_) => Host::from(peer_ip),
        };
        let mut b_uri = SipUri::new(uri_host, Some(remote.port()));
        b_uri.set_user(user.map(|u| Bytes::from(u.to_owned())));
        if transport != Transport::Udp {
            b_uri.params_mut().set(
                "transport",
                Some(Bytes::from(transport.as_str().to_ascii_lowercase())),
            );
        }
        let mut plan = self.build_plan(
            invite,
            a_listener,
            b_listener,
            Uri::Sip(b_uri.clone()),
            NameAddr::new(Uri::Sip(b_uri)),
        )?;
        plan.credentials = self.credentials.get(&peer.name).cloned();
        let b = Target {
            listener: b_listener,
            transport,
            remote,
            conn: None,
        };
        Ok((plan, b))
    }

    /// The plan of a call from `a_listener` to `request_uri` over `b_listener`.
    pub(crate) fn build_plan(
        &self,
        invite: &Message,
        a_listener: ListenerId,
        b_listener: ListenerId,
        request_uri: Uri,
        b_to: NameAddr,
    ) -> Result<CallPlan, u16> {
        let a_local = self.leg_identity(a_listener).ok_or(500u16)?;
        let b_local = self.leg_identity(b_listener).ok_or(500u16)?;
        let a_from = invite.from_header().map_err(|_| 400u16)?;
        // Topology hiding: B sees the caller's user and display name at the SBC's address.
        let mut from_uri = SipUri::new(b_local.host.clone(), None);
        if let Uri::Sip(sip) = &a_from.uri {
            from_uri.set_user(sip.user.clone());
        }
        let mut b_from = NameAddr::new(Uri::Sip(from_uri));
        b_from.display = a_from.display.clone();
        Ok(CallPlan {
            request_uri,
            b_from,
            b_to,
            b_route: Vec::new(),
            a_local,
            b_local,
            secret: crate::b2bua::random::bytes(),
            timers: CallTimers {
                t1: self.config.sip.t1,
                t2: self.config.sip.t2,
                ..CallTimers::default()
            },
            headers: HeaderPolicy::default(),
            user_agent: Bytes::from(self.config.sip.user_agent.clone()),
            allow_refer: false,
            credentials: None,
        })
    }

    /// Starts a new B leg toward the next address after the current one failed with 408/503,
    /// a timeout or a transport error (RFC 3263 §4.3 style failover), while the caller has seen
    /// nothing but 100 Trying. Returns false when no address is left (the caller then gets the
    /// failure).
    fn retarget(&mut self, id: u64, now: Instant) -> bool {
        loop {
            let Some(entry) = self.calls.calls.get_mut(&id) else {
                return false;
            };
            let Some(candidate) = entry.remaining.pop_front() else {
                return false;
            };
            let (user, invite, a_listener) =
                (entry.user.clone(), entry.invite.clone(), entry.a.listener);
            let Ok((plan, b)) = self.plan_for(&candidate, user.as_deref(), &invite, a_listener)
            else {
                continue;
            };
            let a = self.calls.calls.get(&id).map(|e| e.a.clone());
            let transform = a.and_then(|a| {
                let peers = [self.peer_of(a.remote), Some(candidate.peer.as_str())];
                self.media_transform(id, [&a, &b], peers)
            });
            let (call, actions) = Call::with_body_transform(&invite, plan, transform, now);
            let callee = self.leg_record(None, &b, Some(&candidate.peer));
            self.calls.clear_leg_b(id);
            let Some(entry) = self.calls.calls.get_mut(&id) else {
                return false;
            };
            debug!(call = id, peer = %candidate.peer, index = candidate.index, "failing over");
            entry.call = call;
            entry.b = b;
            entry.b_invite = None;
            entry.b_call_id = entry.call.b_call_id();
            entry.record.callee = callee;
            entry.peer = candidate.peer.clone();
            entry.address = AddressKey {
                peer: candidate.peer,
                index: candidate.index,
            };
            let b_call_id = entry.b_call_id.clone();
            self.calls.by_call_id.insert(b_call_id, (id, Leg::B));
            self.execute(id, actions, now);
            return true;
        }
    }

    /// Feeds an event to call `id` and executes what it decides.
    pub(crate) fn call_event(&mut self, id: u64, event: CallEvent, now: Instant) {
        if let CallEvent::Request { leg, tx, .. } = &event {
            self.calls.by_tx.insert(tx.clone(), (id, *leg));
        }
        let Some(entry) = self.calls.calls.get_mut(&id) else {
            return;
        };
        match &event {
            CallEvent::Request { leg, request, .. } => entry.record.request(*leg, request),
            CallEvent::Response {
                leg: Leg::B,
                response,
                tx,
            } if entry.b_invite.as_ref() == Some(tx) => entry.record.callee.learn_to_tag(response),
            _ => {}
        }
        // Outcome of the B leg's INVITE: peer health, and failover while A has heard nothing.
        let outcome = match &event {
            CallEvent::Response {
                leg: Leg::B,
                response,
                tx,
            } if entry.b_invite.as_ref() == Some(tx) => {
                response.status().filter(|s| *s >= 200).map(Some)
            }
            CallEvent::TxTimeout { leg: Leg::B, tx }
            | CallEvent::TransportError { leg: Leg::B, tx }
                if entry.b_invite.as_ref() == Some(tx) =>
            {
                Some(None)
            }
            _ => None,
        };
        if let Some(status) = outcome {
            let address = entry.address.clone();
            let failover =
                !entry.a_heard && !entry.remaining.is_empty() && route::should_failover(status);
            self.health.on_call_result(&address, status, now);
            if failover && self.retarget(id, now) {
                return;
            }
        }
        let Some(entry) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let actions = entry.call.handle(event, now);
        self.execute(id, actions, now);
    }

    fn execute(&mut self, id: u64, actions: Vec<Action>, now: Instant) {
        for action in actions {
            let Some(entry) = self.calls.calls.get(&id) else {
                return;
            };
            let (a, b) = (entry.a.clone(), entry.b.clone());
            let target = |leg: Leg| if leg == Leg::A { a.clone() } else { b.clone() };
            match action {
                Action::SendRequest { leg, request } => {
                    let to = target(leg);
                    self.count_out(&request, &to);
                    let reliable = to.reliable();
                    let kind = if request.method() == Some(&crate::sip::Method::Invite) {
                        crate::metrics::labels::TransactionKind::ClientInvite
                    } else {
                        crate::metrics::labels::TransactionKind::ClientNonInvite
                    };
                    let initial_invite = leg == Leg::B
                        && kind == crate::metrics::labels::TransactionKind::ClientInvite
                        && request.to_header().ok().is_some_and(|t| t.tag().is_none());
                    let sent = initial_invite.then(|| request.clone());
                    match self.layer.send_request(request, to, reliable, now) {
                        Ok(key) => {
                            self.started(&key, kind);
                            if initial_invite {
                                if let Some(entry) = self.calls.calls.get_mut(&id) {
                                    entry.b_invite = Some(key.clone());
                                    if let Some(sent) = &sent {
                                        entry.record.callee.learn_identity(sent);
                                    }
                                }
                            }
                            self.calls.by_tx.insert(key, (id, leg));
                        }
                        Err(e) => {
                            debug!(call = id, error = %e, "request refused by the transaction layer")
                        }
                    }
                }
                Action::SendResponse { tx, response, leg } => {
                    self.count_out(&response, &target(leg));
                    if leg == Leg::A {
                        if let Some(entry) = self.calls.calls.get_mut(&id) {
                            entry.a_heard = true;
                        }
                        self.setup_milestone(id, &response, now);
                        if let Some(entry) = self.calls.calls.get(&id) {
                            let invite = entry.invite.clone();
                            self.policy_final_response(&invite, &response, &target(leg));
                        }
                    }
                    if let Err(e) = self.layer.respond(&tx, response, now) {
                        debug!(call = id, error = %e, "response refused by the transaction layer");
                    }
                }
                Action::SendAck { leg, ack } => {
                    let to = target(leg);
                    self.count_out(&ack, &to);
                    let reliable = to.reliable();
                    self.layer.send_stateless(ack, to, reliable);
                }
                Action::SetTimer { timer, at } => self.calls.set_timer(id, timer, at),
                Action::CancelTimer(timer) => self.calls.cancel_timer(id, timer),
                Action::Ended { reason, status } => {
                    debug!(call = id, ?reason, ?status, "call ended");
                    let limit = (reason == EndReason::MaxDuration)
                        .then(|| self.policy_duration_rule(id))
                        .flatten();
                    self.policy_call_ended(id);
                    let media = self.media_ended(id);
                    if let Some(mut entry) = self.calls.remove(id) {
                        if let Some(stats) = &media {
                            entry
                                .record
                                .set_media(crate::b2bua::media::media_record(stats));
                        }
                        let failed = (!entry.answered).then_some(status.unwrap_or(500));
                        self.metrics.call_ended(&entry.peer, failed);
                        if let Some(rule) = limit {
                            entry.record.add_policy(PolicyRecord {
                                rule: rule.to_string(),
                                action: "end".to_owned(),
                            });
                        }
                        self.write_record(entry.record, reason, status, now);
                    }
                }
            }
        }
    }

    /// Records ringing and answer times from the responses relayed to the caller's INVITE.
    fn setup_milestone(&mut self, id: u64, response: &Message, now: Instant) {
        let (Some(code), Ok(cseq)) = (response.status(), response.cseq()) else {
            return;
        };
        if cseq.method != crate::sip::Method::Invite {
            return;
        }
        let Some(entry) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let elapsed = now.saturating_duration_since(entry.started);
        entry.record.caller.learn_to_tag(response);
        entry.record.final_status(code);
        if (180..=183).contains(&code) && !entry.rang {
            entry.rang = true;
            entry.record.ringing(now);
            self.metrics.call_ringing(elapsed);
        } else if (200..300).contains(&code) && !entry.answered {
            entry.answered = true;
            entry.record.answered(now);
            self.metrics.call_answered(&entry.peer, elapsed);
            self.policy_call_answered(id, now);
        }
    }

    pub(crate) fn count_out(&self, message: &Message, to: &Target) {
        let (realm, transport) = self.labels(to);
        match (message.method(), message.status(), message.cseq()) {
            (Some(method), _, _) => {
                self.metrics
                    .sip_request(method, &realm, transport, Direction::Out)
            }
            (None, Some(code), Ok(cseq)) => {
                self.metrics
                    .sip_response(code, &cseq.method, &realm, transport, Direction::Out)
            }
            _ => {}
        }
    }

    /// The SBC ends call `id` itself (drain timeout).
    pub(crate) fn shut_down_call(&mut self, id: u64, now: Instant) {
        if let Some(entry) = self.calls.calls.get_mut(&id) {
            let actions = entry.call.shut_down(now);
            self.execute(id, actions, now);
        }
    }

    /// Ends every call still in the table without signaling (the task is stopping): each gets
    /// its call record and leaves the metrics.
    pub(crate) fn abandon_calls(&mut self, now: Instant) {
        for id in self.calls.ids() {
            if let Some(entry) = self.calls.remove(id) {
                let failed = (!entry.answered).then_some(503);
                self.metrics.call_ended(&entry.peer, failed);
                self.write_record(entry.record, EndReason::Shutdown, None, now);
            }
        }
    }

    /// Fires every call timer due at `now`.
    pub(crate) fn call_timers(&mut self, now: Instant) {
        while let Some((id, timer)) = self.calls.pop_due(now) {
            self.call_timer(id, timer, now);
        }
    }
}
