//! The per-leg packet transform seam (pure trait): what turns the packets a far end sends into
//! plain RTP/RTCP, and plain packets into what that far end expects. Plain RTP legs have no
//! transform; SRTP legs (RFC 3711, keys from SDES RFC 4568) install one from [`crate::media`]'s
//! SRTP module.
//!
//! The relay calls the transform on its own preallocated buffers: `packet` arrives holding the
//! bytes as received (or as forwarded), with spare capacity for an authentication tag, and the
//! transform rewrites it in place (it may shrink or grow it within its capacity). A packet the
//! transform refuses is dropped and counted under the returned [`TransformDrop`] reason; it is
//! never forwarded and never latched.

use std::fmt;

use super::srtp::Negotiated;

/// Why a transform refused a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransformDrop {
    /// The authentication tag did not verify (SRTP/SRTCP auth failure, unknown key).
    Auth,
    /// The packet index was already seen or is too old for the replay window.
    Replay,
    /// The packet is too short or otherwise cannot be processed.
    Malformed,
}

impl TransformDrop {
    /// A bounded word for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            TransformDrop::Auth => "srtp_auth",
            TransformDrop::Replay => "replay",
            TransformDrop::Malformed => "malformed",
        }
    }
}

impl fmt::Display for TransformDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The transform of one leg: `unprotect_*` is applied to what this leg's far end sends before
/// the packet may latch or be forwarded, `protect_*` to what is sent to this leg's far end.
///
/// Implementations own their cryptographic state (one inbound and one outbound context for
/// SRTP), keep replay protection always on, and never log keys. They must not allocate per
/// packet when `packet` has enough spare capacity.
pub trait PacketTransform: Send + fmt::Debug {
    /// Turns an RTP packet received from the far end into plain RTP, in place.
    fn unprotect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), TransformDrop>;
    /// Turns a plain RTP packet into what the far end expects, in place.
    fn protect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), TransformDrop>;
    /// Turns an RTCP compound packet received from the far end into plain RTCP, in place.
    fn unprotect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), TransformDrop>;
    /// Turns a plain RTCP compound packet into what the far end expects, in place.
    fn protect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), TransformDrop>;
    /// Whether an accepted inbound packet was authenticated (true for SRTP). The latch only
    /// lets authenticated packets learn a source on legs that require it.
    fn authenticates(&self) -> bool;
    /// Takes the keys of a new offer/answer exchange in place, keeping the state of each
    /// direction whose key did not change. False when this transform cannot (another kind of
    /// transform, or keys it cannot use): the caller then installs a fresh one.
    fn rekey(&mut self, keys: &Negotiated) -> bool {
        let _ = keys;
        false
    }
}

/// How a media description sets the transform of its leg.
#[derive(Debug, Default)]
pub enum TransformSpec {
    /// Plain RTP both ways (no transform).
    #[default]
    Plain,
    /// Keep whatever the stream has now (a re-INVITE that keeps the keys keeps the contexts,
    /// their rollover counters and replay windows).
    Keep,
    /// Install this transform, replacing any previous one.
    Install(Box<dyn PacketTransform>),
    /// New SDES keys on a leg that runs SRTP: the running transform takes them in place, so a
    /// direction whose key stayed the same keeps its rollover counter and replay window (a
    /// re-INVITE that changes only one side's key); `fresh` (built from the same keys) replaces
    /// it when it cannot.
    Rekey {
        /// The keys now agreed on this leg.
        keys: Box<Negotiated>,
        /// The transform to install when the running one cannot take the keys.
        fresh: Box<dyn PacketTransform>,
    },
}
