//! Virtual-time tests of the INVITE client transaction: RFC 3261 §17.1.1 (Timers A, B, D, the
//! hop-by-hop ACK) and RFC 6026 §7.2 (Accepted, Timer M).

use crate::sip::header::HeaderName;
use crate::sip::method::Method;
use crate::sip::transaction::testing::*;
use crate::sip::transaction::{Timer, TxEvent};

fn invite() -> crate::sip::Message {
    request("INVITE", "z9hG4bKc1", "192.0.2.1:5060")
}

#[test]
fn timer_a_doubles_without_cap_until_timer_b() {
    let base = t0();
    let mut l = layer();
    let key = l.send_request(invite(), PEER, false, base).unwrap();
    assert_eq!(transmits(&mut l).len(), 1);
    let sent = schedule(&mut l, base, secs(31));
    let want: Vec<_> = [500, 1500, 3500, 7500, 15500].map(ms).to_vec();
    assert_eq!(sent, want);
    assert_eq!(advance(&mut l, base + ms(31_500)).len(), 1);
    assert!(events(&mut l).is_empty());
    assert_eq!(l.poll_timeout(), Some(base + secs(32)));
    assert!(advance(&mut l, base + secs(32)).is_empty());
    let ev = events(&mut l);
    assert_eq!(
        ev[0],
        TxEvent::Timeout {
            key: key.clone(),
            timer: Timer::B
        }
    );
    assert!(terminated(&ev, &key));
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn reliable_invite_has_no_timer_a() {
    let base = t0();
    let mut l = layer();
    let key = l.send_request(invite(), PEER, true, base).unwrap();
    assert_eq!(transmits(&mut l).len(), 1);
    assert_eq!(l.poll_timeout(), Some(base + secs(32)));
    assert!(advance(&mut l, base + ms(31_999)).is_empty());
    assert!(advance(&mut l, base + secs(32)).is_empty());
    let ev = events(&mut l);
    assert_eq!(
        ev[0],
        TxEvent::Timeout {
            key,
            timer: Timer::B
        }
    );
    assert!(l.is_empty());
}

#[test]
fn provisional_stops_retransmissions_and_timer_b() {
    let base = t0();
    let mut l = layer();
    let inv = invite();
    let key = l.send_request(inv.clone(), PEER, false, base).unwrap();
    transmits(&mut l);
    l.handle_incoming(reply(&inv, 180), PEER, false, base + ms(100))
        .unwrap();
    assert_eq!(responses(&events(&mut l)), vec![180]);
    assert_eq!(l.poll_timeout(), None);
    assert_eq!(l.len(), 1);
    assert!(l.terminate(&key));
    assert!(terminated(&events(&mut l), &key));
    assert!(l.is_empty());
}

#[test]
fn non_2xx_final_is_acked_hop_by_hop_and_timer_d_absorbs_retransmissions() {
    let base = t0();
    let mut l = layer();
    let inv = invite();
    let key = l.send_request(inv.clone(), PEER, false, base).unwrap();
    transmits(&mut l);
    l.handle_incoming(reply(&inv, 180), PEER, false, base + ms(100))
        .unwrap();
    l.handle_incoming(reply(&inv, 486), PEER, false, base + secs(5))
        .unwrap();
    let sent = transmits(&mut l);
    assert_eq!(sent.len(), 1);
    let ack = wire(&sent[0]);
    assert_eq!(ack.method(), Some(&Method::Ack));
    assert_eq!(ack.request_line().unwrap().uri, "sip:bob@example.com");
    assert_eq!(ack.headers.count(HeaderName::Via), 1);
    assert_eq!(ack.top_via().unwrap().branch().unwrap(), "z9hG4bKc1");
    assert_eq!(ack.to_header().unwrap().tag().unwrap(), "b1");
    assert_eq!(ack.from_header().unwrap().tag().unwrap(), "a1");
    assert_eq!(ack.cseq().unwrap().to_string(), "1 ACK");
    assert_eq!(ack.call_id().unwrap().as_bytes(), "c1@example.org");
    assert_eq!(
        ack.headers.get(HeaderName::Route).unwrap(),
        "<sip:p1.example.com;lr>"
    );
    assert_eq!(responses(&events(&mut l)), vec![180, 486]);
    // A retransmitted 486 is ACKed again, not passed up.
    l.handle_incoming(reply(&inv, 486), PEER, false, base + secs(6))
        .unwrap();
    assert_eq!(transmits(&mut l)[0].payload, sent[0].payload);
    assert!(events(&mut l).is_empty());
    assert_eq!(l.poll_timeout(), Some(base + secs(5 + 32)));
    assert!(advance(&mut l, base + secs(36)).is_empty());
    assert_eq!(l.len(), 1);
    advance(&mut l, base + secs(37));
    assert!(terminated(&events(&mut l), &key));
    assert!(l.is_empty());
}

#[test]
fn reliable_non_2xx_final_terminates_at_once() {
    let base = t0();
    let mut l = layer();
    let inv = invite();
    let key = l.send_request(inv.clone(), PEER, true, base).unwrap();
    transmits(&mut l);
    l.handle_incoming(reply(&inv, 503), PEER, true, base + ms(20))
        .unwrap();
    assert_eq!(wire(&transmits(&mut l)[0]).method(), Some(&Method::Ack));
    let ev = events(&mut l);
    assert_eq!(responses(&ev), vec![503]);
    assert!(terminated(&ev, &key));
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn accepted_passes_2xx_retransmissions_until_timer_m() {
    let base = t0();
    let mut l = layer();
    let inv = invite();
    let key = l.send_request(inv.clone(), PEER, false, base).unwrap();
    transmits(&mut l);
    l.handle_incoming(reply(&inv, 200), PEER, false, base + secs(1))
        .unwrap();
    // No ACK from the transaction: the TU ACKs a 2xx.
    assert!(transmits(&mut l).is_empty());
    assert_eq!(l.poll_timeout(), Some(base + secs(33)));
    l.handle_incoming(reply(&inv, 200), PEER, false, base + secs(2))
        .unwrap();
    l.handle_incoming(reply(&inv, 180), PEER, false, base + secs(2))
        .unwrap();
    l.handle_incoming(reply(&inv, 486), PEER, false, base + secs(2))
        .unwrap();
    assert_eq!(responses(&events(&mut l)), vec![200, 200]);
    advance(&mut l, base + ms(32_999));
    assert_eq!(l.len(), 1);
    advance(&mut l, base + secs(33));
    assert!(terminated(&events(&mut l), &key));
    assert!(l.is_empty());
    // After Accepted ends a 2xx is stray.
    l.handle_incoming(reply(&inv, 200), PEER, false, base + secs(34))
        .unwrap();
    assert!(matches!(events(&mut l)[0], TxEvent::StrayResponse { .. }));
}

#[test]
fn transport_error_terminates() {
    let base = t0();
    let mut l = layer();
    let key = l.send_request(invite(), PEER, true, base).unwrap();
    let sent = transmits(&mut l);
    assert_eq!(sent[0].key.as_ref(), Some(&key));
    l.handle_transport_error(&key, base + ms(1));
    let ev = events(&mut l);
    assert_eq!(
        ev,
        vec![
            TxEvent::TransportError { key: key.clone() },
            TxEvent::Terminated { key }
        ]
    );
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}
