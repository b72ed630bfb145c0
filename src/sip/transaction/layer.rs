//! The transaction table and its inputs and outputs (pure): RFC 3261 §17.1.3 and §17.2.3
//! matching, dispatch to the four transaction kinds, and the timer index behind `poll_timeout`.
//!
//! Every transaction step runs through one place ([`TransactionLayer::step`]) that mirrors the
//! transaction's [`TimerTable`] into the ordered index and removes the transaction, with a
//! [`TxEvent::Terminated`], as soon as it reaches Terminated.

use super::client_invite::ClientInvite;
use super::client_non_invite::ClientNonInvite;
use super::server_invite::ServerInvite;
use super::server_non_invite::ServerNonInvite;
use super::tx::{Entry, Side, Tx};
use super::{CancelTarget, Outbox, Timer, TimerTable, Timers, Transmit, TxError, TxEvent, TxKey};
use crate::sip::message::Message;
use crate::sip::method::Method;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// The RFC 3261 §17 transaction layer for one SIP stack; `A` is the shell's transport address.
#[derive(Debug)]
pub struct TransactionLayer<A> {
    config: Timers,
    clients: HashMap<TxKey, Entry<A>>,
    servers: HashMap<TxKey, Entry<A>>,
    /// Every armed timer of every transaction, earliest first.
    index: BTreeSet<(Instant, u64, Timer)>,
    ids: HashMap<u64, (Side, TxKey)>,
    next_id: u64,
    out: Outbox<A>,
}

impl<A: Clone + Debug + Eq> TransactionLayer<A> {
    /// An empty layer. A zero T1 or T2 is raised to 1 ms so retransmission timers always advance.
    pub fn new(mut config: Timers) -> Self {
        config.t1 = config.t1.max(Duration::from_millis(1));
        config.t2 = config.t2.max(config.t1);
        TransactionLayer {
            config,
            clients: HashMap::new(),
            servers: HashMap::new(),
            index: BTreeSet::new(),
            ids: HashMap::new(),
            next_id: 0,
            out: Outbox::default(),
        }
    }

    /// Replaces the timer values for transactions created from now on (configuration reload);
    /// running transactions keep theirs. Zero values are raised as in [`TransactionLayer::new`].
    pub fn set_timers(&mut self, mut config: Timers) {
        config.t1 = config.t1.max(Duration::from_millis(1));
        config.t2 = config.t2.max(config.t1);
        self.config = config;
    }

    /// The timer values in use.
    pub fn timers(&self) -> &Timers {
        &self.config
    }

    /// Number of live transactions (client and server).
    pub fn len(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    /// True when no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A request or response arrived from `from` over a `reliable` (TCP, TLS) or unreliable (UDP)
    /// transport. Requests are matched to server transactions (§17.2.3) or create one;
    /// responses are matched to client transactions (§17.1.3) or reported as stray.
    pub fn handle_incoming(
        &mut self,
        msg: Message,
        from: A,
        reliable: bool,
        now: Instant,
    ) -> Result<(), TxError> {
        if !msg.is_request() {
            match TxKey::for_response(&msg)? {
                Some(key) if self.clients.contains_key(&key) => {
                    self.step(Side::Client, &key, |tx, cfg, out| match tx {
                        Tx::ClientInvite(t) => t.on_response(msg, cfg, now, out),
                        Tx::ClientNonInvite(t) => t.on_response(msg, cfg, now, out),
                        _ => {}
                    });
                }
                _ => self.out.event(TxEvent::StrayResponse {
                    response: msg,
                    from,
                }),
            }
            return Ok(());
        }
        let key = TxKey::for_request(&msg)?;
        let method = msg.method().cloned().unwrap_or(Method::Ack);
        if method == Method::Ack {
            self.incoming_ack(msg, key, from, now);
            return Ok(());
        }
        if self.servers.contains_key(&key) {
            self.step(Side::Server, &key, |tx, _, out| match tx {
                Tx::ServerInvite(t) => t.on_retransmission(out),
                Tx::ServerNonInvite(t) => t.on_retransmission(out),
                _ => {}
            });
            return Ok(());
        }
        match method {
            Method::Invite => {
                let tx = ServerInvite::new(key.clone(), msg.clone(), from.clone(), reliable);
                self.insert(Side::Server, key.clone(), Tx::ServerInvite(tx));
                self.step(Side::Server, &key, |tx, _, _| {
                    if let Tx::ServerInvite(t) = tx {
                        t.start(now)
                    }
                });
                self.out.event(TxEvent::NewRequest {
                    key,
                    request: msg,
                    from,
                });
            }
            Method::Cancel => {
                let invite = key.with_method(Method::Invite);
                let target = match self.servers.get(&invite).map(|e| &e.tx) {
                    Some(Tx::ServerInvite(t)) if t.is_proceeding() => {
                        CancelTarget::Proceeding(invite)
                    }
                    Some(Tx::ServerInvite(_)) => CancelTarget::Answered(invite),
                    _ => CancelTarget::NotFound,
                };
                let tx = ServerNonInvite::new(key.clone(), from.clone(), reliable);
                self.insert(Side::Server, key.clone(), Tx::ServerNonInvite(tx));
                self.out.event(TxEvent::Cancel {
                    key,
                    request: msg,
                    from,
                    target,
                });
            }
            _ => {
                let tx = ServerNonInvite::new(key.clone(), from.clone(), reliable);
                self.insert(Side::Server, key.clone(), Tx::ServerNonInvite(tx));
                self.out.event(TxEvent::NewRequest {
                    key,
                    request: msg,
                    from,
                });
            }
        }
        Ok(())
    }

    /// An ACK: absorbed by the INVITE server transaction of a non-2xx response (§17.2.1), else
    /// an ACK for a 2xx for the TU. RFC 2543 ACKs carry the To tag of our response while the
    /// INVITE usually had none, so the key without To tag is tried too (§17.2.3).
    fn incoming_ack(&mut self, ack: Message, key: TxKey, from: A, now: Instant) {
        for candidate in [Some(key.clone()), key.without_to_tag()]
            .into_iter()
            .flatten()
        {
            let Some(Tx::ServerInvite(t)) = self.servers.get(&candidate).map(|e| &e.tx) else {
                continue;
            };
            if candidate != key && t.final_to_tag() != key.to_tag() {
                continue;
            }
            let absorbed = self.step(Side::Server, &candidate, |tx, cfg, _| match tx {
                Tx::ServerInvite(t) => t.on_ack(cfg, now),
                _ => true,
            });
            if absorbed == Some(false) {
                break;
            }
            return;
        }
        self.out.event(TxEvent::Ack2xx { request: ack, from });
    }

    /// Starts a client transaction: sends `request` to `to` and returns its key. The request
    /// must carry a top Via with an RFC 3261 branch (see [`super::branch_from`]); a CANCEL uses
    /// the branch of the INVITE it cancels (§9.1). ACK is not a transaction: use
    /// [`TransactionLayer::send_stateless`].
    pub fn send_request(
        &mut self,
        request: Message,
        to: A,
        reliable: bool,
        now: Instant,
    ) -> Result<TxKey, TxError> {
        let method = request.method().ok_or(TxError::WrongMessageKind)?.clone();
        if method == Method::Ack {
            return Err(TxError::AckOutsideTransaction);
        }
        if !request.top_via()?.is_rfc3261_branch() {
            return Err(TxError::NoRfc3261Branch);
        }
        let key = TxKey::for_request(&request)?;
        if self.clients.contains_key(&key) {
            return Err(TxError::Duplicate);
        }
        let payload = request.to_bytes();
        let tx = if method == Method::Invite {
            Tx::ClientInvite(ClientInvite::new(
                key.clone(),
                request,
                payload,
                to,
                reliable,
            ))
        } else {
            Tx::ClientNonInvite(ClientNonInvite::new(key.clone(), payload, to, reliable))
        };
        self.insert(Side::Client, key.clone(), tx);
        self.step(Side::Client, &key, |tx, cfg, out| match tx {
            Tx::ClientInvite(t) => t.start(cfg, now, out),
            Tx::ClientNonInvite(t) => t.start(cfg, now, out),
            _ => {}
        });
        Ok(key)
    }

    /// The TU sends `response` on the server transaction `key`.
    pub fn respond(&mut self, key: &TxKey, response: Message, now: Instant) -> Result<(), TxError> {
        if response.is_request() {
            return Err(TxError::WrongMessageKind);
        }
        self.step(Side::Server, key, |tx, cfg, out| match tx {
            Tx::ServerInvite(t) => t.respond(response, cfg, now, out),
            Tx::ServerNonInvite(t) => t.respond(response, cfg, now, out),
            _ => Err(TxError::UnknownTransaction),
        })
        .unwrap_or(Err(TxError::UnknownTransaction))
    }

    /// Queues a message that belongs to no transaction: the TU's ACK for a 2xx (§13.2.2.4) or
    /// its 2xx retransmissions once the server transaction has ended.
    pub fn send_stateless(&mut self, message: Message, to: A, reliable: bool) {
        self.out.transmits.push_back(Transmit {
            to,
            payload: message.to_bytes(),
            reliable,
            key: None,
        });
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, id, timer)) = self.index.first() {
            if at > now {
                break;
            }
            let Some((side, key)) = self.ids.get(&id).cloned() else {
                self.index.pop_first();
                continue;
            };
            let stepped = self.step(side, &key, |tx, cfg, out| {
                tx.timers_mut().stop(timer);
                tx.on_timer(timer, cfg, now, out);
            });
            if stepped.is_none() {
                self.index.pop_first();
            }
        }
    }

    /// A reliable send for `key` failed: reports [`TxEvent::TransportError`] and terminates the
    /// transaction (§17.1.4, §17.2.4). Client transactions are looked up first.
    /// `_now` is taken for symmetry with the other inputs; nothing here depends on it.
    pub fn handle_transport_error(&mut self, key: &TxKey, _now: Instant) {
        if let Some(side) = self.side_of(key) {
            self.out.event(TxEvent::TransportError { key: key.clone() });
            self.step(side, key, |tx, _, _| tx.terminate());
        }
    }

    /// The TU abandons transaction `key` (a client INVITE whose CANCEL got no 487 in time,
    /// §9.1, or a request it will never answer). Returns false when there was none.
    pub fn terminate(&mut self, key: &TxKey) -> bool {
        match self.side_of(key) {
            Some(side) => self.step(side, key, |tx, _, _| tx.terminate()).is_some(),
            None => false,
        }
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit<A>> {
        self.out.transmits.pop_front()
    }

    /// The earliest armed timer: call [`TransactionLayer::handle_timeout`] then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.index.first().map(|&(at, _, _)| at)
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<TxEvent<A>> {
        self.out.events.pop_front()
    }

    fn side_of(&self, key: &TxKey) -> Option<Side> {
        if self.clients.contains_key(key) {
            Some(Side::Client)
        } else if self.servers.contains_key(key) {
            Some(Side::Server)
        } else {
            None
        }
    }

    fn insert(&mut self, side: Side, key: TxKey, tx: Tx<A>) {
        let id = self.next_id;
        self.next_id += 1;
        self.ids.insert(id, (side, key.clone()));
        let table = match side {
            Side::Client => &mut self.clients,
            Side::Server => &mut self.servers,
        };
        table.insert(key, Entry { id, tx });
    }

    /// Runs `f` on transaction `key`, then mirrors its timer changes into the index and removes
    /// it if it terminated. `None` when there is no such transaction.
    fn step<R>(
        &mut self,
        side: Side,
        key: &TxKey,
        f: impl FnOnce(&mut Tx<A>, &Timers, &mut Outbox<A>) -> R,
    ) -> Option<R> {
        let table = match side {
            Side::Client => &mut self.clients,
            Side::Server => &mut self.servers,
        };
        let entry = table.get_mut(key)?;
        let before = *entry.tx.timers();
        let result = f(&mut entry.tx, &self.config, &mut self.out);
        let id = entry.id;
        let terminated = entry.tx.is_terminated();
        let after = if terminated {
            TimerTable::default()
        } else {
            *entry.tx.timers()
        };
        for timer in Timer::ALL {
            let (old, new) = (before.get(timer), after.get(timer));
            if old != new {
                if let Some(at) = old {
                    self.index.remove(&(at, id, timer));
                }
                if let Some(at) = new {
                    self.index.insert((at, id, timer));
                }
            }
        }
        if terminated {
            table.remove(key);
            self.ids.remove(&id);
            self.out.event(TxEvent::Terminated { key: key.clone() });
        }
        Some(result)
    }
}

#[cfg(test)]
#[path = "layer_tests.rs"]
mod tests;
