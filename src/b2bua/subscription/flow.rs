//! The subscription's steps (pure): the initial SUBSCRIBE (RFC 6665 §4.1.2.1, §4.2.1), requests
//! in either dialog (§4.1.2.2 refresh, §4.1.2.3 unsubscribe, §4.2.2 NOTIFY, §4.1.2.4 NOTIFY
//! before the 2xx), responses mapped back to the leg that asked, failures and the expiry timer.

use super::state::{self, SubState};
use super::{Phase, Relay, SubAction, SubEnd, Subscription};
use crate::b2bua::call::ids::{Ids, is_looped};
use crate::b2bua::call::relay::{carry_headers, copy_body, stamp_agent};
use crate::b2bua::call::{CallPlan, Dialog, Leg};
use crate::config::SubscriptionsConfig;
use crate::sip::header::{HeaderName, MaxForwards, NameAddr};
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::response::response_to;
use crate::sip::transaction::TxKey;
use bytes::Bytes;
use std::collections::HashMap;
use std::time::Instant;

/// A response with `code` and `extra` headers to `request`, built by the SBC itself.
fn response(
    request: &Message,
    code: u16,
    tag: &[u8],
    plan: &CallPlan,
    extra: Vec<Header>,
) -> Message {
    let mut response = response_to(request, code, None, Some(tag));
    for h in extra {
        response.headers.push(h);
    }
    stamp_agent(&mut response, &plan.user_agent);
    response
}

/// [`response`] without extra headers, answering `tx` on `leg`.
pub(super) fn bare(
    request: &Message,
    tx: &TxKey,
    leg: Leg,
    code: u16,
    tag: &[u8],
    plan: &CallPlan,
) -> SubAction {
    bare_with(request, tx, leg, code, tag, plan, Vec::new())
}

/// [`response`] answering `tx` on `leg`.
fn bare_with(
    request: &Message,
    tx: &TxKey,
    leg: Leg,
    code: u16,
    tag: &[u8],
    plan: &CallPlan,
    extra: Vec<Header>,
) -> SubAction {
    SubAction::SendResponse {
        leg,
        tx: tx.clone(),
        response: response(request, code, tag, plan, extra),
    }
}

fn header(name: HeaderName, value: impl ToString) -> Header {
    Header::new(name, Bytes::from(value.to_string()))
}

/// The decremented Max-Forwards of a request to relay; `None` means 483.
fn next_hops(request: &Message) -> Option<MaxForwards> {
    match request.max_forwards() {
        Ok(Some(mf)) => mf.decremented(),
        Ok(None) => Some(MaxForwards::DEFAULT),
        Err(_) => None,
    }
}

/// Leg A's dialog as the UAS of the SUBSCRIBE sees it; `None` without From tag or Contact
/// (both mandatory in a SUBSCRIBE, RFC 6665 §4.1.2.1).
fn a_dialog(subscribe: &Message, tag: Bytes) -> Option<Dialog> {
    subscribe.contacts().ok()?.first()?.addr()?;
    let dialog = crate::b2bua::call::a_dialog(subscribe, tag)?;
    dialog.remote_tag.is_some().then_some(dialog)
}

/// Why a SUBSCRIBE (initial or refresh) is refused, with the status and extra headers.
fn check_subscribe(
    request: &Message,
    allowed: &dyn Fn(&[u8]) -> bool,
    allow_events: &str,
    min_expires: u32,
    default_expires: u32,
) -> Result<u32, (u16, Vec<Header>)> {
    match state::package(request) {
        Some(p) if allowed(&p) => {}
        _ => return Err((489, vec![header(HeaderName::AllowEvents, allow_events)])),
    }
    let expires = state::expires(request, default_expires).ok_or((400, Vec::new()))?;
    if expires != 0 && expires < min_expires {
        return Err((423, vec![header(HeaderName::MinExpires, min_expires)]));
    }
    Ok(expires)
}

impl Subscription {
    /// Starts a subscription for A's initial `subscribe` (server transaction `tx`) along
    /// `plan`: the subscription and the B-leg SUBSCRIBE, or the response answering `tx` on A
    /// that refuses it (489 event package not relayed, 423 interval too brief, 482 loop, 483
    /// Max-Forwards, 400 malformed).
    pub fn new(
        subscribe: &Message,
        tx: &TxKey,
        plan: CallPlan,
        config: &SubscriptionsConfig,
        now: Instant,
    ) -> Result<(Subscription, Vec<SubAction>), Box<Message>> {
        let ids = Ids::new(plan.secret);
        let a_tag = ids.tag(Leg::A);
        let (max_expires, min_expires, grace) = Self::settings(config);
        let default_expires = u32::try_from(config.default_expires.as_secs()).unwrap_or(3600);
        let refuse = |code, extra| Err(Box::new(response(subscribe, code, &a_tag, &plan, extra)));
        if is_looped(subscribe, &[&plan.a_local, &plan.b_local]) {
            return refuse(482, Vec::new());
        }
        let Some(max_forwards) = next_hops(subscribe) else {
            return refuse(483, Vec::new());
        };
        let allowed = |p: &[u8]| config.allows(p);
        let checked = check_subscribe(
            subscribe,
            &allowed,
            &config.events.join(", "),
            min_expires,
            default_expires,
        );
        let expires = match checked {
            Ok(e) => e.min(max_expires),
            Err((code, extra)) => return refuse(code, extra),
        };
        let (Some(a), Some(package)) = (
            a_dialog(subscribe, a_tag.clone()),
            state::package(subscribe),
        ) else {
            return refuse(400, Vec::new());
        };
        let event = subscribe
            .headers
            .get(HeaderName::Event)
            .cloned()
            .unwrap_or_default();
        let b = super::oneshot::b_dialog(&ids, &plan);
        let mut sub = Subscription {
            plan,
            ids,
            phase: Phase::Pending,
            package,
            event,
            a,
            b,
            a_initial: Some((subscribe.clone(), tx.clone())),
            b_tx: None,
            out: HashMap::new(),
            expires_at: None,
            max_expires,
            min_expires,
            default_expires,
            grace,
        };
        let request = sub.build(
            Leg::B,
            Method::Subscribe,
            subscribe,
            max_forwards,
            Some(expires),
        );
        sub.b_tx = TxKey::for_request(&request).ok();
        // Until B answers, the subscription lives as long as it asked for.
        let mut actions = Vec::new();
        sub.set_expiry(expires, now, &mut actions);
        actions.insert(
            0,
            SubAction::SendRequest {
                leg: Leg::B,
                request,
            },
        );
        Ok((sub, actions))
    }

    /// A new request on `to` in its dialog, carrying `src`'s allow-listed headers and body.
    fn build(
        &mut self,
        to: Leg,
        method: Method,
        src: &Message,
        max_forwards: MaxForwards,
        expires: Option<u32>,
    ) -> Message {
        let local = self.local(to).clone();
        let via = self.ids.via(to, &local);
        let mut out = self
            .dialog(to)
            .request(method.clone(), &via, max_forwards, &local.contact);
        carry_headers(src, &mut out, &self.plan.headers);
        if let Some(expires) = expires {
            out.headers.push(header(HeaderName::Expires, expires));
        }
        copy_body(src, &mut out);
        stamp_agent(&mut out, &self.plan.user_agent);
        out
    }

    /// Sends `request` (from `from`, server transaction `tx`) on the other leg.
    fn relay(
        &mut self,
        from: Leg,
        request: Message,
        tx: TxKey,
        max_forwards: MaxForwards,
        expires: Option<u32>,
        out: &mut Vec<SubAction>,
    ) {
        let to = from.other();
        let method = request.method().cloned().unwrap_or(Method::Notify);
        let sent = self.build(to, method, &request, max_forwards, expires);
        if let Ok(key) = TxKey::for_request(&sent) {
            self.out.insert(key, Relay { from, tx, request });
        }
        out.push(SubAction::SendRequest {
            leg: to,
            request: sent,
        });
    }

    pub(super) fn on_request(
        &mut self,
        leg: Leg,
        request: Message,
        tx: TxKey,
        now: Instant,
        out: &mut Vec<SubAction>,
    ) {
        let tag = self.dialog(leg).local_tag.clone();
        let method = request.method().cloned().unwrap_or(Method::Ack);
        let first_notify = leg == Leg::B && self.b.remote_tag.is_none();
        if let Err(e) = self.dialog(leg).accept_request(&request) {
            out.push(bare(&request, &tx, leg, e.status(), &tag, &self.plan));
            return;
        }
        let Some(max_forwards) = next_hops(&request) else {
            out.push(bare(&request, &tx, leg, 483, &tag, &self.plan));
            return;
        };
        match (leg, method) {
            (Leg::A, Method::Subscribe) => {
                if self.phase != Phase::Active {
                    let code = if self.phase == Phase::Pending {
                        500
                    } else {
                        481
                    };
                    let extra = vec![header(HeaderName::RetryAfter, 1)];
                    out.push(bare_with(&request, &tx, leg, code, &tag, &self.plan, extra));
                    return;
                }
                let package = self.package.clone();
                let same = |p: &[u8]| p == package.as_ref();
                let name = String::from_utf8_lossy(&package).into_owned();
                let checked = check_subscribe(
                    &request,
                    &same,
                    &name,
                    self.min_expires,
                    self.default_expires,
                );
                match checked {
                    Ok(expires) => {
                        let expires = Some(expires.min(self.max_expires));
                        self.relay(leg, request, tx, max_forwards, expires, out);
                    }
                    Err((code, extra)) => {
                        out.push(bare_with(&request, &tx, leg, code, &tag, &self.plan, extra))
                    }
                }
            }
            (Leg::B, Method::Notify) => {
                if first_notify {
                    // RFC 6665 §4.1.2.4: the NOTIFY creates the dialog before the 2xx.
                    self.b.remote_tag = request.from_header().ok().and_then(|f| f.tag().cloned());
                    self.b.refresh_target(&request);
                    self.b.route_set = request.record_routes().unwrap_or_default();
                }
                match state::subscription_state(&request) {
                    Some(SubState::Terminated) => self.phase = Phase::Terminating,
                    Some(SubState::Live(expires)) => {
                        if self.phase == Phase::Pending {
                            self.phase = Phase::Active;
                        }
                        if let Some(expires) = expires {
                            self.set_expiry(expires, now, out);
                        }
                    }
                    None => {
                        out.push(bare(&request, &tx, leg, 400, &tag, &self.plan));
                        return;
                    }
                }
                self.relay(leg, request, tx, max_forwards, None, out);
            }
            _ => {
                let allow = vec![header(HeaderName::Allow, "SUBSCRIBE, NOTIFY")];
                out.push(bare_with(&request, &tx, leg, 405, &tag, &self.plan, allow));
            }
        }
    }

    pub(super) fn on_response(
        &mut self,
        leg: Leg,
        response: &Message,
        tx: &TxKey,
        now: Instant,
        out: &mut Vec<SubAction>,
    ) {
        let code = response.status().unwrap_or(500);
        if code < 200 {
            return;
        }
        if leg == Leg::B && self.b_tx.as_ref() == Some(tx) {
            self.b_tx = None;
            return self.on_initial_answer(response, code, now, out);
        }
        let Some(relay) = self.out.remove(tx) else {
            return;
        };
        let is_subscribe = relay.request.method() == Some(&Method::Subscribe);
        self.answer(&relay, response, None, out);
        if is_subscribe && (200..300).contains(&code) {
            let asked = relay
                .request
                .expires()
                .ok()
                .flatten()
                .map_or(self.max_expires, |e| e.0);
            let granted = state::expires(response, asked).unwrap_or(asked);
            self.set_expiry(granted, now, out);
        }
        if code == 481 {
            return self.end(SubEnd::Failed, out);
        }
        if self.phase == Phase::Terminating && self.out.is_empty() {
            self.end(SubEnd::Terminated, out);
        }
    }

    /// Relays `response` (to the request of `relay`) back to the leg that asked.
    fn answer(
        &mut self,
        relay: &Relay,
        response: &Message,
        contact: Option<&NameAddr>,
        out: &mut Vec<SubAction>,
    ) {
        let tag = self.dialog(relay.from).local_tag.clone();
        let mut to = super::oneshot::mapped_response(&relay.request, response, &tag);
        if let Some(contact) = contact {
            // The dialog-creating 2xx: A's Record-Route and the SBC's Contact (RFC 3261 §12.1.1).
            for rr in relay.request.headers.get_all(HeaderName::RecordRoute) {
                to.headers
                    .push(Header::new(HeaderName::RecordRoute, rr.clone()));
            }
            to.headers.push(header(HeaderName::Contact, contact));
        }
        carry_headers(response, &mut to, &self.plan.headers);
        stamp_agent(&mut to, &self.plan.user_agent);
        out.push(SubAction::SendResponse {
            leg: relay.from,
            tx: relay.tx.clone(),
            response: to,
        });
    }

    /// B's final answer to the initial SUBSCRIBE.
    fn on_initial_answer(
        &mut self,
        response: &Message,
        code: u16,
        now: Instant,
        out: &mut Vec<SubAction>,
    ) {
        let Some((request, tx)) = self.a_initial.take() else {
            return;
        };
        let relay = Relay {
            from: Leg::A,
            tx,
            request,
        };
        let contact = NameAddr::new(self.plan.a_local.contact.clone());
        if !(200..300).contains(&code) {
            self.answer(&relay, response, None, out);
            return self.end(SubEnd::Rejected, out);
        }
        if self.b.remote_tag.is_none() {
            if let Some(tag) = response.to_header().ok().and_then(|t| t.tag().cloned()) {
                self.b.remote_tag = Some(tag);
                self.b.refresh_target(response);
                let mut routes = response.record_routes().unwrap_or_default();
                routes.reverse();
                self.b.route_set = routes;
            }
        }
        let asked = relay
            .request
            .expires()
            .ok()
            .flatten()
            .map_or(self.max_expires, |e| e.0);
        let granted = state::expires(response, asked.min(self.max_expires)).unwrap_or(asked);
        if self.phase == Phase::Pending {
            self.phase = Phase::Active;
        }
        self.answer(&relay, response, Some(&contact), out);
        if self.phase == Phase::Terminating && self.out.is_empty() {
            return self.end(SubEnd::Terminated, out);
        }
        self.set_expiry(granted, now, out);
    }

    pub(super) fn on_failed(
        &mut self,
        leg: Leg,
        tx: &TxKey,
        status: u16,
        out: &mut Vec<SubAction>,
    ) {
        if leg == Leg::B && self.b_tx.as_ref() == Some(tx) {
            self.b_tx = None;
            if let Some((request, a_tx)) = self.a_initial.take() {
                let tag = self.a.local_tag.clone();
                out.push(bare(&request, &a_tx, Leg::A, status, &tag, &self.plan));
            }
            return self.end(SubEnd::Failed, out);
        }
        let Some(relay) = self.out.remove(tx) else {
            return;
        };
        let tag = self.dialog(relay.from).local_tag.clone();
        out.push(bare(
            &relay.request,
            &relay.tx,
            relay.from,
            status,
            &tag,
            &self.plan,
        ));
        // A NOTIFY or refresh that cannot be delivered ends the subscription (§4.1.2.2, §4.2.2).
        self.end(SubEnd::Failed, out);
    }
}
