//! Media anchoring: the SBC relays every call's RTP and RTCP through its own ports, so the far
//! ends only ever see the SBC, latching is strict (RTP-bleed safe), and a leg may use SRTP
//! while the other uses RTP.
//!
//! The object model follows rtpengine: a **call** has two legs (**monologues**), each with one
//! **media** line per SDP `m=` line, and each line pairs the legs' **streams** (RTP + RTCP)
//! through one relay task. The B2BUA drives it in-process through [`MediaControl`] — `offer`,
//! `answer`, `update`, `delete`, `query` — with no control protocol in between.
//!
//! | module | kind | what it holds |
//! |---|---|---|
//! | [`ports`] | pure | per-realm port pools: even RTP / odd RTCP pairs, quarantine, exhaustion |
//! | [`rtp`], [`rtcp`] | pure | zero-copy RTP/RTCP views, RFC 7983 and RFC 5761 demultiplexing, report blocks |
//! | [`latch`] | pure | strict symmetric latching with a protected re-latch for NAT rebinding |
//! | [`session`] | pure | the call → leg → line model and what an offer or answer changes |
//! | [`transform`] | pure | the per-leg packet transform seam (SRTP implements it) |
//! | [`srtp_leg`] | pure | SRTP contexts as the relay's packet transform |
//! | [`srtp`] | pure | SDES crypto attributes, offer/answer policy, keys and SRTP/SRTCP contexts |
//! | [`control`] | shell | [`MediaControl`]: the call table, port pools and relay handles |
//! | [`relay`] | shell | relay threads and the per-line forwarding tasks, per-stream counters |
//!
//! # Media flow
//!
//! ```text
//!  phone A ──► [A-side port pair] ─ unprotect(A) → parse → latch(A) ─► protect(B) ─► [B-side port pair] ──► B
//!  phone A ◄── [A-side port pair] ◄─ protect(A) ◄─ latch(B) ← parse ← unprotect(B) ─ [B-side port pair] ◄── B
//! ```
//!
//! An offer allocates one port pair per line on each leg (the offer sent on gets the other
//! leg's relay address); the answer starts latching on both legs and inactivity watching.
//! Nothing is forwarded before the answer. A line with no packets either way for the
//! inactivity timeout, while neither side holds it, produces a [`MediaEvent::Inactive`] on a
//! bounded channel; the B2BUA ends the call and calls [`MediaControl::delete`], which stops
//! the relay tasks and quarantines the ports.

pub mod control;
pub mod error;
pub mod latch;
pub mod ports;
pub mod relay;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod srtp;
pub mod srtp_leg;
pub mod transform;

#[cfg(test)]
pub(crate) mod testing;

use std::net::IpAddr;
use std::time::Duration;

pub use control::{CallStats, Description, MediaControl, RelayAddress};
pub use error::MediaError;
pub use latch::LatchSettings;
pub use ports::{PoolUsage, PortError, PortPair, PortPool};
pub use relay::stats::{RtcpFigures, StreamSnapshot};
pub use session::{Leg, MediaDirection, MediaSpec};
pub use srtp_leg::SrtpLeg;
pub use transform::{PacketTransform, TransformDrop, TransformSpec};

use crate::config::{Realm, RelayConfig};

/// What the relay reports to signaling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A line of this call carried no media for the inactivity timeout (and was not on
    /// hold): the call should end.
    Inactive {
        /// The call, as named in [`MediaControl::offer`].
        call: String,
    },
}

/// The relay's settings (from `[media]`, plus internal queue bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelaySettings {
    /// Latching parameters (the window comes from `latch_window_ms`).
    pub latch: LatchSettings,
    /// No media for this long ends a call (not while on hold).
    pub inactivity_timeout: Duration,
    /// How long released port pairs rest.
    pub port_quarantine: Duration,
    /// Dedicated relay threads; 0 starts one per CPU core.
    pub relay_threads: usize,
    /// Socket buffer requested per relay socket.
    pub socket_buffer_bytes: usize,
    /// Commands queued per media line before the control reports [`MediaError::Busy`].
    pub command_queue: usize,
    /// Media events queued for signaling.
    pub event_queue: usize,
}

impl RelaySettings {
    /// The settings of a validated `[media]` section.
    pub fn from_config(config: &RelayConfig) -> Self {
        Self {
            latch: LatchSettings {
                window: config.latch_window,
                ..LatchSettings::default()
            },
            inactivity_timeout: config.inactivity_timeout,
            port_quarantine: config.port_quarantine,
            relay_threads: config.relay_threads,
            socket_buffer_bytes: config.socket_buffer_bytes,
            command_queue: 16,
            event_queue: 1024,
        }
    }
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self::from_config(&RelayConfig::default())
    }
}

/// One realm's relay: where it binds, what it advertises, which ports it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmRelay {
    /// The realm's name.
    pub name: String,
    /// The local IP the relay sockets bind.
    pub bind: IpAddr,
    /// The IP written into SDP (advertised address behind 1:1 NAT, else `bind`).
    pub advertised: IpAddr,
    /// First port of the range (even).
    pub port_min: u16,
    /// Last port of the range.
    pub port_max: u16,
    /// DSCP code point of every packet the relay sends on this realm (`[realms.dscp] media`).
    pub dscp: u8,
}

impl RealmRelay {
    /// The relay of a configured realm.
    pub fn of(realm: &Realm) -> Self {
        Self {
            name: realm.name.clone(),
            bind: realm.media.address,
            advertised: realm.media.sdp_address(),
            port_min: realm.media.port_min,
            port_max: realm.media.port_max,
            dscp: realm.dscp.media,
        }
    }
}
