//! Virtual-time tests of the non-INVITE client transaction: RFC 3261 §17.1.2 (Timers E, F, K).

use crate::sip::transaction::testing::*;
use crate::sip::transaction::{Timer, TxError, TxEvent};

fn bye() -> crate::sip::Message {
    request("BYE", "z9hG4bKn1", "192.0.2.1:5060")
}

#[test]
fn timer_e_doubles_capped_at_t2_until_timer_f() {
    let base = t0();
    let mut l = layer();
    let key = l.send_request(bye(), PEER, false, base).unwrap();
    assert_eq!(transmits(&mut l).len(), 1);
    let sent = schedule(&mut l, base, ms(31_999));
    let want: Vec<_> = [
        500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500,
    ]
    .map(ms)
    .to_vec();
    assert_eq!(sent, want);
    assert!(advance(&mut l, base + secs(32)).is_empty());
    let ev = events(&mut l);
    assert_eq!(
        ev[0],
        TxEvent::Timeout {
            key: key.clone(),
            timer: Timer::F
        }
    );
    assert!(terminated(&ev, &key));
    assert!(l.is_empty());
}

#[test]
fn proceeding_retransmits_every_t2() {
    let base = t0();
    let mut l = layer();
    let req = bye();
    l.send_request(req.clone(), PEER, false, base).unwrap();
    transmits(&mut l);
    l.handle_incoming(reply(&req, 100), PEER, false, base + ms(100))
        .unwrap();
    assert_eq!(responses(&events(&mut l)), vec![100]);
    // The pending E (at T1) still fires, then every interval is T2.
    let sent = schedule(&mut l, base, ms(20_000));
    let want: Vec<_> = [500, 4500, 8500, 12_500, 16_500].map(ms).to_vec();
    assert_eq!(sent, want);
}

#[test]
fn reliable_request_has_no_timer_e_and_final_terminates_at_once() {
    let base = t0();
    let mut l = layer();
    let req = bye();
    let key = l.send_request(req.clone(), PEER, true, base).unwrap();
    transmits(&mut l);
    assert_eq!(l.poll_timeout(), Some(base + secs(32)));
    l.handle_incoming(reply(&req, 200), PEER, true, base + ms(30))
        .unwrap();
    let ev = events(&mut l);
    assert_eq!(responses(&ev), vec![200]);
    assert!(terminated(&ev, &key));
    assert!(l.is_empty());
}

#[test]
fn reliable_timer_f_fires() {
    let base = t0();
    let mut l = layer();
    let key = l.send_request(bye(), PEER, true, base).unwrap();
    assert_eq!(transmits(&mut l).len(), 1);
    assert!(advance(&mut l, base + secs(32)).is_empty());
    assert_eq!(
        events(&mut l)[0],
        TxEvent::Timeout {
            key,
            timer: Timer::F
        }
    );
    assert!(l.is_empty());
}

#[test]
fn timer_k_absorbs_response_retransmissions() {
    let base = t0();
    let mut l = layer();
    let req = bye();
    let key = l.send_request(req.clone(), PEER, false, base).unwrap();
    transmits(&mut l);
    l.handle_incoming(reply(&req, 200), PEER, false, base + ms(700))
        .unwrap();
    assert_eq!(responses(&events(&mut l)), vec![200]);
    // E and F stopped, K armed for T4.
    assert_eq!(l.poll_timeout(), Some(base + ms(5700)));
    l.handle_incoming(reply(&req, 200), PEER, false, base + secs(1))
        .unwrap();
    assert!(events(&mut l).is_empty());
    assert!(transmits(&mut l).is_empty());
    advance(&mut l, base + ms(5699));
    assert_eq!(l.len(), 1);
    advance(&mut l, base + ms(5700));
    assert_eq!(events(&mut l), vec![TxEvent::Terminated { key }]);
    assert!(l.is_empty());
}

#[test]
fn send_request_refuses_ack_old_branches_and_duplicates() {
    let base = t0();
    let mut l = layer();
    assert_eq!(
        l.send_request(request("ACK", "z9hG4bKa", "192.0.2.1"), PEER, false, base),
        Err(TxError::AckOutsideTransaction)
    );
    assert_eq!(
        l.send_request(request("BYE", "1234", "192.0.2.1"), PEER, false, base),
        Err(TxError::NoRfc3261Branch)
    );
    assert_eq!(
        l.send_request(reply(&bye(), 200), PEER, false, base),
        Err(TxError::WrongMessageKind)
    );
    let key = l.send_request(bye(), PEER, false, base).unwrap();
    assert_eq!(
        l.send_request(bye(), PEER, false, base),
        Err(TxError::Duplicate)
    );
    l.handle_transport_error(&key, base);
    assert!(l.is_empty());
}
