//! The media relay's metric families (pure data): streams, packets and bytes per realm and
//! direction, drops by reason, port pool usage, latch events and inactivity timeouts.
//!
//! The relay counts on its hot path through [`StreamCounters`], handles fetched once per stream
//! (a `Counter` is a shared atomic), so a relayed packet costs atomic additions and no label
//! lookup. Labels are the configured realm names and fixed words only.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::labels::{Direction, label_words};
use super::{family, names};

/// Why the relay dropped a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaDrop {
    /// From a source other than the latched one (or the learning candidate).
    ForeignSource,
    /// No source latched and the packet may not latch one (before answer, window over).
    NotLatched,
    /// SRTP/SRTCP authentication failed, or an unauthenticated packet on an SRTP leg.
    SrtpAuth,
    /// SRTP/SRTCP replay.
    Replay,
    /// Not a valid RTP or RTCP packet.
    Malformed,
    /// STUN, DTLS, ZRTP, TURN or unknown traffic (RFC 7983 demultiplexing).
    NotMedia,
    /// The other leg has no address to send to (line disabled or not answered).
    NoDestination,
    /// The socket refused the send.
    SendError,
}

label_words!(MediaDrop {
    ForeignSource => "foreign_source", NotLatched => "not_latched", SrtpAuth => "srtp_auth",
    Replay => "replay", Malformed => "malformed", NotMedia => "not_media",
    NoDestination => "no_destination", SendError => "send_error",
});

impl MediaDrop {
    /// Every reason, in a fixed order (the index of [`StreamCounters::drops`]).
    pub const ALL: [MediaDrop; 8] = [
        MediaDrop::ForeignSource,
        MediaDrop::NotLatched,
        MediaDrop::SrtpAuth,
        MediaDrop::Replay,
        MediaDrop::Malformed,
        MediaDrop::NotMedia,
        MediaDrop::NoDestination,
        MediaDrop::SendError,
    ];

    /// Position in [`MediaDrop::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The state of a media port pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortState {
    /// Allocated to a stream.
    InUse,
    /// Released, waiting out the quarantine.
    Quarantined,
    /// Available.
    Free,
}

label_words!(PortState { InUse => "in_use", Quarantined => "quarantined", Free => "free" });

/// A change of latched source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LatchEventLabel {
    /// A source was learned and locked.
    Locked,
    /// The locked source moved (NAT rebinding).
    Relatched,
}

label_words!(LatchEventLabel { Locked => "locked", Relatched => "relatched" });

/// Labels of `sbc_media_streams_active`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct MediaRealmLabels {
    pub realm: String,
}

/// Labels of `sbc_media_packets_total` and `sbc_media_bytes_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct MediaTrafficLabels {
    pub realm: String,
    pub direction: Direction,
}

/// Labels of `sbc_media_dropped_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct MediaDropLabels {
    pub realm: String,
    pub reason: MediaDrop,
}

/// Labels of `sbc_media_port_pairs`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct PortLabels {
    pub realm: String,
    pub state: PortState,
}

/// Labels of `sbc_media_latch_events_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct LatchLabels {
    pub realm: String,
    pub event: LatchEventLabel,
}

/// The media families.
#[derive(Debug, Clone)]
pub struct MediaMetrics {
    streams_active: Family<MediaRealmLabels, Gauge>,
    packets: Family<MediaTrafficLabels, Counter>,
    bytes: Family<MediaTrafficLabels, Counter>,
    dropped: Family<MediaDropLabels, Counter>,
    port_pairs: Family<PortLabels, Gauge>,
    latch_events: Family<LatchLabels, Counter>,
    inactivity_timeouts: Counter,
}

/// The counters of one leg's stream, fetched once: received from (`in`) and sent to (`out`)
/// the leg's far end, drops by [`MediaDrop::index`], latch events.
#[derive(Debug, Clone)]
pub struct StreamCounters {
    /// Packets received from the far end and accepted.
    pub packets_in: Counter,
    /// Bytes received from the far end and accepted.
    pub bytes_in: Counter,
    /// Packets sent to the far end.
    pub packets_out: Counter,
    /// Bytes sent to the far end.
    pub bytes_out: Counter,
    /// Drops of packets received on this leg, by reason.
    pub drops: [Counter; MediaDrop::ALL.len()],
    /// Sources locked.
    pub locked: Counter,
    /// Re-latches.
    pub relatched: Counter,
}

impl MediaMetrics {
    /// Registers the media families.
    pub(super) fn register(r: &mut Registry) -> Self {
        Self {
            streams_active: family(
                r,
                names::MEDIA_STREAMS_ACTIVE,
                "Media streams relayed, per leg realm",
            ),
            packets: family(r, names::MEDIA_PACKETS, "RTP and RTCP packets relayed"),
            bytes: family(r, names::MEDIA_BYTES, "RTP and RTCP bytes relayed"),
            dropped: family(r, names::MEDIA_DROPPED, "Media packets dropped, by reason"),
            port_pairs: family(r, names::MEDIA_PORT_PAIRS, "Media port pairs by state"),
            latch_events: family(
                r,
                names::MEDIA_LATCH_EVENTS,
                "Media sources locked and re-latched",
            ),
            inactivity_timeouts: family(
                r,
                names::MEDIA_INACTIVITY_TIMEOUTS,
                "Calls ended because their media stopped",
            ),
        }
    }

    /// The counters of a stream on a leg in `realm`.
    pub fn stream_counters(&self, realm: &str) -> StreamCounters {
        let traffic = |family: &Family<MediaTrafficLabels, Counter>, direction| {
            family
                .get_or_create(&MediaTrafficLabels {
                    realm: realm.to_owned(),
                    direction,
                })
                .clone()
        };
        let latch = |event| {
            self.latch_events
                .get_or_create(&LatchLabels {
                    realm: realm.to_owned(),
                    event,
                })
                .clone()
        };
        StreamCounters {
            packets_in: traffic(&self.packets, Direction::In),
            bytes_in: traffic(&self.bytes, Direction::In),
            packets_out: traffic(&self.packets, Direction::Out),
            bytes_out: traffic(&self.bytes, Direction::Out),
            drops: MediaDrop::ALL.map(|reason| {
                self.dropped
                    .get_or_create(&MediaDropLabels {
                        realm: realm.to_owned(),
                        reason,
                    })
                    .clone()
            }),
            locked: latch(LatchEventLabel::Locked),
            relatched: latch(LatchEventLabel::Relatched),
        }
    }

    /// A stream on a leg in `realm` started (`+1`) or stopped (`-1`).
    pub fn stream_active(&self, realm: &str, delta: i64) {
        self.streams_active
            .get_or_create(&MediaRealmLabels {
                realm: realm.to_owned(),
            })
            .inc_by(delta);
    }

    /// Sets the port pair figures of `realm`.
    pub fn port_pairs(&self, realm: &str, in_use: usize, quarantined: usize, free: usize) {
        for (state, value) in [
            (PortState::InUse, in_use),
            (PortState::Quarantined, quarantined),
            (PortState::Free, free),
        ] {
            self.port_pairs
                .get_or_create(&PortLabels {
                    realm: realm.to_owned(),
                    state,
                })
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        }
    }

    /// Counts a call whose media stopped.
    pub fn inactivity_timeout(&self) {
        self.inactivity_timeouts.inc();
    }
}
