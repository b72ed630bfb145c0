//! The SBC's SRTP against `rtc-srtp`, an independent implementation (webrtc-rs): for every
//! suite, arbitrary RTP packets (CSRCs, header extensions, any payload size, sequence numbers
//! that wrap) and RTCP packets protected by one side are unprotected by the other to the same
//! bytes, and both sides produce the same protected bytes.

use proptest::prelude::*;
use rtc_srtp::context::Context;
use rtc_srtp::crypto::providers::AwsLcRsCrypto;
use rtc_srtp::protection_profile::ProtectionProfile;

use super::{CryptoSuite, SrtpKey, SrtpReceiver, SrtpSender};

fn profile(suite: CryptoSuite) -> ProtectionProfile {
    match suite {
        CryptoSuite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
        CryptoSuite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        CryptoSuite::Aes256CmHmacSha1_80 => ProtectionProfile::Aes256CmHmacSha1_80,
        CryptoSuite::Aes256CmHmacSha1_32 => ProtectionProfile::Aes256CmHmacSha1_32,
        CryptoSuite::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
        CryptoSuite::AeadAes256Gcm => ProtectionProfile::AeadAes256Gcm,
    }
}

fn reference(key: &SrtpKey) -> Context {
    Context::new(
        key.master_key(),
        key.master_salt(),
        profile(key.suite()),
        None,
        None,
        &AwsLcRsCrypto,
    )
    .unwrap()
}

/// An RTP packet: `csrcs` CSRCs, an optional extension of `ext` words, `payload` bytes.
fn rtp(seq: u16, ssrc: u32, csrcs: u8, ext: Option<u8>, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80 | csrcs | if ext.is_some() { 0x10 } else { 0 }, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    for c in 0..u32::from(csrcs) {
        p.extend_from_slice(&(0x1000 + c).to_be_bytes());
    }
    if let Some(words) = ext {
        p.extend_from_slice(&[0xbe, 0xde]);
        p.extend_from_slice(&u16::from(words).to_be_bytes());
        // One-byte-header elements (RFC 8285) of three data bytes, one per word: the
        // reference computes the header length from the elements it parses.
        for word in 0..words {
            p.extend_from_slice(&[((word + 1) << 4) | 2, word, 0xaa, 0x55]);
        }
    }
    p.extend_from_slice(payload);
    p
}

/// A receiver report of `ssrc` with `extra` bytes of further compound packets.
fn rtcp(ssrc: u32, extra: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 201, 0x00, 0x01];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(extra);
    p
}

fn suite() -> impl Strategy<Value = CryptoSuite> {
    proptest::sample::select(CryptoSuite::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rtp_agrees_with_the_reference_both_ways_across_a_wrap(
        suite in suite(),
        start in 0xff00u16..=0xffff,
        ssrc in any::<u32>(),
        csrcs in 0u8..4,
        ext in proptest::option::of(0u8..4),
        payload in proptest::collection::vec(any::<u8>(), 0..400),
        steps in proptest::collection::vec(1u16..40, 1..12),
    ) {
        let key = SrtpKey::generate(suite).unwrap();
        let (mut ours_out, mut ours_in) = (SrtpSender::new(&key).unwrap(), SrtpReceiver::new(&key).unwrap());
        let (mut theirs_out, mut theirs_in) = (reference(&key), reference(&key));
        let mut seq = start;
        let mut wire = Vec::new();
        let mut plain = Vec::new();
        for step in steps {
            let packet = rtp(seq, ssrc, csrcs, ext, &payload);
            ours_out.protect_rtp(&packet, &mut wire).unwrap();
            let theirs = theirs_out.encrypt_rtp(&packet).unwrap();
            prop_assert_eq!(&wire[..], &theirs[..], "same protected bytes at seq {}", seq);
            prop_assert_eq!(&theirs_in.decrypt_rtp(&wire).unwrap()[..], &packet[..]);
            ours_in.unprotect_rtp(&theirs, &mut plain).unwrap();
            prop_assert_eq!(&plain, &packet);
            seq = seq.wrapping_add(step);
        }
    }

    #[test]
    fn rtcp_agrees_with_the_reference_both_ways(
        suite in suite(),
        ssrc in any::<u32>(),
        extra in proptest::collection::vec(any::<u8>(), 0..200),
        count in 1usize..6,
    ) {
        let key = SrtpKey::generate(suite).unwrap();
        let (mut ours_out, mut ours_in) = (SrtpSender::new(&key).unwrap(), SrtpReceiver::new(&key).unwrap());
        let (mut theirs_out, mut theirs_in) = (reference(&key), reference(&key));
        let packet = rtcp(ssrc, &extra);
        let mut wire = Vec::new();
        let mut plain = Vec::new();
        for _ in 0..count {
            ours_out.protect_rtcp(&packet, &mut wire).unwrap();
            let theirs = theirs_out.encrypt_rtcp(&packet).unwrap();
            prop_assert_eq!(&wire[..], &theirs[..], "same protected bytes");
            prop_assert_eq!(&theirs_in.decrypt_rtcp(&wire).unwrap()[..], &packet[..]);
            ours_in.unprotect_rtcp(&theirs, &mut plain).unwrap();
            prop_assert_eq!(&plain, &packet);
        }
    }
}

/// A stream whose sequence number jumps by more than 2^15 right after it started (a sender
/// that skipped ahead) is authentic with rollover counter 0, and is accepted.
#[test]
fn an_early_jump_beyond_half_the_sequence_space_is_accepted() {
    let key = SrtpKey::generate(CryptoSuite::AesCm128HmacSha1_80).unwrap();
    let mut theirs = reference(&key);
    let mut receiver = SrtpReceiver::new(&key).unwrap();
    let mut plain = Vec::new();
    for seq in [1u16, 0x9000, 0x9001] {
        let packet = rtp(seq, 7, 0, None, &[0xd5; 160]);
        let wire = theirs.encrypt_rtp(&packet).unwrap();
        receiver.unprotect_rtp(&wire, &mut plain).unwrap();
        assert_eq!(plain, packet, "seq {seq:#x}");
    }
}
