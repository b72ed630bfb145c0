//! The non-INVITE client transaction (pure): RFC 3261 §17.1.2 (BYE, CANCEL, OPTIONS, REGISTER,
//! and every other method except INVITE and ACK).
//!
//! ```text
//! Trying --1xx--> Proceeding --1xx--> Proceeding
//! Trying/Proceeding --200-699--> Completed --Timer K--> Terminated
//! Trying/Proceeding --Timer F--> Terminated (Timeout)
//! ```
//! Timer E retransmits the request at T1, then doubling intervals capped at T2; once a
//! provisional response has arrived every interval is T2 (§17.1.2.2). Unreliable transports
//! only. Timer F is 64*T1; Timer K is T4 unreliable and zero reliable.

use super::{Outbox, Timer, TimerTable, Timers, TxEvent, TxKey};
use crate::sip::message::Message;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// States of a non-INVITE client transaction, with their data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Request sent, no response yet; Timer E runs at `interval`.
    Trying {
        /// The current Timer E interval.
        interval: Duration,
    },
    /// A provisional response arrived; Timer E runs at T2.
    Proceeding,
    /// A final response arrived; retransmissions of it are absorbed until Timer K.
    Completed,
    /// Done.
    Terminated,
}

/// A non-INVITE client transaction.
#[derive(Debug)]
pub(crate) struct ClientNonInvite<A> {
    key: TxKey,
    peer: A,
    reliable: bool,
    payload: Bytes,
    state: State,
    timers: TimerTable,
}

impl<A: Clone> ClientNonInvite<A> {
    /// A transaction for the request encoded as `payload`, to `peer`.
    pub(crate) fn new(key: TxKey, payload: Bytes, peer: A, reliable: bool) -> Self {
        ClientNonInvite {
            key,
            peer,
            reliable,
            payload,
            state: State::Trying {
                interval: Duration::ZERO,
            },
            timers: TimerTable::default(),
        }
    }

    /// Sends the request and arms Timers E (unreliable) and F.
    pub(crate) fn start(&mut self, cfg: &Timers, now: Instant, out: &mut Outbox<A>) {
        out.send(&self.peer, &self.payload, self.reliable, &self.key);
        if !self.reliable {
            self.state = State::Trying { interval: cfg.t1 };
            self.timers.set(Timer::E, now + cfg.t1);
        }
        self.timers.set(Timer::F, now + cfg.timeout());
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
            (State::Trying { .. } | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                self.pass_up(response, out);
            }
            (State::Trying { .. } | State::Proceeding, 200..) => {
                self.timers.stop(Timer::E);
                self.timers.stop(Timer::F);
                self.pass_up(response, out);
                if self.reliable {
                    self.terminate();
                } else {
                    self.state = State::Completed;
                    self.timers.set(Timer::K, now + cfg.t4);
                }
            }
            // Completed absorbs response retransmissions.
            _ => {}
        }
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
            (State::Trying { interval }, Timer::E) => {
                let interval = cfg.backoff_capped(*interval);
                out.send(&self.peer, &self.payload, self.reliable, &self.key);
                self.state = State::Trying { interval };
                self.timers.set(Timer::E, now + interval);
            }
            (State::Proceeding, Timer::E) => {
                out.send(&self.peer, &self.payload, self.reliable, &self.key);
                self.timers.set(Timer::E, now + cfg.t2);
            }
            (State::Trying { .. } | State::Proceeding, Timer::F) => {
                out.event(TxEvent::Timeout {
                    key: self.key.clone(),
                    timer,
                });
                self.terminate();
            }
            (State::Completed, Timer::K) => self.terminate(),
            _ => {}
        }
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

#[cfg(test)]
#[path = "client_non_invite_tests.rs"]
mod tests;
