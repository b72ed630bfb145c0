//! Identifiers the signaling task makes (shell helpers): random bytes from the operating
//! system's CSPRNG, their hex form, and the wire form of a typed value.

use bytes::{Bytes, BytesMut};

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut raw = [0u8; N];
    getrandom::fill(&mut raw).expect("the operating system's random source is available");
    raw
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The wire form of `value`, written by its `write_to`.
pub(crate) fn encode<T>(value: &T, write: impl Fn(&T, &mut BytesMut)) -> Bytes {
    let mut out = BytesMut::new();
    write(value, &mut out);
    out.freeze()
}
