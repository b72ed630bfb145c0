//! One direction of an SRTP leg (pure): [`SrtpSender`] protects what the SBC sends,
//! [`SrtpReceiver`] unprotects what it receives. Both keep the per-SSRC state of RFC 3711 and
//! leave the packet transform to [`Cipher`]:
//!
//! - **Authentication first.** A received packet is only checked for length, header shape and
//!   (SRTCP) the E flag before its tag is verified; the replay window and the SSRC table change
//!   only after it verified, so a forged packet never moves any state and is never counted as a
//!   replay.
//! - **Replay protection always on**, in [`super::replay`]: a 128-packet window per SSRC, which
//!   also gives the rollover counter a received packet is verified with (RFC 3711 §3.3.1).
//! - **Bounded state.** A direction admits at most [`MAX_SSRCS`] SSRCs; only an authentic
//!   packet can add one.
//! - **SRTCP is always encrypted.** An SRTCP packet with the E flag clear is refused before its
//!   tag is checked: `UNENCRYPTED_SRTCP` is never negotiated.
//!
//! Each packet is transformed into the caller's `out` buffer with no allocation once `out` has
//! grown to a packet's size. `cargo bench --bench srtp` measures the cost per 172-byte G.711
//! packet for every suite against a plain copy.

use super::cipher::{Cipher, RTCP_CLEAR, RtpAt};
use super::error::SrtpError;
use super::key::SrtpKey;
use super::replay::ReplayWindow;

/// Most SSRCs one direction of a leg admits (each is a few dozen bytes of state).
pub const MAX_SSRCS: usize = 32;

const RTP_HEADER: usize = 12;

/// The highest SRTCP index (31 bits, RFC 3711 §3.4).
const MAX_SRTCP_INDEX: u32 = 0x7fff_ffff;
/// The highest SRTP packet index (48 bits, RFC 3711 §9.2).
const MAX_SRTP_INDEX: u64 = (1 << 48) - 1;

/// An RTP packet's fields the transform needs.
#[derive(Clone, Copy)]
struct RtpFields {
    ssrc: u32,
    seq: u16,
    /// Header octets (fixed header, CSRCs and extension): what stays in the clear.
    header: usize,
}

impl RtpFields {
    fn at(self, index: u64) -> RtpAt {
        RtpAt {
            header: self.header,
            ssrc: self.ssrc,
            index,
        }
    }
}

/// The fields of `packet` after checking that its header plus `trailer` bytes fit.
fn rtp_fields(packet: &[u8], trailer: usize) -> Result<RtpFields, SrtpError> {
    if packet.len() < RTP_HEADER + trailer {
        return Err(SrtpError::TooShort);
    }
    if packet[0] >> 6 != 2 {
        return Err(SrtpError::Malformed);
    }
    let mut header = RTP_HEADER + 4 * usize::from(packet[0] & 0x0f);
    if packet[0] & 0x10 != 0 {
        let words = packet
            .get(header + 2..header + 4)
            .ok_or(SrtpError::Malformed)?;
        header += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if header + trailer > packet.len() {
        return Err(SrtpError::Malformed);
    }
    Ok(RtpFields {
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
        seq: u16::from_be_bytes([packet[2], packet[3]]),
        header,
    })
}

/// Sender SSRC after checking that an RTCP header plus `trailer` bytes fit.
fn rtcp_ssrc(packet: &[u8], trailer: usize) -> Result<u32, SrtpError> {
    if packet.len() < RTCP_CLEAR + trailer {
        return Err(SrtpError::TooShort);
    }
    if packet[0] >> 6 != 2 {
        return Err(SrtpError::Malformed);
    }
    Ok(u32::from_be_bytes([
        packet[4], packet[5], packet[6], packet[7],
    ]))
}

/// The slot of `ssrc` in `table`, adding it with `fresh` unless the table is full.
fn slot<T>(
    table: &mut Vec<(u32, T)>,
    ssrc: u32,
    fresh: impl FnOnce() -> T,
) -> Result<usize, SrtpError> {
    if let Some(at) = table.iter().position(|(known, _)| *known == ssrc) {
        return Ok(at);
    }
    if table.len() >= MAX_SSRCS {
        return Err(SrtpError::TooManySsrcs);
    }
    table.push((ssrc, fresh()));
    Ok(table.len() - 1)
}

/// Protects outgoing RTP and RTCP with the SBC's own key for this leg.
pub struct SrtpSender {
    key: SrtpKey,
    cipher: Cipher,
    /// Highest SRTP packet index sent per SSRC.
    rtp: Vec<(u32, u64)>,
    /// Last SRTCP index sent per SSRC.
    rtcp: Vec<(u32, u32)>,
}

impl SrtpSender {
    /// A sender keyed with `key` (the key of the SBC's own `a=crypto` line).
    ///
    /// # Errors
    /// [`SrtpError::Engine`] if the crypto library refuses the key.
    pub fn new(key: &SrtpKey) -> Result<SrtpSender, SrtpError> {
        Ok(SrtpSender {
            key: key.clone(),
            cipher: Cipher::new(key)?,
            rtp: Vec::new(),
            rtcp: Vec::new(),
        })
    }

    /// The key this sender protects with.
    pub fn key(&self) -> &SrtpKey {
        &self.key
    }

    /// Protects the RTP packet `plain` into `out` (cleared first; grows by
    /// [`super::CryptoSuite::rtp_overhead`]).
    ///
    /// The packet index continues the highest one sent for its SSRC, so packets the relay
    /// forwards out of order or across a sequence wrap keep their rollover counter (RFC 3711
    /// §3.3.1); the first packet of an SSRC has rollover counter 0.
    ///
    /// # Errors
    /// [`SrtpError::TooShort`], [`SrtpError::Malformed`], [`SrtpError::TooManySsrcs`],
    /// [`SrtpError::Engine`] (also when 2^48 packets were sent with the key).
    pub fn protect_rtp(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        out.clear();
        let fields = rtp_fields(plain, 0)?;
        let at = slot(&mut self.rtp, fields.ssrc, || u64::from(fields.seq))?;
        let highest = &mut self.rtp[at].1;
        let index = ReplayWindow::starting_at(*highest)
            .estimate_rtp_index(fields.seq)
            .unwrap_or(u64::from(fields.seq));
        if index > MAX_SRTP_INDEX {
            return Err(SrtpError::Engine);
        }
        self.cipher.protect_rtp(plain, fields.at(index), out)?;
        *highest = (*highest).max(index);
        Ok(())
    }

    /// Protects the (compound) RTCP packet `plain` into `out` (cleared first; grows by
    /// [`super::CryptoSuite::rtcp_overhead`]). The SRTCP index counts from 1 per SSRC.
    ///
    /// # Errors
    /// As [`SrtpSender::protect_rtp`] ([`SrtpError::Engine`] after 2^31 packets).
    pub fn protect_rtcp(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        out.clear();
        let ssrc = rtcp_ssrc(plain, 0)?;
        let at = slot(&mut self.rtcp, ssrc, || 0)?;
        let index = self.rtcp[at].1 + 1;
        if index > MAX_SRTCP_INDEX {
            return Err(SrtpError::Engine);
        }
        self.cipher.protect_rtcp(plain, ssrc, index, out)?;
        self.rtcp[at].1 = index;
        Ok(())
    }
}

/// Unprotects incoming SRTP and SRTCP with the peer's key for this leg.
pub struct SrtpReceiver {
    key: SrtpKey,
    cipher: Cipher,
    rtp: Vec<(u32, ReplayWindow)>,
    rtcp: Vec<(u32, ReplayWindow)>,
}

impl SrtpReceiver {
    /// A receiver keyed with `key` (the key of the peer's `a=crypto` line).
    ///
    /// # Errors
    /// [`SrtpError::Engine`] if the crypto library refuses the key.
    pub fn new(key: &SrtpKey) -> Result<SrtpReceiver, SrtpError> {
        Ok(SrtpReceiver {
            key: key.clone(),
            cipher: Cipher::new(key)?,
            rtp: Vec::new(),
            rtcp: Vec::new(),
        })
    }

    /// The key this receiver verifies and decrypts with.
    pub fn key(&self) -> &SrtpKey {
        &self.key
    }

    /// Verifies and decrypts the SRTP packet `packet` into `out` (cleared first; left empty on
    /// error). Only an `Ok` packet may be latched onto or forwarded.
    ///
    /// A known SSRC's packet is verified with the rollover counter its replay window estimates
    /// (RFC 3711 §3.3.1); the first packet of an SSRC with rollover counter 0.
    ///
    /// # Errors
    /// [`SrtpError::TooShort`], [`SrtpError::Malformed`], [`SrtpError::AuthFailed`],
    /// [`SrtpError::Replay`], [`SrtpError::TooManySsrcs`].
    pub fn unprotect_rtp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        out.clear();
        let fields = rtp_fields(packet, self.key.suite().rtp_overhead())?;
        let known = self.rtp.iter().position(|(ssrc, _)| *ssrc == fields.ssrc);
        let index = match known {
            // Where the estimate falls before index 0 (a jump of more than 2^15 early in a
            // stream), the only rollover counter the packet can have is 0.
            Some(at) => self.rtp[at]
                .1
                .estimate_rtp_index(fields.seq)
                .unwrap_or(u64::from(fields.seq)),
            None if self.rtp.len() >= MAX_SSRCS => return Err(SrtpError::TooManySsrcs),
            None => u64::from(fields.seq),
        };
        self.cipher.unprotect_rtp(packet, fields.at(index), out)?;
        record(&mut self.rtp, known, fields.ssrc, index, out)
    }

    /// Verifies and decrypts the SRTCP packet `packet` into `out` (cleared first; left empty on
    /// error).
    ///
    /// # Errors
    /// As [`SrtpReceiver::unprotect_rtp`]; an SRTCP packet with the E flag clear is
    /// [`SrtpError::AuthFailed`].
    pub fn unprotect_rtcp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        out.clear();
        let suite = self.key.suite();
        let ssrc = rtcp_ssrc(packet, suite.rtcp_overhead())?;
        // The E flag and 31-bit SRTCP index sit after the payload (and after the GCM tag),
        // before the HMAC tag (RFC 3711 §3.4, RFC 7714 §17).
        let at = packet.len() - suite.rtcp_trailing_tag() - 4;
        let word = u32::from_be_bytes([packet[at], packet[at + 1], packet[at + 2], packet[at + 3]]);
        if word & 0x8000_0000 == 0 {
            return Err(SrtpError::AuthFailed);
        }
        let index = word & MAX_SRTCP_INDEX;
        let known = self.rtcp.iter().position(|(known, _)| *known == ssrc);
        if known.is_none() && self.rtcp.len() >= MAX_SSRCS {
            return Err(SrtpError::TooManySsrcs);
        }
        self.cipher.unprotect_rtcp(packet, ssrc, index, out)?;
        record(&mut self.rtcp, known, ssrc, u64::from(index), out)
    }
}

/// Records the verified packet `index` of `ssrc` (at `known` in `table`, or a new SSRC, for
/// which the caller checked there is room); a replay empties `out` and is refused.
fn record(
    table: &mut Vec<(u32, ReplayWindow)>,
    known: Option<usize>,
    ssrc: u32,
    index: u64,
    out: &mut Vec<u8>,
) -> Result<(), SrtpError> {
    let fresh = match known {
        Some(at) => table[at].1.accept(index),
        None => {
            table.push((ssrc, ReplayWindow::starting_at(index)));
            true
        }
    };
    if !fresh {
        out.clear();
        return Err(SrtpError::Replay);
    }
    Ok(())
}
