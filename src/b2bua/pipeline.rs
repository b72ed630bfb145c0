//! Edge decisions for requests that reached the transaction user (pure): RFC 3261 §11 (OPTIONS
//! answered by the server itself), §9.2 (CANCEL), §21.5.2 (501 for what this element does not
//! implement). No sockets, no clock: the signaling task applies the [`Reply`].

use crate::sip::header::HeaderName;
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::response::response_to;
use crate::sip::uri::{Host, Uri};
use crate::sip::validate::DEFAULT_SUPPORTED;
use bytes::Bytes;
use std::net::IpAddr;

/// Methods the SBC accepts (advertised in `Allow`).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, MESSAGE, REFER, SUBSCRIBE, NOTIFY, PUBLISH";

/// The names and addresses under which a request is addressed to the SBC itself.
#[derive(Debug, Clone, Default)]
pub struct LocalIdentity {
    /// Listener and advertised IP addresses.
    pub addresses: Vec<IpAddr>,
    /// Advertised host names (lowercase).
    pub names: Vec<String>,
    /// A listener is bound to a wildcard address, so any IP literal may be ours.
    pub any_ip: bool,
}

impl LocalIdentity {
    /// Whether `host` names this SBC.
    pub fn is_local(&self, host: &Host) -> bool {
        match host.ip() {
            Some(ip) => self.any_ip || self.addresses.contains(&ip),
            None => {
                let Host::Name(name) = host else { return false };
                let name = String::from_utf8_lossy(name).to_ascii_lowercase();
                name == "localhost" || self.names.contains(&name)
            }
        }
    }
}

/// The SBC's answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers to add beyond the ones every response copies.
    pub extra: Vec<Header>,
}

/// What to do with a new request (not CANCEL, not ACK: the transaction layer handles those).
pub fn edge_request(request: &Message, identity: &LocalIdentity) -> Reply {
    match request.method() {
        Some(Method::Options) if addressed_to_sbc(request, identity) => Reply {
            status: 200,
            extra: vec![
                Header::new(HeaderName::Allow, Bytes::from_static(ALLOW.as_bytes())),
                Header::new(HeaderName::Accept, Bytes::from_static(b"application/sdp")),
                Header::new(
                    HeaderName::Supported,
                    Bytes::from(DEFAULT_SUPPORTED.join(", ")),
                ),
            ],
        },
        _ => Reply {
            status: 501,
            extra: vec![Header::new(
                HeaderName::Allow,
                Bytes::from_static(ALLOW.as_bytes()),
            )],
        },
    }
}

/// Whether the Request-URI names the SBC: a host of its own, or no user part at all.
pub fn addressed_to_sbc(request: &Message, identity: &LocalIdentity) -> bool {
    match request.request_uri() {
        Ok(Uri::Sip(uri)) => uri.user.is_none() || identity.is_local(&uri.host),
        _ => false,
    }
}

/// Builds the response for `reply`, with `server` as the Server header (topology hiding: one
/// configured value, never a version string from elsewhere).
pub fn build(request: &Message, reply: &Reply, to_tag: &[u8], server: &Bytes) -> Message {
    let mut response = response_to(request, reply.status, None, Some(to_tag));
    for h in &reply.extra {
        response.headers.push(h.clone());
    }
    response
        .headers
        .push(Header::new(HeaderName::Server, server.clone()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{Limits, parse_datagram};

    fn request(method: &str, uri: &str) -> Message {
        let text = format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <{uri}>\r\nCall-ID: x\r\nCSeq: 1 {method}\r\n\
             Content-Length: 0\r\n\r\n"
        );
        parse_datagram(Bytes::from(text), &Limits::DEFAULT).unwrap()
    }

    fn identity() -> LocalIdentity {
        LocalIdentity {
            addresses: vec!["127.0.0.1".parse().unwrap()],
            names: vec!["sbc.example.com".into()],
            any_ip: false,
        }
    }

    #[test]
    fn options_to_the_sbc_gets_200() {
        for uri in [
            "sip:127.0.0.1:5070",
            "sip:ping@127.0.0.1",
            "sip:sbc.example.com",
            "sip:x@SBC.example.com",
            "sip:example.org",
        ] {
            let reply = edge_request(&request("OPTIONS", uri), &identity());
            assert_eq!(reply.status, 200, "{uri}");
            assert!(reply.extra.iter().any(|h| h.name == HeaderName::Allow));
        }
    }

    #[test]
    fn everything_else_is_not_implemented_yet() {
        assert_eq!(
            edge_request(&request("OPTIONS", "sip:bob@example.org"), &identity()).status,
            501
        );
        assert_eq!(
            edge_request(&request("INVITE", "sip:bob@127.0.0.1"), &identity()).status,
            501
        );
        assert_eq!(
            edge_request(&request("REGISTER", "sip:127.0.0.1"), &identity()).status,
            501
        );
        let any = LocalIdentity {
            any_ip: true,
            ..identity()
        };
        assert_eq!(
            edge_request(&request("OPTIONS", "sip:u@10.1.2.3"), &any).status,
            200
        );
    }

    #[test]
    fn built_reply_carries_server_and_tag() {
        let req = request("OPTIONS", "sip:127.0.0.1");
        let resp = build(
            &req,
            &edge_request(&req, &identity()),
            b"t1",
            &Bytes::from_static(b"sbc"),
        );
        assert_eq!(resp.status(), Some(200));
        assert_eq!(resp.to_header().unwrap().tag().unwrap(), "t1");
        assert_eq!(resp.headers.get(HeaderName::Server).unwrap(), "sbc");
    }
}
