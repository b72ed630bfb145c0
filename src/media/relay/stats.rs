//! Per-stream counters shared between a relay task (writer) and the control (reader), as
//! atomics: packets and bytes each way, drops by reason, the last packet's time and the far
//! end's latest RTCP reception report (loss and jitter).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::metrics::media::MediaDrop;

/// No RTCP report seen yet (a value no 24-bit loss count can have).
const NO_REPORT: i64 = i64::MIN;

/// The live counters of one leg's stream of one media line.
#[derive(Debug)]
pub struct StreamStats {
    epoch: Instant,
    packets_in: AtomicU64,
    bytes_in: AtomicU64,
    packets_out: AtomicU64,
    bytes_out: AtomicU64,
    drops: [AtomicU64; MediaDrop::ALL.len()],
    /// Nanoseconds after `epoch` of the last accepted packet, plus one (0: none yet).
    last_packet: AtomicU64,
    fraction_lost: AtomicU64,
    cumulative_lost: AtomicI64,
    jitter: AtomicU64,
}

/// A copy of a stream's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSnapshot {
    /// Packets accepted from the far end.
    pub packets_in: u64,
    /// Bytes accepted from the far end.
    pub bytes_in: u64,
    /// Packets sent to the far end.
    pub packets_out: u64,
    /// Bytes sent to the far end.
    pub bytes_out: u64,
    /// Packets from this leg dropped, by reason (in [`MediaDrop::ALL`] order).
    pub drops: [u64; MediaDrop::ALL.len()],
    /// When the last packet was accepted from the far end.
    pub last_packet: Option<Instant>,
    /// The far end's latest reception report on what it receives from us, if any.
    pub rtcp: Option<RtcpFigures>,
}

impl StreamSnapshot {
    /// Drops for one reason.
    pub fn dropped(&self, reason: MediaDrop) -> u64 {
        self.drops[reason.index()]
    }
}

/// Loss and jitter from an RTCP reception report (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpFigures {
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost.
    pub cumulative_lost: i32,
    /// Interarrival jitter in RTP timestamp units.
    pub jitter: u32,
}

impl StreamStats {
    /// Zeroed counters; `epoch` is the reference for packet times.
    pub fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            packets_in: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            packets_out: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            drops: Default::default(),
            last_packet: AtomicU64::new(0),
            fraction_lost: AtomicU64::new(0),
            cumulative_lost: AtomicI64::new(NO_REPORT),
            jitter: AtomicU64::new(0),
        }
    }

    /// Counts a packet accepted from the far end at `now`.
    pub fn received(&self, bytes: usize, now: Instant) {
        self.packets_in.fetch_add(1, Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Relaxed);
        let nanos = now.saturating_duration_since(self.epoch).as_nanos();
        self.last_packet
            .store(u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1, Relaxed);
    }

    /// Counts a packet sent to the far end.
    pub fn sent(&self, bytes: usize) {
        self.packets_out.fetch_add(1, Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Relaxed);
    }

    /// Counts a dropped packet.
    pub fn dropped(&self, reason: MediaDrop) {
        self.drops[reason.index()].fetch_add(1, Relaxed);
    }

    /// Records the far end's latest reception report.
    pub fn report(&self, figures: RtcpFigures) {
        self.fraction_lost
            .store(u64::from(figures.fraction_lost), Relaxed);
        self.jitter.store(u64::from(figures.jitter), Relaxed);
        self.cumulative_lost
            .store(i64::from(figures.cumulative_lost), Relaxed);
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> StreamSnapshot {
        let last = self.last_packet.load(Relaxed);
        let lost = self.cumulative_lost.load(Relaxed);
        StreamSnapshot {
            packets_in: self.packets_in.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            packets_out: self.packets_out.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            drops: std::array::from_fn(|i| self.drops[i].load(Relaxed)),
            last_packet: (last != 0).then(|| self.epoch + Duration::from_nanos(last - 1)),
            rtcp: (lost != NO_REPORT).then(|| RtcpFigures {
                fraction_lost: self.fraction_lost.load(Relaxed) as u8,
                cumulative_lost: lost as i32,
                jitter: self.jitter.load(Relaxed) as u32,
            }),
        }
    }
}
