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

/// Why a message was refused. Each variant maps to exactly one SIP status (or a silent drop) in
/// [`crate::error`]; [`ParseError::reason`] is the bounded metric label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The whole message is larger than `max_message_bytes`.
    #[error("message of {0} bytes exceeds the size limit")]
    MessageTooLarge(usize),
    /// The body (`Content-Length`) is larger than `max_body_bytes`.
    #[error("body of {0} bytes exceeds the body limit")]
    BodyTooLarge(usize),
    /// More header fields than `max_headers`.
    #[error("too many header fields")]
    TooManyHeaders,
    /// A start line or header field longer than `max_line_bytes`.
    #[error("line longer than the limit")]
    LineTooLong,
    /// More Via values than `max_via`.
    #[error("too many Via header values")]
    TooManyVias,
    /// The start line is neither a request line nor a status line.
    #[error("malformed start line")]
    BadStartLine,
    /// The Request-URI does not parse (or contains whitespace).
    #[error("malformed Request-URI: {0}")]
    BadRequestUri(SyntaxError),
    /// A response's status code is not three digits in 100..=699.
    #[error("malformed status code")]
    BadStatusCode,
    /// The SIP version is well formed but not SIP/2.0.
    #[error("unsupported SIP version")]
    UnsupportedVersion,
    /// A header line without a colon, a name that is not a token, or a bare LF.
    #[error("malformed header line at byte {0}")]
    BadHeaderLine(usize),
    /// A known header whose value does not parse.
    #[error("malformed {name} header: {error}")]
    BadHeader {
        /// Canonical header name.
        name: &'static str,
        /// What failed inside the value.
        error: SyntaxError,
    },
    /// A mandatory header is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header that may appear once appears more than once.
    #[error("duplicate {0} header")]
    DuplicateHeader(&'static str),
    /// `Content-Length` is not a number, negative, repeated, or does not match the data.
    #[error("bad Content-Length")]
    BadContentLength,
    /// A stream message without `Content-Length` (RFC 3261 §18.3 makes it mandatory there).
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
    /// The CSeq method differs from the request method.
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch,
    /// The Request-URI scheme is not one the SBC can route.
    #[error("unsupported URI scheme")]
    UnsupportedUriScheme,
    /// `Require`/`Proxy-Require` name option tags the SBC does not support; they are listed in
    /// the 420 response's `Unsupported` header.
    #[error("unsupported extensions required")]
    BadExtension(Vec<bytes::Bytes>),
    /// Max-Forwards reached zero.
    #[error("Max-Forwards exhausted")]
    TooManyHops,
}

impl ParseError {
    /// A bounded, stable label for the parse-errors metric.
    pub fn reason(&self) -> &'static str {
        match self {
            ParseError::MessageTooLarge(_) => "message_too_large",
            ParseError::BodyTooLarge(_) => "body_too_large",
            ParseError::TooManyHeaders => "too_many_headers",
            ParseError::LineTooLong => "line_too_long",
            ParseError::TooManyVias => "too_many_vias",
            ParseError::BadStartLine => "bad_start_line",
            ParseError::BadRequestUri(_) => "bad_request_uri",
            ParseError::BadStatusCode => "bad_status_code",
            ParseError::UnsupportedVersion => "unsupported_version",
            ParseError::BadHeaderLine(_) => "bad_header_line",
            ParseError::BadHeader { .. } => "bad_header",
            ParseError::MissingHeader(_) => "missing_header",
            ParseError::DuplicateHeader(_) => "duplicate_header",
            ParseError::BadContentLength => "bad_content_length",
            ParseError::MissingContentLength => "missing_content_length",
            ParseError::CSeqMethodMismatch => "cseq_method_mismatch",
            ParseError::UnsupportedUriScheme => "unsupported_uri_scheme",
            ParseError::BadExtension(_) => "bad_extension",
            ParseError::TooManyHops => "too_many_hops",
        }
    }
}
