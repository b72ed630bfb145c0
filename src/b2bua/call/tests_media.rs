//! Media refusals at the body seam (RFC 3261 §21.4.26 488 with Warning §20.43, §21.5.4 503
//! with Retry-After, §14.2 a refused re-INVITE leaves the session as it was, §13.2.2.4 a 2xx
//! whose session description cannot be accepted is ACKed and the dialog released): the call's
//! side of the seam, with a transform that refuses what a relay could not carry.

use super::testing::*;
use super::*;
use crate::sip::header::HeaderName;
use bytes::Bytes;

/// The seam as the media layer drives it: a DTLS-SRTP-only description cannot be carried
/// (488), one marked `s=exhaust` finds no free ports (503); anything else passes unchanged.
fn seam() -> Option<BodyTransform> {
    Some(Box::new(|_ctx: &BodyContext<'_>, body: Bytes| {
        let text = String::from_utf8_lossy(&body);
        if text.contains("UDP/TLS/RTP/SAVPF") {
            Err(MediaRefusal::Transport)
        } else if text.contains("s=exhaust") {
            Err(MediaRefusal::Exhausted)
        } else {
            Ok(body)
        }
    }))
}

fn dtls() -> String {
    SDP.replace("RTP/AVP", "UDP/TLS/RTP/SAVPF")
}

fn hold() -> String {
    SDP.replace("m=audio", "a=sendonly\r\nm=audio")
}

/// The one final response on `leg`, with its status.
fn only_final(actions: &[Action], leg: Leg, code: u16) -> Message {
    let responses = answered(actions, leg);
    assert_eq!(
        responses
            .iter()
            .filter_map(Message::status)
            .collect::<Vec<_>>(),
        vec![code]
    );
    responses[0].clone()
}

#[test]
fn initial_offer_with_no_line_to_carry_is_488_with_warning_and_never_reaches_b() {
    let (rig, actions) = Rig::start_with(invite("", &dtls()), plan(), seam());
    assert!(sent(&actions, Leg::B).is_empty(), "B saw an INVITE");
    let r = only_final(&actions, Leg::A, 488);
    assert_eq!(
        header(&r, HeaderName::Warning).as_deref(),
        Some("302 203.0.113.1 \"Incompatible transport protocol\"")
    );
    assert!(r.to_header().unwrap().tag().is_some());
    assert!(header(&r, HeaderName::RetryAfter).is_none());
    assert_eq!(ended(&actions), Some((EndReason::MediaRefused, Some(488))));
    assert!(!actions.iter().any(|a| matches!(a, Action::SetTimer { .. })));
    assert!(rig.call.is_idle());
}

#[test]
fn initial_offer_without_media_ports_is_503_with_retry_after() {
    let exhaust = SDP.replace("s=-", "s=exhaust");
    let (rig, actions) = Rig::start_with(invite("", &exhaust), plan(), seam());
    assert!(sent(&actions, Leg::B).is_empty(), "B saw an INVITE");
    let r = only_final(&actions, Leg::A, 503);
    assert_eq!(
        header(&r, HeaderName::RetryAfter),
        Some(RETRY_AFTER_SECS.to_string())
    );
    assert!(header(&r, HeaderName::Warning).is_none());
    assert_eq!(ended(&actions), Some((EndReason::MediaRefused, Some(503))));
    assert!(rig.call.is_idle());
}

#[test]
fn refused_reoffer_is_488_on_its_leg_and_the_call_goes_on() {
    for (from, m, host) in [
        (Leg::A, "INVITE", "203.0.113.1"),
        (Leg::B, "INVITE", "10.0.0.1"),
        (Leg::A, "UPDATE", "203.0.113.1"),
        (Leg::B, "UPDATE", "10.0.0.1"),
    ] {
        let mut rig = Rig::confirmed_with(SDP, seam());
        let to = from.other();
        let before = match to {
            Leg::A => rig.a_requests.len(),
            Leg::B => rig.b_requests.len(),
        };
        let actions = rig.request(from, m, "", &dtls());
        let r = only_final(&actions, from, 488);
        let warning = header(&r, HeaderName::Warning).unwrap();
        assert!(warning.starts_with(&format!("302 {host} ")), "{warning}");
        assert!(sent(&actions, to).is_empty(), "{from:?} {m} relayed");
        assert!(sent(&actions, from).is_empty(), "{from:?} {m}: BYE sent");
        assert_eq!(ended(&actions), None);
        // The session is unchanged and the next offer goes through (no glare left behind).
        let actions = rig.request(from, m, "", &hold());
        let out = rig.last(to);
        assert_eq!(method(&out).as_bytes(), m.as_bytes(), "{from:?}");
        assert_eq!(out.body, hold().as_bytes());
        assert_eq!(sent(&actions, to).len(), 1);
        let after = match to {
            Leg::A => rig.a_requests.len(),
            Leg::B => rig.b_requests.len(),
        };
        assert_eq!(after, before + 1);
        let back = rig.match_reply(to, &out, 200, SDP);
        assert_eq!(codes(&back, from), vec![200]);
        assert!(!rig.call.is_idle());
    }
}

#[test]
fn refused_reoffer_keeps_the_old_remote_target() {
    let mut rig = Rig::confirmed_with(SDP, seam());
    // A re-INVITE that would move A's target to another Contact, with an offer refused.
    let (request, tx) = rig.a_request("INVITE", "", &dtls());
    let moved = String::from_utf8_lossy(&request.to_bytes()).replace(
        "<sip:alice@198.51.100.7:5060>",
        "<sip:alice@198.51.100.99:5060>",
    );
    let request = parse(&moved);
    let actions = rig.feed(CallEvent::Request {
        leg: Leg::A,
        request,
        tx,
    });
    assert_eq!(codes(&actions, Leg::A), vec![488]);
    rig.request(Leg::B, "BYE", "", "");
    let bye = rig.last(Leg::A);
    assert_eq!(
        bye.request_line().unwrap().uri,
        "sip:alice@198.51.100.7:5060"
    );
}

#[test]
fn unacceptable_answer_in_b_2xx_is_acked_byed_and_488_to_a() {
    let (mut rig, _) = Rig::start_with(invite("", SDP), plan(), seam());
    let inv = rig.b_invite.clone();
    let actions = rig.b_reply(&inv, 200, &[], &dtls());
    let ack = &acks(&actions, Leg::B);
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].cseq().unwrap().seq, inv.cseq().unwrap().seq);
    assert!(ack[0].body.is_empty());
    let bye = sent(&actions, Leg::B);
    assert_eq!(bye.len(), 1);
    assert_eq!(method(&bye[0]), Method::Bye);
    let r = only_final(&actions, Leg::A, 488);
    assert!(header(&r, HeaderName::Warning).is_some());
    assert!(r.body.is_empty());
    assert_eq!(ended(&actions), None);
    let done = rig.b_reply(&bye[0], 200, &[], "");
    assert_eq!(ended(&done), Some((EndReason::MediaRefused, Some(488))));
    assert!(rig.call.is_idle());
}

#[test]
fn unacceptable_early_answer_gives_the_call_up() {
    let (mut rig, _) = Rig::start_with(invite("", SDP), plan(), seam());
    let inv = rig.b_invite.clone();
    let actions = rig.b_reply(&inv, 183, &[], &dtls());
    only_final(&actions, Leg::A, 488);
    let cancel = sent(&actions, Leg::B);
    assert_eq!(cancel.len(), 1);
    assert_eq!(method(&cancel[0]), Method::Cancel);
    rig.b_reply(&cancel[0], 200, &[], "");
    let done = rig.b_reply(&inv, 487, &[], "");
    assert_eq!(ended(&done), Some((EndReason::MediaRefused, Some(488))));
    assert!(rig.call.is_idle());
}

#[test]
fn unacceptable_answer_to_a_reinvite_ends_the_call_cleanly() {
    for from in [Leg::A, Leg::B] {
        let to = from.other();
        let mut rig = Rig::confirmed_with(SDP, seam());
        rig.request(from, "INVITE", "", &hold());
        let out = rig.last(to);
        let actions = rig.match_reply(to, &out, 200, &dtls());
        let ack = acks(&actions, to);
        assert_eq!(ack.len(), 1, "{from:?}");
        assert_eq!(ack[0].cseq().unwrap().seq, out.cseq().unwrap().seq);
        let r = only_final(&actions, from, 488);
        assert!(r.body.is_empty());
        let byes: Vec<Message> = [Leg::A, Leg::B]
            .iter()
            .flat_map(|leg| sent(&actions, *leg))
            .collect();
        assert_eq!(byes.len(), 2, "{from:?}");
        assert!(byes.iter().all(|m| method(m) == Method::Bye));
        for bye in &byes {
            let leg = if bye.call_id().unwrap().as_bytes() == "a-call@198.51.100.7" {
                Leg::A
            } else {
                Leg::B
            };
            let done = rig.match_reply(leg, bye, 200, "");
            if let Some(end) = ended(&done) {
                assert_eq!(end, (EndReason::MediaRefused, Some(200)));
            }
        }
        assert!(rig.call.is_idle(), "{from:?}");
    }
}

/// The answer that rejects B's one-line offer `m=audio … <proto> 0`.
fn rejecting(proto: &str) -> String {
    format!(
        "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 0 {proto} 0\r\n"
    )
}

/// The ACK's body, checked to be declared as SDP.
fn sdp_body(ack: &Message) -> String {
    assert_eq!(
        header(ack, HeaderName::ContentType).as_deref(),
        Some("application/sdp")
    );
    String::from_utf8(ack.body.to_vec()).unwrap()
}

#[test]
fn unacceptable_answer_in_an_ack_is_replaced_by_one_rejecting_every_stream() {
    let (mut rig, _) = Rig::start_with(invite("", ""), plan(), seam());
    let inv = rig.b_invite.clone();
    let actions = rig.b_reply(&inv, 200, &[], SDP);
    assert_eq!(codes(&actions, Leg::A), vec![200]);
    let actions = rig.request(Leg::A, "ACK", "", &dtls());
    let ack = acks(&actions, Leg::B);
    assert_eq!(ack.len(), 1);
    // B's offer is answered (RFC 3261 §13.2.2.4) without a stream, then the call ends.
    assert_eq!(sdp_body(&ack[0]), rejecting("RTP/AVP"));
    assert_eq!(sent(&actions, Leg::A).len(), 1);
    assert_eq!(sent(&actions, Leg::B).len(), 1);
}

#[test]
fn unacceptable_late_offer_in_b_2xx_is_acked_with_every_stream_rejected() {
    let (mut rig, _) = Rig::start_with(invite("", ""), plan(), seam());
    let inv = rig.b_invite.clone();
    assert!(inv.body.is_empty());
    let actions = rig.b_reply(&inv, 200, &[], &dtls());
    let ack = acks(&actions, Leg::B);
    assert_eq!(ack.len(), 1);
    assert_eq!(sdp_body(&ack[0]), rejecting("UDP/TLS/RTP/SAVPF"));
    let bye = sent(&actions, Leg::B);
    assert_eq!(bye.len(), 1);
    assert_eq!(method(&bye[0]), Method::Bye);
    only_final(&actions, Leg::A, 488);
    // A 2xx retransmission gets the same ACK again.
    let again = rig.b_reply(&inv, 200, &[], &dtls());
    let ack2 = acks(&again, Leg::B);
    assert_eq!(ack2.len(), 1);
    assert_eq!(ack2[0].body, ack[0].body);
    let done = rig.b_reply(&bye[0], 200, &[], "");
    assert_eq!(ended(&done), Some((EndReason::MediaRefused, Some(488))));
    assert!(rig.call.is_idle());
}

#[test]
fn unparseable_late_offer_in_b_2xx_is_acked_without_a_body() {
    let (mut rig, _) = Rig::start_with(invite("", ""), plan(), seam());
    let inv = rig.b_invite.clone();
    let actions = rig.b_reply(&inv, 200, &[], "garbage UDP/TLS/RTP/SAVPF\r\n");
    let ack = acks(&actions, Leg::B);
    assert_eq!(ack.len(), 1);
    assert!(ack[0].body.is_empty());
    only_final(&actions, Leg::A, 488);
}

#[test]
fn an_unacceptable_answer_to_an_early_offer_is_acked_without_a_body() {
    // B answered the SBC's offer: the ACK has nothing to answer.
    let (mut rig, _) = Rig::start_with(invite("", SDP), plan(), seam());
    let inv = rig.b_invite.clone();
    let actions = rig.b_reply(&inv, 200, &[], &dtls());
    assert!(acks(&actions, Leg::B)[0].body.is_empty());
}

#[test]
fn unacceptable_offer_in_the_2xx_to_a_bodyless_reinvite_is_answered_with_every_stream_rejected() {
    for from in [Leg::A, Leg::B] {
        let to = from.other();
        let mut rig = Rig::confirmed_with(SDP, seam());
        rig.request(from, "INVITE", "", "");
        let out = rig.last(to);
        assert!(out.body.is_empty());
        let actions = rig.match_reply(to, &out, 200, &dtls());
        let ack = acks(&actions, to);
        assert_eq!(ack.len(), 1, "{from:?}");
        assert_eq!(sdp_body(&ack[0]), rejecting("UDP/TLS/RTP/SAVPF"));
        only_final(&actions, from, 488);
    }
}
