//! The INVITE client transaction (pure): RFC 3261 §17.1.1 with the RFC 6026 §7.2 Accepted
//! state, and the hop-by-hop ACK for non-2xx final responses (§17.1.1.3).
//!
//! ```text
//! Calling --1xx--> Proceeding --1xx--> Proceeding
//! Calling/Proceeding --2xx--> Accepted --Timer M--> Terminated     (2xx passed to the TU)
//! Calling/Proceeding --300-699, send ACK--> Completed --Timer D--> Terminated
//! Calling --Timer B--> Terminated (Timeout)
//! ```
//! Timer A retransmits the INVITE at T1, 2T1, 4T1, … (no cap) until a response or Timer B
//! (64*T1); unreliable transports only. Timer D is 32 s unreliable and zero reliable.

use super::{Outbox, TIMER_D, Timer, TimerTable, Timers, TxEvent, TxKey};
use crate::sip::header::HeaderName;
use crate::sip::header::cseq::CSeq;
use crate::sip::message::{Header, Headers, Message, RequestLine, SIP_2_0, StartLine};
use crate::sip::method::Method;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// States of an INVITE client transaction, with their data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// INVITE sent, no response yet; Timer A runs at `interval`.
    Calling {
        /// The current Timer A interval.
        interval: Duration,
    },
    /// A provisional response arrived.
    Proceeding,
    /// A 300-699 response arrived and was ACKed; retransmissions of it are ACKed again.
    Completed {
        /// The encoded ACK.
        ack: Bytes,
    },
    /// A 2xx arrived (RFC 6026); further 2xx go to the TU, which ACKs them.
    Accepted,
    /// Done.
    Terminated,
}

/// An INVITE client transaction.
#[derive(Debug)]
pub(crate) struct ClientInvite<A> {
    key: TxKey,
    peer: A,
    reliable: bool,
    request: Message,
    payload: Bytes,
    state: State,
    timers: TimerTable,
}

impl<A: Clone> ClientInvite<A> {
    /// A transaction for `request`, encoded as `payload`, to `peer`.
    pub(crate) fn new(
        key: TxKey,
        request: Message,
        payload: Bytes,
        peer: A,
        reliable: bool,
    ) -> Self {
        ClientInvite {
            key,
            peer,
            reliable,
            request,
            payload,
            state: State::Calling {
                interval: Duration::ZERO,
            },
            timers: TimerTable::default(),
        }
    }

    /// Sends the INVITE and arms Timers A (unreliable) and B.
    pub(crate) fn start(&mut self, cfg: &Timers, now: Instant, out: &mut Outbox<A>) {
        out.send(&self.peer, &self.payload, self.reliable, &self.key);
        if !self.reliable {
            self.state = State::Calling { interval: cfg.t1 };
            self.timers.set(Timer::A, now + cfg.t1);
        }
        self.timers.set(Timer::B, now + cfg.timeout());
    }

    /// A response matched this transaction.
    pub(crate) fn on_response(
        &mut self,
        response: Message,
        cfg: &Timers,
        now: Instant,
        out: &mut Outbox<A>,
    ) {
        let code = response.status().unwrap_or(0);
        match (&self.state, code) {
            (State::Calling { .. } | State::Proceeding, 100..=199) => {
                self.stop_calling();
                self.state = State::Proceeding;
                self.pass_up(response, out);
            }
            (State::Calling { .. } | State::Proceeding, 200..=299) => {
                self.stop_calling();
                self.state = State::Accepted;
                self.timers.set(Timer::M, now + cfg.timeout());
                self.pass_up(response, out);
            }
            (State::Calling { .. } | State::Proceeding, 300..) => {
                self.stop_calling();
                let ack = build_ack(&self.request, &response).to_bytes();
                out.send(&self.peer, &ack, self.reliable, &self.key);
                self.pass_up(response, out);
                if self.reliable {
                    self.state = State::Terminated;
                } else {
                    self.state = State::Completed { ack };
                    self.timers.set(Timer::D, now + TIMER_D);
                }
            }
            (State::Completed { ack }, 300..) => {
                out.send(&self.peer, ack, self.reliable, &self.key);
            }
            (State::Accepted, 200..=299) => self.pass_up(response, out),
            // Late provisionals and non-2xx after a 2xx are absorbed.
            _ => {}
        }
    }

    /// `timer` fired (the layer has already disarmed it).
    pub(crate) fn on_timer(&mut self, timer: Timer, now: Instant, out: &mut Outbox<A>) {
        match (&self.state, timer) {
            (State::Calling { interval }, Timer::A) => {
                let interval = *interval * 2;
                out.send(&self.peer, &self.payload, self.reliable, &self.key);
                self.state = State::Calling { interval };
                self.timers.set(Timer::A, now + interval);
            }
            (State::Calling { .. }, Timer::B) => {
                out.event(TxEvent::Timeout {
                    key: self.key.clone(),
                    timer,
                });
                self.terminate();
            }
            (State::Completed { .. }, Timer::D) | (State::Accepted, Timer::M) => self.terminate(),
            _ => {}
        }
    }

    fn stop_calling(&mut self) {
        self.timers.stop(Timer::A);
        self.timers.stop(Timer::B);
    }

    fn pass_up(&self, response: Message, out: &mut Outbox<A>) {
        out.event(TxEvent::Response {
            key: self.key.clone(),
            response,
        });
    }

    /// Moves to Terminated and disarms every timer.
    pub(crate) fn terminate(&mut self) {
        self.state = State::Terminated;
        self.timers.stop_all();
    }

    /// The current state.
    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// This transaction's timers.
    pub(crate) fn timers(&self) -> &TimerTable {
        &self.timers
    }

    /// This transaction's timers, for the layer to disarm one that fired.
    pub(crate) fn timers_mut(&mut self) -> &mut TimerTable {
        &mut self.timers
    }
}

/// The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): the INVITE's Request-URI,
/// Call-ID, From and Route headers and only its top Via, the response's To (with its tag), and
/// the INVITE's CSeq number with method ACK.
pub fn build_ack(invite: &Message, response: &Message) -> Message {
    let uri = invite
        .request_line()
        .map(|l| l.uri.clone())
        .unwrap_or_default();
    let mut headers = Headers::with_capacity(8);
    if let Ok(via) = invite.top_via() {
        headers.push(Header::new(HeaderName::Via, via.to_string()));
    }
    for h in &invite.headers {
        if matches!(h.name, HeaderName::Route) {
            headers.push(h.clone());
        }
    }
    headers.push(Header::new(
        HeaderName::MaxForwards,
        Bytes::from_static(b"70"),
    ));
    for h in &invite.headers {
        if matches!(h.name, HeaderName::From | HeaderName::CallId) {
            headers.push(h.clone());
        }
    }
    for h in &response.headers {
        if h.name == HeaderName::To {
            headers.push(h.clone());
        }
    }
    let seq = invite.cseq().map(|c| c.seq).unwrap_or(0);
    headers.push(Header::new(
        HeaderName::CSeq,
        CSeq::new(seq, Method::Ack).to_string(),
    ));
    headers.push(Header::new(
        HeaderName::ContentLength,
        Bytes::from_static(b"0"),
    ));
    Message {
        start: StartLine::Request(RequestLine {
            method: Method::Ack,
            uri,
            version: Bytes::from_static(SIP_2_0),
        }),
        headers,
        body: Bytes::new(),
    }
}

#[cfg(test)]
#[path = "client_invite_tests.rs"]
mod tests;
