//! Edge policy in the signaling task (shell glue over the pure [`crate::policy`] engine):
//! screening of new requests before the transaction layer, admission of new calls before
//! routing, counters released on every call end, the duration limit armed at the answer, and
//! 401/403/407 responses scored against their destination.

use crate::b2bua::call::{CallEvent, CallTimer};
use crate::b2bua::pipeline::{self, Reply};
use crate::b2bua::registrar::aor_of;
use crate::b2bua::task::Core;
use crate::policy::engine::{Event, EventAction};
use crate::policy::{CallCtx, Engine, MethodClass, PolicyStore, RequestCtx, Ticket, Verdict};
use crate::sip::header::HeaderName;
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::response::response_to;
use crate::sip::transaction::TxKey;
use crate::sip::uri::Uri;
use crate::transport::Target;
use bytes::Bytes;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often bans expire, limiters are pruned and the policy gauges are set.
const HOUSEKEEPING: Duration = Duration::from_secs(1);

/// What the policy holds for one live call.
struct CallPolicy {
    ticket: Ticket,
    max_duration: Option<(Duration, Option<Duration>, Arc<str>)>,
    source: SocketAddr,
    user: Option<String>,
    destination: Option<String>,
}

/// The policy state of the signaling task.
pub(crate) struct PolicyHooks {
    store: Arc<PolicyStore>,
    engine: Engine,
    calls: HashMap<u64, CallPolicy>,
    /// Admitted by the policy, not yet started (routing may still refuse it).
    pending: Option<CallPolicy>,
    /// Flows with a registration the PBX accepted (rebuilt at each housekeeping).
    registered: HashSet<SocketAddr>,
    /// Realm of the PBX's last digest challenge to a phone.
    challenge_realm: Option<String>,
    next_housekeeping: Instant,
}

impl PolicyHooks {
    pub(crate) fn new(store: Arc<PolicyStore>, now: Instant) -> PolicyHooks {
        PolicyHooks {
            engine: Engine::new(Arc::clone(store.bans()), now),
            store,
            calls: HashMap::new(),
            pending: None,
            registered: HashSet::new(),
            challenge_realm: None,
            next_housekeeping: now + HOUSEKEEPING,
        }
    }
}

/// The AOR of a header's URI, as `sip:user@host`.
fn aor(value: Option<Uri>) -> Option<String> {
    value.as_ref().and_then(aor_of)
}

/// The dialled number: the Request-URI user (or a tel: number).
fn destination(request: &Message) -> Option<String> {
    match request.request_uri().ok()? {
        Uri::Sip(sip) => sip
            .user
            .as_deref()
            .map(|u| String::from_utf8_lossy(u).into_owned()),
        Uri::Tel(tel) => Some(String::from_utf8_lossy(&tel.number).into_owned()),
        Uri::Other { .. } => None,
    }
}

/// The `realm` of a digest challenge, when it is a plain quoted string.
fn digest_realm(value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?;
    let start = text.find("realm=\"")? + "realm=\"".len();
    let end = start + text[start..].find('"')?;
    let realm = &text[start..end];
    (!realm.contains('\\') && realm.chars().all(|c| !c.is_control())).then(|| realm.to_owned())
}

impl Core {
    /// Puts `store`'s policy in force in this task.
    pub fn with_policy(mut self, store: Arc<PolicyStore>) -> Core {
        let now = tokio::time::Instant::now().into_std();
        self.policy = Some(PolicyHooks::new(store, now));
        self
    }

    /// The next policy housekeeping instant.
    pub(crate) fn policy_deadline(&self) -> Option<Instant> {
        self.policy.as_ref().map(|p| p.next_housekeeping)
    }

    /// Expires bans, prunes tables and sets the gauges when due.
    pub(crate) fn policy_housekeeping(&mut self, now: Instant) {
        let Some(p) = self.policy.as_mut() else {
            return;
        };
        if now < p.next_housekeeping {
            return;
        }
        p.next_housekeeping = now + HOUSEKEEPING;
        let policy = p.store.current();
        let sizes = p.engine.housekeeping(&policy, now);
        self.metrics.policy_tables(
            sizes.bans,
            sizes.limiter_keys,
            sizes.scored_sources,
            sizes.fraud_keys,
        );
        p.registered = self
            .registrar
            .confirmed_flows()
            .filter(|f| f.transport == crate::config::Transport::Udp)
            .map(|f| f.remote)
            .collect();
    }

    /// Screens a new request before the transaction layer sees it: returns false when the
    /// policy dropped or answered it. ACK and CANCEL always pass (they end what exists), and
    /// in-dialog requests only face the ban list.
    pub(crate) fn policy_screen(
        &mut self,
        msg: &Message,
        source: &Target,
        reply_to: &Target,
    ) -> bool {
        if self.policy.is_none() {
            return true;
        }
        let Some(method) = msg.method() else {
            return true;
        };
        let now = tokio::time::Instant::now().into_std();
        if matches!(method, Method::Ack | Method::Cancel) {
            return true;
        }
        let in_dialog = msg.to_header().ok().is_some_and(|t| t.tag().is_some());
        if in_dialog {
            return self
                .policy
                .as_ref()
                .is_none_or(|p| !p.engine.bans().is_banned(source.remote, now));
        }
        let realm = self.labels(source).0;
        let peer = self.peer_of(source.remote).map(str::to_owned);
        let user = if *method == Method::Register {
            aor(msg.to_header().ok().map(|h| h.uri))
        } else {
            aor(msg.from_header().ok().map(|h| h.uri))
        };
        let Some(p) = self.policy.as_mut() else {
            return true;
        };
        let ctx = RequestCtx {
            realm: &realm,
            source: source.remote,
            registered: p.registered.contains(&source.remote),
            peer: peer.as_deref(),
            method: MethodClass::of(method),
            user_agent: msg.headers.get(HeaderName::UserAgent).map(|v| &v[..]),
            user: user.as_deref(),
        };
        let policy = p.store.current();
        let decision = p.engine.evaluate(&policy, &ctx, now);
        p.store.record(decision.events);
        match decision.verdict {
            Verdict::Accept => true,
            Verdict::Drop => false,
            Verdict::Reject {
                status,
                retry_after,
            } => {
                let extra = retry_after
                    .map(|s| Header::new(HeaderName::RetryAfter, Bytes::from(s.to_string())))
                    .into_iter()
                    .collect();
                let tag = Bytes::from(crate::b2bua::random::hex(
                    &crate::b2bua::random::bytes::<8>(),
                ));
                let response = pipeline::build(msg, &Reply { status, extra }, &tag, &self.server);
                let (realm, transport) = self.labels(reply_to);
                self.metrics.sip_response(
                    status,
                    method,
                    &realm,
                    transport,
                    crate::metrics::labels::Direction::Out,
                );
                let reliable = reply_to.reliable();
                self.layer
                    .send_stateless(response, reply_to.clone(), reliable);
                false
            }
        }
    }

    /// Admission of a new call before routing: false when the policy refused it (answered 403).
    pub(crate) fn policy_admit_call(
        &mut self,
        key: &TxKey,
        invite: &Message,
        from: &Target,
    ) -> bool {
        if self.policy.is_none() {
            return true;
        }
        let now = tokio::time::Instant::now().into_std();
        #[allow(clippy::disallowed_methods)] // the shell supplies wall-clock time for day windows
        let unix_secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let realm = self.labels(from).0;
        let user = aor(invite.from_header().ok().map(|h| h.uri)).map(|a| {
            a.split_once(':')
                .map_or(a.clone(), |(_, rest)| rest.to_owned())
        });
        let user_part = user.as_deref().map(|u| u.split('@').next().unwrap_or(u));
        let dest = destination(invite);
        let peer = self.peer_of(from.remote).map(str::to_owned);
        let Some(p) = self.policy.as_mut() else {
            return true;
        };
        let ctx = CallCtx {
            realm: &realm,
            source: from.remote,
            peer: peer.as_deref(),
            user: user_part,
            destination: dest.as_deref(),
            unix_secs,
        };
        let policy = p.store.current();
        let (admission, events) = p.engine.admit_call(&policy, &ctx, now);
        p.store.record(events);
        if let Some(refusal) = admission.refused {
            let status_line_reason = refusal.reason.to_string();
            self.reply_reason(key, invite, from, 403, &status_line_reason);
            return false;
        }
        p.pending = Some(CallPolicy {
            ticket: admission.ticket,
            max_duration: admission.max_duration,
            source: from.remote,
            user: user_part.map(str::to_owned),
            destination: dest,
        });
        true
    }

    /// Releases an admission that did not become a call (routing refused it).
    pub(crate) fn policy_not_started(&mut self) {
        if let Some(p) = self.policy.as_mut() {
            if let Some(pending) = p.pending.take() {
                p.engine.call_ended(pending.ticket);
            }
        }
    }

    /// The admitted call became call `id`.
    pub(crate) fn policy_call_started(&mut self, id: u64) {
        if let Some(p) = self.policy.as_mut() {
            if let Some(pending) = p.pending.take() {
                p.calls.insert(id, pending);
            }
        }
    }

    /// Call `id` ended, on whatever path: its counters are released.
    pub(crate) fn policy_call_ended(&mut self, id: u64) {
        if let Some(p) = self.policy.as_mut() {
            if let Some(call) = p.calls.remove(&id) {
                p.engine.call_ended(call.ticket);
            }
        }
    }

    /// The duration rule that limits call `id`, if one does (for its call record).
    pub(crate) fn policy_duration_rule(&self, id: u64) -> Option<Arc<str>> {
        let call = self.policy.as_ref()?.calls.get(&id)?;
        call.max_duration.as_ref().map(|d| Arc::clone(&d.2))
    }

    /// Call `id` was answered: arms its duration limit.
    pub(crate) fn policy_call_answered(&mut self, id: u64, now: Instant) {
        let Some(p) = self.policy.as_ref() else {
            return;
        };
        let Some((limit, warn, _)) = p.calls.get(&id).and_then(|c| c.max_duration.clone()) else {
            return;
        };
        self.calls
            .set_policy_timer(id, CallTimer::MaxDuration, now + limit);
        if let Some(warn) = warn {
            self.calls
                .set_policy_timer(id, CallTimer::DurationWarning, now + warn);
        }
    }

    /// A policy timer of call `id` fired: logs it; returns whether the call must see it.
    pub(crate) fn policy_timer(&mut self, id: u64, timer: CallTimer) -> bool {
        let action = match timer {
            CallTimer::MaxDuration => EventAction::End,
            CallTimer::DurationWarning => EventAction::Warn,
            _ => return true,
        };
        if let Some(p) = self.policy.as_ref() {
            if let Some(call) = p.calls.get(&id) {
                let rule = call
                    .max_duration
                    .as_ref()
                    .map_or_else(|| Arc::from("duration"), |d| Arc::clone(&d.2));
                p.store.record(vec![Event {
                    kind: "duration",
                    rule,
                    action,
                    source: call.source,
                    user: call.user.clone(),
                    destination: call.destination.clone(),
                    ban: None,
                }]);
            }
        }
        timer == CallTimer::MaxDuration
    }

    /// A final response to `request` is relayed to `to`: a 403, or a 401/407 to a request that
    /// carried credentials (a failed authentication, not the usual first challenge), scores `to`;
    /// repeated failures ban it.
    pub(crate) fn policy_final_response(
        &mut self,
        request: &Message,
        response: &Message,
        to: &Target,
    ) {
        let failed = match response.status() {
            Some(403) => true,
            Some(401 | 407) => {
                request.headers.get(HeaderName::Authorization).is_some()
                    || request
                        .headers
                        .get(HeaderName::ProxyAuthorization)
                        .is_some()
            }
            _ => false,
        };
        if !failed || self.policy.is_none() {
            return;
        }
        let peer = self.peer_of(to.remote).is_some();
        let Some(p) = self.policy.as_mut() else {
            return;
        };
        let now = tokio::time::Instant::now().into_std();
        let registered = p.registered.contains(&to.remote);
        let policy = p.store.current();
        let events = p
            .engine
            .auth_failure(&policy, to.remote, registered, peer, now);
        p.store.record(events);
    }

    /// Answers a server transaction with `status` and a reason phrase of the policy's.
    fn reply_reason(
        &mut self,
        key: &TxKey,
        request: &Message,
        from: &Target,
        status: u16,
        reason: &str,
    ) {
        let tag = crate::b2bua::random::hex(&crate::b2bua::random::bytes::<8>());
        let mut response = response_to(request, status, Some(reason), Some(tag.as_bytes()));
        response
            .headers
            .push(Header::new(HeaderName::Server, self.server.clone()));
        let (realm, transport) = self.labels(from);
        if let Some(method) = request.method() {
            self.metrics.sip_response(
                status,
                method,
                &realm,
                transport,
                crate::metrics::labels::Direction::Out,
            );
        }
        let now = tokio::time::Instant::now().into_std();
        if let Err(e) = self.layer.respond(key, response, now) {
            tracing::debug!(error = %e, "response refused by the transaction layer");
        }
    }

    /// A REGISTER failure about to be relayed to a phone: with `uniform_register_failures`, an
    /// unknown user (404, 484, 604) is answered like an existing one without credentials, with a
    /// 401 challenge in the realm of the PBX's last real challenge (403 before any was seen),
    /// so a scanner cannot tell extensions that exist from those that do not.
    pub(crate) fn policy_register_failure(
        &mut self,
        code: u16,
        extra: Vec<Header>,
    ) -> (u16, Vec<Header>) {
        let Some(p) = self.policy.as_mut() else {
            return (code, extra);
        };
        if code == 401 {
            if let Some(realm) = extra
                .iter()
                .find(|h| h.name == HeaderName::WwwAuthenticate)
                .and_then(|h| digest_realm(&h.value))
            {
                p.challenge_realm = Some(realm);
            }
            return (code, extra);
        }
        if !matches!(code, 404 | 484 | 604) || !p.store.current().scanner.uniform_register_failures
        {
            return (code, extra);
        }
        match &p.challenge_realm {
            Some(realm) => {
                let nonce = crate::b2bua::random::hex(&crate::b2bua::random::bytes::<16>());
                let value = format!(
                    "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\""
                );
                let header = Header::new(HeaderName::WwwAuthenticate, Bytes::from(value));
                (401, vec![header])
            }
            None => (403, Vec::new()),
        }
    }

    /// Feeds a call timer to its call unless the policy consumed it.
    pub(crate) fn call_timer(&mut self, id: u64, timer: CallTimer, now: Instant) {
        if self.policy_timer(id, timer) {
            self.call_event(id, CallEvent::Timer(timer), now);
        }
    }
}
