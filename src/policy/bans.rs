//! Violation scoring and temporary bans (pure: time comes in as `now`).
//!
//! [`Scores`] belongs to the signaling task: each violation adds points to its source; reaching
//! the policy's `ban_score` bans the source, for `ban_secs` the first time and twice as long on
//! every repeat (up to `max_ban_secs`). [`Bans`] is shared with the receive tasks, which drop a
//! banned source's packets before parsing them. A source is its IP (IPv6 per /64), or its IP and
//! port when the flow carries a live registration, so one noisy phone behind an office NAT does
//! not ban its neighbours.

use crate::policy::limits::aggregate;
use crate::policy::model::Flood;
use dashmap::DashMap;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What a ban or a score applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BanKey {
    /// Every port of an IP (IPv6: of a /64).
    Ip(std::net::IpAddr),
    /// One IP and port.
    Flow(SocketAddr),
}

impl std::fmt::Display for BanKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BanKey::Ip(ip) => write!(f, "{ip}"),
            BanKey::Flow(flow) => write!(f, "{flow}"),
        }
    }
}

impl BanKey {
    /// Parses the text form: `ip` (every port; IPv6 is aggregated to its /64) or `ip:port` /
    /// `[ipv6]:port` (one flow).
    pub fn parse(text: &str) -> Option<BanKey> {
        if let Ok(flow) = text.parse::<SocketAddr>() {
            return Some(BanKey::Flow(flow));
        }
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| BanKey::Ip(aggregate(ip)))
    }

    /// The key of `source`: its flow when registered, else its (aggregated) IP.
    pub fn of(source: SocketAddr, registered: bool) -> BanKey {
        if registered {
            BanKey::Flow(source)
        } else {
            BanKey::Ip(aggregate(source.ip()))
        }
    }
}

/// Active bans, shared between the signaling task and the receive tasks.
#[derive(Debug, Default)]
pub struct Bans {
    until: DashMap<BanKey, Instant>,
}

impl Bans {
    /// Whether packets from `remote` are dropped at `now`.
    pub fn is_banned(&self, remote: SocketAddr, now: Instant) -> bool {
        if self.until.is_empty() {
            return false;
        }
        [BanKey::Ip(aggregate(remote.ip())), BanKey::Flow(remote)]
            .iter()
            .any(|k| self.until.get(k).is_some_and(|t| *t > now))
    }

    /// Bans `key` until `until`.
    pub fn ban(&self, key: BanKey, until: Instant) {
        self.until.insert(key, until);
    }

    /// Lifts every ban over at `now`; returns how many remain.
    pub fn expire(&self, now: Instant) -> usize {
        self.until.retain(|_, t| *t > now);
        self.until.len()
    }

    /// The bans in force at `now`, with the time each has left, longest first.
    pub fn list(&self, now: Instant) -> Vec<(BanKey, Duration)> {
        let mut list: Vec<(BanKey, Duration)> = self
            .until
            .iter()
            .filter(|e| *e.value() > now)
            .map(|e| (*e.key(), *e.value() - now))
            .collect();
        list.sort_by_key(|b| std::cmp::Reverse(b.1));
        list
    }

    /// Lifts the ban on `key`; whether there was one.
    pub fn lift(&self, key: &BanKey) -> bool {
        self.until.remove(key).is_some()
    }

    /// Lifts every ban; how many there were.
    pub fn clear(&self) -> usize {
        let n = self.until.len();
        self.until.clear();
        n
    }

    /// Active bans (expired ones count until the next [`Bans::expire`]).
    pub fn len(&self) -> usize {
        self.until.len()
    }

    /// Whether no ban is held.
    pub fn is_empty(&self) -> bool {
        self.until.is_empty()
    }
}

#[derive(Debug, Clone, Copy)]
struct Score {
    points: u32,
    last: Instant,
    offences: u32,
    /// When the last ban ends; repeats after it escalate.
    banned_until: Option<Instant>,
}

/// Per-source violation scores, owned by the signaling task.
#[derive(Debug, Default)]
pub struct Scores {
    by_key: HashMap<BanKey, Score>,
}

impl Scores {
    /// Adds `points` to `key`; returns the ban length when this bans it.
    pub fn add(
        &mut self,
        flood: &Flood,
        key: BanKey,
        points: u32,
        now: Instant,
    ) -> Option<Duration> {
        if points == 0 {
            return None;
        }
        if !self.by_key.contains_key(&key) && self.by_key.len() >= flood.max_sources {
            self.prune(flood, now);
            if self.by_key.len() >= flood.max_sources {
                return None;
            }
        }
        let s = self.by_key.entry(key).or_insert(Score {
            points: 0,
            last: now,
            offences: 0,
            banned_until: None,
        });
        if now.saturating_duration_since(s.last) > flood.score_window {
            s.points = 0;
        }
        s.last = now;
        s.points = s.points.saturating_add(points);
        if s.points < flood.ban_score || s.banned_until.is_some_and(|t| t > now) {
            return None;
        }
        let factor = 1u32.checked_shl(s.offences.min(20)).unwrap_or(u32::MAX);
        let length = flood.ban.saturating_mul(factor).min(flood.max_ban);
        s.offences += 1;
        s.points = 0;
        s.banned_until = Some(now + length);
        Some(length)
    }

    /// Forgets sources idle for longer than both the score window and the longest ban (their
    /// escalation history goes with them).
    pub fn prune(&mut self, flood: &Flood, now: Instant) {
        let keep = flood.score_window.max(flood.max_ban);
        self.by_key.retain(|_, s| {
            let end = s.banned_until.map_or(s.last, |t| t.max(s.last));
            now.saturating_duration_since(end) <= keep
        });
    }

    /// Sources tracked.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether none is tracked.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_bans_and_escalates() {
        let t0 = crate::policy::testing::t0();
        let flood = Flood::default();
        let mut scores = Scores::default();
        let key = BanKey::Ip("192.0.2.1".parse().unwrap());
        for _ in 0..9 {
            assert_eq!(scores.add(&flood, key, 1, t0), None);
        }
        assert_eq!(
            scores.add(&flood, key, 1, t0),
            Some(Duration::from_secs(60))
        );
        // During the ban, violations do not ban again.
        assert_eq!(
            scores.add(&flood, key, 10, t0 + Duration::from_secs(1)),
            None
        );
        let later = t0 + Duration::from_secs(61);
        assert_eq!(
            scores.add(&flood, key, 10, later),
            Some(Duration::from_secs(120))
        );
        let much_later = later + Duration::from_secs(121);
        assert_eq!(
            scores.add(&flood, key, 10, much_later),
            Some(Duration::from_secs(240))
        );
    }

    #[test]
    fn scores_decay_after_the_window() {
        let t0 = crate::policy::testing::t0();
        let flood = Flood::default();
        let mut scores = Scores::default();
        let key = BanKey::Ip("192.0.2.1".parse().unwrap());
        scores.add(&flood, key, 9, t0);
        assert_eq!(
            scores.add(&flood, key, 1, t0 + Duration::from_secs(61)),
            None
        );
    }

    #[test]
    fn bans_drop_until_expiry_and_flows_are_separate() {
        let t0 = crate::policy::testing::t0();
        let bans = Bans::default();
        let a: SocketAddr = "198.51.100.1:5060".parse().unwrap();
        let b: SocketAddr = "198.51.100.1:5062".parse().unwrap();
        bans.ban(BanKey::of(a, true), t0 + Duration::from_secs(5));
        assert!(bans.is_banned(a, t0));
        assert!(!bans.is_banned(b, t0));
        bans.ban(BanKey::of(b, false), t0 + Duration::from_secs(5));
        assert!(bans.is_banned("198.51.100.1:7".parse().unwrap(), t0));
        assert!(!bans.is_banned(a, t0 + Duration::from_secs(5)));
        assert_eq!(bans.expire(t0 + Duration::from_secs(5)), 0);
    }

    #[test]
    fn table_is_bounded() {
        let t0 = crate::policy::testing::t0();
        let flood = Flood {
            max_sources: 16,
            ..Flood::default()
        };
        let mut scores = Scores::default();
        for i in 0..100u32 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            scores.add(&flood, BanKey::Ip(ip.into()), 1, t0);
        }
        assert_eq!(scores.len(), 16);
    }
}
