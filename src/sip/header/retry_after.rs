//! The Retry-After header (pure): RFC 3261 §20.33 and §25.1
//! `Retry-After = delta-seconds [ comment ] *( SEMI retry-param )`.
//!
//! The SBC sets it on 503 answers when it sheds load and reads it from upstream 503s to back
//! off a trunk. Seconds saturate at `u32::MAX`; the comment is kept verbatim with its
//! parentheses.

use super::params::Params;
use crate::sip::error::SyntaxError;
use crate::sip::scan;
use bytes::{BufMut, Bytes, BytesMut};

/// A parsed Retry-After value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryAfter {
    /// Seconds to wait (saturating at `u32::MAX`).
    pub seconds: u32,
    /// The comment including its parentheses, e.g. `(I'm in a meeting)`.
    pub comment: Option<Bytes>,
    /// Parameters (`duration` and others).
    pub params: Params,
}

impl RetryAfter {
    /// A value of `seconds` with no comment or parameters.
    pub fn new(seconds: u32) -> Self {
        RetryAfter {
            seconds,
            comment: None,
            params: Params::new(),
        }
    }

    /// Parses a Retry-After header value.
    pub fn parse(value: &Bytes) -> Result<RetryAfter, SyntaxError> {
        let v = scan::trim_lws(value);
        let s = v.as_ref();
        let de = s
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(s.len());
        let seconds = s
            .get(..de)
            .and_then(scan::parse_u32_saturating)
            .ok_or(SyntaxError::new("retry-after seconds", 0))?;
        let cs = scan::skip_lws(s, de);
        let (comment, after) = if s.get(cs) == Some(&b'(') {
            let ce = scan_comment(s, cs)?;
            (Some(v.slice(cs..ce)), ce)
        } else {
            (None, de)
        };
        let (params, end) = Params::parse_header(&v, after)?;
        if end != s.len() {
            return Err(SyntaxError::new("retry-after", end));
        }
        if let Some(d) = params.get("duration") {
            if d.is_none_or(|d| scan::parse_u32_saturating(d).is_none()) {
                return Err(SyntaxError::new("retry-after duration", after));
            }
        }
        Ok(RetryAfter {
            seconds,
            comment,
            params,
        })
    }

    /// The `duration` parameter in seconds.
    pub fn duration(&self) -> Option<u32> {
        self.params
            .value("duration")
            .and_then(|d| scan::parse_u32_saturating(d))
    }

    /// Writes the value.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(self.seconds.to_string().as_bytes());
        if let Some(c) = &self.comment {
            out.put_u8(b' ');
            out.put_slice(c);
        }
        self.params.write_to(out);
    }
}

/// Scans a (possibly nested) `comment` whose `(` is at `i`; returns the offset after its `)`.
/// Inside: `ctext` (any byte but `(`, `)`, `\`, CR, LF and controls), LWS, quoted-pairs and
/// nested comments.
fn scan_comment(s: &[u8], i: usize) -> Result<usize, SyntaxError> {
    let mut depth = 0usize;
    let mut j = i;
    loop {
        match s.get(j) {
            None => return Err(SyntaxError::new("unterminated comment", j)),
            Some(b'(') => {
                depth += 1;
                j += 1;
            }
            Some(b')') => {
                depth = depth.saturating_sub(1);
                j += 1;
                if depth == 0 {
                    return Ok(j);
                }
            }
            Some(b'\\') => match s.get(j + 1) {
                Some(&c) if c <= 0x7f && c != b'\n' && c != b'\r' => j += 2,
                _ => return Err(SyntaxError::new("quoted-pair", j)),
            },
            Some(b'\r') => {
                let k = scan::skip_lws(s, j);
                if k == j {
                    return Err(SyntaxError::new("comment", j));
                }
                j = k;
            }
            Some(&c) if c == b' ' || c == b'\t' || c >= 0x21 => j += 1,
            Some(_) => return Err(SyntaxError::new("comment", j)),
        }
    }
}

crate::sip::display_via_write_to!(RetryAfter);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<RetryAfter, SyntaxError> {
        RetryAfter::parse(&Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn values() {
        assert_eq!(parse("120"), Ok(RetryAfter::new(120)));
        let r = parse("18000;duration=3600").unwrap();
        assert_eq!((r.seconds, r.duration()), (18000, Some(3600)));
        let r = parse("120 (I'm in a (long) meeting) ; duration = 60").unwrap();
        assert_eq!(
            r.comment.as_deref(),
            Some(&b"(I'm in a (long) meeting)"[..])
        );
        assert_eq!(r.to_string(), "120 (I'm in a (long) meeting);duration=60");
        assert_eq!(parse("99999999999").map(|r| r.seconds), Ok(u32::MAX));
        for bad in [
            "",
            "soon",
            "10 (open",
            "10;duration",
            "10;duration=x",
            "10 x",
            "10;;",
            "(c) 10",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(v in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(r) = RetryAfter::parse(&Bytes::from(v)) {
                prop_assert_eq!(RetryAfter::parse(&Bytes::from(r.to_string())), Ok(r));
            }
        }
    }
}
