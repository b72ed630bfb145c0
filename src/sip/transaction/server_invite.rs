//! The INVITE server transaction (pure): RFC 3261 §17.2.1 with the RFC 6026 §7.1 Accepted
//! state.
//!
//! ```text
//! Proceeding --TU 1xx--> Proceeding          (INVITE retransmission: resend last 1xx)
//! Proceeding --TU 2xx--> Accepted --Timer L--> Terminated
//! Proceeding --TU 300-699--> Completed --ACK--> Confirmed --Timer I--> Terminated
//! Completed --Timer H--> Terminated (Timeout)
//! ```
//! Timer G retransmits a non-2xx final response at T1, then doubling intervals capped at T2
//! (unreliable only) until ACK or Timer H (64*T1). Timer I is T4 unreliable, zero reliable.
//! In Accepted (64*T1, Timer L) INVITE retransmissions are absorbed and the TU's 2xx
//! retransmissions are sent. [`Timer::Trying`] sends `100 Trying` 200 ms after the INVITE
//! arrived if the TU has sent nothing yet.

use super::{Outbox, TRYING_DELAY, Timer, TimerTable, Timers, TxError, TxKey};
use crate::sip::message::Message;
use crate::sip::response::response_to;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// States of an INVITE server transaction, with their data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Waiting for the TU's final response.
    Proceeding {
        /// The last provisional response sent, re-sent on INVITE retransmissions.
        provisional: Option<Bytes>,
    },
    /// A 300-699 response was sent; waiting for the ACK.
    Completed {
        /// The encoded final response.
        response: Bytes,
        /// The current Timer G interval.
        interval: Duration,
    },
    /// The ACK arrived; absorbing ACK retransmissions until Timer I.
    Confirmed,
    /// A 2xx was sent (RFC 6026): INVITE retransmissions absorbed, TU 2xx retransmissions sent.
    Accepted,
    /// Done.
    Terminated,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Proceeding { .. } => "Proceeding",
            State::Completed { .. } => "Completed",
            State::Confirmed => "Confirmed",
            State::Accepted => "Accepted",
            State::Terminated => "Terminated",
        }
    }
}

/// An INVITE server transaction.
#[derive(Debug)]
pub(crate) struct ServerInvite<A> {
    key: TxKey,
    peer: A,
    reliable: bool,
    /// Kept until `100 Trying` is sent or the TU responds.
    request: Option<Message>,
    /// The To tag of the non-2xx final response (matches RFC 2543 ACKs).
    to_tag: Option<Bytes>,
    state: State,
    timers: TimerTable,
}

impl<A: Clone> ServerInvite<A> {
    /// A transaction for `request` from `peer`.
    pub(crate) fn new(key: TxKey, request: Message, peer: A, reliable: bool) -> Self {
        ServerInvite {
            key,
            peer,
            reliable,
            request: Some(request),
            to_tag: None,
            state: State::Proceeding { provisional: None },
            timers: TimerTable::default(),
        }
    }

    /// Arms the 100 Trying timer.
    pub(crate) fn start(&mut self, now: Instant) {
        self.timers.set(Timer::Trying, now + TRYING_DELAY);
    }

    /// The INVITE arrived again.
    pub(crate) fn on_retransmission(&mut self, out: &mut Outbox<A>) {
        match &self.state {
            State::Proceeding {
                provisional: Some(p),
            } => out.send(&self.peer, p, self.reliable, &self.key),
            State::Completed { response, .. } => {
                out.send(&self.peer, response, self.reliable, &self.key)
            }
            _ => {}
        }
    }

    /// An ACK matched this transaction. Returns false when it is not absorbed (an ACK for a
    /// 2xx in Accepted, which the TU gets).
    pub(crate) fn on_ack(&mut self, cfg: &Timers, now: Instant) -> bool {
        match self.state {
            State::Completed { .. } => {
                self.timers.stop(Timer::G);
                self.timers.stop(Timer::H);
                if self.reliable {
                    self.terminate();
                } else {
                    self.state = State::Confirmed;
                    self.timers.set(Timer::I, now + cfg.t4);
                }
                true
            }
            State::Accepted => false,
            _ => true,
        }
    }

    /// The TU sends `response` on this transaction.
    pub(crate) fn respond(
        &mut self,
        response: Message,
        cfg: &Timers,
        now: Instant,
        out: &mut Outbox<A>,
    ) -> Result<(), TxError> {
        let code = response.status().unwrap_or(0);
        let proceeding = matches!(self.state, State::Proceeding { .. });
        match code {
            100..=199 if proceeding => {
                let payload = self.send(&response, out);
                self.answered();
                self.state = State::Proceeding {
                    provisional: Some(payload),
                };
            }
            200..=299 if proceeding => {
                self.send(&response, out);
                self.answered();
                self.state = State::Accepted;
                self.timers.set(Timer::L, now + cfg.timeout());
            }
            200..=299 if self.state == State::Accepted => {
                self.send(&response, out);
            }
            300.. if proceeding => {
                let payload = self.send(&response, out);
                self.answered();
                self.to_tag = response.to_header().ok().and_then(|t| t.tag().cloned());
                self.state = State::Completed {
                    response: payload,
                    interval: cfg.t1,
                };
                if !self.reliable {
                    self.timers.set(Timer::G, now + cfg.t1);
                }
                self.timers.set(Timer::H, now + cfg.timeout());
            }
            _ => {
                return Err(TxError::InvalidState {
                    code,
                    state: self.state.name(),
                });
            }
        }
        Ok(())
    }

    /// `timer` fired (the layer has already disarmed it).
    pub(crate) fn on_timer(
        &mut self,
        timer: Timer,
        cfg: &Timers,
        now: Instant,
        out: &mut Outbox<A>,
    ) {
        match (&self.state, timer) {
            (State::Proceeding { provisional: None }, Timer::Trying) => {
                if let Some(request) = self.request.take() {
                    let trying = response_to(&request, 100, None, None);
                    let payload = self.send(&trying, out);
                    self.state = State::Proceeding {
                        provisional: Some(payload),
                    };
                }
            }
            (State::Completed { response, interval }, Timer::G) => {
                out.send(&self.peer, response, self.reliable, &self.key);
                let interval = cfg.backoff_capped(*interval);
                self.state = State::Completed {
                    response: response.clone(),
                    interval,
                };
                self.timers.set(Timer::G, now + interval);
            }
            (State::Completed { .. }, Timer::H) => {
                out.event(super::TxEvent::Timeout {
                    key: self.key.clone(),
                    timer,
                });
                self.terminate();
            }
            (State::Confirmed, Timer::I) | (State::Accepted, Timer::L) => self.terminate(),
            _ => {}
        }
    }

    fn send(&self, response: &Message, out: &mut Outbox<A>) -> Bytes {
        let payload = response.to_bytes();
        out.send(&self.peer, &payload, self.reliable, &self.key);
        payload
    }

    /// The TU has responded: no 100 Trying needed any more.
    fn answered(&mut self) {
        self.request = None;
        self.timers.stop(Timer::Trying);
    }

    /// Whether the TU has not sent a final response yet.
    pub(crate) fn is_proceeding(&self) -> bool {
        matches!(self.state, State::Proceeding { .. })
    }

    /// The To tag of the final non-2xx response, if one was sent.
    pub(crate) fn final_to_tag(&self) -> Option<&Bytes> {
        self.to_tag.as_ref()
    }

    /// Moves to Terminated and disarms every timer.
    pub(crate) fn terminate(&mut self) {
        self.state = State::Terminated;
        self.request = None;
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

#[cfg(test)]
#[path = "server_invite_tests.rs"]
mod tests;
