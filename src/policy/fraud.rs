//! Toll-fraud admission of new calls (pure: `now` and wall-clock seconds come in).
//!
//! Destination deny lists and per realm/user allow lists first, then every `[[fraud.rules]]`
//! rule in scope (realm, source peer, destination prefix, day and time window): calls per
//! minute and per day over sliding windows, concurrent calls, repeated calls to one number, and
//! the longest duration. Each rule has a warning threshold (a finding, the call proceeds) and a
//! critical one (403 with the rule's reason, or the call is ended for `duration`); a shadow rule
//! only reports. Counters are kept by rule name and key outside the immutable policy; a call
//! admitted holds a [`Ticket`] that releases its concurrency counters exactly once when it ends.

use crate::policy::limits::aggregate;
use crate::policy::model::{Fraud, FraudKey, FraudKind, FraudRule};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the policy knows about a new call.
#[derive(Debug, Clone, Copy)]
pub struct CallCtx<'a> {
    /// Realm the INVITE arrived on.
    pub realm: &'a str,
    /// Its source.
    pub source: SocketAddr,
    /// The configured peer it came from.
    pub peer: Option<&'a str>,
    /// The calling user (From AOR).
    pub user: Option<&'a str>,
    /// The dialled number (Request-URI user).
    pub destination: Option<&'a str>,
    /// Wall-clock seconds since the Unix epoch (UTC), for day and time windows.
    pub unix_secs: i64,
}

/// How a finding was acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingAction {
    /// Over a warning threshold: reported only.
    Warn,
    /// A shadow rule's critical threshold: reported only.
    Shadow,
    /// Refused with 403.
    Reject,
}

/// One rule that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule name (`deny_prefixes` and `allow` for the lists).
    pub rule: Arc<str>,
    /// Bounded label of what fired.
    pub kind: &'static str,
    /// What was done.
    pub action: FindingAction,
    /// Reason phrase (for a refusal).
    pub reason: Arc<str>,
}

/// Concurrency counters a live call holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ticket {
    held: Vec<(Arc<str>, String)>,
}

/// The outcome of admission.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    /// The refusal, when the call is refused.
    pub refused: Option<Finding>,
    /// Warnings and shadow hits (and the refusal).
    pub findings: Vec<Finding>,
    /// Counters to release when the call ends.
    pub ticket: Ticket,
    /// Longest duration after the answer, and its warning point.
    pub max_duration: Option<(Duration, Option<Duration>, Arc<str>)>,
}

/// Fraud counters, owned by the signaling task.
#[derive(Debug, Default)]
pub struct FraudCounters {
    windows: HashMap<(Arc<str>, String), VecDeque<Instant>>,
    concurrent: HashMap<(Arc<str>, String), u32>,
}

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

fn window_of(rule: &FraudRule) -> Duration {
    match rule.kind {
        FraudKind::CallsPerMinute => MINUTE,
        FraudKind::CallsPerDay => DAY,
        _ => rule.window,
    }
}

/// Whether `rule` is in force at local time `unix_secs + offset`.
fn in_window(rule: &FraudRule, local: i64) -> bool {
    let day = local.div_euclid(86_400);
    // 1970-01-01 was a Thursday; bit 0 is Monday.
    let weekday = (day + 3).rem_euclid(7) as u8;
    if rule.days != 0 && rule.days & (1 << weekday) == 0 {
        return false;
    }
    let minute = (local.rem_euclid(86_400) / 60) as u32;
    match rule.hours {
        None => true,
        Some((from, to)) if from <= to => (from..to).contains(&minute),
        Some((from, to)) => minute >= from || minute < to,
    }
}

fn applies(rule: &FraudRule, ctx: &CallCtx<'_>, local: i64) -> bool {
    (rule.realms.is_empty() || rule.realms.iter().any(|r| r == ctx.realm))
        && (rule.peers.is_empty() || ctx.peer.is_some_and(|p| rule.peers.iter().any(|r| r == p)))
        && (rule.prefixes.is_empty() || ctx.destination.is_some_and(|d| rule.prefixes.matches(d)))
        && in_window(rule, local)
}

fn key_of(rule: &FraudRule, ctx: &CallCtx<'_>) -> Option<String> {
    let base = match rule.key {
        FraudKey::User => ctx.user?.to_owned(),
        FraudKey::Peer => ctx.peer?.to_owned(),
        FraudKey::Source => aggregate(ctx.source.ip()).to_string(),
        FraudKey::Prefix => rule.prefixes.longest_match(ctx.destination?)?.to_owned(),
        FraudKey::Realm => ctx.realm.to_owned(),
    };
    Some(match rule.kind {
        FraudKind::Repeated => format!(
            "{base}\u{1f}{}",
            crate::policy::sets::normalize_number(ctx.destination?)
        ),
        _ => base,
    })
}

fn refusal(rule: &str, kind: &'static str, reason: &str) -> Finding {
    Finding {
        rule: Arc::from(rule),
        kind,
        action: FindingAction::Reject,
        reason: Arc::from(reason),
    }
}

impl FraudCounters {
    /// Decides on a new call and, when it is admitted, counts it.
    pub fn admit(&mut self, fraud: &Fraud, ctx: &CallCtx<'_>, now: Instant) -> Admission {
        let mut out = Admission::default();
        if let Some(dest) = ctx.destination {
            if fraud.deny.matches(dest) {
                let f = refusal(
                    "deny_prefixes",
                    "destination_denied",
                    "Destination Not Allowed",
                );
                out.findings.push(f.clone());
                out.refused = Some(f);
                return out;
            }
        }
        let mut lists = fraud.allow.iter().filter(|a| {
            (a.realms.is_empty() || a.realms.iter().any(|r| r == ctx.realm))
                && (a.users.is_empty() || ctx.user.is_some_and(|u| a.users.iter().any(|x| x == u)))
        });
        let first = lists.next();
        if let Some(first) = first {
            let allowed = ctx
                .destination
                .is_some_and(|d| first.prefixes.matches(d) || lists.any(|a| a.prefixes.matches(d)));
            if !allowed {
                let f = refusal(
                    "allow",
                    "destination_not_allowed",
                    "Destination Not Allowed",
                );
                out.findings.push(f.clone());
                out.refused = Some(f);
                return out;
            }
        }
        let local = ctx.unix_secs + fraud.utc_offset_secs;
        let mut counted = Vec::new();
        for rule in fraud.rules.iter().filter(|r| applies(r, ctx, local)) {
            let Some(key) = key_of(rule, ctx) else {
                continue;
            };
            let n = match rule.kind {
                FraudKind::Duration => {
                    let limit = Duration::from_secs(u64::from(rule.limit));
                    let warn = rule.warn.map(|w| Duration::from_secs(u64::from(w)));
                    if !rule.shadow && out.max_duration.as_ref().is_none_or(|m| limit < m.0) {
                        out.max_duration = Some((limit, warn, Arc::clone(&rule.name)));
                    }
                    continue;
                }
                FraudKind::Concurrent => {
                    let id = (Arc::clone(&rule.name), key);
                    let n = self.concurrent.get(&id).copied().unwrap_or(0) + 1;
                    counted.push((rule, id, true));
                    n
                }
                _ => {
                    let id = (Arc::clone(&rule.name), key);
                    let window = window_of(rule);
                    let n = self.windows.get_mut(&id).map_or(0, |q| {
                        while q
                            .front()
                            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
                        {
                            q.pop_front();
                        }
                        q.len()
                    }) as u32
                        + 1;
                    counted.push((rule, id, false));
                    n
                }
            };
            let action = if n > rule.limit {
                if rule.shadow {
                    FindingAction::Shadow
                } else {
                    FindingAction::Reject
                }
            } else if rule.warn.is_some_and(|w| n > w) {
                FindingAction::Warn
            } else {
                continue;
            };
            let finding = Finding {
                rule: Arc::clone(&rule.name),
                kind: rule.kind.label(),
                action,
                reason: Arc::clone(&rule.reason),
            };
            out.findings.push(finding.clone());
            if action == FindingAction::Reject {
                out.refused = Some(finding);
                return out;
            }
        }
        for (rule, id, concurrent) in counted {
            if concurrent {
                *self.concurrent.entry(id.clone()).or_insert(0) += 1;
                out.ticket.held.push(id);
            } else {
                if !self.windows.contains_key(&id) && self.windows.len() >= fraud.max_keys {
                    self.prune(fraud, now);
                    if self.windows.len() >= fraud.max_keys {
                        continue;
                    }
                }
                let q = self.windows.entry(id).or_default();
                q.push_back(now);
                // Only whether the count exceeds the limit matters: keep limit + 1 at most.
                while q.len() > rule.limit as usize + 1 {
                    q.pop_front();
                }
            }
        }
        out
    }

    /// Releases what an ended call held.
    pub fn release(&mut self, ticket: Ticket) {
        for id in ticket.held {
            if let Some(n) = self.concurrent.get_mut(&id) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.concurrent.remove(&id);
                }
            }
        }
    }

    /// Forgets window entries that left their window and keys of rules that are gone.
    pub fn prune(&mut self, fraud: &Fraud, now: Instant) {
        self.windows.retain(|(name, _), q| {
            let Some(rule) = fraud.rules.iter().find(|r| &r.name == name) else {
                return false;
            };
            let window = window_of(rule);
            while q
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= window)
            {
                q.pop_front();
            }
            !q.is_empty()
        });
    }

    /// Calls currently counted under `rule` and `key`.
    pub fn concurrent(&self, rule: &str, key: &str) -> u32 {
        self.concurrent
            .iter()
            .find(|((r, k), _)| &**r == rule && k == key)
            .map_or(0, |(_, n)| *n)
    }

    /// Keys held (windows and concurrency together).
    pub fn keys(&self) -> usize {
        self.windows.len() + self.concurrent.len()
    }
}
