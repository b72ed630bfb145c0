//! Unit tests for request/response validation.

use super::*;

fn request(extra: &str) -> Bytes {
    Bytes::from(format!(
        "OPTIONS sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
         From: <sip:alice@example.org>;tag=1\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: abc@192.0.2.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    ))
}

fn status(buf: Bytes) -> Option<u16> {
    match Validator::default().inspect_datagram(buf) {
        Disposition::Process(_) => None,
        Disposition::Reject { status, .. } => Some(status),
        Disposition::Drop(e) => panic!("dropped: {e:?}"),
    }
}

#[test]
fn minimal_request_is_processed() {
    assert_eq!(status(request("")), None);
    assert_eq!(status(request("Max-Forwards: 1\r\n")), None);
}

#[test]
fn checks_map_to_statuses() {
    assert_eq!(status(request("Max-Forwards: 0\r\n")), Some(483));
    assert_eq!(status(request("Max-Forwards: 256\r\n")), Some(400));
    assert_eq!(status(request("Require: 100rel, foo\r\n")), Some(420));
    assert_eq!(status(request("Require: 100rel, timer\r\n")), None);
    assert_eq!(status(request("To: <sip:x@y>\r\n")), Some(400));
    assert_eq!(status(request("Expires: 1\r\nExpires: 2\r\n")), Some(400));
    assert_eq!(status(request("Contact: <sip:a@b>;;\r\n")), Some(400));
}

#[test]
fn via_limit_is_483() {
    let vias: String = (0..80)
        .map(|i| format!("Via: SIP/2.0/UDP 192.0.2.{i};branch=z9hG4bK{i}\r\n"))
        .collect();
    assert_eq!(status(request(&vias)), Some(483));
}

#[test]
fn require_is_ignored_for_ack_and_cancel() {
    let ack = String::from_utf8(request("Require: foo\r\n").to_vec())
        .unwrap()
        .replace("OPTIONS", "ACK");
    assert_eq!(status(Bytes::from(ack)), None);
}

#[test]
fn unknown_and_registered_schemes() {
    let with_uri = |uri: &str| {
        let s = String::from_utf8(request("").to_vec()).unwrap();
        Bytes::from(s.replacen("sip:bob@example.com", uri, 1))
    };
    assert_eq!(status(with_uri("tel:+14155550123")), None);
    assert_eq!(status(with_uri("im:bob@example.com")), None);
    assert_eq!(status(with_uri("madeup:bob")), Some(416));
}

#[test]
fn invalid_responses_are_dropped() {
    let resp = Bytes::from_static(
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n\
          To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 99999999999 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(matches!(
        Validator::default().inspect_datagram(resp),
        Disposition::Drop(_)
    ));
}
