//! The Call-ID header (pure): RFC 3261 §20.8 and §25.1 `callid = word [ "@" word ]`.
//!
//! `word` is wider than `token`: it also admits `( ) < > : \ " / [ ] ? { }` (RFC 4475
//! `intmeth`). No whitespace is allowed. The value is kept verbatim; Call-IDs compare
//! byte-for-byte (§20.8).

use crate::sip::error::SyntaxError;
use crate::sip::scan::{self, WORD};
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

/// A validated Call-ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallId(Bytes);

impl CallId {
    /// Parses a Call-ID header value.
    pub fn parse(value: &Bytes) -> Result<CallId, SyntaxError> {
        let v = scan::trim_lws(value);
        let is_word = |w: &[u8]| !w.is_empty() && w.iter().all(|&b| WORD[usize::from(b)]);
        let ok = match v.iter().position(|&b| b == b'@') {
            Some(at) => {
                is_word(v.get(..at).unwrap_or_default())
                    && is_word(v.get(at + 1..).unwrap_or_default())
            }
            None => is_word(&v),
        };
        if ok {
            Ok(CallId(v))
        } else {
            Err(SyntaxError::new("call-id", 0))
        }
    }

    /// Wraps a locally generated value (the caller guarantees `word [@ word]` syntax).
    pub fn from_generated(v: Bytes) -> CallId {
        CallId(v)
    }

    /// The Call-ID bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Writes the Call-ID.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(&self.0);
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<CallId, SyntaxError> {
        CallId::parse(&Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn corpus_values() {
        let c = parse("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{").unwrap();
        assert_eq!(
            c.to_string(),
            "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
        );
        assert!(parse(" transports.kijh4akdnaqjkwendsasfdj").is_ok());
        assert!(parse("3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..").is_ok());
        assert!(parse("wsinv.ndaksdj@192.0.2.1").is_ok());
    }

    #[test]
    fn malformed() {
        for bad in [
            "", "@", "a@", "@b", "a@b@c", "a b", "a;b", "a,b", "a\r\n b", "\u{e9}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(v in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(c) = CallId::parse(&Bytes::from(v)) {
                prop_assert_eq!(CallId::parse(c.as_bytes()), Ok(c));
            }
        }
    }
}
