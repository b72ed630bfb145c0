//! Table tests of SDES offer/answer and of the per-leg SRTP policy.

use super::*;

const KEY_30: &str = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
const KEY_28: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==";

fn lines(values: &[String]) -> Vec<&[u8]> {
    values.iter().map(|v| v.as_bytes()).collect()
}

#[test]
fn answer_takes_the_first_usable_offered_line_with_a_fresh_key() {
    let offer = vec![
        format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}|2^20|1:4"), // MKI: skipped
        format!("2 F8_128_HMAC_SHA1_80 inline:{KEY_30}"),              // unknown: skipped
        format!("3 AES_CM_128_HMAC_SHA1_32 inline:{KEY_30}"),          // not accepted below
        format!("4 AEAD_AES_128_GCM inline:{KEY_28}"),
        format!("5 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}"),
    ];
    let accepted = [CryptoSuite::AesCm128HmacSha1_80, CryptoSuite::AeadAes128Gcm];
    let (negotiated, answer) = answer_offer(lines(&offer), &accepted).unwrap().unwrap();
    assert_eq!(answer.tag, 4);
    assert_eq!(negotiated.tag, 4);
    assert_eq!(answer.suite(), CryptoSuite::AeadAes128Gcm);
    assert_eq!(negotiated.suite(), CryptoSuite::AeadAes128Gcm);
    assert_eq!(answer.lifetime, None);
    let offered_key = SrtpKey::from_base64(CryptoSuite::AeadAes128Gcm, KEY_28).unwrap();
    assert!(negotiated.remote.same_as(&offered_key));
    assert!(negotiated.local.same_as(&answer.key));
    assert!(
        !negotiated.local.same_as(&negotiated.remote),
        "the answer key is fresh"
    );
    let printed = answer.to_sdp_value();
    assert!(
        printed.starts_with("4 AEAD_AES_128_GCM inline:"),
        "{}",
        *printed
    );
    assert!(!printed.contains('|'), "no lifetime, no MKI");

    // Two answers to the same offer carry different keys.
    let (again, _) = answer_offer(lines(&offer), &accepted).unwrap().unwrap();
    assert!(!again.local.same_as(&negotiated.local));
}

/// A re-INVITE repeating the peer's line: the answer repeats our key, and the session keeps
/// both contexts. A re-offer with another suite gets a fresh key.
#[test]
fn reoffer_with_the_same_suite_keeps_our_key() {
    let offer = vec![format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}")];
    let accepted = CryptoSuite::ALL;
    let (first, _) = answer_offer(lines(&offer), &accepted).unwrap().unwrap();
    let mut session = super::super::SrtpSession::from_negotiated(&first).unwrap();

    let (again, line) = answer_reoffer(lines(&offer), &accepted, &first)
        .unwrap()
        .unwrap();
    assert!(again.local.same_as(&first.local));
    assert!(line.key.same_as(&first.local));
    let rekeyed = session.rekey(&again.local, &again.remote).unwrap();
    assert!(rekeyed.sender_kept && rekeyed.receiver_kept);

    let gcm = vec![format!("2 AEAD_AES_128_GCM inline:{KEY_28}")];
    let (other, line) = answer_reoffer(lines(&gcm), &accepted, &first)
        .unwrap()
        .unwrap();
    assert_eq!(line.tag, 2);
    assert_eq!(other.suite(), CryptoSuite::AeadAes128Gcm);
    let rekeyed = session.rekey(&other.local, &other.remote).unwrap();
    assert!(!rekeyed.sender_kept && !rekeyed.receiver_kept);
}

#[test]
fn answer_is_none_without_a_usable_line() {
    let offer = vec![
        format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30} UNENCRYPTED_SRTCP"),
        "2 AES_CM_128_HMAC_SHA1_80 inline:short".to_owned(),
    ];
    assert!(
        answer_offer(lines(&offer), &CryptoSuite::ALL)
            .unwrap()
            .is_none()
    );
    assert!(
        answer_offer(Vec::new(), &CryptoSuite::ALL)
            .unwrap()
            .is_none()
    );
    let good = vec![format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}")];
    assert!(answer_offer(lines(&good), &[]).unwrap().is_none());
}

#[test]
fn offer_lines_follow_the_preference_list_and_match_the_answer() {
    let prefs = [CryptoSuite::AeadAes256Gcm, CryptoSuite::AesCm128HmacSha1_80];
    let offer = make_offer(&prefs).unwrap();
    assert_eq!(offer.len(), 2);
    assert_eq!(
        (offer[0].tag, offer[0].suite()),
        (1, CryptoSuite::AeadAes256Gcm)
    );
    assert_eq!(
        (offer[1].tag, offer[1].suite()),
        (2, CryptoSuite::AesCm128HmacSha1_80)
    );
    assert!(!offer[0].key.same_as(&offer[1].key));

    // The peer answers our offer as `answer_offer` would.
    let sent: Vec<String> = offer.iter().map(|l| l.to_sdp_value().to_string()).collect();
    let (peer, peer_line) = answer_offer(lines(&sent), &[CryptoSuite::AesCm128HmacSha1_80])
        .unwrap()
        .unwrap();
    let reply = vec![peer_line.to_sdp_value().to_string()];
    let ours = accept_answer(&offer, lines(&reply)).unwrap();
    assert_eq!(ours.tag, 2);
    assert!(
        ours.local.same_as(&peer.remote),
        "we send with the key we offered"
    );
    assert!(
        ours.remote.same_as(&peer.local),
        "we receive with the key they answered"
    );
}

#[test]
fn bad_answers_are_typed() {
    let offer = make_offer(&[CryptoSuite::AesCm128HmacSha1_80]).unwrap();
    let table: Vec<(Vec<String>, AnswerError)> = vec![
        (vec![], AnswerError::NoCrypto),
        (
            vec![
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}"),
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}"),
            ],
            AnswerError::Several,
        ),
        (
            vec![format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}|1:1")],
            AnswerError::Invalid(SdesError::Mki),
        ),
        (
            vec![format!("2 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}")],
            AnswerError::NotOffered,
        ),
        (
            vec![format!("1 AES_CM_128_HMAC_SHA1_32 inline:{KEY_30}")],
            AnswerError::NotOffered,
        ),
    ];
    for (answer, expected) in table {
        assert_eq!(
            accept_answer(&offer, lines(&answer)).unwrap_err(),
            expected,
            "{answer:?}"
        );
    }
}

#[test]
fn offer_policy_table() {
    use SrtpDecision::{Reject, Rtp, Srtp};
    use SrtpMode::{Mandatory, Off, Optional};
    // (mode, offer is RTP/SAVP, an offered line is acceptable, decision)
    let table = [
        (Off, false, false, Rtp),
        (Off, false, true, Rtp),
        (Off, true, false, Rtp),
        (Off, true, true, Rtp),
        (Optional, false, false, Rtp),
        (Optional, false, true, Srtp),
        (Optional, true, false, Reject),
        (Optional, true, true, Srtp),
        (Mandatory, false, false, Reject),
        (Mandatory, false, true, Srtp),
        (Mandatory, true, false, Reject),
        (Mandatory, true, true, Srtp),
    ];
    for (mode, secure, acceptable, expected) in table {
        assert_eq!(
            decide_offer(mode, secure, acceptable),
            expected,
            "{mode:?} {secure} {acceptable}"
        );
    }
    assert_eq!(Reject.sip_status(), Some(488));
    assert_eq!(Rtp.sip_status(), None);
    assert_eq!(Srtp.sip_status(), None);
}

#[test]
fn answer_policy_and_offer_shape_tables() {
    use SrtpDecision::{Reject, Rtp, Srtp};
    use SrtpMode::{Mandatory, Off, Optional};
    let table = [
        (Off, false, Rtp),
        (Off, true, Rtp),
        (Optional, false, Rtp),
        (Optional, true, Srtp),
        (Mandatory, false, Reject),
        (Mandatory, true, Srtp),
    ];
    for (mode, agreed, expected) in table {
        assert_eq!(decide_answer(mode, agreed), expected, "{mode:?} {agreed}");
    }
    assert_eq!(offer_shape(Off), (false, false));
    assert_eq!(offer_shape(Optional), (false, true));
    assert_eq!(offer_shape(Mandatory), (true, true));
}
