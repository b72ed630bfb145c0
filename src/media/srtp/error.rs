//! Errors of SRTP/SRTCP packet processing (pure), with the bounded drop reason the relay counts.

/// Why a packet could not be protected or unprotected. The relay drops the packet and counts
/// [`SrtpError::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SrtpError {
    /// Shorter than an RTP/RTCP header plus the suite's trailer (tag, SRTCP index).
    #[error("packet too short")]
    TooShort,
    /// Not an RTP/RTCP version 2 packet, or a header that does not fit the packet.
    #[error("malformed packet")]
    Malformed,
    /// The authentication tag does not verify (forged, corrupted, wrong key); also an SRTCP
    /// packet claiming to be unencrypted, which was not negotiated.
    #[error("authentication failed")]
    AuthFailed,
    /// An authentic packet whose index was already received or is older than the window.
    #[error("replayed packet")]
    Replay,
    /// The stream carries more SSRCs than a leg may (see [`super::MAX_SSRCS`]).
    #[error("too many SSRCs on one SRTP stream")]
    TooManySsrcs,
    /// The crypto engine refused to set up or run; also the engine's own 2^48-packet key
    /// limit (RFC 3711 §9.2), after which the key must be replaced.
    #[error("SRTP engine failure")]
    Engine,
}

impl SrtpError {
    /// The metric label for this error (a fixed word).
    pub fn reason(self) -> &'static str {
        match self {
            Self::TooShort => "too_short",
            Self::Malformed => "malformed",
            Self::AuthFailed => "auth_failed",
            Self::Replay => "replay",
            Self::TooManySsrcs => "too_many_ssrcs",
            Self::Engine => "engine",
        }
    }
}
