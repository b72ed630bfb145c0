//! Keyed GCRA rate limiters (pure: time comes in as `now`), one per `[[rate_limits]]` rule,
//! built on `governor` with a clock the caller sets before each check. Limiter maps are bounded:
//! stale keys go with `retain_recent` on the housekeeping timer, and a map still full after that
//! sends every further request of the rule through one shared overflow bucket (degraded, never
//! unbounded).

use crate::policy::model::{LimitKeyKind, RateRule};
use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A clock whose reading the owner sets (nanoseconds since an origin).
#[derive(Debug, Clone)]
pub struct SetClock {
    now: Arc<AtomicU64>,
}

impl Clock for SetClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.now.load(Ordering::Relaxed))
    }
}

/// What a limiter counts by, as a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// An IPv4 address, or an IPv6 /64.
    Ip(IpAddr),
    /// An IP and port (a registered flow).
    Flow(SocketAddr),
    /// A user, peer or realm name.
    Name(Box<str>),
    /// The shared bucket of a saturated map.
    Overflow,
}

/// The source key: the flow when it carries a live registration (phones behind one NAT stay
/// apart), else the IP, with IPv6 aggregated to its /64.
pub fn source_key(source: SocketAddr, registered: bool) -> LimitKey {
    if registered {
        return LimitKey::Flow(source);
    }
    LimitKey::Ip(aggregate(source.ip()))
}

/// IPv4 as is; IPv6 truncated to its /64 (one subscriber's prefix).
pub fn aggregate(ip: IpAddr) -> IpAddr {
    match crate::policy::sets::canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & (u128::MAX << 64)).into()),
        v4 => v4,
    }
}

type Keyed = RateLimiter<LimitKey, HashMapStateStore<LimitKey>, SetClock, NoOpMiddleware<Nanos>>;

struct Limiter {
    quota: Quota,
    kind: LimitKeyKind,
    limiter: Keyed,
}

/// The limiters of every rule, by rule name (they survive reloads while the quota stays).
pub struct Limiters {
    origin: Instant,
    clock: SetClock,
    by_rule: HashMap<Arc<str>, Limiter>,
    max_keys: usize,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Within the rate.
    Allowed,
    /// Over the rate: earliest time a retry would conform.
    Limited(Duration),
}

impl Limiters {
    /// Empty limiters, `origin` being the zero of their clock; each map holds at most `max_keys`.
    pub fn new(origin: Instant, max_keys: usize) -> Limiters {
        Limiters {
            origin,
            clock: SetClock {
                now: Arc::new(AtomicU64::new(0)),
            },
            by_rule: HashMap::new(),
            max_keys,
        }
    }

    fn set_now(&self, now: Instant) {
        let nanos = now.saturating_duration_since(self.origin).as_nanos();
        let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
        // Never backwards: governor expects a monotonic clock.
        self.clock.now.fetch_max(nanos, Ordering::Relaxed);
    }

    /// Checks one request against `rule` under `key`.
    pub fn check(&mut self, rule: &RateRule, key: LimitKey, now: Instant) -> Check {
        self.set_now(now);
        let max_keys = self.max_keys;
        let clock = self.clock.clone();
        let entry = self
            .by_rule
            .entry(Arc::clone(&rule.name))
            .and_modify(|l| {
                if l.quota != rule.quota || l.kind != rule.key {
                    *l = Limiter::new(rule, clock.clone());
                }
            })
            .or_insert_with(|| Limiter::new(rule, clock.clone()));
        let mut key = key;
        if entry.limiter.len() >= max_keys {
            entry.limiter.retain_recent();
            if entry.limiter.len() >= max_keys {
                key = LimitKey::Overflow;
            }
        }
        match entry.limiter.check_key(&key) {
            Ok(()) => Check::Allowed,
            Err(not_until) => {
                let wait = not_until.earliest_possible().duration_since(clock.now());
                Check::Limited(Duration::from(wait))
            }
        }
    }

    /// Drops stale keys and the limiters of rules that no longer exist.
    pub fn prune(&mut self, rules: &[RateRule], now: Instant) {
        self.set_now(now);
        self.by_rule
            .retain(|name, _| rules.iter().any(|r| &r.name == name));
        for l in self.by_rule.values() {
            l.limiter.retain_recent();
            l.limiter.shrink_to_fit();
        }
    }

    /// Keys held by every limiter together.
    pub fn keys(&self) -> usize {
        self.by_rule.values().map(|l| l.limiter.len()).sum()
    }
}

impl Limiter {
    fn new(rule: &RateRule, clock: SetClock) -> Limiter {
        Limiter {
            quota: rule.quota,
            kind: rule.key,
            limiter: RateLimiter::new(rule.quota, HashMapStateStore::default(), clock),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    fn rule(per_sec: u32, burst: u32) -> RateRule {
        RateRule {
            name: Arc::from("r"),
            key: LimitKeyKind::Source,
            methods: 0,
            realms: Vec::new(),
            quota: Quota::per_second(NonZeroU32::new(per_sec).unwrap())
                .allow_burst(NonZeroU32::new(burst).unwrap()),
            action: crate::policy::model::LimitAction::Reject,
            shadow: false,
        }
    }

    #[test]
    fn burst_then_limited_then_refills() {
        let t0 = crate::policy::testing::t0();
        let mut l = Limiters::new(t0, 1000);
        let r = rule(10, 3);
        let k = || LimitKey::Ip("192.0.2.1".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(l.check(&r, k(), t0), Check::Allowed);
        }
        let Check::Limited(wait) = l.check(&r, k(), t0) else {
            panic!("fourth request in a burst of 3 must be limited")
        };
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(100));
        // Another key is unaffected.
        assert_eq!(
            l.check(&r, LimitKey::Ip("192.0.2.2".parse().unwrap()), t0),
            Check::Allowed
        );
        assert_eq!(
            l.check(&r, k(), t0 + Duration::from_millis(100)),
            Check::Allowed
        );
    }

    #[test]
    fn maps_stay_bounded() {
        let t0 = crate::policy::testing::t0();
        let mut l = Limiters::new(t0, 16);
        let r = rule(1, 1);
        for i in 0..200u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            l.check(&r, LimitKey::Ip(ip), t0);
        }
        assert!(l.keys() <= 17, "{}", l.keys());
        l.prune(&[r], t0 + Duration::from_secs(10));
        assert_eq!(l.keys(), 0);
    }

    #[test]
    fn ipv6_aggregates_to_64_and_flows_stay_apart() {
        let a: SocketAddr = "[2001:db8:1:2:aaaa::1]:5060".parse().unwrap();
        let b: SocketAddr = "[2001:db8:1:2:bbbb::9]:5062".parse().unwrap();
        assert_eq!(source_key(a, false), source_key(b, false));
        let c: SocketAddr = "198.51.100.7:5060".parse().unwrap();
        let d: SocketAddr = "198.51.100.7:5062".parse().unwrap();
        assert_eq!(source_key(c, false), source_key(d, false));
        assert_ne!(source_key(c, true), source_key(d, true));
    }
}
