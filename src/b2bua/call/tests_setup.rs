//! Call setup flows (RFC 3665 §3 shapes, RFC 3261 §9 CANCEL races, Timer C): table-driven,
//! virtual time, every message checked in its wire form.

use super::testing::*;
use super::*;
use crate::sip::header::HeaderName;
use std::time::Duration;

#[test]
fn b_invite_is_a_new_dialog_with_nothing_of_a() {
    let (rig, actions) = Rig::start(invite("", SDP), plan());
    let inv = &rig.b_invite;
    assert_eq!(inv.request_line().unwrap().uri, "sip:bob@10.0.0.9:5080");
    let vias = inv.vias().unwrap();
    assert_eq!(vias.len(), 1);
    assert_eq!(vias[0].host.to_string(), "10.0.0.1");
    assert!(vias[0].branch().unwrap().starts_with(BRANCH_PREFIX));
    assert_ne!(inv.call_id().unwrap().as_bytes(), "a-call@198.51.100.7");
    let from = inv.from_header().unwrap();
    assert_eq!(from.uri.to_string(), "sip:alice@sbc.internal");
    assert_ne!(from.tag().unwrap(), "atag");
    assert!(inv.to_header().unwrap().tag().is_none());
    assert_eq!(
        header(inv, HeaderName::Contact).unwrap(),
        "<sip:sbc@10.0.0.1:5060>"
    );
    assert_eq!(header(inv, HeaderName::MaxForwards).unwrap(), "69");
    assert_eq!(header(inv, HeaderName::UserAgent).unwrap(), "SBC");
    assert_eq!(header(inv, HeaderName::Supported).unwrap(), "100rel, timer");
    for hidden in [
        HeaderName::RecordRoute,
        HeaderName::Route,
        HeaderName::PAssertedIdentity,
    ] {
        assert!(inv.headers.get(hidden).is_none(), "{hidden}");
    }
    assert_eq!(inv.cseq().unwrap().seq, 1);
    assert_eq!(inv.body, SDP);
    assert_eq!(
        header(inv, HeaderName::ContentType).unwrap(),
        "application/sdp"
    );
    let timers: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::SetTimer { timer, .. } => Some(*timer),
            _ => None,
        })
        .collect();
    assert_eq!(timers, vec![CallTimer::TimerC, CallTimer::NoAnswer]);
}

#[test]
fn refused_invites() {
    let looped = "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsbc63646566.1\r\n";
    let cases = [
        (invite(looped, SDP), 482, EndReason::Loop),
        (
            parse(
                &String::from_utf8_lossy(&invite("", "").to_bytes())
                    .replace("Max-Forwards: 70", "Max-Forwards: 0"),
            ),
            483,
            EndReason::TooManyHops,
        ),
    ];
    for (inv, code, reason) in cases {
        let (rig, actions) = Rig::start(inv, plan());
        assert_eq!(codes(&actions, Leg::A), vec![code]);
        assert!(sent(&actions, Leg::B).is_empty());
        assert_eq!(ended(&actions), Some((reason, Some(code))));
        assert!(rig.call.is_idle());
    }
}

#[test]
fn invite_without_contact_is_processed() {
    // RFC 2543 clients (RFC 4475 `inv2543`) send no Contact; the call goes ahead.
    let inv = parse(
        &String::from_utf8_lossy(&invite("", SDP).to_bytes())
            .replace("Contact: <sip:alice@198.51.100.7:5060>\r\n", ""),
    );
    let (rig, actions) = Rig::start(inv, plan());
    assert!(codes(&actions, Leg::A).is_empty());
    assert_eq!(sent(&actions, Leg::B).len(), 1);
    assert!(!rig.call.is_idle());
}

#[test]
fn basic_call_and_bye_from_a() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    assert!(
        rig.b_reply(&inv, 100, &[], "").is_empty(),
        "100 is not relayed"
    );
    let ringing = rig.b_reply(&inv, 180, &[("Warning", "399 pbx \"internal\"")], "");
    let r = &answered(&ringing, Leg::A)[0];
    assert_eq!(r.status(), Some(180));
    assert_eq!(
        r.to_header().unwrap().tag().unwrap().as_ref(),
        rig.a_tag().as_bytes()
    );
    assert_eq!(
        header(r, HeaderName::Contact).unwrap(),
        "<sip:sbc@203.0.113.1:5060>"
    );
    assert_eq!(
        header(r, HeaderName::RecordRoute).unwrap(),
        "<sip:192.0.2.50;lr>"
    );
    assert_eq!(header(r, HeaderName::Server).unwrap(), "SBC");
    assert!(r.headers.get(HeaderName::Warning).is_none());
    assert_eq!(r.vias().unwrap().len(), 2, "A's own Vias come back");

    let ok = rig.b_reply(&inv, 200, &[], SDP);
    let r = &answered(&ok, Leg::A)[0];
    assert_eq!((r.status(), r.body.as_ref()), (Some(200), SDP.as_bytes()));
    assert!(ok.contains(&Action::CancelTimer(CallTimer::TimerC)));
    assert!(ok.contains(&Action::CancelTimer(CallTimer::NoAnswer)));

    let ack = rig.request(Leg::A, "ACK", "", "");
    let b_ack = &acks(&ack, Leg::B)[0];
    assert_eq!(b_ack.request_line().unwrap().uri, "sip:bob@10.0.0.9:5080");
    assert_eq!(
        header(b_ack, HeaderName::Route).unwrap(),
        "<sip:10.0.0.6;lr>"
    );
    assert_eq!(b_ack.to_header().unwrap().tag().unwrap(), "btag");
    assert_eq!(b_ack.cseq().unwrap().to_string(), "1 ACK");
    assert!(ack.contains(&Action::CancelTimer(CallTimer::Resend2xx(Leg::A))));
    // A retransmitted 2xx from B gets the same ACK again.
    let again = rig.b_reply(&inv, 200, &[], SDP);
    assert_eq!(acks(&again, Leg::B), vec![b_ack.clone()]);

    let bye = rig.request(Leg::A, "BYE", "", "");
    assert_eq!(codes(&bye, Leg::A), vec![200]);
    let b_bye = rig.last(Leg::B);
    assert_eq!(method(&b_bye), Method::Bye);
    assert_eq!(b_bye.cseq().unwrap().seq, 2);
    let done = rig.b_reply(&b_bye, 200, &[], "");
    assert_eq!(ended(&done), Some((EndReason::Completed, Some(200))));
    assert!(rig.call.is_idle());
    let stray = rig.request(Leg::A, "INFO", "", "");
    assert_eq!(codes(&stray, Leg::A), vec![481]);
}

#[test]
fn late_offer_answer_rides_in_the_ack() {
    let (mut rig, _) = Rig::start(invite("", ""), plan());
    assert!(rig.b_invite.body.is_empty());
    let inv = rig.b_invite.clone();
    let ok = rig.b_reply(&inv, 200, &[], SDP);
    assert_eq!(answered(&ok, Leg::A)[0].body, SDP);
    let ack = rig.request(Leg::A, "ACK", "", "v=0\r\n");
    let b_ack = &acks(&ack, Leg::B)[0];
    assert_eq!(b_ack.body, "v=0\r\n");
    assert_eq!(
        header(b_ack, HeaderName::ContentType).unwrap(),
        "application/sdp"
    );
}

#[test]
fn early_media_183_carries_its_body() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    let early = rig.b_reply(&inv, 183, &[], SDP);
    let r = &answered(&early, Leg::A)[0];
    assert_eq!((r.status(), r.body.as_ref()), (Some(183), SDP.as_bytes()));
}

#[test]
fn final_responses_from_b_are_mapped_for_a() {
    let cases = [
        (486, "Busy Here", 486, "Busy Here"),
        (302, "Moved Temporarily", 480, "Temporarily Unavailable"),
        (503, "Service Unavailable", 500, "Server Internal Error"),
        (404, "Not Found", 404, "Not Found"),
        (603, "Decline", 603, "Decline"),
    ];
    for (code, _, want, want_reason) in cases {
        let (mut rig, _) = Rig::start(invite("", SDP), plan());
        let inv = rig.b_invite.clone();
        let actions = rig.b_reply(
            &inv,
            code,
            &[
                ("Contact", "<sip:secret@10.9.9.9>"),
                ("Warning", "399 pbx \"db down\""),
            ],
            "",
        );
        let r = &answered(&actions, Leg::A)[0];
        assert_eq!(r.status(), Some(want), "{code}");
        assert_eq!(r.status_line().unwrap().reason, want_reason);
        for hidden in [HeaderName::Contact, HeaderName::Warning] {
            assert!(r.headers.get(hidden).is_none(), "{code} {hidden}");
        }
        assert_eq!(header(r, HeaderName::Server).unwrap(), "SBC");
        assert_eq!(ended(&actions), Some((EndReason::Rejected, Some(want))));
        assert!(rig.call.is_idle(), "{code}");
    }
}

#[test]
fn b_invite_failures() {
    for (timeout, code, reason) in [
        (true, 408, EndReason::Timeout),
        (false, 480, EndReason::TransportError),
    ] {
        let (mut rig, _) = Rig::start(invite("", SDP), plan());
        let tx = TxKey::for_request(&rig.b_invite).unwrap();
        let event = if timeout {
            CallEvent::TxTimeout { leg: Leg::B, tx }
        } else {
            CallEvent::TransportError { leg: Leg::B, tx }
        };
        let actions = rig.feed(event);
        assert_eq!(codes(&actions, Leg::A), vec![code]);
        assert_eq!(ended(&actions), Some((reason, Some(code))));
        assert!(rig.call.is_idle());
    }
}

#[test]
fn unacknowledged_2xx_is_retransmitted_then_the_call_is_released() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    rig.b_reply(&inv, 200, &[], SDP);
    let mut resent = 0;
    for _ in 0..20 {
        rig.advance(Duration::from_secs(4));
        let actions = rig.feed(CallEvent::Timer(CallTimer::Resend2xx(Leg::A)));
        resent += codes(&actions, Leg::A).len();
        if !sent(&actions, Leg::B).is_empty() {
            break;
        }
    }
    assert!(resent >= 7, "{resent}");
    assert_eq!(method(&rig.last(Leg::A)), Method::Bye);
    assert_eq!(method(&rig.last(Leg::B)), Method::Bye);
    let (a_bye, b_bye) = (rig.last(Leg::A), rig.last(Leg::B));
    assert!(ended(&rig.a_reply(&a_bye, 200, "")).is_none());
    let done = rig.b_reply(&b_bye, 200, &[], "");
    assert_eq!(ended(&done), Some((EndReason::AckTimeout, Some(200))));
    assert!(rig.call.is_idle());
}

#[test]
fn a_second_fork_answering_is_acked_and_released() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    rig.b_reply(&inv, 200, &[], SDP);
    // Another branch behind B answers too, with its own tag and Contact.
    let mut other = crate::sip::response::response_to(&inv, 200, None, Some(b"fork2"));
    other.headers.push(crate::sip::message::Header::raw(
        "Contact",
        "<sip:bob@10.0.0.77:5090>",
    ));
    other.set_body(b(SDP), Some(b("application/sdp")));
    let tx = TxKey::for_request(&inv).unwrap();
    let actions = rig.feed(CallEvent::Response {
        leg: Leg::B,
        response: other,
        tx,
    });
    assert!(
        codes(&actions, Leg::A).is_empty(),
        "A hears nothing of the fork"
    );
    let acks = acks(&actions, Leg::B);
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].to_header().unwrap().tag().unwrap(), "fork2");
    assert_eq!(
        acks[0].request_line().unwrap().uri,
        "sip:bob@10.0.0.77:5090"
    );
    let byes = sent(&actions, Leg::B);
    assert_eq!(byes.len(), 1);
    assert_eq!(method(&byes[0]), Method::Bye);
    assert_eq!(byes[0].to_header().unwrap().tag().unwrap(), "fork2");
    assert_eq!(
        byes[0].request_line().unwrap().uri,
        "sip:bob@10.0.0.77:5090"
    );
    assert!(ended(&actions).is_none(), "the call itself goes on");
    // A retransmission of the first fork's 2xx is still just re-ACKed (once A's ACK came).
    let actions = rig.b_reply(&inv, 200, &[], SDP);
    assert!(sent(&actions, Leg::B).is_empty());
}
