//! SDP for media anchoring (pure, sans-IO): a line-preserving parser, typed views of what the
//! media layer needs, and a per-leg offer/answer rewriter. RFC 4566 (SDP), RFC 3264
//! (offer/answer: §5 origin, §6 rejected streams, §8 modification and §8.4 hold), RFC 3605
//! (`a=rtcp`), RFC 5761 (`a=rtcp-mux`), RFC 4568 (`a=crypto`), RFC 8839 (ICE attributes).
//!
//! # Parsing
//!
//! [`Sdp::parse`] takes the body as [`bytes::Bytes`] and keeps every line as a zero-copy slice,
//! exactly as written, split into session-level lines and [`MediaSection`]s (`m=` blocks). It is
//! tolerant where deployed phones are sloppy (LF-only line ends, trailing whitespace, lines out
//! of order, vendor attributes and lines, missing optional lines) and refuses, with an
//! [`SdpError`], only what makes the body unusable: no `v=`, a malformed `m=` or `c=` line (both
//! must be rewritten), or more lines / media sections than [`SdpLimits`] allows. It never
//! panics, whatever the input.
//!
//! # Reading a media section
//!
//! [`MediaSection`] answers: [`media_type`](MediaSection::media_type),
//! [`port`](MediaSection::port) and [`port_count`](MediaSection::port_count),
//! [`proto`](MediaSection::proto) ([`Proto`]), [`formats`](MediaSection::formats), the
//! effective [`connection`](MediaSection::connection) (media-level `c=` over session-level;
//! IPv4 or IPv6) and [`is_zero_address_hold`](MediaSection::is_zero_address_hold),
//! [`direction`](MediaSection::direction) (session-level default) and
//! [`effective_direction`](MediaSection::effective_direction) (with RFC 2543 hold folded in),
//! [`rtcp`](MediaSection::rtcp), [`rtcp_mux`](MediaSection::rtcp_mux),
//! [`crypto`](MediaSection::crypto) (raw values for the SRTP layer — they carry keys, never log
//! them), [`has_ice`](MediaSection::has_ice), [`ptime`](MediaSection::ptime),
//! [`rtpmap`](MediaSection::rtpmap), and any attribute by name.
//!
//! # Rewriting toward a leg
//!
//! The media layer builds a [`RewritePlan`] — the relay address, whether to strip ICE, and one
//! [`MediaPlan`] per `m=` line (port, [`RtcpPlan`], [`MuxPlan`], [`ProfilePlan`],
//! [`CryptoPlan`]) — and calls [`Sdp::rewrite`] with the leg's [`OriginState`]. Lines the plan
//! does not touch are copied byte-exact; the output uses CRLF. The `o=` version of a leg moves
//! only when what that leg receives changes (RFC 3264 §8). An RFC 2543 hold (`c=IN IP4
//! 0.0.0.0`) reaches the other leg as the relay address plus `a=sendonly` (or `a=inactive`):
//! see [`rewrite`] for the reasons and the full list of changes.
//!
//! ```
//! use bytes::Bytes;
//! use sbc::sdp::{CryptoPlan, MediaPlan, OriginState, ProfilePlan, RewritePlan, Sdp, SdpLimits};
//!
//! let offer = Bytes::from_static(b"v=0\no=alice 1 1 IN IP4 10.0.0.5\ns=call\n\
//!     c=IN IP4 10.0.0.5\nt=0 0\nm=audio 4000 RTP/SAVP 0 101\na=rtpmap:101 telephone-event/8000\n\
//!     a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\n");
//! let sdp = Sdp::parse(offer, &SdpLimits::DEFAULT)?;
//! let audio = &sdp.media()[0];
//! assert_eq!(audio.port(), 4000);
//! assert_eq!(audio.connection().and_then(|c| c.ip()), Some("10.0.0.5".parse()?));
//! assert_eq!(audio.crypto().count(), 1);
//!
//! // Toward the PBX: plain RTP on the relay's core-side address and port.
//! let mut origin = OriginState::new("sbc", 4711, 1)?;
//! let plan = RewritePlan {
//!     address: "192.0.2.1".parse()?,
//!     strip_ice: true,
//!     media: vec![MediaPlan {
//!         profile: ProfilePlan::Rtp,
//!         crypto: CryptoPlan::Replace(vec![]),
//!         ..MediaPlan::new(30000)
//!     }],
//! };
//! let out = sdp.rewrite(&plan, &mut origin)?;
//! assert_eq!(
//!     out,
//!     "v=0\r\no=sbc 4711 1 IN IP4 192.0.2.1\r\ns=call\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//!      m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
//! );
//! // The same description again (a refresh) keeps the version; a change increments it.
//! sdp.rewrite(&plan, &mut origin)?;
//! assert_eq!(origin.version(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod attr;
pub mod error;
pub mod fields;
pub mod line;
pub mod origin;
pub mod parse;
pub mod reject;
pub mod rewrite;
mod view;

pub use attr::{Direction, ICE_ATTRIBUTES, Rtcp, Rtpmap};
pub use error::{RewriteError, SdpError};
pub use fields::{AddrType, Connection, ConnectionAddress, MediaLine, MediaType, Origin, Proto};
pub use line::Line;
pub use origin::OriginState;
pub use parse::{MediaSection, Sdp, SdpLimits};
pub use reject::reject_all;
pub use rewrite::{CryptoPlan, MediaPlan, MuxPlan, ProfilePlan, RewritePlan, RtcpPlan};

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod test_support;
