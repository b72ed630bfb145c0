//! The SRTP packet transforms (pure): AES counter mode with HMAC-SHA1 (RFC 3711 §4.1.1,
//! §4.2.1; AES-256 per RFC 6188) and AES-GCM (RFC 7714 §8–9), with session keys derived once
//! from the master key (RFC 3711 §4.3, key derivation rate 0).
//!
//! A [`Cipher`] holds one direction's session keys already expanded: the AES key schedule, the
//! HMAC inner and outer states (copied per packet, never re-derived) and the salts — for the
//! AES-CM suites all inside the cipher itself, for GCM behind aws-lc's one context — so a packet
//! touches a few adjacent cache lines and allocates nothing. It knows
//! nothing of rollover counters, SRTCP indexes or replay windows: the caller
//! ([`super::SrtpSender`], [`super::SrtpReceiver`]) passes the packet index and decides what a
//! verified packet may change. Verification never changes anything.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use zeroize::{Zeroize, Zeroizing};

use super::error::SrtpError;
use super::hmac_sha1::HmacSha1;
use super::key::SrtpKey;
use super::suite::SRTCP_HMAC_TAG;

/// Octets before an SRTCP packet's encrypted part (header and sender SSRC).
pub(super) const RTCP_CLEAR: usize = 8;

/// The session keys of one packet kind (SRTP or SRTCP) of one direction.
// Inline on purpose: a packet reads its keys from the cipher's own allocation, and every part
// of a cipher is the same variant, so no space is lost to the smaller one.
#[allow(clippy::large_enum_variant)]
enum Part {
    Cm {
        aes: EncryptingKey,
        salt: [u8; 14],
        /// Keyed once: each packet clones these inner and outer hash states.
        auth: HmacSha1,
    },
    Gcm {
        aead: LessSafeKey,
        salt: [u8; 12],
    },
}

impl Drop for Part {
    fn drop(&mut self) {
        // The AES key schedules wipe themselves (aws-lc-rs), aws-lc cleanses the GCM context it
        // allocated when it frees it, and `HmacSha1` wipes its pad states.
        match self {
            Part::Cm { salt, .. } => salt.zeroize(),
            Part::Gcm { salt, .. } => salt.zeroize(),
        }
    }
}

/// Where an RTP packet stands: what the transform needs besides its bytes.
#[derive(Clone, Copy, Debug)]
pub(super) struct RtpAt {
    /// Header octets (fixed header, CSRCs and extension): what stays in the clear.
    pub header: usize,
    pub ssrc: u32,
    /// The 48-bit packet index: rollover counter and sequence number (RFC 3711 §3.3.1).
    pub index: u64,
}

/// One direction's SRTP and SRTCP session keys.
pub(super) struct Cipher {
    rtp: Part,
    rtcp: Part,
    /// RTP tag octets of the HMAC suites (10 or 4).
    rtp_tag: usize,
}

impl Cipher {
    /// Derives the session keys of `key` (labels 0–2 for SRTP, 3–5 for SRTCP).
    ///
    /// # Errors
    /// [`SrtpError::Engine`] if the crypto library refuses a key (it does not for valid sizes).
    pub(super) fn new(key: &SrtpKey) -> Result<Cipher, SrtpError> {
        let master = ctr_key(key.master_key())?;
        Ok(Cipher {
            rtp: Part::derive(key, &master, 0)?,
            rtcp: Part::derive(key, &master, 3)?,
            rtp_tag: key.suite().rtp_overhead(),
        })
    }

    /// Encrypts and tags the RTP packet `plain` into `out` (cleared first).
    pub(super) fn protect_rtp(
        &self,
        plain: &[u8],
        at: RtpAt,
        out: &mut Vec<u8>,
    ) -> Result<(), SrtpError> {
        out.clear();
        out.extend_from_slice(plain);
        match &self.rtp {
            Part::Cm { aes, salt, auth } => {
                ctr(aes, cm_iv(salt, at.ssrc, at.index), &mut out[at.header..])?;
                let tag = tag_of(auth, out, Some(roc(at.index)));
                out.extend_from_slice(&tag[..self.rtp_tag]);
            }
            Part::Gcm { aead, salt } => {
                gcm(Gcm::Seal, aead, rtp_nonce(salt, at), None, out, at.header)?;
            }
        }
        Ok(())
    }

    /// Verifies the SRTP packet `packet` at `at` and, only if authentic, decrypts it into
    /// `out` (cleared first; left empty on error). The caller checked that the header and the
    /// tag fit.
    pub(super) fn unprotect_rtp(
        &self,
        packet: &[u8],
        at: RtpAt,
        out: &mut Vec<u8>,
    ) -> Result<(), SrtpError> {
        out.clear();
        match &self.rtp {
            Part::Cm { aes, salt, auth } => {
                let (body, tag) = packet.split_at(packet.len() - self.rtp_tag);
                verify(auth, body, Some(roc(at.index)), tag)?;
                out.extend_from_slice(body);
                ctr(aes, cm_iv(salt, at.ssrc, at.index), &mut out[at.header..])
            }
            Part::Gcm { aead, salt } => {
                out.extend_from_slice(packet);
                gcm(Gcm::Open, aead, rtp_nonce(salt, at), None, out, at.header)
            }
        }
    }

    /// Encrypts and tags the RTCP packet `plain` as SRTCP at.index `at.index` (E flag set) into
    /// `out` (cleared first).
    pub(super) fn protect_rtcp(
        &self,
        plain: &[u8],
        ssrc: u32,
        index: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), SrtpError> {
        out.clear();
        out.extend_from_slice(plain);
        let word = (index | 0x8000_0000).to_be_bytes();
        match &self.rtcp {
            Part::Cm { aes, salt, auth } => {
                ctr(
                    aes,
                    cm_iv(salt, ssrc, u64::from(index)),
                    &mut out[RTCP_CLEAR..],
                )?;
                out.extend_from_slice(&word);
                let tag = tag_of(auth, out, None);
                out.extend_from_slice(&tag[..SRTCP_HMAC_TAG]);
            }
            Part::Gcm { aead, salt } => {
                let nonce = rtcp_nonce(gcm_iv(salt, ssrc, 0, 0), index);
                let aad = rtcp_aad(plain, word);
                gcm(Gcm::Seal, aead, nonce, Some(aad), out, RTCP_CLEAR)?;
                out.extend_from_slice(&word);
            }
        }
        Ok(())
    }

    /// Verifies the SRTCP packet `packet` (SRTCP index `index`, E flag set, as the caller read
    /// and checked) and, only if authentic, decrypts it into `out` (cleared first; left empty
    /// on error). The caller checked that the header and the trailer fit.
    pub(super) fn unprotect_rtcp(
        &self,
        packet: &[u8],
        ssrc: u32,
        index: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), SrtpError> {
        out.clear();
        match &self.rtcp {
            Part::Cm { aes, salt, auth } => {
                let (body, tag) = packet.split_at(packet.len() - SRTCP_HMAC_TAG);
                verify(auth, body, None, tag)?;
                out.extend_from_slice(&body[..body.len() - 4]);
                ctr(
                    aes,
                    cm_iv(salt, ssrc, u64::from(index)),
                    &mut out[RTCP_CLEAR..],
                )
            }
            Part::Gcm { aead, salt } => {
                let nonce = rtcp_nonce(gcm_iv(salt, ssrc, 0, 0), index);
                let word = (index | 0x8000_0000).to_be_bytes();
                let aad = rtcp_aad(packet, word);
                out.extend_from_slice(&packet[..packet.len() - 4]);
                gcm(Gcm::Open, aead, nonce, Some(aad), out, RTCP_CLEAR)
            }
        }
    }
}

/// What [`gcm`] does.
#[derive(Clone, Copy)]
enum Gcm {
    /// Encrypt `out[clear..]` in place and append the tag.
    Seal,
    /// Verify and decrypt `out[clear..]` (ciphertext and tag) in place, leaving the clear part
    /// and the plain text; on failure `out` is left empty.
    Open,
}

/// Runs AES-GCM over `out[clear..]`; the AAD is `aad`, or else `out[..clear]`.
fn gcm(
    op: Gcm,
    aead: &LessSafeKey,
    nonce: Nonce,
    aad: Option<[u8; 12]>,
    out: &mut Vec<u8>,
    clear: usize,
) -> Result<(), SrtpError> {
    let (head, body) = out.split_at_mut(clear);
    let aad = Aad::from(match &aad {
        Some(aad) => &aad[..],
        None => &*head,
    });
    match op {
        Gcm::Seal => {
            let tag = aead
                .seal_in_place_separate_tag(nonce, aad, body)
                .map_err(|_| SrtpError::Engine)?;
            out.extend_from_slice(tag.as_ref());
            Ok(())
        }
        Gcm::Open => match aead
            .open_in_place(nonce, aad, body)
            .map(|plain| plain.len())
        {
            Ok(len) => {
                out.truncate(clear + len);
                Ok(())
            }
            Err(_) => {
                out.clear();
                Err(SrtpError::AuthFailed)
            }
        },
    }
}

impl Part {
    /// The session keys for labels `base` (encryption), `base + 1` (authentication) and
    /// `base + 2` (salt), from `master`, the key schedule of `key`'s master key.
    fn derive(key: &SrtpKey, master: &EncryptingKey, base: u8) -> Result<Part, SrtpError> {
        let suite = key.suite();
        let salt = key.master_salt();
        let mut enc = Zeroizing::new([0u8; 32]);
        let enc = &mut enc[..suite.key_len()];
        prf(master, salt, base, enc)?;
        if suite.is_gcm() {
            let mut session_salt = [0u8; 12];
            prf(master, salt, base + 2, &mut session_salt)?;
            let algorithm = if enc.len() == 16 {
                &AES_128_GCM
            } else {
                &AES_256_GCM
            };
            let aead = UnboundKey::new(algorithm, enc).map_err(|_| SrtpError::Engine)?;
            return Ok(Part::Gcm {
                aead: LessSafeKey::new(aead),
                salt: session_salt,
            });
        }
        let mut auth = Zeroizing::new([0u8; 20]);
        prf(master, salt, base + 1, &mut auth[..])?;
        let mut session_salt = [0u8; 14];
        prf(master, salt, base + 2, &mut session_salt)?;
        Ok(Part::Cm {
            aes: ctr_key(enc)?,
            salt: session_salt,
            auth: HmacSha1::new(&auth[..]),
        })
    }
}

/// An AES counter-mode key (128 or 256 bits by its length).
fn ctr_key(key: &[u8]) -> Result<EncryptingKey, SrtpError> {
    let algorithm = if key.len() == 16 { &AES_128 } else { &AES_256 };
    let key = UnboundCipherKey::new(algorithm, key).map_err(|_| SrtpError::Engine)?;
    EncryptingKey::ctr(key).map_err(|_| SrtpError::Engine)
}

/// The AES-CM PRF (RFC 3711 §4.3.3, rate 0): `out.len()` octets for `label`. The master salt
/// (14 octets, or GCM's 12) starts the IV, the label is XORed into its eighth octet.
fn prf(master: &EncryptingKey, salt: &[u8], label: u8, out: &mut [u8]) -> Result<(), SrtpError> {
    let mut iv = [0u8; 16];
    iv[..salt.len()].copy_from_slice(salt);
    iv[7] ^= label;
    out.fill(0);
    ctr(master, iv, out)
}

/// XORs the AES-CTR keystream starting at counter block `iv` into `data`.
fn ctr(key: &EncryptingKey, iv: [u8; 16], data: &mut [u8]) -> Result<(), SrtpError> {
    key.less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(iv)))
        .map(|_| ())
        .map_err(|_| SrtpError::Engine)
}

/// RFC 3711 §4.1.1: IV = salt·2^16 ⊕ SSRC·2^64 ⊕ index·2^16.
fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    for (v, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *v ^= s;
    }
    for (v, i) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *v ^= i;
    }
    iv
}

/// RFC 7714 §8.1: IV = (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) ⊕ salt.
fn gcm_iv(salt: &[u8; 12], ssrc: u32, roc: u32, seq: u16) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[6..10].copy_from_slice(&roc.to_be_bytes());
    iv[10..12].copy_from_slice(&seq.to_be_bytes());
    for (v, s) in iv.iter_mut().zip(salt) {
        *v ^= s;
    }
    iv
}

/// The GCM nonce of an SRTP packet.
fn rtp_nonce(salt: &[u8; 12], at: RtpAt) -> Nonce {
    Nonce::assume_unique_for_key(gcm_iv(salt, at.ssrc, roc(at.index), at.index as u16))
}

/// RFC 7714 §9.1: the SRTCP IV is (0x0000 ‖ SSRC ‖ 0x0000 ‖ 0 ‖ index) ⊕ salt; `iv` already
/// holds the SSRC and salt part.
fn rtcp_nonce(mut iv: [u8; 12], index: u32) -> Nonce {
    for (v, i) in iv[8..12].iter_mut().zip(index.to_be_bytes()) {
        *v ^= i;
    }
    Nonce::assume_unique_for_key(iv)
}

/// RFC 7714 §9.2: the SRTCP AAD is the first 8 octets and the E‖index word.
fn rtcp_aad(packet: &[u8], word: [u8; 4]) -> [u8; 12] {
    let mut aad = [0u8; 12];
    aad[..RTCP_CLEAR].copy_from_slice(&packet[..RTCP_CLEAR]);
    aad[RTCP_CLEAR..].copy_from_slice(&word);
    aad
}

/// The rollover counter of a 48-bit packet index.
fn roc(index: u64) -> u32 {
    (index >> 16) as u32
}

/// HMAC-SHA1 of `body` followed by the ROC (SRTP) or nothing (SRTCP).
fn tag_of(auth: &HmacSha1, body: &[u8], roc: Option<u32>) -> [u8; 20] {
    match roc {
        Some(roc) => auth.tag(&[body, &roc.to_be_bytes()]),
        None => auth.tag(&[body]),
    }
}

/// Checks a truncated HMAC-SHA1 tag in constant time.
fn verify(auth: &HmacSha1, body: &[u8], roc: Option<u32>, tag: &[u8]) -> Result<(), SrtpError> {
    let expected = tag_of(auth, body, roc);
    aws_lc_rs::constant_time::verify_slices_are_equal(&expected[..tag.len()], tag)
        .map_err(|_| SrtpError::AuthFailed)
}

#[cfg(test)]
#[path = "cipher_tests.rs"]
mod tests;
