//! Hosts and ports of SIP URIs and Via sent-by (pure): RFC 3261 §25.1 `hostport`, with IPv6
//! only as bracketed references (RFC 3261 §19.1.1, RFC 5118 `ipv6-good`, `port-ambiguous`).
//!
//! Host names are kept verbatim; IP literals are stored parsed and printed in canonical form
//! (RFC 5952 for IPv6), so `[2001:DB8::1]` prints as `[2001:db8::1]`.

use crate::sip::error::SyntaxError;
use crate::sip::scan;
use bytes::{BufMut, Bytes, BytesMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A host: a domain name (verbatim), an IPv4 address, or an IPv6 reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A host name matching the `hostname` grammar, as it appeared.
    Name(Bytes),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address (written `[...]`).
    V6(Ipv6Addr),
}

impl Host {
    /// Parses a whole `host`: `hostname`, `IPv4address` or `IPv6reference`.
    pub fn parse(src: &Bytes) -> Result<Host, SyntaxError> {
        let s = src.as_ref();
        if let Some(inner) = s.strip_prefix(b"[").and_then(|x| x.strip_suffix(b"]")) {
            return parse_v6(inner).map(Host::V6);
        }
        if let Some(v4) = parse_v4(s) {
            return Ok(Host::V4(v4));
        }
        if is_hostname(s) {
            Ok(Host::Name(src.clone()))
        } else {
            Err(SyntaxError::new("host", 0))
        }
    }

    /// The address, if the host is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Name(_) => None,
            Host::V4(a) => Some(IpAddr::V4(*a)),
            Host::V6(a) => Some(IpAddr::V6(*a)),
        }
    }

    /// Writes the host (IPv6 in brackets).
    pub fn write_to(&self, out: &mut BytesMut) {
        match self {
            Host::Name(n) => out.put_slice(n),
            Host::V4(a) => out.put_slice(a.to_string().as_bytes()),
            Host::V6(a) => {
                out.put_u8(b'[');
                out.put_slice(a.to_string().as_bytes());
                out.put_u8(b']');
            }
        }
    }
}

impl From<IpAddr> for Host {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => Host::V4(a),
            IpAddr::V6(a) => Host::V6(a),
        }
    }
}

crate::sip::display_via_write_to!(Host);

/// Parses the text inside `[...]` as an IPv6 address.
pub(crate) fn parse_v6(s: &[u8]) -> Result<Ipv6Addr, SyntaxError> {
    std::str::from_utf8(s)
        .ok()
        .filter(|t| {
            t.bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        })
        .and_then(|t| t.parse().ok())
        .ok_or(SyntaxError::new("ipv6 reference", 0))
}

/// `IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT`, each at most 255.
pub(crate) fn parse_v4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut n = 0;
    for part in s.split(|&b| b == b'.') {
        if part.len() > 3 {
            return None;
        }
        let v = u8::try_from(scan::parse_u64(part)?).ok()?;
        *octets.get_mut(n)? = v;
        n += 1;
    }
    (n == 4).then(|| Ipv4Addr::from(octets))
}

/// `hostname = *( domainlabel "." ) toplabel [ "." ]`: labels of alphanumerics and inner `-`,
/// the last one starting with a letter.
pub(crate) fn is_hostname(s: &[u8]) -> bool {
    let s = s.strip_suffix(b".").unwrap_or(s);
    if s.is_empty() {
        return false;
    }
    let mut last_first = 0u8;
    for label in s.split(|&b| b == b'.') {
        let (Some(&first), Some(&last)) = (label.first(), label.last()) else {
            return false;
        };
        if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
            return false;
        }
        if !label
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return false;
        }
        last_first = first;
    }
    last_first.is_ascii_alphabetic()
}

/// Parses a `port` (`1*DIGIT`, at most 65535).
pub(crate) fn parse_port(s: &[u8]) -> Option<u16> {
    u16::try_from(scan::parse_u64(s)?).ok()
}

/// Parses `hostport` from `src[start..]`: the host runs to the first byte in `stop` (or the end;
/// an IPv6 reference runs to its `]`), then an optional `:port`. Returns host, port and the
/// offset after them.
pub(crate) fn parse_hostport(
    src: &Bytes,
    start: usize,
    stop: &[u8],
) -> Result<(Host, Option<u16>, usize), SyntaxError> {
    let s = src.as_ref();
    let host_end = if s.get(start) == Some(&b'[') {
        let close = s
            .get(start..)
            .and_then(|t| t.iter().position(|&b| b == b']'))
            .ok_or(SyntaxError::new("ipv6 reference", start))?;
        start + close + 1
    } else {
        let mut j = start;
        while s.get(j).is_some_and(|b| !stop.contains(b) && *b != b':') {
            j += 1;
        }
        j
    };
    let host =
        Host::parse(&src.slice(start..host_end)).map_err(|e| SyntaxError::new(e.what, start))?;
    if s.get(host_end) != Some(&b':') {
        return Ok((host, None, host_end));
    }
    let ps = host_end + 1;
    let mut pe = ps;
    while s.get(pe).is_some_and(u8::is_ascii_digit) {
        pe += 1;
    }
    let port = s
        .get(ps..pe)
        .and_then(parse_port)
        .ok_or(SyntaxError::new("port", ps))?;
    Ok((host, Some(port), pe))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &'static str) -> Result<Host, SyntaxError> {
        Host::parse(&Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn hosts() {
        assert_eq!(host("192.0.2.1"), Ok(Host::V4(Ipv4Addr::new(192, 0, 2, 1))));
        assert_eq!(
            host("[::ffff:192.0.2.2]").unwrap().to_string(),
            "[::ffff:192.0.2.2]"
        );
        assert!(host("[2001:db8:::192.0.2.1]").is_err());
        assert!(host("[2001:db8::192.0.2.1]").is_ok());
        assert!(matches!(host("chair-dnrc.example.com."), Ok(Host::Name(_))));
        assert!(matches!(host("a"), Ok(Host::Name(_))));
        for bad in [
            "",
            ".",
            "-a.com",
            "a-.com",
            "a..com",
            "999.1.1.1",
            "1.2.3",
            "a_b.com",
            "[]",
        ] {
            assert!(host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostports() {
        let v = Bytes::from_static(b"[2001:db8::10:5070]");
        let (h, p, end) = parse_hostport(&v, 0, b";?").unwrap();
        assert_eq!(h.to_string(), "[2001:db8::10:5070]");
        assert_eq!((p, end), (None, v.len()));
        let v = Bytes::from_static(b"[2001:db8::10]:5070;x");
        let (_, p, end) = parse_hostport(&v, 0, b";?").unwrap();
        assert_eq!((p, end), (Some(5070), 19));
        for bad in [
            "h:",
            "h:65536",
            "h:99999999999999999999999",
            "2001:db8::10",
            "[::1",
        ] {
            let v = Bytes::from(bad);
            assert!(parse_hostport(&v, 0, b";?").is_err(), "{bad}");
        }
    }
}
