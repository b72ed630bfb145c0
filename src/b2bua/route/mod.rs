//! Call routing (pure): picks where a new call goes from the configured `[[route]]` rules, the
//! peers and their health, and the Request-URI (RFC 3261 §19.1 SIP URIs, RFC 3966 `tel` numbers,
//! RFC 3261 §16.6 step 2 for the Request-URI rewrite). No sockets, no clock.
//!
//! Rules are tried in order. A rule matches when each of its conditions that is set holds:
//!
//! - `from_realm`: the realm the request arrived in (exact name);
//! - `from_peer`: the configured peer the request came from (requests from phones have none);
//! - `user_prefix`: the dialed user starts with it. The dialed user is the `sip:` user part (up
//!   to a `;` user parameter) or the `tel:` number; when it is a telephone number (`+`, digits,
//!   `*`, `#` and visual separators `-` `.` `(` `)`), the separators are removed first. The `+` is
//!   significant: `+49` matches `+4930…`, `49` does not;
//! - `domain`: the host of a `sip:`/`sips:` URI, case-insensitive, trailing dot ignored (a `tel:`
//!   URI has no host and never matches a rule with a domain).
//!
//! The matching rule's `strip`/`prepend` ([`Route::rewrite_user`]) turn the dialed user into the
//! user of the outgoing Request-URI (`strip` counts characters, `+` included; stripping more than
//! there is leaves only `prepend`; if nothing is left at all the answer is `484`).
//!
//! A peer target yields the peer's available addresses, in configured order, then those of the
//! rule's `failover_peers` in their order, as failover candidates (a call that gets 408/503, a
//! timeout or a transport error moves on to the next one while the caller has heard nothing). **If every address of that peer is down, routing continues with the next matching
//! rule** (a backup trunk written after the main one); it does not fall through for calls that
//! fail at run time, so an unrelated catch-all rule never receives them. A registered-users
//! target ends the search. [`NoRoute`] tells `404` (nothing matched) from `503` (matches, but
//! every target down) and carries the `Retry-After` estimate.

use std::net::IpAddr;
use std::time::Duration;

use thiserror::Error;

use super::health::HealthView;
use crate::config::address::PeerAddress;
use crate::config::model::{Peer, Route, RouteTarget};
use crate::sip::header::HeaderName;
use crate::sip::message::Header;
use crate::sip::uri::{Host, Uri};

/// `Retry-After` sent with `503` when no health entry gives a better estimate.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<'a> {
    /// The realm it arrived in.
    pub realm: &'a str,
    /// The configured peer it came from, if any.
    pub peer: Option<&'a str>,
}

/// One address to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The peer's name.
    pub peer: String,
    /// The address's index in the peer's address list (the health key).
    pub index: usize,
    /// Where to send.
    pub address: PeerAddress,
}

/// The outcome of routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteDecision {
    /// Send to a peer, trying the candidates in order.
    Peer {
        /// Index of the matching rule (for logs and call records).
        route: usize,
        /// The Request-URI user to send (after `strip`/`prepend`); `None` when the
        /// Request-URI has no user.
        user: Option<String>,
        /// Available addresses in failover order; never empty.
        candidates: Vec<Candidate>,
    },
    /// Deliver to the registered contacts of `user` in `realm`.
    Registered {
        /// Index of the matching rule.
        route: usize,
        /// The realm whose registrations are looked up.
        realm: String,
        /// The user (after `strip`/`prepend`).
        user: String,
    },
}

/// Why a request cannot be routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum NoRoute {
    /// No rule matches.
    #[error("no route matches")]
    NotFound,
    /// Rules match, but every address of every matching peer is down.
    #[error("every matching target is down")]
    Unavailable {
        /// How long the caller should wait before retrying.
        retry_after: Duration,
    },
    /// The matching rule's number manipulation left an empty user.
    #[error("number manipulation left an empty user")]
    AddressIncomplete,
}

impl NoRoute {
    /// The SIP status to answer with: 404, 503 (with `Retry-After`) or 484.
    pub fn status(&self) -> u16 {
        match self {
            NoRoute::NotFound => 404,
            NoRoute::Unavailable { .. } => 503,
            NoRoute::AddressIncomplete => 484,
        }
    }

    /// Headers the answer carries: `Retry-After` (whole seconds, at least 1) on a 503.
    pub fn headers(&self) -> Vec<Header> {
        match self {
            NoRoute::Unavailable { retry_after } => vec![Header::new(
                HeaderName::RetryAfter,
                bytes::Bytes::from(retry_after.as_secs().max(1).to_string()),
            )],
            _ => Vec::new(),
        }
    }

    /// The bounded metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            NoRoute::NotFound => "no_route",
            NoRoute::Unavailable { .. } => "targets_down",
            NoRoute::AddressIncomplete => "address_incomplete",
        }
    }
}

/// Routes a new request; see the module documentation for the rules.
pub fn route(
    routes: &[Route],
    peers: &[Peer],
    health: &impl HealthView,
    source: &Source<'_>,
    request_uri: &Uri,
) -> Result<RouteDecision, NoRoute> {
    let dialed = dialed_user(request_uri);
    let host = host_of(request_uri);
    let mut retry_after: Option<Duration> = None;
    let mut matched = false;
    for (index, rule) in routes.iter().enumerate() {
        if !matches(rule, source, dialed.as_deref(), host.as_ref()) {
            continue;
        }
        matched = true;
        let user = dialed.as_deref().map(|u| rule.rewrite_user(u));
        if user.as_deref() == Some("") {
            return Err(NoRoute::AddressIncomplete);
        }
        match &rule.target {
            RouteTarget::Registered { realm } => {
                // Without a user there is nobody to look up; a later rule may still match.
                let Some(user) = user else { continue };
                return Ok(RouteDecision::Registered {
                    route: index,
                    realm: realm.clone(),
                    user,
                });
            }
            RouteTarget::Peer(name) => {
                let (mut candidates, mut hint) = candidates(peers, health, name);
                for backup in &rule.failover_peers {
                    let (more, more_hint) = self::candidates(peers, health, backup);
                    candidates.extend(more);
                    hint = match (hint, more_hint) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                if !candidates.is_empty() {
                    return Ok(RouteDecision::Peer {
                        route: index,
                        user,
                        candidates,
                    });
                }
                retry_after = match (retry_after, hint) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
    }
    if matched {
        Err(NoRoute::Unavailable {
            retry_after: whole_seconds(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
        })
    } else {
        Err(NoRoute::NotFound)
    }
}

/// Whether a call attempt that ended with `status` (`None`: timeout or transport error) should
/// be retried at the next candidate: `408`, `503` and no response at all; any other final
/// response is the callee's answer and goes back to the caller.
pub fn should_failover(status: Option<u16>) -> bool {
    matches!(status, None | Some(408 | 503))
}

/// A cursor over a decision's candidates for one call: [`Iterator::next`] gives the first (and
/// each following) address; [`Failover::after`] the next one only if the last outcome warrants
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    candidates: Vec<Candidate>,
    next: usize,
}

impl Failover {
    /// A cursor before the first candidate.
    pub fn new(candidates: Vec<Candidate>) -> Self {
        Self {
            candidates,
            next: 0,
        }
    }

    /// The next candidate after an attempt ended with `status`, or `None` when the outcome is
    /// final ([`should_failover`] is false) or no candidate is left.
    pub fn after(&mut self, status: Option<u16>) -> Option<Candidate> {
        if should_failover(status) {
            self.next()
        } else {
            None
        }
    }

    /// How many candidates have not been handed out.
    pub fn remaining(&self) -> usize {
        self.candidates.len().saturating_sub(self.next)
    }
}

impl Iterator for Failover {
    type Item = Candidate;

    fn next(&mut self) -> Option<Candidate> {
        let candidate = self.candidates.get(self.next).cloned()?;
        self.next += 1;
        Some(candidate)
    }
}

/// Available addresses of peer `name`, and the soonest retry estimate of its down ones. A peer
/// that is not configured (validation prevents it) has neither.
fn candidates(
    peers: &[Peer],
    health: &impl HealthView,
    name: &str,
) -> (Vec<Candidate>, Option<Duration>) {
    let Some(peer) = peers.iter().find(|p| p.name == name) else {
        return (Vec::new(), None);
    };
    let mut list = Vec::new();
    let mut hint: Option<Duration> = None;
    for (index, address) in peer.addresses.iter().enumerate() {
        if health.is_available(name, index) {
            list.push(Candidate {
                peer: peer.name.clone(),
                index,
                address: address.clone(),
            });
        } else if let Some(h) = health.retry_after(name, index) {
            hint = Some(hint.map_or(h, |x| x.min(h)));
        }
    }
    (list, hint)
}

fn matches(rule: &Route, source: &Source<'_>, user: Option<&str>, host: Option<&UriHost>) -> bool {
    let realm_ok = rule.from_realm.as_deref().is_none_or(|r| r == source.realm);
    let peer_ok = rule
        .from_peer
        .as_deref()
        .is_none_or(|p| source.peer == Some(p));
    let prefix_ok = rule
        .user_prefix
        .as_deref()
        .is_none_or(|prefix| user.is_some_and(|u| u.starts_with(prefix)));
    let domain_ok = rule
        .domain
        .as_deref()
        .is_none_or(|d| host.is_some_and(|h| h.matches(d)));
    realm_ok && peer_ok && prefix_ok && domain_ok
}

/// The dialed user of a Request-URI, normalised for matching and rewriting: percent escapes
/// decoded, a `;` user parameter cut off a number, visual separators removed from a number.
fn dialed_user(uri: &Uri) -> Option<String> {
    let raw = match uri {
        Uri::Sip(sip) => {
            let user = percent_decode(sip.user.as_deref()?);
            match user.split_once(';') {
                Some((number, _)) if is_number(number) => number.to_owned(),
                _ => user,
            }
        }
        Uri::Tel(tel) => String::from_utf8_lossy(&tel.number).into_owned(),
        Uri::Other { .. } => return None,
    };
    Some(if is_number(&raw) {
        raw.chars().filter(|c| !is_visual_separator(*c)).collect()
    } else {
        raw
    })
}

fn is_visual_separator(c: char) -> bool {
    matches!(c, '-' | '.' | '(' | ')')
}

/// A telephone number: optional `+`, then digits, `*`, `#` and visual separators, with at least
/// one digit.
fn is_number(user: &str) -> bool {
    let body = user.strip_prefix('+').unwrap_or(user);
    body.chars().any(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#') || is_visual_separator(c))
}

/// Decodes `%HH` escapes; invalid escapes and non-UTF-8 results are kept/replaced lossily.
fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let hex = |j: usize| raw.get(j).and_then(|&h| char::from(h).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The host of a SIP URI, ready for comparison with a rule's `domain`.
enum UriHost {
    Ip(IpAddr),
    Name(String),
}

impl UriHost {
    /// Whether `domain` names this host: IP literals (IPv6 with or without brackets) compare as
    /// addresses, names case-insensitively without a trailing dot.
    fn matches(&self, domain: &str) -> bool {
        let unbracketed = domain
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(domain);
        match (self, unbracketed.parse::<IpAddr>()) {
            (UriHost::Ip(ip), Ok(want)) => *ip == want,
            (UriHost::Name(name), Err(_)) => {
                let want = domain.strip_suffix('.').unwrap_or(domain);
                name.eq_ignore_ascii_case(want)
            }
            _ => false,
        }
    }
}

fn host_of(uri: &Uri) -> Option<UriHost> {
    let sip = uri.as_sip()?;
    Some(match &sip.host {
        Host::Name(name) => {
            let name = String::from_utf8_lossy(name);
            UriHost::Name(name.strip_suffix('.').unwrap_or(&name).to_owned())
        }
        other => UriHost::Ip(other.ip()?),
    })
}

/// Rounds up to whole seconds (Retry-After has no fractions), at least one.
fn whole_seconds(d: Duration) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

#[cfg(test)]
mod tests;
