//! Evaluation (pure): `evaluate(&ctx, now) -> Decision` for every new request and
//! `admit_call` for every new call, over an immutable [`Policy`] and the counters held here
//! (limiters, violation scores, fraud counters, and the ban list shared with the receive tasks).
//!
//! Request order, after Kamailio's `REQINIT`: ban list → scanner User-Agent → rate limits.
//! Configured peers and `flood.exempt` networks are limited but never scored or banned.

use crate::policy::bans::{BanKey, Bans, Scores};
use crate::policy::fraud::{Admission, CallCtx, FindingAction, FraudCounters, Ticket};
use crate::policy::limits::{Check, LimitKey, Limiters, source_key};
use crate::policy::model::{LimitAction, LimitKeyKind, MethodClass, Policy};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the policy knows about a new request.
#[derive(Debug, Clone, Copy)]
pub struct RequestCtx<'a> {
    /// Realm it arrived on.
    pub realm: &'a str,
    /// Its source.
    pub source: SocketAddr,
    /// Whether the source flow carries a live registration.
    pub registered: bool,
    /// The configured peer it comes from.
    pub peer: Option<&'a str>,
    /// Its method class.
    pub method: MethodClass,
    /// Its User-Agent header.
    pub user_agent: Option<&'a [u8]>,
    /// The claimed user (From AOR; To AOR for REGISTER).
    pub user: Option<&'a str>,
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through.
    Accept,
    /// Drop it silently.
    Drop,
    /// Answer it with `status` (and Retry-After seconds when given).
    Reject {
        /// Status code.
        status: u16,
        /// Retry-After, seconds.
        retry_after: Option<u64>,
    },
}

/// What a decision did, for the security-event log and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventAction {
    /// Dropped.
    Drop,
    /// Refused with a response.
    Reject,
    /// Source banned.
    Ban,
    /// Warning threshold crossed.
    Warn,
    /// Shadow rule would have acted.
    Shadow,
    /// Call ended by the SBC.
    End,
}

impl EventAction {
    /// Bounded label.
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Drop => "drop",
            EventAction::Reject => "reject",
            EventAction::Ban => "ban",
            EventAction::Warn => "warn",
            EventAction::Shadow => "shadow",
            EventAction::End => "end",
        }
    }
}

/// One security event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Bounded label of what fired (`scanner`, `rate_limit`, `acl`, `concurrent`, …).
    pub kind: &'static str,
    /// The operator's rule name (or the kind).
    pub rule: Arc<str>,
    /// What was done.
    pub action: EventAction,
    /// Source of the request.
    pub source: SocketAddr,
    /// Claimed user.
    pub user: Option<String>,
    /// Dialled number.
    pub destination: Option<String>,
    /// Ban length, for bans.
    pub ban: Option<Duration>,
}

/// A verdict and the events it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to do.
    pub verdict: Verdict,
    /// What to log and count.
    pub events: Vec<Event>,
}

impl Decision {
    fn accept() -> Decision {
        Decision {
            verdict: Verdict::Accept,
            events: Vec::new(),
        }
    }
}

/// Sizes of the bounded tables, for gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sizes {
    /// Active bans.
    pub bans: usize,
    /// Keys across every rate limiter.
    pub limiter_keys: usize,
    /// Sources with a violation score.
    pub scored_sources: usize,
    /// Fraud counter keys.
    pub fraud_keys: usize,
}

/// The policy's mutable state.
pub struct Engine {
    limiters: Limiters,
    scores: Scores,
    fraud: FraudCounters,
    bans: Arc<Bans>,
}

/// Rate-limit keys held per limiter at most.
pub const MAX_LIMITER_KEYS: usize = 100_000;

impl Engine {
    /// State sharing `bans` with the receive tasks; `origin` is any instant before the first
    /// `now` passed in.
    pub fn new(bans: Arc<Bans>, origin: Instant) -> Engine {
        Engine {
            limiters: Limiters::new(origin, MAX_LIMITER_KEYS),
            scores: Scores::default(),
            fraud: FraudCounters::default(),
            bans,
        }
    }

    /// The shared ban list.
    pub fn bans(&self) -> &Arc<Bans> {
        &self.bans
    }

    fn exempt(policy: &Policy, source: SocketAddr, peer: bool) -> bool {
        peer || policy.flood.exempt.contains(source.ip())
    }

    /// Adds `points` to the source; bans it when its score reaches the threshold.
    fn score(
        &mut self,
        policy: &Policy,
        key: BanKey,
        points: u32,
        now: Instant,
        event: &Event,
        events: &mut Vec<Event>,
    ) {
        if let Some(length) = self.scores.add(&policy.flood, key, points, now) {
            self.bans.ban(key, now + length);
            events.push(Event {
                action: EventAction::Ban,
                ban: Some(length),
                ..event.clone()
            });
        }
    }

    /// Decides on a new request.
    pub fn evaluate(&mut self, policy: &Policy, ctx: &RequestCtx<'_>, now: Instant) -> Decision {
        if self.bans.is_banned(ctx.source, now) {
            return Decision {
                verdict: Verdict::Drop,
                events: Vec::new(),
            };
        }
        let exempt = Self::exempt(policy, ctx.source, ctx.peer.is_some());
        let ban_key = BanKey::of(ctx.source, ctx.registered);
        let event = |kind: &'static str, rule: &Arc<str>, action| Event {
            kind,
            rule: Arc::clone(rule),
            action,
            source: ctx.source,
            user: ctx.user.map(str::to_owned),
            destination: None,
            ban: None,
        };
        if let Some(pattern) = ctx
            .user_agent
            .and_then(|ua| policy.scanner.patterns.find(ua))
        {
            let (verdict, action) = if policy.scanner.reject {
                (
                    Verdict::Reject {
                        status: 403,
                        retry_after: None,
                    },
                    EventAction::Reject,
                )
            } else {
                (Verdict::Drop, EventAction::Drop)
            };
            let e = event("scanner", &Arc::from(pattern), action);
            let mut events = vec![e.clone()];
            if !exempt {
                let points = policy.flood.scores.scanner;
                self.score(policy, ban_key, points, now, &e, &mut events);
            }
            return Decision { verdict, events };
        }
        let mut events = Vec::new();
        for rule in policy
            .rate_limits
            .iter()
            .filter(|r| r.applies(ctx.method, ctx.realm))
        {
            let key = match rule.key {
                LimitKeyKind::Source => source_key(ctx.source, ctx.registered),
                LimitKeyKind::User => match ctx.user {
                    Some(u) => LimitKey::Name(u.into()),
                    None => continue,
                },
                LimitKeyKind::Peer => match ctx.peer {
                    Some(p) => LimitKey::Name(p.into()),
                    None => continue,
                },
                LimitKeyKind::Realm => LimitKey::Name(ctx.realm.into()),
            };
            let Check::Limited(wait) = self.limiters.check(rule, key, now) else {
                continue;
            };
            if rule.shadow {
                events.push(event("rate_limit", &rule.name, EventAction::Shadow));
                continue;
            }
            let (verdict, action) = match rule.action {
                LimitAction::Reject => (
                    Verdict::Reject {
                        status: 503,
                        retry_after: Some(wait.as_secs_f64().ceil().max(1.0) as u64),
                    },
                    EventAction::Reject,
                ),
                LimitAction::Drop => (Verdict::Drop, EventAction::Drop),
            };
            let e = event("rate_limit", &rule.name, action);
            events.push(e.clone());
            if !exempt {
                let points = policy.flood.scores.rate_limited;
                self.score(policy, ban_key, points, now, &e, &mut events);
            }
            return Decision { verdict, events };
        }
        if events.is_empty() {
            Decision::accept()
        } else {
            Decision {
                verdict: Verdict::Accept,
                events,
            }
        }
    }

    /// Decides on a new call (before routing) and counts it when admitted.
    pub fn admit_call(
        &mut self,
        policy: &Policy,
        ctx: &CallCtx<'_>,
        now: Instant,
    ) -> (Admission, Vec<Event>) {
        let admission = self.fraud.admit(&policy.fraud, ctx, now);
        let mut events = Vec::new();
        for f in &admission.findings {
            let e = Event {
                kind: f.kind,
                rule: Arc::clone(&f.rule),
                action: match f.action {
                    FindingAction::Warn => EventAction::Warn,
                    FindingAction::Shadow => EventAction::Shadow,
                    FindingAction::Reject => EventAction::Reject,
                },
                source: ctx.source,
                user: ctx.user.map(str::to_owned),
                destination: ctx.destination.map(str::to_owned),
                ban: None,
            };
            events.push(e.clone());
            if f.action == FindingAction::Reject
                && !Self::exempt(policy, ctx.source, ctx.peer.is_some())
            {
                let key = BanKey::of(ctx.source, false);
                let points = policy.flood.scores.fraud;
                self.score(policy, key, points, now, &e, &mut events);
            }
        }
        (admission, events)
    }

    /// Releases what an ended call held (every end path calls this exactly once).
    pub fn call_ended(&mut self, ticket: Ticket) {
        self.fraud.release(ticket);
    }

    /// An authentication failed for `source` (a 403, or a 401/407 to credentials): scores it
    /// (possibly banning it).
    pub fn auth_failure(
        &mut self,
        policy: &Policy,
        source: SocketAddr,
        registered: bool,
        peer: bool,
        now: Instant,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        if Self::exempt(policy, source, peer) {
            return events;
        }
        let e = Event {
            kind: "auth_failure",
            rule: Arc::from("auth_failure"),
            action: EventAction::Ban,
            source,
            user: None,
            destination: None,
            ban: None,
        };
        let points = policy.flood.scores.auth_failure;
        self.score(
            policy,
            BanKey::of(source, registered),
            points,
            now,
            &e,
            &mut events,
        );
        events
    }

    /// Concurrent calls counted under fraud rule `rule` for `key`.
    pub fn concurrent(&self, rule: &str, key: &str) -> u32 {
        self.fraud.concurrent(rule, key)
    }

    /// Expires bans, prunes limiters, scores and fraud windows; returns the table sizes.
    pub fn housekeeping(&mut self, policy: &Policy, now: Instant) -> Sizes {
        let bans = self.bans.expire(now);
        self.limiters.prune(&policy.rate_limits, now);
        self.scores.prune(&policy.flood, now);
        self.fraud.prune(&policy.fraud, now);
        self.sizes_with(bans)
    }

    fn sizes_with(&self, bans: usize) -> Sizes {
        Sizes {
            bans,
            limiter_keys: self.limiters.keys(),
            scored_sources: self.scores.len(),
            fraud_keys: self.fraud.keys(),
        }
    }

    /// Current table sizes.
    pub fn sizes(&self) -> Sizes {
        self.sizes_with(self.bans.len())
    }
}
