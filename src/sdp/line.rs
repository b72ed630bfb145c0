//! One SDP line (pure): RFC 4566 §5 `<type>=<value>`, kept exactly as written.
//!
//! A [`Line`] is a zero-copy slice of the received body without its line terminator (CRLF or a
//! bare LF); trailing whitespace stays in [`Line::raw`] so an untouched line is re-emitted
//! byte-exact, and is trimmed from [`Line::value`] for parsing. Lines that are not
//! `<letter>=...` are kept too (kind [`Line::OTHER`]) and copied through unchanged.

use bytes::Bytes;

/// One line of an SDP body. Its `Debug` form hides the value of `a=crypto` lines, which carry
/// SRTP master keys (DESIGN §5: keys are never logged).
#[derive(Clone, PartialEq, Eq)]
pub struct Line {
    raw: Bytes,
    kind: u8,
    value: Bytes,
}

impl Line {
    /// The kind of a line that is not `<letter>=...` (vendor garbage, kept verbatim).
    pub const OTHER: u8 = 0;

    /// Classifies one line (`raw` without its terminator).
    pub fn new(raw: Bytes) -> Line {
        let kind = match raw.as_ref() {
            [k, b'=', ..] if k.is_ascii_alphabetic() => *k,
            _ => Self::OTHER,
        };
        let value = if kind == Self::OTHER {
            Bytes::new()
        } else {
            let end = raw.len() - trailing_whitespace(&raw);
            raw.slice(2..end.max(2))
        };
        Line { raw, kind, value }
    }

    /// The line as written, without its terminator.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The type letter (`b'v'`, `b'o'`, `b'm'`, `b'a'`, ...) or [`Line::OTHER`].
    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// The text after `<type>=`, trailing whitespace trimmed (empty for [`Line::OTHER`]).
    pub fn value(&self) -> &Bytes {
        &self.value
    }

    /// For an `a=` line: the attribute name and its value (after the first `:`), if any.
    pub fn attribute(&self) -> Option<(&[u8], Option<&[u8]>)> {
        if self.kind != b'a' {
            return None;
        }
        let v = self.value.as_ref();
        Some(match memchr::memchr(b':', v) {
            Some(i) => (&v[..i], Some(&v[i + 1..])),
            None => (v, None),
        })
    }

    /// True for an `a=` line whose name is `name` (ASCII case-insensitive).
    pub fn is_attribute(&self, name: &[u8]) -> bool {
        self.attribute()
            .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_attribute(b"crypto") {
            f.write_str("Line(a=crypto:<redacted>)")
        } else {
            write!(f, "Line({:?})", String::from_utf8_lossy(&self.raw))
        }
    }
}

fn trailing_whitespace(s: &[u8]) -> usize {
    s.iter()
        .rev()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r'))
        .count()
}

/// Splits a body into lines on LF (a CR before it is dropped); lines that are empty or only
/// whitespace are skipped. Yields at most `limit + 1` lines so a caller can detect overflow
/// without scanning an oversized body to its end.
pub(crate) fn split(body: &Bytes, limit: usize) -> impl Iterator<Item = Line> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < body.len() {
            let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |i| start + i);
            let line = &body[start..end];
            let content = line.strip_suffix(b"\r").unwrap_or(line);
            let from = start;
            start = end + 1;
            if content.len() > trailing_whitespace(content) {
                return Some(Line::new(body.slice(from..from + content.len())));
            }
        }
        None
    })
    .take(limit.saturating_add(1))
}

/// Splits on ASCII spaces and tabs, skipping empty fields.
pub(crate) fn fields(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(|b| *b == b' ' || *b == b'\t')
        .filter(|f| !f.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &'static [u8]) -> Vec<Line> {
        split(&Bytes::from_static(s), 100).collect()
    }

    #[test]
    fn splits_crlf_lf_and_skips_blank_lines() {
        let l = lines(b"v=0\r\no=x\n\r\n  \na=foo:bar  \r\nlast");
        let raws: Vec<&[u8]> = l.iter().map(|l| l.raw().as_ref()).collect();
        assert_eq!(raws, [&b"v=0"[..], b"o=x", b"a=foo:bar  ", b"last"]);
        assert_eq!(l[2].value(), &b"a=foo:bar"[2..]);
        assert_eq!(l[2].attribute(), Some((&b"foo"[..], Some(&b"bar"[..]))));
        assert_eq!(l[3].kind(), Line::OTHER);
        assert_eq!(l[3].value(), "");
    }

    #[test]
    fn classifies_kinds_and_attributes() {
        let l = lines(b"a=rtcp-mux\nA=x\n=x\na=\nx\n a=b");
        assert_eq!(l[0].attribute(), Some((&b"rtcp-mux"[..], None)));
        assert!(l[0].is_attribute(b"RTCP-MUX"));
        assert_eq!(l[1].kind(), b'A');
        assert_eq!(l[2].kind(), Line::OTHER);
        assert_eq!(l[3].attribute(), Some((&b""[..], None)));
        assert_eq!(l[4].kind(), Line::OTHER);
        assert_eq!(l[5].kind(), Line::OTHER);
    }

    #[test]
    fn debug_hides_crypto_keys() {
        let l = lines(b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:SECRET\na=ptime:20");
        assert_eq!(format!("{:?}", l[0]), "Line(a=crypto:<redacted>)");
        assert_eq!(format!("{:?}", l[1]), "Line(\"a=ptime:20\")");
    }

    #[test]
    fn split_stops_after_limit_plus_one() {
        let body = Bytes::from(b"a=x\n".repeat(50));
        assert_eq!(split(&body, 3).count(), 4);
    }

    #[test]
    fn fields_skip_runs_of_whitespace() {
        let f: Vec<&[u8]> = fields(b" IN  IP4\t1.2.3.4 ").collect();
        assert_eq!(f, [&b"IN"[..], b"IP4", b"1.2.3.4"]);
    }
}
