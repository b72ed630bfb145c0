//! Expires and Min-Expires headers (pure): RFC 3261 §20.19, §20.23 and §25.1
//! `delta-seconds = 1*DIGIT`.
//!
//! §20.19 bounds the value to 0..=2^32-1. A longer number saturates at `u32::MAX` instead of
//! failing: it plainly means "as long as possible", and registrar and session policy clamp every
//! expiry to their own maximum anyway, so a 400 would only add a failure mode.

use crate::sip::error::SyntaxError;
use crate::sip::scan;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// A delta-seconds value (Expires, Min-Expires).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expires(pub u32);

impl Expires {
    /// Parses a delta-seconds header value, saturating at `u32::MAX`.
    pub fn parse(value: &Bytes) -> Result<Expires, SyntaxError> {
        scan::parse_u32_saturating(&scan::trim_lws(value))
            .map(Expires)
            .ok_or(SyntaxError::new("delta-seconds", 0))
    }

    /// Writes the decimal value.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(self.0.to_string().as_bytes());
    }
}

impl fmt::Display for Expires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<Expires, SyntaxError> {
        Expires::parse(&Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn values() {
        assert_eq!(parse("3600"), Ok(Expires(3600)));
        assert_eq!(parse(" 0 "), Ok(Expires(0)));
        assert_eq!(parse("4294967296"), Ok(Expires(u32::MAX)));
        let huge = "1".to_string() + &"0".repeat(100);
        assert_eq!(parse(&huge), Ok(Expires(u32::MAX)));
        for bad in ["", "-1", "1 0", "Thu, 01 Dec 1994 16:00:00 GMT", "12s"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(n in any::<u32>()) {
            let mut out = BytesMut::new();
            Expires(n).write_to(&mut out);
            prop_assert_eq!(Expires::parse(&out.freeze()), Ok(Expires(n)));
        }
    }
}
