//! The compiled policy (pure, immutable): what [`super::compile`] builds from the files and
//! what evaluation reads. A reload builds a whole new [`Policy`] and swaps it in atomically;
//! counters live outside it (see [`super::engine`]) and survive reloads, keyed by rule name.

use crate::policy::sets::{CidrSet, Patterns, PrefixSet};
use governor::Quota;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The whole edge policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Security-event log file, when configured.
    pub events_log: Option<PathBuf>,
    /// Source address control per realm.
    pub acl: Acl,
    /// Request rate limits, in file order.
    pub rate_limits: Vec<RateRule>,
    /// Violation scoring and bans.
    pub flood: Flood,
    /// Scanner User-Agent detection.
    pub scanner: Scanner,
    /// Toll-fraud rules for new calls.
    pub fraud: Fraud,
}

/// Source address control.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    /// Per realm name; realms not listed accept every source.
    pub realms: HashMap<String, RealmAcl>,
}

/// One realm's source control.
#[derive(Debug, Clone, Default)]
pub struct RealmAcl {
    /// Allowed networks (empty: any).
    pub allow: CidrSet,
    /// Refused networks (checked first).
    pub deny: CidrSet,
    /// Only peer sources may send.
    pub peers_only: bool,
    /// Addresses of the realm's configured peers plus their `allow` networks.
    pub peer_sources: CidrSet,
}

impl Acl {
    /// Whether a packet from `ip` may be read on `realm`.
    pub fn admits(&self, realm: &str, ip: IpAddr) -> bool {
        self.admits_with(realm, ip, || false)
    }

    /// [`Acl::admits`], where `named_peer` tells whether `ip` is a current address of one of the
    /// realm's peers configured by host name (asked only when the answer depends on it).
    pub fn admits_with(&self, realm: &str, ip: IpAddr, named_peer: impl FnOnce() -> bool) -> bool {
        let Some(acl) = self.realms.get(realm) else {
            return true;
        };
        if acl.deny.contains(ip) {
            return false;
        }
        if acl.peer_sources.contains(ip) {
            return true;
        }
        if !acl.peers_only && (acl.allow.is_empty() || acl.allow.contains(ip)) {
            return true;
        }
        named_peer()
    }
}

/// Request classes rate limits count separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodClass {
    /// INVITE.
    Invite,
    /// REGISTER.
    Register,
    /// OPTIONS.
    Options,
    /// MESSAGE.
    Message,
    /// Everything else.
    Other,
}

impl MethodClass {
    /// The class of a method.
    pub fn of(method: &crate::sip::Method) -> MethodClass {
        use crate::sip::Method;
        match method {
            Method::Invite => MethodClass::Invite,
            Method::Register => MethodClass::Register,
            Method::Options => MethodClass::Options,
            Method::Message => MethodClass::Message,
            _ => MethodClass::Other,
        }
    }

    /// The bit of this class in a [`RateRule::methods`] mask.
    pub fn bit(self) -> u8 {
        match self {
            MethodClass::Invite => 1,
            MethodClass::Register => 2,
            MethodClass::Options => 4,
            MethodClass::Message => 8,
            MethodClass::Other => 16,
        }
    }

    /// Parses a class name as written in a policy file.
    pub fn parse(name: &str) -> Option<MethodClass> {
        Some(match name.to_ascii_uppercase().as_str() {
            "INVITE" => MethodClass::Invite,
            "REGISTER" => MethodClass::Register,
            "OPTIONS" => MethodClass::Options,
            "MESSAGE" => MethodClass::Message,
            "OTHER" => MethodClass::Other,
            _ => return None,
        })
    }
}

/// What a rate limit counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKeyKind {
    /// The source: IP (IPv6 per /64), or IP:port for flows with a live registration.
    Source,
    /// The claimed user (From AOR; To AOR for REGISTER).
    User,
    /// The configured peer the request comes from.
    Peer,
    /// The realm.
    Realm,
}

/// Enforcement of a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitAction {
    /// 503 with Retry-After.
    Reject,
    /// Silent drop.
    Drop,
}

/// One `[[rate_limits]]` rule.
#[derive(Debug, Clone)]
pub struct RateRule {
    /// Rule name.
    pub name: Arc<str>,
    /// What it counts by.
    pub key: LimitKeyKind,
    /// Method class mask (0: all).
    pub methods: u8,
    /// Realms (empty: all).
    pub realms: Vec<String>,
    /// GCRA quota.
    pub quota: Quota,
    /// Enforcement.
    pub action: LimitAction,
    /// Evaluate without enforcing.
    pub shadow: bool,
}

impl RateRule {
    /// Whether the rule applies to `class` on `realm`.
    pub fn applies(&self, class: MethodClass, realm: &str) -> bool {
        (self.methods == 0 || self.methods & class.bit() != 0)
            && (self.realms.is_empty() || self.realms.iter().any(|r| r == realm))
    }
}

/// Points per violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    /// Over a rate limit.
    pub rate_limited: u32,
    /// Scanner User-Agent.
    pub scanner: u32,
    /// A failed authentication relayed to the source.
    pub auth_failure: u32,
    /// Call refused by a fraud rule.
    pub fraud: u32,
}

/// Violation scoring and bans.
#[derive(Debug, Clone)]
pub struct Flood {
    /// Score that bans.
    pub ban_score: u32,
    /// Idle time after which a score resets.
    pub score_window: Duration,
    /// First ban.
    pub ban: Duration,
    /// Longest ban.
    pub max_ban: Duration,
    /// Sources tracked at most.
    pub max_sources: usize,
    /// Never scored.
    pub exempt: CidrSet,
    /// Points.
    pub scores: Scores,
}

impl Default for Flood {
    fn default() -> Self {
        Flood {
            ban_score: 10,
            score_window: Duration::from_secs(60),
            ban: Duration::from_secs(60),
            max_ban: Duration::from_secs(3600),
            max_sources: 100_000,
            exempt: CidrSet::default(),
            scores: Scores {
                rate_limited: 1,
                scanner: 10,
                auth_failure: 2,
                fraud: 1,
            },
        }
    }
}

/// Scanner detection.
#[derive(Debug, Clone)]
pub struct Scanner {
    /// User-Agent substrings.
    pub patterns: Patterns,
    /// Answer 403 instead of dropping.
    pub reject: bool,
    /// Unknown-user REGISTER failures are answered like existing users' (a 401 challenge).
    pub uniform_register_failures: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            patterns: Patterns::default(),
            reject: false,
            uniform_register_failures: true,
        }
    }
}

/// Toll-fraud rules.
#[derive(Debug, Clone)]
pub struct Fraud {
    /// Local time offset from UTC, seconds.
    pub utc_offset_secs: i64,
    /// Keys tracked at most per counter.
    pub max_keys: usize,
    /// Refused destinations.
    pub deny: PrefixSet,
    /// Destination allow lists.
    pub allow: Vec<AllowList>,
    /// Counting rules.
    pub rules: Vec<FraudRule>,
}

impl Default for Fraud {
    fn default() -> Self {
        Fraud {
            utc_offset_secs: 0,
            max_keys: 100_000,
            deny: PrefixSet::default(),
            allow: Vec::new(),
            rules: Vec::new(),
        }
    }
}

/// One `[[fraud.allow]]` list.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    /// Realms (empty: all).
    pub realms: Vec<String>,
    /// Calling users (empty: all).
    pub users: Vec<String>,
    /// Allowed destinations.
    pub prefixes: PrefixSet,
}

/// What a fraud rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FraudKind {
    /// Calls in the last 60 s.
    CallsPerMinute,
    /// Calls in the last 24 h.
    CallsPerDay,
    /// Calls up at once.
    Concurrent,
    /// Calls to the same number within the rule's window.
    Repeated,
    /// Seconds since the answer.
    Duration,
}

impl FraudKind {
    /// The bounded metric label of the kind.
    pub fn label(self) -> &'static str {
        match self {
            FraudKind::CallsPerMinute => "calls_per_minute",
            FraudKind::CallsPerDay => "calls_per_day",
            FraudKind::Concurrent => "concurrent",
            FraudKind::Repeated => "repeated",
            FraudKind::Duration => "duration",
        }
    }
}

/// What a fraud rule counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FraudKey {
    /// The calling user (From AOR).
    User,
    /// The peer the call comes from.
    Peer,
    /// The source IP.
    Source,
    /// The rule's destination prefix the number falls under.
    Prefix,
    /// The realm.
    Realm,
}

/// One `[[fraud.rules]]` rule.
#[derive(Debug, Clone)]
pub struct FraudRule {
    /// Rule name (counters are kept per name, across reloads).
    pub name: Arc<str>,
    /// What it counts.
    pub kind: FraudKind,
    /// By what.
    pub key: FraudKey,
    /// Warning threshold.
    pub warn: Option<u32>,
    /// Critical threshold.
    pub limit: u32,
    /// Window of [`FraudKind::Repeated`].
    pub window: Duration,
    /// Realms (empty: all).
    pub realms: Vec<String>,
    /// Source peers (empty: any).
    pub peers: Vec<String>,
    /// Destination scope (empty: all).
    pub prefixes: PrefixSet,
    /// Day mask, bit 0 = Monday (0: every day).
    pub days: u8,
    /// Local time span in minutes since midnight, `[from, to)`, wrapping when `from > to`.
    pub hours: Option<(u32, u32)>,
    /// Reason phrase of the 403.
    pub reason: Arc<str>,
    /// Evaluate without enforcing.
    pub shadow: bool,
}
