//! The Max-Forwards header (pure): RFC 3261 §20.22 and §25.1 `Max-Forwards = 1*DIGIT`.
//!
//! Leading zeros are allowed (`0068` is 68, RFC 4475 `wsinv`); values above 255 are
//! syntax errors (§8.1.1.6 and RFC 4475 `scalar02`).

use crate::sip::error::SyntaxError;
use crate::sip::scan;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// A Max-Forwards value (0–255).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MaxForwards(pub u8);

impl MaxForwards {
    /// The value RFC 3261 §8.1.1.6 recommends for new requests.
    pub const DEFAULT: MaxForwards = MaxForwards(70);

    /// Parses a Max-Forwards header value.
    pub fn parse(value: &Bytes) -> Result<MaxForwards, SyntaxError> {
        scan::parse_u64(&scan::trim_lws(value))
            .and_then(|n| u8::try_from(n).ok())
            .map(MaxForwards)
            .ok_or(SyntaxError::new("max-forwards", 0))
    }

    /// The value decremented for forwarding, or `None` when it is already zero (483).
    pub fn decremented(self) -> Option<MaxForwards> {
        self.0.checked_sub(1).map(MaxForwards)
    }

    /// Writes the decimal value.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(self.0.to_string().as_bytes());
    }
}

impl fmt::Display for MaxForwards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<MaxForwards, SyntaxError> {
        MaxForwards::parse(&Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn values() {
        assert_eq!(parse("0068"), Ok(MaxForwards(68)));
        assert_eq!(parse(" 255 "), Ok(MaxForwards(255)));
        assert_eq!(parse("0"), Ok(MaxForwards(0)));
        assert_eq!(parse("0").unwrap().decremented(), None);
        assert_eq!(parse("70").unwrap().decremented(), Some(MaxForwards(69)));
        for bad in [
            "300",
            "256",
            "",
            "-1",
            "7 0",
            "0x10",
            "99999999999999999999999",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(n in any::<u8>()) {
            let mut out = BytesMut::new();
            MaxForwards(n).write_to(&mut out);
            prop_assert_eq!(MaxForwards::parse(&out.freeze()), Ok(MaxForwards(n)));
        }
    }
}
