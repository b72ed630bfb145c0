//! The non-INVITE server transaction (pure): RFC 3261 §17.2.2, also used for CANCEL (§9.2).
//!
//! ```text
//! Trying --TU 1xx--> Proceeding --TU 1xx--> Proceeding
//! Trying/Proceeding --TU 200-699--> Completed --Timer J--> Terminated
//! ```
//! Request retransmissions are absorbed in Trying, answered with the last provisional response
//! in Proceeding and with the final response in Completed. Timer J is 64*T1 unreliable and zero
//! reliable.

use super::{Outbox, Timer, TimerTable, Timers, TxError, TxKey};
use crate::sip::message::Message;
use bytes::Bytes;
use std::time::Instant;

/// States of a non-INVITE server transaction, with their data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The request arrived; the TU has sent nothing yet.
    Trying,
    /// The TU sent a provisional response.
    Proceeding {
        /// The last provisional response, re-sent on request retransmissions.
        provisional: Bytes,
    },
    /// The TU sent a final response.
    Completed {
        /// The final response, re-sent on request retransmissions until Timer J.
        response: Bytes,
    },
    /// Done.
    Terminated,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Trying => "Trying",
            State::Proceeding { .. } => "Proceeding",
            State::Completed { .. } => "Completed",
            State::Terminated => "Terminated",
        }
    }
}

/// A non-INVITE server transaction.
#[derive(Debug)]
pub(crate) struct ServerNonInvite<A> {
    key: TxKey,
    peer: A,
    reliable: bool,
    state: State,
    timers: TimerTable,
}

impl<A: Clone> ServerNonInvite<A> {
    /// A transaction for a request from `peer`.
    pub(crate) fn new(key: TxKey, peer: A, reliable: bool) -> Self {
        ServerNonInvite {
            key,
            peer,
            reliable,
            state: State::Trying,
            timers: TimerTable::default(),
        }
    }

    /// The request arrived again.
    pub(crate) fn on_retransmission(&mut self, out: &mut Outbox<A>) {
        match &self.state {
            State::Proceeding { provisional: p } | State::Completed { response: p } => {
                out.send(&self.peer, p, self.reliable, &self.key)
            }
            State::Trying | State::Terminated => {}
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
        let open = matches!(self.state, State::Trying | State::Proceeding { .. });
        if !open || code < 100 {
            return Err(TxError::InvalidState {
                code,
                state: self.state.name(),
            });
        }
        let payload = response.to_bytes();
        out.send(&self.peer, &payload, self.reliable, &self.key);
        if code < 200 {
            self.state = State::Proceeding {
                provisional: payload,
            };
        } else if self.reliable {
            self.terminate();
        } else {
            self.state = State::Completed { response: payload };
            self.timers.set(Timer::J, now + cfg.timeout());
        }
        Ok(())
    }

    /// `timer` fired (the layer has already disarmed it).
    pub(crate) fn on_timer(&mut self, timer: Timer) {
        if let (State::Completed { .. }, Timer::J) = (&self.state, timer) {
            self.terminate();
        }
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
#[path = "server_non_invite_tests.rs"]
mod tests;
