//! The connection table (shell): every open TCP/TLS connection by id and by (listener, remote)
//! flow, the global and per-source caps enforced with RAII permits, and the bounded write queue
//! of each connection. Responses and in-dialog requests find the connection a phone opened here.

use crate::transport::{ListenerId, SendError};
use bytes::Bytes;
use dashmap::DashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// Identifies one connection for its lifetime (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The source IP already has `max_connections_per_source` connections.
    PerSource,
    /// The process already has `max_connections` connections.
    Global,
}

impl Refusal {
    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::PerSource => "per_source_limit",
            Refusal::Global => "global_limit",
        }
    }
}

#[derive(Debug)]
struct Entry {
    remote: SocketAddr,
    tx: mpsc::Sender<Bytes>,
}

/// Open connections and their caps.
#[derive(Debug)]
pub struct ConnTable {
    max_total: usize,
    max_per_source: usize,
    total: AtomicUsize,
    per_source: DashMap<IpAddr, usize>,
    conns: DashMap<ConnId, Entry>,
    by_flow: DashMap<(ListenerId, SocketAddr), ConnId>,
    next_id: AtomicU64,
}

/// A slot under the caps, held for the life of a connection; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    table: Arc<ConnTable>,
    /// The source counted against the per-source cap (`None` for outbound connections).
    ip: Option<IpAddr>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.table.total.fetch_sub(1, Ordering::AcqRel);
        let Some(ip) = self.ip else { return };
        if let dashmap::mapref::entry::Entry::Occupied(mut e) = self.table.per_source.entry(ip) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
            }
        }
    }
}

/// A registered connection; dropping it removes the connection from the table.
#[derive(Debug)]
pub struct Registration {
    table: Arc<ConnTable>,
    /// The connection's id.
    pub id: ConnId,
    flow: (ListenerId, SocketAddr),
    _permit: Permit,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.table.conns.remove(&self.id);
        self.table
            .by_flow
            .remove_if(&self.flow, |_, id| *id == self.id);
    }
}

impl ConnTable {
    /// An empty table with the given caps.
    pub fn new(max_total: usize, max_per_source: usize) -> Arc<ConnTable> {
        Arc::new(ConnTable {
            max_total,
            max_per_source,
            total: AtomicUsize::new(0),
            per_source: DashMap::new(),
            conns: DashMap::new(),
            by_flow: DashMap::new(),
            next_id: AtomicU64::new(1),
        })
    }

    /// Takes a slot for a connection from `ip`, or says which cap refuses it.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refusal> {
        if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Global);
        }
        let mut count = self.per_source.entry(ip).or_insert(0);
        if *count >= self.max_per_source {
            drop(count);
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::PerSource);
        }
        *count += 1;
        drop(count);
        Ok(Permit {
            table: Arc::clone(self),
            ip: Some(ip),
        })
    }

    /// Takes a slot for a connection the SBC opens itself: only the global cap applies (the
    /// per-source cap protects against what the network opens).
    pub fn admit_outbound(self: &Arc<Self>) -> Result<Permit, Refusal> {
        if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Global);
        }
        Ok(Permit {
            table: Arc::clone(self),
            ip: None,
        })
    }

    /// Registers an admitted connection with its write queue.
    pub fn register(
        self: &Arc<Self>,
        permit: Permit,
        listener: ListenerId,
        remote: SocketAddr,
        tx: mpsc::Sender<Bytes>,
    ) -> Registration {
        let id = ConnId(self.next_id.fetch_add(1, Ordering::Relaxed));
        self.conns.insert(id, Entry { remote, tx });
        self.by_flow.insert((listener, remote), id);
        Registration {
            table: Arc::clone(self),
            id,
            flow: (listener, remote),
            _permit: permit,
        }
    }

    /// Whether connection `id` is still open.
    pub fn is_open(&self, id: ConnId) -> bool {
        self.conns.contains_key(&id)
    }

    /// The open connection of this flow, if any.
    pub fn find(&self, listener: ListenerId, remote: SocketAddr) -> Option<ConnId> {
        self.by_flow.get(&(listener, remote)).map(|id| *id)
    }

    /// Queues `data` on connection `id` without waiting. A full queue means the peer stopped
    /// reading: the queue is dropped, which closes the connection.
    pub fn send(&self, id: ConnId, data: Bytes) -> Result<(), SendError> {
        let Some(entry) = self.conns.get(&id) else {
            return Err(SendError::QueueFull);
        };
        match entry.tx.try_send(data) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                let remote = entry.remote;
                drop(entry);
                // Removing the entry drops the only sender but the connection's own: the
                // connection task sees its queue close and shuts down as stalled.
                self.conns.remove(&id);
                tracing::warn!(%remote, "write queue full, closing stalled connection");
                Err(SendError::QueueFull)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SendError::NoConnection(entry.remote)),
        }
    }

    /// Open connections.
    pub fn len(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// True when no connection is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_release() {
        let table = ConnTable::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let p1 = table.admit(a).unwrap();
        let p2 = table.admit(a).unwrap();
        assert_eq!(table.admit(a).unwrap_err(), Refusal::PerSource);
        let p3 = table.admit(b).unwrap();
        assert_eq!(table.admit(b).unwrap_err(), Refusal::Global);
        assert_eq!(table.len(), 3);
        drop(p1);
        assert!(table.admit(a).is_ok());
        drop((p2, p3));
        assert!(table.is_empty());
        assert!(table.per_source.is_empty());
    }

    #[tokio::test]
    async fn registration_routes_and_stalls() {
        let table = ConnTable::new(10, 10);
        let remote: SocketAddr = "192.0.2.1:5060".parse().unwrap();
        let (tx, mut rx) = mpsc::channel(1);
        let reg = table.register(table.admit(remote.ip()).unwrap(), 0, remote, tx);
        assert_eq!(table.find(0, remote), Some(reg.id));
        table.send(reg.id, Bytes::from_static(b"a")).unwrap();
        assert!(matches!(
            table.send(reg.id, Bytes::from_static(b"b")),
            Err(SendError::QueueFull)
        ));
        assert!(!table.is_open(reg.id));
        assert_eq!(rx.recv().await.unwrap(), "a");
        drop(reg);
        assert_eq!(table.find(0, remote), None);
        assert!(table.is_empty());
    }
}
