//! The offer/answer rewriter (pure): RFC 3264 applied per leg by a media-anchoring B2BUA.
//!
//! [`Sdp::rewrite`] writes the description one leg receives from what the other leg sent and a
//! [`RewritePlan`] made by the media layer: the SBC's own `o=` (from the leg's
//! [`OriginState`]), its relay address in every `c=`, its relay ports in every `m=`, and per
//! stream the RTCP, rtcp-mux, profile and SDES crypto decisions. Every other line is copied
//! byte-exact, in order; the output always ends lines with CRLF.
//!
//! What is removed, added or changed:
//! - `o=`: replaced by the leg's own origin (inserted after `v=` if missing); `s=-` and
//!   `t=0 0` are added when missing so the output is a valid RFC 4566 description.
//! - `c=`: the first at session level and the first in each media section are replaced by
//!   `c=IN IP4|IP6 <address>`; further `c=` lines (multicast layers) are dropped. A media
//!   section left without any connection gets its own `c=` after its `m=` (and `i=`) line.
//! - `m=`: port from the plan (`<port>/<count>` kept for a non-zero port), profile as planned,
//!   formats as written. Port 0 keeps the stream as a rejected/disabled one (RFC 3264 §6, §8.2).
//! - ICE lines ([`crate::sdp::ICE_ATTRIBUTES`]) at both levels, when `strip_ice` is set.
//! - `a=rtcp`, `a=rtcp-mux`, `a=crypto`: kept, removed or replaced per [`MediaPlan`]; new lines
//!   are appended at the end of the section in that order. A session-level `a=crypto` (invalid
//!   per RFC 4568 §9.1, but keys all the same) is dropped whenever any plan replaces keys.
//! - RFC 2543 hold: a stream whose effective `c=` is `IN IP4 0.0.0.0` is written with the relay
//!   address (RFC 3264 §8.4 discourages 0.0.0.0: it stops RTCP, has no IPv6 form and a relay
//!   must never send to it) and an explicit direction attribute without the receive half
//!   (`sendrecv` → `a=sendonly`, `recvonly` → `a=inactive`; see [`Direction::without_receive`])
//!   in place of the section's own direction lines. The other leg thus sees a standard RFC 3264
//!   hold it can answer with `recvonly`/`inactive`, and the relay, which reads
//!   [`crate::sdp::MediaSection::is_zero_address_hold`], sends nothing toward the holding side.
//!   Every other direction attribute is copied untouched.

use crate::sdp::attr::{Direction, is_ice_attribute};
use crate::sdp::error::RewriteError;
use crate::sdp::fields::{AddrType, Proto};
use crate::sdp::line::Line;
use crate::sdp::origin::OriginState;
use crate::sdp::parse::{MediaSection, Sdp};
use bytes::{BufMut, Bytes, BytesMut};
use std::net::IpAddr;

/// What to write toward one leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewritePlan {
    /// The relay address written in every `c=` line and in `o=`.
    pub address: IpAddr,
    /// Remove the ICE attributes (the SBC terminates ICE, or does none).
    pub strip_ice: bool,
    /// One plan per `m=` line, in order (a different count is a [`RewriteError`]).
    pub media: Vec<MediaPlan>,
}

/// What to write for one media section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPlan {
    /// The relay port; 0 rejects or disables the stream (the section stays, RFC 3264 §6).
    pub port: u16,
    /// The `a=rtcp` decision.
    pub rtcp: RtcpPlan,
    /// The `a=rtcp-mux` decision.
    pub rtcp_mux: MuxPlan,
    /// The profile decision.
    pub profile: ProfilePlan,
    /// The `a=crypto` decision.
    pub crypto: CryptoPlan,
}

impl MediaPlan {
    /// A plan that moves the stream to `port` and removes the far end's `a=rtcp` (its address
    /// must not reach the other leg); rtcp-mux, profile and crypto are kept as offered — set
    /// `crypto` explicitly whenever the relay terminates SRTP, or the far end's keys pass on.
    pub fn new(port: u16) -> MediaPlan {
        MediaPlan {
            port,
            rtcp: RtcpPlan::Remove,
            rtcp_mux: MuxPlan::Keep,
            profile: ProfilePlan::Keep,
            crypto: CryptoPlan::Keep,
        }
    }
}

/// The `a=rtcp` decision (RFC 3605).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpPlan {
    /// Copy the section's `a=rtcp` lines.
    Keep,
    /// Remove them (RTCP then goes to RTP port + 1, or is muxed).
    Remove,
    /// Replace them with `a=rtcp:<port>` or `a=rtcp:<port> IN IP4|IP6 <address>`.
    Set {
        /// The RTCP port.
        port: u16,
        /// The RTCP address, if it differs from the `c=` address.
        address: Option<IpAddr>,
    },
}

/// The `a=rtcp-mux` decision (RFC 5761).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MuxPlan {
    /// Copy it if present.
    Keep,
    /// Make sure it is present.
    Add,
    /// Remove it.
    Remove,
}

/// The transport profile decision (RTP ↔ SRTP interworking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfilePlan {
    /// Keep the profile as written.
    Keep,
    /// Plain RTP: `RTP/AVP` (or `RTP/AVPF` for a feedback profile).
    Rtp,
    /// SDES-keyed SRTP: `RTP/SAVP` (or `RTP/SAVPF` for a feedback profile).
    Srtp,
}

impl ProfilePlan {
    fn apply(self, proto: Proto) -> Proto {
        match self {
            Self::Keep => proto,
            Self::Rtp => proto.with_srtp(false),
            Self::Srtp => proto.with_srtp(true),
        }
    }
}

/// The `a=crypto` decision (RFC 4568). `Debug` shows how many values, not the keys.
#[derive(Clone, PartialEq, Eq)]
pub enum CryptoPlan {
    /// Copy the section's `a=crypto` lines.
    Keep,
    /// Remove them and append `a=crypto:<value>` for each value given (none: only remove).
    Replace(Vec<Bytes>),
}

impl std::fmt::Debug for CryptoPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Keep => f.write_str("Keep"),
            Self::Replace(v) => write!(f, "Replace(<{} redacted>)", v.len()),
        }
    }
}

impl Sdp {
    /// Writes the description for one leg: see the module docs of [`crate::sdp::rewrite`] for
    /// every change. `origin` is the leg's origin; its version moves only when the result
    /// differs from the last one it stamped (RFC 3264 §8).
    pub fn rewrite(
        &self,
        plan: &RewritePlan,
        origin: &mut OriginState,
    ) -> Result<Bytes, RewriteError> {
        if plan.media.len() != self.media().len() {
            return Err(RewriteError::MediaCountMismatch {
                sdp: self.media().len(),
                plan: plan.media.len(),
            });
        }
        for p in &plan.media {
            if let CryptoPlan::Replace(values) = &p.crypto {
                if values.iter().any(|v| !is_writable(v)) {
                    return Err(RewriteError::UnwritableValue("crypto attribute"));
                }
            }
        }
        let mut out = BytesMut::with_capacity(self.body().len() + 128);
        let origin_at = self.write_session(plan, &mut out);
        for (section, p) in self.media().iter().zip(&plan.media) {
            write_section(section, p, plan, &mut out);
        }
        let rest = out.freeze();
        origin.stamp(&rest, plan.address);
        let mut full = BytesMut::with_capacity(rest.len() + 64);
        full.put_slice(&rest[..origin_at]);
        origin.write_line(plan.address, &mut full);
        full.put_slice(&rest[origin_at..]);
        Ok(full.freeze())
    }

    /// Writes the session-level lines without `o=`; returns where `o=` goes.
    fn write_session(&self, plan: &RewritePlan, out: &mut BytesMut) -> usize {
        let lines = self.session_lines();
        let has = |k: u8| lines.iter().any(|l| l.kind() == k);
        let (has_origin, has_name, has_time) = (has(b'o'), has(b's'), has(b't'));
        let mut origin_at = None;
        let mut wrote_c = false;
        let replaces_keys = plan
            .media
            .iter()
            .any(|p| matches!(p.crypto, CryptoPlan::Replace(_)));
        let mut wrote_t = has_time;
        for line in lines {
            if !wrote_t && matches!(line.kind(), b'r' | b'z' | b'k' | b'a') {
                out.put_slice(b"t=0 0\r\n");
                wrote_t = true;
            }
            match line.kind() {
                b'o' if origin_at.is_none() => {
                    origin_at = Some(out.len());
                    if !has_name {
                        out.put_slice(b"s=-\r\n");
                    }
                }
                b'o' => {}
                b'c' if !wrote_c => {
                    wrote_c = true;
                    write_connection(plan.address, out);
                }
                b'c' => {}
                b'a' if plan.strip_ice && is_ice(line) => {}
                b'a' if replaces_keys && line.is_attribute(b"crypto") => {}
                b'v' if !has_origin && origin_at.is_none() => {
                    copy(line, out);
                    origin_at = Some(out.len());
                    if !has_name {
                        out.put_slice(b"s=-\r\n");
                    }
                }
                _ => copy(line, out),
            }
        }
        if !wrote_t {
            out.put_slice(b"t=0 0\r\n");
        }
        origin_at.unwrap_or(0)
    }
}

fn write_section(section: &MediaSection, p: &MediaPlan, plan: &RewritePlan, out: &mut BytesMut) {
    write_m_line(section, p, out);
    let hold = section.is_zero_address_hold() && p.port != 0;
    let mut need_c = section.connection().is_none();
    let mut wrote_c = false;
    let mut has_mux = false;
    for line in section.lines() {
        if need_c && line.kind() != b'i' {
            write_connection(plan.address, out);
            need_c = false;
        }
        let name = line.attribute().map(|(n, _)| n);
        let is = |n: &str| name.is_some_and(|name| name.eq_ignore_ascii_case(n.as_bytes()));
        let keep = match line.kind() {
            b'c' if !wrote_c => {
                wrote_c = true;
                write_connection(plan.address, out);
                false
            }
            b'c' => false,
            b'a' if plan.strip_ice && is_ice(line) => false,
            b'a' if is("rtcp") => p.rtcp == RtcpPlan::Keep,
            b'a' if is("rtcp-mux") => {
                has_mux = true;
                p.rtcp_mux != MuxPlan::Remove
            }
            b'a' if is("crypto") => p.crypto == CryptoPlan::Keep,
            b'a' if hold && is_direction(line) => false,
            _ => true,
        };
        if keep {
            copy(line, out);
        }
    }
    if need_c {
        write_connection(plan.address, out);
    }
    if let RtcpPlan::Set { port, address } = p.rtcp {
        out.put_slice(format!("a=rtcp:{port}").as_bytes());
        if let Some(a) = address {
            out.put_slice(format!(" IN {} {a}", AddrType::of(a).as_str()).as_bytes());
        }
        out.put_slice(b"\r\n");
    }
    if p.rtcp_mux == MuxPlan::Add && !has_mux {
        out.put_slice(b"a=rtcp-mux\r\n");
    }
    if hold {
        let d: Direction = section.effective_direction();
        out.put_slice(format!("a={}\r\n", d.as_str()).as_bytes());
    }
    if let CryptoPlan::Replace(values) = &p.crypto {
        for v in values {
            out.put_slice(b"a=crypto:");
            out.put_slice(v);
            out.put_slice(b"\r\n");
        }
    }
}

fn write_m_line(section: &MediaSection, p: &MediaPlan, out: &mut BytesMut) {
    let m = section.media_line();
    out.put_slice(b"m=");
    out.put_slice(&m.media);
    out.put_slice(format!(" {}", p.port).as_bytes());
    if let (Some(count), true) = (m.port_count, p.port != 0) {
        out.put_slice(format!("/{count}").as_bytes());
    }
    out.put_u8(b' ');
    match p.profile.apply(m.proto).as_str() {
        Some(proto) if p.profile != ProfilePlan::Keep => out.put_slice(proto.as_bytes()),
        _ => out.put_slice(&m.proto_raw),
    }
    if !m.formats.is_empty() {
        out.put_u8(b' ');
        out.put_slice(&m.formats);
    }
    out.put_slice(b"\r\n");
}

fn write_connection(address: IpAddr, out: &mut BytesMut) {
    let ty = AddrType::of(address).as_str();
    out.put_slice(format!("c=IN {ty} {address}\r\n").as_bytes());
}

fn copy(line: &Line, out: &mut BytesMut) {
    out.put_slice(line.raw());
    out.put_slice(b"\r\n");
}

fn is_ice(line: &Line) -> bool {
    line.attribute().is_some_and(|(n, _)| is_ice_attribute(n))
}

fn is_direction(line: &Line) -> bool {
    matches!(line.attribute(), Some((n, None)) if Direction::from_attribute(n).is_some())
}

fn is_writable(v: &[u8]) -> bool {
    !v.is_empty() && !v.iter().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

#[cfg(test)]
#[path = "rewrite_tests.rs"]
mod tests;
