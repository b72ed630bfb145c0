//! Setting a call up (pure): the B-leg INVITE built from A's (RFC 3261 §8.1.1, with the B leg's
//! own identifiers), provisional and final responses relayed to A (§12.1.1, RFC 3262 for
//! reliable provisionals), the CANCEL races (§9.1: a CANCEL waits for B's first provisional;
//! a 2xx crossing it is ACKed and BYEd), Timer C (§16.6) and the no-answer timeout.

use super::dialog::{Dialog, cancel_for, value};
use super::ids::{Ids, is_looped};
use super::refusal::MediaRefusal;
use super::relay::{BodyTransform, carry_body, carry_headers, late_offer, map_final, stamp_agent};
use super::{
    AckWait, Action, Call, CallPlan, CallTimer, Cx, EndReason, Flow, Leg, Live, Outgoing, Phase,
    Purpose, Rel, State,
};
use crate::sip::auth::DigestClient;
use crate::sip::header::{HeaderName, MaxForwards, NameAddr};
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::response::response_to;
use crate::sip::transaction::TxKey;
use std::collections::HashMap;
use std::time::Instant;

/// Why an INVITE cannot start a call, with the status answering it.
fn refuse(invite: &Message, plan: &CallPlan) -> Option<(u16, EndReason)> {
    if is_looped(invite, &[&plan.a_local, &plan.b_local]) {
        return Some((482, EndReason::Loop));
    }
    match invite.max_forwards() {
        Ok(Some(mf)) if mf.decremented().is_none() => Some((483, EndReason::TooManyHops)),
        Ok(_) => None,
        Err(_) => Some((400, EndReason::BadRequest)),
    }
}

/// Leg A's dialog as the UAS sees it (§12.1.1); `None` when a mandatory header is missing.
/// An INVITE without Contact (RFC 2543 clients, RFC 4475 `inv2543`) is accepted: the remote
/// target is then the From URI — requests to A go over A's observed flow in any case.
pub(crate) fn a_dialog(invite: &Message, tag: bytes::Bytes) -> Option<Dialog> {
    let from = invite.from_header().ok()?;
    let to = invite.to_header().ok()?;
    let contacts = invite.contacts().ok()?;
    let remote_target = match contacts.first() {
        Some(contact) => contact.addr()?.uri.clone(),
        None => from.uri.clone(),
    };
    let mut local_uri = to.clone();
    local_uri.params.remove("tag");
    let mut remote_uri = from.clone();
    remote_uri.params.remove("tag");
    Some(Dialog {
        call_id: invite.call_id().ok()?.as_bytes().clone(),
        local_tag: tag,
        remote_tag: from.tag().cloned(),
        local_uri,
        remote_uri,
        local_cseq: 0,
        remote_cseq: Some(invite.cseq().ok()?.seq),
        remote_target,
        route_set: invite.record_routes().ok()?,
    })
}

impl Call {
    /// Starts a call for A's `invite` along `plan`: returns the call and its first actions
    /// (the B-leg INVITE and the timers), or an ended call that answered the INVITE with 482
    /// (loop), 483 (Max-Forwards) or 400 (malformed dialog headers).
    pub fn new(invite: &Message, plan: CallPlan, now: Instant) -> (Call, Vec<Action>) {
        Self::with_body_transform(invite, plan, None, now)
    }

    /// [`Call::new`] with the body transform in place from the start, so the first INVITE's
    /// body passes through it too.
    pub fn with_body_transform(
        invite: &Message,
        plan: CallPlan,
        transform: Option<BodyTransform>,
        now: Instant,
    ) -> (Call, Vec<Action>) {
        let mut call = Call {
            ids: Ids::new(plan.secret),
            plan,
            transform,
            armed: Vec::new(),
            state: State::Ended,
        };
        let actions = call.start(invite, now);
        (call, actions)
    }

    fn start(&mut self, invite: &Message, now: Instant) -> Vec<Action> {
        let mut cx = Cx {
            plan: &self.plan,
            ids: &mut self.ids,
            transform: &mut self.transform,
            armed: &mut self.armed,
            actions: Vec::new(),
            now,
        };
        let Ok(a_tx) = TxKey::for_request(invite) else {
            cx.actions.push(Action::Ended {
                reason: EndReason::BadRequest,
                status: None,
            });
            return cx.actions;
        };
        let a_tag = cx.ids.tag(Leg::A);
        let a = a_dialog(invite, a_tag.clone());
        let refused =
            refuse(invite, cx.plan).or(a.is_none().then_some((400, EndReason::BadRequest)));
        let (Some(a), None) = (a, refused) else {
            let (code, reason) = refused.unwrap_or((400, EndReason::BadRequest));
            cx.reject(Leg::A, &a_tx, invite, code, &a_tag);
            cx.actions.push(Action::Ended {
                reason,
                status: Some(code),
            });
            return cx.actions;
        };
        let mut b = Dialog {
            call_id: cx.ids.b_call_id(),
            local_tag: cx.ids.tag(Leg::B),
            remote_tag: None,
            local_uri: cx.plan.b_from.clone(),
            remote_uri: cx.plan.b_to.clone(),
            local_cseq: 0,
            remote_cseq: None,
            remote_target: cx.plan.request_uri.clone(),
            route_set: cx.plan.b_route.clone(),
        };
        let max_forwards = invite
            .max_forwards()
            .ok()
            .flatten()
            .and_then(MaxForwards::decremented)
            .unwrap_or(MaxForwards::DEFAULT);
        let via = cx.ids.via(Leg::B, &cx.plan.b_local);
        let mut b_invite = b.request(Method::Invite, &via, max_forwards, &cx.plan.b_local.contact);
        carry_headers(invite, &mut b_invite, &cx.plan.headers);
        if let Err(refusal) =
            carry_body(invite, &mut b_invite, Leg::A, &Method::Invite, cx.transform)
        {
            // Nothing the relay can anchor, or no resources to anchor it: B never sees the
            // INVITE (RFC 3261 §21.4.26 488 with Warning, §21.5.4 503 with Retry-After).
            cx.refuse(Leg::A, &a_tx, invite, refusal, &a_tag);
            cx.actions.push(Action::Ended {
                reason: EndReason::MediaRefused,
                status: Some(refusal.status()),
            });
            return cx.actions;
        }
        stamp_agent(&mut b_invite, &cx.plan.user_agent);
        let b_tx = cx.send(Leg::B, b_invite.clone());
        let Some(b_tx) = b_tx else {
            cx.actions.clear();
            cx.reject(Leg::A, &a_tx, invite, 500, &a_tag);
            cx.actions.push(Action::Ended {
                reason: EndReason::BadRequest,
                status: Some(500),
            });
            return cx.actions;
        };
        cx.set_timer(CallTimer::TimerC, now + cx.plan.timers.timer_c);
        if let Some(no_answer) = cx.plan.timers.no_answer {
            cx.set_timer(CallTimer::NoAnswer, now + no_answer);
        }
        let mut out = HashMap::new();
        out.insert(
            b_tx.clone(),
            Outgoing {
                leg: Leg::B,
                purpose: Purpose::Invite,
            },
        );
        self.state = State::Live(Box::new(Live {
            phase: Phase::Calling,
            a,
            b,
            a_invite: invite.clone(),
            a_tx,
            b_invite,
            b_tx,
            a_final: None,
            out,
            acks: Vec::new(),
            sent_acks: Vec::new(),
            rels: Vec::new(),
            a_rseq: 0,
            auth: DigestClient::new(),
            reinvites: Vec::new(),
        }));
        cx.actions
    }
}

impl Live {
    /// A response to B's INVITE.
    pub(super) fn on_invite_response(&mut self, cx: &mut Cx<'_>, response: Message) -> Flow {
        let code = response.status().unwrap_or(500);
        let setting_up = matches!(self.phase, Phase::Calling | Phase::Early);
        if setting_up && matches!(code, 401 | 407) && self.answer_challenge(cx, &response) {
            return Flow::Continue;
        }
        match (&self.phase, code) {
            (_, 100) | (Phase::Confirmed | Phase::Terminating { .. }, 101..=199) => {
                if matches!(self.phase, Phase::Calling) {
                    self.phase = Phase::Early;
                }
                Flow::Continue
            }
            (Phase::Calling | Phase::Early, 101..=199) => {
                self.phase = Phase::Early;
                cx.set_timer(CallTimer::TimerC, cx.now + cx.plan.timers.timer_c);
                self.learn_b_dialog(&response, false);
                self.relay_provisional(cx, &response)
            }
            (Phase::Cancelling { cancel: None, .. }, 100..=199) => {
                self.send_cancel(cx);
                Flow::Continue
            }
            (Phase::Cancelling { .. }, 101..=199) => Flow::Continue,
            (Phase::Calling | Phase::Early, 200..=299) => {
                self.learn_b_dialog(&response, true);
                cx.cancel_timer(CallTimer::TimerC);
                cx.cancel_timer(CallTimer::NoAnswer);
                self.relay_answer(cx, &response)
            }
            (Phase::Cancelling { reason, .. }, 200..=299) => {
                // The 2xx crossed the CANCEL: confirm B's dialog and release it (§9.1).
                let reason = *reason;
                cx.cancel_timer(CallTimer::CancelWait);
                self.learn_b_dialog(&response, true);
                let seq = self.b_invite.cseq().map(|c| c.seq).unwrap_or(1);
                let offer = late_offer(&self.b_invite, &response);
                let _ = self.send_ack(cx, Leg::B, seq, None, offer.as_ref());
                self.hang_up(cx, &[Leg::B], reason)
            }
            (_, 200..=299) if self.is_other_fork(&response) => {
                self.release_fork(cx, &response);
                Flow::Continue
            }
            (_, 200..=299) => {
                // A 2xx retransmission: ACK it again once A's ACK has been relayed.
                let seq = response.cseq().map(|c| c.seq).unwrap_or(0);
                self.resend_ack(cx, Leg::B, seq);
                Flow::Continue
            }
            (Phase::Calling | Phase::Early, _) => {
                let (code, reason) = map_final(code, &reason_of(&response));
                let mut to_a =
                    response_to(&self.a_invite, code, Some(&reason), Some(&self.a.local_tag));
                carry_headers(&response, &mut to_a, &cx.plan.headers);
                stamp_agent(&mut to_a, &cx.plan.user_agent);
                cx.respond(Leg::A, &self.a_tx, to_a);
                self.a_final = Some(code);
                self.out.remove(&self.b_tx);
                Flow::End(EndReason::Rejected)
            }
            (Phase::Cancelling { reason, .. }, _) => {
                self.out.remove(&self.b_tx);
                Flow::End(*reason)
            }
            _ => Flow::Continue,
        }
    }

    /// B's INVITE got no response at all (Timer B) or could not be sent.
    pub(super) fn invite_failed(&mut self, cx: &mut Cx<'_>, code: u16, reason: EndReason) -> Flow {
        self.out.remove(&self.b_tx);
        match self.phase {
            Phase::Calling | Phase::Early => {
                self.answer_a(cx, code);
                Flow::End(reason)
            }
            Phase::Cancelling { reason, .. } => Flow::End(reason),
            _ => Flow::Continue,
        }
    }

    /// Gives the call up before B answered: `code` to A, CANCEL to B (now, or once B sent a
    /// provisional, §9.1).
    pub(super) fn give_up(&mut self, cx: &mut Cx<'_>, code: u16, reason: EndReason) -> Flow {
        self.answer_a(cx, code);
        self.cancel_b(cx, reason)
    }

    /// Gives the call up before B answered because B's media was refused: the refusal's
    /// response to A, CANCEL to B.
    fn refuse_early(&mut self, cx: &mut Cx<'_>, refusal: MediaRefusal) -> Flow {
        let tag = self.a.local_tag.clone();
        cx.refuse(Leg::A, &self.a_tx, &self.a_invite, refusal, &tag);
        self.a_final = Some(refusal.status());
        self.cancel_b(cx, EndReason::MediaRefused)
    }

    /// CANCELs B's INVITE (now, or once B sent a provisional, §9.1) after A got its final.
    fn cancel_b(&mut self, cx: &mut Cx<'_>, reason: EndReason) -> Flow {
        cx.cancel_timer(CallTimer::TimerC);
        cx.cancel_timer(CallTimer::NoAnswer);
        let early = matches!(self.phase, Phase::Early);
        self.phase = Phase::Cancelling {
            cancel: None,
            reason,
        };
        if early {
            self.send_cancel(cx);
        }
        Flow::Continue
    }

    /// A CANCEL on leg A for A's INVITE (§9.2).
    pub(super) fn on_cancel(&mut self, cx: &mut Cx<'_>, request: &Message, tx: &TxKey) -> Flow {
        let tag = self.a.local_tag.clone();
        cx.reject(Leg::A, tx, request, 200, &tag);
        match self.phase {
            Phase::Calling | Phase::Early => self.give_up(cx, 487, EndReason::Cancelled),
            _ => Flow::Continue,
        }
    }

    /// A final `code` to A's INVITE, built by the SBC itself.
    fn answer_a(&mut self, cx: &mut Cx<'_>, code: u16) {
        let tag = self.a.local_tag.clone();
        cx.reject(Leg::A, &self.a_tx, &self.a_invite, code, &tag);
        self.a_final = Some(code);
    }

    fn send_cancel(&mut self, cx: &mut Cx<'_>) {
        let mut cancel = cancel_for(&self.b_invite);
        stamp_agent(&mut cancel, &cx.plan.user_agent);
        let key = cx.send(Leg::B, cancel);
        if let Some(key) = &key {
            self.out.insert(
                key.clone(),
                Outgoing {
                    leg: Leg::B,
                    purpose: Purpose::Cancel,
                },
            );
        }
        if let Phase::Cancelling { cancel, .. } = &mut self.phase {
            *cancel = key;
        }
        cx.set_timer(CallTimer::CancelWait, cx.now + cx.timeout());
    }

    /// Takes B's tag, target and route set from a response to the INVITE (§12.1.2); a 2xx
    /// always wins over what an early response said.
    fn learn_b_dialog(&mut self, response: &Message, confirm: bool) {
        let Ok(to) = response.to_header() else { return };
        let Some(tag) = to.tag() else { return };
        if self.b.remote_tag.is_some() && !confirm {
            return;
        }
        self.b.remote_tag = Some(tag.clone());
        self.b.refresh_target(response);
        let mut routes = response.record_routes().unwrap_or_default();
        routes.reverse();
        self.b.route_set = routes;
    }

    /// Whether a 2xx comes from another fork than the one the call is confirmed with (a
    /// forking proxy behind B let two branches answer, RFC 3261 §13.2.2.4).
    fn is_other_fork(&self, response: &Message) -> bool {
        let tag = response.to_header().ok().and_then(|to| to.tag().cloned());
        matches!((&self.b.remote_tag, tag), (Some(ours), Some(theirs)) if *ours != theirs)
    }

    /// Confirms and at once releases the dialog of another fork's 2xx: ACK, then BYE
    /// (§13.2.2.4). A hears nothing of it.
    fn release_fork(&mut self, cx: &mut Cx<'_>, response: &Message) {
        let mut fork = self.b.clone();
        fork.remote_tag = response.to_header().ok().and_then(|to| to.tag().cloned());
        fork.refresh_target(response);
        let mut routes = response.record_routes().unwrap_or_default();
        routes.reverse();
        fork.route_set = routes;
        let seq = response.cseq().map(|c| c.seq).unwrap_or(1);
        let local = &cx.plan.b_local;
        let via = cx.ids.via(Leg::B, local);
        let mut ack = fork.build(Method::Ack, seq, &via, MaxForwards::DEFAULT, &local.contact);
        stamp_agent(&mut ack, &cx.plan.user_agent);
        cx.actions.push(Action::SendAck { leg: Leg::B, ack });
        let via = cx.ids.via(Leg::B, local);
        let mut bye = fork.build(
            Method::Bye,
            seq + 1,
            &via,
            MaxForwards::DEFAULT,
            &local.contact,
        );
        stamp_agent(&mut bye, &cx.plan.user_agent);
        cx.send(Leg::B, bye);
    }

    /// A response to A's INVITE carrying what B said: tag, Record-Route of A's INVITE and the
    /// SBC's Contact (§12.1.1), allow-listed headers and the body.
    fn response_for_a(
        &mut self,
        cx: &mut Cx<'_>,
        response: &Message,
    ) -> Result<Message, MediaRefusal> {
        let code = response.status().unwrap_or(500);
        let reason = String::from_utf8_lossy(&reason_of(response)).into_owned();
        let reason = if reason.is_empty() || reason.chars().any(char::is_control) {
            None
        } else {
            Some(reason)
        };
        let mut to_a = response_to(
            &self.a_invite,
            code,
            reason.as_deref(),
            Some(&self.a.local_tag),
        );
        for rr in self.a_invite.headers.get_all(HeaderName::RecordRoute) {
            to_a.headers
                .push(Header::new(HeaderName::RecordRoute, rr.clone()));
        }
        to_a.headers.push(Header::new(
            HeaderName::Contact,
            value(NameAddr::new(cx.plan.a_local.contact.clone())),
        ));
        carry_headers(response, &mut to_a, &cx.plan.headers);
        carry_body(response, &mut to_a, Leg::B, &Method::Invite, cx.transform)?;
        stamp_agent(&mut to_a, &cx.plan.user_agent);
        Ok(to_a)
    }

    /// Relays B's provisional to A. Early media B offers or answers that cannot be anchored
    /// gives the call up: the refusal to A, CANCEL to B.
    fn relay_provisional(&mut self, cx: &mut Cx<'_>, response: &Message) -> Flow {
        let mut to_a = match self.response_for_a(cx, response) {
            Ok(to_a) => to_a,
            Err(refusal) => return self.refuse_early(cx, refusal),
        };
        let b_rseq = response
            .headers
            .get(HeaderName::RSeq)
            .and_then(|v| crate::sip::scan::parse_u64(v))
            .and_then(|v| u32::try_from(v).ok());
        let reliable = response
            .require()
            .unwrap_or_default()
            .iter()
            .any(|t| t.eq_ignore_ascii_case(b"100rel"));
        if let (Some(b_rseq), true) = (b_rseq, reliable) {
            let b_cseq = response.cseq().map(|c| c.seq).unwrap_or(0);
            // B retransmits a reliable provisional until the PRACK reaches it (RFC 3262 §3);
            // each retransmission goes to A with the RSeq A saw the first time.
            let known = self
                .rels
                .iter()
                .find(|r| r.b_rseq == b_rseq && r.b_cseq == b_cseq)
                .map(|r| r.a_rseq);
            let a_rseq = match known {
                Some(a_rseq) => a_rseq,
                None => {
                    self.a_rseq += 1;
                    self.rels.push(Rel {
                        a_rseq: self.a_rseq,
                        b_rseq,
                        b_cseq,
                    });
                    self.a_rseq
                }
            };
            to_a.headers
                .push(Header::new(HeaderName::RSeq, value(a_rseq)));
        }
        cx.respond(Leg::A, &self.a_tx, to_a);
        Flow::Continue
    }

    /// Relays B's 2xx to A and confirms the call. When B's answer (or late offer) cannot be
    /// anchored, B's dialog is confirmed and at once released (ACK, then BYE, as RFC 3261
    /// §13.2.2.4 has a UAC do with an offer in a 2xx it cannot accept), and A gets the refusal
    /// (488 with Warning: what A offered cannot be set up with the callee).
    fn relay_answer(&mut self, cx: &mut Cx<'_>, response: &Message) -> Flow {
        let b_seq = response.cseq().map(|c| c.seq).unwrap_or(0);
        let offer = late_offer(&self.b_invite, response);
        let to_a = match self.response_for_a(cx, response) {
            Ok(to_a) => to_a,
            Err(refusal) => {
                self.out.remove(&self.b_tx);
                let _ = self.send_ack(cx, Leg::B, b_seq, None, offer.as_ref());
                let tag = self.a.local_tag.clone();
                cx.refuse(Leg::A, &self.a_tx, &self.a_invite, refusal, &tag);
                self.a_final = Some(refusal.status());
                return self.hang_up(cx, &[Leg::B], EndReason::MediaRefused);
            }
        };
        let cseq = self.a_invite.cseq().map(|c| c.seq).unwrap_or(0);
        self.a_final = Some(response.status().unwrap_or(200));
        self.out.remove(&self.b_tx);
        let tx = self.a_tx.clone();
        self.await_ack(cx, Leg::A, (cseq, b_seq), tx, to_a, offer);
        self.phase = Phase::Confirmed;
        Flow::Continue
    }

    /// Sends the 2xx `response` on `leg` and retransmits it until the ACK (§13.3.1.4).
    /// `cseqs` are the INVITE's CSeq on `leg` and on the other leg; `late_offer` is the other
    /// leg's, to answer if the answer in the ACK cannot be relayed.
    pub(super) fn await_ack(
        &mut self,
        cx: &mut Cx<'_>,
        leg: Leg,
        (cseq, other_cseq): (u32, u32),
        tx: TxKey,
        response: Message,
        late_offer: Option<bytes::Bytes>,
    ) {
        cx.respond(leg, &tx, response.clone());
        let interval = cx.plan.timers.t1;
        cx.set_timer(CallTimer::Resend2xx(leg), cx.now + interval);
        self.acks.retain(|w| w.leg != leg);
        self.acks.push(AckWait {
            leg,
            cseq,
            other_cseq,
            tx,
            response,
            late_offer,
            interval,
            give_up: cx.now + cx.timeout(),
        });
    }

    /// A call timer fired.
    pub(super) fn on_timer(&mut self, cx: &mut Cx<'_>, timer: CallTimer) -> Flow {
        match (timer, &self.phase) {
            (CallTimer::NoAnswer, Phase::Calling | Phase::Early) => {
                self.give_up(cx, 480, EndReason::NoAnswer)
            }
            (CallTimer::TimerC, Phase::Calling | Phase::Early) => {
                self.give_up(cx, 408, EndReason::TimerC)
            }
            (CallTimer::CancelWait, Phase::Cancelling { reason, .. }) => Flow::End(*reason),
            (CallTimer::MaxDuration, Phase::Confirmed) => {
                self.hang_up(cx, &[Leg::A, Leg::B], EndReason::MaxDuration)
            }
            (CallTimer::Resend2xx(leg), _) => self.resend_2xx(cx, leg),
            _ => Flow::Continue,
        }
    }

    fn resend_2xx(&mut self, cx: &mut Cx<'_>, leg: Leg) -> Flow {
        let Some(wait) = self.acks.iter_mut().find(|w| w.leg == leg) else {
            return Flow::Continue;
        };
        if cx.now >= wait.give_up {
            self.acks.retain(|w| w.leg != leg);
            return self.hang_up(cx, &[Leg::A, Leg::B], EndReason::AckTimeout);
        }
        wait.interval = (wait.interval * 2).min(cx.plan.timers.t2);
        let (tx, response, at) = (
            wait.tx.clone(),
            wait.response.clone(),
            cx.now + wait.interval,
        );
        cx.respond(leg, &tx, response);
        cx.set_timer(CallTimer::Resend2xx(leg), at);
        Flow::Continue
    }
}

/// The reason phrase of a response.
fn reason_of(response: &Message) -> bytes::Bytes {
    response
        .status_line()
        .map(|s| s.reason.clone())
        .unwrap_or_default()
}
