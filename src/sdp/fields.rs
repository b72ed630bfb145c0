//! Typed values of the structural SDP lines (pure): `c=` (RFC 4566 §5.7, RFC 4566 §5.7 IPv6),
//! `o=` (§5.2) and `m=` (§5.14, with the RFC 3264, RFC 3711, RFC 4585, RFC 5124 and RFC 5764
//! transport protocols). Every parser takes the line's value and returns `None` when it does not
//! match its grammar; none of them panics.

use crate::sdp::line::fields;
use bytes::Bytes;
use std::net::{IpAddr, Ipv4Addr};

/// The `<addrtype>` of a `c=` or `o=` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrType {
    /// `IP4`.
    Ip4,
    /// `IP6`.
    Ip6,
}

impl AddrType {
    /// The address type of an IP address.
    pub fn of(ip: IpAddr) -> AddrType {
        if ip.is_ipv4() { Self::Ip4 } else { Self::Ip6 }
    }

    /// `"IP4"` or `"IP6"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ip4 => "IP4",
            Self::Ip6 => "IP6",
        }
    }

    fn parse(s: &[u8]) -> Option<AddrType> {
        if s.eq_ignore_ascii_case(b"IP4") {
            Some(Self::Ip4)
        } else if s.eq_ignore_ascii_case(b"IP6") {
            Some(Self::Ip6)
        } else {
            None
        }
    }
}

/// The address of a `c=` line: an IP literal, or a domain name (RFC 4566 allows an FQDN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionAddress {
    /// An IPv4 or IPv6 literal of the line's address type.
    Ip(IpAddr),
    /// A host name (letters, digits, `-` and `.`), as written.
    Name(Bytes),
}

/// A parsed `c=IN <addrtype> <address>[/<ttl>[/<count>]]` line. A multicast TTL or address count
/// is ignored: the SBC relays unicast only and always writes its own `c=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `IP4` or `IP6`.
    pub addr_type: AddrType,
    /// The connection address.
    pub address: ConnectionAddress,
}

impl Connection {
    /// Parses the value of a `c=` line; `None` if it is malformed or the address does not match
    /// its address type.
    pub fn parse(value: &Bytes) -> Option<Connection> {
        let mut f = fields(value);
        let (net, ty, addr) = (f.next()?, f.next()?, f.next()?);
        if f.next().is_some() || !net.eq_ignore_ascii_case(b"IN") {
            return None;
        }
        let addr_type = AddrType::parse(ty)?;
        let host = addr.split(|b| *b == b'/').next().unwrap_or(addr);
        let address = match std::str::from_utf8(host).ok()?.parse::<IpAddr>() {
            Ok(ip) if AddrType::of(ip) == addr_type => ConnectionAddress::Ip(ip),
            Ok(_) => return None,
            Err(_) if is_host_name(host) => ConnectionAddress::Name(value.slice_ref(host)),
            Err(_) => return None,
        };
        Some(Connection { addr_type, address })
    }

    /// The IP address, unless the line names a host.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.address {
            ConnectionAddress::Ip(ip) => Some(ip),
            ConnectionAddress::Name(_) => None,
        }
    }

    /// True for `IN IP4 0.0.0.0`: the RFC 2543 way of putting a stream on hold (RFC 3264 §8.4).
    pub fn is_zero_hold(&self) -> bool {
        self.ip() == Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

fn is_host_name(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter().any(u8::is_ascii_alphabetic)
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
}

/// A parsed `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
/// The fields are kept as written; the rewriter always emits the SBC's own origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `<username>`.
    pub username: Bytes,
    /// `<sess-id>`.
    pub session_id: Bytes,
    /// `<sess-version>`: RFC 3264 §8 says it changes whenever the description changes.
    pub session_version: Bytes,
    /// `<unicast-address>`.
    pub address: Bytes,
}

impl Origin {
    /// Parses the value of an `o=` line; `None` unless it has exactly six fields.
    pub fn parse(value: &Bytes) -> Option<Origin> {
        let f: Vec<&[u8]> = fields(value).take(7).collect();
        let [user, id, version, _net, _ty, addr] = f.as_slice() else {
            return None;
        };
        Some(Origin {
            username: value.slice_ref(user),
            session_id: value.slice_ref(id),
            session_version: value.slice_ref(version),
            address: value.slice_ref(addr),
        })
    }

    /// `<sess-version>` as a number, if it is one.
    pub fn version_number(&self) -> Option<u64> {
        parse_u64(&self.session_version)
    }
}

/// The `<media>` of an `m=` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `audio`.
    Audio,
    /// `video`.
    Video,
    /// `text` (RFC 4103 real-time text).
    Text,
    /// `application` (BFCP, data channels, ...).
    Application,
    /// `image` (T.38 fax).
    Image,
    /// `message` (MSRP).
    Message,
    /// Anything else.
    Other,
}

impl MediaType {
    fn parse(s: &[u8]) -> MediaType {
        const TABLE: [(&[u8], MediaType); 6] = [
            (b"audio", MediaType::Audio),
            (b"video", MediaType::Video),
            (b"text", MediaType::Text),
            (b"application", MediaType::Application),
            (b"image", MediaType::Image),
            (b"message", MediaType::Message),
        ];
        TABLE
            .iter()
            .find(|(n, _)| s.eq_ignore_ascii_case(n))
            .map_or(MediaType::Other, |(_, t)| *t)
    }
}

/// The `<proto>` of an `m=` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// `RTP/AVP` (RFC 3551).
    RtpAvp,
    /// `RTP/SAVP` (RFC 3711; SDES keys in `a=crypto`).
    RtpSavp,
    /// `RTP/AVPF` (RFC 4585).
    RtpAvpf,
    /// `RTP/SAVPF` (RFC 5124).
    RtpSavpf,
    /// `UDP/TLS/RTP/SAVP` (RFC 5764, DTLS-SRTP).
    UdpTlsRtpSavp,
    /// `UDP/TLS/RTP/SAVPF` (RFC 5764, DTLS-SRTP with feedback; WebRTC).
    UdpTlsRtpSavpf,
    /// Anything else (`udptl`, `TCP/MSRP`, `UDP/BFCP`, ...): the raw value stays on the line.
    Other,
}

impl Proto {
    /// Classifies a protocol token (ASCII case-insensitive).
    pub fn parse(s: &[u8]) -> Proto {
        Self::RTP
            .into_iter()
            .find(|p| {
                p.as_str()
                    .is_some_and(|n| s.eq_ignore_ascii_case(n.as_bytes()))
            })
            .unwrap_or(Proto::Other)
    }

    /// The RTP profiles: every variant but [`Proto::Other`].
    pub const RTP: [Proto; 6] = [
        Self::RtpAvp,
        Self::RtpSavp,
        Self::RtpAvpf,
        Self::RtpSavpf,
        Self::UdpTlsRtpSavp,
        Self::UdpTlsRtpSavpf,
    ];

    /// The canonical spelling, `None` for [`Proto::Other`].
    pub const fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Self::RtpAvp => "RTP/AVP",
            Self::RtpSavp => "RTP/SAVP",
            Self::RtpAvpf => "RTP/AVPF",
            Self::RtpSavpf => "RTP/SAVPF",
            Self::UdpTlsRtpSavp => "UDP/TLS/RTP/SAVP",
            Self::UdpTlsRtpSavpf => "UDP/TLS/RTP/SAVPF",
            Self::Other => return None,
        })
    }

    /// True for an RTP profile (any of the variants but [`Proto::Other`]).
    pub const fn is_rtp(self) -> bool {
        !matches!(self, Self::Other)
    }

    /// True for the secure profiles (SAVP, SAVPF, and their DTLS forms).
    pub const fn is_secure(self) -> bool {
        matches!(
            self,
            Self::RtpSavp | Self::RtpSavpf | Self::UdpTlsRtpSavp | Self::UdpTlsRtpSavpf
        )
    }

    /// True for the feedback profiles (AVPF, SAVPF, UDP/TLS/RTP/SAVPF).
    pub const fn has_feedback(self) -> bool {
        matches!(self, Self::RtpAvpf | Self::RtpSavpf | Self::UdpTlsRtpSavpf)
    }

    /// The SDES profile (`RTP/SAVP[F]`) or plain profile (`RTP/AVP[F]`) with the same feedback
    /// property; DTLS profiles map to the SDES ones. [`Proto::Other`] stays itself.
    pub const fn with_srtp(self, secure: bool) -> Proto {
        match (self, self.has_feedback(), secure) {
            (Self::Other, _, _) => Self::Other,
            (_, false, false) => Self::RtpAvp,
            (_, true, false) => Self::RtpAvpf,
            (_, false, true) => Self::RtpSavp,
            (_, true, true) => Self::RtpSavpf,
        }
    }
}

/// A parsed `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLine {
    /// `<media>` as written.
    pub media: Bytes,
    /// `<media>` classified.
    pub media_type: MediaType,
    /// `<port>`; 0 marks a rejected or disabled stream (RFC 3264 §6, §8.2).
    pub port: u16,
    /// `<number of ports>`, if written.
    pub port_count: Option<u16>,
    /// `<proto>` as written.
    pub proto_raw: Bytes,
    /// `<proto>` classified.
    pub proto: Proto,
    /// The `<fmt>` list as written (may be empty: tolerated for rejected streams).
    pub formats: Bytes,
}

impl MediaLine {
    /// Parses the value of an `m=` line.
    pub fn parse(value: &Bytes) -> Option<MediaLine> {
        let mut f = fields(value);
        let (media, ports, proto) = (f.next()?, f.next()?, f.next()?);
        let (port, port_count) = match memchr::memchr(b'/', ports) {
            Some(i) => (parse_u16(&ports[..i])?, Some(parse_u16(&ports[i + 1..])?)),
            None => (parse_u16(ports)?, None),
        };
        let formats = match f.next() {
            Some(first) => {
                let start = first.as_ptr() as usize - value.as_ptr() as usize;
                value.slice(start..)
            }
            None => Bytes::new(),
        };
        Some(MediaLine {
            media: value.slice_ref(media),
            media_type: MediaType::parse(media),
            port,
            port_count,
            proto_raw: value.slice_ref(proto),
            proto: Proto::parse(proto),
            formats,
        })
    }

    /// The `<fmt>` tokens (payload type numbers for RTP).
    pub fn formats(&self) -> impl Iterator<Item = &[u8]> {
        fields(&self.formats)
    }
}

/// Parses 1 to 5 ASCII digits into a `u16`.
pub(crate) fn parse_u16(s: &[u8]) -> Option<u16> {
    if s.len() > 5 {
        return None;
    }
    parse_u64(s).and_then(|n| u16::try_from(n).ok())
}

/// Parses 1 to 19 ASCII digits into a `u64`.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
