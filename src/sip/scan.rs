//! Lexical helpers shared by the SIP parsers (pure): RFC 3261 §25.1 character classes,
//! linear whitespace, quoted strings and top-level comma splitting.

use bytes::Bytes;

/// `token` characters (RFC 3261 §25.1).
pub fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// True for a non-empty `token`.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|b| is_token_char(*b))
}

/// Trims linear whitespace (SP, HTAB, CR, LF) from both ends.
pub fn trim_lws(v: &Bytes) -> Bytes {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = v.iter().take_while(|b| ws(b)).count();
    let end = v.len() - v[start..].iter().rev().take_while(|b| ws(b)).count();
    v.slice(start..end)
}
