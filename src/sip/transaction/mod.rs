//! The RFC 3261 §17 transaction layer (pure, sans-IO), with the RFC 6026 Accepted states.
//!
//! [`TransactionLayer`] has the quinn-proto shape: inputs are `handle_incoming`, `send_request`,
//! `respond`, `handle_timeout` and `handle_transport_error`; outputs are pulled with
//! [`TransactionLayer::poll_transmit`], [`TransactionLayer::poll_timeout`] and
//! [`TransactionLayer::poll_event`]. It owns no socket, no clock and no random number generator:
//! `now` is an argument, the shell sleeps until `poll_timeout`, and branches come from
//! [`branch_from`] with the shell's random bytes. `A` is the shell's transport address or flow.
//!
//! One file and one state enum per transaction kind: [`client_invite`] (§17.1.1, timers A, B,
//! D, M), [`client_non_invite`] (§17.1.2, E, F, K), [`server_invite`] (§17.2.1, G, H, I, L and
//! the 100 Trying timer) and [`server_non_invite`] (§17.2.2, J). Every transaction ends in
//! Terminated, is reported with [`TxEvent::Terminated`] and is removed from the table.
//!
//! Choices this layer makes:
//! - **Matching** (§17.1.3, §17.2.3) is by [`TxKey`]; client and server transactions live in
//!   separate tables, so a request looping back to us never matches our own client transaction.
//! - **100 Trying**: a server INVITE transaction sends `100 Trying` (no To tag) when the TU has
//!   not sent a response 200 ms after the INVITE arrived ([`Timer::Trying`]); a TU answering
//!   faster saves the datagram.
//! - **Timeouts**: when Timer B or F fires the transaction reports [`TxEvent::Timeout`] and
//!   terminates; the TU must behave as if it had received `408 Request Timeout` (§8.1.3.1).
//!   Timer H reports `Timeout` too (§17.2.1: the ACK never came).
//! - **Reliable transports**: Timers A, E and G are never armed, and the zero-valued D, I, J and
//!   K terminate the transaction at once (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
//! - **ACK**: an ACK that matches a server INVITE transaction in Completed or Confirmed is
//!   absorbed (non-2xx, §17.2.1); every other ACK is an ACK for a 2xx, outside any transaction,
//!   and goes to the TU as [`TxEvent::Ack2xx`]. ACKs for 2xx that the TU sends, and 2xx
//!   retransmissions after RFC 6026 Accepted ends, go out with [`TransactionLayer::send_stateless`].
//! - **CANCEL** always creates its own non-INVITE server transaction and is reported as
//!   [`TxEvent::Cancel`] with the state of the INVITE it names ([`CancelTarget`]); the TU answers
//!   `200` to the CANCEL and `487` to a still proceeding INVITE, or `481` when there is none (§9.2).
//! - **Bounded state**: a client INVITE in Proceeding and server transactions waiting for the TU
//!   have no RFC timer; the TU ends them by answering, by CANCEL, or with
//!   [`TransactionLayer::terminate`].

pub mod client_invite;
pub mod client_non_invite;
mod key;
mod layer;
pub mod server_invite;
pub mod server_non_invite;
mod timer;
mod tx;

#[cfg(test)]
mod testing;

pub use key::{SentBy, TxKey, branch_from};
pub use layer::TransactionLayer;
pub use timer::{TIMER_D, TRYING_DELAY, Timer, TimerTable, Timers};

use crate::sip::error::ParseError;
use crate::sip::message::Message;
use bytes::Bytes;
use std::collections::VecDeque;

/// A message the shell must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<A> {
    /// Where to send it.
    pub to: A,
    /// The encoded message; retransmissions are byte-identical to the first send.
    pub payload: Bytes,
    /// Whether the transaction runs over a reliable transport.
    pub reliable: bool,
    /// The transaction that sent it (`None` for [`TransactionLayer::send_stateless`]); pass it to
    /// [`TransactionLayer::handle_transport_error`] when a send fails.
    pub key: Option<TxKey>,
}

/// What the CANCEL's INVITE server transaction is doing (RFC 3261 §9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelTarget {
    /// The INVITE has no final response yet: answer 200 to the CANCEL and 487 to the INVITE.
    Proceeding(TxKey),
    /// The INVITE already has a final response: answer 200 to the CANCEL only.
    Answered(TxKey),
    /// No matching INVITE transaction: answer 481 to the CANCEL.
    NotFound,
}

/// What the layer tells the TU. Events carry the message by value: each is moved once from the
/// queue to the TU, so boxing the large variants would only add an allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum TxEvent<A> {
    /// A request created a server transaction (INVITE or non-INVITE other than CANCEL); answer
    /// it with [`TransactionLayer::respond`].
    NewRequest {
        /// The new server transaction.
        key: TxKey,
        /// The request.
        request: Message,
        /// Where it came from (responses go back there).
        from: A,
    },
    /// A CANCEL created a server transaction.
    Cancel {
        /// The CANCEL's own server transaction.
        key: TxKey,
        /// The CANCEL request.
        request: Message,
        /// Where it came from.
        from: A,
        /// The INVITE it cancels.
        target: CancelTarget,
    },
    /// An ACK for a 2xx: part of no transaction (RFC 3261 §17.1.1.3, RFC 6026).
    Ack2xx {
        /// The ACK.
        request: Message,
        /// Where it came from.
        from: A,
    },
    /// A response for a client transaction: provisional, final, or (RFC 6026 Accepted) a 2xx
    /// retransmission.
    Response {
        /// The client transaction.
        key: TxKey,
        /// The response.
        response: Message,
    },
    /// A response that matches no client transaction; the shell drops and counts it.
    StrayResponse {
        /// The response.
        response: Message,
        /// Where it came from.
        from: A,
    },
    /// Timer B or F (the TU acts as on a 408, §8.1.3.1) or H (the ACK never came) fired.
    Timeout {
        /// The transaction that timed out.
        key: TxKey,
        /// Which timer.
        timer: Timer,
    },
    /// A reliable send failed; the transaction is terminated (§17.1.4, §17.2.4).
    TransportError {
        /// The transaction.
        key: TxKey,
    },
    /// The transaction reached Terminated and was removed.
    Terminated {
        /// The transaction.
        key: TxKey,
    },
}

/// Why the layer refused an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// A header the layer needs does not parse (validated messages never hit this).
    #[error("transaction key: {0}")]
    Parse(#[from] ParseError),
    /// `send_request` got a response, or `respond` a request.
    #[error("wrong kind of message for this input")]
    WrongMessageKind,
    /// `send_request` got an ACK; ACKs for 2xx go out with `send_stateless`.
    #[error("ACK is sent outside any transaction")]
    AckOutsideTransaction,
    /// The request's top Via branch lacks the `z9hG4bK` cookie.
    #[error("request without an RFC 3261 branch")]
    NoRfc3261Branch,
    /// A client transaction with this key already exists.
    #[error("duplicate transaction")]
    Duplicate,
    /// No transaction with this key.
    #[error("no such transaction")]
    UnknownTransaction,
    /// The transaction cannot send this response in its current state.
    #[error("response {code} not allowed in state {state}")]
    InvalidState {
        /// The response status.
        code: u16,
        /// The transaction state.
        state: &'static str,
    },
}

/// The outputs transactions produce, drained by the `poll_*` methods.
#[derive(Debug)]
pub(crate) struct Outbox<A> {
    transmits: VecDeque<Transmit<A>>,
    events: VecDeque<TxEvent<A>>,
}

impl<A> Default for Outbox<A> {
    fn default() -> Self {
        Outbox {
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }
}

impl<A: Clone> Outbox<A> {
    /// Queues `payload` to `to` on behalf of `key`.
    pub(crate) fn send(&mut self, to: &A, payload: &Bytes, reliable: bool, key: &TxKey) {
        self.transmits.push_back(Transmit {
            to: to.clone(),
            payload: payload.clone(),
            reliable,
            key: Some(key.clone()),
        });
    }

    /// Queues an event for the TU.
    pub(crate) fn event(&mut self, event: TxEvent<A>) {
        self.events.push_back(event);
    }
}
