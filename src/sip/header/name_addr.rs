//! `name-addr / addr-spec` header values (pure): From, To, Route, Record-Route, Path,
//! Reply-To, Refer-To, P-Asserted-Identity (RFC 3261 §20.10, §20.20, §20.39, §25.1).
//!
//! `name-addr = [ display-name ] LAQUOT addr-spec RAQUOT` where `display-name` is a
//! quoted-string or `*(token LWS)`; no whitespace is allowed inside the angle brackets. In the
//! bare `addr-spec` form every `;` after the URI starts a *header* parameter (§20.10), and the
//! URI may not contain `,`, `;` or `?`.

use super::params::Params;
use crate::sip::error::SyntaxError;
use crate::sip::scan;
use crate::sip::uri::Uri;
use bytes::{BufMut, Bytes, BytesMut};

/// One `name-addr` or `addr-spec` with its header parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, raw: a quoted-string including its quotes, or a token sequence.
    pub display: Option<Bytes>,
    /// The URI.
    pub uri: Uri,
    /// Whether the URI was written in angle brackets.
    pub angle: bool,
    /// Header parameters (`tag`, `expires`, ...).
    pub params: Params,
}

impl NameAddr {
    /// A name-addr for `uri` in angle brackets, with no display name or parameters.
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display: None,
            uri,
            angle: true,
            params: Params::new(),
        }
    }

    /// Parses one value (not a comma-separated list; see [`NameAddr::parse_list`]).
    pub fn parse(value: &Bytes) -> Result<NameAddr, SyntaxError> {
        let v = scan::trim_lws(value);
        let off = leading(value);
        Self::parse_trimmed(&v).map_err(|e| SyntaxError::new(e.what, e.at + off))
    }

    /// Parses a header value holding one or more comma-separated values (Route,
    /// Record-Route, Path, P-Asserted-Identity, ...). Empty elements are errors.
    pub fn parse_list(value: &Bytes) -> Result<Vec<NameAddr>, SyntaxError> {
        scan::split_list(value)
            .map(|e| {
                if e.is_empty() {
                    Err(SyntaxError::new("empty list element", 0))
                } else {
                    Self::parse_trimmed(&e)
                }
            })
            .collect()
    }

    fn parse_trimmed(v: &Bytes) -> Result<NameAddr, SyntaxError> {
        let s = v.as_ref();
        let mut display = None;
        let mut i = 0;
        if s.first() == Some(&b'"') {
            let end = scan::scan_quoted(s, 0)?;
            display = Some(v.slice(..end));
            i = scan::skip_lws(s, end);
            if s.get(i) != Some(&b'<') {
                return Err(SyntaxError::new("name-addr", i));
            }
        } else {
            // `*(token LWS)` followed by `<` means name-addr; anything else is an addr-spec.
            let mut j = 0;
            let mut last_token_end = 0;
            while s.get(j).is_some_and(|&b| scan::is_token_char(b)) {
                while s.get(j).is_some_and(|&b| scan::is_token_char(b)) {
                    j += 1;
                }
                last_token_end = j;
                j = scan::skip_lws(s, j);
            }
            if s.get(j) == Some(&b'<') {
                if last_token_end > 0 {
                    display = Some(v.slice(..last_token_end));
                }
                i = j;
            }
        }
        let (uri, angle, after) = if s.get(i) == Some(&b'<') {
            let close = s
                .get(i..)
                .and_then(|t| t.iter().position(|&b| b == b'>'))
                .map(|p| p + i)
                .ok_or(SyntaxError::new("name-addr missing >", i))?;
            let uri = Uri::parse(&v.slice(i + 1..close))
                .map_err(|e| SyntaxError::new(e.what, e.at + i + 1))?;
            (uri, true, close + 1)
        } else {
            let mut end = 0;
            while s
                .get(end)
                .is_some_and(|&b| b != b';' && !scan::at_lws(s, end))
            {
                end += 1;
            }
            let spec = s.get(..end).unwrap_or_default();
            if spec
                .iter()
                .any(|b| matches!(b, b',' | b'?' | b'<' | b'>' | b'"'))
            {
                return Err(SyntaxError::new("addr-spec", 0));
            }
            (Uri::parse(&v.slice(..end))?, false, end)
        };
        let (params, end) = Params::parse_header(v, after)?;
        if end != s.len() {
            return Err(SyntaxError::new("name-addr", end));
        }
        Ok(NameAddr {
            display,
            uri,
            angle,
            params,
        })
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&Bytes> {
        self.params.value("tag")
    }

    /// Sets the `tag` parameter.
    pub fn set_tag(&mut self, tag: Bytes) {
        self.params.set("tag", Some(tag));
    }

    /// The display name as text: quotes and quoted-pairs resolved, or the token sequence with
    /// its whitespace collapsed to single spaces.
    pub fn display_name_unquoted(&self) -> Option<String> {
        let d = self.display.as_ref()?;
        if d.first() == Some(&b'"') {
            Some(scan::unquote(d))
        } else {
            let text = String::from_utf8_lossy(d);
            Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
        }
    }

    /// Writes the value. Angle brackets are used when parsed with them, when there is a display
    /// name, or when the URI contains `,`, `;` or `?`.
    pub fn write_to(&self, out: &mut BytesMut) {
        if let Some(d) = &self.display {
            out.put_slice(d);
            out.put_u8(b' ');
        }
        if self.angle || self.display.is_some() || self.uri.needs_angle_brackets() {
            out.put_u8(b'<');
            self.uri.write_to(out);
            out.put_u8(b'>');
        } else {
            self.uri.write_to(out);
        }
        self.params.write_to(out);
    }

    /// Writes a comma-separated list.
    pub fn write_list(list: &[NameAddr], out: &mut BytesMut) {
        for (k, na) in list.iter().enumerate() {
            if k > 0 {
                out.put_slice(b", ");
            }
            na.write_to(out);
        }
    }
}

/// Number of leading whitespace bytes (for error offsets).
fn leading(v: &Bytes) -> usize {
    v.iter().take_while(|b| b" \t\r\n".contains(b)).count()
}

crate::sip::display_via_write_to!(NameAddr);

#[cfg(test)]
#[path = "name_addr_tests.rs"]
pub(crate) mod tests;
