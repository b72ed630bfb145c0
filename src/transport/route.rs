//! Where responses go, and where nothing ever goes (pure): RFC 3261 §18.2.1 (the server stamps
//! `received`), RFC 3581 §4 (symmetric response routing with `rport`), RFC 3261 §18.2.2 (sending
//! responses).
//!
//! Responses always go back to the *observed source IP* of the request: the SBC never follows a
//! Via `sent-by` host or `maddr` to another address, so it cannot be used to reflect traffic at a
//! third party. With `rport` the port is the observed source port (the NAT binding); without it
//! the port is the `sent-by` port (or the transport's default), as §18.2.2 says.

use crate::config::Transport;
use crate::sip::error::ParseError;
use crate::sip::header::{HeaderName, Via};
use crate::sip::message::Message;
use bytes::{Bytes, BytesMut};
use std::net::{IpAddr, SocketAddr};

/// Stamps the request's top Via with what was observed: `received` when the sent-by host is not
/// the source IP (§18.2.1), and the `rport` value when the client asked for it (RFC 3581 §4).
/// Only the top Via value is rewritten; the rest of the header, and every other Via, stays
/// byte-exact. Returns the stamped top Via.
pub fn stamp_via(msg: &mut Message, source: SocketAddr) -> Result<Via, ParseError> {
    let mut via = msg.top_via()?;
    let mut changed = false;
    if via.host.ip() != Some(source.ip()) {
        via.set_received(source.ip());
        changed = true;
    }
    if matches!(via.rport(), Some(None)) {
        via.set_rport(source.port());
        changed = true;
    }
    if changed {
        let Some(header) = msg.headers.iter_mut().find(|h| h.name == HeaderName::Via) else {
            return Err(ParseError::MissingHeader("Via"));
        };
        header.value = replace_first_value(&header.value, &via);
    }
    Ok(via)
}

/// `value` with its first comma-separated element replaced by `via`.
fn replace_first_value(value: &Bytes, via: &Via) -> Bytes {
    let mut out = BytesMut::with_capacity(value.len() + 32);
    via.write_to(&mut out);
    if let Some(rest) = crate::sip::scan::split_list(value).nth(1) {
        // Keep the remaining values exactly as they were written, from the second one on.
        let offset = rest.as_ptr() as usize - value.as_ptr() as usize;
        out.extend_from_slice(b", ");
        out.extend_from_slice(&value[offset..]);
    }
    out.freeze()
}

/// The address a response to a request with top Via `via`, received from `source`, is sent to
/// when it cannot go back over the connection the request came on (UDP, or a closed TCP/TLS
/// connection). `default_port` is 5060 (5061 for TLS).
pub fn response_address(via: &Via, source: SocketAddr, default_port: u16) -> SocketAddr {
    match via.rport() {
        Some(_) => source,
        None => SocketAddr::new(source.ip(), via.port.unwrap_or(default_port)),
    }
}

/// Largest request sent over UDP when the path MTU is unknown: RFC 3261 §18.1.1 (1300 bytes, 200
/// below the Ethernet MTU).
pub const UDP_REQUEST_LIMIT: usize = 1300;

/// The transport a request of `size` bytes goes out on: RFC 3261 §18.1.1 — over UDP, a request
/// larger than [`UDP_REQUEST_LIMIT`] switches to TCP when the peer is reachable over TCP
/// (`peer_has_tcp`); otherwise it stays on the configured transport.
pub fn request_transport(configured: Transport, size: usize, peer_has_tcp: bool) -> Transport {
    if configured == Transport::Udp && size > UDP_REQUEST_LIMIT && peer_has_tcp {
        Transport::Tcp
    } else {
        configured
    }
}

/// True for addresses the SBC never sends to: unspecified, broadcast, multicast, port 0
/// (RFC 4475 §3.3.11 `bcast`: a response must not be sent toward a broadcast address).
pub fn is_forbidden_destination(addr: SocketAddr) -> bool {
    if addr.port() == 0 {
        return true;
    }
    match addr.ip() {
        IpAddr::V4(ip) => ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast(),
        IpAddr::V6(ip) => {
            ip.is_unspecified()
                || ip.is_multicast()
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_broadcast() || v4.is_multicast() || v4.is_unspecified())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{Limits, parse_datagram};

    fn request(via: &str) -> Message {
        let text = format!(
            "OPTIONS sip:a@b SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n"
        );
        parse_datagram(Bytes::from(text), &Limits::DEFAULT).unwrap()
    }

    #[test]
    fn stamps_received_and_rport() {
        let mut msg = request("SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1;rport");
        let source: SocketAddr = "203.0.113.9:40000".parse().unwrap();
        let via = stamp_via(&mut msg, source).unwrap();
        assert_eq!(via.received(), Some(source.ip()));
        assert_eq!(via.rport(), Some(Some(40000)));
        let top = msg.top_via().unwrap();
        assert_eq!(top, via);
        assert_eq!(msg.vias().unwrap().len(), 2);
        assert_eq!(response_address(&via, source, 5060), source);
    }

    #[test]
    fn keeps_other_values_of_the_same_line_byte_exact() {
        let mut msg =
            request("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1 ,  SIP/2.0/TCP  h2;branch=z9hG4bK2");
        stamp_via(&mut msg, "198.51.100.1:5060".parse().unwrap()).unwrap();
        let value = msg.headers.get(HeaderName::Via).unwrap();
        assert!(
            value.ends_with(b", SIP/2.0/TCP  h2;branch=z9hG4bK2"),
            "{value:?}"
        );
        assert_eq!(msg.vias().unwrap().len(), 3);
    }

    #[test]
    fn untouched_when_nothing_to_add() {
        let mut msg = request("SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK1");
        let before = msg.clone();
        let via = stamp_via(&mut msg, "192.0.2.1:5062".parse().unwrap()).unwrap();
        assert_eq!(msg, before);
        // Without rport the sent-by port is used, on the source IP.
        assert_eq!(
            response_address(&via, "192.0.2.1:7000".parse().unwrap(), 5060),
            "192.0.2.1:5062".parse().unwrap()
        );
    }

    #[test]
    fn large_udp_requests_switch_to_tcp() {
        assert_eq!(
            request_transport(Transport::Udp, 1300, true),
            Transport::Udp
        );
        assert_eq!(
            request_transport(Transport::Udp, 1301, true),
            Transport::Tcp
        );
        assert_eq!(
            request_transport(Transport::Udp, 5000, false),
            Transport::Udp
        );
        assert_eq!(
            request_transport(Transport::Tls, 5000, true),
            Transport::Tls
        );
        assert_eq!(request_transport(Transport::Tcp, 100, true), Transport::Tcp);
    }

    #[test]
    fn never_toward_broadcast_or_multicast() {
        for bad in [
            "255.255.255.255:5060",
            "224.0.0.1:5060",
            "0.0.0.0:5060",
            "[ff02::1]:5060",
            "192.0.2.1:0",
            "[::ffff:255.255.255.255]:5060",
        ] {
            assert!(is_forbidden_destination(bad.parse().unwrap()), "{bad}");
        }
        assert!(!is_forbidden_destination("192.0.2.1:5060".parse().unwrap()));
        assert!(!is_forbidden_destination(
            "[2001:db8::1]:5060".parse().unwrap()
        ));
    }
}
