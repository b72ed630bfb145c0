//! Header fields (pure): names, and one typed parser per header family (RFC 3261 §20).
//!
//! Typed parsers take the header *value* (a zero-copy [`bytes::Bytes`] slice, which may contain
//! folded line breaks `CRLF` followed by whitespace) and return a typed view whose parts are
//! slices of that value.

pub mod call_id;
pub mod contact;
pub mod content_type;
pub mod cseq;
pub mod expires;
pub mod max_forwards;
pub mod name;
pub mod name_addr;
pub mod option_tags;
pub mod params;
pub mod retry_after;
pub mod via;

pub use call_id::CallId;
pub use contact::Contact;
pub use content_type::ContentType;
pub use cseq::CSeq;
pub use expires::Expires;
pub use max_forwards::MaxForwards;
pub use name::HeaderName;
pub use name_addr::NameAddr;
pub use option_tags::{Allow, OptionTags};
pub use params::Params;
pub use retry_after::RetryAfter;
pub use via::Via;

#[cfg(test)]
mod corpus_tests;
