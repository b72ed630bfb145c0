//! Typed values of the attributes media anchoring needs (pure): direction (RFC 3264 §5.1, §8.4),
//! `a=rtcp` (RFC 3605), `a=rtpmap` and `a=ptime` (RFC 4566 §6), and the ICE attribute names
//! (RFC 8839 §5) the SBC terminates. Malformed values read as absent; nothing panics.

use crate::sdp::fields::{Connection, parse_u16, parse_u64};
use crate::sdp::line::fields;
use bytes::Bytes;

/// The media direction attribute of a stream (RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv` (the default when no direction attribute is present).
    #[default]
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name, e.g. `"sendonly"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction named by an attribute name (ASCII case-insensitive).
    pub fn from_attribute(name: &[u8]) -> Option<Direction> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|d| name.eq_ignore_ascii_case(d.as_str().as_bytes()))
    }

    /// This direction without the receive half: what an RFC 2543 hold (`c=IN IP4 0.0.0.0`,
    /// "do not send to me") means in RFC 3264 terms. `sendrecv` → `sendonly`,
    /// `recvonly` → `inactive`; the others stay.
    pub const fn without_receive(self) -> Direction {
        match self {
            Self::SendRecv | Self::SendOnly => Self::SendOnly,
            Self::RecvOnly | Self::Inactive => Self::Inactive,
        }
    }
}

/// A parsed `a=rtcp:<port> [IN <addrtype> <address>]` (RFC 3605).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when given (otherwise the stream's connection address).
    pub connection: Option<Connection>,
}

impl Rtcp {
    /// Parses an `a=rtcp` value; `None` if malformed.
    pub fn parse(value: &Bytes) -> Option<Rtcp> {
        let v = value.as_ref();
        let (port, rest) = match v.iter().position(|b| *b == b' ' || *b == b'\t') {
            Some(i) => (&v[..i], &v[i..]),
            None => (v, &v[v.len()..]),
        };
        let port = parse_u16(port)?;
        let rest = value.slice_ref(rest);
        let connection = if fields(&rest).next().is_some() {
            Some(Connection::parse(&rest)?)
        } else {
            None
        };
        Some(Rtcp { port, connection })
    }
}

/// A parsed `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<parameters>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap {
    /// The payload type number (0..=127).
    pub payload_type: u8,
    /// The encoding name as written (e.g. `PCMU`, `opus`, `telephone-event`).
    pub encoding: Bytes,
    /// The clock rate in Hz.
    pub clock_rate: u32,
    /// The encoding parameters (audio: channel count), as written.
    pub params: Option<Bytes>,
}

impl Rtpmap {
    /// Parses an `a=rtpmap` value; `None` if malformed.
    pub fn parse(value: &Bytes) -> Option<Rtpmap> {
        let mut f = fields(value);
        let (pt, codec) = (f.next()?, f.next()?);
        let payload_type = u8::try_from(parse_u16(pt)?).ok().filter(|p| *p < 128)?;
        let mut parts = codec.splitn(3, |b| *b == b'/');
        let encoding = parts.next().filter(|e| !e.is_empty())?;
        let clock_rate = u32::try_from(parse_u64(parts.next()?)?).ok()?;
        let params = parts.next().map(|p| value.slice_ref(p));
        Some(Rtpmap {
            payload_type,
            encoding: value.slice_ref(encoding),
            clock_rate,
            params,
        })
    }
}

/// Parses an `a=ptime` value in milliseconds (a fractional part, as some phones write it, is
/// dropped).
pub fn parse_ptime(value: &[u8]) -> Option<u32> {
    let whole = value.split(|b| *b == b'.').next().unwrap_or(value);
    u32::try_from(parse_u64(whole)?).ok()
}

/// The ICE attributes (RFC 8839 §5, plus `ice-mismatch` and `ice-pacing`) that the SBC
/// terminates: it is the ICE endpoint toward each leg (or does no ICE), so the far end's
/// candidates and credentials never reach the other leg.
pub const ICE_ATTRIBUTES: [&str; 9] = [
    "candidate",
    "ice-ufrag",
    "ice-pwd",
    "ice-options",
    "remote-candidates",
    "end-of-candidates",
    "ice-lite",
    "ice-mismatch",
    "ice-pacing",
];

/// True when an attribute name is one of [`ICE_ATTRIBUTES`] (ASCII case-insensitive).
pub fn is_ice_attribute(name: &[u8]) -> bool {
    ICE_ATTRIBUTES
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::fields::AddrType;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn directions() {
        assert_eq!(
            Direction::from_attribute(b"SendOnly"),
            Some(Direction::SendOnly)
        );
        assert_eq!(Direction::from_attribute(b"rtcp"), None);
        assert_eq!(Direction::default(), Direction::SendRecv);
        let held: Vec<_> = [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .map(Direction::without_receive)
        .into();
        use Direction::*;
        assert_eq!(held, [SendOnly, SendOnly, Inactive, Inactive]);
    }

    #[test]
    fn rtcp_rfc3605() {
        assert_eq!(
            Rtcp::parse(&b("53020")),
            Some(Rtcp {
                port: 53020,
                connection: None
            })
        );
        let r = Rtcp::parse(&b("53020 IN IP6 2001:db8::5")).unwrap();
        assert_eq!(r.port, 53020);
        let c = r.connection.unwrap();
        assert_eq!(c.addr_type, AddrType::Ip6);
        assert_eq!(c.ip(), Some("2001:db8::5".parse().unwrap()));
        for bad in ["", "x", "70000", "5 IN IP4", "5 IN IP4 2001:db8::1"] {
            assert_eq!(Rtcp::parse(&b(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn rtpmap_and_ptime() {
        let r = Rtpmap::parse(&b("111 opus/48000/2")).unwrap();
        assert_eq!((r.payload_type, r.clock_rate), (111, 48000));
        assert_eq!(r.encoding, "opus");
        assert_eq!(r.params.unwrap(), "2");
        let r = Rtpmap::parse(&b("0 PCMU/8000")).unwrap();
        assert_eq!((r.payload_type, r.params), (0, None));
        for bad in [
            "",
            "0",
            "128 x/8000",
            "0 /8000",
            "0 PCMU",
            "0 PCMU/x",
            "a PCMU/8000",
        ] {
            assert_eq!(Rtpmap::parse(&b(bad)), None, "{bad:?}");
        }
        assert_eq!(parse_ptime(b"20"), Some(20));
        assert_eq!(parse_ptime(b"20.0"), Some(20));
        assert_eq!(parse_ptime(b"x"), None);
    }

    #[test]
    fn ice_names() {
        assert!(is_ice_attribute(b"candidate"));
        assert!(is_ice_attribute(b"ICE-LITE"));
        assert!(!is_ice_attribute(b"rtcp-mux"));
    }
}
