//! The SBC registering itself with a trunk (pure): one registration per peer with a
//! `[peers.registration]` section — REGISTER with the SBC's Contact on the peer's realm, digest
//! challenges answered with the peer's credentials, refresh before the granted lifetime runs out,
//! `423 Interval Too Brief` honoured (RFC 3261 §10.2.8), and failures retried with exponential
//! backoff (or the server's `Retry-After`). No sockets and no clock: the shell passes `now`, a
//! branch for each request and sends what [`Registrant::poll_request`] returns.
//!
//! One Call-ID and a rising CSeq for the registration's whole life (RFC 3261 §10.2.4). Each
//! refresh starts with no credentials and answers the challenge it gets, so no nonce is
//! reused past the server's wishes.

mod shell;
#[cfg(test)]
mod tests;

pub(crate) use shell::Registrants;

use crate::b2bua::call::LegIdentity;
use crate::b2bua::random::{encode, hex};
use crate::b2bua::request;
use crate::sip::auth::{Credentials, DigestClient, RequestInfo};
use crate::sip::header::{CSeq, HeaderName, NameAddr, Via};
use crate::sip::message::{Header, Message};
use crate::sip::method::Method;
use crate::sip::uri::{Host, SipUri, Uri};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// The longest backoff between failed attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(600);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Where the registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A REGISTER is due at this time.
    Due(Instant),
    /// A REGISTER is in flight.
    Pending,
    /// Waiting after a failure.
    Backoff(Instant),
}

/// What a response did to the registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A provisional response: still waiting.
    Provisional,
    /// Registered for `expires`; a refresh is scheduled.
    Registered {
        /// The lifetime the registrar granted.
        expires: Duration,
    },
    /// Challenged (or asked for a longer lifetime): a new REGISTER is due at once.
    Retry,
    /// Failed with `status` (`None`: no response); the next attempt waits `retry_in`.
    Failed {
        /// The final status, if a response came.
        status: Option<u16>,
        /// Delay before the next attempt.
        retry_in: Duration,
    },
}

/// One registration of the SBC with a peer.
#[derive(Debug)]
pub struct Registrant {
    aor: Uri,
    request_uri: Uri,
    user: Bytes,
    expires: Duration,
    retry: Duration,
    credentials: Option<Credentials>,
    call_id: Bytes,
    from_tag: Bytes,
    cseq: u32,
    auth: DigestClient,
    /// The last REGISTER sent (for the digest `uri` and the next attempt's credentials).
    last_uri: String,
    phase: Phase,
    failures: u32,
    registered_until: Option<Instant>,
    secret: [u8; 16],
    counter: u32,
}

impl Registrant {
    /// A registration of `user@domain`, due at once. `secret` makes the Call-ID, tag and
    /// client nonces (from the system's random source, once per registration).
    pub fn new(
        user: &str,
        domain: Host,
        expires: Duration,
        retry: Duration,
        credentials: Option<Credentials>,
        secret: [u8; 16],
        now: Instant,
    ) -> Registrant {
        let user = Bytes::from(user.to_owned());
        let mut aor = SipUri::new(domain.clone(), None);
        aor.set_user(Some(user.clone()));
        Registrant {
            aor: Uri::Sip(aor),
            request_uri: Uri::Sip(SipUri::new(domain, None)),
            user,
            expires,
            retry,
            credentials,
            call_id: Bytes::from(hex(&secret[..12])),
            from_tag: Bytes::from(hex(&secret[12..])),
            cseq: 0,
            auth: DigestClient::new(),
            last_uri: String::new(),
            phase: Phase::Due(now),
            failures: 0,
            registered_until: None,
            secret,
            counter: 0,
        }
    }

    /// When the registration next needs the shell (`None` while a REGISTER is in flight).
    pub fn next_due(&self) -> Option<Instant> {
        match self.phase {
            Phase::Due(at) | Phase::Backoff(at) => Some(at),
            Phase::Pending => None,
        }
    }

    /// Whether the registrar holds a binding now (a refresh in flight or failing does not end
    /// one that has not expired).
    pub fn is_registered(&self, now: Instant) -> bool {
        self.registered_until.is_some_and(|until| now < until)
    }

    /// The REGISTER to send now, if one is due: from `local` (the SBC on the peer's realm) with
    /// a Via `branch`.
    pub fn poll_request(
        &mut self,
        local: &LegIdentity,
        branch: Bytes,
        user_agent: &Bytes,
        now: Instant,
    ) -> Option<Message> {
        if self.next_due().is_none_or(|at| at > now) {
            return None;
        }
        self.phase = Phase::Pending;
        self.cseq += 1;
        self.last_uri = self.request_uri.to_string();
        let via = Via::new(
            local.transport.clone(),
            local.host.clone(),
            local.port,
            branch,
        );
        let mut from = NameAddr::new(self.aor.clone());
        from.set_tag(self.from_tag.clone());
        let mut contact = match &local.contact {
            Uri::Sip(uri) => uri.clone(),
            _ => SipUri::new(local.host.clone(), local.port),
        };
        contact.set_user(Some(self.user.clone()));
        let to = NameAddr::new(self.aor.clone());
        let cseq = CSeq::new(self.cseq, Method::Register);
        let mut headers = request::base_headers(&via, &from, &to, self.call_id.clone(), &cseq);
        headers.push(Header::new(
            HeaderName::Contact,
            encode(&NameAddr::new(Uri::Sip(contact)), NameAddr::write_to),
        ));
        headers.push(Header::new(
            HeaderName::Expires,
            Bytes::from(self.expires.as_secs().to_string()),
        ));
        for answer in self.auth.answers() {
            headers.push(Header::new(answer.header, answer.value.clone()));
        }
        Some(request::finish(
            Method::Register,
            &self.request_uri,
            headers,
            user_agent,
        ))
    }

    /// Takes the response to the REGISTER in flight.
    pub fn on_response(&mut self, response: &Message, now: Instant) -> Outcome {
        let status = response.status().unwrap_or(500);
        match status {
            100..=199 => Outcome::Provisional,
            200..=299 => {
                let granted = self.granted(response);
                self.registered_until = Some(now + granted);
                self.failures = 0;
                self.auth = DigestClient::new();
                self.phase = Phase::Due(now + refresh_delay(granted));
                Outcome::Registered { expires: granted }
            }
            401 | 407 if self.answer(response) => {
                self.phase = Phase::Due(now);
                Outcome::Retry
            }
            423 => match min_expires(response) {
                Some(min) if min > self.expires && min <= Duration::from_secs(86_400) => {
                    self.expires = min;
                    self.phase = Phase::Due(now);
                    Outcome::Retry
                }
                _ => self.fail(Some(status), retry_after(response), now),
            },
            _ => self.fail(Some(status), retry_after(response), now),
        }
    }

    /// The REGISTER in flight got no response (timeout or transport error).
    pub fn on_no_response(&mut self, now: Instant) -> Outcome {
        self.fail(None, None, now)
    }

    fn fail(&mut self, status: Option<u16>, after: Option<Duration>, now: Instant) -> Outcome {
        let shift = self.failures.min(10);
        self.failures = self.failures.saturating_add(1);
        let backoff = self.retry.saturating_mul(1 << shift).min(MAX_RETRY);
        let retry_in = after.map_or(backoff, |a| a.min(MAX_RETRY_AFTER));
        self.auth = DigestClient::new();
        self.phase = Phase::Backoff(now + retry_in);
        Outcome::Failed { status, retry_in }
    }

    /// Answers a challenge; false when there are no credentials or they were rejected.
    fn answer(&mut self, response: &Message) -> bool {
        let Some(credentials) = &self.credentials else {
            return false;
        };
        self.counter = self.counter.wrapping_add(1);
        let mut random = [0u8; 16];
        random[..12].copy_from_slice(&self.secret[4..]);
        random[12..].copy_from_slice(&self.counter.to_be_bytes());
        let request = RequestInfo {
            method: "REGISTER",
            uri: &self.last_uri,
            body: b"",
        };
        self.auth
            .on_response(response, credentials, &request, &random)
            .is_ok()
    }

    /// The lifetime granted: our Contact's `expires` in the 2xx, else its `Expires` header,
    /// else what was asked (RFC 3261 §10.2.4).
    fn granted(&self, response: &Message) -> Duration {
        let ours = response.contacts().ok().and_then(|contacts| {
            contacts.iter().find_map(|c| {
                let addr = c.addr()?;
                match &addr.uri {
                    Uri::Sip(uri) if uri.user.as_ref() == Some(&self.user) => c.expires(),
                    _ => None,
                }
            })
        });
        let header = response.expires().ok().flatten().map(|e| e.0);
        match ours.or(header) {
            Some(0) | None => self.expires,
            Some(secs) => Duration::from_secs(u64::from(secs)),
        }
    }
}

/// When to refresh a registration granted for `granted`: a minute before it runs out, or half
/// way for short ones.
fn refresh_delay(granted: Duration) -> Duration {
    if granted > Duration::from_secs(120) {
        granted - Duration::from_secs(60)
    } else {
        granted / 2
    }
}

fn min_expires(response: &Message) -> Option<Duration> {
    let value = response.headers.get(HeaderName::MinExpires)?;
    let secs = std::str::from_utf8(value)
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(Duration::from_secs(secs))
}

fn retry_after(response: &Message) -> Option<Duration> {
    let value = response.headers.get(HeaderName::RetryAfter)?;
    let text = std::str::from_utf8(value).ok()?;
    let secs = text
        .split([';', '(', ' '])
        .next()?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(Duration::from_secs(secs))
}
