//! NAT detection for one request (pure). Each test is a bit of [`NatTests`]; a request is from
//! behind a NAT when any is set:
//!
//! | test | Kamailio `nat_uac_test` flag | set when |
//! |---|---|---|
//! | [`NatTests::VIA_ADDRESS`] | 2 (received ≠ via) | the top Via's sent-by host is not the source IP |
//! | [`NatTests::VIA_PORT`] | 16 (rport ≠ via port) | UDP, and the sent-by port (default 5060) is not the source port |
//! | [`NatTests::CONTACT_PRIVATE`] | 1 | a Contact host is an RFC 1918, RFC 6598 (CGNAT), link-local or IPv6 unique-local address |
//! | [`NatTests::CONTACT_PORT`] | 64 (contact port ≠ source port) | UDP, and the first Contact's port is not the source port |
//! | [`NatTests::SDP_PRIVATE`] | 8 | the body is SDP with a private `c=` address |
//!
//! A sent-by or Contact given as a host name counts as a mismatch for the address test only
//! when it is not the source's own textual form (names cannot be compared with addresses
//! without DNS, so names never set the address test on their own). Loopback is not "private"
//! here: a phone on the SBC's own host is not behind a NAT.

use crate::sdp::{Sdp, SdpLimits};
use crate::sip::header::Contact;
use crate::sip::message::Message;
use crate::sip::uri::{Host, Uri};
use std::net::{IpAddr, SocketAddr};

/// The NAT tests a request failed (a bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct NatTests(u8);

impl NatTests {
    /// The top Via's sent-by address is not the source address.
    pub const VIA_ADDRESS: NatTests = NatTests(1);
    /// The top Via's sent-by port is not the source port (UDP).
    pub const VIA_PORT: NatTests = NatTests(2);
    /// A Contact carries a private address.
    pub const CONTACT_PRIVATE: NatTests = NatTests(4);
    /// The Contact port is not the source port (UDP).
    pub const CONTACT_PORT: NatTests = NatTests(8);
    /// The SDP carries a private connection address.
    pub const SDP_PRIVATE: NatTests = NatTests(16);

    /// No test failed.
    pub const NONE: NatTests = NatTests(0);

    /// Whether every test in `other` is set.
    pub fn contains(self, other: NatTests) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the request looks NAT'd (any test set).
    pub fn behind_nat(self) -> bool {
        self.0 != 0
    }

    /// The raw bits (for logs).
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl std::ops::BitOr for NatTests {
    type Output = NatTests;
    fn bitor(self, rhs: NatTests) -> NatTests {
        NatTests(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for NatTests {
    fn bitor_assign(&mut self, rhs: NatTests) {
        self.0 |= rhs.0;
    }
}

/// Whether `ip` is an address that cannot be reached from the internet: RFC 1918, RFC 6598
/// shared (CGNAT) space, link-local, IPv6 unique-local and link-local. Loopback and unspecified
/// are not counted.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || v4.is_link_local() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

fn host_ip(host: &Host) -> Option<IpAddr> {
    match host {
        Host::V4(ip) => Some(IpAddr::V4(*ip)),
        Host::V6(ip) => Some(IpAddr::V6(*ip)),
        Host::Name(_) => None,
    }
}

/// The tests `request`, received from `source` (over UDP when `datagram`), fails.
pub fn detect(request: &Message, source: SocketAddr, datagram: bool) -> NatTests {
    let mut tests = NatTests::NONE;
    if let Ok(via) = request.top_via() {
        if host_ip(&via.host).is_some_and(|ip| ip != source.ip()) {
            tests |= NatTests::VIA_ADDRESS;
        }
        if datagram && via.port.unwrap_or(5060) != source.port() {
            tests |= NatTests::VIA_PORT;
        }
    }
    let contacts = request.contacts().unwrap_or_default();
    let uris = contacts.iter().filter_map(Contact::addr).map(|a| &a.uri);
    for (i, uri) in uris.enumerate() {
        let Uri::Sip(sip) = uri else { continue };
        if host_ip(&sip.host).is_some_and(is_private) {
            tests |= NatTests::CONTACT_PRIVATE;
        }
        if i == 0 && datagram && sip.port.unwrap_or(5060) != source.port() {
            tests |= NatTests::CONTACT_PORT;
        }
    }
    if sdp_has_private_address(request) {
        tests |= NatTests::SDP_PRIVATE;
    }
    tests
}

/// Whether the body is SDP with a private `c=` address (session or media level).
fn sdp_has_private_address(message: &Message) -> bool {
    if message.body.is_empty() {
        return false;
    }
    let Ok(sdp) = Sdp::parse(message.body.clone(), &SdpLimits::DEFAULT) else {
        return false;
    };
    let mut addresses = sdp
        .session_connection()
        .into_iter()
        .chain(sdp.media().iter().filter_map(|m| m.connection()));
    addresses.any(|c| c.ip().is_some_and(is_private))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn request(via: &str, contact: &str, body: &str) -> Message {
        let ct = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        let text = format!(
            "REGISTER sip:pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK1;rport\r\n\
             From: <sip:1001@pbx.example.com>;tag=1\r\nTo: <sip:1001@pbx.example.com>\r\n\
             Call-ID: c1\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@{contact}>\r\n\
             {ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        crate::sip::parse_datagram(Bytes::from(text), &Default::default()).unwrap()
    }

    #[test]
    fn table() {
        let public: SocketAddr = "203.0.113.5:5060".parse().unwrap();
        let mapped: SocketAddr = "203.0.113.5:40123".parse().unwrap();
        let sdp_private = "v=0\r\no=- 1 1 IN IP4 10.0.1.2\r\ns=-\r\nc=IN IP4 10.0.1.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
        let sdp_public = sdp_private.replace("10.0.1.2", "203.0.113.5");
        let cases = [
            (
                "not NAT'd",
                "203.0.113.5:5060",
                "203.0.113.5:5060",
                "",
                public,
                NatTests::NONE,
            ),
            (
                "home router",
                "10.0.1.2:5060",
                "10.0.1.2:5060",
                sdp_private,
                mapped,
                NatTests::VIA_ADDRESS
                    | NatTests::VIA_PORT
                    | NatTests::CONTACT_PRIVATE
                    | NatTests::CONTACT_PORT
                    | NatTests::SDP_PRIVATE,
            ),
            (
                "STUN-aware phone, port rewritten",
                "203.0.113.5:5060",
                "203.0.113.5:5060",
                &sdp_public,
                mapped,
                NatTests::VIA_PORT | NatTests::CONTACT_PORT,
            ),
            (
                "carrier-grade NAT contact",
                "100.64.3.4:5060",
                "100.64.3.4:5060",
                "",
                public,
                NatTests::VIA_ADDRESS | NatTests::CONTACT_PRIVATE,
            ),
            (
                "host name sent-by",
                "phone.example.com:5060",
                "203.0.113.5",
                "",
                public,
                NatTests::NONE,
            ),
            (
                "IPv6 unique-local contact",
                "[2001:db8::5]:5060",
                "[fd00::5]:5060",
                "",
                "[2001:db8::5]:5060".parse().unwrap(),
                NatTests::CONTACT_PRIVATE,
            ),
        ];
        for (name, via, contact, body, source, expected) in cases {
            let got = detect(&request(via, contact, body), source, true);
            assert_eq!(got, expected, "{name}");
            assert_eq!(got.behind_nat(), expected != NatTests::NONE, "{name}");
        }
    }

    #[test]
    fn ports_are_not_compared_on_streams() {
        let m = request("203.0.113.5:5060", "203.0.113.5:5060", "");
        let source: SocketAddr = "203.0.113.5:40123".parse().unwrap();
        assert_eq!(detect(&m, source, false), NatTests::NONE);
        assert_eq!(
            detect(&m, source, true),
            NatTests::VIA_PORT | NatTests::CONTACT_PORT
        );
    }

    #[test]
    fn private_ranges() {
        for (ip, private) in [
            ("10.1.2.3", true),
            ("172.16.0.1", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("100.64.0.1", true),
            ("100.128.0.1", false),
            ("169.254.1.1", true),
            ("127.0.0.1", false),
            ("8.8.8.8", false),
            ("fd12::1", true),
            ("fe80::1", true),
            ("::1", false),
            ("2001:db8::1", false),
        ] {
            assert_eq!(is_private(ip.parse().unwrap()), private, "{ip}");
        }
    }
}
