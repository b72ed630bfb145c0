//! SDP errors (pure): why a body cannot be used, and why a rewrite plan cannot be applied.
//!
//! Parsing is deliberately tolerant (RFC 4566 §5 is bent the way deployed phones bend it); an
//! [`SdpError`] means the body is unusable for media anchoring. A [`RewriteError`] means the
//! caller's plan does not fit the parsed body; both are bugs or attacks, never transient.

/// Why an SDP body was refused by [`crate::sdp::Sdp::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// No `v=` line before the first `m=` line (or an empty body).
    #[error("no v= line")]
    MissingVersion,
    /// More lines than [`crate::sdp::SdpLimits::max_lines`].
    #[error("more than {0} lines")]
    TooManyLines(usize),
    /// More media sections than [`crate::sdp::SdpLimits::max_media`].
    #[error("more than {0} media sections")]
    TooManyMedia(usize),
    /// An `m=` line that is not `m=<media> <port>[/<count>] <proto> <fmt>...`.
    #[error("malformed m= line {line}")]
    BadMedia {
        /// 1-based line number (blank lines not counted).
        line: usize,
    },
    /// A `c=` line that is not `c=IN IP4|IP6 <address>` (the rewriter must replace it).
    #[error("malformed c= line {line}")]
    BadConnection {
        /// 1-based line number (blank lines not counted).
        line: usize,
    },
}

impl SdpError {
    /// A bounded metric label for this error.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::MissingVersion => "sdp_no_version",
            Self::TooManyLines(_) => "sdp_too_many_lines",
            Self::TooManyMedia(_) => "sdp_too_many_media",
            Self::BadMedia { .. } => "sdp_bad_media",
            Self::BadConnection { .. } => "sdp_bad_connection",
        }
    }
}

/// Why a [`crate::sdp::RewritePlan`] could not be applied to a parsed body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// The plan has a different number of media plans than the body has `m=` lines: every
    /// stream must be decided, none may pass with the far end's transport address.
    #[error("plan covers {plan} media sections, the SDP has {sdp}")]
    MediaCountMismatch {
        /// Media sections in the body.
        sdp: usize,
        /// Media plans given.
        plan: usize,
    },
    /// A value to be written (origin username, crypto attribute) is empty or contains a byte
    /// that would break the line structure (CR, LF, NUL) or, for the username, a space.
    #[error("value for {0} cannot be written into an SDP line")]
    UnwritableValue(&'static str),
}
