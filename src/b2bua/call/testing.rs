//! Test support for call flows (pure, test-only): a plan, A's INVITE, and a rig that feeds
//! events with virtual time and builds what the peers of each leg would send.

use super::*;
use crate::sip::header::{HeaderName, NameAddr};
use crate::sip::message::Header;
use crate::sip::uri::{Host, Uri};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// The virtual clock's origin.
#[allow(clippy::disallowed_methods)]
pub fn t0() -> Instant {
    Instant::now()
}

pub fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

pub fn uri(s: &str) -> Uri {
    Uri::parse(&b(s)).expect("test uri")
}

pub fn parse(text: &str) -> Message {
    crate::sip::parse_datagram(b(text), &Default::default()).expect("test message parses")
}

/// Prints and re-parses `m`: what a peer would receive.
pub fn wire(m: &Message) -> Message {
    crate::sip::parse_datagram(m.to_bytes(), &Default::default()).expect("wire form parses")
}

pub const SDP: &str = "v=0\r\no=a 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

pub fn plan() -> CallPlan {
    CallPlan {
        request_uri: uri("sip:bob@10.0.0.9:5080"),
        b_from: NameAddr::parse(&b("\"Alice\" <sip:alice@sbc.internal>")).unwrap(),
        b_to: NameAddr::parse(&b("<sip:bob@pbx.internal>")).unwrap(),
        b_route: Vec::new(),
        a_local: LegIdentity {
            transport: b("UDP"),
            host: Host::V4("203.0.113.1".parse().unwrap()),
            port: Some(5060),
            contact: uri("sip:sbc@203.0.113.1:5060"),
        },
        b_local: LegIdentity {
            transport: b("UDP"),
            host: Host::V4("10.0.0.1".parse().unwrap()),
            port: Some(5060),
            contact: uri("sip:sbc@10.0.0.1:5060"),
        },
        secret: *b"0123456789abcdef",
        timers: CallTimers {
            no_answer: Some(Duration::from_secs(60)),
            ..CallTimers::default()
        },
        headers: HeaderPolicy::default(),
        user_agent: b("SBC"),
        allow_refer: false,
        credentials: None,
    }
}

/// A's INVITE; `extra` header lines are added, `body` is SDP or empty.
pub fn invite(extra: &str, body: &str) -> Message {
    let ct = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".to_owned()
    };
    parse(&format!(
        "INVITE sip:bob@sbc.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bKproxy1\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKphone1\r\n\
Max-Forwards: 70\r\n\
Record-Route: <sip:192.0.2.50;lr>\r\n\
From: \"Alice\" <sip:alice@example.org>;tag=atag\r\n\
To: <sip:bob@sbc.example.com>\r\n\
Call-ID: a-call@198.51.100.7\r\n\
CSeq: 10 INVITE\r\n\
Contact: <sip:alice@198.51.100.7:5060>\r\n\
User-Agent: Phone/9.1\r\n\
P-Asserted-Identity: <sip:alice@example.org>\r\n\
Supported: 100rel, timer\r\n\
Allow: INVITE, ACK, BYE, CANCEL, UPDATE, PRACK\r\n\
{extra}{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

/// The messages of the actions, by kind.
pub fn sent(actions: &[Action], leg: Leg) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendRequest { leg: l, request } if *l == leg => Some(wire(request)),
            _ => None,
        })
        .collect()
}

pub fn answered(actions: &[Action], leg: Leg) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendResponse {
                leg: l, response, ..
            } if *l == leg => Some(wire(response)),
            _ => None,
        })
        .collect()
}

pub fn codes(actions: &[Action], leg: Leg) -> Vec<u16> {
    answered(actions, leg)
        .iter()
        .filter_map(Message::status)
        .collect()
}

pub fn acks(actions: &[Action], leg: Leg) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAck { leg: l, ack } if *l == leg => Some(wire(ack)),
            _ => None,
        })
        .collect()
}

pub fn ended(actions: &[Action]) -> Option<(EndReason, Option<u16>)> {
    actions.iter().find_map(|a| match a {
        Action::Ended { reason, status } => Some((*reason, *status)),
        _ => None,
    })
}

pub fn method(m: &Message) -> Method {
    m.method().cloned().unwrap_or(Method::Ack)
}

/// A call under test.
pub struct Rig {
    pub call: Call,
    pub now: Instant,
    pub b_invite: Message,
    /// Every request the call sent on B, in order.
    pub b_requests: Vec<Message>,
    /// Every request the call sent on A, in order.
    pub a_requests: Vec<Message>,
    a_cseq: u32,
    b_cseq: u32,
}

impl Rig {
    pub fn start(a_invite: Message, plan: CallPlan) -> (Rig, Vec<Action>) {
        Self::start_with(a_invite, plan, None)
    }

    /// [`Rig::start`] with a body transform in place.
    pub fn start_with(
        a_invite: Message,
        plan: CallPlan,
        transform: Option<BodyTransform>,
    ) -> (Rig, Vec<Action>) {
        let now = t0();
        let (call, actions) = Call::with_body_transform(&a_invite, plan, transform, now);
        let b_requests = sent(&actions, Leg::B);
        let b_invite = b_requests
            .first()
            .cloned()
            .unwrap_or_else(|| a_invite.clone());
        let rig = Rig {
            call,
            now,
            b_invite,
            b_requests,
            a_requests: Vec::new(),
            a_cseq: 10,
            b_cseq: 100,
        };
        (rig, actions)
    }

    pub fn feed(&mut self, event: CallEvent) -> Vec<Action> {
        let actions = self.call.handle(event, self.now);
        self.b_requests.extend(sent(&actions, Leg::B));
        self.a_requests.extend(sent(&actions, Leg::A));
        actions
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    /// B's response `code` to `request` (a request the call sent on B).
    pub fn b_reply(
        &mut self,
        request: &Message,
        code: u16,
        extra: &[(&str, &str)],
        body: &str,
    ) -> Vec<Action> {
        let mut r = crate::sip::response::response_to(request, code, None, Some(b"btag"));
        if (101..300).contains(&code) && method(request) == Method::Invite {
            r.headers
                .push(Header::raw("Contact", "<sip:bob@10.0.0.9:5080>"));
            r.headers.push(Header::raw(
                "Record-Route",
                "<sip:10.0.0.5;lr>, <sip:10.0.0.6;lr>",
            ));
        }
        r.headers.push(Header::raw("Server", "PBX/1.0"));
        for (n, v) in extra {
            r.headers.push(Header::raw(b(n), b(v)));
        }
        if !body.is_empty() {
            r.set_body(b(body), Some(b("application/sdp")));
        }
        let tx = TxKey::for_request(request).unwrap();
        self.feed(CallEvent::Response {
            leg: Leg::B,
            response: r,
            tx,
        })
    }

    /// A's response `code` to `request` (a request the call sent on A).
    pub fn a_reply(&mut self, request: &Message, code: u16, body: &str) -> Vec<Action> {
        let mut r = crate::sip::response::response_to(request, code, None, None);
        if !body.is_empty() {
            r.set_body(b(body), Some(b("application/sdp")));
        }
        let tx = TxKey::for_request(request).unwrap();
        self.feed(CallEvent::Response {
            leg: Leg::A,
            response: r,
            tx,
        })
    }

    /// The SBC's tag towards A (from the call's first response to A).
    pub fn a_tag(&self) -> String {
        String::from_utf8_lossy(&self.call.ids.tag(Leg::A)).into_owned()
    }

    /// A request from A inside its dialog.
    pub fn a_request(&mut self, m: &str, extra: &str, body: &str) -> (Message, TxKey) {
        if m != "ACK" && m != "CANCEL" {
            self.a_cseq += 1;
        }
        let ct = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        let req = parse(&format!(
            "{m} sip:sbc@203.0.113.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKa{m}{}\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:alice@example.org>;tag=atag\r\n\
To: <sip:bob@sbc.example.com>;tag={}\r\n\
Call-ID: a-call@198.51.100.7\r\n\
CSeq: {} {m}\r\n\
Contact: <sip:alice@198.51.100.7:5060>\r\n\
{extra}{ct}Content-Length: {}\r\n\r\n{body}",
            self.a_cseq,
            self.a_tag(),
            self.a_cseq,
            body.len()
        ));
        let tx = TxKey::for_request(&req).unwrap();
        (req, tx)
    }

    /// A request from B inside its dialog.
    pub fn b_request(&mut self, m: &str, extra: &str, body: &str) -> (Message, TxKey) {
        if m != "ACK" && m != "CANCEL" {
            self.b_cseq += 1;
        }
        let from_tag = self.b_invite.from_header().unwrap().tag().cloned().unwrap();
        let call_id = self.b_invite.call_id().unwrap();
        let ct = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        let req = parse(&format!(
            "{m} sip:sbc@10.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bKb{m}{}\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@pbx.internal>;tag=btag\r\n\
To: \"Alice\" <sip:alice@sbc.internal>;tag={}\r\n\
Call-ID: {call_id}\r\n\
CSeq: {} {m}\r\n\
Contact: <sip:bob@10.0.0.9:5080>\r\n\
{extra}{ct}Content-Length: {}\r\n\r\n{body}",
            self.b_cseq,
            String::from_utf8_lossy(&from_tag),
            self.b_cseq,
            body.len()
        ));
        let tx = TxKey::for_request(&req).unwrap();
        (req, tx)
    }

    pub fn request(&mut self, leg: Leg, m: &str, extra: &str, body: &str) -> Vec<Action> {
        let (request, tx) = match leg {
            Leg::A => self.a_request(m, extra, body),
            Leg::B => self.b_request(m, extra, body),
        };
        if m == "ACK" {
            return self.feed(CallEvent::Ack { leg, request });
        }
        self.feed(CallEvent::Request { leg, request, tx })
    }

    /// Drives the call to Confirmed: 180, 200 with SDP, A's ACK.
    pub fn confirmed(invite_body: &str) -> Rig {
        Self::confirmed_with(invite_body, None)
    }

    /// [`Rig::confirmed`] with a body transform in place.
    pub fn confirmed_with(invite_body: &str, transform: Option<BodyTransform>) -> Rig {
        let (mut rig, _) = Rig::start_with(invite("", invite_body), plan(), transform);
        let inv = rig.b_invite.clone();
        rig.b_reply(&inv, 180, &[], "");
        rig.b_reply(&inv, 200, &[], SDP);
        rig.request(Leg::A, "ACK", "", "");
        rig
    }

    /// The last request the call sent on `leg`.
    pub fn last(&self, leg: Leg) -> Message {
        match leg {
            Leg::A => self.a_requests.last().cloned().expect("a request on A"),
            Leg::B => self.b_requests.last().cloned().expect("a request on B"),
        }
    }
}

pub fn header(m: &Message, name: HeaderName) -> Option<String> {
    m.headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

impl Rig {
    /// The peer of `leg` answers `request` with `code`.
    pub fn match_reply(
        &mut self,
        leg: Leg,
        request: &Message,
        code: u16,
        body: &str,
    ) -> Vec<Action> {
        match leg {
            Leg::A => self.a_reply(request, code, body),
            Leg::B => self.b_reply(request, code, &[], body),
        }
    }
}
