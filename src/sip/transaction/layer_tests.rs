//! Matching and whole-flow tests of the transaction layer: RFC 3261 §17.1.3 and §17.2.3 keys,
//! §9 CANCEL, the RFC 2543 fallback (RFC 4475 `inv2543`), stray responses, and tables that
//! return to empty.

use crate::sip::header::HeaderName;
use crate::sip::method::Method;
use crate::sip::transaction::testing::*;
use crate::sip::transaction::{CancelTarget, TxEvent, TxKey};
use bytes::Bytes;

fn new_keys(events: &[TxEvent<Addr>]) -> Vec<TxKey> {
    events
        .iter()
        .filter_map(|e| match e {
            TxEvent::NewRequest { key, .. } => Some(key.clone()),
            _ => None,
        })
        .collect()
}

/// Runs every timer to the end of the longest transaction lifetime.
fn drain(l: &mut crate::sip::transaction::TransactionLayer<Addr>, base: std::time::Instant) {
    schedule(l, base, secs(300));
}

#[test]
fn same_branch_from_another_sent_by_is_another_transaction() {
    let base = t0();
    let mut l = layer();
    l.handle_incoming(
        request("BYE", "z9hG4bKx", "192.0.2.1:5060"),
        PEER,
        false,
        base,
    )
    .unwrap();
    l.handle_incoming(
        request("BYE", "z9hG4bKx", "192.0.2.2:5060"),
        PEER,
        false,
        base,
    )
    .unwrap();
    l.handle_incoming(
        request("BYE", "z9hG4bKx", "192.0.2.1:5060"),
        PEER,
        false,
        base,
    )
    .unwrap();
    let keys = new_keys(&events(&mut l));
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
    assert_eq!(l.len(), 2);
    for key in &keys {
        l.respond(
            key,
            reply(&request("BYE", "z9hG4bKx", "192.0.2.1:5060"), 200),
            base,
        )
        .unwrap();
    }
    drain(&mut l, base);
    assert!(l.is_empty());
}

#[test]
fn cancel_is_linked_to_its_invite_and_the_flow_ends_empty() {
    let base = t0();
    let mut l = layer();
    let sent_by = "198.51.100.7:5060";
    let invite = request("INVITE", "z9hG4bKc", sent_by);
    l.handle_incoming(invite.clone(), PEER, false, base)
        .unwrap();
    let invite_key = new_keys(&events(&mut l)).remove(0);
    let cancel = request("CANCEL", "z9hG4bKc", sent_by);
    l.handle_timeout(base + ms(300));
    l.handle_incoming(cancel.clone(), PEER, false, base + ms(300))
        .unwrap();
    let ev = events(&mut l);
    let [TxEvent::Cancel { key, target, .. }] = ev.as_slice() else {
        panic!("unexpected {ev:?}");
    };
    assert_eq!(*target, CancelTarget::Proceeding(invite_key.clone()));
    assert_eq!(key.method(), &Method::Cancel);
    l.respond(key, reply(&cancel, 200), base + ms(300)).unwrap();
    l.respond(&invite_key, reply(&invite, 487), base + ms(300))
        .unwrap();
    // A CANCEL retransmission gets the 200 again; a late one after the 487 says Answered.
    l.handle_incoming(cancel.clone(), PEER, false, base + ms(400))
        .unwrap();
    let sent: Vec<_> = transmits(&mut l).iter().map(|t| wire(t).status()).collect();
    assert_eq!(sent, vec![Some(100), Some(200), Some(487), Some(200)]);
    l.handle_incoming(ack("z9hG4bKc", sent_by), PEER, false, base + ms(500))
        .unwrap();
    assert!(events(&mut l).is_empty());
    drain(&mut l, base);
    let ev = events(&mut l);
    assert!(terminated(&ev, &invite_key) && terminated(&ev, key));
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn cancel_without_invite_is_not_found_and_after_final_is_answered() {
    let base = t0();
    let mut l = layer();
    l.handle_incoming(request("CANCEL", "z9hG4bKq", "192.0.2.9"), PEER, true, base)
        .unwrap();
    let ev = events(&mut l);
    let [
        TxEvent::Cancel {
            key,
            target: CancelTarget::NotFound,
            ..
        },
    ] = ev.as_slice()
    else {
        panic!("unexpected {ev:?}");
    };
    l.respond(
        key,
        reply(&request("CANCEL", "z9hG4bKq", "192.0.2.9"), 481),
        base,
    )
    .unwrap();
    assert!(l.is_empty());
    let invite = request("INVITE", "z9hG4bKr", "192.0.2.9");
    l.handle_incoming(invite.clone(), PEER, true, base).unwrap();
    let invite_key = new_keys(&events(&mut l)).remove(0);
    l.respond(&invite_key, reply(&invite, 200), base).unwrap();
    l.handle_incoming(request("CANCEL", "z9hG4bKr", "192.0.2.9"), PEER, true, base)
        .unwrap();
    assert!(matches!(
        &events(&mut l)[0],
        TxEvent::Cancel { target: CancelTarget::Answered(k), .. } if *k == invite_key
    ));
}

#[test]
fn rfc2543_invite_matches_retransmissions_and_its_ack() {
    let base = t0();
    let mut l = layer();
    let inv = parse(INV2543);
    l.handle_incoming(inv.clone(), PEER, false, base).unwrap();
    let key = new_keys(&events(&mut l)).remove(0);
    assert!(matches!(key, TxKey::Rfc2543 { .. }));
    l.handle_incoming(inv.clone(), PEER, false, base + ms(100))
        .unwrap();
    assert!(events(&mut l).is_empty());
    l.respond(&key, reply(&inv, 486), base + ms(150)).unwrap();
    assert_eq!(wire(&transmits(&mut l)[0]).status(), Some(486));
    let ack = INV2543
        .replace("INVITE sip:UserB", "ACK sip:UserB")
        .replace("56 INVITE", "56 ACK")
        .replace("user=phone\r\nCall-ID", "user=phone;tag=b1\r\nCall-ID");
    l.handle_incoming(parse(&ack), PEER, false, base + ms(200))
        .unwrap();
    assert!(events(&mut l).is_empty(), "ACK absorbed, not passed up");
    // Confirmed: no more Timer G.
    assert!(advance(&mut l, base + secs(2)).is_empty());
    // An ACK with another To tag is not ours.
    let other = ack.replace("tag=b1", "tag=zz");
    l.handle_incoming(parse(&other), PEER, false, base + secs(3))
        .unwrap();
    assert!(matches!(events(&mut l)[0], TxEvent::Ack2xx { .. }));
    drain(&mut l, base);
    assert!(l.is_empty());
}

#[test]
fn stray_responses_are_reported() {
    let base = t0();
    let mut l = layer();
    let req = request("OPTIONS", "z9hG4bKown", "192.0.2.1:5060");
    l.send_request(req.clone(), PEER, false, base).unwrap();
    transmits(&mut l);
    for (branch, sent_by) in [
        ("z9hG4bKother", "192.0.2.1:5060"),
        ("z9hG4bKown", "192.0.2.5"),
        ("old", "192.0.2.1:5060"),
    ] {
        let resp = reply(&request("OPTIONS", branch, sent_by), 200);
        l.handle_incoming(resp.clone(), "elsewhere", false, base)
            .unwrap();
        assert_eq!(
            events(&mut l),
            vec![TxEvent::StrayResponse {
                response: resp,
                from: "elsewhere"
            }]
        );
    }
    // A response to a CANCEL does not match the OPTIONS transaction either.
    let resp = reply(&request("CANCEL", "z9hG4bKown", "192.0.2.1:5060"), 200);
    l.handle_incoming(resp, PEER, false, base).unwrap();
    assert!(matches!(events(&mut l)[0], TxEvent::StrayResponse { .. }));
    assert_eq!(l.len(), 1);
}

#[test]
fn response_matches_despite_received_and_rport() {
    let base = t0();
    let mut l = layer();
    let req = request("OPTIONS", "z9hG4bKown", "192.0.2.1:5060");
    let key = l.send_request(req.clone(), PEER, false, base).unwrap();
    let mut resp = reply(&req, 200);
    resp.headers.set(
        HeaderName::Via,
        Bytes::from_static(
            b"SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKown;received=203.0.113.1;rport=4000",
        ),
    );
    l.handle_incoming(resp, PEER, false, base).unwrap();
    assert!(matches!(&events(&mut l)[0], TxEvent::Response { key: k, .. } if *k == key));
}

#[test]
fn client_invite_cancel_flow_ends_empty() {
    let base = t0();
    let mut l = layer();
    let inv = request("INVITE", "z9hG4bKi", "192.0.2.1:5060");
    let ik = l.send_request(inv.clone(), PEER, false, base).unwrap();
    l.handle_incoming(reply(&inv, 180), PEER, false, base + ms(50))
        .unwrap();
    let cancel = request("CANCEL", "z9hG4bKi", "192.0.2.1:5060");
    let ck = l
        .send_request(cancel.clone(), PEER, false, base + secs(3))
        .unwrap();
    assert_ne!(ik, ck);
    assert_eq!(ck.with_method(Method::Invite), ik);
    l.handle_incoming(reply(&cancel, 200), PEER, false, base + ms(3050))
        .unwrap();
    l.handle_incoming(reply(&inv, 487), PEER, false, base + ms(3060))
        .unwrap();
    let ev = events(&mut l);
    assert!(ev.contains(&TxEvent::Response {
        key: ck.clone(),
        response: reply(&cancel, 200)
    }));
    assert_eq!(responses(&ev), vec![180, 200, 487]);
    let sent: Vec<_> = transmits(&mut l).iter().map(wire).collect();
    assert_eq!(sent.last().unwrap().method(), Some(&Method::Ack));
    drain(&mut l, base);
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn looped_request_does_not_match_our_client_transaction() {
    let base = t0();
    let mut l = layer();
    let req = request("OPTIONS", "z9hG4bKloop", "192.0.2.1:5060");
    l.send_request(req.clone(), PEER, false, base).unwrap();
    l.handle_incoming(req, PEER, false, base).unwrap();
    assert_eq!(new_keys(&events(&mut l)).len(), 1);
    assert_eq!(l.len(), 2);
}

#[test]
fn stateless_sends_carry_no_key() {
    let mut l = layer();
    l.send_stateless(ack("z9hG4bKa2", "192.0.2.1"), PEER, true);
    let sent = transmits(&mut l);
    assert_eq!(sent[0].key, None);
    assert!(sent[0].reliable);
    assert_eq!(wire(&sent[0]).method(), Some(&Method::Ack));
    assert!(l.is_empty());
}

#[test]
fn rfc2543_cancel_is_linked_to_its_invite() {
    let base = t0();
    let mut l = layer();
    l.handle_incoming(parse(INV2543), PEER, true, base).unwrap();
    let invite_key = new_keys(&events(&mut l)).remove(0);
    let cancel = INV2543
        .replace("INVITE sip:UserB", "CANCEL sip:UserB")
        .replace("56 INVITE", "56 CANCEL");
    l.handle_incoming(parse(&cancel), PEER, true, base + ms(10))
        .unwrap();
    assert!(matches!(
        &events(&mut l)[0],
        TxEvent::Cancel { target: CancelTarget::Proceeding(k), .. } if *k == invite_key
    ));
    assert_eq!(l.len(), 2);
}
