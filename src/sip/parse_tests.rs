//! Unit tests for framing and structural parsing.

use super::*;
use crate::sip::message::SIP_2_0;

const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@example.com>\r\n\
From: Alice <sip:alice@example.org>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.org\r\n\
CSeq: 314159 INVITE\r\n\
X-Vendor:   kept  as is\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn limits() -> Limits {
    Limits::DEFAULT
}

#[test]
fn parses_request_zero_copy() {
    let buf = Bytes::from_static(INVITE);
    let m = parse_datagram(buf.clone(), &limits()).unwrap();
    let r = m.request_line().unwrap();
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri, "sip:bob@example.com");
    assert_eq!(r.version, SIP_2_0);
    assert_eq!(m.headers.len(), 8);
    assert_eq!(m.headers.get_raw(b"x-vendor").unwrap(), "kept  as is");
    assert_eq!(m.body, "v=0\n");
    // Zero-copy: the value points into the original buffer.
    let v = m.headers.get(HeaderName::CallId).unwrap();
    let base = buf.as_ptr() as usize;
    assert!((base..base + buf.len()).contains(&(v.as_ptr() as usize)));
}

#[test]
fn print_round_trips() {
    let m = parse_datagram(Bytes::from_static(INVITE), &limits()).unwrap();
    let printed = m.to_bytes();
    assert_eq!(printed.len(), m.encoded_len());
    assert_eq!(parse_datagram(printed, &limits()).unwrap(), m);
}

#[test]
fn parses_response_with_empty_and_utf8_reason() {
    let m = parse_datagram(
        Bytes::from_static(b"SIP/2.0 100 \r\nCall-ID: x\r\n\r\n"),
        &limits(),
    )
    .unwrap();
    assert_eq!(m.status(), Some(100));
    assert_eq!(m.status_line().unwrap().reason, "");
    let m = parse_datagram(
        Bytes::from(
            "SIP/2.0 200 = 2**3 но сто\r\nl: 0\r\n\r\n"
                .as_bytes()
                .to_vec(),
        ),
        &limits(),
    )
    .unwrap();
    assert_eq!(m.status_line().unwrap().reason, "= 2**3 но сто".as_bytes());
}

#[test]
fn bad_status_codes_are_invalid() {
    for line in [
        "SIP/2.0 4294967301 x",
        "SIP/2.0 99 x",
        "SIP/2.0 700 x",
        "SIP/2.0 20 x",
        "SIP/2.0 2000",
    ] {
        let msg = format!("{line}\r\nl: 0\r\n\r\n");
        let err = parse_datagram(Bytes::from(msg.into_bytes()), &limits()).unwrap_err();
        assert_eq!(err.error, ParseError::BadStatusCode, "{line}");
    }
}

#[test]
fn folding_and_whitespace_before_colon() {
    let raw =
        b"OPTIONS sip:a@b SIP/2.0\r\nTO :\r\n sip:x@y ;tag=1\r\nSubject:\r\nNew: a\r\n\tb\r\n\r\n";
    let m = parse_datagram(Bytes::from_static(raw), &limits()).unwrap();
    assert_eq!(m.headers.get(HeaderName::To).unwrap(), "sip:x@y ;tag=1");
    assert_eq!(m.headers.get(HeaderName::Subject).unwrap(), "");
    assert_eq!(m.headers.get_raw(b"new").unwrap(), "a\r\n\tb");
}

#[test]
fn bare_lf_and_cr_are_invalid() {
    for raw in [
        &b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\nTo: y\r\n\r\n"[..],
        &b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\rTo: y\r\n\r\n"[..],
        &b"OPTIONS sip:a@b SIP/2.0\nVia: x\r\n\r\n"[..],
    ] {
        assert!(parse_datagram(Bytes::copy_from_slice(raw), &limits()).is_err());
    }
}

#[test]
fn header_line_errors_keep_the_head() {
    let raw = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nno colon here\r\n\r\n";
    let err = parse_datagram(Bytes::from_static(raw), &limits()).unwrap_err();
    assert!(matches!(err.error, ParseError::BadHeaderLine(_)));
    let head = err.head.unwrap();
    assert_eq!(head.headers.len(), 1);
    assert!(head.is_request());
}

#[test]
fn content_length_rules_for_datagrams() {
    let with_cl = |cl: &str, body: &str| {
        let msg = format!("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: {cl}\r\n\r\n{body}");
        parse_datagram(Bytes::from(msg.into_bytes()), &limits())
    };
    assert_eq!(with_cl("3", "abcdef").unwrap().body, "abc");
    assert_eq!(with_cl("0", "").unwrap().body, "");
    for (cl, body) in [
        ("9999", "abc"),
        ("-1", "abc"),
        ("", ""),
        ("1x", "abc"),
        ("99999999999999999999", ""),
    ] {
        assert_eq!(
            with_cl(cl, body).unwrap_err().error,
            ParseError::BadContentLength,
            "{cl}"
        );
    }
    let twice = b"OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx";
    assert_eq!(
        parse_datagram(Bytes::from_static(twice), &limits())
            .unwrap_err()
            .error,
        ParseError::BadContentLength
    );
    // Without Content-Length the body is the rest of the datagram.
    let none = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\nbody";
    assert_eq!(
        parse_datagram(Bytes::from_static(none), &limits())
            .unwrap()
            .body,
        "body"
    );
}

#[test]
fn limits_map_to_their_errors() {
    let small = Limits {
        max_message_bytes: 200,
        max_body_bytes: 10,
        max_headers: 2,
        max_line_bytes: 40,
        max_via: 2,
    };
    let big_body = format!("OPTIONS sip:a@b SIP/2.0\r\nl: 11\r\n\r\n{}", "x".repeat(11));
    let err = parse_datagram(Bytes::from(big_body.into_bytes()), &small).unwrap_err();
    assert_eq!(err.error, ParseError::BodyTooLarge(11));
    let many = "OPTIONS sip:a@b SIP/2.0\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
    let err = parse_datagram(Bytes::from(many), &small).unwrap_err();
    assert_eq!(err.error, ParseError::TooManyHeaders);
    let long = format!("OPTIONS sip:a@b SIP/2.0\r\nX: {}\r\n\r\n", "y".repeat(50));
    let err = parse_datagram(Bytes::from(long.into_bytes()), &small).unwrap_err();
    assert_eq!(err.error, ParseError::LineTooLong);
    let huge = format!("OPTIONS sip:a@b SIP/2.0\r\nX: 1\r\n\r\n{}", "z".repeat(300));
    let err = parse_datagram(Bytes::from(huge.into_bytes()), &small).unwrap_err();
    assert_eq!(err.error, ParseError::MessageTooLarge(333));
    assert!(err.head.is_some());
}

#[test]
fn start_line_shapes() {
    let parse = |line: &str| {
        parse_datagram(
            Bytes::from(format!("{line}\r\nl: 0\r\n\r\n").into_bytes()),
            &limits(),
        )
    };
    assert!(parse("OPTIONS sip:a@b SIP/2.0").is_ok());
    assert!(parse("OPTIONS sip:a@b SIP/2.0  ").is_ok());
    // Extra whitespace ends up inside the Request-URI, which validation rejects.
    let m = parse("INVITE  sip:a@b  SIP/2.0").unwrap();
    assert_eq!(m.request_line().unwrap().uri, " sip:a@b ");
    assert_eq!(
        parse("OPTIONS sip:a@b SIP/7.0")
            .unwrap()
            .request_line()
            .unwrap()
            .version,
        "SIP/7.0"
    );
    for bad in [
        "GET / HTTP/1.1",
        "OPTIONS",
        "OPTIONS sip:a@b",
        " OPTIONS sip:a@b SIP/2.0",
        "OPT<>IONS sip:a@b SIP/2.0",
    ] {
        assert_eq!(
            parse(bad).unwrap_err().error,
            ParseError::BadStartLine,
            "{bad}"
        );
    }
}

#[test]
fn leading_crlfs_are_ignored() {
    let m = parse_datagram(
        Bytes::from_static(b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n"),
        &limits(),
    );
    assert!(m.is_ok());
}

fn frames(framer: &mut Framer) -> Vec<Frame> {
    let mut out = Vec::new();
    while let Some(f) = framer.next_frame().unwrap() {
        out.push(f);
    }
    out
}

#[test]
fn stream_framing_byte_by_byte() {
    let mut stream = Vec::new();
    stream.extend_from_slice(b"\r\n\r\n");
    stream.extend_from_slice(INVITE);
    stream.extend_from_slice(INVITE);
    let mut framer = Framer::new(limits());
    let mut got = Vec::new();
    for b in &stream {
        framer.extend(std::slice::from_ref(b));
        got.extend(frames(&mut framer));
    }
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], Frame::Ping);
    let expected = parse_datagram(Bytes::from_static(INVITE), &limits()).unwrap();
    assert_eq!(got[1], Frame::Message(expected.clone()));
    assert_eq!(got[2], Frame::Message(expected));
    assert_eq!(framer.buffered(), 0);
}

#[test]
fn stream_requires_content_length_and_enforces_limits() {
    let mut framer = Framer::new(limits());
    framer.extend(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n");
    let err = framer.next_frame().unwrap_err();
    assert_eq!(err.error, ParseError::MissingContentLength);
    assert!(err.head.is_some());

    let mut framer = Framer::new(limits());
    framer.extend(b"OPTIONS sip:a@b SIP/2.0\r\nl: 99999999\r\n\r\n");
    assert_eq!(
        framer.next_frame().unwrap_err().error,
        ParseError::BodyTooLarge(99_999_999)
    );

    // A head that never ends is refused once it exceeds the message limit.
    let mut framer = Framer::new(Limits {
        max_message_bytes: 100,
        ..limits()
    });
    framer.extend(b"OPTIONS sip:a@b SIP/2.0\r\n");
    assert_eq!(framer.next_frame().unwrap(), None);
    for _ in 0..20 {
        framer.extend(b"X-Slow: 1\r\n");
    }
    assert!(matches!(
        framer.next_frame().unwrap_err().error,
        ParseError::MessageTooLarge(_)
    ));

    // A first line that never ends is refused at the line limit.
    let mut framer = Framer::new(Limits {
        max_line_bytes: 50,
        ..limits()
    });
    framer.extend(&[b'A'; 60]);
    assert_eq!(
        framer.next_frame().unwrap_err().error,
        ParseError::LineTooLong
    );
}

#[test]
fn pong_only_when_expected() {
    let mut framer = Framer::new(limits());
    framer.extend(b"\r\n");
    assert_eq!(framer.next_frame().unwrap(), None);
    framer.expect_pong();
    assert_eq!(framer.next_frame().unwrap(), Some(Frame::Pong));
    framer.extend(b"\r\nOPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n");
    assert!(matches!(
        framer.next_frame().unwrap(),
        Some(Frame::Message(_))
    ));
}
