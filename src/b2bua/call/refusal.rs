//! Why the media-anchoring seam refuses a body, and the SIP answer each reason gets (pure):
//! RFC 3261 §21.4.26 (488 Not Acceptable Here, with a Warning), §20.43 (Warning codes),
//! §21.5.4 and §20.33 (503 Service Unavailable with Retry-After), RFC 3264 §6 (a line that
//! cannot be carried is rejected with port 0 — a refusal is only for a body with no line left).
//!
//! Each reason maps to its status, its Warning and its metric label here, in one place.

use super::relay::stamp_agent;
use crate::sip::header::HeaderName;
use crate::sip::message::{Header, Message};
use crate::sip::response::response_to;
use crate::sip::uri::Host;
use bytes::Bytes;

/// Seconds a 503 for exhausted media resources asks the sender to wait before trying again.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Why a body cannot cross the call (the media-anchoring seam's error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum MediaRefusal {
    /// Every active line uses a transport the relay does not carry (DTLS-SRTP
    /// `UDP/TLS/RTP/SAVPF`, non-RTP such as `TCP/MSRP` or `udptl`): 488, Warning 302.
    #[error("no media line with a transport the relay carries")]
    Transport,
    /// Every active line fails the leg's SRTP policy (plain RTP where SRTP is mandatory, or
    /// no crypto line that can be accepted): 488, Warning 399.
    #[error("SRTP policy of the leg not met")]
    SrtpPolicy,
    /// The session description does not parse, or an answer does not match its offer:
    /// 488, Warning 399.
    #[error("session description malformed")]
    BadSdp,
    /// A multipart body on an offer/answer message: the relay cannot anchor SDP it does not
    /// see: 488, Warning 399.
    #[error("multipart body not supported")]
    Multipart,
    /// No relay port pair is free: 503 with Retry-After.
    #[error("media ports exhausted")]
    Exhausted,
    /// The relay could not bind a port, or is overloaded: 503 with Retry-After.
    #[error("media relay unavailable")]
    Unavailable,
    /// Something inside the SBC failed (random source, SRTP context, SDP printing): 500.
    #[error("media internal error")]
    Internal,
}

impl MediaRefusal {
    /// Every reason, for metrics that show each at zero.
    pub const ALL: [MediaRefusal; 7] = [
        MediaRefusal::Transport,
        MediaRefusal::SrtpPolicy,
        MediaRefusal::BadSdp,
        MediaRefusal::Multipart,
        MediaRefusal::Exhausted,
        MediaRefusal::Unavailable,
        MediaRefusal::Internal,
    ];

    /// The final status answering the message that carried the body.
    pub fn status(self) -> u16 {
        match self {
            Self::Transport | Self::SrtpPolicy | Self::BadSdp | Self::Multipart => 488,
            Self::Exhausted | Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The Warning code and text (RFC 3261 §20.43) for a 488, `None` otherwise.
    pub fn warning(self) -> Option<(u16, &'static str)> {
        match self {
            Self::Transport => Some((302, "Incompatible transport protocol")),
            Self::SrtpPolicy => Some((399, "SRTP required")),
            Self::BadSdp => Some((399, "Malformed session description")),
            Self::Multipart => Some((399, "Multipart body not supported")),
            Self::Exhausted | Self::Unavailable | Self::Internal => None,
        }
    }

    /// The bounded label of `sbc_media_refused_total{reason}`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transport => "transport",
            Self::SrtpPolicy => "srtp_policy",
            Self::BadSdp => "bad_sdp",
            Self::Multipart => "multipart",
            Self::Exhausted => "ports_exhausted",
            Self::Unavailable => "relay_unavailable",
            Self::Internal => "internal",
        }
    }

    /// The response refusing `request`: the status, `Warning: <code> <agent> "<text>"` with the
    /// SBC's own host on that leg as the agent (never an address of the other side), and
    /// `Retry-After` on a 503.
    pub fn response(
        self,
        request: &Message,
        tag: &[u8],
        agent_host: &Host,
        user_agent: &Bytes,
    ) -> Message {
        let mut response = response_to(request, self.status(), None, Some(tag));
        if let Some((code, text)) = self.warning() {
            let value = format!("{code} {agent_host} \"{text}\"");
            response
                .headers
                .push(Header::new(HeaderName::Warning, Bytes::from(value)));
        }
        if self.status() == 503 {
            response.headers.push(Header::new(
                HeaderName::RetryAfter,
                Bytes::from(RETRY_AFTER_SECS.to_string()),
            ));
        }
        stamp_agent(&mut response, user_agent);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_one_status_and_a_warning_exactly_on_488() {
        for reason in MediaRefusal::ALL {
            let status = reason.status();
            assert!(matches!(status, 488 | 500 | 503), "{reason:?}");
            assert_eq!(reason.warning().is_some(), status == 488, "{reason:?}");
            if let Some((code, text)) = reason.warning() {
                assert!((300..400).contains(&code), "{reason:?}");
                assert!(!text.contains('"'), "{reason:?}");
            }
        }
        let labels: std::collections::HashSet<_> =
            MediaRefusal::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), MediaRefusal::ALL.len());
        let shown: std::collections::HashSet<_> =
            crate::metrics::refused::REASONS.iter().copied().collect();
        assert_eq!(labels, shown, "every reason is shown at zero from start-up");
    }
}
