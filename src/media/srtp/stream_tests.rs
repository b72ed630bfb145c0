//! Packet-path tests: round trips for every suite, tampering, replay, drop reasons, SRTCP's E
//! flag, SSRC bounds, and contexts kept across a same-key re-INVITE past a sequence wrap.

use super::vector_tests::{g711, receiver_report};
use super::{
    CryptoSuite, MAX_SSRCS, REPLAY_WINDOW, SrtpError, SrtpKey, SrtpReceiver, SrtpSender,
    SrtpSession, SrtpTransform,
};

fn pair(suite: CryptoSuite) -> (SrtpSender, SrtpReceiver) {
    let key = SrtpKey::generate(suite).unwrap();
    (
        SrtpSender::new(&key).unwrap(),
        SrtpReceiver::new(&key).unwrap(),
    )
}

fn protect(sender: &mut SrtpSender, packet: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    sender.protect_rtp(packet, &mut out).unwrap();
    out
}

fn protect_rtcp(sender: &mut SrtpSender, packet: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    sender.protect_rtcp(packet, &mut out).unwrap();
    out
}

#[test]
fn every_suite_round_trips_rtp_and_rtcp() {
    for suite in CryptoSuite::ALL {
        let (mut sender, mut receiver) = pair(suite);
        let mut plain = Vec::new();
        for seq in 100..110 {
            let packet = g711(7, seq);
            let wire = protect(&mut sender, &packet);
            assert_eq!(wire.len(), packet.len() + suite.rtp_overhead());
            assert_ne!(wire[12..packet.len()], packet[12..], "payload is encrypted");
            receiver.unprotect_rtp(&wire, &mut plain).unwrap();
            assert_eq!(plain, packet, "{suite:?}");
        }
        let report = receiver_report(7);
        let wire = protect_rtcp(&mut sender, &report);
        assert_eq!(wire.len(), report.len() + suite.rtcp_overhead());
        receiver.unprotect_rtcp(&wire, &mut plain).unwrap();
        assert_eq!(plain, report, "{suite:?}");
    }
}

#[test]
fn any_flipped_bit_fails_authentication_and_moves_no_state() {
    for suite in CryptoSuite::ALL {
        let (mut sender, mut receiver) = pair(suite);
        let mut plain = vec![1, 2, 3];
        // Admit the SSRC, so the forgeries meet a known stream with a replay window.
        receiver
            .unprotect_rtp(&protect(&mut sender, &g711(9, 1)), &mut plain)
            .unwrap();
        let wire = protect(&mut sender, &g711(9, 2));
        // Bits 16..=31 are the sequence number; 64..=95 the SSRC: a changed SSRC is a new
        // stream, verified with rollover counter 0.
        for bit in (0..wire.len() * 8).filter(|b| *b >= 8) {
            let mut forged = wire.clone();
            forged[bit / 8] ^= 0x80 >> (bit % 8);
            let result = receiver.unprotect_rtp(&forged, &mut plain);
            assert_eq!(result, Err(SrtpError::AuthFailed), "{suite:?} bit {bit}");
            assert!(plain.is_empty(), "no output on error");
        }
        receiver.unprotect_rtp(&wire, &mut plain).unwrap();
        assert_eq!(
            plain,
            g711(9, 2),
            "the genuine packet still passes after the forgeries"
        );

        let wire = protect_rtcp(&mut sender, &receiver_report(9));
        for byte in [8, wire.len() / 2, wire.len() - 1] {
            let mut forged = wire.clone();
            forged[byte] ^= 0x01;
            assert_eq!(
                receiver.unprotect_rtcp(&forged, &mut plain),
                Err(SrtpError::AuthFailed),
                "{suite:?} SRTCP byte {byte}"
            );
        }
        receiver.unprotect_rtcp(&wire, &mut plain).unwrap();
    }
}

#[test]
fn replays_are_refused_after_authentication() {
    for suite in CryptoSuite::ALL {
        let (mut sender, mut receiver) = pair(suite);
        let mut plain = Vec::new();
        let packets: Vec<Vec<u8>> = (0..300)
            .map(|seq| protect(&mut sender, &g711(5, seq)))
            .collect();
        receiver.unprotect_rtp(&packets[0], &mut plain).unwrap();
        assert_eq!(
            receiver.unprotect_rtp(&packets[0], &mut plain),
            Err(SrtpError::Replay)
        );
        assert!(plain.is_empty());
        // Reordered packets inside the window pass once.
        receiver.unprotect_rtp(&packets[2], &mut plain).unwrap();
        receiver.unprotect_rtp(&packets[1], &mut plain).unwrap();
        assert_eq!(
            receiver.unprotect_rtp(&packets[1], &mut plain),
            Err(SrtpError::Replay)
        );
        // Older than the window.
        receiver.unprotect_rtp(&packets[299], &mut plain).unwrap();
        let too_old = 299 - REPLAY_WINDOW as usize;
        assert_eq!(
            receiver.unprotect_rtp(&packets[too_old], &mut plain),
            Err(SrtpError::Replay)
        );
        receiver
            .unprotect_rtp(&packets[too_old + 1], &mut plain)
            .unwrap();

        // A forgery carrying a replayed index is an authentication failure, not a replay.
        let mut forged = packets[0].clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert_eq!(
            receiver.unprotect_rtp(&forged, &mut plain),
            Err(SrtpError::AuthFailed)
        );

        let report = protect_rtcp(&mut sender, &receiver_report(5));
        receiver.unprotect_rtcp(&report, &mut plain).unwrap();
        assert_eq!(
            receiver.unprotect_rtcp(&report, &mut plain),
            Err(SrtpError::Replay)
        );
    }
}

/// A replayed packet from before a sequence wrap is refused and the rollover counter carries
/// on: later packets still decrypt.
#[test]
fn a_replay_across_the_sequence_wrap_leaves_the_rollover_counter_intact() {
    let (mut sender, mut receiver) = pair(CryptoSuite::AesCm128HmacSha1_80);
    let mut plain = Vec::new();
    let before = protect(&mut sender, &g711(8, 0xffff));
    receiver
        .unprotect_rtp(&protect(&mut sender, &g711(8, 0xfffe)), &mut plain)
        .unwrap();
    receiver.unprotect_rtp(&before, &mut plain).unwrap();
    receiver
        .unprotect_rtp(&protect(&mut sender, &g711(8, 0)), &mut plain)
        .unwrap();
    assert_eq!(
        receiver.unprotect_rtp(&before, &mut plain),
        Err(SrtpError::Replay)
    );
    for seq in 1..5 {
        receiver
            .unprotect_rtp(&protect(&mut sender, &g711(8, seq)), &mut plain)
            .unwrap();
        assert_eq!(plain, g711(8, seq));
    }
}

#[test]
fn drop_reasons_for_short_and_malformed_packets() {
    let (mut sender, mut receiver) = pair(CryptoSuite::AesCm128HmacSha1_80);
    let mut out = vec![0];
    let wire = protect(&mut sender, &g711(1, 1));
    let table: Vec<(Vec<u8>, SrtpError)> = vec![
        (vec![], SrtpError::TooShort),
        (wire[..21].to_vec(), SrtpError::TooShort),
        (
            {
                let mut p = wire.clone();
                p[0] = 0x40;
                p
            },
            SrtpError::Malformed,
        ),
        (
            {
                let mut p = wire[..40].to_vec();
                p[0] = 0x8f;
                p
            },
            SrtpError::Malformed,
        ), // 15 CSRCs
        (
            {
                let mut p = wire.clone();
                p[0] = 0x90;
                p[12..16].copy_from_slice(&[0xbe, 0xde, 0xff, 0xff]);
                p
            },
            SrtpError::Malformed,
        ),
    ];
    for (packet, expected) in table {
        assert_eq!(
            receiver.unprotect_rtp(&packet, &mut out),
            Err(expected),
            "{packet:02x?}"
        );
        assert!(out.is_empty());
    }
    assert_eq!(
        sender.protect_rtp(&[0x80; 11], &mut out),
        Err(SrtpError::TooShort)
    );
    assert_eq!(
        sender.protect_rtp(&[0x00; 20], &mut out),
        Err(SrtpError::Malformed)
    );
    assert_eq!(
        sender.protect_rtcp(&[0x81, 0xc9, 0, 1], &mut out),
        Err(SrtpError::TooShort)
    );
    assert_eq!(
        receiver.unprotect_rtcp(&[0x81; 21], &mut out),
        Err(SrtpError::TooShort)
    );
    let reasons: Vec<&str> = [
        SrtpError::AuthFailed,
        SrtpError::Replay,
        SrtpError::TooShort,
    ]
    .iter()
    .map(|e| e.reason())
    .collect();
    assert_eq!(reasons, ["auth_failed", "replay", "too_short"]);
}

/// The engine returns an SRTCP packet whose E flag is clear without checking its tag; the
/// receiver refuses such packets first.
#[test]
fn srtcp_with_the_e_flag_clear_is_refused() {
    for suite in [CryptoSuite::AesCm128HmacSha1_80, CryptoSuite::AeadAes128Gcm] {
        let (_, mut receiver) = pair(suite);
        let mut forged = receiver_report(3);
        forged.extend_from_slice(&1u32.to_be_bytes()); // E = 0, index 1
        forged.extend_from_slice(&[0u8; 16][..suite.rtcp_overhead() - 4]);
        if suite == CryptoSuite::AeadAes128Gcm {
            // GCM: tag before the E‖index word.
            let at = forged.len() - 20;
            forged[at..].rotate_left(16);
        }
        let mut out = Vec::new();
        assert_eq!(
            receiver.unprotect_rtcp(&forged, &mut out),
            Err(SrtpError::AuthFailed)
        );
        assert!(out.is_empty());
    }
}

#[test]
fn ssrcs_per_direction_are_bounded_and_forgeries_do_not_use_them_up() {
    let (mut sender, mut receiver) = pair(CryptoSuite::AesCm128HmacSha1_80);
    let mut plain = Vec::new();
    // Forged packets of far more unknown SSRCs than a direction admits.
    for ssrc in 0..(64 * MAX_SSRCS as u32) {
        let mut forged = g711(0x8000_0000 | ssrc, 1);
        forged.extend_from_slice(&[0u8; 10]);
        assert_eq!(
            receiver.unprotect_rtp(&forged, &mut plain),
            Err(SrtpError::AuthFailed)
        );
    }
    for ssrc in 0..MAX_SSRCS as u32 {
        let wire = protect(&mut sender, &g711(ssrc, 1));
        receiver.unprotect_rtp(&wire, &mut plain).unwrap();
    }
    let extra = g711(MAX_SSRCS as u32, 1);
    assert_eq!(
        sender.protect_rtp(&extra, &mut plain),
        Err(SrtpError::TooManySsrcs)
    );
    let mut other_sender = SrtpSender::new(sender.key()).unwrap();
    let wire = protect(&mut other_sender, &extra);
    assert_eq!(
        receiver.unprotect_rtp(&wire, &mut plain),
        Err(SrtpError::TooManySsrcs)
    );
    // Known SSRCs carry on.
    let wire = protect(&mut sender, &g711(0, 2));
    receiver.unprotect_rtp(&wire, &mut plain).unwrap();
}

/// The SBC's leg and the phone's view of it: the phone sends with `phone_key`, receives with
/// `sbc_key`.
fn legs(sbc_key: &SrtpKey, phone_key: &SrtpKey) -> (SrtpSession, SrtpSession) {
    (
        SrtpSession::new(sbc_key, phone_key).unwrap(),
        SrtpSession::new(phone_key, sbc_key).unwrap(),
    )
}

/// A re-INVITE that repeats both keys keeps both contexts: the rollover counter continues and
/// packets after the sequence wrap still decrypt. A context rebuilt for the same key would
/// restart at ROC 0 and fail them.
#[test]
fn same_key_reinvite_keeps_contexts_across_a_sequence_wrap() {
    for suite in CryptoSuite::ALL {
        let sbc_key = SrtpKey::generate(suite).unwrap();
        let phone_key = SrtpKey::generate(suite).unwrap();
        let (mut sbc, mut phone) = legs(&sbc_key, &phone_key);
        let (mut wire, mut plain) = (Vec::new(), Vec::new());
        let mut relay = |phone: &mut SrtpSession, sbc: &mut SrtpSession, seq: u16| {
            phone.protect_rtp(&g711(42, seq), &mut wire).unwrap();
            sbc.unprotect_rtp(&wire, &mut plain).unwrap();
            assert_eq!(plain, g711(42, seq), "{suite:?} phone→SBC seq {seq:#x}");
            sbc.protect_rtp(&g711(43, seq), &mut wire).unwrap();
            phone.unprotect_rtp(&wire, &mut plain).unwrap();
            assert_eq!(plain, g711(43, seq), "{suite:?} SBC→phone seq {seq:#x}");
        };
        for seq in 0xfff0..=0xfffa {
            relay(&mut phone, &mut sbc, seq);
        }
        // The re-INVITE: the same lines again, as new key objects parsed from SDP.
        let same_local = SrtpKey::from_base64(suite, &sbc_key.to_base64()).unwrap();
        let same_remote = SrtpKey::from_base64(suite, &phone_key.to_base64()).unwrap();
        let rekeyed = sbc.rekey(&same_local, &same_remote).unwrap();
        assert!(rekeyed.sender_kept && rekeyed.receiver_kept, "{suite:?}");
        for seq in (0xfffb..=0xffff).chain(0..=20) {
            relay(&mut phone, &mut sbc, seq);
        }

        // What a rebuilt context would do: ROC 0 instead of 1, every packet rejected.
        let mut rebuilt = SrtpReceiver::new(&phone_key).unwrap();
        phone.protect_rtp(&g711(42, 21), &mut wire).unwrap();
        assert_eq!(
            rebuilt.unprotect_rtp(&wire, &mut plain),
            Err(SrtpError::AuthFailed)
        );
    }
}

#[test]
fn new_keys_replace_the_contexts() {
    let suite = CryptoSuite::AeadAes128Gcm;
    let sbc_key = SrtpKey::generate(suite).unwrap();
    let phone_key = SrtpKey::generate(suite).unwrap();
    let (mut sbc, _) = legs(&sbc_key, &phone_key);
    let new_phone_key = SrtpKey::generate(suite).unwrap();
    let rekeyed = sbc.rekey(&sbc_key, &new_phone_key).unwrap();
    assert!(rekeyed.sender_kept);
    assert!(!rekeyed.receiver_kept);
    let (mut wire, mut plain) = (Vec::new(), Vec::new());
    let mut old_phone = SrtpSender::new(&phone_key).unwrap();
    old_phone.protect_rtp(&g711(1, 1), &mut wire).unwrap();
    assert_eq!(
        sbc.unprotect_rtp(&wire, &mut plain),
        Err(SrtpError::AuthFailed)
    );
    let mut new_phone = SrtpSender::new(&new_phone_key).unwrap();
    new_phone.protect_rtp(&g711(1, 1), &mut wire).unwrap();
    sbc.unprotect_rtp(&wire, &mut plain).unwrap();
    assert_eq!(plain, g711(1, 1));
    // A session split into its directions works the same.
    let (mut sender, mut receiver) = sbc.split();
    new_phone.protect_rtp(&g711(1, 2), &mut wire).unwrap();
    receiver.unprotect_rtp(&wire, &mut plain).unwrap();
    sender.protect_rtp(&g711(2, 1), &mut wire).unwrap();
    assert!(sender.key().same_as(&sbc_key));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::with_cases(512)
    })]

    #[test]
    fn arbitrary_packets_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let key = SrtpKey::from_bytes(CryptoSuite::AeadAes128Gcm, &[9; 28]).unwrap();
        let mut session = SrtpSession::new(&key, &key).unwrap();
        let mut out = Vec::new();
        let _ = session.unprotect_rtp(&bytes, &mut out);
        let _ = session.unprotect_rtcp(&bytes, &mut out);
        let _ = session.protect_rtp(&bytes, &mut out);
        let _ = session.protect_rtcp(&bytes, &mut out);
        let cm = SrtpKey::from_bytes(CryptoSuite::AesCm128HmacSha1_32, &[9; 30]).unwrap();
        let mut session = SrtpSession::new(&cm, &cm).unwrap();
        let _ = session.unprotect_rtp(&bytes, &mut out);
        let _ = session.unprotect_rtcp(&bytes, &mut out);
        let _ = session.protect_rtp(&bytes, &mut out);
        let _ = session.protect_rtcp(&bytes, &mut out);
    }
}
