//! The Via header (pure): RFC 3261 §20.42 and §25.1 `via-parm`, RFC 3581 `rport`, RFC 5118
//! (`received` with or without IPv6 brackets).
//!
//! `sent-protocol` allows LWS around its `/` separators and `sent-by` around its `:`. The
//! well-known parameters are validated at parse time (`branch` is a token, `received` an IP
//! address, `rport` empty or a port, `ttl` 0–255, `maddr` a host), so their accessors cannot
//! fail. A protocol version other than `2.0` parses; the message validator answers 505.

use super::params::Params;
use crate::sip::error::SyntaxError;
use crate::sip::scan;
use crate::sip::uri::Host;
use bytes::{BufMut, Bytes, BytesMut};
use std::net::IpAddr;

/// The RFC 3261 §8.1.1.7 branch magic cookie.
pub const BRANCH_COOKIE: &[u8] = b"z9hG4bK";

/// One `via-parm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Protocol name, normally `SIP`.
    pub protocol: Bytes,
    /// Protocol version, normally `2.0`.
    pub version: Bytes,
    /// Transport token (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ...), verbatim.
    pub transport: Bytes,
    /// The sent-by host.
    pub host: Host,
    /// The sent-by port.
    pub port: Option<u16>,
    /// Via parameters.
    pub params: Params,
}

impl Via {
    /// A `SIP/2.0/<transport>` Via for `host:port` with a `branch`.
    pub fn new(transport: Bytes, host: Host, port: Option<u16>, branch: Bytes) -> Self {
        let mut params = Params::new();
        params.push("branch", Some(branch));
        Via {
            protocol: Bytes::from_static(b"SIP"),
            version: Bytes::from_static(b"2.0"),
            transport,
            host,
            port,
            params,
        }
    }

    /// Parses a single `via-parm` (a value without top-level commas).
    pub fn parse(value: &Bytes) -> Result<Via, SyntaxError> {
        parse_one(&scan::trim_lws(value))
    }

    /// Parses a Via header value with one or more comma-separated `via-parm`s.
    pub fn parse_list(value: &Bytes) -> Result<Vec<Via>, SyntaxError> {
        scan::split_list(value)
            .map(|e| {
                if e.is_empty() {
                    Err(SyntaxError::new("empty via", 0))
                } else {
                    parse_one(&e)
                }
            })
            .collect()
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&Bytes> {
        self.params.value("branch")
    }

    /// Whether the branch starts with the RFC 3261 magic cookie `z9hG4bK`.
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_COOKIE))
    }

    /// The `received` address (plain or bracketed IPv6 both accepted).
    pub fn received(&self) -> Option<IpAddr> {
        self.params.value("received").and_then(|v| parse_ip(v))
    }

    /// `rport`: `None` if absent, `Some(None)` if present without a value, else the port.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| crate::sip::uri::parse_port(p)))
    }

    /// The `maddr` parameter, raw.
    pub fn maddr(&self) -> Option<&Bytes> {
        self.params.value("maddr")
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.params
            .value("ttl")
            .and_then(|v| scan::parse_u64(v))
            .and_then(|t| u8::try_from(t).ok())
    }

    /// Sets `received` (IPv6 without brackets, as the RFC 3261 grammar has it).
    pub fn set_received(&mut self, addr: IpAddr) {
        self.params
            .set("received", Some(Bytes::from(addr.to_string())));
    }

    /// Sets `rport` to the observed source port (RFC 3581 §4).
    pub fn set_rport(&mut self, port: u16) {
        self.params
            .set("rport", Some(Bytes::from(port.to_string())));
    }

    /// Writes the `via-parm`.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(&self.protocol);
        out.put_u8(b'/');
        out.put_slice(&self.version);
        out.put_u8(b'/');
        out.put_slice(&self.transport);
        out.put_u8(b' ');
        self.host.write_to(out);
        if let Some(p) = self.port {
            out.put_u8(b':');
            out.put_slice(p.to_string().as_bytes());
        }
        self.params.write_to(out);
    }
}

/// Parses `IPv4address / IPv6address / IPv6reference`.
fn parse_ip(v: &[u8]) -> Option<IpAddr> {
    let inner = v.strip_prefix(b"[").and_then(|x| x.strip_suffix(b"]"));
    match inner {
        Some(i) => crate::sip::uri::parse_v6(i).ok().map(IpAddr::V6),
        None => std::str::from_utf8(v).ok()?.parse().ok(),
    }
}

/// Scans a token at `i`; returns its end (error if empty).
fn token(s: &[u8], i: usize, what: &'static str) -> Result<usize, SyntaxError> {
    let mut j = i;
    while s.get(j).is_some_and(|&b| scan::is_token_char(b)) {
        j += 1;
    }
    if j == i {
        Err(SyntaxError::new(what, i))
    } else {
        Ok(j)
    }
}

/// Expects `SWS "/" SWS` at `i`; returns the offset after it.
fn slash(s: &[u8], i: usize) -> Result<usize, SyntaxError> {
    let j = scan::skip_lws(s, i);
    if s.get(j) != Some(&b'/') {
        return Err(SyntaxError::new("via sent-protocol", j));
    }
    Ok(scan::skip_lws(s, j + 1))
}

fn parse_one(v: &Bytes) -> Result<Via, SyntaxError> {
    let s = v.as_ref();
    let pe = token(s, 0, "via protocol")?;
    let vs = slash(s, pe)?;
    let ve = token(s, vs, "via version")?;
    let ts = slash(s, ve)?;
    let te = token(s, ts, "via transport")?;
    let hs = scan::skip_lws(s, te);
    if hs == te {
        return Err(SyntaxError::new("via sent-by", hs));
    }
    let he = if s.get(hs) == Some(&b'[') {
        s.get(hs..)
            .and_then(|t| t.iter().position(|&b| b == b']'))
            .map(|p| hs + p + 1)
            .ok_or(SyntaxError::new("via host", hs))?
    } else {
        let mut j = hs;
        while s.get(j).is_some_and(|b| !b" \t\r\n:;,".contains(b)) {
            j += 1;
        }
        j
    };
    let host = Host::parse(&v.slice(hs..he)).map_err(|_| SyntaxError::new("via host", hs))?;
    let mut pos = he;
    let mut port = None;
    let c = scan::skip_lws(s, he);
    if s.get(c) == Some(&b':') {
        let ps = scan::skip_lws(s, c + 1);
        let mut port_end = ps;
        while s.get(port_end).is_some_and(u8::is_ascii_digit) {
            port_end += 1;
        }
        let p = s.get(ps..port_end).and_then(crate::sip::uri::parse_port);
        port = Some(p.ok_or(SyntaxError::new("via port", ps))?);
        pos = port_end;
    }
    let (params, end) = Params::parse_header(v, pos)?;
    if end != s.len() {
        return Err(SyntaxError::new("via", end));
    }
    validate_params(&params, end)?;
    Ok(Via {
        protocol: v.slice(..pe),
        version: v.slice(vs..ve),
        transport: v.slice(ts..te),
        host,
        port,
        params,
    })
}

/// Checks the grammar of the parameters RFC 3261 / RFC 3581 define for Via.
fn validate_params(params: &Params, at: usize) -> Result<(), SyntaxError> {
    for (name, value) in params.iter() {
        let ok = match name.to_ascii_lowercase().as_slice() {
            b"branch" => value.is_some_and(|v| scan::is_token(v)),
            b"received" => value.is_some_and(|v| parse_ip(v).is_some()),
            b"rport" => value.is_none_or(|v| crate::sip::uri::parse_port(v).is_some()),
            b"ttl" => {
                value.is_some_and(|v| v.len() <= 3 && scan::parse_u64(v).is_some_and(|t| t <= 255))
            }
            b"maddr" => value.is_some_and(|v| Host::parse(v).is_ok()),
            _ => true,
        };
        if !ok {
            return Err(SyntaxError::new("via parameter", at));
        }
    }
    Ok(())
}

crate::sip::display_via_write_to!(Via);

#[cfg(test)]
#[path = "via_tests.rs"]
mod tests;
