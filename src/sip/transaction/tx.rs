//! One transaction of any of the four RFC 3261 §17 kinds (pure): the dispatch the layer uses
//! for timers, termination and the timer table, so `layer.rs` holds only matching and I/O.

use super::client_invite::{self, ClientInvite};
use super::client_non_invite::{self, ClientNonInvite};
use super::server_invite::{self, ServerInvite};
use super::server_non_invite::{self, ServerNonInvite};
use super::{Outbox, Timer, TimerTable, Timers};
use std::time::Instant;

/// One transaction of any kind. The variant names are the RFC 3261 §17 transaction kinds.
#[derive(Debug)]
#[allow(clippy::enum_variant_names)]
pub(crate) enum Tx<A> {
    /// RFC 3261 §17.1.1.
    ClientInvite(ClientInvite<A>),
    /// RFC 3261 §17.1.2.
    ClientNonInvite(ClientNonInvite<A>),
    /// RFC 3261 §17.2.1.
    ServerInvite(ServerInvite<A>),
    /// RFC 3261 §17.2.2.
    ServerNonInvite(ServerNonInvite<A>),
}

impl<A: Clone> Tx<A> {
    /// The transaction's timer table.
    pub(crate) fn timers(&self) -> &TimerTable {
        match self {
            Tx::ClientInvite(t) => t.timers(),
            Tx::ClientNonInvite(t) => t.timers(),
            Tx::ServerInvite(t) => t.timers(),
            Tx::ServerNonInvite(t) => t.timers(),
        }
    }

    /// The transaction's timer table, to disarm a timer that fired.
    pub(crate) fn timers_mut(&mut self) -> &mut TimerTable {
        match self {
            Tx::ClientInvite(t) => t.timers_mut(),
            Tx::ClientNonInvite(t) => t.timers_mut(),
            Tx::ServerInvite(t) => t.timers_mut(),
            Tx::ServerNonInvite(t) => t.timers_mut(),
        }
    }

    /// Whether the transaction reached Terminated.
    pub(crate) fn is_terminated(&self) -> bool {
        match self {
            Tx::ClientInvite(t) => *t.state() == client_invite::State::Terminated,
            Tx::ClientNonInvite(t) => *t.state() == client_non_invite::State::Terminated,
            Tx::ServerInvite(t) => *t.state() == server_invite::State::Terminated,
            Tx::ServerNonInvite(t) => *t.state() == server_non_invite::State::Terminated,
        }
    }

    /// Moves to Terminated.
    pub(crate) fn terminate(&mut self) {
        match self {
            Tx::ClientInvite(t) => t.terminate(),
            Tx::ClientNonInvite(t) => t.terminate(),
            Tx::ServerInvite(t) => t.terminate(),
            Tx::ServerNonInvite(t) => t.terminate(),
        }
    }

    /// `timer` fired.
    pub(crate) fn on_timer(
        &mut self,
        timer: Timer,
        cfg: &Timers,
        now: Instant,
        out: &mut Outbox<A>,
    ) {
        match self {
            Tx::ClientInvite(t) => t.on_timer(timer, now, out),
            Tx::ClientNonInvite(t) => t.on_timer(timer, cfg, now, out),
            Tx::ServerInvite(t) => t.on_timer(timer, cfg, now, out),
            Tx::ServerNonInvite(t) => t.on_timer(timer),
        }
    }
}

/// Which table a transaction lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Client transactions (requests we sent).
    Client,
    /// Server transactions (requests we received).
    Server,
}

/// A table entry: the transaction and the id its timers are indexed under.
#[derive(Debug)]
pub(crate) struct Entry<A> {
    pub(crate) id: u64,
    pub(crate) tx: Tx<A>,
}
