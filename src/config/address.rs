//! Transport addresses as written in the configuration (pure): listeners
//! (`udp:127.0.0.1:5070`, `tls:[::1]:5061`), peer addresses (`tls:pbx.example.com:5061`) and
//! hosts (an IP address or an RFC 1123 host name).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use thiserror::Error;

/// A SIP transport (RFC 3261 §18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// SIP over UDP.
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS over TCP.
    Tls,
}

impl Transport {
    /// The port used when a peer address names none: 5060, or 5061 for TLS (RFC 3261 §19.1.2).
    pub fn default_port(self) -> u16 {
        match self {
            Self::Udp | Self::Tcp => 5060,
            Self::Tls => 5061,
        }
    }

    /// Whether the transport runs over a TCP byte stream (TCP and TLS share the socket space).
    pub fn is_stream(self) -> bool {
        matches!(self, Self::Tcp | Self::Tls)
    }

    /// The lower-case name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Transport {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "udp" => Ok(Self::Udp),
            "tcp" => Ok(Self::Tcp),
            "tls" => Ok(Self::Tls),
            other => Err(AddressError::Transport(other.to_owned())),
        }
    }
}

/// Why an address from the configuration does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddressError {
    /// No `transport:` prefix.
    #[error("{0:?} has no transport: write it as udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT")]
    NoTransport(String),
    /// A transport other than udp, tcp or tls.
    #[error("unknown transport {0:?} (expected one of: udp, tcp, tls)")]
    Transport(String),
    /// A listener address that is not `IP:PORT` / `[IPv6]:PORT`.
    #[error("{0:?} is not an IP:PORT socket address")]
    SocketAddr(String),
    /// An IPv6 address without the brackets that keep it apart from the port.
    #[error("{0:?}: put IPv6 addresses in brackets, e.g. [2001:db8::1]:5060")]
    UnbracketedIpv6(String),
    /// A bare IP address that does not parse.
    #[error("{0:?} is not an IP address")]
    Ip(String),
    /// A host that is neither an IP address nor a valid host name.
    #[error("{0:?} is neither an IP address nor a valid host name")]
    Host(String),
    /// A port that is not 1..=65535.
    #[error("{0:?} is not a port number (1-65535)")]
    Port(String),
}

/// A socket the SBC listens on for SIP: `transport:ip:port`.
///
/// Port 0 asks the operating system for a free port; it is meant for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Listener {
    /// The SIP transport served on this socket.
    pub transport: Transport,
    /// The local address and port bound.
    pub addr: SocketAddr,
}

impl FromStr for Listener {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (transport, rest) = split_transport(s)?;
        if is_unbracketed_ipv6(rest) {
            return Err(AddressError::UnbracketedIpv6(rest.to_owned()));
        }
        let addr = rest
            .parse::<SocketAddr>()
            .map_err(|_| AddressError::SocketAddr(rest.to_owned()))?;
        Ok(Self { transport, addr })
    }
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport, self.addr)
    }
}

/// A host: an IP address or a DNS name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A literal IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A DNS host name (lower-cased, no trailing dot).
    Name(String),
}

impl FromStr for Host {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        let name = s.strip_suffix('.').unwrap_or(s);
        if is_host_name(name) {
            Ok(Self::Name(name.to_ascii_lowercase()))
        } else {
            Err(AddressError::Host(s.to_owned()))
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Name(name) => f.write_str(name),
        }
    }
}

/// Where a peer is reached: `transport:host[:port]`.
///
/// The port defaults to [`Transport::default_port`]; IPv6 addresses go in brackets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerAddress {
    /// The SIP transport used to reach the peer.
    pub transport: Transport,
    /// The peer's IP address or DNS name (resolved with A/AAAA at run time).
    pub host: Host,
    /// The peer's port.
    pub port: u16,
}

impl FromStr for PeerAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (transport, rest) = split_transport(s)?;
        let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
            let (ip, after) = bracketed
                .split_once(']')
                .ok_or_else(|| AddressError::Ip(rest.to_owned()))?;
            let ip = ip
                .parse::<std::net::Ipv6Addr>()
                .map_err(|_| AddressError::Ip(ip.to_owned()))?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').unwrap_or(after)),
            };
            (Host::Ip(IpAddr::V6(ip)), port)
        } else {
            match rest.split_once(':') {
                Some(_) if is_unbracketed_ipv6(rest) => {
                    return Err(AddressError::UnbracketedIpv6(rest.to_owned()));
                }
                Some((host, port)) => (host.parse::<Host>()?, Some(port)),
                None => (rest.parse::<Host>()?, None),
            }
        };
        let port = match port {
            None => transport.default_port(),
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port != 0 => port,
                _ => return Err(AddressError::Port(text.to_owned())),
            },
        };
        Ok(Self {
            transport,
            host,
            port,
        })
    }
}

impl fmt::Display for PeerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "{}:[{ip}]:{}", self.transport, self.port),
            host => write!(f, "{}:{host}:{}", self.transport, self.port),
        }
    }
}

fn split_transport(s: &str) -> Result<(Transport, &str), AddressError> {
    let (transport, rest) = s
        .split_once(':')
        .ok_or_else(|| AddressError::NoTransport(s.to_owned()))?;
    Ok((transport.parse()?, rest))
}

fn is_unbracketed_ipv6(text: &str) -> bool {
    !text.starts_with('[') && text.matches(':').count() > 1
}

/// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, at most 63
/// characters each and 253 in total; the last label is not all digits, so a mistyped IPv4
/// address such as `10.0.0.300` is rejected rather than taken for a name.
pub(crate) fn is_host_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let last_is_numeric = name
        .rsplit('.')
        .next()
        .is_some_and(|label| label.bytes().all(|b| b.is_ascii_digit()));
    labels_ok && !last_is_numeric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_parse() {
        let cases = [
            (
                "udp:127.0.0.1:5070",
                Some((Transport::Udp, "127.0.0.1:5070")),
            ),
            ("tcp:0.0.0.0:5060", Some((Transport::Tcp, "0.0.0.0:5060"))),
            ("tls:[::1]:5061", Some((Transport::Tls, "[::1]:5061"))),
            ("udp:[::1]:5070", Some((Transport::Udp, "[::1]:5070"))),
            ("udp:127.0.0.300:5070", None),
            ("udp:127.0.0.1", None),
            ("udp:localhost:5060", None),
            ("udp:::1:5060", None),
            ("sctp:127.0.0.1:5060", None),
            ("127.0.0.1:5060", None),
            ("", None),
        ];
        for (text, expected) in cases {
            let got = text.parse::<Listener>().ok();
            let expected = expected.map(|(transport, addr)| Listener {
                transport,
                addr: addr.parse().unwrap(),
            });
            assert_eq!(got, expected, "{text}");
            if let Some(listener) = got {
                assert_eq!(listener.to_string(), text);
            }
        }
    }

    #[test]
    fn peer_addresses_parse() {
        let name = |n: &str| Host::Name(n.to_owned());
        let ip = |i: &str| Host::Ip(i.parse().unwrap());
        let cases = [
            (
                "udp:127.0.0.1:5080",
                Some((Transport::Udp, ip("127.0.0.1"), 5080)),
            ),
            (
                "tls:pbx.example.com:5061",
                Some((Transport::Tls, name("pbx.example.com"), 5061)),
            ),
            (
                "tls:PBX.Example.com.",
                Some((Transport::Tls, name("pbx.example.com"), 5061)),
            ),
            ("tcp:trunk", Some((Transport::Tcp, name("trunk"), 5060))),
            (
                "udp:[2001:db8::1]:5062",
                Some((Transport::Udp, ip("2001:db8::1"), 5062)),
            ),
            (
                "udp:[2001:db8::1]",
                Some((Transport::Udp, ip("2001:db8::1"), 5060)),
            ),
            ("udp:2001:db8::1", None),
            ("udp:[2001:db8::1", None),
            ("udp:10.0.0.300:5060", None),
            ("udp:pbx..example.com", None),
            ("udp:-pbx.example.com", None),
            ("udp:pbx_1.example.com", None),
            ("udp:pbx.example.com:0", None),
            ("udp:pbx.example.com:65536", None),
            ("udp:pbx.example.com:", None),
            ("ws:pbx.example.com", None),
            ("pbx.example.com", None),
        ];
        for (text, expected) in cases {
            let got = text.parse::<PeerAddress>().ok();
            let expected = expected.map(|(transport, host, port)| PeerAddress {
                transport,
                host,
                port,
            });
            assert_eq!(got, expected, "{text}");
        }
    }

    #[test]
    fn peer_address_display_round_trips() {
        for text in [
            "udp:127.0.0.1:5080",
            "tls:pbx.example.com:5061",
            "tcp:[::1]:5060",
        ] {
            let parsed: PeerAddress = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn host_names_follow_rfc_1123() {
        let long_label = "a".repeat(64);
        let cases = [
            ("example.com", true),
            ("a-b.example", true),
            ("1and1.com", true),
            ("localhost", true),
            ("10.0.0.300", false),
            ("example..com", false),
            ("-example.com", false),
            ("example-.com", false),
            ("exa mple.com", false),
            (long_label.as_str(), false),
            ("", false),
        ];
        for (name, valid) in cases {
            assert_eq!(is_host_name(name), valid, "{name}");
        }
    }
}
