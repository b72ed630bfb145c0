//! One media line's relay task (shell): the RTP and RTCP sockets of both legs, forwarding
//! A↔B through each leg's latch and transform, inactivity detection and commands from the
//! control.
//!
//! The hot path reads into one preallocated buffer per relay thread, drains a socket in a bounded batch per
//! readiness event, and allocates nothing per packet: classification, header checks, the
//! latch and the counters work on the buffer and on atomics. A packet is accepted only after
//! (1) RFC 7983 demultiplexing says it is RTP or RTCP, (2) the leg's transform unprotected and
//! authenticated it (SRTP legs), (3) it parsed as RTP or a whole RTCP compound, and (4) the
//! leg's latch accepted its source.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::stats::{RtcpFigures, StreamStats};
use crate::media::MediaEvent;
use crate::media::latch::{
    Expected, Latch, LatchDrop, LatchEvent, LatchPacket, LatchSettings, Verdict,
};
use crate::media::rtcp::Compound;
use crate::media::rtp::{FixedHeader, PacketKind, RtpView, classify};
use crate::media::session::{Leg, Remote};
use crate::media::transform::{PacketTransform, TransformDrop, TransformSpec};
use crate::metrics::media::{MediaDrop, MediaMetrics, StreamCounters};

/// Receive buffer: a whole Ethernet-sized datagram plus room for SRTP tags.
pub(crate) const BUF_LEN: usize = 2048;
/// Packets read from one socket per readiness event before the others get a turn.
const BATCH: usize = 32;
/// Retry delay when the event queue is full.
const EVENT_RETRY: Duration = Duration::from_secs(1);
const RTP: usize = 0;

thread_local! {
    /// The relay thread's receive buffer, shared by all its lines: a line handles each packet
    /// to completion before the thread runs anything else.
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0u8; BUF_LEN]);
}
const RTCP: usize = 1;

/// What the control tells a line's relay task.
#[derive(Debug)]
pub(crate) enum Command {
    /// What a leg's far end signaled (boxed: every line's queue holds a block of commands,
    /// which stays small this way).
    Remote(Box<RemoteUpdate>),
    /// The call is answered: both legs start latching and inactivity is watched.
    Answered,
}

/// What a leg's far end signaled, with its transform; `open` restarts latching.
#[derive(Debug)]
pub(crate) struct RemoteUpdate {
    pub leg: Leg,
    pub remote: Option<Remote>,
    pub signaling_ip: Option<IpAddr>,
    pub transform: TransformSpec,
    pub open: bool,
}

/// Everything a line's relay task starts with.
pub(crate) struct PairSetup {
    pub call: Arc<str>,
    /// Bound, non-blocking sockets per leg: `[rtp, rtcp]`.
    pub sockets: [[std::net::UdpSocket; 2]; 2],
    pub stats: [Arc<StreamStats>; 2],
    pub counters: [StreamCounters; 2],
    pub latch: LatchSettings,
    pub inactivity: Duration,
    pub commands: mpsc::Receiver<Command>,
    pub events: mpsc::Sender<MediaEvent>,
    pub metrics: MediaMetrics,
}

/// One leg's side of the line.
struct Side {
    remote: Option<Remote>,
    signaling_ip: Option<IpAddr>,
    rtp_latch: Latch,
    rtcp_latch: Latch,
    transform: Option<Box<dyn PacketTransform>>,
    stats: Arc<StreamStats>,
    counters: StreamCounters,
}

impl Side {
    fn expected(&self, component: usize) -> Expected {
        Expected {
            address: self
                .remote
                .map(|r| if component == RTP { r.rtp } else { r.rtcp }),
            signaling_ip: self.signaling_ip,
        }
    }

    fn open(&mut self, now: Instant) {
        self.rtp_latch.open(self.expected(RTP), now);
        self.rtcp_latch.open(self.expected(RTCP), now);
    }

    fn drop(&self, reason: MediaDrop) {
        self.stats.dropped(reason);
        self.counters.drops[reason.index()].inc();
    }
}

struct Pair {
    call: Arc<str>,
    sides: [Side; 2],
    answered: bool,
    inactivity: Duration,
    last_activity: Instant,
    reported: bool,
    events: mpsc::Sender<MediaEvent>,
    metrics: MediaMetrics,
}

fn clock() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Runs a line's relay until the control drops its command sender.
pub(crate) async fn run(setup: PairSetup) {
    let PairSetup {
        call,
        sockets,
        stats,
        counters,
        latch,
        inactivity,
        mut commands,
        events,
        metrics,
    } = setup;
    let [a, b] = sockets;
    let convert = |[rtp, rtcp]: [std::net::UdpSocket; 2]| -> std::io::Result<[UdpSocket; 2]> {
        Ok([UdpSocket::from_std(rtp)?, UdpSocket::from_std(rtcp)?])
    };
    let sockets = match (convert(a), convert(b)) {
        (Ok(a), Ok(b)) => [a, b],
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "media relay sockets could not be registered");
            return;
        }
    };
    let [stats_a, stats_b] = stats;
    let [counters_a, counters_b] = counters;
    let side = |stats, counters| Side {
        remote: None,
        signaling_ip: None,
        rtp_latch: Latch::new(latch, false),
        rtcp_latch: Latch::new(latch, false),
        transform: None,
        stats,
        counters,
    };
    let mut pair = Pair {
        call,
        sides: [side(stats_a, counters_a), side(stats_b, counters_b)],
        answered: false,
        inactivity,
        last_activity: clock(),
        reported: false,
        events,
        metrics,
    };
    // One timer per line, re-armed only when it fires or the deadline comes earlier: every
    // packet moves the deadline later, and re-registering a timer per packet would cost more
    // than the packet itself. A timer that fires early finds the line active and re-arms.
    let timer = tokio::time::sleep_until(tokio::time::Instant::from_std(clock()));
    tokio::pin!(timer);
    let mut armed: Option<Instant> = None;
    loop {
        match pair.deadline() {
            Some(deadline) if armed.is_none_or(|at| at > deadline) => {
                timer
                    .as_mut()
                    .reset(tokio::time::Instant::from_std(deadline));
                armed = Some(deadline);
            }
            Some(_) => {}
            None => armed = None,
        }
        tokio::select! {
            // Commands first: what signaling decided before a packet arrived applies to it.
            biased;
            command = commands.recv() => match command {
                Some(command) => pair.apply(command, clock()),
                None => break,
            },
            Ok(()) = sockets[0][RTP].readable() => pair.drain(&sockets, 0, RTP),
            Ok(()) = sockets[0][RTCP].readable() => pair.drain(&sockets, 0, RTCP),
            Ok(()) = sockets[1][RTP].readable() => pair.drain(&sockets, 1, RTP),
            Ok(()) = sockets[1][RTCP].readable() => pair.drain(&sockets, 1, RTCP),
            () = &mut timer, if armed.is_some() => {
                armed = None;
                pair.inactive(clock());
            }
        }
    }
}

impl Pair {
    fn apply(&mut self, command: Command, now: Instant) {
        self.last_activity = now;
        self.reported = false;
        match command {
            Command::Remote(update) => {
                let RemoteUpdate {
                    leg,
                    remote,
                    signaling_ip,
                    transform,
                    open,
                } = *update;
                let side = &mut self.sides[leg.index()];
                side.remote = remote;
                side.signaling_ip = signaling_ip;
                match transform {
                    TransformSpec::Plain => side.transform = None,
                    TransformSpec::Keep => {}
                    TransformSpec::Install(t) => side.transform = Some(t),
                    TransformSpec::Rekey { keys, fresh } => {
                        let kept = side.transform.as_mut().is_some_and(|t| t.rekey(&keys));
                        if !kept {
                            side.transform = Some(fresh);
                        }
                    }
                }
                let auth = side.transform.as_ref().is_some_and(|t| t.authenticates());
                side.rtp_latch.set_require_auth(auth);
                side.rtcp_latch.set_require_auth(auth);
                if open && self.answered {
                    side.open(now);
                }
            }
            Command::Answered => {
                self.answered = true;
                for side in &mut self.sides {
                    side.open(now);
                }
            }
        }
    }

    /// When the line counts as inactive: answered, not on hold, not yet reported.
    fn deadline(&self) -> Option<Instant> {
        let hold = self
            .sides
            .iter()
            .filter_map(|s| s.remote)
            .any(|r| r.direction.is_hold());
        (self.answered && !hold && !self.reported).then(|| self.last_activity + self.inactivity)
    }

    fn inactive(&mut self, now: Instant) {
        if self.deadline().is_none_or(|d| d > now) {
            return;
        }
        let event = MediaEvent::Inactive {
            call: self.call.to_string(),
        };
        match self.events.try_send(event) {
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Try again shortly; the call must not be forgotten.
                self.last_activity = now + EVENT_RETRY - self.inactivity;
            }
            _ => {
                self.reported = true;
                self.metrics.inactivity_timeout();
            }
        }
    }

    fn drain(&mut self, sockets: &[[UdpSocket; 2]; 2], leg: usize, component: usize) {
        BUFFER.with_borrow_mut(|buf| self.drain_into(sockets, leg, component, buf));
    }

    fn drain_into(
        &mut self,
        sockets: &[[UdpSocket; 2]; 2],
        leg: usize,
        component: usize,
        buf: &mut Vec<u8>,
    ) {
        let now = clock();
        buf.resize(BUF_LEN, 0);
        for _ in 0..BATCH {
            match sockets[leg][component].try_recv_from(buf) {
                Ok((len, source)) => {
                    if let Err(reason) = self.packet(sockets, leg, component, buf, len, source, now)
                    {
                        self.sides[leg].drop(reason);
                    }
                    buf.resize(BUF_LEN, 0);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                // ICMP-induced errors and the like concern one packet; go on with the next.
                Err(_) => continue,
            }
        }
    }

    /// Handles one datagram of `len` bytes in `buf`, received on `leg`'s `component` socket.
    #[allow(clippy::too_many_arguments)]
    fn packet(
        &mut self,
        sockets: &[[UdpSocket; 2]; 2],
        leg: usize,
        component: usize,
        buf: &mut Vec<u8>,
        len: usize,
        source: SocketAddr,
        now: Instant,
    ) -> Result<(), MediaDrop> {
        let bytes = &buf[..len];
        let rtcp = match (classify(bytes), component) {
            (PacketKind::Rtcp, _) => true,
            (PacketKind::Rtp, RTP) => false,
            (PacketKind::Rtp, _) => return Err(MediaDrop::Malformed),
            _ => return Err(MediaDrop::NotMedia),
        };
        let (ssrc, seq) = if rtcp {
            let ssrc = bytes.get(4..8).ok_or(MediaDrop::Malformed)?;
            (
                u32::from_be_bytes([ssrc[0], ssrc[1], ssrc[2], ssrc[3]]),
                None,
            )
        } else {
            let header = FixedHeader::parse(bytes).map_err(|_| MediaDrop::Malformed)?;
            (header.ssrc, Some(header.sequence))
        };
        let [a, b] = &mut self.sides;
        let (from, to) = if leg == 0 { (a, b) } else { (b, a) };
        buf.truncate(len);
        let mut authenticated = false;
        if let Some(transform) = from.transform.as_mut() {
            let unprotect = match rtcp {
                true => PacketTransform::unprotect_rtcp,
                false => PacketTransform::unprotect_rtp,
            };
            unprotect(transform.as_mut(), buf).map_err(transform_drop)?;
            authenticated = transform.authenticates();
        }
        if rtcp {
            let compound = Compound::parse(buf).map_err(|_| MediaDrop::Malformed)?;
            if let Some(block) = compound.report_blocks().next() {
                from.stats.report(RtcpFigures {
                    fraction_lost: block.fraction_lost,
                    cumulative_lost: block.cumulative_lost,
                    jitter: block.jitter,
                });
            }
        } else {
            RtpView::parse(buf).map_err(|_| MediaDrop::Malformed)?;
        }
        let latch = if rtcp && component == RTCP {
            &mut from.rtcp_latch
        } else {
            &mut from.rtp_latch
        };
        let packet = LatchPacket {
            source,
            ssrc,
            seq,
            authenticated,
        };
        match latch.check(&packet, now) {
            Verdict::Drop(LatchDrop::NotLatched) => return Err(MediaDrop::NotLatched),
            Verdict::Drop(LatchDrop::Foreign) => return Err(MediaDrop::ForeignSource),
            Verdict::Drop(LatchDrop::Unauthenticated) => return Err(MediaDrop::SrtpAuth),
            Verdict::Accept(None) => {}
            Verdict::Accept(Some(LatchEvent::Locked(_))) => {
                from.counters.locked.inc();
            }
            Verdict::Accept(Some(LatchEvent::Relatched { to: moved, .. })) => {
                from.counters.relatched.inc();
                if component == RTP && !rtcp {
                    from.rtcp_latch.follow(moved.ip(), now);
                }
            }
        }
        // Bytes as they crossed the wire (SRTP: protected), like the bytes sent.
        from.stats.received(len, now);
        from.counters.packets_in.inc();
        from.counters.bytes_in.inc_by(len as u64);
        self.last_activity = now;
        self.reported = false;

        let remote = to.remote.ok_or(MediaDrop::NoDestination)?;
        let (out, destination) = if rtcp && !remote.rtcp_mux {
            (RTCP, to.rtcp_latch.send_to(remote.rtcp))
        } else {
            (RTP, to.rtp_latch.send_to(remote.rtp))
        };
        let destination = destination.ok_or(MediaDrop::NoDestination)?;
        if let Some(transform) = to.transform.as_mut() {
            let protect = match rtcp {
                true => PacketTransform::protect_rtcp,
                false => PacketTransform::protect_rtp,
            };
            protect(transform.as_mut(), buf).map_err(transform_drop)?;
        }
        if !sendable(destination) {
            return Err(MediaDrop::NoDestination);
        }
        let other = 1 - leg;
        match sockets[other][out].try_send_to(buf, destination) {
            Ok(sent) => {
                to.stats.sent(sent);
                to.counters.packets_out.inc();
                to.counters.bytes_out.inc_by(sent as u64);
                Ok(())
            }
            Err(_) => Err(MediaDrop::SendError),
        }
    }
}

/// Whether the relay may send to `destination`: never to port 0, an unspecified address (an
/// RFC 2543 `c=0.0.0.0` hold; Linux would deliver it locally), broadcast or multicast (the
/// relay must not be turned into a reflector).
fn sendable(destination: SocketAddr) -> bool {
    let ip = destination.ip();
    let broadcast = match ip {
        IpAddr::V4(v4) => v4.is_broadcast(),
        IpAddr::V6(_) => false,
    };
    destination.port() != 0 && !ip.is_unspecified() && !ip.is_multicast() && !broadcast
}

fn transform_drop(reason: TransformDrop) -> MediaDrop {
    match reason {
        TransformDrop::Auth => MediaDrop::SrtpAuth,
        TransformDrop::Replay => MediaDrop::Replay,
        TransformDrop::Malformed => MediaDrop::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::sendable;

    #[test]
    fn the_relay_sends_only_to_unicast_destinations() {
        for (address, ok) in [
            ("192.0.2.1:4000", true),
            ("[2001:db8::1]:4000", true),
            ("192.0.2.1:0", false),
            ("0.0.0.0:4000", false),
            ("[::]:4000", false),
            ("255.255.255.255:4000", false),
            ("224.0.0.1:4000", false),
            ("[ff02::1]:4000", false),
        ] {
            assert_eq!(sendable(address.parse().unwrap()), ok, "{address}");
        }
    }
}
