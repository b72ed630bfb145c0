//! The media relay (shell): dedicated threads, each running its own single-threaded tokio
//! runtime, so signaling bursts on the main runtime never delay a packet. Every media line of a
//! call is one task (`pair`) owning the four sockets of its two port pairs; the control
//! ([`crate::media::MediaControl`]) binds the sockets, spawns the task on the next worker in
//! turn and talks to it over a bounded channel.

pub(crate) mod pair;
pub mod stats;

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The relay threads. Dropping this stops them, and with them every relay task (their sockets
/// close).
#[derive(Debug)]
pub(crate) struct Workers {
    handles: Vec<Handle>,
    /// Dropped with the workers: each thread's runtime then returns and is shut down.
    _stop: Vec<oneshot::Sender<()>>,
    next: AtomicUsize,
}

impl Workers {
    /// Starts `count` relay threads, or one per CPU core the process may use when `count` is 0.
    pub(crate) fn start(count: usize) -> io::Result<Self> {
        let count = match count {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        };
        let mut handles = Vec::with_capacity(count);
        let mut stop = Vec::with_capacity(count);
        for index in 0..count {
            let (handle_tx, handle_rx) = std::sync::mpsc::sync_channel(1);
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            std::thread::Builder::new()
                .name(format!("media-relay-{index}"))
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    match runtime {
                        Ok(runtime) => {
                            let _ = handle_tx.send(Ok(runtime.handle().clone()));
                            runtime.block_on(async move {
                                let _ = stop_rx.await;
                            });
                        }
                        Err(e) => {
                            let _ = handle_tx.send(Err(e));
                        }
                    }
                })?;
            let handle = handle_rx
                .recv()
                .map_err(|_| io::Error::other("media relay thread exited"))??;
            handles.push(handle);
            stop.push(stop_tx);
        }
        Ok(Self {
            handles,
            _stop: stop,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `task` on the next worker in turn.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        drop(self.handles[index].spawn(task));
    }
}

/// Binds a non-blocking UDP socket on `ip:port` with `buffer` bytes asked for each way and
/// its packets marked `dscp` (no address reuse: a port another process holds fails here, and
/// the pool moves on).
pub(crate) fn bind(
    ip: IpAddr,
    port: u16,
    buffer: usize,
    dscp: u8,
) -> io::Result<std::net::UdpSocket> {
    let address = SocketAddr::new(ip, port);
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    // The kernel caps the sizes at net.core.rmem_max / wmem_max; a refusal is not fatal, nor
    // is a marking the host does not allow.
    let _ = socket.set_recv_buffer_size(buffer);
    let _ = socket.set_send_buffer_size(buffer);
    let _ = crate::transport::dscp::set_dscp(&socket, dscp, ip.is_ipv6());
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_relay_threads_means_one_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(Workers::start(0).unwrap().handles.len(), cores);
        assert_eq!(Workers::start(3).unwrap().handles.len(), 3);
    }

    #[test]
    fn relay_sockets_are_non_blocking_and_marked() {
        let socket = bind(IpAddr::from([127, 0, 0, 1]), 0, 65_536, 46).unwrap();
        let socket = socket2::SockRef::from(&socket);
        assert_eq!(socket.tos_v4().unwrap(), 46 << 2);
        assert!(socket.nonblocking().unwrap_or(true));
    }
}
