//! The SDP parser (pure): splits a body into session-level lines and media sections (RFC 4566
//! §5) and checks the lines the rewriter must touch.
//!
//! Tolerated, because deployed phones send them: LF-only line ends, trailing whitespace, blank
//! lines, lines out of the RFC 4566 order, unknown and vendor attributes, lines that are not
//! `<type>=<value>`, missing `o=`, `s=`, `t=` or `c=`, `m=` lines without formats. Refused
//! ([`SdpError`]): no `v=` before the first `m=`, a malformed `m=` or `c=` line (both are
//! rewritten, so their meaning must be known), and bodies beyond [`SdpLimits`].

use crate::sdp::attr::{Direction, is_ice_attribute};
use crate::sdp::error::SdpError;
use crate::sdp::fields::{Connection, MediaLine, Origin};
use crate::sdp::line::{Line, split};
use bytes::Bytes;

/// Bounds on one SDP body (the SIP layer already bounds its size in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdpLimits {
    /// Most non-blank lines.
    pub max_lines: usize,
    /// Most media sections (`m=` lines).
    pub max_media: usize,
}

impl SdpLimits {
    /// 512 lines (a WebRTC offer with audio, video and a few dozen candidates fits easily) and
    /// 32 media sections.
    pub const DEFAULT: SdpLimits = SdpLimits {
        max_lines: 512,
        max_media: 32,
    };
}

impl Default for SdpLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A parsed SDP body: every line kept as written (zero-copy slices of the body), plus the typed
/// values the rewriter and the media layer need. `Debug` shows the lines with `a=crypto` values
/// hidden, never the raw body.
#[derive(Clone, PartialEq, Eq)]
pub struct Sdp {
    body: Bytes,
    session: Vec<Line>,
    media: Vec<MediaSection>,
    session_connection: Option<Connection>,
    session_direction: Option<Direction>,
}

/// One media section: an `m=` line and the lines after it up to the next `m=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSection {
    pub(crate) m_line: Line,
    pub(crate) media: MediaLine,
    pub(crate) lines: Vec<Line>,
    pub(crate) own_connection: Option<Connection>,
    pub(crate) connection: Option<Connection>,
    pub(crate) direction: Direction,
    pub(crate) session_ice: bool,
}

impl Sdp {
    /// Parses an SDP body. Never panics; see the module docs for what is tolerated.
    pub fn parse(body: Bytes, limits: &SdpLimits) -> Result<Sdp, SdpError> {
        let mut session = Vec::new();
        let mut media: Vec<(Line, MediaLine, Vec<Line>)> = Vec::new();
        let mut count = 0;
        for line in split(&body, limits.max_lines) {
            count += 1;
            if count > limits.max_lines {
                return Err(SdpError::TooManyLines(limits.max_lines));
            }
            match line.kind() {
                b'm' => {
                    if media.len() == limits.max_media {
                        return Err(SdpError::TooManyMedia(limits.max_media));
                    }
                    let m =
                        MediaLine::parse(line.value()).ok_or(SdpError::BadMedia { line: count })?;
                    media.push((line, m, Vec::new()));
                    continue;
                }
                b'c' if Connection::parse(line.value()).is_none() => {
                    return Err(SdpError::BadConnection { line: count });
                }
                _ => {}
            }
            match media.last_mut() {
                Some((_, _, lines)) => lines.push(line),
                None => session.push(line),
            }
        }
        if !session.iter().any(|l| l.kind() == b'v') {
            return Err(SdpError::MissingVersion);
        }
        let session_connection = first_connection(&session);
        let session_direction = first_direction(&session);
        let session_ice = session
            .iter()
            .any(|l| l.attribute().is_some_and(|(n, _)| is_ice_attribute(n)));
        let media = media
            .into_iter()
            .map(|(m_line, m, lines)| {
                let own_connection = first_connection(&lines);
                MediaSection {
                    connection: own_connection
                        .clone()
                        .or_else(|| session_connection.clone()),
                    own_connection,
                    direction: first_direction(&lines)
                        .or(session_direction)
                        .unwrap_or_default(),
                    session_ice,
                    m_line,
                    media: m,
                    lines,
                }
            })
            .collect();
        Ok(Sdp {
            body,
            session,
            media,
            session_connection,
            session_direction,
        })
    }

    /// The body that was parsed.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The session-level lines (before the first `m=`), as written.
    pub fn session_lines(&self) -> &[Line] {
        &self.session
    }

    /// The media sections, in order.
    pub fn media(&self) -> &[MediaSection] {
        &self.media
    }

    /// The `o=` line's fields, if present and well formed.
    pub fn origin(&self) -> Option<Origin> {
        self.session
            .iter()
            .find(|l| l.kind() == b'o')
            .and_then(|l| Origin::parse(l.value()))
    }

    /// The session-level `c=` (the default for media sections without their own).
    pub fn session_connection(&self) -> Option<&Connection> {
        self.session_connection.as_ref()
    }

    /// The session-level direction attribute, if any (the default for media sections).
    pub fn session_direction(&self) -> Option<Direction> {
        self.session_direction
    }
}

impl std::fmt::Debug for Sdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sdp")
            .field("session", &self.session)
            .field("media", &self.media)
            .finish_non_exhaustive()
    }
}

fn first_connection(lines: &[Line]) -> Option<Connection> {
    lines
        .iter()
        .find(|l| l.kind() == b'c')
        .and_then(|l| Connection::parse(l.value()))
}

fn first_direction(lines: &[Line]) -> Option<Direction> {
    lines.iter().find_map(|l| match l.attribute() {
        Some((name, None)) => Direction::from_attribute(name),
        _ => None,
    })
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
