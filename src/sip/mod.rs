//! SIP message core (pure, sans-IO): RFC 3261 §7 (messages), §19 (URIs), §20 (header fields),
//! §25 (ABNF), with the RFC 4475 / RFC 5118 torture cases as the acceptance bar.
//!
//! Messages are parsed zero-copy over [`bytes::Bytes`]: every header value, URI component and the
//! body are slices of the buffer that arrived. Typed access is lazy: a header is only parsed when
//! a caller asks for it, and unknown headers and parameters are carried byte-exact.
//!
//! Two entry points: [`parse::parse_datagram`] for a UDP datagram (one message; trailing bytes
//! beyond `Content-Length` ignored) and [`parse::Framer`] for TCP/TLS byte
//! streams, where a message may be *incomplete* (wait for more bytes) or *invalid* (answer or
//! close) and the two are never confused.

pub mod access;
/// Implements `Display` for a type with `write_to(&self, &mut BytesMut)`: the wire form, with any
/// invalid UTF-8 replaced (for logs and errors; the wire path uses `write_to` itself).
macro_rules! display_via_write_to {
    ($ty:ty) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut out = bytes::BytesMut::new();
                self.write_to(&mut out);
                f.write_str(&String::from_utf8_lossy(&out))
            }
        }
    };
}
pub(crate) use display_via_write_to;

pub mod auth;
pub mod error;
pub mod header;
pub mod limits;
pub mod message;
pub mod method;
pub mod parse;
pub mod print;
pub mod response;
pub mod scan;
pub mod transaction;
pub mod uri;
pub mod validate;

pub use error::{ParseError, SyntaxError};
pub use limits::Limits;
pub use message::{Header, Headers, Message, RequestLine, StartLine, StatusLine};
pub use method::Method;
pub use parse::{Frame, Framer, ParseFailure, parse_datagram};
