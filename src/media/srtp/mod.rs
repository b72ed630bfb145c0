//! SRTP (RFC 3711) with SDES keys (RFC 4568) for the media relay, pure (sans-IO): no sockets,
//! no clock, no locks.
//!
//! The SBC interworks SRTP and RTP per call leg: on a leg whose SDP agreed SRTP, the relay
//! calls `unprotect_*` on every packet it receives there and `protect_*` on every packet it
//! sends there; on an RTP leg it does neither.
//!
//! | piece | what it does |
//! |---|---|
//! | [`CryptoSuite`] | `AES_CM_128_HMAC_SHA1_80/32`, `AES_256_CM_HMAC_SHA1_80/32`, `AEAD_AES_128_GCM`, `AEAD_AES_256_GCM` |
//! | [`CryptoAttribute`] | parse/print an `a=crypto` value; MKI, several keys and transform-changing session parameters are refused ([`SdesError`]) |
//! | [`SrtpKey`] | master key + salt: wiped on drop, `Debug` redacted, constant-time [`SrtpKey::same_as`] |
//! | [`answer_offer`], [`make_offer`], [`accept_answer`], [`answer_reoffer`] | SDES offer/answer with fresh keys from the OS CSPRNG (a re-offer keeps ours) |
//! | [`decide_offer`], [`decide_answer`], [`offer_shape`] | the leg's [`SrtpMode`] as pure decisions (RTP, SRTP or 488) |
//! | [`SrtpSession`] ([`SrtpSender`] + [`SrtpReceiver`]) | the per-leg contexts behind [`SrtpTransform`] |
//!
//! Guarantees of the packet path (details in `stream.rs`): a received packet's tag is verified
//! before any state changes; replay protection is always on (128-packet window per SSRC);
//! errors say why a packet was dropped ([`SrtpError::reason`] is the metric label); state per
//! direction is bounded ([`MAX_SSRCS`]). Keys never reach a log: no type here prints them.
//!
//! The packet transforms are in `cipher.rs`, on aws-lc-rs (AES counter mode, AES-GCM) and an
//! HMAC-SHA1 over the `sha1` crate's compression function (`hmac_sha1.rs`), with every session key derived once per direction; the tests
//! check them against published vectors and, packet for packet, against `rtc-srtp`, an
//! independent implementation. MKI is not supported, hence MKI-less answers;
//! [`SrtpSession::rekey`] keeps a direction's state (rollover counter, replay window) when a
//! re-INVITE repeats its key.
//!
//! # Example
//!
//! ```
//! use sbc::media::srtp::{
//!     CryptoSuite, SrtpDecision, SrtpMode, SrtpSession, SrtpTransform, answer_offer, decide_offer,
//! };
//!
//! // The phone's offer carried this crypto line (the value after `a=crypto:`).
//! let offered = b"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
//! let answer = answer_offer([&offered[..]], &CryptoSuite::ALL).unwrap();
//! let decision = decide_offer(SrtpMode::Mandatory, true, answer.is_some());
//! assert_eq!(decision, SrtpDecision::Srtp);
//! let (negotiated, line) = answer.unwrap();
//! // `line.to_sdp_value()` goes into our answer as `a=crypto:…` (never into a log).
//! assert!(line.to_sdp_value().starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"));
//!
//! // The relay keeps one session per SRTP leg and reuses its buffers.
//! let mut leg = SrtpSession::new(&negotiated.local, &negotiated.remote).unwrap();
//! let rtp = [0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0xca, 0xfe, 0xba, 0xbe, 0xd5, 0xd5];
//! let mut wire = Vec::with_capacity(1500);
//! leg.protect_rtp(&rtp, &mut wire).unwrap(); // before sending on the SRTP leg
//! assert_eq!(wire.len(), rtp.len() + 10);
//!
//! // Arriving packets are unprotected; an error means drop it and count `err.reason()`.
//! let mut plain = Vec::with_capacity(1500);
//! let err = leg.unprotect_rtp(&wire, &mut plain).unwrap_err(); // not the peer's key
//! assert_eq!(err.reason(), "auth_failed");
//! ```

mod cipher;
mod error;
mod hmac_sha1;
mod key;
mod negotiate;
mod replay;
mod sdes;
mod session;
mod stream;
mod suite;

#[cfg(test)]
mod cross_tests;
#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod vector_tests;

pub use error::SrtpError;
pub use key::{KeyError, SrtpKey};
pub use negotiate::{
    AnswerError, Negotiated, SrtpDecision, SrtpMode, accept_answer, answer_offer, answer_reoffer,
    decide_answer, decide_offer, make_offer, offer_shape,
};
pub use replay::REPLAY_WINDOW;
pub use sdes::{
    CryptoAttribute, MAX_ATTRIBUTE_LEN, MAX_LIFETIME, MAX_TAG, SdesError, SessionParam,
};
pub use session::{Rekeyed, SrtpSession};
pub use stream::{MAX_SSRCS, SrtpReceiver, SrtpSender};
pub use suite::CryptoSuite;

/// The packet operations of an SRTP leg, as the relay uses them.
///
/// Every method writes the resulting packet into `out`, which it clears first and leaves empty
/// on error; reusing `out` across packets avoids allocating in this layer.
pub trait SrtpTransform: Send {
    /// Protects an RTP packet before it is sent on the SRTP leg.
    ///
    /// # Errors
    /// See [`SrtpError`].
    fn protect_rtp(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError>;

    /// Verifies and decrypts an SRTP packet received on the SRTP leg; only on `Ok` may the
    /// packet be latched onto or forwarded.
    ///
    /// # Errors
    /// See [`SrtpError`].
    fn unprotect_rtp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError>;

    /// Protects an RTCP packet before it is sent on the SRTP leg.
    ///
    /// # Errors
    /// See [`SrtpError`].
    fn protect_rtcp(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError>;

    /// Verifies and decrypts an SRTCP packet received on the SRTP leg.
    ///
    /// # Errors
    /// See [`SrtpError`].
    fn unprotect_rtcp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError>;

    /// Applies the keys of a new offer/answer exchange in place, keeping each direction whose
    /// key did not change (its rollover counter, index and replay window continue). On error
    /// nothing changed.
    ///
    /// # Errors
    /// See [`SrtpError`].
    fn rekey(&mut self, local: &SrtpKey, remote: &SrtpKey) -> Result<Rekeyed, SrtpError>;
}
