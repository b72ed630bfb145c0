//! Client-side Digest authentication (pure): answering `401`/`407` challenges from a trunk or
//! PBX (RFC 3261 §22.2–§22.4, RFC 7616, RFC 2617, RFC 8760 for SHA-256 in SIP).
//!
//! - [`challenge`]: parses `WWW-Authenticate` / `Proxy-Authenticate` (RFC 7235 §4.1 grammar)
//!   and picks the strongest usable Digest challenge;
//! - [`digest`]: MD5, MD5-sess, SHA-256, SHA-256-sess, `qop=auth` (preferred) and `auth-int`,
//!   `userhash`, and the `Authorization` / `Proxy-Authorization` value;
//! - [`client`]: one request's answers across retries, with `stale=true` (answer the new
//!   nonce) kept apart from rejected credentials (give up instead of looping).
//!
//! Nothing here reads the clock or a random source: the caller passes random bytes for the
//! client nonce. Passwords never appear in `Debug` output or errors.

pub mod challenge;
pub mod client;
pub mod digest;

#[cfg(test)]
mod tests;

use std::fmt;

use thiserror::Error;

use crate::sip::error::SyntaxError;

pub use challenge::{AuthChallenge, DigestChallenge, Qop, parse_challenges, select};
pub use client::{Answer, ChallengeKind, DigestClient, MAX_STALE_RETRIES};
pub use digest::{Algorithm, ClientNonce, RequestInfo, authorization, response};

/// A username and password for one peer. `Debug` redacts the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username (the `username` parameter, or hashed with `userhash`).
    pub username: String,
    password: String,
}

impl Credentials {
    /// Credentials from a username and a password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// The challenge header does not parse.
    #[error("malformed challenge: {0}")]
    Syntax(#[from] SyntaxError),
    /// The response is not a 401/407, or carries no Digest challenge.
    #[error("no Digest challenge")]
    NoDigestChallenge,
    /// A Digest challenge without a required parameter.
    #[error("Digest challenge without {0}")]
    MissingParam(&'static str),
    /// Only algorithms this client does not implement are offered.
    #[error("unsupported Digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// Only qop values this client does not implement are offered.
    #[error("unsupported qop {0:?}")]
    UnsupportedQop(String),
    /// The realm challenged again without `stale=true`: the credentials are wrong.
    #[error("credentials rejected for realm {realm:?}")]
    Rejected {
        /// The realm that refused them.
        realm: String,
    },
    /// More `stale=true` challenges for one realm than [`MAX_STALE_RETRIES`].
    #[error("too many stale-nonce challenges for realm {realm:?}")]
    StaleLoop {
        /// The realm that keeps saying stale.
        realm: String,
    },
    /// A value to be sent contains a control character.
    #[error("{0} contains a control character")]
    InvalidCharacter(&'static str),
}

impl AuthError {
    /// The bounded metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Syntax(_) => "auth_challenge_syntax",
            AuthError::NoDigestChallenge => "auth_no_digest",
            AuthError::MissingParam(_) => "auth_challenge_incomplete",
            AuthError::UnsupportedAlgorithm(_) => "auth_unsupported_algorithm",
            AuthError::UnsupportedQop(_) => "auth_unsupported_qop",
            AuthError::Rejected { .. } => "auth_rejected",
            AuthError::StaleLoop { .. } => "auth_stale_loop",
            AuthError::InvalidCharacter(_) => "auth_invalid_character",
        }
    }
}
