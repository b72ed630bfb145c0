//! Unit tests for the `c=`, `o=` and `m=` value parsers.

use super::*;

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

#[test]
fn connection_ipv4_ipv6_name_and_multicast() {
    let c = Connection::parse(&b("IN IP4 192.0.2.10")).unwrap();
    assert_eq!(c.addr_type, AddrType::Ip4);
    assert_eq!(c.ip(), Some("192.0.2.10".parse().unwrap()));
    assert!(!c.is_zero_hold());
    let c = Connection::parse(&b("IN IP6 2001:db8::1")).unwrap();
    assert_eq!(c.addr_type, AddrType::Ip6);
    assert_eq!(c.ip(), Some("2001:db8::1".parse().unwrap()));
    let c = Connection::parse(&b("IN IP4 media.example.com")).unwrap();
    assert_eq!(c.address, ConnectionAddress::Name(b("media.example.com")));
    assert_eq!(c.ip(), None);
    let c = Connection::parse(&b("IN IP4 224.2.1.1/127/3")).unwrap();
    assert_eq!(c.ip(), Some("224.2.1.1".parse().unwrap()));
    assert!(
        Connection::parse(&b("IN  IP4   0.0.0.0"))
            .unwrap()
            .is_zero_hold()
    );
    assert!(!Connection::parse(&b("IN IP6 ::")).unwrap().is_zero_hold());
}

#[test]
fn connection_rejects_malformed() {
    for bad in [
        "",
        "IN",
        "IN IP4",
        "ATM NSAP 47.0091",
        "IN IP5 1.2.3.4",
        "IN IP4 2001:db8::1",
        "IN IP6 192.0.2.1",
        "IN IP4 1.2.3.4 extra",
        "IN IP4 300.1.1.1",
        "IN IP4 bad_host!",
        "IN IP4 /127",
    ] {
        assert_eq!(Connection::parse(&b(bad)), None, "{bad:?}");
    }
}

#[test]
fn origin_fields() {
    let o = Origin::parse(&b("- 1234 5678 IN IP4 198.51.100.1")).unwrap();
    assert_eq!(o.username, "-");
    assert_eq!(o.session_id, "1234");
    assert_eq!(o.version_number(), Some(5678));
    assert_eq!(o.address, "198.51.100.1");
    assert_eq!(Origin::parse(&b("- 1 2 IN IP4")), None);
    assert_eq!(Origin::parse(&b("- 1 2 IN IP4 a b")), None);
    assert_eq!(
        Origin::parse(&b("- 1 x IN IP4 a"))
            .unwrap()
            .version_number(),
        None
    );
}

#[test]
fn media_line_fields() {
    let m = MediaLine::parse(&b("audio 49170 RTP/AVP 0 8  101")).unwrap();
    assert_eq!(m.media_type, MediaType::Audio);
    assert_eq!((m.port, m.port_count), (49170, None));
    assert_eq!(m.proto, Proto::RtpAvp);
    assert_eq!(m.formats, "0 8  101");
    assert_eq!(m.formats().collect::<Vec<_>>(), [&b"0"[..], b"8", b"101"]);
    let m = MediaLine::parse(&b("video 0/2 UDP/TLS/RTP/SAVPF")).unwrap();
    assert_eq!((m.port, m.port_count), (0, Some(2)));
    assert_eq!(m.proto, Proto::UdpTlsRtpSavpf);
    assert_eq!(m.formats, "");
    let m = MediaLine::parse(&b("image 6000 udptl t38")).unwrap();
    assert_eq!((m.media_type, m.proto), (MediaType::Image, Proto::Other));
    assert_eq!(m.proto_raw, "udptl");
}

#[test]
fn media_line_rejects_malformed() {
    for bad in [
        "",
        "audio",
        "audio 49170",
        "audio x RTP/AVP 0",
        "audio 65536 RTP/AVP 0",
        "audio 1/ RTP/AVP 0",
        "audio -1 RTP/AVP 0",
        "audio 0000049170 RTP/AVP 0",
    ] {
        assert_eq!(MediaLine::parse(&b(bad)), None, "{bad:?}");
    }
}

#[test]
fn proto_profile_changes() {
    use Proto::*;
    let cases = [
        (RtpAvp, true, RtpSavp),
        (RtpSavp, false, RtpAvp),
        (RtpAvpf, true, RtpSavpf),
        (RtpSavpf, false, RtpAvpf),
        (UdpTlsRtpSavp, true, RtpSavp),
        (UdpTlsRtpSavpf, false, RtpAvpf),
        (Other, true, Other),
    ];
    for (from, secure, to) in cases {
        assert_eq!(from.with_srtp(secure), to, "{from:?} secure={secure}");
    }
    assert!(UdpTlsRtpSavpf.is_secure() && UdpTlsRtpSavpf.has_feedback());
    assert_eq!(Proto::parse(b"rtp/savp"), RtpSavp);
    assert_eq!(RtpAvpf.as_str(), Some("RTP/AVPF"));
    assert_eq!(Other.as_str(), None);
}

#[test]
fn numbers() {
    assert_eq!(parse_u16(b"65535"), Some(65535));
    assert_eq!(parse_u16(b"65536"), None);
    assert_eq!(parse_u16(b""), None);
    assert_eq!(parse_u64(b"18446744073709551615"), None);
    assert_eq!(
        parse_u64(b"9999999999999999999"),
        Some(9_999_999_999_999_999_999)
    );
}
