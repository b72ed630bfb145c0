//! One subscription through the B2BUA (pure, sans-IO): RFC 6665 SUBSCRIBE/NOTIFY as two
//! independent dialogs, A (the subscriber side the SUBSCRIBE arrived on) and B (the notifier side
//! the SBC creates), each with its own Call-ID, tags, Via, Contact and CSeq space — the same
//! topology hiding as a call ([`crate::b2bua::call`]): only allow-listed headers cross, the
//! `User-Agent`/`Server` is the SBC's, bodies pass untouched.
//!
//! [`Subscription::new`] takes A's initial SUBSCRIBE and the shell's [`CallPlan`] and returns the
//! B-leg SUBSCRIBE; [`Subscription::handle`] takes every later [`SubEvent`] and returns more
//! [`SubAction`]s. Handled:
//!
//! - the initial SUBSCRIBE: event package allow-list (489 with `Allow-Events`), `Expires` cut
//!   to the configured maximum and refused below the minimum (423 with `Min-Expires`), loop
//!   (482) and Max-Forwards (483) checks; B's answer mapped back to A ([`map_final`]);
//! - NOTIFY from B before the 2xx to the SUBSCRIBE (§4.1.2.4): it creates B's dialog;
//! - refresh and unsubscribe (`Expires: 0`) from A, relayed in B's dialog (§4.1.2.2, §4.1.2.3);
//! - `Subscription-State` (§8.2.3): `expires` moves the expiry; `terminated` ends the
//!   subscription once the NOTIFY is answered;
//! - the expiry timer: no subscription outlives its granted expiry plus the configured grace; at
//!   expiry A gets a final `NOTIFY` with `Subscription-State: terminated;reason=timeout`
//!   (§4.2.2) and the subscription ends;
//! - a NOTIFY answered 481 or timing out ends it (§4.1.3, §4.2.2); a refresh answered 481 too;
//! - a side whose TCP/TLS connection closed: the other side is told ([`SubEvent::Gone`]).
//!
//! ```text
//! Pending --B 2xx / B NOTIFY--> Active --NOTIFY terminated answered, expiry, 481--> Ended
//! Pending --B non-2xx, timeout--> Ended
//! ```

mod ending;
mod flow;
pub mod oneshot;
pub mod state;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use crate::b2bua::call::ids::Ids;
use crate::b2bua::call::{CallPlan, Dialog, Leg, LegIdentity};
use crate::config::SubscriptionsConfig;
use crate::sip::message::Message;
use crate::sip::transaction::TxKey;
use bytes::Bytes;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use crate::b2bua::call::map_final;

/// An input for the subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "events are moved once from the shell; boxing would only allocate"
)]
pub enum SubEvent {
    /// A request in one of the dialogs, with its server transaction.
    Request {
        /// The leg it arrived on.
        leg: Leg,
        /// The request.
        request: Message,
        /// Its server transaction.
        tx: TxKey,
    },
    /// A response to a request the subscription sent on `leg`.
    Response {
        /// The leg of the client transaction.
        leg: Leg,
        /// The response.
        response: Message,
        /// The client transaction.
        tx: TxKey,
    },
    /// A client transaction got no response (408) or could not be sent (480).
    Failed {
        /// The leg of the client transaction.
        leg: Leg,
        /// The client transaction.
        tx: TxKey,
        /// 408 (timeout) or 480 (transport error).
        status: u16,
    },
    /// The expiry timer fired.
    Expired,
    /// The flow toward `leg` is gone (its TCP/TLS connection closed).
    Gone {
        /// The leg that cannot be reached any more.
        leg: Leg,
    },
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubEnd {
    /// The initial SUBSCRIBE was refused (by the SBC or the notifier).
    Rejected,
    /// The notifier terminated it (`Subscription-State: terminated`), after an unsubscribe or
    /// on its own.
    Terminated,
    /// It reached its expiry plus grace without a refresh.
    Expired,
    /// A request in it timed out, could not be sent, or was answered 481.
    Failed,
}

/// What the shell does for the subscription, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "actions are executed once, right away; boxing would only allocate"
)]
pub enum SubAction {
    /// Sends a request on `leg` through a new client transaction.
    SendRequest {
        /// Where.
        leg: Leg,
        /// What.
        request: Message,
    },
    /// Answers server transaction `tx` on `leg`.
    SendResponse {
        /// Where.
        leg: Leg,
        /// The server transaction.
        tx: TxKey,
        /// The response.
        response: Message,
    },
    /// (Re)arms the expiry timer.
    SetTimer(Instant),
    /// The subscription is over and holds nothing; forget it.
    Ended(SubEnd),
}

/// A request relayed to the other leg, waiting for its answer.
#[derive(Debug, Clone)]
struct Relay {
    from: Leg,
    tx: TxKey,
    request: Message,
}

/// Where the subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// B's SUBSCRIBE is out, no final answer yet.
    Pending,
    /// B accepted (2xx) or sent a NOTIFY.
    Active,
    /// The notifier terminated it: it ends once every relayed request is answered.
    Terminating,
    /// Over.
    Ended,
}

/// One subscription: two dialogs and the relay between them.
#[derive(Debug)]
pub struct Subscription {
    plan: CallPlan,
    ids: Ids,
    phase: Phase,
    /// The event package (lower case), a bounded metric label once allow-listed.
    package: Bytes,
    /// The `Event` header as A sent it (with `id`), for the NOTIFY the SBC sends itself.
    event: Bytes,
    a: Dialog,
    b: Dialog,
    /// A's initial SUBSCRIBE and its server transaction, until answered.
    a_initial: Option<(Message, TxKey)>,
    /// B's initial SUBSCRIBE transaction.
    b_tx: Option<TxKey>,
    out: HashMap<TxKey, Relay>,
    expires_at: Option<Instant>,
    max_expires: u32,
    min_expires: u32,
    default_expires: u32,
    grace: Duration,
}

impl Subscription {
    /// The event package (lower case).
    pub fn package(&self) -> &Bytes {
        &self.package
    }

    /// The B-leg Call-ID (the shell indexes B-leg requests by it).
    pub fn b_call_id(&self) -> Bytes {
        self.ids.b_call_id()
    }

    /// When the subscription ends unless refreshed (granted expiry plus grace).
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }

    /// Whether it has ended and holds nothing.
    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// The SBC's identity on `leg`.
    fn local(&self, leg: Leg) -> &LegIdentity {
        match leg {
            Leg::A => &self.plan.a_local,
            Leg::B => &self.plan.b_local,
        }
    }

    fn dialog(&mut self, leg: Leg) -> &mut Dialog {
        match leg {
            Leg::A => &mut self.a,
            Leg::B => &mut self.b,
        }
    }

    /// Feeds one event; returns what to do, in order.
    pub fn handle(&mut self, event: SubEvent, now: Instant) -> Vec<SubAction> {
        let mut out = Vec::new();
        if self.phase == Phase::Ended {
            if let SubEvent::Request { leg, request, tx } = event {
                out.push(flow::bare(&request, &tx, leg, 481, b"0", &self.plan));
            }
            return out;
        }
        match event {
            SubEvent::Request { leg, request, tx } => {
                self.on_request(leg, request, tx, now, &mut out)
            }
            SubEvent::Response { leg, response, tx } => {
                self.on_response(leg, &response, &tx, now, &mut out)
            }
            SubEvent::Failed { leg, tx, status } => self.on_failed(leg, &tx, status, &mut out),
            SubEvent::Expired => self.on_expired(now, &mut out),
            SubEvent::Gone { leg } => self.on_gone(leg, &mut out),
        }
        out
    }

    /// Answers every request still relayed with `code`, then ends.
    fn end(&mut self, reason: SubEnd, out: &mut Vec<SubAction>) {
        for relay in std::mem::take(&mut self.out).into_values() {
            let tag = self.dialog(relay.from).local_tag.clone();
            out.push(flow::bare(
                &relay.request,
                &relay.tx,
                relay.from,
                481,
                &tag,
                &self.plan,
            ));
        }
        if let Some((request, tx)) = self.a_initial.take() {
            let tag = self.a.local_tag.clone();
            out.push(flow::bare(&request, &tx, Leg::A, 480, &tag, &self.plan));
        }
        self.phase = Phase::Ended;
        out.push(SubAction::Ended(reason));
    }

    /// Moves the expiry to `seconds` from now (cut to the maximum) plus grace.
    fn set_expiry(&mut self, seconds: u32, now: Instant, out: &mut Vec<SubAction>) {
        let seconds = seconds.min(self.max_expires);
        let at = now + Duration::from_secs(u64::from(seconds)) + self.grace;
        self.expires_at = Some(at);
        out.push(SubAction::SetTimer(at));
    }

    fn settings(config: &SubscriptionsConfig) -> (u32, u32, Duration) {
        let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        (
            secs(config.max_expires),
            secs(config.min_expires),
            config.grace,
        )
    }
}
