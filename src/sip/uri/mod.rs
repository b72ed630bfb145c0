//! SIP, SIPS and tel URIs (pure): RFC 3261 §19.1 and §25.1 (`SIP-URI`, `SIPS-URI`,
//! `absoluteURI`), RFC 3966 (`tel`), RFC 5118 (IPv6 references).
//!
//! [`Uri::parse`] takes the whole URI (no surrounding whitespace or angle brackets) and returns
//! a view whose components are zero-copy slices of the input. Schemes compare
//! case-insensitively. URIs of other schemes are checked to be a syntactically valid
//! `absoluteURI` and kept opaque in [`Uri::Other`]. Printing reproduces the parsed bytes, except
//! that IP literals print in canonical form.

mod host;
mod sip;
mod tel;

#[cfg(test)]
pub(crate) mod tests;

pub use host::Host;
pub use sip::SipUri;
pub use tel::TelUri;

pub(crate) use host::{parse_port, parse_v6};

use super::error::SyntaxError;
use super::scan::{self, SCHEME, URIC};
use bytes::{BufMut, Bytes, BytesMut};

/// A parsed URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    /// `sip:` or `sips:` (see [`SipUri::secure`]).
    Sip(SipUri),
    /// `tel:`.
    Tel(TelUri),
    /// Any other scheme, kept opaque.
    Other {
        /// The scheme as spelled.
        scheme: Bytes,
        /// Everything after the `:`.
        rest: Bytes,
    },
}

impl Uri {
    /// Parses a URI (RFC 3261 §25.1 `SIP-URI / SIPS-URI / absoluteURI`, RFC 3966 `tel`).
    pub fn parse(src: &Bytes) -> Result<Uri, SyntaxError> {
        let s = src.as_ref();
        let colon = s
            .iter()
            .position(|&b| b == b':')
            .ok_or(SyntaxError::new("uri scheme", 0))?;
        let scheme_b = s.get(..colon).unwrap_or_default();
        let valid_scheme = scheme_b.first().is_some_and(u8::is_ascii_alphabetic)
            && scheme_b.iter().all(|&b| SCHEME[usize::from(b)]);
        if !valid_scheme {
            return Err(SyntaxError::new("uri scheme", 0));
        }
        let scheme = src.slice(..colon);
        let rest = src.slice(colon + 1..);
        let at = colon + 1;
        if scheme.eq_ignore_ascii_case(b"sip") {
            SipUri::parse_rest(scheme, false, &rest, at).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case(b"sips") {
            SipUri::parse_rest(scheme, true, &rest, at).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case(b"tel") {
            TelUri::parse_rest(scheme, &rest, at).map(Uri::Tel)
        } else if scan::is_escaped_run(&rest, &URIC) {
            Ok(Uri::Other { scheme, rest })
        } else {
            Err(SyntaxError::new("uri", at))
        }
    }

    /// The scheme as spelled.
    pub fn scheme(&self) -> &Bytes {
        match self {
            Uri::Sip(u) => &u.scheme,
            Uri::Tel(u) => &u.scheme,
            Uri::Other { scheme, .. } => scheme,
        }
    }

    /// The SIP/SIPS URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The SIP/SIPS URI for rewriting, if this is one.
    pub fn as_sip_mut(&mut self) -> Option<&mut SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// Whether printing this URI inside a header needs angle brackets (RFC 3261 §20.10: it
    /// contains `,`, `;` or `?`).
    pub fn needs_angle_brackets(&self) -> bool {
        let mut out = BytesMut::new();
        self.write_to(&mut out);
        out.iter().any(|b| matches!(b, b',' | b';' | b'?'))
    }

    /// Writes the URI.
    pub fn write_to(&self, out: &mut BytesMut) {
        match self {
            Uri::Sip(u) => u.write_to(out),
            Uri::Tel(u) => u.write_to(out),
            Uri::Other { scheme, rest } => {
                out.put_slice(scheme);
                out.put_u8(b':');
                out.put_slice(rest);
            }
        }
    }
}

impl From<SipUri> for Uri {
    fn from(u: SipUri) -> Self {
        Uri::Sip(u)
    }
}

crate::sip::display_via_write_to!(Uri);

crate::sip::display_via_write_to!(SipUri);

crate::sip::display_via_write_to!(TelUri);
