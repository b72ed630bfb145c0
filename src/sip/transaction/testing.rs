//! Test support for the transaction layer (pure, test-only): small SIP message builders parsed
//! with [`crate::sip::parse_datagram`], a virtual clock base, and helpers that drain the layer's
//! outputs. RFC 3261 §17 flows are driven by hand with virtual time.

use super::{TransactionLayer, Transmit, TxEvent, TxKey};
use crate::sip::message::Message;
use crate::sip::response::response_to;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// The opaque transport address used by the tests.
pub type Addr = &'static str;

/// The peer every test talks to.
pub const PEER: Addr = "peer";

/// RFC 4475 §3.3.15 `inv2543`: an RFC 2543 INVITE without a branch.
pub const INV2543: &str = "INVITE sip:UserB@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP iftgw.example.com\r\n\
From: <sip:+13035551111@ift.client.example.net;user=phone>\r\n\
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>\r\n\
To: sip:+16505552222@ss1.example.net;user=phone\r\n\
Call-ID: inv2543.1717@ift.client.example.com\r\n\
CSeq: 56 INVITE\r\n\
Content-Length: 0\r\n\r\n";

/// The virtual clock's origin; tests add durations to it and never read the clock again.
#[allow(clippy::disallowed_methods)]
pub fn t0() -> Instant {
    Instant::now()
}

/// Milliseconds as a duration.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Parses a SIP message text.
pub fn parse(text: &str) -> Message {
    crate::sip::parse_datagram(Bytes::copy_from_slice(text.as_bytes()), &Default::default())
        .expect("test message parses")
}

/// Parses what the layer put on the wire.
pub fn wire(t: &Transmit<Addr>) -> Message {
    crate::sip::parse_datagram(t.payload.clone(), &Default::default()).expect("wire parses")
}

/// A request with one Via (`sent_by`, `branch`), a Route and CSeq 1. ACK and CANCEL carry their
/// own method in CSeq, as RFC 3261 §9.1 and §17.1.1.3 require.
pub fn request(method: &str, branch: &str, sent_by: &str) -> Message {
    parse(&format!(
        "{method} sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP {sent_by};branch={branch}\r\n\
Max-Forwards: 70\r\n\
Route: <sip:p1.example.com;lr>\r\n\
From: <sip:alice@example.org>;tag=a1\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: c1@example.org\r\n\
CSeq: 1 {method}\r\n\
Content-Length: 0\r\n\r\n"
    ))
}

/// A response to `request` with To tag `b1` (none for 100).
pub fn reply(request: &Message, code: u16) -> Message {
    let tag: Option<&[u8]> = if code == 100 { None } else { Some(b"b1") };
    response_to(request, code, None, tag)
}

/// An ACK with To tag `b1` (the tag [`reply`] adds): with the INVITE's branch it acknowledges
/// a non-2xx response; with a new branch it is the ACK for a 2xx.
pub fn ack(branch: &str, sent_by: &str) -> Message {
    let mut ack = request("ACK", branch, sent_by);
    ack.headers.set(
        crate::sip::header::HeaderName::To,
        Bytes::from_static(b"<sip:bob@example.com>;tag=b1"),
    );
    ack
}

/// Drains every pending transmit.
pub fn transmits(layer: &mut TransactionLayer<Addr>) -> Vec<Transmit<Addr>> {
    std::iter::from_fn(|| layer.poll_transmit()).collect()
}

/// Drains every pending event.
pub fn events(layer: &mut TransactionLayer<Addr>) -> Vec<TxEvent<Addr>> {
    std::iter::from_fn(|| layer.poll_event()).collect()
}

/// Advances virtual time to `at`, firing due timers, and returns what was transmitted.
pub fn advance(layer: &mut TransactionLayer<Addr>, at: Instant) -> Vec<Transmit<Addr>> {
    layer.handle_timeout(at);
    transmits(layer)
}

/// Runs the layer's timers up to `until`, stepping from deadline to deadline, and returns the
/// instants (relative to `base`) at which something was transmitted.
pub fn schedule(
    layer: &mut TransactionLayer<Addr>,
    base: Instant,
    until: Duration,
) -> Vec<Duration> {
    let mut sent = Vec::new();
    while let Some(at) = layer.poll_timeout() {
        if at > base + until {
            break;
        }
        layer.handle_timeout(at);
        for _ in transmits(layer) {
            sent.push(at - base);
        }
    }
    sent
}

/// True when `events` contains `Terminated` for `key`.
pub fn terminated(events: &[TxEvent<Addr>], key: &TxKey) -> bool {
    events
        .iter()
        .any(|e| matches!(e, TxEvent::Terminated { key: k } if k == key))
}

/// A layer with the RFC default timers.
pub fn layer() -> TransactionLayer<Addr> {
    TransactionLayer::new(super::Timers::default())
}

/// The `Response` events' status codes.
pub fn responses(events: &[TxEvent<Addr>]) -> Vec<u16> {
    events
        .iter()
        .filter_map(|e| match e {
            TxEvent::Response { response, .. } => response.status(),
            _ => None,
        })
        .collect()
}

/// Seconds as a duration.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
