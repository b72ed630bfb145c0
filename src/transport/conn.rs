//! One TCP or TLS connection (shell): RFC 3261 §18.3 framing by Content-Length, RFC 5626 §3.5.1
//! keep-alives (a `CRLF CRLF` ping is answered with a `CRLF` pong), and the bounds that keep one
//! bad peer from costing anyone else anything: an idle timeout, a per-message timeout (slowloris),
//! a bounded write queue drained with a write timeout, and no receive buffer held while idle.

use crate::app::Shutdown;
use crate::config::Transport;
use crate::sip::parse::{Frame, Framer};
use crate::sip::validate::{Disposition, Validator};
use crate::transport::table::Registration;
use crate::transport::{CloseReason, Inbound, InboundTx, ListenerId, Target, TransportObserver};
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::{Instant, sleep_until, timeout};

/// How long a connection stays open after a framing error, reading nothing more, so that the
/// answers to the messages before the error (and the error response itself) are delivered.
const LINGER_AFTER_ERROR: Duration = Duration::from_secs(2);
/// Read size reserved when the receive buffer is empty.
const READ_CHUNK: usize = 4096;

/// Settings and handles shared by every connection of a listener.
#[derive(Clone)]
pub struct ConnContext {
    /// Listener index.
    pub listener: ListenerId,
    /// TCP or TLS.
    pub transport: Transport,
    /// Validation (and framing limits).
    pub validator: Arc<Validator>,
    /// Queue to the signaling core.
    pub inbound: InboundTx,
    /// Metrics and logs.
    pub observer: Arc<dyn TransportObserver>,
    /// Close after this long with no traffic either way.
    pub idle_timeout: Duration,
    /// Close when one message takes longer than this to arrive.
    pub message_timeout: Duration,
    /// Close when one write takes longer than this.
    pub write_timeout: Duration,
    /// DSCP code point of what the connection sends.
    pub dscp: u8,
}

/// Runs one connection until it closes; returns why.
pub async fn drive<S>(
    stream: S,
    remote: SocketAddr,
    registration: Registration,
    mut queue: mpsc::Receiver<Bytes>,
    ctx: ConnContext,
    mut shutdown: Shutdown,
) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Send,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut framer = Framer::new(ctx.validator.limits);
    let source = Target {
        listener: ctx.listener,
        transport: ctx.transport,
        remote,
        conn: Some(registration.id),
    };
    let mut last_activity = Instant::now();
    let mut message_started: Option<Instant> = None;
    let mut closing_at: Option<Instant> = None;
    loop {
        let idle_deadline = last_activity + ctx.idle_timeout;
        let deadline = [
            Some(idle_deadline),
            message_started.map(|t| t + ctx.message_timeout),
            closing_at,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(idle_deadline);
        let buf = framer.buffer_mut();
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            read = reader.read_buf(framer.buffer_mut()), if closing_at.is_none() => {
                match read {
                    Ok(0) => return CloseReason::PeerClosed,
                    Err(_) => return CloseReason::Error,
                    Ok(_) => last_activity = Instant::now(),
                }
                match deliver(&mut framer, &source, &ctx, &mut writer).await {
                    Ok(()) => {}
                    Err(Some(reason)) => return reason,
                    Err(None) => closing_at = Some(Instant::now() + LINGER_AFTER_ERROR),
                }
                if framer.buffered() == 0 {
                    message_started = None;
                    // Hold no receive buffer while idle; messages in flight keep their bytes.
                    *framer.buffer_mut() = BytesMut::new();
                } else if message_started.is_none() {
                    message_started = Some(last_activity);
                }
            }
            out = queue.recv() => {
                let Some(data) = out else {
                    return CloseReason::WriteQueueFull;
                };
                match timeout(ctx.write_timeout, writer.write_all(&data)).await {
                    Ok(Ok(())) => last_activity = Instant::now(),
                    _ => return CloseReason::Error,
                }
            }
            _ = sleep_until(deadline) => {
                return if closing_at.is_some() {
                    let _ = timeout(ctx.write_timeout, writer.shutdown()).await;
                    CloseReason::BadFraming
                } else if message_started.is_some_and(|t| t + ctx.message_timeout <= Instant::now()) {
                    CloseReason::MessageTimeout
                } else {
                    CloseReason::Idle
                };
            }
            _ = shutdown.triggered() => return CloseReason::Shutdown,
        }
    }
}

/// Frames what has arrived and queues each message for the core. `Err(None)`: framing broke
/// (answers may be on their way; linger, then close); `Err(Some(reason))`: close now.
async fn deliver<W>(
    framer: &mut Framer,
    source: &Target,
    ctx: &ConnContext,
    writer: &mut W,
) -> Result<(), Option<CloseReason>>
where
    W: AsyncWrite + Unpin,
{
    loop {
        let disposition = match framer.next_frame() {
            Ok(None) => return Ok(()),
            Ok(Some(Frame::Ping)) => {
                match timeout(ctx.write_timeout, writer.write_all(b"\r\n")).await {
                    Ok(Ok(())) => continue,
                    _ => return Err(Some(CloseReason::Error)),
                }
            }
            Ok(Some(Frame::Pong)) => continue,
            Ok(Some(Frame::Message(msg))) => match ctx.validator.validate(&msg) {
                Ok(()) => Disposition::Process(msg),
                Err(error) => ctx.validator.reject_parsed(msg, error),
            },
            Err(failure) => {
                let disposition = ctx.validator.reject_failure(failure);
                if let Disposition::Drop(error) = &disposition {
                    ctx.observer.dropped(ctx.listener, error);
                } else {
                    queue(ctx, source, disposition).map_err(Some)?;
                }
                return Err(None);
            }
        };
        if let Disposition::Drop(error) = &disposition {
            ctx.observer.dropped(ctx.listener, error);
            continue;
        }
        queue(ctx, source, disposition).map_err(Some)?;
    }
}

fn queue(ctx: &ConnContext, source: &Target, disposition: Disposition) -> Result<(), CloseReason> {
    let inbound = Inbound {
        source: source.clone(),
        disposition,
    };
    match ctx.inbound.try_send(inbound) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(_)) => {
            ctx.observer.queue_full(ctx.listener);
            Ok(())
        }
        Err(TrySendError::Closed(_)) => Err(CloseReason::Shutdown),
    }
}
