//! RFC 4475 / RFC 5118 torture messages against the typed header and URI parsers.
//!
//! A minimal header splitter (unfolding continuation lines, zero-copy) feeds every header the
//! typed parsers know to its parser. Messages the SBC must process parse cleanly; messages
//! whose 400 comes from a header or Request-URI grammar error fail here. Messages rejected for
//! framing reasons (Content-Length, duplicate headers, request-line spacing) are the message
//! parser's business and are not asserted. The corpus lives in `tests/data/conformance`.

use super::*;
use crate::sip::error::SyntaxError;
use crate::sip::uri::Uri;
use bytes::Bytes;
use std::path::PathBuf;

fn corpus(dir: &str, name: &str) -> Option<Bytes> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "data",
        "conformance",
        dir,
        name,
    ]
    .iter()
    .collect();
    std::fs::read(path.with_extension("dat"))
        .ok()
        .map(Bytes::from)
}

/// Start line and `(name, value)` pairs of a message head; values keep folded line breaks.
fn split_head(msg: &Bytes) -> (Bytes, Vec<(Bytes, Bytes)>) {
    let head_end = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(msg.len(), |p| p + 2);
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < head_end {
        let end = msg[start..head_end]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(head_end, |p| start + p);
        let folded = matches!(msg.get(start), Some(b' ' | b'\t'));
        match lines.last_mut() {
            Some(last) if folded => last.1 = end,
            _ => lines.push((start, end)),
        }
        start = end + 2;
    }
    let start_line = msg.slice(lines[0].0..lines[0].1);
    let headers = lines[1..]
        .iter()
        .filter_map(|&(s, e)| {
            let colon = msg[s..e].iter().position(|&b| b == b':')? + s;
            let name = crate::sip::scan::trim_lws(&msg.slice(s..colon));
            Some((name, crate::sip::scan::trim_lws(&msg.slice(colon + 1..e))))
        })
        .collect();
    (start_line, headers)
}

/// Runs every typed parser that applies; returns the first failure.
fn check(msg: &Bytes) -> Result<(), (String, SyntaxError)> {
    let (start_line, headers) = split_head(msg);
    if !start_line.starts_with(b"SIP/") {
        let uri = start_line.split(|&b| b == b' ').nth(1).unwrap_or_default();
        Uri::parse(&start_line.slice_ref(uri)).map_err(|e| ("Request-URI".to_string(), e))?;
    }
    for (name, value) in headers {
        let label = String::from_utf8_lossy(&name).into_owned();
        let r: Result<(), SyntaxError> = match HeaderName::from_bytes(&name) {
            HeaderName::Via => Via::parse_list(&value).map(drop),
            HeaderName::From | HeaderName::To | HeaderName::ReplyTo | HeaderName::ReferTo => {
                NameAddr::parse(&value).map(drop)
            }
            HeaderName::Route
            | HeaderName::RecordRoute
            | HeaderName::Path
            | HeaderName::PAssertedIdentity => NameAddr::parse_list(&value).map(drop),
            HeaderName::Contact => Contact::parse_list(&value).map(drop),
            HeaderName::CSeq => CSeq::parse(&value).map(drop),
            HeaderName::CallId => CallId::parse(&value).map(drop),
            HeaderName::MaxForwards => MaxForwards::parse(&value).map(drop),
            HeaderName::Expires | HeaderName::MinExpires => Expires::parse(&value).map(drop),
            HeaderName::Require
            | HeaderName::ProxyRequire
            | HeaderName::Supported
            | HeaderName::Unsupported => OptionTags::parse(&value).map(drop),
            HeaderName::Allow => Allow::parse(&value).map(drop),
            HeaderName::ContentType => ContentType::parse(&value).map(drop),
            _ => Ok(()),
        };
        r.map_err(|e| (label, e))?;
    }
    Ok(())
}

const PROCESS_4475: &[&str] = &[
    "wsinv",
    "intmeth",
    "esc01",
    "esc02",
    "escnull",
    "lwsdisp",
    "longreq",
    "semiuri",
    "transports",
    "mpart01",
    "unksm2",
    "cparam01",
    "cparam02",
    "regescrt",
    "regaut01",
    "inv2543",
    "novelsc",
    "badbranch",
    "sdp01",
    "invut",
    "unreason",
    "noreason",
    "dblreq",
    "badvers",
    "unkscm",
    "bext01",
    "zeromf",
    "bcast",
];

/// Messages that must fail, with the first header (or the Request-URI) that fails.
const REJECT_4475: &[(&str, &str)] = &[
    ("badinv01", "Via"),
    ("quotbal", "To"),
    ("badaspec", "To"),
    ("baddn", "From"),
    ("scalar02", "CSeq"),
    ("ltgtruri", "Request-URI"),
    ("lwsruri", "Request-URI"),
];

const PROCESS_5118: &[&str] = &[
    "ipv4-mapped-ipv6",
    "ipv6-correct-abnf-2-colons",
    "ipv6-good",
    "ipv6-in-sdp",
    "mult-ip-in-header",
    "mult-ip-in-sdp",
    "port-ambiguous",
    "port-unambiguous",
    "via-received-param-no-delim",
    "via-received-param-with-delim",
];

/// `ipv6-bad` must fail; `ipv6-bug-abnf-3-colons` is rejected consistently.
const REJECT_5118: &[(&str, &str)] = &[
    ("ipv6-bad", "Request-URI"),
    ("ipv6-bug-abnf-3-colons", "Request-URI"),
];

#[test]
fn rfc4475_and_rfc5118_outcomes() {
    assert!(
        corpus("rfc4475", "wsinv").is_some(),
        "conformance corpus missing"
    );
    for (dir, names) in [("rfc4475", PROCESS_4475), ("rfc5118", PROCESS_5118)] {
        for name in names {
            let msg = corpus(dir, name).unwrap_or_else(|| panic!("missing {dir}/{name}"));
            assert_eq!(check(&msg), Ok(()), "{dir}/{name}");
        }
    }
    for (dir, cases) in [("rfc4475", REJECT_4475), ("rfc5118", REJECT_5118)] {
        for (name, header) in cases {
            let msg = corpus(dir, name).unwrap_or_else(|| panic!("missing {dir}/{name}"));
            let failed = check(&msg).err().map(|(h, _)| h);
            assert_eq!(failed.as_deref(), Some(*header), "{dir}/{name}");
        }
    }
}

/// Either outcome is acceptable for these; the choices made are pinned here.
#[test]
fn either_way_cases_are_consistent() {
    let regbadct = corpus("rfc4475", "regbadct").expect("corpus file");
    assert_eq!(
        check(&regbadct).err().map(|(h, _)| h).as_deref(),
        Some("Contact")
    );
    for name in ["escruri", "trws", "baddate"] {
        let msg = corpus("rfc4475", name).unwrap_or_else(|| panic!("missing {name}"));
        assert_eq!(check(&msg), Ok(()), "{name}");
    }
}

#[test]
fn port_ambiguous_has_no_port() {
    let msg = corpus("rfc5118", "port-ambiguous").expect("corpus file");
    let (start, _) = split_head(&msg);
    let uri = start.split(|&b| b == b' ').nth(1).unwrap_or_default();
    let Ok(Uri::Sip(u)) = Uri::parse(&start.slice_ref(uri)) else {
        panic!()
    };
    assert_eq!(u.port, None);
    assert_eq!(u.host.to_string(), "[2001:db8::10:5070]");
}

/// Every typed parser on `v`; none may panic.
fn parse_all(v: &Bytes) {
    let _ = Uri::parse(v);
    let _ = Via::parse_list(v);
    let _ = NameAddr::parse_list(v);
    let _ = Contact::parse_list(v);
    let _ = CSeq::parse(v);
    let _ = CallId::parse(v);
    let _ = MaxForwards::parse(v);
    let _ = Expires::parse(v);
    let _ = OptionTags::parse(v);
    let _ = Allow::parse(v);
    let _ = ContentType::parse(v);
    let _ = Params::parse_header(v, 0);
    let _ = Params::parse_uri(v, 0, v.len());
    let _ = crate::sip::scan::split_list(v).count();
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(v in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..96)) {
        parse_all(&Bytes::from(v));
    }

    #[test]
    fn sip_alphabet_never_panics(
        v in proptest::collection::vec(proptest::sample::select(
            b"sip:SIP/2.0 \t\r\n<>;,=@[]\"\\?%&+*-_.abAB09:ff\xc3\xa9".to_vec()), 0..96)
    ) {
        parse_all(&Bytes::from(v));
    }
}
