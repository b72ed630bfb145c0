//! Unit tests for the registration relay state, in virtual time.

use super::*;
use crate::sip::{Limits, parse_datagram};

#[allow(clippy::disallowed_methods)] // the one clock read of these tests; the rest is offsets
fn t0() -> Instant {
    Instant::now()
}

type Flow = &'static str;

fn register(contact: &str, call_id: &str, cseq: u32, extra: &str) -> Message {
    let text = format!(
        "REGISTER sip:pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{cseq}\r\n\
         From: <sip:1001@pbx.example.com>;tag=f\r\nTo: <sip:1001@PBX.example.com>\r\n\
         Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\nContact: {contact}\r\n{extra}Content-Length: 0\r\n\r\n"
    );
    parse_datagram(Bytes::from(text), &Limits::DEFAULT).unwrap()
}

fn ok_response(extra: &str) -> Message {
    let text = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\nFrom: <sip:1001@pbx.example.com>;tag=f\r\n\
         To: <sip:1001@pbx.example.com>;tag=t\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n{extra}Content-Length: 0\r\n\r\n"
    );
    parse_datagram(Bytes::from(text), &Limits::DEFAULT).unwrap()
}

fn keys() -> impl FnMut() -> Bytes {
    let mut n = 0;
    move || {
        n += 1;
        Bytes::from(format!("k{n}"))
    }
}

fn forward_keys(d: &Decision) -> Vec<(Bytes, u32)> {
    match d {
        Decision::Forward(list) => list
            .iter()
            .filter_map(|c| match c {
                ForwardContact::Binding { key, expires } => Some((key.clone(), *expires)),
                ForwardContact::RemoveAll => None,
            })
            .collect(),
        other => panic!("not forwarded: {other:?}"),
    }
}

#[test]
fn first_registration_is_forwarded_then_confirmed() {
    let mut reg: Registrar<Flow> = Registrar::new(RegistrarConfig::default());
    let now = t0();
    let mut next = keys();
    let d = reg.on_register(
        &register("<sip:1001@192.168.1.20:5060>", "c1", 1, ""),
        "udp:a",
        false,
        now,
        &mut next,
    );
    let sent = match &d {
        Decision::Forward(list) => list.clone(),
        _ => panic!(),
    };
    assert_eq!(forward_keys(&d), vec![(Bytes::from("k1"), 3600)]);
    assert_eq!(reg.len(), 1);
    assert_eq!(reg.lookup(b"k1").unwrap().aor, "sip:1001@pbx.example.com");
    // The PBX grants 1800 s; the phone gets the short UDP expiry.
    let granted = reg.on_pbx_response(
        &sent,
        &ok_response("Contact: <sip:k1@10.0.0.1>;expires=1800\r\n"),
        false,
        now,
    );
    assert_eq!(granted, Some(60));
    assert_eq!(
        reg.lookup(b"k1").unwrap().pbx_expires,
        Some(now + Duration::from_secs(1800))
    );
}

#[test]
fn refresh_from_the_same_flow_is_answered_from_cache() {
    let mut reg: Registrar<Flow> = Registrar::new(RegistrarConfig::default());
    let now = t0();
    let mut next = keys();
    let contact = "<sip:1001@192.168.1.20:5060>";
    let Decision::Forward(sent) = reg.on_register(
        &register(contact, "c1", 1, ""),
        "udp:a",
        false,
        now,
        &mut next,
    ) else {
        panic!()
    };
    reg.on_pbx_response(&sent, &ok_response("Expires: 3600\r\n"), false, now);
    let later = now + Duration::from_secs(50);
    let d = reg.on_register(
        &register(contact, "c1", 2, ""),
        "udp:a",
        false,
        later,
        &mut next,
    );
    assert_eq!(d, Decision::Cached { expires: 60 });
    assert_eq!(
        reg.lookup(b"k1").unwrap().phone_expires,
        later + Duration::from_secs(60)
    );
    // A different flow (the NAT mapping changed), a new Call-ID or a replayed CSeq go to the PBX.
    for (flow, call_id, cseq) in [("udp:b", "c1", 3), ("udp:a", "c2", 4), ("udp:a", "c2", 4)] {
        let d = reg.on_register(
            &register(contact, call_id, cseq, ""),
            flow,
            false,
            later,
            &mut next,
        );
        assert!(
            matches!(d, Decision::Forward(_)),
            "{flow} {call_id} {cseq}: {d:?}"
        );
    }
    assert_eq!(reg.lookup(b"k1").unwrap().flow, "udp:a");
    assert_eq!(reg.len(), 1, "a refresh never creates a second binding");
}

#[test]
fn no_cache_when_the_pbx_registration_is_about_to_lapse() {
    let mut reg: Registrar<Flow> = Registrar::new(RegistrarConfig::default());
    let now = t0();
    let mut next = keys();
    let contact = "<sip:1001@192.168.1.20:5060>";
    let Decision::Forward(sent) = reg.on_register(
        &register(contact, "c1", 1, ""),
        "udp:a",
        false,
        now,
        &mut next,
    ) else {
        panic!()
    };
    reg.on_pbx_response(&sent, &ok_response("Expires: 100\r\n"), false, now);
    let d = reg.on_register(
        &register(contact, "c1", 2, ""),
        "udp:a",
        false,
        now + Duration::from_secs(10),
        &mut next,
    );
    assert!(matches!(d, Decision::Forward(_)));
}

#[test]
fn challenge_drops_unconfirmed_bindings() {
    let mut reg: Registrar<Flow> = Registrar::new(RegistrarConfig::default());
    let now = t0();
    let mut next = keys();
    let Decision::Forward(sent) = reg.on_register(
        &register("<sip:1001@192.168.1.20>", "c1", 1, ""),
        "udp:a",
        false,
        now,
        &mut next,
    ) else {
        panic!()
    };
    let challenge = parse_datagram(
        Bytes::from_static(b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"pbx\", nonce=\"n\"\r\nContent-Length: 0\r\n\r\n"),
        &Limits::DEFAULT,
    )
    .unwrap();
    assert_eq!(reg.on_pbx_response(&sent, &challenge, false, now), None);
    assert!(reg.is_empty());
}

#[test]
fn removal_star_and_limits() {
    let config = RegistrarConfig {
        max_per_aor: 2,
        ..RegistrarConfig::default()
    };
    let mut reg: Registrar<Flow> = Registrar::new(config);
    let now = t0();
    let mut next = keys();
    for (i, contact) in ["<sip:a@192.0.2.1>", "<sip:b@192.0.2.2>"]
        .iter()
        .enumerate()
    {
        let d = reg.on_register(
            &register(contact, "c", i as u32 + 1, ""),
            "udp:a",
            false,
            now,
            &mut next,
        );
        assert!(matches!(d, Decision::Forward(_)));
    }
    let d = reg.on_register(
        &register("<sip:c@192.0.2.3>", "c", 9, ""),
        "udp:a",
        false,
        now,
        &mut next,
    );
    assert_eq!(d, Decision::Reject(403));
    // Expires 0 on one contact removes it and tells the PBX.
    let d = reg.on_register(
        &register("<sip:a@192.0.2.1>;expires=0", "c", 10, ""),
        "udp:a",
        false,
        now,
        &mut next,
    );
    assert_eq!(forward_keys(&d), vec![(Bytes::from("k1"), 0)]);
    assert_eq!(reg.len(), 1);
    // `*` needs Expires: 0 and removes the rest.
    assert_eq!(
        reg.on_register(&register("*", "c", 11, ""), "udp:a", false, now, &mut next),
        Decision::Reject(400)
    );
    let d = reg.on_register(
        &register("*", "c", 12, "Expires: 0\r\n"),
        "udp:a",
        false,
        now,
        &mut next,
    );
    assert_eq!(d, Decision::Forward(vec![ForwardContact::RemoveAll]));
    assert!(reg.is_empty());
}

#[test]
fn instance_id_identifies_a_device_across_contact_changes() {
    let mut reg: Registrar<Flow> = Registrar::new(RegistrarConfig::default());
    let now = t0();
    let mut next = keys();
    let inst = ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\";reg-id=1";
    reg.on_register(
        &register(&format!("<sip:1001@192.168.1.20:5060>{inst}"), "c", 1, ""),
        "tcp:1",
        true,
        now,
        &mut next,
    );
    reg.on_register(
        &register(&format!("<sip:1001@192.168.1.20:6000>{inst}"), "c", 2, ""),
        "tcp:2",
        true,
        now,
        &mut next,
    );
    assert_eq!(reg.len(), 1);
    let b = reg.lookup(b"k1").unwrap();
    assert_eq!(b.flow, "tcp:2");
    assert_eq!(b.reg_id, Some(1));
}

#[test]
fn bindings_expire_and_follow_their_flow() {
    let mut reg: Registrar<Flow> = Registrar::new(RegistrarConfig::default());
    let now = t0();
    let mut next = keys();
    let Decision::Forward(sent) = reg.on_register(
        &register("<sip:a@192.0.2.1>", "c", 1, ""),
        "udp:a",
        false,
        now,
        &mut next,
    ) else {
        panic!()
    };
    reg.on_pbx_response(&sent, &ok_response(""), false, now);
    reg.on_register(
        &register("<sip:b@192.0.2.2>", "d", 1, ""),
        "tcp:9",
        true,
        now,
        &mut next,
    );
    assert_eq!(reg.remove_flow(&"tcp:9").len(), 1);
    assert_eq!(reg.poll_timeout(), Some(now + Duration::from_secs(120)));
    assert!(reg.expire(now + Duration::from_secs(119)).is_empty());
    let gone = reg.expire(now + Duration::from_secs(120));
    assert_eq!(gone.len(), 1);
    assert!(reg.is_empty());
    assert_eq!(reg.poll_timeout(), None);
}

#[test]
fn malformed_registers_are_rejected() {
    let mut reg: Registrar<Flow> = Registrar::new(RegistrarConfig::default());
    let mut next = keys();
    let bad = register("<sip:a@192.0.2.1>", "c", 1, "Expires: soon\r\n");
    assert_eq!(
        reg.on_register(&bad, "udp:a", false, t0(), &mut next),
        Decision::Reject(400)
    );
}

#[test]
fn a_non_sip_address_of_record_is_not_found() {
    let mut reg: Registrar<Flow> = Registrar::new(RegistrarConfig::default());
    let mut next = keys();
    let text = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\r\n\
                From: <http://www.example.com>;tag=3\r\nTo: isbn:2983792873\r\nCall-ID: u@h\r\n\
                CSeq: 2 REGISTER\r\nContact: <name:John_Smith>\r\nContent-Length: 0\r\n\r\n";
    let request = parse_datagram(Bytes::from(text), &Limits::DEFAULT).unwrap();
    assert_eq!(
        reg.on_register(&request, "udp:a", false, t0(), &mut next),
        Decision::Reject(404)
    );
}
