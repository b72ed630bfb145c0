//! Typed views of one media section (pure): what the media layer reads to set up a stream.
//! Values that RFC 4566 lets the session level supply (connection address, direction, ICE
//! attributes) are the *effective* ones: media level first, then session level.

use crate::sdp::attr::{Direction, Rtcp, Rtpmap, is_ice_attribute, parse_ptime};
use crate::sdp::fields::{Connection, MediaLine, MediaType, Proto};
use crate::sdp::line::Line;
use crate::sdp::parse::MediaSection;
use bytes::Bytes;

impl MediaSection {
    /// The `m=` line as written.
    pub fn m_line(&self) -> &Line {
        &self.m_line
    }

    /// The `m=` line's fields.
    pub fn media_line(&self) -> &MediaLine {
        &self.media
    }

    /// The lines after the `m=` line, as written.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// `audio`, `video`, ...
    pub fn media_type(&self) -> MediaType {
        self.media.media_type
    }

    /// The transport port; 0 for a rejected or disabled stream.
    pub fn port(&self) -> u16 {
        self.media.port
    }

    /// The number of ports, when written as `<port>/<count>`.
    pub fn port_count(&self) -> Option<u16> {
        self.media.port_count
    }

    /// The transport protocol (`RTP/AVP`, `RTP/SAVP`, ...).
    pub fn proto(&self) -> Proto {
        self.media.proto
    }

    /// The `<fmt>` tokens (payload type numbers for RTP).
    pub fn formats(&self) -> impl Iterator<Item = &[u8]> {
        self.media.formats()
    }

    /// True when the port is 0 (RFC 3264 §6: a rejected stream; §8.2: a removed one).
    pub fn is_rejected(&self) -> bool {
        self.media.port == 0
    }

    /// The effective connection: this section's first `c=`, else the session-level one.
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// True when this section has its own `c=` line.
    pub fn has_own_connection(&self) -> bool {
        self.own_connection.is_some()
    }

    /// True when the effective connection is `IN IP4 0.0.0.0` (RFC 2543 hold, RFC 3264 §8.4).
    pub fn is_zero_address_hold(&self) -> bool {
        self.connection
            .as_ref()
            .is_some_and(Connection::is_zero_hold)
    }

    /// The effective direction attribute: media level, else session level, else `sendrecv`.
    /// Does not fold in [`MediaSection::is_zero_address_hold`]; see
    /// [`MediaSection::effective_direction`].
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The direction as the far end means it: [`MediaSection::direction`], with the receive
    /// half removed for an RFC 2543 hold (`c=IN IP4 0.0.0.0`). This is what the rewriter
    /// writes toward the other leg.
    pub fn effective_direction(&self) -> Direction {
        if self.is_zero_address_hold() {
            self.direction.without_receive()
        } else {
            self.direction
        }
    }

    /// The attributes of this section as `(name, value)`, in order.
    pub fn attributes(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.lines.iter().filter_map(Line::attribute)
    }

    /// The value of the first attribute `name` (ASCII case-insensitive): `Some(None)` for a
    /// flag attribute such as `a=rtcp-mux`, `None` if absent.
    pub fn attribute(&self, name: &[u8]) -> Option<Option<&[u8]>> {
        self.attributes()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    fn attribute_values<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = Bytes> + 'a {
        self.lines.iter().filter_map(move |l| match l.attribute() {
            Some((n, Some(v))) if n.eq_ignore_ascii_case(name) => Some(l.value().slice_ref(v)),
            _ => None,
        })
    }

    /// The first well-formed `a=rtcp` (RFC 3605).
    pub fn rtcp(&self) -> Option<Rtcp> {
        self.attribute_values(b"rtcp").find_map(|v| Rtcp::parse(&v))
    }

    /// True when `a=rtcp-mux` is present (RFC 5761).
    pub fn rtcp_mux(&self) -> bool {
        self.attribute(b"rtcp-mux").is_some()
    }

    /// The raw values of the `a=crypto` attributes (RFC 4568), in order (the SRTP layer parses
    /// them). They hold keys: never log them.
    pub fn crypto(&self) -> impl Iterator<Item = Bytes> + '_ {
        self.attribute_values(b"crypto")
    }

    /// True when any ICE attribute (see [`crate::sdp::ICE_ATTRIBUTES`]) is present in this
    /// section or at session level.
    pub fn has_ice(&self) -> bool {
        self.session_ice || self.attributes().any(|(n, _)| is_ice_attribute(n))
    }

    /// `a=ptime` in milliseconds, if present and well formed.
    pub fn ptime(&self) -> Option<u32> {
        self.attribute_values(b"ptime")
            .find_map(|v| parse_ptime(&v))
    }

    /// The well-formed `a=rtpmap` attributes, in order.
    pub fn rtpmaps(&self) -> impl Iterator<Item = Rtpmap> + '_ {
        self.attribute_values(b"rtpmap")
            .filter_map(|v| Rtpmap::parse(&v))
    }

    /// The `a=rtpmap` of one payload type.
    pub fn rtpmap(&self, payload_type: u8) -> Option<Rtpmap> {
        self.rtpmaps().find(|r| r.payload_type == payload_type)
    }
}
