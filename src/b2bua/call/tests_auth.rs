//! Answering a trunk's digest challenge on the B leg (RFC 3261 §22.2, RFC 8760): table-driven,
//! every message checked in its wire form.

use super::testing::*;
use super::*;
use crate::sip::auth::Credentials;
use crate::sip::header::HeaderName;

const CHALLENGE: &str =
    "Digest realm=\"trunk.example\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\"";

fn plan_with_credentials() -> CallPlan {
    CallPlan {
        credentials: Some(Credentials::new("acct", "pw")),
        ..plan()
    }
}

#[test]
fn challenged_invite_is_sent_again_with_credentials() {
    for (code, challenge_header, answer_header) in [
        (401, "WWW-Authenticate", HeaderName::Authorization),
        (407, "Proxy-Authenticate", HeaderName::ProxyAuthorization),
    ] {
        let (mut rig, _) = Rig::start(invite("", SDP), plan_with_credentials());
        let first = rig.b_invite.clone();
        let actions = rig.b_reply(&first, code, &[(challenge_header, CHALLENGE)], "");
        assert!(codes(&actions, Leg::A).is_empty(), "A hears nothing");
        assert!(ended(&actions).is_none());
        let retried = sent(&actions, Leg::B);
        assert_eq!(retried.len(), 1);
        let retry = &retried[0];
        assert_eq!(method(retry), Method::Invite);
        assert_eq!(retry.cseq().unwrap().seq, 2);
        assert_eq!(retry.call_id().unwrap(), first.call_id().unwrap());
        assert_eq!(
            retry.from_header().unwrap().tag(),
            first.from_header().unwrap().tag()
        );
        assert!(retry.to_header().unwrap().tag().is_none());
        assert_ne!(
            retry.vias().unwrap()[0].branch(),
            first.vias().unwrap()[0].branch()
        );
        assert_eq!(retry.body, SDP);
        let answer = header(retry, answer_header).expect("credentials header");
        for part in [
            "Digest ",
            "username=\"acct\"",
            "realm=\"trunk.example\"",
            "nonce=\"n1\"",
            "uri=\"sip:bob@10.0.0.9:5080\"",
            "algorithm=SHA-256",
            "qop=auth",
            "nc=00000001",
        ] {
            assert!(answer.contains(part), "{answer} lacks {part}");
        }
        assert!(!answer.contains("pw"), "the password never appears");

        // The retry is answered: the call proceeds as if nothing happened.
        let actions = rig.b_reply(retry, 180, &[], "");
        assert_eq!(codes(&actions, Leg::A), vec![180]);
        let actions = rig.b_reply(retry, 200, &[], SDP);
        assert_eq!(codes(&actions, Leg::A), vec![200]);
    }
}

#[test]
fn rejected_credentials_reach_a_as_403() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan_with_credentials());
    let first = rig.b_invite.clone();
    let actions = rig.b_reply(&first, 401, &[("WWW-Authenticate", CHALLENGE)], "");
    let retry = sent(&actions, Leg::B).remove(0);
    // The same realm challenges again without stale=true: the credentials are wrong.
    let actions = rig.b_reply(&retry, 401, &[("WWW-Authenticate", CHALLENGE)], "");
    assert!(sent(&actions, Leg::B).is_empty(), "no loop");
    assert_eq!(codes(&actions, Leg::A), vec![403]);
    assert_eq!(ended(&actions), Some((EndReason::Rejected, Some(403))));
}

#[test]
fn stale_nonce_is_answered_again() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan_with_credentials());
    let first = rig.b_invite.clone();
    let actions = rig.b_reply(&first, 407, &[("Proxy-Authenticate", CHALLENGE)], "");
    let retry = sent(&actions, Leg::B).remove(0);
    let stale = "Digest realm=\"trunk.example\", nonce=\"n2\", stale=true, qop=\"auth\"";
    let actions = rig.b_reply(&retry, 407, &[("Proxy-Authenticate", stale)], "");
    let again = sent(&actions, Leg::B);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].cseq().unwrap().seq, 3);
    let answer = header(&again[0], HeaderName::ProxyAuthorization).unwrap();
    assert!(answer.contains("nonce=\"n2\""), "{answer}");
    assert_eq!(again[0].headers.count(HeaderName::ProxyAuthorization), 1);
}

#[test]
fn without_credentials_a_challenge_is_a_failure() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let first = rig.b_invite.clone();
    let actions = rig.b_reply(&first, 401, &[("WWW-Authenticate", CHALLENGE)], "");
    assert!(sent(&actions, Leg::B).is_empty());
    assert_eq!(codes(&actions, Leg::A), vec![403]);
    let a_response = answered(&actions, Leg::A).remove(0);
    assert!(
        a_response
            .headers
            .get(HeaderName::WwwAuthenticate)
            .is_none()
    );
}

#[test]
fn cancel_after_a_challenge_cancels_the_retry() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan_with_credentials());
    let first = rig.b_invite.clone();
    let actions = rig.b_reply(&first, 401, &[("WWW-Authenticate", CHALLENGE)], "");
    let retry = sent(&actions, Leg::B).remove(0);
    rig.b_reply(&retry, 180, &[], "");
    let text = String::from_utf8_lossy(&invite("", SDP).to_bytes())
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("CSeq: 10 INVITE", "CSeq: 10 CANCEL");
    let request = parse(&text);
    let tx = TxKey::for_request(&request).unwrap();
    let actions = rig.feed(CallEvent::Request {
        leg: Leg::A,
        request,
        tx,
    });
    let to_b = sent(&actions, Leg::B);
    assert_eq!(to_b.len(), 1);
    assert_eq!(method(&to_b[0]), Method::Cancel);
    assert_eq!(
        to_b[0].cseq().unwrap().seq,
        2,
        "the CANCEL matches the retry"
    );
    assert_eq!(
        to_b[0].vias().unwrap()[0].branch(),
        retry.vias().unwrap()[0].branch()
    );
}
