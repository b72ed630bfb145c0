//! TCP and TLS accept loops (shell). Each accepted socket is checked against the connection caps
//! *before* any byte is read or any TLS work is done, then gets its own task running
//! [`conn::drive`]; a TLS handshake must finish within its timeout. New TLS handshakes always use
//! the current certificate (reloads take effect without touching open connections).

use crate::app::Shutdown;
use crate::tls::ReloadableServerConfig;
use crate::transport::conn::{self, ConnContext};
use crate::transport::dscp::set_dscp;
use crate::transport::table::ConnTable;
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

/// TCP or TLS.
#[derive(Clone)]
pub enum StreamKind {
    /// Plain TCP.
    Tcp,
    /// TLS with the realm's (reloadable) server configuration.
    Tls(Arc<ReloadableServerConfig>),
}

/// Settings for an accept loop.
#[derive(Clone)]
pub struct AcceptContext {
    /// Per-connection settings.
    pub conn: ConnContext,
    /// The connection table (caps and routing).
    pub table: Arc<ConnTable>,
    /// Longest TLS handshake.
    pub handshake_timeout: Duration,
    /// Write queue length per connection.
    pub write_queue: usize,
    /// Pre-parse source check (bans, ACLs), when a policy is in force.
    pub gate: Option<Arc<dyn crate::transport::SourceGate>>,
}

/// Binds a TCP listener (SO_REUSEADDR, as tokio does) whose connections mark what they send
/// with `dscp` (accepted sockets inherit it; [`accept_loop`] sets it again on each).
pub async fn bind(addr: SocketAddr, dscp: u8) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    set_dscp(&socket, dscp, addr.is_ipv6())?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// Accepts connections until shutdown.
pub async fn accept_loop(
    listener: TcpListener,
    kind: StreamKind,
    ctx: AcceptContext,
    mut shutdown: Shutdown,
) {
    loop {
        let (socket, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(r) => r,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.triggered() => return,
        };
        if let Some(gate) = &ctx.gate {
            if !gate.admit(ctx.conn.listener, remote) {
                debug!(%remote, "connection from a banned or denied source closed");
                continue;
            }
        }
        let permit = match ctx.table.admit(remote.ip()) {
            Ok(permit) => permit,
            Err(refusal) => {
                debug!(%remote, reason = refusal.as_str(), "connection refused");
                ctx.conn.observer.conn_refused(ctx.conn.listener, refusal);
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let _ = set_dscp(&SockRef::from(&socket), ctx.conn.dscp, remote.is_ipv6());
        let ctx = ctx.clone();
        let kind = kind.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let (tx, rx) = mpsc::channel(ctx.write_queue);
            let observer = Arc::clone(&ctx.conn.observer);
            let listener = ctx.conn.listener;
            match kind {
                StreamKind::Tcp => {
                    let registration = ctx.table.register(permit, listener, remote, tx);
                    let id = registration.id;
                    observer.conn_accepted(listener);
                    let reason =
                        conn::drive(socket, remote, registration, rx, ctx.conn, shutdown).await;
                    observer.conn_closed(listener, id, reason);
                }
                StreamKind::Tls(config) => {
                    let Some(stream) = handshake(socket, &config, ctx.handshake_timeout).await
                    else {
                        observer.tls_handshake_failed(listener);
                        drop(permit);
                        return;
                    };
                    let registration = ctx.table.register(permit, listener, remote, tx);
                    let id = registration.id;
                    observer.conn_accepted(listener);
                    let reason =
                        conn::drive(stream, remote, registration, rx, ctx.conn, shutdown).await;
                    observer.conn_closed(listener, id, reason);
                }
            }
        });
    }
}

async fn handshake(
    socket: TcpStream,
    config: &ReloadableServerConfig,
    limit: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let acceptor = TlsAcceptor::from(config.current());
    match tokio::time::timeout(limit, acceptor.accept(socket)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            debug!(error = %e, "tls handshake failed");
            None
        }
        Err(_) => {
            debug!("tls handshake timed out");
            None
        }
    }
}
