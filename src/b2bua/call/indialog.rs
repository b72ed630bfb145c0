//! Requests inside the call's dialogs (pure): RFC 3261 §12.2 (in-dialog requests, 481 for
//! unknown dialogs), §13.2.2.4 (the end-to-end ACK, rebuilt with the other leg's dialog),
//! §14 (re-INVITE, glare: 491 when the call's own INVITE on that leg is pending, 500 while the
//! peer's previous one is), §15 (BYE), RFC 3311 (UPDATE), RFC 3262 §7 (PRACK with RAck
//! translated per leg), RFC 6086 (INFO), RFC 3428 (MESSAGE), RFC 3515 (REFER, 403 unless the
//! plan allows it) and §16.6 item 3 / §8.2 (Max-Forwards re-checked on every relayed request).

use super::refusal::MediaRefusal;
use super::relay::{
    carry_body, carry_headers, late_offer, map_final, rejecting_answer, stamp_agent,
};
use super::{CallTimer, Cx, EndReason, Flow, Leg, Live, Outgoing, Phase, Purpose};
use crate::sip::header::{HeaderName, MaxForwards, NameAddr};
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::response::response_to;
use crate::sip::transaction::TxKey;
use bytes::Bytes;

use super::dialog::{cancel_for, value};

/// Methods whose requests carry the other side's headers that the allow-list would drop but the
/// method cannot work without.
fn method_headers(method: &Method) -> &'static [HeaderName] {
    match method {
        Method::Refer => &[HeaderName::ReferTo, HeaderName::ReferredBy],
        _ => &[],
    }
}

/// Parses `RAck: response-num CSeq-num Method` (RFC 3262 §7.2).
fn parse_rack(v: &Bytes) -> Option<(u32, u32)> {
    let text = std::str::from_utf8(v).ok()?;
    let mut parts = text.split_whitespace();
    let rseq = parts.next()?.parse().ok()?;
    let cseq = parts.next()?.parse().ok()?;
    Some((rseq, cseq))
}

impl Live {
    /// A request on `leg`.
    pub(super) fn on_request(
        &mut self,
        cx: &mut Cx<'_>,
        leg: Leg,
        request: Message,
        tx: TxKey,
    ) -> Flow {
        let method = request.method().cloned().unwrap_or(Method::Ack);
        let tag = self.dialog(leg).local_tag.clone();
        if method == Method::Cancel {
            if leg == Leg::A && tx.with_method(Method::Invite) == self.a_tx {
                return self.on_cancel(cx, &request, &tx);
            }
            self.cancel_relayed(cx, leg, &request, &tx);
            return Flow::Continue;
        }
        if let Err(e) = self.dialog(leg).accept_request(&request) {
            cx.reject(leg, &tx, &request, e.status(), &tag);
            return Flow::Continue;
        }
        let max_forwards = match request.max_forwards() {
            Ok(Some(mf)) => mf.decremented(),
            Ok(None) => Some(MaxForwards::DEFAULT),
            Err(_) => None,
        };
        let Some(max_forwards) = max_forwards else {
            cx.reject(leg, &tx, &request, 483, &tag);
            return Flow::Continue;
        };
        let live = matches!(self.phase, Phase::Early | Phase::Confirmed);
        match method {
            Method::Bye => return self.on_bye(cx, leg, &request, &tx),
            _ if !live => {
                cx.reject(leg, &tx, &request, 481, &tag);
                return Flow::Continue;
            }
            Method::Refer if !cx.plan.allow_refer => {
                cx.reject(leg, &tx, &request, 403, &tag);
                return Flow::Continue;
            }
            Method::Invite | Method::Update => {
                if let Some(code) = self.glare(leg, &method) {
                    let mut response = response_to(&request, code, None, Some(&tag));
                    if code == 500 {
                        response.headers.push(Header::new(
                            HeaderName::RetryAfter,
                            Bytes::from_static(b"1"),
                        ));
                    }
                    stamp_agent(&mut response, &cx.plan.user_agent);
                    cx.respond(leg, &tx, response);
                    return Flow::Continue;
                }
            }
            _ => {}
        }
        self.relay_request(cx, leg, request, tx, max_forwards);
        Flow::Continue
    }

    /// The status a target-refresh request on `leg` gets when another one is in progress:
    /// 491 when the call's own INVITE/UPDATE on that leg is pending (§14.2, RFC 3311 §5.2),
    /// 500 when the peer's previous one is still unanswered (§14.2).
    fn glare(&self, leg: Leg, method: &Method) -> Option<u16> {
        let busy = |m: &Message| matches!(m.method(), Some(Method::Invite | Method::Update));
        for o in self.out.values() {
            match &o.purpose {
                Purpose::Relay { request, .. } if o.leg == leg && busy(request) => {
                    return Some(491);
                }
                Purpose::Relay { from, request, .. }
                    if *from == leg && request.method() == Some(method) =>
                {
                    return Some(500);
                }
                _ => {}
            }
        }
        if *method == Method::Invite && self.acks.iter().any(|w| w.leg == leg.other()) {
            return Some(491);
        }
        None
    }

    /// Builds the request on the other leg and remembers which server transaction it answers.
    fn relay_request(
        &mut self,
        cx: &mut Cx<'_>,
        from: Leg,
        request: Message,
        tx: TxKey,
        max_forwards: MaxForwards,
    ) {
        let to = from.other();
        let method = request.method().cloned().unwrap_or(Method::Ack);
        let local = super::local(cx.plan, to);
        let via = cx.ids.via(to, local);
        let mut out = self
            .dialog(to)
            .request(method.clone(), &via, max_forwards, &local.contact);
        carry_headers(&request, &mut out, &cx.plan.headers);
        for name in method_headers(&method) {
            for v in request.headers.get_all(*name) {
                out.headers.push(Header::new(*name, v.clone()));
            }
        }
        if method == Method::Prack {
            let rack = request
                .headers
                .get(HeaderName::RAck)
                .and_then(parse_rack)
                .and_then(|(rseq, _)| self.rels.iter().find(|r| r.a_rseq == rseq));
            match rack {
                Some(rel) if from == Leg::A => {
                    let value = format!("{} {} INVITE", rel.b_rseq, rel.b_cseq);
                    out.headers
                        .push(Header::new(HeaderName::RAck, Bytes::from(value)));
                }
                _ => {
                    let tag = self.dialog(from).local_tag.clone();
                    cx.reject(from, &tx, &request, 481, &tag);
                    return;
                }
            }
        }
        if let Err(refusal) = carry_body(&request, &mut out, from, &method, cx.transform) {
            // The offer cannot be anchored: the request is answered here and not relayed; the
            // session and its media stay as they were (RFC 3261 §14.2, RFC 3311 §5.1).
            let tag = self.dialog(from).local_tag.clone();
            cx.refuse(from, &tx, &request, refusal, &tag);
            return;
        }
        if matches!(method, Method::Invite | Method::Update) {
            self.dialog(from).refresh_target(&request);
        }
        stamp_agent(&mut out, &cx.plan.user_agent);
        let sent = (method == Method::Invite).then(|| out.clone());
        if let Some(key) = cx.send(to, out) {
            if let Some(sent) = sent {
                self.reinvites.retain(|(k, _)| self.out.contains_key(k));
                self.reinvites.push((key.clone(), sent));
            }
            self.out.insert(
                key,
                Outgoing {
                    leg: to,
                    purpose: Purpose::Relay { from, tx, request },
                },
            );
        }
    }

    /// A CANCEL on `leg` for a re-INVITE the call relayed: 200 to it, and CANCEL the relayed
    /// re-INVITE on the other leg, whose `487` then answers the cancelled one (§9.2). A CANCEL
    /// that matches nothing gets `481`.
    fn cancel_relayed(&mut self, cx: &mut Cx<'_>, leg: Leg, request: &Message, tx: &TxKey) {
        let tag = self.dialog(leg).local_tag.clone();
        let invite_tx = tx.with_method(Method::Invite);
        let relayed = self.out.iter().find_map(|(key, o)| match &o.purpose {
            Purpose::Relay { from, tx: t, .. } if *from == leg && *t == invite_tx => {
                Some(key.clone())
            }
            _ => None,
        });
        let Some(key) = relayed else {
            cx.reject(leg, tx, request, 481, &tag);
            return;
        };
        cx.reject(leg, tx, request, 200, &tag);
        let Some(sent) = self
            .reinvites
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, m)| m.clone())
        else {
            return;
        };
        let mut cancel = cancel_for(&sent);
        stamp_agent(&mut cancel, &cx.plan.user_agent);
        if let Some(cancel_tx) = cx.send(leg.other(), cancel) {
            self.out.insert(
                cancel_tx,
                Outgoing {
                    leg: leg.other(),
                    purpose: Purpose::Cancel,
                },
            );
        }
    }

    /// BYE on `leg`: 200, then BYE on the other leg (§15.1.2).
    fn on_bye(&mut self, cx: &mut Cx<'_>, leg: Leg, request: &Message, tx: &TxKey) -> Flow {
        let tag = self.dialog(leg).local_tag.clone();
        cx.reject(leg, tx, request, 200, &tag);
        match self.phase {
            Phase::Confirmed => self.hang_up(cx, &[leg.other()], EndReason::Completed),
            // A BYE from A on the early dialog gives the call up like a CANCEL.
            Phase::Calling | Phase::Early if leg == Leg::A => {
                self.give_up(cx, 487, EndReason::Cancelled)
            }
            _ => Flow::Continue,
        }
    }

    /// A response to a request the call sent on `leg`.
    pub(super) fn on_response(
        &mut self,
        cx: &mut Cx<'_>,
        leg: Leg,
        response: Message,
        tx: TxKey,
    ) -> Flow {
        if tx == self.b_tx && leg == Leg::B {
            return self.on_invite_response(cx, response);
        }
        let code = response.status().unwrap_or(500);
        if code < 200 {
            if code > 100 {
                if let Some(Outgoing {
                    purpose: Purpose::Relay { from, tx, request },
                    ..
                }) = self.out.get(&tx).cloned()
                {
                    // A provisional's body the relay refuses is dropped; the final decides.
                    let (back, _) = self.response_back(cx, from, &request, &response, code);
                    cx.respond(from, &tx, back);
                }
            }
            return Flow::Continue;
        }
        if code < 300 && response.cseq().is_ok_and(|c| c.method == Method::Invite) {
            // A re-INVITE 2xx retransmission after the ACK went out.
            let seq = response.cseq().map(|c| c.seq).unwrap_or(0);
            if !self.out.contains_key(&tx) {
                self.resend_ack(cx, leg, seq);
                return Flow::Continue;
            }
        }
        let Some(outgoing) = self.out.remove(&tx) else {
            return Flow::Continue;
        };
        match outgoing.purpose {
            Purpose::Invite | Purpose::Cancel => Flow::Continue,
            Purpose::Bye => self.bye_done(&tx),
            Purpose::Relay { from, tx, request } => {
                let (back, refused) = self.response_back(cx, from, &request, &response, code);
                let is_invite = request.method() == Some(&Method::Invite);
                if let (Some(refusal), 200..=299) = (refused, code) {
                    return self.refuse_answer(cx, leg, from, &tx, &request, &response, refusal);
                }
                if (200..300).contains(&code) && is_invite {
                    self.dialog(leg).refresh_target(&response);
                    let cseq = request.cseq().map(|c| c.seq).unwrap_or(0);
                    let other = response.cseq().map(|c| c.seq).unwrap_or(0);
                    let offer = late_offer(&request, &response);
                    self.await_ack(cx, from, (cseq, other), tx, back, offer);
                } else {
                    if (200..300).contains(&code) && request.method() == Some(&Method::Update) {
                        self.dialog(leg).refresh_target(&response);
                    }
                    cx.respond(from, &tx, back);
                }
                if matches!(code, 408 | 481) && matches!(self.phase, Phase::Confirmed) {
                    // The far dialog is gone (§12.2.1.2): release the asking leg.
                    return self.hang_up(cx, &[from], EndReason::Timeout);
                }
                Flow::Continue
            }
        }
    }

    /// A 2xx from `leg` whose answer (or offer) the relay refused, to `request` relayed from
    /// `from`: the 2xx is ACKed (for an INVITE), `from` gets the refusal, and the call ends on
    /// both legs. RFC 3264 gives an offerer no way to refuse an answer and the answerer now
    /// runs a session the relay cannot carry; as a UAC that cannot accept the offer in a 2xx
    /// (RFC 3261 §13.2.2.4), the SBC releases the dialog rather than leave media half-broken.
    #[allow(clippy::too_many_arguments)] // one refused exchange: both legs and both messages
    fn refuse_answer(
        &mut self,
        cx: &mut Cx<'_>,
        leg: Leg,
        from: Leg,
        tx: &TxKey,
        request: &Message,
        response: &Message,
        refusal: MediaRefusal,
    ) -> Flow {
        if request.method() == Some(&Method::Invite) {
            let seq = response.cseq().map(|c| c.seq).unwrap_or(0);
            let offer = late_offer(request, response);
            let _ = self.send_ack(cx, leg, seq, None, offer.as_ref());
        }
        let tag = self.dialog(from).local_tag.clone();
        cx.refuse(from, tx, request, refusal, &tag);
        self.hang_up(cx, &[Leg::A, Leg::B], EndReason::MediaRefused)
    }

    /// The response to `request` (received on `to`) carrying what the other leg answered, and
    /// the relay's refusal of its body, if any (the body is then left out).
    fn response_back(
        &mut self,
        cx: &mut Cx<'_>,
        to: Leg,
        request: &Message,
        response: &Message,
        code: u16,
    ) -> (Message, Option<MediaRefusal>) {
        let reason = response
            .status_line()
            .map(|s| s.reason.clone())
            .unwrap_or_default();
        let (code, reason) = if code >= 300 {
            map_final(code, &reason)
        } else {
            (code, String::from_utf8_lossy(&reason).into_owned())
        };
        let reason =
            Some(reason.as_str()).filter(|r| !r.is_empty() && !r.chars().any(char::is_control));
        let tag = self.dialog(to).local_tag.clone();
        let mut back = response_to(request, code, reason, Some(&tag));
        let method = request.method().cloned().unwrap_or(Method::Ack);
        if code < 300 && matches!(method, Method::Invite | Method::Update) {
            back.headers.push(Header::new(
                HeaderName::Contact,
                value(NameAddr::new(super::local(cx.plan, to).contact.clone())),
            ));
        }
        carry_headers(response, &mut back, &cx.plan.headers);
        let refused = carry_body(response, &mut back, to.other(), &method, cx.transform).err();
        stamp_agent(&mut back, &cx.plan.user_agent);
        (back, refused)
    }

    /// An ACK for a 2xx on `leg`: relayed as the ACK for the other leg's 2xx, body included
    /// (late offer: the answer rides in the ACK).
    pub(super) fn on_ack(&mut self, cx: &mut Cx<'_>, leg: Leg, ack: &Message) -> Flow {
        if self.dialog(leg).accept_request(ack).is_err() {
            return Flow::Continue;
        }
        let seq = ack.cseq().map(|c| c.seq).unwrap_or(0);
        let Some(pos) = self.acks.iter().position(|w| w.leg == leg && w.cseq == seq) else {
            return Flow::Continue;
        };
        let wait = self.acks.remove(pos);
        cx.cancel_timer(CallTimer::Resend2xx(leg));
        if self
            .send_ack(
                cx,
                leg.other(),
                wait.other_cseq,
                Some((leg, ack)),
                wait.late_offer.as_ref(),
            )
            .is_err()
        {
            // The answer in the ACK (late offer) cannot be anchored and an ACK cannot be
            // refused: the ACK answers by rejecting every stream instead (or goes without a
            // body when the offer could not be read) and the call ends (RFC 3261 §13.2.2.4).
            return self.hang_up(cx, &[Leg::A, Leg::B], EndReason::MediaRefused);
        }
        Flow::Continue
    }

    /// Sends the ACK for the 2xx with CSeq `seq` on `leg`, carrying `source`'s body; when the
    /// relay refuses that body, the refusal is returned and the ACK answers `late_offer` (the
    /// offer in the 2xx, if any) by rejecting every stream, or has no body. Without a `source`
    /// the ACK answers `late_offer` so, if there is one.
    pub(super) fn send_ack(
        &mut self,
        cx: &mut Cx<'_>,
        leg: Leg,
        seq: u32,
        source: Option<(Leg, &Message)>,
        late_offer: Option<&Bytes>,
    ) -> Result<(), MediaRefusal> {
        let local = super::local(cx.plan, leg);
        let via = cx.ids.via(leg, local);
        let mut ack =
            self.dialog(leg)
                .build(Method::Ack, seq, &via, MaxForwards::DEFAULT, &local.contact);
        let carried = match source {
            Some((from, source)) => carry_body(source, &mut ack, from, &Method::Ack, cx.transform),
            None => Ok(()),
        };
        if (source.is_none() || carried.is_err())
            && let Some(answer) = late_offer.and_then(rejecting_answer)
        {
            ack.set_body(answer, Some(Bytes::from_static(b"application/sdp")));
        }
        stamp_agent(&mut ack, &cx.plan.user_agent);
        self.sent_acks.retain(|(l, _, _)| *l != leg);
        self.sent_acks.push((leg, seq, ack.clone()));
        cx.actions.push(super::Action::SendAck { leg, ack });
        carried
    }

    /// Re-sends the ACK for a retransmitted 2xx with CSeq `seq` on `leg`, if one was sent.
    pub(super) fn resend_ack(&mut self, cx: &mut Cx<'_>, leg: Leg, seq: u32) {
        if let Some((_, _, ack)) = self
            .sent_acks
            .iter()
            .find(|(l, s, _)| *l == leg && *s == seq)
        {
            cx.actions.push(super::Action::SendAck {
                leg,
                ack: ack.clone(),
            });
        }
    }
}
