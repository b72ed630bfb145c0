//! RFC 4475 / RFC 5118 conformance: every message of the torture corpora in
//! `tests/data/conformance/` (see its README for provenance and the expected outcomes) is framed
//! and validated as if it had arrived in one UDP datagram, and the decision is checked against
//! the table below. Where the corpus allows either answer, the choice is fixed here so it stays
//! consistent on every transport.

use bytes::Bytes;
use sbc::sip::header::HeaderName;
use sbc::sip::uri::{Host, Uri};
use sbc::sip::validate::{Disposition, Validator};
use sbc::sip::{Limits, Message, parse_datagram};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Process,
    Reject(u16),
    Drop,
}

use Expect::*;

pub const TABLE: &[(&str, Expect)] = &[
    ("rfc4475/wsinv", Process),
    ("rfc4475/intmeth", Process),
    ("rfc4475/esc01", Process),
    ("rfc4475/esc02", Process),
    ("rfc4475/escnull", Process),
    ("rfc4475/lwsdisp", Process),
    ("rfc4475/longreq", Process),
    ("rfc4475/semiuri", Process),
    ("rfc4475/transports", Process),
    ("rfc4475/mpart01", Process),
    ("rfc4475/unksm2", Process),
    ("rfc4475/cparam01", Process),
    ("rfc4475/cparam02", Process),
    ("rfc4475/regescrt", Process),
    ("rfc4475/regaut01", Process),
    ("rfc4475/inv2543", Process),
    ("rfc4475/novelsc", Process),
    ("rfc4475/badbranch", Process),
    ("rfc4475/sdp01", Process),
    ("rfc4475/invut", Process),
    // Responses with no matching transaction: they must parse; the transaction layer drops them.
    ("rfc4475/unreason", Process),
    ("rfc4475/noreason", Process),
    // Only the Content-Length bytes of the datagram are used.
    ("rfc4475/dblreq", Process),
    ("rfc4475/badinv01", Reject(400)),
    ("rfc4475/clerr", Reject(400)),
    ("rfc4475/ncl", Reject(400)),
    ("rfc4475/scalar02", Reject(400)),
    ("rfc4475/quotbal", Reject(400)),
    ("rfc4475/ltgtruri", Reject(400)),
    ("rfc4475/lwsruri", Reject(400)),
    ("rfc4475/lwsstart", Reject(400)),
    ("rfc4475/badaspec", Reject(400)),
    ("rfc4475/baddn", Reject(400)),
    ("rfc4475/mismatch01", Reject(400)),
    ("rfc4475/mismatch02", Reject(400)),
    ("rfc4475/insuf", Reject(400)),
    ("rfc4475/multi01", Reject(400)),
    ("rfc4475/mcl01", Reject(400)),
    // Either 400 or process is acceptable. Trailing whitespace after the version is tolerated,
    // a Request-URI carrying URI headers is well formed, and Date is relayed without
    // interpretation; but an addr-spec without angle brackets may not contain `?` (RFC 3261
    // §20), so regbadct's Contact is refused.
    ("rfc4475/trws", Process),
    ("rfc4475/escruri", Process),
    ("rfc4475/baddate", Process),
    ("rfc4475/regbadct", Reject(400)),
    ("rfc4475/badvers", Reject(505)),
    ("rfc4475/unkscm", Reject(416)),
    ("rfc4475/bext01", Reject(420)),
    ("rfc4475/zeromf", Reject(483)),
    ("rfc4475/scalarlg", Drop),
    ("rfc4475/bigcode", Drop),
    // A response: parses; it is never answered (responses are not answered at all), and the
    // transport never sends toward a broadcast address.
    ("rfc4475/bcast", Process),
    ("rfc5118/ipv4-mapped-ipv6", Process),
    ("rfc5118/ipv6-bad", Reject(400)),
    // Accept-or-reject: rejected, consistently (three colons are not a valid IPv6 reference).
    ("rfc5118/ipv6-bug-abnf-3-colons", Reject(400)),
    ("rfc5118/ipv6-correct-abnf-2-colons", Process),
    ("rfc5118/ipv6-good", Process),
    ("rfc5118/ipv6-in-sdp", Process),
    ("rfc5118/mult-ip-in-header", Process),
    ("rfc5118/mult-ip-in-sdp", Process),
    ("rfc5118/port-ambiguous", Process),
    ("rfc5118/port-unambiguous", Process),
    ("rfc5118/via-received-param-no-delim", Process),
    ("rfc5118/via-received-param-with-delim", Process),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance")
}

pub fn load(name: &str) -> Bytes {
    let path = corpus_dir().join(format!("{name}.dat"));
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The conformance table's outcome for one corpus message, as the transport would act on it.
fn outcome(name: &str) -> (Expect, Disposition) {
    let expected = TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, e)| *e)
        .unwrap_or_else(|| panic!("{name} missing from the table"));
    (expected, Validator::default().inspect_datagram(load(name)))
}

#[test]
fn table_covers_every_corpus_file() {
    let mut files = Vec::new();
    for dir in ["rfc4475", "rfc5118"] {
        for entry in std::fs::read_dir(corpus_dir().join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(stem) = name.strip_suffix(".dat") {
                files.push(format!("{dir}/{stem}"));
            }
        }
    }
    files.sort();
    let mut names: Vec<String> = TABLE.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(files, names);
    assert_eq!(names.len(), 61);
}

#[test]
fn every_corpus_message_gets_its_outcome() {
    let mut failures = Vec::new();
    for (name, _) in TABLE {
        let (expected, got) = outcome(name);
        let ok = match (&expected, &got) {
            (Process, Disposition::Process(_)) => true,
            (Reject(code), Disposition::Reject { status, .. }) => code == status,
            (Drop, Disposition::Drop(_)) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn processed(name: &str) -> Message {
    match outcome(name).1 {
        Disposition::Process(m) => m,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn processed_messages_round_trip_byte_exact() {
    for (name, expected) in TABLE {
        if *expected != Process {
            continue;
        }
        let msg = processed(name);
        let printed = msg.to_bytes();
        let again = parse_datagram(printed.clone(), &Limits::DEFAULT).unwrap();
        assert_eq!(again, msg, "{name}");
        for h in &msg.headers {
            let line = [&h.raw_name[..], b": ", &h.value[..], b"\r\n"].concat();
            assert!(
                printed.windows(line.len()).any(|w| w == line.as_slice()),
                "{name}: header {:?} not relayed byte-exact",
                String::from_utf8_lossy(&h.raw_name)
            );
        }
    }
}

#[test]
fn dblreq_uses_only_content_length_bytes() {
    let msg = processed("rfc4475/dblreq");
    assert_eq!(msg.method(), Some(&sbc::sip::Method::Register));
    assert!(msg.body.is_empty());
}

#[test]
fn bext01_lists_every_unsupported_tag() {
    let Disposition::Reject { error, .. } = outcome("rfc4475/bext01").1 else {
        panic!("bext01 not rejected");
    };
    let sbc::sip::ParseError::BadExtension(tags) = error else {
        panic!("{error:?}");
    };
    let tags: Vec<_> = tags
        .iter()
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect();
    assert_eq!(
        tags,
        [
            "nothingSupportsThis",
            "nothingSupportsThisEither",
            "noProxiesSupportThis",
            "norDoAnyProxiesSupportThis"
        ]
    );
}

#[test]
fn wsinv_typed_values_survive_whitespace_and_folding() {
    let msg = processed("rfc4475/wsinv");
    assert_eq!(msg.max_forwards().unwrap().unwrap().0, 68);
    assert_eq!(msg.cseq().unwrap().seq, 9);
    assert_eq!(msg.to_header().unwrap().tag().unwrap(), "1918181833n");
    let vias = msg.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[1].branch().unwrap(), "z9hG4bK9ikj8");
    assert_eq!(vias[2].branch().unwrap(), "z9hG4bK30239");
    let contacts = msg.contacts().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].q(), Some(330));
    assert!(msg.headers.get_raw(b"NewFangledHeader").is_some());
    assert_eq!(msg.body.len(), 150);
}

#[test]
fn port_ambiguous_is_not_routed_to_5070() {
    let msg = processed("rfc5118/port-ambiguous");
    let Uri::Sip(uri) = msg.request_uri().unwrap() else {
        panic!()
    };
    assert_eq!(uri.host, Host::V6("2001:db8::10:5070".parse().unwrap()));
    assert_eq!(uri.port, None);
    let msg = processed("rfc5118/port-unambiguous");
    let Uri::Sip(uri) = msg.request_uri().unwrap() else {
        panic!()
    };
    assert_eq!(uri.host, Host::V6("2001:db8::10".parse().unwrap()));
    assert_eq!(uri.port, Some(5070));
}

#[test]
fn received_parameter_with_and_without_brackets() {
    for name in [
        "rfc5118/via-received-param-no-delim",
        "rfc5118/via-received-param-with-delim",
    ] {
        let via = processed(name).top_via().unwrap();
        assert_eq!(
            via.received(),
            Some("2001:db8::9:255".parse().unwrap()),
            "{name}"
        );
    }
}

#[test]
fn intmeth_keeps_every_unusual_part() {
    let msg = processed("rfc4475/intmeth");
    let method = msg.method().unwrap().as_bytes().to_vec();
    assert_eq!(method, b"!interesting-Method0123456789_*+`.%indeed'~");
    assert_eq!(msg.cseq().unwrap().method.as_bytes(), method.as_slice());
    let Uri::Sip(uri) = msg.request_uri().unwrap() else {
        panic!()
    };
    assert_eq!(
        uri.user.as_deref().unwrap(),
        b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    );
    assert_eq!(
        uri.password.as_deref().unwrap(),
        b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    );
    assert!(msg.headers.iter().any(|h| h.name == HeaderName::Other));
}
