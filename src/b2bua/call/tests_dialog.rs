//! In-dialog flows (RFC 3261 §12–§15, RFC 3311, RFC 3262, RFC 6086, RFC 3428, RFC 3515;
//! RFC 3665 §2 and RFC 5407 shapes for hold/resume and glare), both directions.

use super::testing::*;
use super::*;
use crate::sip::header::HeaderName;
use std::time::Duration;

#[test]
fn bye_from_b_is_answered_and_sent_to_a() {
    let mut rig = Rig::confirmed(SDP);
    let actions = rig.request(Leg::B, "BYE", "", "");
    assert_eq!(codes(&actions, Leg::B), vec![200]);
    let bye = rig.last(Leg::A);
    assert_eq!(method(&bye), Method::Bye);
    assert_eq!(
        bye.request_line().unwrap().uri,
        "sip:alice@198.51.100.7:5060"
    );
    assert_eq!(
        header(&bye, HeaderName::Route).unwrap(),
        "<sip:192.0.2.50;lr>"
    );
    assert_eq!(bye.call_id().unwrap().as_bytes(), "a-call@198.51.100.7");
    assert_eq!(
        bye.from_header().unwrap().tag().unwrap().as_ref(),
        rig.a_tag().as_bytes()
    );
    assert_eq!(bye.to_header().unwrap().tag().unwrap(), "atag");
    let done = rig.a_reply(&bye, 200, "");
    assert_eq!(ended(&done), Some((EndReason::Completed, Some(200))));
    assert!(rig.call.is_idle());
}

#[test]
fn a_bye_that_times_out_still_ends_the_call() {
    let mut rig = Rig::confirmed(SDP);
    rig.request(Leg::A, "BYE", "", "");
    let tx = TxKey::for_request(&rig.last(Leg::B)).unwrap();
    rig.advance(Duration::from_secs(32));
    let done = rig.feed(CallEvent::TxTimeout { leg: Leg::B, tx });
    assert_eq!(ended(&done), Some((EndReason::Completed, Some(200))));
    assert!(rig.call.is_idle());
}

#[test]
fn reinvite_and_update_pass_sdp_both_ways() {
    for (from, m) in [
        (Leg::A, "INVITE"),
        (Leg::B, "INVITE"),
        (Leg::A, "UPDATE"),
        (Leg::B, "UPDATE"),
    ] {
        let mut rig = Rig::confirmed(SDP);
        let hold = SDP.replace("m=audio", "a=sendonly\r\nm=audio");
        rig.request(from, m, "", &hold);
        let to = from.other();
        let out = rig.last(to);
        assert_eq!(method(&out).as_bytes(), m.as_bytes());
        assert_eq!(out.body, hold.as_bytes(), "{from:?} {m}");
        assert_eq!(out.vias().unwrap().len(), 1);
        assert!(out.headers.get(HeaderName::Contact).is_some());
        let answer = rig.match_reply(to, &out, 200, SDP);
        let back = &answered(&answer, from)[0];
        assert_eq!(
            (back.status(), back.body.as_ref()),
            (Some(200), SDP.as_bytes())
        );
        assert!(back.headers.get(HeaderName::Contact).is_some());
        if m == "INVITE" {
            let ack = rig.request(from, "ACK", "", "");
            let relayed = &acks(&ack, to)[0];
            assert_eq!(
                relayed.cseq().unwrap().seq,
                out.cseq().unwrap().seq,
                "{from:?}"
            );
        }
        assert!(!rig.call.is_idle());
    }
}

#[test]
fn glare_gets_491_and_a_second_pending_reinvite_500() {
    let mut rig = Rig::confirmed(SDP);
    rig.request(Leg::A, "INVITE", "", SDP);
    // The call's re-INVITE towards B is pending: B's own re-INVITE crosses it.
    let glare = rig.request(Leg::B, "INVITE", "", SDP);
    assert_eq!(codes(&glare, Leg::B), vec![491]);
    let again = rig.request(Leg::A, "INVITE", "", SDP);
    assert_eq!(codes(&again, Leg::A), vec![500]);
    let r = &answered(&again, Leg::A)[0];
    assert!(r.headers.get(HeaderName::RetryAfter).is_some());
}

#[test]
fn non_invite_requests_are_relayed_and_answered() {
    for (from, m, extra) in [
        (Leg::A, "INFO", "Content-Type: application/dtmf-relay\r\n"),
        (Leg::B, "INFO", ""),
        (Leg::A, "MESSAGE", ""),
        (Leg::B, "OPTIONS", ""),
        (
            Leg::B,
            "NOTIFY",
            "Event: refer\r\nSubscription-State: active\r\n",
        ),
    ] {
        let mut rig = Rig::confirmed(SDP);
        let actions = rig.request(from, m, extra, "");
        let out = &sent(&actions, from.other())[0];
        assert_eq!(method(out).as_bytes(), m.as_bytes());
        if m == "NOTIFY" {
            assert_eq!(header(out, HeaderName::Event).unwrap(), "refer");
        }
        let back = rig.match_reply(from.other(), out, 200, "");
        assert_eq!(codes(&back, from), vec![200], "{from:?} {m}");
    }
}

#[test]
fn refer_is_refused_unless_the_plan_allows_it() {
    let mut rig = Rig::confirmed(SDP);
    let refused = rig.request(Leg::A, "REFER", "Refer-To: <sip:carol@example.org>\r\n", "");
    assert_eq!(codes(&refused, Leg::A), vec![403]);

    let (mut rig, _) = Rig::start(
        invite("", SDP),
        CallPlan {
            allow_refer: true,
            ..plan()
        },
    );
    let inv = rig.b_invite.clone();
    rig.b_reply(&inv, 200, &[], SDP);
    rig.request(Leg::A, "ACK", "", "");
    let relayed = rig.request(Leg::A, "REFER", "Refer-To: <sip:carol@example.org>\r\n", "");
    let out = &sent(&relayed, Leg::B)[0];
    assert_eq!(
        header(out, HeaderName::ReferTo).unwrap(),
        "<sip:carol@example.org>"
    );
}

#[test]
fn in_dialog_checks() {
    let mut rig = Rig::confirmed(SDP);
    let hops = rig.request(Leg::A, "INFO", "", "");
    assert_eq!(sent(&hops, Leg::B).len(), 1);
    let (mut request, tx) = rig.a_request("INFO", "", "");
    request.headers.set(HeaderName::MaxForwards, "0");
    let zero = rig.feed(CallEvent::Request {
        leg: Leg::A,
        request,
        tx,
    });
    assert_eq!(codes(&zero, Leg::A), vec![483]);
    let (mut request, tx) = rig.a_request("INFO", "", "");
    request
        .headers
        .set(HeaderName::To, "<sip:bob@sbc.example.com>;tag=other");
    let unknown = rig.feed(CallEvent::Request {
        leg: Leg::A,
        request,
        tx,
    });
    assert_eq!(codes(&unknown, Leg::A), vec![481]);
}

#[test]
fn relayed_request_timeout_releases_the_call() {
    let mut rig = Rig::confirmed(SDP);
    rig.request(Leg::A, "INFO", "", "");
    let tx = TxKey::for_request(&rig.last(Leg::B)).unwrap();
    let actions = rig.feed(CallEvent::TxTimeout { leg: Leg::B, tx });
    assert_eq!(codes(&actions, Leg::A), vec![408]);
    let bye = rig.last(Leg::A);
    assert_eq!(method(&bye), Method::Bye);
    let done = rig.a_reply(&bye, 200, "");
    assert_eq!(ended(&done), Some((EndReason::Timeout, Some(200))));
    assert!(rig.call.is_idle());
}

#[test]
fn reliable_provisional_and_prack_are_mapped_per_leg() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    let early = rig.b_reply(&inv, 183, &[("Require", "100rel"), ("RSeq", "7")], SDP);
    let r = &answered(&early, Leg::A)[0];
    assert_eq!(header(r, HeaderName::RSeq).unwrap(), "1");
    assert_eq!(header(r, HeaderName::Require).unwrap(), "100rel");
    // B retransmits it (no PRACK yet): A gets the same RSeq again, not a new provisional.
    let again = rig.b_reply(&inv, 183, &[("Require", "100rel"), ("RSeq", "7")], SDP);
    assert_eq!(
        header(&answered(&again, Leg::A)[0], HeaderName::RSeq).unwrap(),
        "1"
    );
    let next = rig.b_reply(&inv, 180, &[("Require", "100rel"), ("RSeq", "8")], "");
    assert_eq!(
        header(&answered(&next, Leg::A)[0], HeaderName::RSeq).unwrap(),
        "2"
    );
    let prack = rig.request(Leg::A, "PRACK", "RAck: 1 10 INVITE\r\n", "");
    let out = &sent(&prack, Leg::B)[0];
    assert_eq!(header(out, HeaderName::RAck).unwrap(), "7 1 INVITE");
    assert_eq!(out.to_header().unwrap().tag().unwrap(), "btag");
    let ok = rig.match_reply(Leg::B, out, 200, "");
    assert_eq!(codes(&ok, Leg::A), vec![200]);
    let bad = rig.request(Leg::A, "PRACK", "RAck: 9 10 INVITE\r\n", "");
    assert_eq!(codes(&bad, Leg::A), vec![481]);
}

#[test]
fn cancel_of_a_pending_reinvite_is_relayed_and_its_487_returned() {
    for from in [Leg::A, Leg::B] {
        let mut rig = Rig::confirmed(SDP);
        let hold = SDP.replace("m=audio", "a=sendonly\r\nm=audio");
        let (reinvite, tx) = match from {
            Leg::A => rig.a_request("INVITE", "", &hold),
            Leg::B => rig.b_request("INVITE", "", &hold),
        };
        rig.feed(CallEvent::Request {
            leg: from,
            request: reinvite.clone(),
            tx,
        });
        let to = from.other();
        let out = rig.last(to);
        assert_eq!(method(&out), Method::Invite);
        let cancel = cancel_for(&reinvite);
        let cancel_tx = TxKey::for_request(&cancel).unwrap();
        let actions = rig.feed(CallEvent::Request {
            leg: from,
            request: cancel,
            tx: cancel_tx,
        });
        assert_eq!(
            codes(&actions, from),
            vec![200],
            "{from:?}: the CANCEL is answered"
        );
        let relayed = sent(&actions, to);
        assert_eq!(relayed.len(), 1, "{from:?}");
        assert_eq!(method(&relayed[0]), Method::Cancel);
        assert_eq!(
            relayed[0].vias().unwrap()[0].branch(),
            out.vias().unwrap()[0].branch(),
            "the CANCEL matches the relayed re-INVITE"
        );
        assert_eq!(relayed[0].cseq().unwrap().seq, out.cseq().unwrap().seq);
        let back = rig.match_reply(to, &out, 487, "");
        assert_eq!(codes(&back, from), vec![487], "{from:?}");
        assert!(ended(&back).is_none(), "the call goes on");
        assert!(!rig.call.is_idle());
    }
}

#[test]
fn cancel_matching_nothing_gets_481() {
    let mut rig = Rig::confirmed(SDP);
    let (stray, _) = rig.b_request("INVITE", "", SDP);
    let cancel = cancel_for(&stray);
    let tx = TxKey::for_request(&cancel).unwrap();
    let actions = rig.feed(CallEvent::Request {
        leg: Leg::B,
        request: cancel,
        tx,
    });
    assert_eq!(codes(&actions, Leg::B), vec![481]);
    assert!(sent(&actions, Leg::A).is_empty());
}

#[test]
fn a_media_timeout_hangs_up_an_answered_call_on_both_legs_only() {
    // Not answered yet: the call's own timers decide, nothing is sent.
    let (mut early, _) = Rig::start(invite("", SDP), plan());
    assert!(early.feed(CallEvent::MediaTimeout).is_empty());

    let mut rig = Rig::confirmed(SDP);
    let actions = rig.feed(CallEvent::MediaTimeout);
    let byes: Vec<Method> = [Leg::A, Leg::B]
        .iter()
        .flat_map(|leg| sent(&actions, *leg))
        .map(|m| method(&m))
        .collect();
    assert_eq!(byes, [Method::Bye, Method::Bye]);
    let bye_a = rig.last(Leg::A);
    rig.a_reply(&bye_a, 200, "");
    let bye_b = rig.last(Leg::B);
    let done = rig.b_reply(&bye_b, 200, &[], "");
    assert_eq!(
        ended(&done).map(|(reason, _)| reason),
        Some(EndReason::MediaTimeout)
    );
}

#[test]
fn shut_down_sends_bye_on_both_legs_of_an_answered_call() {
    let mut rig = Rig::confirmed(SDP);
    let now = rig.now;
    let actions = rig.call.shut_down(now);
    let (to_a, to_b) = (sent(&actions, Leg::A), sent(&actions, Leg::B));
    assert_eq!(to_a.len(), 1);
    assert_eq!(to_b.len(), 1);
    assert_eq!(method(&to_a[0]), Method::Bye);
    assert_eq!(method(&to_b[0]), Method::Bye);
    assert!(
        ended(&actions).is_none(),
        "ends once both BYEs are answered"
    );
    assert!(
        rig.call.shut_down(now).is_empty(),
        "a second call changes nothing"
    );
    rig.a_reply(&to_a[0], 200, "");
    let done = rig.b_reply(&to_b[0], 200, &[], "");
    assert_eq!(ended(&done), Some((EndReason::Shutdown, Some(200))));
    assert!(rig.call.is_idle());
}

#[test]
fn shut_down_before_the_answer_gives_503_and_cancels() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    rig.b_reply(&inv, 180, &[], "");
    let now = rig.now;
    let actions = rig.call.shut_down(now);
    assert_eq!(codes(&actions, Leg::A), vec![503]);
    let to_b = sent(&actions, Leg::B);
    assert_eq!(to_b.len(), 1);
    assert_eq!(method(&to_b[0]), Method::Cancel);
    let done = rig.b_reply(&inv, 487, &[], "");
    assert_eq!(ended(&done), Some((EndReason::Shutdown, Some(503))));
}
