//! Virtual-time tests of the non-INVITE server transaction: RFC 3261 §17.2.2 (retransmission
//! absorption, Timer J).

use crate::sip::transaction::testing::*;
use crate::sip::transaction::{TransactionLayer, TxError, TxEvent, TxKey};

const SENT_BY: &str = "198.51.100.7:5060";

fn options() -> crate::sip::Message {
    request("OPTIONS", "z9hG4bKo1", SENT_BY)
}

fn arrive(l: &mut TransactionLayer<Addr>, reliable: bool, at: std::time::Instant) -> TxKey {
    l.handle_incoming(options(), PEER, reliable, at).unwrap();
    match events(l).as_slice() {
        [TxEvent::NewRequest { key, .. }] => key.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn retransmissions_are_absorbed_then_answered_with_the_last_response() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, false, base);
    // Trying: absorbed, and no 100 Trying for non-INVITE.
    l.handle_incoming(options(), PEER, false, base + ms(500))
        .unwrap();
    assert!(transmits(&mut l).is_empty());
    assert!(events(&mut l).is_empty());
    assert_eq!(l.poll_timeout(), None);
    l.respond(&key, reply(&options(), 100), base + ms(600))
        .unwrap();
    let provisional = transmits(&mut l);
    l.handle_incoming(options(), PEER, false, base + ms(700))
        .unwrap();
    assert_eq!(transmits(&mut l)[0].payload, provisional[0].payload);
    l.respond(&key, reply(&options(), 200), base + secs(1))
        .unwrap();
    let fin = transmits(&mut l);
    assert_eq!(wire(&fin[0]).status(), Some(200));
    l.handle_incoming(options(), PEER, false, base + secs(2))
        .unwrap();
    assert_eq!(transmits(&mut l)[0].payload, fin[0].payload);
    assert!(events(&mut l).is_empty());
    assert_eq!(
        l.respond(&key, reply(&options(), 500), base + secs(2)),
        Err(TxError::InvalidState {
            code: 500,
            state: "Completed"
        })
    );
}

#[test]
fn timer_j_is_64_t1_unreliable() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, false, base);
    l.respond(&key, reply(&options(), 200), base + secs(1))
        .unwrap();
    assert_eq!(transmits(&mut l).len(), 1);
    assert_eq!(l.poll_timeout(), Some(base + secs(33)));
    assert!(advance(&mut l, base + ms(32_999)).is_empty());
    assert_eq!(l.len(), 1);
    assert!(advance(&mut l, base + secs(33)).is_empty());
    assert_eq!(events(&mut l), vec![TxEvent::Terminated { key }]);
    assert!(l.is_empty());
    // After J a retransmission is a new request.
    arrive(&mut l, false, base + secs(34));
}

#[test]
fn timer_j_is_zero_reliable() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, true, base);
    l.respond(&key, reply(&options(), 200), base).unwrap();
    assert_eq!(transmits(&mut l).len(), 1);
    assert_eq!(events(&mut l), vec![TxEvent::Terminated { key }]);
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}
