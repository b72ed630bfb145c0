//! UDP listeners (shell): RFC 3261 §18 over datagrams. Sockets are made with socket2 (large
//! receive buffers, optional SO_REUSEPORT sharding so several tasks — and cores — read one port),
//! and each receive task frames, parses and validates what it reads before queueing it for the
//! signaling core, so a burst of garbage costs the receive tasks, not the core.

use crate::app::Shutdown;
use crate::config::Transport;
use crate::sip::validate::{Disposition, Validator};
use crate::transport::{Inbound, InboundTx, ListenerId, SourceGate, Target, TransportObserver};
use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::sync::mpsc::error::TrySendError;
use tracing::{debug, warn};

/// Largest UDP payload; anything longer cannot arrive in one datagram.
const MAX_DATAGRAM: usize = 65_535;

/// Binds `shards` UDP sockets on `addr` (SO_REUSEPORT when more than one), each with the given
/// receive and send buffer sizes (the kernel may cap them) and marking what it sends with
/// `dscp`.
pub fn bind(
    addr: SocketAddr,
    shards: usize,
    buffer_bytes: usize,
    dscp: u8,
) -> io::Result<Vec<Arc<UdpSocket>>> {
    let mut sockets = Vec::with_capacity(shards.max(1));
    let mut bound = addr;
    for _ in 0..shards.max(1) {
        let socket = Socket::new(Domain::for_address(bound), Type::DGRAM, Some(Protocol::UDP))?;
        if bound.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.set_reuse_address(true)?;
        if shards > 1 {
            socket.set_reuse_port(true)?;
        }
        // Best effort: the kernel silently caps these at net.core.{r,w}mem_max.
        let _ = socket.set_recv_buffer_size(buffer_bytes);
        let _ = socket.set_send_buffer_size(buffer_bytes);
        super::dscp::set_dscp(&socket, dscp, bound.is_ipv6())?;
        socket.set_nonblocking(true)?;
        socket.bind(&bound.into())?;
        let std: std::net::UdpSocket = socket.into();
        // With port 0 the first bind picks the port; the other shards share it.
        bound = std.local_addr()?;
        sockets.push(Arc::new(UdpSocket::from_std(std)?));
    }
    Ok(sockets)
}

/// What a receive task needs.
#[derive(Clone)]
pub struct UdpContext {
    /// Listener index.
    pub listener: ListenerId,
    /// Validation settings.
    pub validator: Arc<Validator>,
    /// Queue to the signaling core.
    pub inbound: InboundTx,
    /// Counts what a receive task drops.
    pub observer: Arc<dyn TransportObserver>,
    /// Pre-parse source check (bans, ACLs), when a policy is in force.
    pub gate: Option<Arc<dyn SourceGate>>,
}

/// Reads datagrams from `socket` until shutdown.
pub async fn receive_loop(socket: Arc<UdpSocket>, ctx: UdpContext, mut shutdown: Shutdown) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, remote) = tokio::select! {
            r = socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(e) => {
                    // ICMP port unreachable and the like surface here on some systems; they
                    // concern one peer, never the listener.
                    debug!(error = %e, "udp receive error");
                    continue;
                }
            },
            _ = shutdown.triggered() => return,
        };
        // Banned and denied sources are dropped before any byte is parsed.
        if let Some(gate) = &ctx.gate {
            if !gate.admit(ctx.listener, remote) {
                continue;
            }
        }
        // A bare CRLF (or CRLF CRLF) is a keep-alive some phones send over UDP: nothing to do.
        if buf[..len]
            .iter()
            .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0))
        {
            continue;
        }
        let disposition = ctx
            .validator
            .inspect_datagram(Bytes::copy_from_slice(&buf[..len]));
        if let Disposition::Drop(error) = &disposition {
            ctx.observer.dropped(ctx.listener, error);
            continue;
        }
        let inbound = Inbound {
            source: Target {
                listener: ctx.listener,
                transport: Transport::Udp,
                remote,
                conn: None,
            },
            disposition,
        };
        match ctx.inbound.try_send(inbound) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => ctx.observer.queue_full(ctx.listener),
            Err(TrySendError::Closed(_)) => {
                warn!("signaling core gone, stopping udp receive");
                return;
            }
        }
    }
}
