//! The Content-Type header (pure): RFC 3261 §20.15 and §25.1 `media-type = m-type SLASH
//! m-subtype *( SEMI m-parameter )`.
//!
//! Type and subtype are tokens compared case-insensitively; parameters (`charset`,
//! `boundary`, ...) are kept verbatim, quoted values with their quotes.

use super::params::Params;
use crate::sip::error::SyntaxError;
use crate::sip::scan;
use bytes::{BufMut, Bytes, BytesMut};

/// A media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// The top-level type (`application`).
    pub mtype: Bytes,
    /// The subtype (`sdp`).
    pub subtype: Bytes,
    /// Parameters.
    pub params: Params,
}

impl ContentType {
    /// `application/sdp`.
    pub fn sdp() -> Self {
        ContentType {
            mtype: Bytes::from_static(b"application"),
            subtype: Bytes::from_static(b"sdp"),
            params: Params::new(),
        }
    }

    /// Parses a Content-Type value.
    pub fn parse(value: &Bytes) -> Result<ContentType, SyntaxError> {
        let v = scan::trim_lws(value);
        let s = v.as_ref();
        let te = s
            .iter()
            .position(|&b| !scan::is_token_char(b))
            .unwrap_or(s.len());
        if te == 0 {
            return Err(SyntaxError::new("media type", 0));
        }
        let sl = scan::skip_lws(s, te);
        if s.get(sl) != Some(&b'/') {
            return Err(SyntaxError::new("media type", sl));
        }
        let ss = scan::skip_lws(s, sl + 1);
        let mut se = ss;
        while s.get(se).is_some_and(|&b| scan::is_token_char(b)) {
            se += 1;
        }
        if se == ss {
            return Err(SyntaxError::new("media subtype", ss));
        }
        let (params, end) = Params::parse_header(&v, se)?;
        if end != s.len() {
            return Err(SyntaxError::new("media type", end));
        }
        if params.iter().any(|(_, val)| val.is_none()) {
            return Err(SyntaxError::new("media type parameter", se));
        }
        Ok(ContentType {
            mtype: v.slice(..te),
            subtype: v.slice(ss..se),
            params,
        })
    }

    /// Whether this is `mtype/subtype` (case-insensitive).
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype.as_bytes())
            && self.subtype.eq_ignore_ascii_case(subtype.as_bytes())
    }

    /// Whether this is `application/sdp`.
    pub fn is_sdp(&self) -> bool {
        self.is("application", "sdp")
    }

    /// Whether this is a `multipart/*` type.
    pub fn is_multipart(&self) -> bool {
        self.mtype.eq_ignore_ascii_case(b"multipart")
    }

    /// Writes `type/subtype;params`.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(&self.mtype);
        out.put_u8(b'/');
        out.put_slice(&self.subtype);
        self.params.write_to(out);
    }
}

crate::sip::display_via_write_to!(ContentType);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<ContentType, SyntaxError> {
        ContentType::parse(&Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn values() {
        assert!(parse("application/sdp").unwrap().is_sdp());
        assert!(parse("Application/SDP").unwrap().is_sdp());
        let c = parse("multipart/mixed;boundary=7a9cbec02ceef655").unwrap();
        assert!(c.is_multipart());
        assert_eq!(
            c.params.value("boundary").map(|b| &b[..]),
            Some(&b"7a9cbec02ceef655"[..])
        );
        let c = parse("text/plain ; charset = \"utf-8\"").unwrap();
        assert_eq!(c.to_string(), "text/plain;charset=\"utf-8\"");
        assert_eq!(ContentType::sdp().to_string(), "application/sdp");
        for bad in [
            "",
            "application",
            "application/",
            "/sdp",
            "a/b c",
            "a/b;",
            "a/b;x",
            "a b/c",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(v in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(c) = ContentType::parse(&Bytes::from(v)) {
                prop_assert_eq!(ContentType::parse(&Bytes::from(c.to_string())), Ok(c));
            }
        }
    }
}
