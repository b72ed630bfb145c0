//! Connections the SBC opens (shell): RFC 3261 §18.1.1 (requests over TCP/TLS to peers) and
//! §18.2.2 (a response whose connection has closed goes over a new connection to the source
//! address and sent-by port). Outbound connections are registered in the same table as inbound
//! ones — so responses and in-dialog requests find them — count against the global cap, and run
//! the same [`conn::drive`] loop. TLS toward peers verifies the server name against the realm's
//! CA file and presents the realm's own certificate (mutual TLS where the peer asks for it).

use crate::app::ShutdownSubscriber;
use crate::transport::conn::{self, ConnContext};
use crate::transport::dscp::set_dscp;
use crate::transport::table::ConnTable;
use crate::transport::{ConnId, SendError};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use socket2::SockRef;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpSocket;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tracing::debug;

/// What a listener needs to open connections of its own.
#[derive(Clone)]
pub struct Outbound {
    /// Per-connection settings (the listener's).
    pub conn: ConnContext,
    /// The connection table.
    pub table: Arc<ConnTable>,
    /// TLS client configuration (TLS listeners only).
    pub tls: Option<Arc<ClientConfig>>,
    /// Longest TCP connect plus TLS handshake.
    pub connect_timeout: Duration,
    /// Write queue length.
    pub write_queue: usize,
    /// Gives each opened connection's task its shutdown handle.
    pub shutdown: ShutdownSubscriber,
}

impl Outbound {
    /// Opens a connection to `remote` (TLS: verifying `server_name`, or the IP address when
    /// none is given), registers it and starts its task. Returns once the connection is usable.
    pub async fn connect(
        &self,
        remote: SocketAddr,
        server_name: Option<&str>,
    ) -> Result<ConnId, SendError> {
        let permit = self
            .table
            .admit_outbound()
            .map_err(|_| SendError::NoConnection(remote))?;
        let socket = if remote.is_ipv6() {
            TcpSocket::new_v6()
        } else {
            TcpSocket::new_v4()
        }
        .map_err(SendError::Io)?;
        set_dscp(&SockRef::from(&socket), self.conn.dscp, remote.is_ipv6())
            .map_err(SendError::Io)?;
        let tcp = tokio::time::timeout(self.connect_timeout, socket.connect(remote))
            .await
            .map_err(|_| SendError::NoConnection(remote))?
            .map_err(SendError::Io)?;
        let _ = tcp.set_nodelay(true);
        let (tx, rx) = mpsc::channel(self.write_queue);
        let listener = self.conn.listener;
        let ctx = self.conn.clone();
        let shutdown = self.shutdown.subscribe();
        match &self.tls {
            None => {
                let registration = self.table.register(permit, listener, remote, tx);
                let id = registration.id;
                ctx.observer.conn_accepted(listener);
                tokio::spawn(async move {
                    let observer = Arc::clone(&ctx.observer);
                    let reason = conn::drive(tcp, remote, registration, rx, ctx, shutdown).await;
                    observer.conn_closed(listener, id, reason);
                });
                Ok(id)
            }
            Some(config) => {
                let name = match server_name {
                    Some(name) => ServerName::try_from(name.to_owned())
                        .map_err(|_| SendError::NoConnection(remote))?,
                    None => ServerName::IpAddress(remote.ip().into()),
                };
                let connector = TlsConnector::from(Arc::clone(config));
                let stream =
                    match tokio::time::timeout(self.connect_timeout, connector.connect(name, tcp))
                        .await
                    {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            debug!(%remote, error = %e, "outbound tls handshake failed");
                            ctx.observer.tls_handshake_failed(listener);
                            return Err(SendError::Io(e));
                        }
                        Err(_) => {
                            ctx.observer.tls_handshake_failed(listener);
                            return Err(SendError::NoConnection(remote));
                        }
                    };
                let registration = self.table.register(permit, listener, remote, tx);
                let id = registration.id;
                ctx.observer.conn_accepted(listener);
                tokio::spawn(async move {
                    let observer = Arc::clone(&ctx.observer);
                    let reason = conn::drive(stream, remote, registration, rx, ctx, shutdown).await;
                    observer.conn_closed(listener, id, reason);
                });
                Ok(id)
            }
        }
    }
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("listener", &self.conn.listener)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}
