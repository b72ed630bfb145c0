//! Virtual-time tests of the INVITE server transaction: RFC 3261 §17.2.1 (100 Trying, Timers G,
//! H, I, ACK absorption) and RFC 6026 §7.1 (Accepted, Timer L).

use crate::sip::transaction::testing::*;
use crate::sip::transaction::{Timer, TransactionLayer, TxError, TxEvent, TxKey};

const SENT_BY: &str = "198.51.100.7:5060";

fn invite() -> crate::sip::Message {
    request("INVITE", "z9hG4bKs1", SENT_BY)
}

/// Delivers the INVITE at `base` and returns its key.
fn arrive(l: &mut TransactionLayer<Addr>, reliable: bool, base: std::time::Instant) -> TxKey {
    l.handle_incoming(invite(), PEER, reliable, base).unwrap();
    match events(l).as_slice() {
        [TxEvent::NewRequest { key, from, .. }] if *from == PEER => key.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn trying_timer_sends_100_after_200_ms_and_retransmissions_repeat_it() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, false, base);
    // A retransmission before any response is absorbed.
    l.handle_incoming(invite(), PEER, false, base + ms(100))
        .unwrap();
    assert!(transmits(&mut l).is_empty());
    assert!(events(&mut l).is_empty());
    assert_eq!(l.poll_timeout(), Some(base + ms(200)));
    assert!(advance(&mut l, base + ms(199)).is_empty());
    let sent = advance(&mut l, base + ms(200));
    let trying = wire(&sent[0]);
    assert_eq!(trying.status(), Some(100));
    assert!(trying.to_header().unwrap().tag().is_none());
    assert_eq!(sent[0].key.as_ref(), Some(&key));
    l.handle_incoming(invite(), PEER, false, base + ms(700))
        .unwrap();
    assert_eq!(transmits(&mut l)[0].payload, sent[0].payload);
    assert_eq!(l.poll_timeout(), None);
    l.respond(&key, reply(&invite(), 180), base + secs(1))
        .unwrap();
    transmits(&mut l);
    l.handle_incoming(invite(), PEER, false, base + secs(2))
        .unwrap();
    assert_eq!(wire(&transmits(&mut l)[0]).status(), Some(180));
    assert!(l.terminate(&key));
    assert!(l.is_empty());
}

#[test]
fn a_fast_tu_answer_replaces_100_trying() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, true, base);
    l.respond(&key, reply(&invite(), 180), base + ms(50))
        .unwrap();
    assert_eq!(wire(&transmits(&mut l)[0]).status(), Some(180));
    assert_eq!(l.poll_timeout(), None);
    assert!(advance(&mut l, base + secs(1)).is_empty());
    l.terminate(&key);
}

#[test]
fn timer_g_doubles_capped_at_t2_until_timer_h() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, false, base);
    l.respond(&key, reply(&invite(), 486), base).unwrap();
    let first = transmits(&mut l);
    let sent = schedule(&mut l, base, ms(31_999));
    let want: Vec<_> = [
        500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500,
    ]
    .map(ms)
    .to_vec();
    assert_eq!(sent, want);
    // An INVITE retransmission in Completed gets the final response again.
    l.handle_incoming(invite(), PEER, false, base + ms(31_600))
        .unwrap();
    assert_eq!(transmits(&mut l)[0].payload, first[0].payload);
    assert!(advance(&mut l, base + secs(32)).is_empty());
    let ev = events(&mut l);
    assert_eq!(
        ev[0],
        TxEvent::Timeout {
            key: key.clone(),
            timer: Timer::H
        }
    );
    assert!(terminated(&ev, &key));
    assert!(l.is_empty());
}

#[test]
fn reliable_completed_has_no_timer_g_and_ack_terminates_at_once() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, true, base);
    l.respond(&key, reply(&invite(), 603), base + ms(10))
        .unwrap();
    transmits(&mut l);
    assert_eq!(l.poll_timeout(), Some(base + ms(10) + secs(32)));
    l.handle_incoming(ack("z9hG4bKs1", SENT_BY), PEER, true, base + secs(1))
        .unwrap();
    assert_eq!(events(&mut l), vec![TxEvent::Terminated { key }]);
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn reliable_timer_h_still_fires() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, true, base);
    l.respond(&key, reply(&invite(), 404), base).unwrap();
    assert_eq!(transmits(&mut l).len(), 1);
    assert!(advance(&mut l, base + secs(32)).is_empty());
    assert_eq!(
        events(&mut l)[0],
        TxEvent::Timeout {
            key,
            timer: Timer::H
        }
    );
    assert!(l.is_empty());
}

#[test]
fn ack_for_non_2xx_is_absorbed_and_timer_i_ends_confirmed() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, false, base);
    l.respond(&key, reply(&invite(), 486), base).unwrap();
    transmits(&mut l);
    l.handle_incoming(ack("z9hG4bKs1", SENT_BY), PEER, false, base + ms(700))
        .unwrap();
    assert!(events(&mut l).is_empty());
    assert_eq!(l.poll_timeout(), Some(base + ms(5700)));
    // Confirmed absorbs ACK and INVITE retransmissions.
    l.handle_incoming(ack("z9hG4bKs1", SENT_BY), PEER, false, base + secs(1))
        .unwrap();
    l.handle_incoming(invite(), PEER, false, base + secs(1))
        .unwrap();
    assert!(events(&mut l).is_empty());
    assert!(advance(&mut l, base + ms(5699)).is_empty());
    assert_eq!(l.len(), 1);
    assert!(advance(&mut l, base + ms(5700)).is_empty());
    assert_eq!(events(&mut l), vec![TxEvent::Terminated { key }]);
    assert!(l.is_empty());
}

#[test]
fn accepted_absorbs_invites_sends_tu_2xx_and_ends_with_timer_l() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, false, base);
    let ok = reply(&invite(), 200);
    l.respond(&key, ok.clone(), base + secs(1)).unwrap();
    assert_eq!(transmits(&mut l).len(), 1);
    assert_eq!(l.poll_timeout(), Some(base + secs(33)));
    l.handle_incoming(invite(), PEER, false, base + secs(2))
        .unwrap();
    assert!(transmits(&mut l).is_empty());
    l.respond(&key, ok.clone(), base + secs(2)).unwrap();
    assert_eq!(wire(&transmits(&mut l)[0]).status(), Some(200));
    assert_eq!(
        l.respond(&key, reply(&invite(), 486), base + secs(2)),
        Err(TxError::InvalidState {
            code: 486,
            state: "Accepted"
        })
    );
    // The ACK for the 2xx (a new branch) goes to the TU, not to the transaction.
    let ack2xx = ack("z9hG4bKnew", SENT_BY);
    l.handle_incoming(ack2xx.clone(), PEER, false, base + secs(3))
        .unwrap();
    let ev = events(&mut l);
    assert_eq!(
        ev,
        vec![TxEvent::Ack2xx {
            request: ack2xx,
            from: PEER
        }]
    );
    assert!(advance(&mut l, base + secs(33)).is_empty());
    assert!(terminated(&events(&mut l), &key));
    assert!(l.is_empty());
    assert_eq!(
        l.respond(&key, ok, base + secs(34)),
        Err(TxError::UnknownTransaction)
    );
}

#[test]
fn ack_with_the_invite_branch_in_accepted_goes_to_the_tu() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, true, base);
    l.respond(&key, reply(&invite(), 200), base).unwrap();
    l.handle_incoming(ack("z9hG4bKs1", SENT_BY), PEER, true, base + ms(5))
        .unwrap();
    assert!(matches!(events(&mut l)[0], TxEvent::Ack2xx { .. }));
    assert_eq!(l.len(), 1);
    l.terminate(&key);
}

#[test]
fn server_transport_error_terminates() {
    let base = t0();
    let mut l = layer();
    let key = arrive(&mut l, true, base);
    l.respond(&key, reply(&invite(), 180), base).unwrap();
    assert_eq!(transmits(&mut l)[0].key.as_ref(), Some(&key));
    l.handle_transport_error(&key, base + ms(1));
    assert_eq!(
        events(&mut l),
        vec![
            TxEvent::TransportError { key: key.clone() },
            TxEvent::Terminated { key }
        ]
    );
    assert!(l.is_empty());
}
