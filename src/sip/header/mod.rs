//! Header fields (pure): names, and one typed parser per header family (RFC 3261 §20).
//!
//! Typed parsers take the header *value* (a zero-copy [`bytes::Bytes`] slice, which may contain
//! folded line breaks `CRLF` followed by whitespace) and return a typed view whose parts are
//! slices of that value.

pub mod name;
pub mod name_addr;
pub mod params;
pub mod via;

pub use name::HeaderName;
pub use name_addr::NameAddr;
pub use params::Params;
pub use via::Via;
