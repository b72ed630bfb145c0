//! The engine, through [`SrtpSender`]/[`SrtpReceiver`], against published vectors: libsrtp's
//! AES_CM_128_HMAC_SHA1_80 SRTP and SRTCP packets (master key of RFC 3711 B.3), and — since the
//! engine takes only master keys — byte-for-byte agreement with the reference transform of
//! `oracle_tests.rs`, which itself reproduces RFC 3711 B.2/B.3 and RFC 7714 §16–17.

use super::oracle_tests::{
    SessionKeys, hex, protect_rtcp_cm, protect_rtcp_gcm, protect_rtp_cm, protect_rtp_gcm,
};
use super::{CryptoSuite, SrtpKey, SrtpReceiver, SrtpSender};

const LIBSRTP_MASTER: &str = "E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6";

fn key(suite: CryptoSuite, hex_key_salt: &str) -> SrtpKey {
    SrtpKey::from_bytes(suite, &hex(hex_key_salt)).unwrap()
}

/// The first SRTP and SRTCP packets of a fresh sender are `srtp` and `srtcp`; a fresh receiver
/// turns them back into `rtp` and `rtcp`.
fn check_known_packets(master: &SrtpKey, [rtp, srtp, rtcp, srtcp]: [&[u8]; 4]) {
    let mut sender = SrtpSender::new(master).unwrap();
    let mut out = Vec::new();
    sender.protect_rtp(rtp, &mut out).unwrap();
    assert_eq!(out, srtp);
    sender.protect_rtcp(rtcp, &mut out).unwrap();
    assert_eq!(out, srtcp);

    let mut receiver = SrtpReceiver::new(master).unwrap();
    receiver.unprotect_rtp(srtp, &mut out).unwrap();
    assert_eq!(out, rtp);
    receiver.unprotect_rtcp(srtcp, &mut out).unwrap();
    assert_eq!(out, rtcp);
}

/// libsrtp `srtp_validate()`: SSRC 0xcafebabe, sequence 0x1234, ROC 0; SRTCP index 1.
#[test]
fn libsrtp_aes_cm_128_hmac_sha1_80_vectors() {
    let master = key(CryptoSuite::AesCm128HmacSha1_80, LIBSRTP_MASTER);
    let rtp = hex("800f1234 decafbad cafebabe abababab abababab abababab abababab");
    let srtp = hex(
        "800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402
        b78d6acc 99ea179b 8dbb",
    );
    let rtcp = hex("81c8000b cafebabe abababab abababab abababab abababab");
    let srtcp = hex(
        "81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001
        993e08cd 54d6c123 0798",
    );

    check_known_packets(&master, [&rtp, &srtp, &rtcp, &srtcp]);
}

/// libsrtp `srtp_validate_gcm()`: AEAD_AES_128_GCM with master key 0001…0f, master salt
/// a0a1…ab (this checks the engine's key derivation from a 12-byte GCM master salt).
#[test]
fn libsrtp_aead_aes_128_gcm_vectors() {
    let master = key(
        CryptoSuite::AeadAes128Gcm,
        "000102030405060708090a0b0c0d0e0f a0a1a2a3a4a5a6a7a8a9aaab",
    );
    let rtp = hex("800f1234 decafbad cafebabe abababab abababab abababab abababab");
    let srtp = hex(
        "800f1234 decafbad cafebabe c5002ede 04cfdd2e b91159e0 880aa06e
        d2976826 f796b201 df3131a1 27e8a392",
    );
    let rtcp = hex("81c8000b cafebabe abababab abababab abababab abababab");
    let srtcp = hex(
        "81c8000b cafebabe c98b8b5d f0392a55 852b6c21 ac8e7025 c52c6fbe
        a2b3b446 ea31123b a88ce61e 80000001",
    );

    check_known_packets(&master, [&rtp, &srtp, &rtcp, &srtcp]);
}

/// A G.711 packet: 12-byte header, 160 bytes of payload.
pub(super) fn g711(ssrc: u32, seq: u16) -> Vec<u8> {
    let mut packet = vec![0x80, 0x00];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    packet.extend_from_slice(&ssrc.to_be_bytes());
    packet.extend((0..160u32).map(|i| (i * 7 + u32::from(seq)) as u8));
    packet
}

/// An RTCP receiver report with one report block (32 bytes).
pub(super) fn receiver_report(ssrc: u32) -> Vec<u8> {
    let mut packet = hex("81c90007");
    packet.extend_from_slice(&ssrc.to_be_bytes());
    packet.extend_from_slice(&hex(
        "11223344 00000001 00001234 00000010 00000000 00000000",
    ));
    packet
}

/// Every suite: the engine's SRTP and SRTCP packets equal the reference transform's for the
/// same master key, across a sequence-number wrap (ROC 0 → 1); the engine's receiver accepts
/// the reference's packets.
#[test]
fn engine_matches_the_reference_transform_for_every_suite() {
    for suite in CryptoSuite::ALL {
        let master = SrtpKey::generate(suite).unwrap();
        let gcm = matches!(
            suite,
            CryptoSuite::AeadAes128Gcm | CryptoSuite::AeadAes256Gcm
        );
        let rtp_keys = SessionKeys::derive(master.master_key(), master.master_salt(), false, gcm);
        let rtcp_keys = SessionKeys::derive(master.master_key(), master.master_salt(), true, gcm);
        let mut sender = SrtpSender::new(&master).unwrap();
        let mut receiver = SrtpReceiver::new(&master).unwrap();
        let (mut wire, mut plain) = (Vec::new(), Vec::new());
        let ssrc = 0x1122_3344;
        for (n, seq) in [0xfffdu16, 0xfffe, 0xffff, 0, 1, 2].into_iter().enumerate() {
            let roc = u32::from(n >= 3);
            let packet = g711(ssrc, seq);
            let reference = if gcm {
                protect_rtp_gcm(&rtp_keys.enc, &rtp_keys.salt, &packet, roc)
            } else {
                protect_rtp_cm(&rtp_keys, suite.rtp_overhead(), &packet, roc)
            };
            sender.protect_rtp(&packet, &mut wire).unwrap();
            assert_eq!(wire, reference, "{suite:?} seq {seq:#x}");
            receiver.unprotect_rtp(&reference, &mut plain).unwrap();
            assert_eq!(plain, packet, "{suite:?} seq {seq:#x}");
        }
        for index in 1..=3u32 {
            let packet = receiver_report(ssrc);
            let reference = if gcm {
                protect_rtcp_gcm(&rtcp_keys.enc, &rtcp_keys.salt, &packet, index)
            } else {
                protect_rtcp_cm(&rtcp_keys, &packet, index)
            };
            sender.protect_rtcp(&packet, &mut wire).unwrap();
            assert_eq!(wire, reference, "{suite:?} SRTCP index {index}");
            receiver.unprotect_rtcp(&reference, &mut plain).unwrap();
            assert_eq!(plain, packet, "{suite:?} SRTCP index {index}");
        }
    }
}
