//! The SBC's own `o=` line per leg (pure): RFC 4566 §5.2 and RFC 3264 §5 and §8.
//!
//! Each leg of a call presents one SDP origin of the SBC's own: a username, a session id and a
//! version. RFC 3264 §8 requires the version to increase by one exactly when the description
//! sent on that leg changes, and to stay the same when an identical description is sent again
//! (a session refresh, a re-INVITE that changes nothing). [`OriginState`] remembers the last
//! body it stamped, without its `o=` line, and decides.

use crate::sdp::error::RewriteError;
use crate::sdp::fields::AddrType;
use bytes::{BufMut, Bytes, BytesMut};
use std::net::IpAddr;

/// The origin of one leg's SDP: identity, current version and the last body emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginState {
    username: Bytes,
    session_id: u64,
    version: u64,
    last: Option<(Bytes, IpAddr)>,
}

impl OriginState {
    /// A new origin. `username` is written as is (`-` when the SBC has none to give); the
    /// caller picks `session_id` and the first `version` (RFC 3264 §5 suggests an NTP
    /// timestamp or random numbers below 2^63, so nothing about the far ends leaks).
    /// Errors if the username is empty or contains whitespace, CR, LF or NUL.
    pub fn new(
        username: impl Into<Bytes>,
        session_id: u64,
        version: u64,
    ) -> Result<OriginState, RewriteError> {
        let username = username.into();
        if username.is_empty()
            || username
                .iter()
                .any(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0))
        {
            return Err(RewriteError::UnwritableValue("origin username"));
        }
        Ok(OriginState {
            username,
            session_id,
            version,
            last: None,
        })
    }

    /// The `<username>` written.
    pub fn username(&self) -> &Bytes {
        &self.username
    }

    /// The `<sess-id>` written.
    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// The `<sess-version>` of the last body stamped (the initial one before any).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Decides the version for a body (given without its `o=` line) whose origin address is
    /// `address`: unchanged for the first body and for a repeat of the last one, one more
    /// (wrapping) otherwise. Remembers the body.
    pub fn stamp(&mut self, body: &Bytes, address: IpAddr) -> u64 {
        match &self.last {
            Some((last, addr)) if last == body && *addr == address => {}
            Some(_) => self.version = self.version.wrapping_add(1),
            None => {}
        }
        self.last = Some((body.clone(), address));
        self.version
    }

    /// Writes `o=<username> <sess-id> <version> IN IP4|IP6 <address>` and CRLF.
    pub fn write_line(&self, address: IpAddr, out: &mut BytesMut) {
        out.put_slice(b"o=");
        out.put_slice(&self.username);
        out.put_slice(
            format!(
                " {} {} IN {} {address}\r\n",
                self.session_id,
                self.version,
                AddrType::of(address).as_str()
            )
            .as_bytes(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    #[test]
    fn version_moves_only_when_the_body_changes() {
        let mut o = OriginState::new("sbc", 7, 100).unwrap();
        let (b1, b2) = (
            Bytes::from_static(b"v=0\r\n"),
            Bytes::from_static(b"v=1\r\n"),
        );
        assert_eq!(o.stamp(&b1, A), 100);
        assert_eq!(o.stamp(&b1, A), 100);
        assert_eq!(o.stamp(&b2, A), 101);
        assert_eq!(o.stamp(&b1, A), 102);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(o.stamp(&b1, v6), 103);
        assert_eq!(o.version(), 103);
    }

    #[test]
    fn writes_the_origin_line() {
        let o = OriginState::new("-", 42, 1).unwrap();
        let mut out = BytesMut::new();
        o.write_line(A, &mut out);
        o.write_line("2001:db8::2".parse().unwrap(), &mut out);
        assert_eq!(
            out.as_ref(),
            b"o=- 42 1 IN IP4 192.0.2.1\r\no=- 42 1 IN IP6 2001:db8::2\r\n"
        );
        assert_eq!((o.username().as_ref(), o.session_id()), (&b"-"[..], 42));
    }

    #[test]
    fn refuses_usernames_that_break_the_line() {
        for bad in ["", "a b", "a\r\n", "a\0", "\t"] {
            assert_eq!(
                OriginState::new(bad, 1, 1),
                Err(RewriteError::UnwritableValue("origin username")),
                "{bad:?}"
            );
        }
    }
}
