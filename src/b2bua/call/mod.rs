//! One call of the back-to-back user agent (pure, sans-IO): two independent legs, A (the caller
//! side the INVITE arrived on) and B (the callee side the SBC creates), each its own RFC 3261
//! §12 dialog with its own Call-ID, tags, Via, Contact and CSeq space (DESIGN §1.3, topology
//! hiding).
//!
//! [`Call::new`] takes A's INVITE and the shell's [`CallPlan`] and returns the B-leg INVITE as an
//! [`Action`]; [`Call::handle`] takes every later [`CallEvent`] and returns more actions. No
//! sockets, no clock: `now` comes in, timers go out as [`Action::SetTimer`], and the transaction
//! layer (RFC 3261 §17) stays in the shell, which runs each action through it.
//!
//! Flows (RFC 3665 shapes): INVITE with early or late offer, 18x relay with early media and
//! reliable provisionals (RFC 3262, RSeq/RAck mapped per leg), 2xx and the end-to-end ACK
//! (§13.2.2.4, 2xx retransmitted until ACK, §13.3.1.4), non-2xx mapped for A ([`map_final`]),
//! CANCEL in every race (§9.1, §9.2), BYE from either side (§15), re-INVITE and UPDATE both ways
//! with glare answered 491 (§14.2, RFC 3311 §5.2), INFO, MESSAGE, OPTIONS, NOTIFY, and REFER
//! when the plan allows it, loop detection (482) and Max-Forwards (483), Timer C (§16.6) and a
//! no-answer timeout. A body the media seam refuses ([`MediaRefusal`]) is answered with 488 and
//! a Warning or 503 with Retry-After toward the leg that sent it: an initial INVITE is never sent
//! to B, a re-INVITE or UPDATE is not relayed and the session stays as it was (§14.2); a 2xx
//! whose description cannot be anchored is ACKed and its dialog released with BYE.
//!
//! ```text
//! Calling --1xx--> Early --2xx--> Confirmed --BYE--> Terminating --BYE answered--> Ended
//! Calling/Early --CANCEL, timer--> Cancelling --B final (2xx: ACK+BYE)--> Ended / Terminating
//! Calling/Early --B non-2xx--> Ended
//! ```
//! After [`Action::Ended`] the call holds nothing; it answers stray requests with 481.

mod auth;
mod dialog;
mod event;
pub(crate) mod ids;
mod indialog;
mod plan;
mod refusal;
pub(crate) mod relay;
mod setup;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests_auth;
#[cfg(test)]
mod tests_cancel;
#[cfg(test)]
mod tests_dialog;
#[cfg(test)]
mod tests_media;
#[cfg(test)]
mod tests_setup;

pub use dialog::{Dialog, DialogError, cancel_for};
pub use event::{Action, CallEvent, CallTimer, EndReason, Leg};
pub use ids::{BRANCH_PREFIX, is_looped};
pub use plan::{CallPlan, CallTimers, HeaderPolicy, LegIdentity, TIMER_C};
pub use refusal::{MediaRefusal, RETRY_AFTER_SECS};
pub use relay::{BodyContext, BodyTransform, map_final};
pub(crate) use setup::a_dialog;

use crate::sip::auth::DigestClient;
use crate::sip::message::Message;
use crate::sip::method::Method;
use crate::sip::response::response_to;
use crate::sip::transaction::TxKey;
use ids::Ids;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a client transaction of the call is for.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "a few per call, short-lived; boxing the relayed request would only allocate"
)]
enum Purpose {
    /// The B-leg INVITE.
    Invite,
    /// A relayed request: its response answers server transaction `tx` on `from`.
    Relay {
        from: Leg,
        tx: TxKey,
        request: Message,
    },
    /// A BYE the call sent.
    Bye,
    /// A CANCEL the call sent.
    Cancel,
}

/// A client transaction of the call.
#[derive(Debug, Clone)]
struct Outgoing {
    leg: Leg,
    purpose: Purpose,
}

/// A 2xx sent on `leg` that waits for its ACK; the ACK is relayed with `other_cseq`.
#[derive(Debug, Clone)]
struct AckWait {
    leg: Leg,
    cseq: u32,
    other_cseq: u32,
    tx: TxKey,
    response: Message,
    /// The other leg's late offer, answered by rejecting every stream in the ACK to it when
    /// the relay refuses the answer in this leg's ACK.
    late_offer: Option<bytes::Bytes>,
    interval: Duration,
    give_up: Instant,
}

/// A reliable provisional relayed to A: A's RSeq and B's RSeq and INVITE CSeq (RFC 3262 §7.2).
#[derive(Debug, Clone, Copy)]
struct Rel {
    a_rseq: u32,
    b_rseq: u32,
    b_cseq: u32,
}

/// Where the call stands.
#[derive(Debug, Clone)]
enum Phase {
    /// B's INVITE is out; B sent no provisional yet (a CANCEL would have to wait, §9.1).
    Calling,
    /// B sent a provisional response.
    Early,
    /// A's INVITE was answered with `status` before B answered; B's INVITE is being
    /// cancelled (`cancel` is `None` while the CANCEL waits for B's first provisional).
    Cancelling {
        cancel: Option<TxKey>,
        reason: EndReason,
    },
    /// Both legs are confirmed.
    Confirmed,
    /// BYEs are out; the call ends when the last is answered or times out.
    Terminating { byes: Vec<TxKey>, reason: EndReason },
}

/// The live call.
#[derive(Debug, Clone)]
struct Live {
    phase: Phase,
    a: Dialog,
    b: Dialog,
    a_invite: Message,
    a_tx: TxKey,
    b_invite: Message,
    b_tx: TxKey,
    /// The final status sent to A's INVITE.
    a_final: Option<u16>,
    out: HashMap<TxKey, Outgoing>,
    acks: Vec<AckWait>,
    /// The last ACK sent per leg, with its CSeq, re-sent on 2xx retransmissions.
    sent_acks: Vec<(Leg, u32, Message)>,
    rels: Vec<Rel>,
    a_rseq: u32,
    /// Digest answers to the B-leg target's challenges.
    auth: DigestClient,
    /// Re-INVITEs the call relayed, as sent, while their transaction may still be cancelled.
    reinvites: Vec<(TxKey, Message)>,
}

impl Live {
    fn dialog(&mut self, leg: Leg) -> &mut Dialog {
        match leg {
            Leg::A => &mut self.a,
            Leg::B => &mut self.b,
        }
    }
}

#[derive(Debug)]
enum State {
    Live(Box<Live>),
    Ended,
}

/// What a step decided.
enum Flow {
    Continue,
    End(EndReason),
}

/// The context of one step: the plan, identifier source, body seam and the actions produced.
struct Cx<'a> {
    plan: &'a CallPlan,
    ids: &'a mut Ids,
    transform: &'a mut Option<BodyTransform>,
    armed: &'a mut Vec<CallTimer>,
    actions: Vec<Action>,
    now: Instant,
}

impl Cx<'_> {
    /// Queues `request` on `leg` and returns its client transaction key.
    fn send(&mut self, leg: Leg, request: Message) -> Option<TxKey> {
        let key = TxKey::for_request(&request).ok();
        self.actions.push(Action::SendRequest { leg, request });
        key
    }

    fn respond(&mut self, leg: Leg, tx: &TxKey, response: Message) {
        self.actions.push(Action::SendResponse {
            leg,
            tx: tx.clone(),
            response,
        });
    }

    /// Answers `request` with a bare `code` (tag `tag` when the To has none).
    fn reject(&mut self, leg: Leg, tx: &TxKey, request: &Message, code: u16, tag: &[u8]) {
        let mut response = response_to(request, code, None, Some(tag));
        relay::stamp_agent(&mut response, &self.plan.user_agent);
        self.respond(leg, tx, response);
    }

    /// Answers `request` on `leg` with the final response for a media `refusal` (status,
    /// Warning with the SBC's host on that leg, Retry-After on 503).
    fn refuse(
        &mut self,
        leg: Leg,
        tx: &TxKey,
        request: &Message,
        refusal: MediaRefusal,
        tag: &[u8],
    ) {
        let host = &local(self.plan, leg).host;
        let response = refusal.response(request, tag, host, &self.plan.user_agent);
        self.respond(leg, tx, response);
    }

    fn set_timer(&mut self, timer: CallTimer, at: Instant) {
        if !self.armed.contains(&timer) {
            self.armed.push(timer);
        }
        self.actions.push(Action::SetTimer { timer, at });
    }

    fn cancel_timer(&mut self, timer: CallTimer) {
        if let Some(i) = self.armed.iter().position(|t| *t == timer) {
            self.armed.remove(i);
            self.actions.push(Action::CancelTimer(timer));
        }
    }

    /// 64*T1.
    fn timeout(&self) -> Duration {
        self.plan.timers.t1 * 64
    }
}

/// One call: two dialogs and the state machine between them.
pub struct Call {
    plan: CallPlan,
    ids: Ids,
    transform: Option<BodyTransform>,
    armed: Vec<CallTimer>,
    state: State,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("state", &self.state)
            .field("armed", &self.armed)
            .finish_non_exhaustive()
    }
}

impl Call {
    /// Installs the body transform (the media-anchoring seam, see [`BodyTransform`]).
    pub fn set_body_transform(&mut self, transform: BodyTransform) {
        self.transform = Some(transform);
    }

    /// Whether the call has ended and holds nothing: no dialog, no transaction, no timer.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Ended) && self.armed.is_empty()
    }

    /// The timers currently armed.
    pub fn armed_timers(&self) -> &[CallTimer] {
        &self.armed
    }

    /// The B-leg Call-ID (the shell indexes B-leg requests by it).
    pub fn b_call_id(&self) -> bytes::Bytes {
        self.ids.b_call_id()
    }

    /// Feeds one event; returns what to do, in order.
    pub fn handle(&mut self, event: CallEvent, now: Instant) -> Vec<Action> {
        self.step(Some(event), now)
    }

    /// Ends the call on the SBC's own behalf ([`EndReason::Shutdown`]): BYE on both legs of an
    /// answered call; before the answer, 503 to A and CANCEL to B. A call already ending goes on
    /// ending as it was.
    pub fn shut_down(&mut self, now: Instant) -> Vec<Action> {
        self.step(None, now)
    }

    /// One step: `event`, or the SBC's own hang-up when `None`.
    fn step(&mut self, event: Option<CallEvent>, now: Instant) -> Vec<Action> {
        let mut cx = Cx {
            plan: &self.plan,
            ids: &mut self.ids,
            transform: &mut self.transform,
            armed: &mut self.armed,
            actions: Vec::new(),
            now,
        };
        match (std::mem::replace(&mut self.state, State::Ended), event) {
            (State::Ended, Some(event)) => after_end(&mut cx, event),
            (State::Ended, None) => {}
            (State::Live(mut live), event) => {
                let flow = match event {
                    Some(event) => live.on_event(&mut cx, event),
                    None => live.shut_down(&mut cx),
                };
                match flow {
                    Flow::Continue => self.state = State::Live(live),
                    Flow::End(reason) => live.finish(&mut cx, reason),
                }
            }
        }
        cx.actions
    }
}

/// After the end: stray requests get 481, everything else is dropped.
fn after_end(cx: &mut Cx<'_>, event: CallEvent) {
    if let CallEvent::Request { leg, request, tx } = event {
        cx.reject(leg, &tx, &request, 481, b"0");
    }
}

impl Live {
    fn on_event(&mut self, cx: &mut Cx<'_>, event: CallEvent) -> Flow {
        match event {
            CallEvent::Request { leg, request, tx } => self.on_request(cx, leg, request, tx),
            CallEvent::Response { leg, response, tx } => self.on_response(cx, leg, response, tx),
            CallEvent::Ack { leg, request } => self.on_ack(cx, leg, &request),
            CallEvent::TxTimeout { tx, .. } => self.on_failure(cx, &tx, 408),
            CallEvent::TransportError { tx, .. } => self.on_failure(cx, &tx, 480),
            CallEvent::Timer(timer) => {
                cx.armed.retain(|t| *t != timer);
                self.on_timer(cx, timer)
            }
            CallEvent::MediaTimeout if matches!(self.phase, Phase::Confirmed) => {
                self.hang_up(cx, &[Leg::A, Leg::B], EndReason::MediaTimeout)
            }
            CallEvent::MediaTimeout => Flow::Continue,
        }
    }

    /// The SBC hangs up: BYE both legs once answered, 503 and CANCEL before.
    fn shut_down(&mut self, cx: &mut Cx<'_>) -> Flow {
        match self.phase {
            Phase::Calling | Phase::Early => self.give_up(cx, 503, EndReason::Shutdown),
            Phase::Confirmed => self.hang_up(cx, &[Leg::A, Leg::B], EndReason::Shutdown),
            Phase::Cancelling { .. } | Phase::Terminating { .. } => Flow::Continue,
        }
    }

    /// Ends the call: every server transaction still open is answered, every timer disarmed.
    fn finish(mut self, cx: &mut Cx<'_>, reason: EndReason) {
        for outgoing in std::mem::take(&mut self.out).into_values() {
            if let Purpose::Relay { from, tx, request } = outgoing.purpose {
                let tag = self.dialog_tag(from);
                cx.reject(from, &tx, &request, 481, &tag);
            }
        }
        let mut status = self.a_final;
        if status.is_none() {
            let tag = self.a.local_tag.clone();
            cx.reject(Leg::A, &self.a_tx, &self.a_invite, 480, &tag);
            status = Some(480);
        }
        for timer in cx.armed.clone() {
            cx.cancel_timer(timer);
        }
        cx.actions.push(Action::Ended { reason, status });
    }

    fn dialog_tag(&self, leg: Leg) -> bytes::Bytes {
        match leg {
            Leg::A => self.a.local_tag.clone(),
            Leg::B => self.b.local_tag.clone(),
        }
    }

    /// A client transaction failed with no response: act as on `code` (§8.1.3.1).
    fn on_failure(&mut self, cx: &mut Cx<'_>, tx: &TxKey, code: u16) -> Flow {
        let reason = if code == 408 {
            EndReason::Timeout
        } else {
            EndReason::TransportError
        };
        if *tx == self.b_tx {
            return self.invite_failed(cx, code, reason);
        }
        let Some(outgoing) = self.out.remove(tx) else {
            return Flow::Continue;
        };
        match outgoing.purpose {
            Purpose::Invite | Purpose::Cancel => Flow::Continue,
            Purpose::Bye => self.bye_done(tx),
            Purpose::Relay { from, tx, request } => {
                let tag = self.dialog_tag(from);
                cx.reject(from, &tx, &request, code, &tag);
                // The other leg is gone (§12.2.1.2): release the one that asked.
                self.hang_up(cx, &[from], reason)
            }
        }
    }

    /// Sends BYE on `legs` and waits for their answers.
    fn hang_up(&mut self, cx: &mut Cx<'_>, legs: &[Leg], reason: EndReason) -> Flow {
        for wait in std::mem::take(&mut self.acks) {
            cx.cancel_timer(CallTimer::Resend2xx(wait.leg));
        }
        let mut byes = match &mut self.phase {
            Phase::Terminating { byes, .. } => std::mem::take(byes),
            _ => Vec::new(),
        };
        for &leg in legs {
            let local = local(cx.plan, leg).clone();
            let via = cx.ids.via(leg, &local);
            let mut bye = self.dialog(leg).request(
                Method::Bye,
                &via,
                crate::sip::header::MaxForwards::DEFAULT,
                &local.contact,
            );
            relay::stamp_agent(&mut bye, &cx.plan.user_agent);
            if let Some(key) = cx.send(leg, bye) {
                self.out.insert(
                    key.clone(),
                    Outgoing {
                        leg,
                        purpose: Purpose::Bye,
                    },
                );
                byes.push(key);
            }
        }
        if byes.is_empty() {
            return Flow::End(reason);
        }
        self.phase = Phase::Terminating { byes, reason };
        Flow::Continue
    }

    /// A BYE of the call was answered or timed out.
    fn bye_done(&mut self, tx: &TxKey) -> Flow {
        if let Phase::Terminating { byes, reason } = &mut self.phase {
            byes.retain(|b| b != tx);
            if byes.is_empty() {
                return Flow::End(*reason);
            }
        }
        Flow::Continue
    }
}

/// The SBC's identity on `leg`.
fn local(plan: &CallPlan, leg: Leg) -> &LegIdentity {
    match leg {
        Leg::A => &plan.a_local,
        Leg::B => &plan.b_local,
    }
}
