//! SIP transports (shell): UDP, TCP and TLS listeners per realm, RFC 3261 §18.
//!
//! Every listener turns bytes into [`Inbound`] events — already framed, parsed and validated, so
//! that CPU-heavy work spreads over the tasks that own the sockets — and hands them to the
//! signaling core through one bounded queue (full → the message is dropped and counted; SIP
//! retransmits). The core answers through [`Transports::send`], which routes to the flow a
//! request came in on: the same TCP/TLS connection (phones behind NAT can be reached no other
//! way) or the UDP socket it arrived at.
//!
//! Bounds everywhere: global and per-source connection caps ([`table`]), idle and per-message
//! timeouts, bounded per-connection write queues (a stalled reader is disconnected, never
//! waited for), TLS handshake timeouts.
//!
//! Pure helpers live in [`route`] (response routing, Via stamping, forbidden destinations).

pub mod conn;
pub mod dscp;
pub mod listen;
pub mod outbound;
pub mod route;
pub mod table;
pub mod udp;

use crate::config::Transport;
use crate::sip::validate::Disposition;
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

pub use table::{ConnId, ConnTable};

/// Index of a listener in [`Transports`] (stable for the process lifetime).
pub type ListenerId = u16;

/// A flow: where a message came from, and so where its answers go back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The listener (realm, transport, local address) involved.
    pub listener: ListenerId,
    /// Transport of the flow.
    pub transport: Transport,
    /// The far end's address as observed (or to connect to).
    pub remote: SocketAddr,
    /// The TCP/TLS connection, when the flow is one.
    pub conn: Option<ConnId>,
}

impl Target {
    /// Whether the flow is reliable (TCP/TLS): no retransmission timers (RFC 3261 §17).
    pub fn reliable(&self) -> bool {
        self.transport.is_stream()
    }
}

/// A received message, already framed and validated.
#[derive(Debug)]
pub struct Inbound {
    /// The flow it arrived on.
    pub source: Target,
    /// What to do with it.
    pub disposition: Disposition,
}

/// Static facts about one listener.
#[derive(Debug, Clone)]
pub struct ListenerInfo {
    /// Index of the realm in the configuration.
    pub realm: usize,
    /// Realm name (a bounded metric label).
    pub realm_name: Arc<str>,
    /// Transport.
    pub transport: Transport,
    /// The bound local address (the real port when the configuration said 0).
    pub local: SocketAddr,
}

/// Why a message could not be handed to the network.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The destination is one the SBC never sends to (broadcast, multicast, unspecified).
    #[error("refusing to send to {0}")]
    Forbidden(SocketAddr),
    /// No such listener, or no UDP socket on it.
    #[error("no listener {0}")]
    NoListener(ListenerId),
    /// The connection is gone and none could be opened.
    #[error("no connection to {0}")]
    NoConnection(SocketAddr),
    /// The connection's write queue is full: it was closed as stalled.
    #[error("write queue full, connection closed")]
    QueueFull,
    /// The socket refused the datagram.
    #[error("send failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The send side of every listener, shared by the signaling core.
#[derive(Debug)]
pub struct Transports {
    listeners: Vec<ListenerInfo>,
    /// One socket per UDP listener (the first shard; all shards share the address).
    udp: Vec<Option<Arc<UdpSocket>>>,
    /// How each TCP/TLS listener opens connections of its own.
    outbound: Vec<Option<outbound::Outbound>>,
    conns: Arc<ConnTable>,
    /// The DNS name each peer address was resolved from: TLS verifies it instead of the IP.
    server_names: dashmap::DashMap<std::net::IpAddr, Arc<str>>,
}

impl Transports {
    /// Assembles the send side; `udp[i]` is the socket of listener `i` when it is UDP, and
    /// `outbound[i]` how it opens connections when it is TCP/TLS.
    pub fn new(
        listeners: Vec<ListenerInfo>,
        udp: Vec<Option<Arc<UdpSocket>>>,
        outbound: Vec<Option<outbound::Outbound>>,
        conns: Arc<ConnTable>,
    ) -> Self {
        Transports {
            listeners,
            udp,
            outbound,
            conns,
            server_names: dashmap::DashMap::new(),
        }
    }

    /// Records that `ip` was resolved from the DNS name `name`: TLS connections opened to it
    /// verify the certificate against `name`.
    pub fn set_server_name(&self, ip: std::net::IpAddr, name: &str) {
        if self.server_names.get(&ip).is_none_or(|n| &**n != name) {
            self.server_names.insert(ip, Arc::from(name));
        }
    }

    /// The DNS name recorded for `ip`, if any.
    pub fn server_name(&self, ip: std::net::IpAddr) -> Option<Arc<str>> {
        self.server_names.get(&ip).map(|n| Arc::clone(&n))
    }

    /// Opens a TCP/TLS connection from listener `listener` to `remote` (TLS verifies
    /// `server_name`, or the IP address). Returns the connection once it is usable.
    pub async fn connect(
        &self,
        listener: ListenerId,
        remote: SocketAddr,
        server_name: Option<&str>,
    ) -> Result<ConnId, SendError> {
        if route::is_forbidden_destination(remote) {
            return Err(SendError::Forbidden(remote));
        }
        let outbound = self
            .outbound
            .get(usize::from(listener))
            .and_then(Option::as_ref)
            .ok_or(SendError::NoListener(listener))?;
        outbound.connect(remote, server_name).await
    }

    /// [`Transports::send`], and when a TCP/TLS flow has no open connection, opens one to the
    /// flow's remote address in a task of its own and sends there (RFC 3261 §18.2.2: a response
    /// whose connection closed goes over a new one; §18.1.1: requests to peers). `failed` runs
    /// when the message could not be handed over.
    pub fn send_or_connect(
        self: &Arc<Self>,
        target: Target,
        data: Bytes,
        failed: impl FnOnce(SendError) + Send + 'static,
    ) {
        match self.send(&target, data.clone()) {
            Ok(()) => {}
            Err(SendError::NoConnection(_)) if target.transport.is_stream() => {
                let this = Arc::clone(self);
                tokio::spawn(async move {
                    let name = this.server_name(target.remote.ip());
                    let result = match this
                        .connect(target.listener, target.remote, name.as_deref())
                        .await
                    {
                        Ok(id) => this.conns.send(id, data),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = result {
                        failed(e);
                    }
                });
            }
            Err(e) => failed(e),
        }
    }

    /// Facts about listener `id`.
    pub fn listener(&self, id: ListenerId) -> Option<&ListenerInfo> {
        self.listeners.get(usize::from(id))
    }

    /// Every listener.
    pub fn listeners(&self) -> &[ListenerInfo] {
        &self.listeners
    }

    /// The connection table.
    pub fn conns(&self) -> &Arc<ConnTable> {
        &self.conns
    }

    /// Sends `data` on `target`'s flow. UDP: a datagram from the listener's socket. TCP/TLS: the
    /// connection the flow names, else any open connection to the same remote on that listener.
    /// Never blocks: a full UDP socket buffer or write queue fails the send.
    pub fn send(&self, target: &Target, data: Bytes) -> Result<(), SendError> {
        if route::is_forbidden_destination(target.remote) {
            return Err(SendError::Forbidden(target.remote));
        }
        match target.transport {
            Transport::Udp => {
                let socket = self
                    .udp
                    .get(usize::from(target.listener))
                    .and_then(Option::as_ref)
                    .ok_or(SendError::NoListener(target.listener))?;
                socket.try_send_to(&data, target.remote)?;
                Ok(())
            }
            Transport::Tcp | Transport::Tls => {
                let id = target
                    .conn
                    .filter(|id| self.conns.is_open(*id))
                    .or_else(|| self.conns.find(target.listener, target.remote))
                    .ok_or(SendError::NoConnection(target.remote))?;
                self.conns.send(id, data)
            }
        }
    }
}

/// Why a TCP/TLS connection ended (a bounded metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// No traffic either way for the idle timeout.
    Idle,
    /// One message took longer than the message timeout to arrive (slowloris).
    MessageTimeout,
    /// The peer closed.
    PeerClosed,
    /// A read or write failed, or a write timed out.
    Error,
    /// The write queue overflowed: the peer stopped reading.
    WriteQueueFull,
    /// The byte stream broke framing (answered, then closed).
    BadFraming,
    /// The process is shutting down.
    Shutdown,
}

impl CloseReason {
    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Idle => "idle",
            CloseReason::MessageTimeout => "message_timeout",
            CloseReason::PeerClosed => "peer_closed",
            CloseReason::Error => "error",
            CloseReason::WriteQueueFull => "write_queue_full",
            CloseReason::BadFraming => "bad_framing",
            CloseReason::Shutdown => "shutdown",
        }
    }
}

impl From<CloseReason> for crate::metrics::labels::CloseReason {
    fn from(reason: CloseReason) -> Self {
        use crate::metrics::labels::CloseReason as Label;
        match reason {
            CloseReason::Idle => Label::Idle,
            CloseReason::MessageTimeout => Label::MessageTimeout,
            CloseReason::PeerClosed => Label::PeerClosed,
            CloseReason::Error => Label::Error,
            CloseReason::WriteQueueFull => Label::WriteQueueFull,
            CloseReason::BadFraming => Label::BadFraming,
            CloseReason::Shutdown => Label::Shutdown,
        }
    }
}

/// What the transports report; the shell puts metrics behind it.
pub trait TransportObserver: Send + Sync {
    /// A received message could not be queued because the signaling core is behind.
    fn queue_full(&self, listener: ListenerId);
    /// A received message was dropped without an answer (invalid response, unreadable start).
    fn dropped(&self, listener: ListenerId, error: &crate::sip::ParseError);
    /// A connection was accepted.
    fn conn_accepted(&self, listener: ListenerId);
    /// A connection was refused before any byte was read.
    fn conn_refused(&self, listener: ListenerId, reason: table::Refusal);
    /// A connection (accepted or opened by the SBC) ended.
    fn conn_closed(&self, listener: ListenerId, conn: ConnId, reason: CloseReason);
    /// A TLS handshake failed or timed out.
    fn tls_handshake_failed(&self, listener: ListenerId);
}

/// A check the receive tasks make before reading a source's bytes (bans, ACLs): `false` drops
/// the datagram, or refuses the connection, before anything is parsed.
pub trait SourceGate: Send + Sync {
    /// Whether `remote` may send on `listener`.
    fn admit(&self, listener: ListenerId, remote: SocketAddr) -> bool;
}

/// The queue from listeners to the signaling core.
pub type InboundTx = mpsc::Sender<Inbound>;
