//! Answering challenges across retries of one request (pure): RFC 3261 §22.2 and §22.3 (retry
//! with credentials and a higher CSeq; a proxy's `407` and the UAS's `401` may both need
//! answers), RFC 7616 §3.3 (`stale`) and §3.4 (`nc`).
//!
//! Answers are kept per header and realm. A realm that challenges again without `stale=true` after being answered has rejected the
//! credentials: [`DigestClient`] gives up with [`AuthError::Rejected`] rather than loop (this
//! also covers a server that re-issues the same nonce). `stale=true` is answered with the new
//! nonce at most [`MAX_STALE_RETRIES`] times per realm.

use super::challenge::{parse_challenges, select};
use super::digest::{ClientNonce, RequestInfo, authorization, hex};
use super::{AuthError, Credentials};
use crate::sip::header::HeaderName;
use crate::sip::message::Message;

/// How many `stale=true` challenges per realm are answered before giving up.
pub const MAX_STALE_RETRIES: u32 = 2;

/// Who challenged: the UAS (`401`, `WWW-Authenticate`) or a proxy (`407`,
/// `Proxy-Authenticate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// `401 Unauthorized`.
    Www,
    /// `407 Proxy Authentication Required`.
    Proxy,
}

impl ChallengeKind {
    /// The kind of a response status; `None` unless 401 or 407.
    pub fn from_status(status: u16) -> Option<ChallengeKind> {
        match status {
            401 => Some(ChallengeKind::Www),
            407 => Some(ChallengeKind::Proxy),
            _ => None,
        }
    }

    /// The header carrying the challenges.
    pub fn challenge_header(self) -> HeaderName {
        match self {
            ChallengeKind::Www => HeaderName::WwwAuthenticate,
            ChallengeKind::Proxy => HeaderName::ProxyAuthenticate,
        }
    }

    /// The header carrying the answer.
    pub fn credentials_header(self) -> HeaderName {
        match self {
            ChallengeKind::Www => HeaderName::Authorization,
            ChallengeKind::Proxy => HeaderName::ProxyAuthorization,
        }
    }
}

/// One credentials header to put on the retried request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `Authorization` or `Proxy-Authorization`.
    pub header: HeaderName,
    /// Its value.
    pub value: String,
    /// The realm answered.
    pub realm: String,
    nonce: String,
    nc: u32,
    stale_retries: u32,
}

/// The answers of one request (an INVITE or REGISTER and its authenticated retries).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestClient {
    answers: Vec<Answer>,
}

impl DigestClient {
    /// A client that has answered nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers a 401/407 response to `request`: returns every credentials header the retry
    /// must carry (earlier answers for other realms included), or why it must not be retried.
    /// `random` becomes the client nonce (hex).
    pub fn on_response(
        &mut self,
        response: &Message,
        credentials: &Credentials,
        request: &RequestInfo<'_>,
        random: &[u8; 16],
    ) -> Result<&[Answer], AuthError> {
        let kind = response
            .status()
            .and_then(ChallengeKind::from_status)
            .ok_or(AuthError::NoDigestChallenge)?;
        let values = response
            .headers
            .get_all(kind.challenge_header())
            .map(|v| v.as_ref());
        let challenges = parse_challenges(values)?;
        let challenge = select(&challenges)?;
        let cnonce = hex(random);
        let header = kind.credentials_header();
        let previous = self
            .answers
            .iter()
            .position(|a| a.header == header && a.realm == challenge.realm);
        let (nc, stale_retries) = match previous.and_then(|i| self.answers.get(i)) {
            None => (1, 0),
            Some(_) if !challenge.stale => {
                return Err(AuthError::Rejected {
                    realm: challenge.realm,
                });
            }
            Some(prev) if prev.stale_retries >= MAX_STALE_RETRIES => {
                return Err(AuthError::StaleLoop {
                    realm: challenge.realm,
                });
            }
            Some(prev) if prev.nonce == challenge.nonce => {
                (prev.nc.saturating_add(1), prev.stale_retries + 1)
            }
            Some(prev) => (1, prev.stale_retries + 1),
        };
        let client = ClientNonce {
            cnonce: &cnonce,
            nc,
        };
        let value = authorization(&challenge, credentials, request, &client)?;
        let answer = Answer {
            header,
            value,
            realm: challenge.realm,
            nonce: challenge.nonce,
            nc,
            stale_retries,
        };
        match previous.and_then(|i| self.answers.get_mut(i)) {
            Some(slot) => *slot = answer,
            None => self.answers.push(answer),
        }
        Ok(&self.answers)
    }

    /// The credentials headers answered so far.
    pub fn answers(&self) -> &[Answer] {
        &self.answers
    }
}
