//! CANCEL in every race (RFC 3261 §9.1, §9.2; RFC 3665 §3.8), Timer C and the no-answer
//! timeout: each case drives the call to its end and checks nothing is left armed.

use super::testing::*;
use super::*;
use std::time::Duration;

/// A's CANCEL for its INVITE.
fn cancel_from_a(rig: &mut Rig) -> Vec<Action> {
    let inv = invite("", SDP);
    let text = String::from_utf8_lossy(&inv.to_bytes())
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("CSeq: 10 INVITE", "CSeq: 10 CANCEL");
    let request = parse(&text);
    let tx = TxKey::for_request(&request).unwrap();
    rig.feed(CallEvent::Request {
        leg: Leg::A,
        request,
        tx,
    })
}

#[derive(Debug, Clone, Copy)]
enum Before {
    Nothing,
    Trying,
    Ringing,
}

#[test]
fn cancel_waits_for_a_provisional_then_ends_on_487() {
    for before in [Before::Nothing, Before::Trying, Before::Ringing] {
        let (mut rig, _) = Rig::start(invite("", SDP), plan());
        let inv = rig.b_invite.clone();
        match before {
            Before::Nothing => {}
            Before::Trying => {
                rig.b_reply(&inv, 100, &[], "");
            }
            Before::Ringing => {
                rig.b_reply(&inv, 180, &[], "");
            }
        }
        let actions = cancel_from_a(&mut rig);
        assert_eq!(codes(&actions, Leg::A), vec![200, 487], "{before:?}");
        let cancel_now = !matches!(before, Before::Nothing);
        assert_eq!(
            sent(&actions, Leg::B).len(),
            usize::from(cancel_now),
            "{before:?}"
        );
        if !cancel_now {
            // §9.1: the CANCEL goes out with B's first provisional, which is not relayed.
            let late = rig.b_reply(&inv, 180, &[], "");
            assert!(answered(&late, Leg::A).is_empty());
            assert_eq!(sent(&late, Leg::B).len(), 1);
        }
        let cancel = rig.last(Leg::B);
        assert_eq!(method(&cancel), Method::Cancel);
        assert_eq!(
            cancel.top_via().unwrap().branch(),
            inv.top_via().unwrap().branch()
        );
        assert!(ended(&rig.b_reply(&cancel, 200, &[], "")).is_none());
        let done = rig.b_reply(&inv, 487, &[], "");
        assert!(answered(&done, Leg::A).is_empty());
        assert_eq!(
            ended(&done),
            Some((EndReason::Cancelled, Some(487))),
            "{before:?}"
        );
        assert!(rig.call.is_idle(), "{before:?}");
    }
}

#[test]
fn cancel_crossing_200_acks_and_byes_b() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    rig.b_reply(&inv, 180, &[], "");
    cancel_from_a(&mut rig);
    let crossing = rig.b_reply(&inv, 200, &[], SDP);
    assert!(answered(&crossing, Leg::A).is_empty());
    let ack = &acks(&crossing, Leg::B)[0];
    assert_eq!(ack.to_header().unwrap().tag().unwrap(), "btag");
    let bye = rig.last(Leg::B);
    assert_eq!(method(&bye), Method::Bye);
    assert_eq!(bye.request_line().unwrap().uri, "sip:bob@10.0.0.9:5080");
    let done = rig.b_reply(&bye, 200, &[], "");
    assert_eq!(ended(&done), Some((EndReason::Cancelled, Some(487))));
    assert!(rig.call.is_idle());
}

#[test]
fn cancel_after_the_answer_only_gets_200() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    rig.b_reply(&inv, 200, &[], SDP);
    let actions = cancel_from_a(&mut rig);
    assert_eq!(codes(&actions, Leg::A), vec![200]);
    assert!(sent(&actions, Leg::B).is_empty());
    assert!(ended(&actions).is_none());
}

#[test]
fn cancel_without_final_answer_gives_up_after_64_t1() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    rig.b_reply(&inv, 180, &[], "");
    let actions = cancel_from_a(&mut rig);
    assert!(actions.iter().any(|a| matches!(
        a,
        Action::SetTimer {
            timer: CallTimer::CancelWait,
            ..
        }
    )));
    rig.advance(Duration::from_secs(32));
    let done = rig.feed(CallEvent::Timer(CallTimer::CancelWait));
    assert_eq!(ended(&done), Some((EndReason::Cancelled, Some(487))));
    assert!(rig.call.is_idle());
}

#[test]
fn timers_give_the_call_up() {
    let cases = [
        (CallTimer::TimerC, 408, EndReason::TimerC),
        (CallTimer::NoAnswer, 480, EndReason::NoAnswer),
    ];
    for (timer, code, reason) in cases {
        let (mut rig, _) = Rig::start(invite("", SDP), plan());
        let inv = rig.b_invite.clone();
        rig.b_reply(&inv, 180, &[], "");
        rig.advance(Duration::from_secs(180));
        let actions = rig.feed(CallEvent::Timer(timer));
        assert_eq!(codes(&actions, Leg::A), vec![code], "{timer:?}");
        assert_eq!(method(&rig.last(Leg::B)), Method::Cancel);
        let done = rig.b_reply(&inv, 487, &[], "");
        assert_eq!(ended(&done), Some((reason, Some(code))), "{timer:?}");
        assert!(rig.call.is_idle(), "{timer:?}");
    }
}

#[test]
fn provisionals_restart_timer_c() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    rig.advance(Duration::from_secs(100));
    let actions = rig.b_reply(&inv, 180, &[], "");
    assert!(actions.contains(&Action::SetTimer {
        timer: CallTimer::TimerC,
        at: rig.now + TIMER_C,
    }));
}

#[test]
fn bye_from_a_on_the_early_dialog_acts_as_cancel() {
    let (mut rig, _) = Rig::start(invite("", SDP), plan());
    let inv = rig.b_invite.clone();
    rig.b_reply(&inv, 180, &[], "");
    let actions = rig.request(Leg::A, "BYE", "", "");
    assert_eq!(codes(&actions, Leg::A), vec![200, 487]);
    assert_eq!(method(&rig.last(Leg::B)), Method::Cancel);
}
