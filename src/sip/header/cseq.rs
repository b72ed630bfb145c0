//! The CSeq header (pure): RFC 3261 §20.16 and §25.1 `CSeq = 1*DIGIT LWS Method`.
//!
//! The sequence number must be below 2^31 (§8.1.1.5); larger values are syntax errors (RFC 4475
//! `scalar02`). Leading zeros and folded whitespace before the method are allowed
//! (`0009\r\n  INVITE`, RFC 4475 `wsinv`).

use crate::sip::error::SyntaxError;
use crate::sip::method::Method;
use crate::sip::scan;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// Largest allowed sequence number (2^31 - 1).
pub const MAX_SEQ: u32 = (1 << 31) - 1;

/// A parsed CSeq value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number (`<= MAX_SEQ`).
    pub seq: u32,
    /// The method.
    pub method: Method,
}

impl CSeq {
    /// A CSeq value.
    pub fn new(seq: u32, method: Method) -> Self {
        CSeq { seq, method }
    }

    /// Parses a CSeq header value.
    pub fn parse(value: &Bytes) -> Result<CSeq, SyntaxError> {
        let v = scan::trim_lws(value);
        let s = v.as_ref();
        let de = s
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(s.len());
        let seq = s
            .get(..de)
            .and_then(scan::parse_u64)
            .filter(|&n| n <= u64::from(MAX_SEQ))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(SyntaxError::new("cseq number", 0))?;
        let ms = scan::skip_lws(s, de);
        if ms == de {
            return Err(SyntaxError::new("cseq", de));
        }
        let method = v.slice(ms..);
        if !scan::is_token(&method) {
            return Err(SyntaxError::new("cseq method", ms));
        }
        Ok(CSeq {
            seq,
            method: Method::from_bytes(&method),
        })
    }

    /// Writes `seq METHOD`.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(self.seq.to_string().as_bytes());
        out.put_u8(b' ');
        out.put_slice(self.method.as_bytes());
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<CSeq, SyntaxError> {
        CSeq::parse(&Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn corpus_values() {
        assert_eq!(parse("0009\r\n  INVITE"), Ok(CSeq::new(9, Method::Invite)));
        let c = parse("139122385 !interesting-Method0123456789_*+`.%indeed'~").unwrap();
        assert_eq!(c.seq, 139122385);
        assert!(matches!(c.method, Method::Other(_)));
        assert!(parse("36893488147419103232 REGISTER").is_err());
        assert_eq!(parse("2147483647 ACK").map(|c| c.seq), Ok(MAX_SEQ));
        assert!(parse("2147483648 ACK").is_err());
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "INVITE",
            "1",
            "1INVITE",
            "1 INV ITE",
            "-1 INVITE",
            "1 INVITE,",
            " 1\r\nINVITE",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(CSeq::new(1, Method::Bye).to_string(), "1 BYE");
    }

    proptest! {
        #[test]
        fn round_trip(seq in 0..=MAX_SEQ, m in "[A-Za-z!%*_+`'~.-]{1,10}") {
            let c = CSeq::new(seq, Method::from_bytes(&Bytes::from(m)));
            let mut out = BytesMut::new();
            c.write_to(&mut out);
            prop_assert_eq!(CSeq::parse(&out.freeze()), Ok(c));
        }

        #[test]
        fn never_panics(v in proptest::collection::vec(any::<u8>(), 0..32)) {
            let _ = CSeq::parse(&Bytes::from(v));
        }
    }
}
