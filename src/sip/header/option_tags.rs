//! Token-list headers (pure): Require, Proxy-Require, Supported, Unsupported (RFC 3261 §20.32,
//! §20.29, §20.37, §20.40, `option-tag = token`) and Allow (§20.5, `Method *(COMMA Method)`).
//!
//! An empty value is an empty list (Supported and Allow may be empty; a validator that needs a
//! non-empty Require checks the length). Empty elements inside a list are errors.

use crate::sip::error::SyntaxError;
use crate::sip::method::Method;
use crate::sip::scan;
use bytes::{BufMut, Bytes, BytesMut};

/// Splits a comma-separated token list, validating each token.
fn tokens(value: &Bytes, what: &'static str) -> Result<Vec<Bytes>, SyntaxError> {
    if scan::trim_lws(value).is_empty() {
        return Ok(Vec::new());
    }
    scan::split_list(value)
        .map(|t| {
            if scan::is_token(&t) {
                Ok(t)
            } else {
                Err(SyntaxError::new(what, 0))
            }
        })
        .collect()
}

/// Writes items separated by `, `.
fn write_joined<'a>(items: impl Iterator<Item = &'a [u8]>, out: &mut BytesMut) {
    for (k, t) in items.enumerate() {
        if k > 0 {
            out.put_slice(b", ");
        }
        out.put_slice(t);
    }
}

/// Option tags of Require, Proxy-Require, Supported or Unsupported, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionTags(pub Vec<Bytes>);

impl OptionTags {
    /// Parses an option-tag list.
    pub fn parse(value: &Bytes) -> Result<OptionTags, SyntaxError> {
        tokens(value, "option-tag").map(OptionTags)
    }

    /// Whether `tag` is listed (tokens compare case-insensitively, §7.3.1).
    pub fn contains(&self, tag: &str) -> bool {
        self.0
            .iter()
            .any(|t| t.eq_ignore_ascii_case(tag.as_bytes()))
    }

    /// The tags in order.
    pub fn iter(&self) -> impl Iterator<Item = &Bytes> {
        self.0.iter()
    }

    /// Writes the list.
    pub fn write_to(&self, out: &mut BytesMut) {
        write_joined(self.0.iter().map(|t| t.as_ref()), out);
    }
}

/// The methods of an Allow header, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allow(pub Vec<Method>);

impl Allow {
    /// Parses an Allow value.
    pub fn parse(value: &Bytes) -> Result<Allow, SyntaxError> {
        let list = tokens(value, "allow method")?;
        Ok(Allow(list.iter().map(Method::from_bytes).collect()))
    }

    /// Whether `method` is allowed.
    pub fn contains(&self, method: &Method) -> bool {
        self.0.contains(method)
    }

    /// Writes the list.
    pub fn write_to(&self, out: &mut BytesMut) {
        write_joined(self.0.iter().map(Method::as_bytes), out);
    }
}

crate::sip::display_via_write_to!(OptionTags);

crate::sip::display_via_write_to!(Allow);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn option_tags() {
        let t =
            OptionTags::parse(&b("100rel, timer,\r\n replaces ,nobodyKnowsThisExtension")).unwrap();
        assert_eq!(t.0.len(), 4);
        assert!(
            t.contains("nobodyknowsthisextension") && t.contains("Timer") && !t.contains("tim")
        );
        assert_eq!(
            t.to_string(),
            "100rel, timer, replaces, nobodyKnowsThisExtension"
        );
        assert_eq!(OptionTags::parse(&b("  ")), Ok(OptionTags::default()));
        for bad in ["a,,b", "a,", "a b", "a;b", "\"a\""] {
            assert!(OptionTags::parse(&b(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn allow() {
        let a = Allow::parse(&b("INVITE, ACK,OPTIONS, CANCEL, BYE, FOO")).unwrap();
        assert!(a.contains(&Method::Options));
        assert!(a.contains(&Method::Other(b("FOO"))));
        assert_eq!(a.to_string(), "INVITE, ACK, OPTIONS, CANCEL, BYE, FOO");
        assert!(Allow::parse(&b("INVITE,,BYE")).is_err());
        assert_eq!(Allow::parse(&b("")), Ok(Allow::default()));
    }

    proptest! {
        #[test]
        fn round_trip(v in proptest::collection::vec("[a-zA-Z0-9.!%*_+`'~-]{1,8}", 0..5)) {
            let t = OptionTags(v.into_iter().map(Bytes::from).collect());
            let mut out = BytesMut::new();
            t.write_to(&mut out);
            prop_assert_eq!(OptionTags::parse(&out.freeze()), Ok(t));
        }

        #[test]
        fn never_panics(v in proptest::collection::vec(any::<u8>(), 0..32)) {
            let v = Bytes::from(v);
            let _ = OptionTags::parse(&v);
            let _ = Allow::parse(&v);
        }
    }
}
