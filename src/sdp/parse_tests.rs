//! Unit tests for the parser and the media-section views.

use super::*;
use crate::sdp::{AddrType, MediaType, Proto};

fn parse(s: &'static str) -> Result<Sdp, SdpError> {
    Sdp::parse(Bytes::from_static(s.as_bytes()), &SdpLimits::DEFAULT)
}

const AV: &str = "v=0\r\n\
o=- 20518 0 IN IP4 203.0.113.1\r\n\
s= \r\n\
c=IN IP4 203.0.113.1\r\n\
t=0 0\r\n\
a=sendonly\r\n\
a=ice-ufrag:F7gI\r\n\
m=audio 54400 RTP/SAVPF 0 96\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=ptime:20\r\n\
a=rtcp:54401 IN IP4 203.0.113.1\r\n\
a=rtcp-mux\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n\
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:BBBB\r\n\
a=x-vendor:whatever\r\n\
m=video 55400/2 RTP/AVP 97\r\n\
c=IN IP6 2001:db8::7\r\n\
a=recvonly\r\n\
a=candidate:1 1 UDP 2113667327 203.0.113.1 55400 typ host\r\n";

#[test]
fn splits_session_and_media_sections() {
    let sdp = parse(AV).unwrap();
    assert_eq!(sdp.session_lines().len(), 7);
    assert_eq!(sdp.media().len(), 2);
    assert_eq!(sdp.media()[0].lines().len(), 8);
    assert_eq!(sdp.media()[1].lines().len(), 3);
    assert_eq!(sdp.origin().unwrap().session_id, "20518");
    assert_eq!(sdp.session_direction(), Some(Direction::SendOnly));
    assert_eq!(
        sdp.session_connection().unwrap().ip(),
        Some("203.0.113.1".parse().unwrap())
    );
    // Lines are slices of the body, trailing whitespace kept.
    assert_eq!(sdp.session_lines()[2].raw(), "s= ");
    assert_eq!(sdp.body().len(), AV.len());
}

#[test]
fn audio_view() {
    let sdp = parse(AV).unwrap();
    let a = &sdp.media()[0];
    assert_eq!(a.media_type(), MediaType::Audio);
    assert_eq!((a.port(), a.port_count()), (54400, None));
    assert_eq!(a.proto(), Proto::RtpSavpf);
    assert_eq!(a.formats().collect::<Vec<_>>(), [&b"0"[..], b"96"]);
    assert!(!a.has_own_connection());
    assert_eq!(
        a.connection().unwrap().ip(),
        Some("203.0.113.1".parse().unwrap())
    );
    assert_eq!(a.direction(), Direction::SendOnly);
    let rtcp = a.rtcp().unwrap();
    assert_eq!(rtcp.port, 54401);
    assert_eq!(rtcp.connection.unwrap().addr_type, AddrType::Ip4);
    assert!(a.rtcp_mux());
    let crypto: Vec<Bytes> = a.crypto().collect();
    assert_eq!(
        crypto,
        [
            "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA",
            "2 AES_CM_128_HMAC_SHA1_32 inline:BBBB"
        ]
    );
    assert!(a.has_ice(), "session-level ice-ufrag counts");
    assert_eq!(a.ptime(), Some(20));
    assert_eq!(a.rtpmap(96).unwrap().encoding, "opus");
    assert_eq!(a.rtpmap(0).unwrap().clock_rate, 8000);
    assert_eq!(a.rtpmap(8), None);
    assert_eq!(a.rtpmaps().count(), 2);
    assert_eq!(a.attribute(b"X-VENDOR"), Some(Some(&b"whatever"[..])));
    assert_eq!(a.attribute(b"rtcp-mux"), Some(None));
    assert_eq!(a.attribute(b"absent"), None);
    assert!(!a.is_rejected());
}

#[test]
fn video_view_with_ipv6_and_own_direction() {
    let sdp = parse(AV).unwrap();
    let v = &sdp.media()[1];
    assert_eq!(v.media_type(), MediaType::Video);
    assert_eq!((v.port(), v.port_count()), (55400, Some(2)));
    assert!(v.has_own_connection());
    assert_eq!(v.connection().unwrap().addr_type, AddrType::Ip6);
    assert_eq!(v.direction(), Direction::RecvOnly);
    assert_eq!(v.rtcp(), None);
    assert!(!v.rtcp_mux());
    assert_eq!(v.crypto().count(), 0);
    assert_eq!(v.ptime(), None);
}

#[test]
fn tolerates_lf_only_disorder_vendor_lines_and_missing_optional_lines() {
    let sdp =
        parse("\n\nv=0\nm=audio 0 RTP/AVP\nx-garbage line\nb=AS:64\na=rtcp:bogus\na=ptime:abc\n\n")
            .unwrap();
    let m = &sdp.media()[0];
    assert!(m.is_rejected());
    assert_eq!(m.connection(), None);
    assert_eq!(m.direction(), Direction::SendRecv);
    assert_eq!(m.lines()[0].kind(), Line::OTHER);
    assert_eq!((m.rtcp(), m.ptime()), (None, None));
    assert!(!m.has_ice());
    assert_eq!(sdp.origin(), None);
    // v= need not come first.
    assert!(parse("o=- 1 1 IN IP4 1.2.3.4\nv=0\n").is_ok());
}

#[test]
fn zero_address_hold_is_detected_and_folded_into_direction() {
    let sdp = parse("v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\na=recvonly\nm=audio 4004 RTP/AVP 0\nc=IN IP4 192.0.2.4\n").unwrap();
    let m = sdp.media();
    assert!(m[0].is_zero_address_hold());
    assert_eq!(m[0].direction(), Direction::SendRecv);
    assert_eq!(m[0].effective_direction(), Direction::SendOnly);
    assert_eq!(m[1].effective_direction(), Direction::Inactive);
    assert!(!m[2].is_zero_address_hold());
    assert_eq!(m[2].effective_direction(), Direction::SendRecv);
}

#[test]
fn rejects_only_unusable_bodies() {
    assert_eq!(parse(""), Err(SdpError::MissingVersion));
    assert_eq!(
        parse("o=- 1 1 IN IP4 1.2.3.4\n"),
        Err(SdpError::MissingVersion)
    );
    assert_eq!(
        parse("m=audio 1 RTP/AVP 0\nv=0\n"),
        Err(SdpError::MissingVersion)
    );
    assert_eq!(
        parse("v=0\nm=audio x RTP/AVP 0\n"),
        Err(SdpError::BadMedia { line: 2 })
    );
    assert_eq!(
        parse("v=0\ns=-\n\nc=IN IP4 999.1.1.1\n"),
        Err(SdpError::BadConnection { line: 3 })
    );
    assert_eq!(
        parse("v=0\nm=audio 1 RTP/AVP 0\nc=IN IP4\n"),
        Err(SdpError::BadConnection { line: 3 })
    );
    assert_eq!(SdpError::BadMedia { line: 1 }.reason(), "sdp_bad_media");
}

#[test]
fn enforces_limits() {
    let limits = SdpLimits {
        max_lines: 4,
        max_media: 1,
    };
    let p = |s: &'static str| Sdp::parse(Bytes::from_static(s.as_bytes()), &limits);
    assert!(p("v=0\na=1\na=2\na=3\n").is_ok());
    assert_eq!(
        p("v=0\na=1\na=2\na=3\na=4\n"),
        Err(SdpError::TooManyLines(4))
    );
    assert_eq!(
        p("v=0\nm=audio 1 RTP/AVP 0\nm=audio 2 RTP/AVP 0\n"),
        Err(SdpError::TooManyMedia(1))
    );
    assert_eq!(SdpLimits::default(), SdpLimits::DEFAULT);
}
