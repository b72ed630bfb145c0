//! Tests for Via: RFC 4475 (wsinv, transports, badinv01, intmeth, badbranch) and RFC 5118
//! (received with and without brackets, IPv6 sent-by) vectors, plus round trips.

use super::*;
use crate::sip::header::name_addr::tests::header_params;
use crate::sip::uri::tests::strategy;
use proptest::prelude::*;
use std::net::Ipv4Addr;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn wsinv_vias() {
    let v = Via::parse(&b(
        "SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw",
    ))
    .unwrap();
    assert_eq!(
        (&v.protocol[..], &v.version[..], &v.transport[..]),
        (&b"SIP"[..], &b"2.0"[..], &b"UDP"[..])
    );
    assert_eq!(v.host, Host::V4(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(v.branch(), Some(&b("390skdjuw")));
    assert!(!v.is_rfc3261_branch());

    let l = Via::parse_list(&b(
        "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
    ))
    .unwrap();
    assert_eq!(l.len(), 2);
    assert_eq!(l[0].host, Host::Name(b("spindle.example.com")));
    assert_eq!(l[0].transport, b("TCP"));
    assert_eq!(l[1].branch(), Some(&b("z9hG4bK30239")));
    assert!(l[1].is_rfc3261_branch());
    assert_eq!(
        l[1].to_string(),
        "SIP/2.0/UDP 192.168.255.111;branch=z9hG4bK30239"
    );
}

#[test]
fn ordinary_vias() {
    let v = Via::parse(&b(
        "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport",
    ))
    .unwrap();
    assert_eq!(v.port, Some(5070));
    assert_eq!(v.rport(), Some(None));
    let v = Via::parse(&b(
        "SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
    ))
    .unwrap();
    assert!(v.is_rfc3261_branch());
    let v = Via::parse(&b("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK")).unwrap();
    assert!(v.is_rfc3261_branch());
    let v = Via::parse(&b(
        "SIP/2.0/UNKNOWN t4.example.com ; branch=z9hG4bKasd0f3en;ttl=16;maddr=224.2.0.1;rport=5060",
    ))
    .unwrap();
    assert_eq!(v.transport, b("UNKNOWN"));
    assert_eq!((v.ttl(), v.rport()), (Some(16), Some(Some(5060))));
    assert_eq!(v.maddr(), Some(&b("224.2.0.1")));
    let v = Via::parse(&b("SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw")).unwrap();
    assert_eq!(v.version, b("7.0"));
    let v = Via::parse(&b("SIP/2.0/UDP host : 5060")).unwrap();
    assert_eq!(v.port, Some(5060));
}

#[test]
fn rfc5118_vias() {
    let v = Via::parse(&b(
        "SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3",
    ))
    .unwrap();
    assert_eq!(v.host.to_string(), "[2001:db8::9:1]");
    assert_eq!(v.received(), Some("2001:db8::9:255".parse().unwrap()));
    let v = Via::parse(&b(
        "SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111",
    ))
    .unwrap();
    assert_eq!(v.received(), Some("2001:db8::9:255".parse().unwrap()));
    let v = Via::parse(&b(
        "SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19",
    ))
    .unwrap();
    assert_eq!(v.port, Some(19823));
    let v = Via::parse(&b(
        "SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200",
    ))
    .unwrap();
    assert_eq!(v.received(), Some("192.0.2.200".parse().unwrap()));
}

#[test]
fn invalid_vias() {
    assert!(Via::parse_list(&b("SIP/2.0/UDP 192.0.2.15;;,;,,")).is_err());
    for bad in [
        "SIP/2.0/UDP 192.0.2.15;;",
        "SIP/2.0/UDP",
        "SIP/2.0 UDP host",
        "SIP/2.0/UDPhost",
        "SIP/2.0/UDP host:",
        "SIP/2.0/UDP host:70000",
        "SIP/2.0/UDP 2001:db8::1",
        "SIP/2.0/UDP host;branch",
        "SIP/2.0/UDP host;received=example.com",
        "SIP/2.0/UDP host;rport=x",
        "SIP/2.0/UDP host;ttl=256",
        "SIP/2.0/UDP host junk",
        "",
    ] {
        assert!(Via::parse(&b(bad)).is_err(), "{bad:?}");
    }
    assert!(Via::parse_list(&b("SIP/2.0/UDP a.example.com,")).is_err());
}

#[test]
fn builders() {
    let mut v = Via::new(
        b("TLS"),
        Host::V4(Ipv4Addr::new(192, 0, 2, 1)),
        Some(5061),
        b("z9hG4bKx"),
    );
    v.set_received("2001:db8::1".parse().unwrap());
    v.set_rport(40000);
    assert_eq!(
        v.to_string(),
        "SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKx;received=2001:db8::1;rport=40000"
    );
    assert_eq!(Via::parse(&b(&v.to_string())), Ok(v));
}

fn via() -> impl Strategy<Value = Via> {
    (
        "[A-Z]{2,5}",
        strategy::host(),
        proptest::option::of(any::<u16>()),
        "z9hG4bK[a-zA-Z0-9.!%*_+`'~-]{0,10}",
        header_params(),
    )
        .prop_map(|(t, host, port, branch, extra)| {
            let mut v = Via::new(Bytes::from(t), host, port, Bytes::from(branch));
            for (n, val) in extra.iter() {
                if !["branch", "received", "rport", "ttl", "maddr"]
                    .iter()
                    .any(|k| n.eq_ignore_ascii_case(k.as_bytes()))
                {
                    v.params.push(n.clone(), val.cloned());
                }
            }
            v
        })
}

proptest! {
    #[test]
    fn round_trip(vs in proptest::collection::vec(via(), 1..3)) {
        let printed = vs.iter().map(Via::to_string).collect::<Vec<_>>().join(" ,\r\n ");
        prop_assert_eq!(Via::parse_list(&Bytes::from(printed.clone())), Ok(vs), "{}", printed);
    }

    #[test]
    fn never_panics(v in proptest::collection::vec(any::<u8>(), 0..64)) {
        let v = Bytes::from(v);
        let _ = Via::parse(&v);
        let _ = Via::parse_list(&v);
    }
}
