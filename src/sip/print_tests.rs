//! Property tests: `parse(print(m)) == m` for generated messages, and byte-exact relay of
//! unknown headers.

use crate::sip::header::HeaderName;
use crate::sip::limits::Limits;
use crate::sip::message::{Header, Headers, Message, RequestLine, StartLine, StatusLine};
use crate::sip::method::Method;
use crate::sip::parse::{Frame, Framer, parse_datagram};
use bytes::Bytes;
use proptest::prelude::*;

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.!%*_+`'~-]{1,16}"
}

/// A header value: no leading/trailing whitespace, may contain folded line breaks and UTF-8.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[!-~]([ -~é]{0,30}[!-~])?",
        ("[!-~]{1,10}", "[!-~]{1,10}").prop_map(|(a, b)| format!("{a}\r\n {b}")),
    ]
}

fn header() -> impl Strategy<Value = Header> {
    prop_oneof![
        (token(), value()),
        (
            prop::sample::select(vec![
                "Via", "v", "From", "To", "Call-ID", "i", "CSeq", "X-Custom"
            ]),
            value()
        )
            .prop_map(|(n, v)| (n.to_string(), v)),
    ]
    .prop_filter("Content-Length is owned by the body", |(n, _)| {
        HeaderName::from_bytes(n.as_bytes()) != HeaderName::ContentLength
    })
    .prop_map(|(n, v)| Header::raw(Bytes::from(n), Bytes::from(v)))
}

fn start_line() -> impl Strategy<Value = StartLine> {
    prop_oneof![
        (token(), "sip:[a-z0-9]{1,8}@[a-z0-9.]{1,12}").prop_map(|(m, u)| {
            StartLine::Request(RequestLine {
                method: Method::from_bytes(&Bytes::from(m)),
                uri: Bytes::from(u),
                version: Bytes::from_static(b"SIP/2.0"),
            })
        }),
        (100u16..=699, "([!-~]([ -~]{0,20}[!-~])?)?").prop_map(|(code, reason)| {
            StartLine::Response(StatusLine {
                version: Bytes::from_static(b"SIP/2.0"),
                code,
                reason: Bytes::from(reason),
            })
        }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        start_line(),
        prop::collection::vec(header(), 0..12),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(start, headers, body)| {
            let mut list = Headers::default();
            for h in headers {
                list.push(h);
            }
            let mut msg = Message {
                start,
                headers: list,
                body: Bytes::new(),
            };
            msg.set_body(Bytes::from(body), None);
            msg
        })
}

proptest! {
    #[test]
    fn parse_print_round_trip(msg in message()) {
        let printed = msg.to_bytes();
        prop_assert_eq!(printed.len(), msg.encoded_len());
        let parsed = parse_datagram(printed.clone(), &Limits::DEFAULT).unwrap();
        prop_assert_eq!(&parsed, &msg);
        // The same bytes framed from a stream give the same message.
        let mut framer = Framer::new(Limits::DEFAULT);
        framer.extend(&printed);
        prop_assert_eq!(framer.next_frame().unwrap(), Some(Frame::Message(msg)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_datagram(Bytes::from(data.clone()), &Limits::DEFAULT);
        let mut framer = Framer::new(Limits::DEFAULT);
        framer.extend(&data);
        while let Ok(Some(_)) = framer.next_frame() {}
    }
}
