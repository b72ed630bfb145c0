//! Syntax errors from the typed header and URI parsers (pure).
//!
//! A [`SyntaxError`] says *what* failed to parse and where; the message-level validator turns it
//! into a SIP status (see `crate::error`).

/// A value that does not match its RFC 3261 §25 grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} at byte {at}")]
pub struct SyntaxError {
    /// The grammar element that failed, e.g. `"via sent-by"` or `"uri port"`.
    pub what: &'static str,
    /// Byte offset inside the value where parsing stopped.
    pub at: usize,
}

impl SyntaxError {
    /// A syntax error for `what` at offset `at`.
    pub const fn new(what: &'static str, at: usize) -> Self {
        Self { what, at }
    }
}
