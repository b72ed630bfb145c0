//! Subscription flows table-tested without sockets: RFC 6665 through the B2BUA.

use super::testing::*;
use super::*;
use crate::sip::header::HeaderName;
use crate::sip::method::Method;

const EVENT: &str = "Event: message-summary\r\n";

fn text(m: &Message) -> String {
    String::from_utf8_lossy(&m.to_bytes()).into_owned()
}

/// Subscribes with `Expires: 600` and lets the notifier accept with 200.
fn active() -> Rig {
    let (mut rig, _) = Rig::start(subscribe(1, "", &format!("{EVENT}Expires: 600\r\n")));
    let b_sub = rig.last(Leg::B);
    let actions = rig.reply(Leg::B, &b_sub, 200, &[("Expires", "600")]);
    assert_eq!(codes(&actions, Leg::A), vec![200]);
    rig
}

#[test]
fn initial_subscribe_hides_the_subscriber() {
    let (rig, actions) = Rig::start(subscribe(1, "", &format!("{EVENT}Expires: 7200\r\n")));
    let b_sub = rig.last(Leg::B);
    let wire = text(&b_sub);
    assert!(Rig::is_method(&b_sub, Method::Subscribe));
    assert_eq!(b_sub.request_line().unwrap().uri, "sip:1001@10.0.0.9:5080");
    for leak in [
        "a-sub@",
        "atag",
        "198.51.100.7",
        "192.0.2.50",
        "Phone/9.1",
        "P-Asserted",
        "X-Internal",
    ] {
        assert!(!wire.contains(leak), "{leak} leaked:\n{wire}");
    }
    assert_eq!(
        b_sub.headers.get(HeaderName::Event).unwrap(),
        "message-summary"
    );
    assert_eq!(
        b_sub.headers.get(HeaderName::Accept).unwrap(),
        "application/simple-message-summary"
    );
    assert_eq!(
        b_sub.expires().unwrap().unwrap().0,
        3600,
        "cut to the maximum"
    );
    assert_eq!(b_sub.headers.get(HeaderName::UserAgent).unwrap(), "SBC");
    assert!(wire.contains("Contact: <sip:10.0.0.1:5060>"), "{wire}");
    assert_eq!(b_sub.max_forwards().unwrap().unwrap().0, 69);
    assert!(codes(&actions, Leg::A).is_empty());
    assert!(timer(&actions).is_some());
}

#[test]
fn accepted_subscription_reaches_the_subscriber_with_the_sbc_contact() {
    let (mut rig, _) = Rig::start(subscribe(1, "", &format!("{EVENT}Expires: 600\r\n")));
    let b_sub = rig.last(Leg::B);
    let actions = rig.reply(Leg::B, &b_sub, 202, &[("Expires", "300")]);
    let ok = &answered(&actions, Leg::A)[0];
    assert_eq!(ok.status(), Some(202));
    assert_eq!(ok.expires().unwrap().unwrap().0, 300);
    assert!(text(ok).contains("Contact: <sip:203.0.113.1:5060>"));
    assert!(!text(ok).contains("PBX/1.0") && !text(ok).contains("ntag"));
    assert_eq!(ok.call_id().unwrap().as_bytes(), "a-sub@198.51.100.7");
    assert_eq!(
        ok.headers.get(HeaderName::RecordRoute).unwrap(),
        "<sip:192.0.2.50;lr>",
        "A's route set is confirmed"
    );
    assert_eq!(timer(&actions), Some(rig.now + Duration::from_secs(310)));
    assert!(ended(&actions).is_none());
}

#[test]
fn notify_is_relayed_with_its_body_untouched() {
    let mut rig = active();
    let (notify, actions) = rig.notify("active;expires=500");
    let to_a = &sent(&actions, Leg::A)[0];
    assert!(Rig::is_method(to_a, Method::Notify));
    assert_eq!(to_a.call_id().unwrap().as_bytes(), "a-sub@198.51.100.7");
    assert_eq!(to_a.to_header().unwrap().tag().unwrap(), "atag");
    assert_eq!(
        to_a.request_line().unwrap().uri,
        "sip:1001@198.51.100.7:5060"
    );
    assert_eq!(to_a.body, MWI.as_bytes());
    assert_eq!(
        to_a.headers.get(HeaderName::ContentType).unwrap(),
        "application/simple-message-summary"
    );
    assert_eq!(
        to_a.headers.get(HeaderName::SubscriptionState).unwrap(),
        "active;expires=500"
    );
    let wire = text(to_a);
    assert!(
        !wire.contains("10.0.0.9") && !wire.contains("PBX/1.0"),
        "{wire}"
    );
    assert_eq!(timer(&actions), Some(rig.now + Duration::from_secs(510)));
    let actions = rig.reply(Leg::A, to_a, 200, &[]);
    let to_b = &answered(&actions, Leg::B)[0];
    assert_eq!(to_b.status(), Some(200));
    assert_eq!(to_b.cseq().unwrap(), notify.cseq().unwrap());
    assert!(ended(&actions).is_none());
}

#[test]
fn notify_before_the_2xx_creates_the_dialog() {
    let (mut rig, _) = Rig::start(subscribe(1, "", &format!("{EVENT}Expires: 600\r\n")));
    let b_sub = rig.last(Leg::B);
    let (_, actions) = rig.notify("active;expires=600");
    let to_a = &sent(&actions, Leg::A)[0];
    assert!(Rig::is_method(to_a, Method::Notify));
    rig.reply(Leg::A, to_a, 200, &[]);
    let actions = rig.reply(Leg::B, &b_sub, 200, &[("Expires", "600")]);
    assert_eq!(codes(&actions, Leg::A), vec![200]);
    // Refreshes go in the dialog the NOTIFY created.
    let (_, actions) = rig.refresh(2, &format!("{EVENT}Expires: 600\r\n"));
    let refresh = &sent(&actions, Leg::B)[0];
    assert_eq!(refresh.to_header().unwrap().tag().unwrap(), "ntag");
    assert_eq!(refresh.request_line().unwrap().uri, "sip:mwi@10.0.0.9:5080");
}

#[test]
fn refresh_moves_the_expiry() {
    let mut rig = active();
    rig.advance(Duration::from_secs(300));
    let (_, actions) = rig.refresh(2, &format!("{EVENT}Expires: 900\r\n"));
    let refresh = &sent(&actions, Leg::B)[0];
    assert_eq!(refresh.cseq().unwrap().seq, 2);
    assert_eq!(
        refresh.call_id().unwrap(),
        rig.b_requests[0].call_id().unwrap()
    );
    assert_eq!(refresh.expires().unwrap().unwrap().0, 900);
    let actions = rig.reply(Leg::B, refresh, 200, &[("Expires", "800")]);
    assert_eq!(codes(&actions, Leg::A), vec![200]);
    assert_eq!(timer(&actions), Some(rig.now + Duration::from_secs(810)));
    // An old CSeq is out of order (RFC 3261 §12.2.2).
    let (_, actions) = rig.refresh(2, EVENT);
    assert_eq!(codes(&actions, Leg::A), vec![500]);
    // Another package in the dialog is refused.
    let (_, actions) = rig.refresh(3, "Event: presence\r\n");
    assert_eq!(codes(&actions, Leg::A), vec![489]);
}

#[test]
fn unsubscribe_ends_with_the_terminating_notify() {
    let mut rig = active();
    let (_, actions) = rig.refresh(2, &format!("{EVENT}Expires: 0\r\n"));
    let unsub = &sent(&actions, Leg::B)[0];
    assert_eq!(unsub.expires().unwrap().unwrap().0, 0);
    let actions = rig.reply(Leg::B, unsub, 200, &[("Expires", "0")]);
    assert_eq!(codes(&actions, Leg::A), vec![200]);
    assert_eq!(timer(&actions), Some(rig.now + Duration::from_secs(10)));
    let (_, actions) = rig.notify("terminated;reason=timeout");
    let to_a = &sent(&actions, Leg::A)[0];
    assert!(ended(&actions).is_none(), "waits for the NOTIFY's answer");
    let actions = rig.reply(Leg::A, to_a, 200, &[]);
    assert_eq!(codes(&actions, Leg::B), vec![200]);
    assert_eq!(ended(&actions), Some(SubEnd::Terminated));
    assert!(rig.sub.is_ended());
}

#[test]
fn expiry_without_refresh_ends_the_subscription() {
    let mut rig = active();
    // An early timer (moved since) does nothing.
    rig.advance(Duration::from_secs(100));
    assert!(rig.feed(SubEvent::Expired).is_empty());
    rig.advance(Duration::from_secs(510));
    let actions = rig.feed(SubEvent::Expired);
    let to_a = &sent(&actions, Leg::A)[0];
    assert!(Rig::is_method(to_a, Method::Notify));
    assert_eq!(
        to_a.headers.get(HeaderName::SubscriptionState).unwrap(),
        "terminated;reason=timeout"
    );
    assert_eq!(
        to_a.headers.get(HeaderName::Event).unwrap(),
        "message-summary"
    );
    assert_eq!(ended(&actions), Some(SubEnd::Expired));
    // Anything later in the dialog gets 481.
    let (_, actions) = rig.refresh(5, EVENT);
    assert_eq!(codes(&actions, Leg::A), vec![481]);
}

#[test]
fn refusals_of_the_initial_subscribe() {
    type Case<'a> = (&'a str, u16, Option<(HeaderName, &'a str)>);
    let cases: [Case<'_>; 6] = [
        (
            "Event: conference\r\n",
            489,
            Some((
                HeaderName::AllowEvents,
                "message-summary, dialog, presence, refer",
            )),
        ),
        ("", 489, None),
        (
            "Event: presence\r\nExpires: 10\r\n",
            423,
            Some((HeaderName::MinExpires, "60")),
        ),
        ("Event: dialog\r\nMax-Forwards: 0\r\n", 483, None),
        (
            "Event: dialog\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsbc0001\r\n",
            482,
            None,
        ),
        ("Event: dialog\r\nExpires: soon\r\n", 400, None),
    ];
    for (extra, code, header) in cases {
        let mut text = String::from_utf8_lossy(&subscribe(1, "", extra).to_bytes()).into_owned();
        if extra.contains("Max-Forwards") {
            text = text.replacen("Max-Forwards: 70\r\n", "", 1);
        }
        let request = parse(&text);
        let refused =
            Subscription::new(&request, &tx(&request), plan(), &config(), t0()).expect_err(extra);
        let response = *refused;
        assert_eq!(response.status(), Some(code), "{extra}");
        if let Some((name, value)) = header {
            assert_eq!(response.headers.get(name).unwrap(), value, "{extra}");
        }
    }
}

#[test]
fn notifier_failures_map_back_and_end() {
    let cases = [
        (404, 404, SubEnd::Rejected),
        (503, 500, SubEnd::Rejected),
        (489, 489, SubEnd::Rejected),
    ];
    for (code, want, reason) in cases {
        let (mut rig, _) = Rig::start(subscribe(1, "", EVENT));
        let b_sub = rig.last(Leg::B);
        let actions = rig.reply(Leg::B, &b_sub, code, &[]);
        assert_eq!(codes(&actions, Leg::A), vec![want], "{code}");
        assert_eq!(ended(&actions), Some(reason));
    }
    let (mut rig, _) = Rig::start(subscribe(1, "", EVENT));
    let b_sub = rig.last(Leg::B);
    let actions = rig.feed(SubEvent::Failed {
        leg: Leg::B,
        tx: tx(&b_sub),
        status: 408,
    });
    assert_eq!(codes(&actions, Leg::A), vec![408]);
    assert_eq!(ended(&actions), Some(SubEnd::Failed));
}

#[test]
fn undeliverable_notify_ends_the_subscription() {
    // Timeout toward the subscriber: the notifier hears 408.
    let mut rig = active();
    let (_, actions) = rig.notify("active");
    let to_a = sent(&actions, Leg::A)[0].clone();
    let actions = rig.feed(SubEvent::Failed {
        leg: Leg::A,
        tx: tx(&to_a),
        status: 408,
    });
    assert_eq!(codes(&actions, Leg::B), vec![408]);
    assert_eq!(ended(&actions), Some(SubEnd::Failed));
    // The subscriber no longer knows the dialog: 481 is passed on.
    let mut rig = active();
    let (_, actions) = rig.notify("active");
    let to_a = sent(&actions, Leg::A)[0].clone();
    let actions = rig.reply(Leg::A, &to_a, 481, &[]);
    assert_eq!(codes(&actions, Leg::B), vec![481]);
    assert_eq!(ended(&actions), Some(SubEnd::Failed));
}

#[test]
fn other_methods_and_strangers_are_refused() {
    let mut rig = active();
    let (_, actions) = rig.notify("bogus-without-state;");
    assert!(
        sent(&actions, Leg::A).len() == 1,
        "an extension state is relayed"
    );
    let to_tag = String::from_utf8_lossy(&rig.sub.a.local_tag).into_owned();
    let bye = parse(
        &text(&subscribe(9, &to_tag, EVENT))
            .replace("SUBSCRIBE sip:", "BYE sip:")
            .replace("9 SUBSCRIBE", "9 BYE"),
    );
    let actions = rig.feed(SubEvent::Request {
        leg: Leg::A,
        request: bye.clone(),
        tx: tx(&bye),
    });
    assert_eq!(codes(&actions, Leg::A), vec![405]);
    let stranger = subscribe(10, "not-ours", EVENT);
    let actions = rig.feed(SubEvent::Request {
        leg: Leg::A,
        request: stranger.clone(),
        tx: tx(&stranger),
    });
    assert_eq!(codes(&actions, Leg::A), vec![481]);
}

#[test]
fn a_side_whose_flow_is_gone_ends_the_subscription() {
    // The subscriber's connection closed: the notifier gets an unsubscribe.
    let mut rig = active();
    let actions = rig.feed(SubEvent::Gone { leg: Leg::A });
    let unsubscribe = &sent(&actions, Leg::B)[0];
    assert!(Rig::is_method(unsubscribe, Method::Subscribe));
    assert_eq!(unsubscribe.expires().unwrap().unwrap().0, 0);
    assert_eq!(unsubscribe.to_header().unwrap().tag().unwrap(), "ntag");
    assert_eq!(
        unsubscribe.headers.get(HeaderName::Event).unwrap(),
        "message-summary"
    );
    assert_eq!(ended(&actions), Some(SubEnd::Failed));
    // The notifier's connection closed: the subscriber may subscribe again.
    let mut rig = active();
    let actions = rig.feed(SubEvent::Gone { leg: Leg::B });
    let notify = &sent(&actions, Leg::A)[0];
    assert_eq!(
        notify.headers.get(HeaderName::SubscriptionState).unwrap(),
        "terminated;reason=deactivated"
    );
    assert_eq!(ended(&actions), Some(SubEnd::Failed));
    // Before the notifier answered, nothing can be sent to it; the subscriber's SUBSCRIBE is
    // answered.
    let (mut rig, _) = Rig::start(subscribe(1, "", EVENT));
    let actions = rig.feed(SubEvent::Gone { leg: Leg::A });
    assert!(sent(&actions, Leg::B).is_empty());
    assert_eq!(codes(&actions, Leg::A), vec![480]);
}

#[test]
fn every_default_package_passes_with_its_body_untouched() {
    let packages = [
        ("message-summary", "application/simple-message-summary", MWI),
        (
            "dialog",
            "application/dialog-info+xml",
            "<dialog-info version=\"1\" state=\"full\"/>",
        ),
        (
            "presence",
            "application/pidf+xml",
            "<presence entity=\"sip:1001@x\"/>",
        ),
        ("refer", "message/sipfrag", "SIP/2.0 200 OK\r\n"),
    ];
    for (package, content_type, body) in packages {
        let (mut rig, _) = Rig::start(subscribe(1, "", &format!("Event: {package};id=3\r\n")));
        let b_sub = rig.last(Leg::B);
        let event = format!("{package};id=3");
        assert_eq!(b_sub.headers.get(HeaderName::Event).unwrap(), &event);
        rig.reply(Leg::B, &b_sub, 200, &[("Expires", "600")]);
        let (_, actions) = rig.notify_with("active", &event, content_type, body);
        let relayed = &sent(&actions, Leg::A)[0];
        assert_eq!(relayed.body, body.as_bytes(), "{package}");
        assert_eq!(
            relayed.headers.get(HeaderName::ContentType).unwrap(),
            content_type
        );
        assert_eq!(relayed.headers.get(HeaderName::Event).unwrap(), &event);
    }
}
