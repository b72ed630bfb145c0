//! `tel:` URIs (pure): RFC 3966 §3 `telephone-subscriber`.
//!
//! A global number is `+` followed by digits and visual separators (`-` `.` `(` `)`); a local
//! number is hex digits, `*`, `#` and separators. Parameters (`;phone-context=`, `;ext=`, ...)
//! use the URI parameter syntax. A local number without `phone-context` is accepted (it is
//! common in practice); routing decides what to do with it.

use crate::sip::error::SyntaxError;
use crate::sip::header::Params;
use bytes::{BufMut, Bytes, BytesMut};

/// A `tel:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri {
    /// The scheme as spelled (`tel`, `TEL`, ...).
    pub scheme: Bytes,
    /// The number, verbatim (with `+` and visual separators).
    pub number: Bytes,
    /// Parameters after the number.
    pub params: Params,
}

impl TelUri {
    /// Whether the number is global (`+` E.164).
    pub fn is_global(&self) -> bool {
        self.number.first() == Some(&b'+')
    }

    /// The number's digits (and `*`, `#`, hex digits of local numbers) without separators.
    pub fn digits(&self) -> String {
        self.number
            .iter()
            .filter(|b| b.is_ascii_hexdigit() || matches!(b, b'*' | b'#'))
            .map(|&b| char::from(b))
            .collect()
    }

    /// Parses the part after `tel:`; `at` is its offset in the whole URI.
    pub(crate) fn parse_rest(
        scheme: Bytes,
        rest: &Bytes,
        at: usize,
    ) -> Result<TelUri, SyntaxError> {
        let s = rest.as_ref();
        let end = s.iter().position(|&b| b == b';').unwrap_or(s.len());
        let num = s.get(..end).unwrap_or_default();
        let sep = |b: &u8| matches!(b, b'-' | b'.' | b'(' | b')');
        let ok = match num.split_first() {
            Some((b'+', digits)) => {
                digits.iter().all(|b| b.is_ascii_digit() || sep(b))
                    && digits.iter().any(u8::is_ascii_digit)
            }
            Some(_) => {
                num.iter()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b'*' | b'#') || sep(b))
                    && num
                        .iter()
                        .any(|b| b.is_ascii_hexdigit() || matches!(b, b'*' | b'#'))
            }
            None => false,
        };
        if !ok {
            return Err(SyntaxError::new("tel number", at));
        }
        let params = Params::parse_uri(rest, end, s.len())
            .map_err(|e| SyntaxError::new(e.what, at + e.at))?;
        Ok(TelUri {
            scheme,
            number: rest.slice(..end),
            params,
        })
    }

    /// Writes the URI.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(&self.scheme);
        out.put_u8(b':');
        out.put_slice(&self.number);
        self.params.write_to(out);
    }
}
