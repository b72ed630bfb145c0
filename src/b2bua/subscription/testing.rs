//! Test support for subscription flows (pure, test-only): a plan, A's SUBSCRIBE, and a rig that
//! feeds events with virtual time and answers as the peers of each leg would.

use super::*;
use crate::b2bua::call::{CallTimers, HeaderPolicy};
use crate::sip::header::NameAddr;
use crate::sip::message::Header;
use crate::sip::method::Method;
use crate::sip::response::response_to;
use crate::sip::uri::{Host, Uri};
use std::time::Duration;

/// The virtual clock's origin.
#[allow(clippy::disallowed_methods)]
pub fn t0() -> Instant {
    Instant::now()
}

pub fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

pub fn parse(text: &str) -> Message {
    crate::sip::parse_datagram(b(text), &Default::default()).expect("test message parses")
}

/// Prints and re-parses `m`: what a peer would receive.
pub fn wire(m: &Message) -> Message {
    crate::sip::parse_datagram(m.to_bytes(), &Default::default()).expect("wire form parses")
}

fn uri(s: &str) -> Uri {
    Uri::parse(&b(s)).expect("test uri")
}

pub fn plan() -> CallPlan {
    CallPlan {
        request_uri: uri("sip:1001@10.0.0.9:5080"),
        b_from: NameAddr::parse(&b("<sip:1001@10.0.0.1>")).unwrap(),
        b_to: NameAddr::parse(&b("<sip:1001@10.0.0.9:5080>")).unwrap(),
        b_route: Vec::new(),
        a_local: LegIdentity {
            transport: b("UDP"),
            host: Host::V4("203.0.113.1".parse().unwrap()),
            port: Some(5060),
            contact: uri("sip:203.0.113.1:5060"),
        },
        b_local: LegIdentity {
            transport: b("UDP"),
            host: Host::V4("10.0.0.1".parse().unwrap()),
            port: Some(5060),
            contact: uri("sip:10.0.0.1:5060"),
        },
        secret: *b"0123456789abcdef",
        timers: CallTimers::default(),
        headers: HeaderPolicy::default(),
        user_agent: b("SBC"),
        allow_refer: false,
        credentials: None,
    }
}

pub fn config() -> SubscriptionsConfig {
    SubscriptionsConfig {
        min_expires: Duration::from_secs(60),
        max_expires: Duration::from_secs(3600),
        grace: Duration::from_secs(10),
        ..SubscriptionsConfig::default()
    }
}

/// A's SUBSCRIBE with CSeq `cseq`, To tag `to_tag` (empty: initial) and `extra` header lines.
pub fn subscribe(cseq: u32, to_tag: &str, extra: &str) -> Message {
    let to_tag = if to_tag.is_empty() {
        String::new()
    } else {
        format!(";tag={to_tag}")
    };
    parse(&format!(
        "SUBSCRIBE sip:1001@sbc.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKphone{cseq}\r\n\
Max-Forwards: 70\r\n\
Record-Route: <sip:192.0.2.50;lr>\r\n\
From: <sip:1001@example.org>;tag=atag\r\n\
To: <sip:1001@example.org>{to_tag}\r\n\
Call-ID: a-sub@198.51.100.7\r\n\
CSeq: {cseq} SUBSCRIBE\r\n\
Contact: <sip:1001@198.51.100.7:5060>\r\n\
User-Agent: Phone/9.1\r\n\
P-Asserted-Identity: <sip:1001@example.org>\r\n\
X-Internal: secret\r\n\
Accept: application/simple-message-summary\r\n\
{extra}Content-Length: 0\r\n\r\n"
    ))
}

pub const MWI: &str = "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n";

/// A subscription under test.
pub struct Rig {
    pub sub: Subscription,
    pub now: Instant,
    /// Every request sent on each leg, in order.
    pub a_requests: Vec<Message>,
    pub b_requests: Vec<Message>,
    b_cseq: u32,
}

pub fn sent(actions: &[SubAction], leg: Leg) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            SubAction::SendRequest { leg: l, request } if *l == leg => Some(wire(request)),
            _ => None,
        })
        .collect()
}

pub fn answered(actions: &[SubAction], leg: Leg) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            SubAction::SendResponse {
                leg: l, response, ..
            } if *l == leg => Some(wire(response)),
            _ => None,
        })
        .collect()
}

pub fn codes(actions: &[SubAction], leg: Leg) -> Vec<u16> {
    answered(actions, leg)
        .iter()
        .filter_map(Message::status)
        .collect()
}

pub fn ended(actions: &[SubAction]) -> Option<SubEnd> {
    actions.iter().find_map(|a| match a {
        SubAction::Ended(reason) => Some(*reason),
        _ => None,
    })
}

pub fn timer(actions: &[SubAction]) -> Option<Instant> {
    actions.iter().rev().find_map(|a| match a {
        SubAction::SetTimer(at) => Some(*at),
        _ => None,
    })
}

/// The server transaction of a request as the shell would key it.
pub fn tx(request: &Message) -> TxKey {
    TxKey::for_request(request).unwrap()
}

impl Rig {
    /// Starts a subscription for `first`; panics when it is refused.
    pub fn start(first: Message) -> (Rig, Vec<SubAction>) {
        let now = t0();
        let (sub, actions) = Subscription::new(&first, &tx(&first), plan(), &config(), now)
            .unwrap_or_else(|a| panic!("refused: {a:?}"));
        let rig = Rig {
            sub,
            now,
            a_requests: sent(&actions, Leg::A),
            b_requests: sent(&actions, Leg::B),
            b_cseq: 100,
        };
        (rig, actions)
    }

    pub fn feed(&mut self, event: SubEvent) -> Vec<SubAction> {
        let actions = self.sub.handle(event, self.now);
        self.a_requests.extend(sent(&actions, Leg::A));
        self.b_requests.extend(sent(&actions, Leg::B));
        actions
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    /// The last request sent on `leg`.
    pub fn last(&self, leg: Leg) -> Message {
        let list = match leg {
            Leg::A => &self.a_requests,
            Leg::B => &self.b_requests,
        };
        list.last().cloned().expect("a request was sent")
    }

    /// The peer on `leg` answers `request` with `code` and `extra` headers.
    pub fn reply(
        &mut self,
        leg: Leg,
        request: &Message,
        code: u16,
        extra: &[(&str, &str)],
    ) -> Vec<SubAction> {
        let tag = if leg == Leg::B { "ntag" } else { "atag" };
        let mut r = response_to(request, code, None, Some(tag.as_bytes()));
        if leg == Leg::B && (200..300).contains(&code) {
            r.headers
                .push(Header::raw("Contact", "<sip:mwi@10.0.0.9:5080>"));
        }
        r.headers.push(Header::raw("Server", "PBX/1.0"));
        for (n, v) in extra {
            r.headers.push(Header::raw(b(n), b(v)));
        }
        self.feed(SubEvent::Response {
            leg,
            response: r,
            tx: tx(request),
        })
    }

    /// The notifier's NOTIFY in B's dialog with `state` and the MWI body.
    pub fn notify(&mut self, state: &str) -> (Message, Vec<SubAction>) {
        self.notify_with(
            state,
            "message-summary",
            "application/simple-message-summary",
            MWI,
        )
    }

    /// The notifier's NOTIFY in B's dialog with `state`, `event` and a `body` of `content_type`.
    pub fn notify_with(
        &mut self,
        state: &str,
        event: &str,
        content_type: &str,
        body: &str,
    ) -> (Message, Vec<SubAction>) {
        let sub = self.b_requests.first().cloned().expect("B SUBSCRIBE");
        let from = sub.from_header().unwrap();
        self.b_cseq += 1;
        let text = format!(
            "NOTIFY sip:10.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bKpbx{cseq}\r\n\
Max-Forwards: 70\r\n\
From: <sip:1001@10.0.0.9:5080>;tag=ntag\r\n\
To: {from}\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} NOTIFY\r\n\
Contact: <sip:mwi@10.0.0.9:5080>\r\n\
Event: {event}\r\n\
Subscription-State: {state}\r\n\
Server: PBX/1.0\r\n\
Content-Type: {content_type}\r\n\
Content-Length: {len}\r\n\r\n{body}",
            cseq = self.b_cseq,
            call_id = String::from_utf8_lossy(sub.call_id().unwrap().as_bytes()),
            len = body.len(),
        );
        let notify = parse(&text);
        let actions = self.feed(SubEvent::Request {
            leg: Leg::B,
            request: notify.clone(),
            tx: tx(&notify),
        });
        (notify, actions)
    }

    /// A's in-dialog SUBSCRIBE with `cseq` and `extra` headers.
    pub fn refresh(&mut self, cseq: u32, extra: &str) -> (Message, Vec<SubAction>) {
        let to_tag = String::from_utf8_lossy(&self.sub.a.local_tag).into_owned();
        let request = subscribe(cseq, &to_tag, extra);
        let actions = self.feed(SubEvent::Request {
            leg: Leg::A,
            request: request.clone(),
            tx: tx(&request),
        });
        (request, actions)
    }

    pub fn is_method(m: &Message, method: Method) -> bool {
        m.method() == Some(&method)
    }
}
