//! The subscription table of the signaling task (shell glue, no I/O of its own): creates a
//! [`Subscription`] for every routed initial SUBSCRIBE, finds the subscription of every later
//! request, response, failure and expiry, and executes its actions through the transaction
//! layer. Indexes: each leg's Call-ID and every client transaction; expiries in one ordered
//! wheel. A subscription leaves every table when it ends, and the `sbc_subscriptions_active`
//! gauge follows the table per event package. Out-of-dialog MESSAGE, PUBLISH and NOTIFY are
//! dispatched to [`crate::b2bua::message`] from here too.

use crate::b2bua::call::Leg;
use crate::b2bua::message::{OneShots, RequestClass};
use crate::b2bua::subscription::{SubAction, SubEvent, Subscription};
use crate::b2bua::task::Core;
use crate::metrics::labels::TransactionKind;
use crate::metrics::signaling::RelayResult;
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::transaction::TxKey;
use crate::transport::{ConnId, Target};
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use tracing::debug;

/// One subscription and where its legs are.
struct SubEntry {
    sub: Subscription,
    /// The subscriber's flow (the one its SUBSCRIBE came on).
    a: Target,
    /// The notifier's flow.
    b: Target,
    a_call_id: Bytes,
    b_call_id: Bytes,
    /// The event package, an allow-listed metric label.
    package: String,
}

/// Every live subscription, its indexes, and the relayed one-transaction requests.
#[derive(Default)]
pub(crate) struct Subs {
    entries: HashMap<u64, SubEntry>,
    by_call_id: HashMap<Bytes, (u64, Leg)>,
    by_tx: HashMap<TxKey, (u64, Leg)>,
    wheel: BTreeMap<(Instant, u64), ()>,
    deadlines: HashMap<u64, Instant>,
    per_package: HashMap<String, usize>,
    next_id: u64,
    /// Relayed MESSAGE, PUBLISH and unsolicited NOTIFY transactions.
    pub(crate) one_shots: OneShots,
}

impl Subs {
    /// Live subscriptions.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The earliest expiry.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.wheel.keys().next().map(|(t, _)| *t)
    }

    /// Forgets a finished transaction.
    pub(crate) fn tx_done(&mut self, key: &TxKey) {
        self.by_tx.remove(key);
    }

    fn set_timer(&mut self, id: u64, at: Instant) {
        if let Some(old) = self.deadlines.insert(id, at) {
            self.wheel.remove(&(old, id));
        }
        self.wheel.insert((at, id), ());
    }

    fn pop_due(&mut self, now: Instant) -> Option<u64> {
        let &(at, id) = self.wheel.keys().next()?;
        if at > now {
            return None;
        }
        self.wheel.remove(&(at, id));
        self.deadlines.remove(&id);
        Some(id)
    }

    fn remove(&mut self, id: u64) -> Option<SubEntry> {
        let entry = self.entries.remove(&id)?;
        self.by_call_id.remove(&entry.a_call_id);
        self.by_call_id.remove(&entry.b_call_id);
        self.by_tx.retain(|_, (sub, _)| *sub != id);
        if let Some(at) = self.deadlines.remove(&id) {
            self.wheel.remove(&(at, id));
        }
        Some(entry)
    }

    /// Adds `delta` to the count of `package` and returns the new count.
    fn count(&mut self, package: &str, delta: isize) -> usize {
        let n = self.per_package.entry(package.to_owned()).or_default();
        *n = n.saturating_add_signed(delta);
        *n
    }
}

impl Core {
    /// Takes a new request that belongs to a subscription, starts one, or relays an
    /// out-of-dialog MESSAGE, PUBLISH or NOTIFY; gives every other request back.
    pub(crate) fn subs_request(
        &mut self,
        key: TxKey,
        request: Message,
        from: Target,
        now: Instant,
    ) -> Option<(TxKey, Message, Target)> {
        let call_id = request.call_id().ok().map(|c| c.as_bytes().clone());
        let has_to_tag = request.to_header().ok().is_some_and(|t| t.tag().is_some());
        // Only in-dialog requests belong to a subscription: a phone may reuse the Call-ID of its
        // REGISTER or SUBSCRIBE for an out-of-dialog request.
        let sub = call_id
            .as_ref()
            .filter(|_| has_to_tag)
            .and_then(|c| self.subs.by_call_id.get(c).copied());
        if let Some((id, leg)) = sub {
            self.sub_event(
                id,
                SubEvent::Request {
                    leg,
                    request,
                    tx: key,
                },
                now,
            );
            return None;
        }
        let in_call = call_id
            .as_ref()
            .is_some_and(|c| self.calls.by_call_id(c).is_some());
        if has_to_tag || in_call {
            return Some((key, request, from));
        }
        match key.method() {
            Method::Subscribe => self.new_subscription(key, request, from, now),
            Method::Message | Method::Publish | Method::Notify => {
                self.one_shot(key, request, from, now)
            }
            _ => return Some((key, request, from)),
        }
        None
    }

    /// A response to a client transaction of a subscription or a one-transaction relay; false
    /// when `key` is neither.
    pub(crate) fn subs_response(&mut self, key: &TxKey, response: &Message, now: Instant) -> bool {
        if let Some((id, leg)) = self.subs.by_tx.get(key).copied() {
            let event = SubEvent::Response {
                leg,
                response: response.clone(),
                tx: key.clone(),
            };
            self.sub_event(id, event, now);
            return true;
        }
        self.one_shot_response(key, Some(response), 500)
    }

    /// A client transaction that timed out (408) or could not be sent (480); false when it is
    /// not one of a subscription or a one-transaction relay.
    pub(crate) fn subs_failed(&mut self, key: &TxKey, status: u16, now: Instant) -> bool {
        if let Some((id, leg)) = self.subs.by_tx.get(key).copied() {
            let event = SubEvent::Failed {
                leg,
                tx: key.clone(),
                status,
            };
            self.sub_event(id, event, now);
            return true;
        }
        self.one_shot_response(key, None, status)
    }

    /// Fires every subscription expiry due at `now`.
    pub(crate) fn sub_timers(&mut self, now: Instant) {
        while let Some(id) = self.subs.pop_due(now) {
            self.sub_event(id, SubEvent::Expired, now);
        }
    }

    /// A TCP/TLS connection closed: the subscriptions with a side on it end, and the other side
    /// is told.
    pub(crate) fn subs_connection_closed(&mut self, conn: ConnId, now: Instant) {
        let gone: Vec<(u64, Leg)> = self
            .subs
            .entries
            .iter()
            .filter_map(|(id, e)| {
                if e.a.conn == Some(conn) {
                    Some((*id, Leg::A))
                } else {
                    (e.b.conn == Some(conn)).then_some((*id, Leg::B))
                }
            })
            .collect();
        for (id, leg) in gone {
            debug!(sub = id, ?leg, "connection closed; subscription ends");
            self.sub_event(id, SubEvent::Gone { leg }, now);
        }
    }

    /// Number of live subscriptions.
    pub fn active_subscriptions(&self) -> usize {
        self.subs.len()
    }

    /// An initial SUBSCRIBE (server transaction `key`) from `from`.
    fn new_subscription(&mut self, key: TxKey, request: Message, from: Target, now: Instant) {
        let routed = self
            .admit(RequestClass::Subscribe, &from, &request)
            .and_then(|()| self.route_out_of_dialog(&request, &from, now));
        let routed = match routed {
            Ok(routed) => routed,
            Err((status, extra)) => return self.reply(&key, &request, &from, status, extra),
        };
        let config = &self.config.subscriptions;
        let (sub, actions) = match Subscription::new(&request, &key, routed.plan, config, now) {
            Ok(started) => started,
            Err(refusal) => return self.respond_on(&key, *refusal, &from),
        };
        let Ok(a_call_id) = request.call_id().map(|c| c.as_bytes().clone()) else {
            return;
        };
        self.subs.next_id += 1;
        let id = self.subs.next_id;
        let b_call_id = sub.b_call_id();
        let package = String::from_utf8_lossy(sub.package()).into_owned();
        debug!(sub = id, %package, "subscription routed");
        self.subs.by_call_id.insert(a_call_id.clone(), (id, Leg::A));
        self.subs.by_call_id.insert(b_call_id.clone(), (id, Leg::B));
        let count = self.subs.count(&package, 1);
        self.metrics.subscriptions_active(&package, count);
        self.subs.entries.insert(
            id,
            SubEntry {
                sub,
                a: from,
                b: routed.to,
                a_call_id,
                b_call_id,
                package,
            },
        );
        self.sub_execute(id, actions, now);
    }

    /// Feeds an event to subscription `id` and executes what it decides.
    fn sub_event(&mut self, id: u64, event: SubEvent, now: Instant) {
        // NOTIFYs toward the subscriber: relayed when answered 2xx, failed otherwise.
        let notify = match &event {
            SubEvent::Response {
                leg: Leg::A,
                response,
                tx,
            } if tx.method() == &Method::Notify => response.status().filter(|c| *c >= 200),
            SubEvent::Failed {
                leg: Leg::A, tx, ..
            } if tx.method() == &Method::Notify => Some(0),
            _ => None,
        };
        if let Some(code) = notify {
            let result = if (200..300).contains(&code) {
                RelayResult::Relayed
            } else {
                RelayResult::Failed
            };
            self.metrics.notify(result);
        }
        let Some(entry) = self.subs.entries.get_mut(&id) else {
            return;
        };
        let actions = entry.sub.handle(event, now);
        self.sub_execute(id, actions, now);
    }

    fn sub_execute(&mut self, id: u64, actions: Vec<SubAction>, now: Instant) {
        for action in actions {
            let Some(entry) = self.subs.entries.get(&id) else {
                return;
            };
            let target = |leg: Leg| match leg {
                Leg::A => entry.a.clone(),
                Leg::B => entry.b.clone(),
            };
            match action {
                SubAction::SendRequest { leg, request } => {
                    let to = target(leg);
                    self.count_out(&request, &to);
                    let reliable = to.reliable();
                    match self.layer.send_request(request, to, reliable, now) {
                        Ok(key) => {
                            self.started(&key, TransactionKind::ClientNonInvite);
                            self.subs.by_tx.insert(key, (id, leg));
                        }
                        Err(e) => {
                            debug!(sub = id, error = %e, "request refused by the transaction layer")
                        }
                    }
                }
                SubAction::SendResponse { leg, tx, response } => {
                    let to = target(leg);
                    self.respond_on(&tx, response, &to);
                }
                SubAction::SetTimer(at) => self.subs.set_timer(id, at),
                SubAction::Ended(reason) => {
                    debug!(sub = id, ?reason, "subscription ended");
                    if let Some(entry) = self.subs.remove(id) {
                        let count = self.subs.count(&entry.package, -1);
                        self.metrics.subscriptions_active(&entry.package, count);
                    }
                }
            }
        }
    }

    /// Sends a prebuilt `response` on server transaction `tx` toward `to`, counted.
    pub(crate) fn respond_on(&mut self, tx: &TxKey, response: Message, to: &Target) {
        self.count_out(&response, to);
        if let Err(e) = self.layer.respond(tx, response, crate::b2bua::task::now()) {
            debug!(error = %e, "response refused by the transaction layer");
        }
    }
}
