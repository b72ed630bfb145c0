//! Validation of a [`PolicyFile`] into a [`Policy`] (pure): every value and cross-reference is
//! checked and every problem reported with its file and key path. Plain-text lists are read
//! through a caller-supplied function, so this module never touches the file system.

use crate::config::KeyPath;
use crate::policy::error::PolicyError;
use crate::policy::file::{FraudRuleFile, PolicyFile, RateLimitFile};
use crate::policy::model::*;
use crate::policy::sets::{self, CidrSet, PrefixSet};
use governor::Quota;
use std::collections::HashSet;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// What the policy may refer to in the SBC configuration.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Realm names.
    pub realms: Vec<String>,
    /// Peers: name, realm, IP addresses.
    pub peers: Vec<(String, String, Vec<IpAddr>)>,
}

impl Known {
    /// The realms and peers of a configuration.
    pub fn of(config: &crate::config::Config) -> Known {
        Known {
            realms: config.realms.iter().map(|r| r.name.clone()).collect(),
            peers: config
                .peers
                .iter()
                .map(|p| {
                    let ips = p
                        .addresses
                        .iter()
                        .filter_map(|a| match a.host {
                            crate::config::Host::Ip(ip) => Some(ip),
                            crate::config::Host::Name(_) => None,
                        })
                        .collect();
                    (p.name.clone(), p.realm.clone(), ips)
                })
                .collect(),
        }
    }
}

/// A list file's contents: resolved path and text, or why it cannot be read.
pub type ReadList<'a> = dyn Fn(&str) -> (PathBuf, Result<String, String>) + 'a;

struct Cx<'a> {
    file: &'a Path,
    known: &'a Known,
    read: &'a ReadList<'a>,
    errors: Vec<PolicyError>,
}

impl Cx<'_> {
    fn err(&mut self, path: &KeyPath, problem: impl Into<String>) {
        self.errors.push(PolicyError::at(self.file, path, problem));
    }

    fn realm(&mut self, path: &KeyPath, name: &str) {
        if !self.known.realms.iter().any(|r| r == name) {
            self.err(path, format!("unknown realm {name:?}"));
        }
    }

    fn realms(&mut self, path: &KeyPath, names: &[String]) -> Vec<String> {
        for (i, r) in names.iter().enumerate() {
            self.realm(&path.index(i), r);
        }
        names.to_vec()
    }

    fn peers(&mut self, path: &KeyPath, names: &[String]) -> Vec<String> {
        for (i, p) in names.iter().enumerate() {
            if !self.known.peers.iter().any(|k| &k.0 == p) {
                self.err(&path.index(i), format!("unknown peer {p:?}"));
            }
        }
        names.to_vec()
    }

    fn nets(&mut self, path: &KeyPath, values: &[String], into: &mut CidrSet) {
        for (i, v) in values.iter().enumerate() {
            match sets::parse_net(v) {
                Ok(net) => into.insert(net),
                Err(e) => self.err(&path.index(i), e),
            }
        }
    }

    fn prefixes(&mut self, path: &KeyPath, values: &[String], into: &mut PrefixSet) {
        for (i, v) in values.iter().enumerate() {
            match sets::parse_prefix(v) {
                Ok(p) => into.insert(p),
                Err(e) => self.err(&path.index(i), e),
            }
        }
    }

    /// Reads each list file and feeds its entries to `add`, reporting bad lines.
    fn lists(
        &mut self,
        path: &KeyPath,
        files: &[String],
        mut add: impl FnMut(&str) -> Result<(), String>,
    ) {
        for (i, name) in files.iter().enumerate() {
            let (resolved, text) = (self.read)(name);
            match text {
                Err(e) => self.err(&path.index(i), e),
                Ok(text) => {
                    for (line, entry) in sets::list_entries(&text) {
                        if let Err(e) = add(entry) {
                            self.errors.push(PolicyError::line(&resolved, line, e));
                        }
                    }
                }
            }
        }
    }

    fn int(&mut self, path: &KeyPath, value: Option<i64>, default: i64, min: i64, max: i64) -> i64 {
        match value {
            None => default,
            Some(v) if (min..=max).contains(&v) => v,
            Some(v) => {
                self.err(path, format!("{v} is out of range {min}..={max}"));
                default
            }
        }
    }

    fn keyword<T: Copy>(
        &mut self,
        path: &KeyPath,
        value: Option<&str>,
        default: T,
        table: &[(&str, T)],
    ) -> T {
        let Some(v) = value else { return default };
        match table.iter().find(|(k, _)| *k == v) {
            Some((_, t)) => *t,
            None => {
                let expected: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
                self.err(
                    path,
                    format!(
                        "unknown value {v:?} (expected one of: {})",
                        expected.join(", ")
                    ),
                );
                default
            }
        }
    }

    fn name(&mut self, path: &KeyPath, name: Option<&str>, seen: &mut HashSet<String>) -> Arc<str> {
        match name {
            None => {
                self.err(path, "required key is missing");
                Arc::from("")
            }
            Some(n) if n.is_empty() || n.len() > 64 => {
                self.err(path, format!("invalid name {n:?}: 1-64 characters"));
                Arc::from(n)
            }
            Some(n) => {
                if !seen.insert(n.to_owned()) {
                    self.err(path, format!("duplicate rule name {n:?}"));
                }
                Arc::from(n)
            }
        }
    }
}

/// Builds the policy of `doc` (read from `file`), or every problem found.
pub fn compile(
    doc: &PolicyFile,
    file: &Path,
    known: &Known,
    read: &ReadList<'_>,
) -> Result<Policy, Vec<PolicyError>> {
    let mut cx = Cx {
        file,
        known,
        read,
        errors: Vec::new(),
    };
    let root = KeyPath::root();
    let mut policy = Policy {
        events_log: doc.events.log.as_ref().map(|l| (read)(l).0),
        ..Policy::default()
    };
    acl(&mut cx, doc, &mut policy.acl);
    let mut names = HashSet::new();
    for (i, rule) in doc.rate_limits.iter().enumerate() {
        let path = root.key("rate_limits").index(i);
        if let Some(rule) = rate_rule(&mut cx, &path, rule, &mut names) {
            policy.rate_limits.push(rule);
        }
    }
    flood(&mut cx, doc, &mut policy.flood);
    let path = root.key("scanner");
    for p in &doc.scanner.user_agents {
        policy.scanner.patterns.insert(p);
    }
    let mut patterns = std::mem::take(&mut policy.scanner.patterns);
    cx.lists(
        &path.key("user_agent_lists"),
        &doc.scanner.user_agent_lists,
        |e| {
            patterns.insert(e);
            Ok(())
        },
    );
    policy.scanner.patterns = patterns;
    policy.scanner.reject = cx.keyword(
        &path.key("action"),
        doc.scanner.action.as_deref(),
        false,
        &[("drop", false), ("reject", true)],
    );
    policy.scanner.uniform_register_failures =
        doc.scanner.uniform_register_failures.unwrap_or(true);
    fraud(&mut cx, doc, &mut policy.fraud, &mut names);
    if cx.errors.is_empty() {
        Ok(policy)
    } else {
        Err(cx.errors)
    }
}

fn acl(cx: &mut Cx<'_>, doc: &PolicyFile, acl: &mut Acl) {
    let base = KeyPath::root().key("acl");
    for (realm, file) in &doc.acl.realms {
        let path = base.key("realms").key(realm);
        cx.realm(&path, realm);
        let mut r = RealmAcl {
            peers_only: file.peers_only,
            ..RealmAcl::default()
        };
        cx.nets(&path.key("allow"), &file.allow, &mut r.allow);
        cx.nets(&path.key("deny"), &file.deny, &mut r.deny);
        let mut deny = std::mem::take(&mut r.deny);
        cx.lists(&path.key("deny_lists"), &file.deny_lists, |e| {
            deny.insert(sets::parse_net(e)?);
            Ok(())
        });
        r.deny = deny;
        for (_, _, ips) in cx.known.peers.iter().filter(|p| &p.1 == realm) {
            for ip in ips {
                r.peer_sources.insert((*ip).into());
            }
        }
        acl.realms.insert(realm.clone(), r);
    }
    for (peer, file) in &doc.acl.peers {
        let path = base.key("peers").key(peer);
        let Some(realm) = cx
            .known
            .peers
            .iter()
            .find(|p| &p.0 == peer)
            .map(|p| p.1.clone())
        else {
            cx.err(&path, format!("unknown peer {peer:?}"));
            continue;
        };
        let r = acl.realms.entry(realm.clone()).or_default();
        if r.peer_sources.is_empty() {
            for (_, _, ips) in cx.known.peers.iter().filter(|p| p.1 == realm) {
                for ip in ips {
                    r.peer_sources.insert((*ip).into());
                }
            }
        }
        let (mut allow, mut deny) = (
            std::mem::take(&mut r.peer_sources),
            std::mem::take(&mut r.deny),
        );
        cx.nets(&path.key("allow"), &file.allow, &mut allow);
        cx.nets(&path.key("deny"), &file.deny, &mut deny);
        let r = acl.realms.entry(realm).or_default();
        r.peer_sources = allow;
        r.deny = deny;
    }
}

fn rate_rule(
    cx: &mut Cx<'_>,
    path: &KeyPath,
    file: &RateLimitFile,
    names: &mut HashSet<String>,
) -> Option<RateRule> {
    let name = cx.name(&path.key("name"), file.name.as_deref(), names);
    if file.key.is_none() {
        cx.err(&path.key("key"), "required key is missing");
    }
    let key = cx.keyword(
        &path.key("key"),
        file.key.as_deref(),
        LimitKeyKind::Source,
        &[
            ("source", LimitKeyKind::Source),
            ("user", LimitKeyKind::User),
            ("peer", LimitKeyKind::Peer),
            ("realm", LimitKeyKind::Realm),
        ],
    );
    let mut methods = 0u8;
    for (i, m) in file.methods.iter().enumerate() {
        match MethodClass::parse(m) {
            Some(c) => methods |= c.bit(),
            None => cx.err(
                &path.key("methods").index(i),
                format!("unknown method class {m:?} (INVITE, REGISTER, OPTIONS, MESSAGE, other)"),
            ),
        }
    }
    let realms = cx.realms(&path.key("realms"), &file.realms);
    if file.rate.is_none() {
        cx.err(&path.key("rate"), "required key is missing");
    }
    let rate = cx.int(&path.key("rate"), file.rate, 1, 1, 1_000_000) as u32;
    let burst = cx.int(
        &path.key("burst"),
        file.burst,
        i64::from(rate),
        1,
        1_000_000,
    ) as u32;
    let per = cx.keyword(
        &path.key("per"),
        file.per.as_deref(),
        1u64,
        &[("second", 1), ("minute", 60), ("hour", 3600)],
    );
    let action = cx.keyword(
        &path.key("action"),
        file.action.as_deref(),
        LimitAction::Reject,
        &[("reject", LimitAction::Reject), ("drop", LimitAction::Drop)],
    );
    let period = Duration::from_secs(per) / rate.max(1);
    let quota = Quota::with_period(period.max(Duration::from_nanos(1)))?
        .allow_burst(NonZeroU32::new(burst.max(1))?);
    Some(RateRule {
        name,
        key,
        methods,
        realms,
        quota,
        action,
        shadow: file.shadow,
    })
}

fn flood(cx: &mut Cx<'_>, doc: &PolicyFile, flood: &mut Flood) {
    let path = KeyPath::root().key("flood");
    let f = &doc.flood;
    let d = Flood::default();
    let secs = |v: i64| Duration::from_secs(v as u64);
    flood.ban_score = cx.int(&path.key("ban_score"), f.ban_score, 10, 1, 1_000_000) as u32;
    flood.score_window = secs(cx.int(
        &path.key("score_window_secs"),
        f.score_window_secs,
        60,
        1,
        86_400,
    ));
    flood.ban = secs(cx.int(&path.key("ban_secs"), f.ban_secs, 60, 1, 604_800));
    flood.max_ban = secs(cx.int(
        &path.key("max_ban_secs"),
        f.max_ban_secs,
        3600,
        1,
        2_592_000,
    ));
    if flood.max_ban < flood.ban {
        cx.err(&path.key("max_ban_secs"), "must be at least ban_secs");
    }
    flood.max_sources = cx.int(
        &path.key("max_sources"),
        f.max_sources,
        100_000,
        16,
        10_000_000,
    ) as usize;
    cx.nets(&path.key("exempt"), &f.exempt, &mut flood.exempt);
    let s = path.key("scores");
    let mut score = |key: &str, v: Option<i64>, default: u32| {
        cx.int(&s.key(key), v, i64::from(default), 0, 1_000_000) as u32
    };
    flood.scores = Scores {
        rate_limited: score("rate_limited", f.scores.rate_limited, d.scores.rate_limited),
        scanner: score("scanner", f.scores.scanner, d.scores.scanner),
        auth_failure: score("auth_failure", f.scores.auth_failure, d.scores.auth_failure),
        fraud: score("fraud", f.scores.fraud, d.scores.fraud),
    };
}

fn fraud(cx: &mut Cx<'_>, doc: &PolicyFile, fraud: &mut Fraud, names: &mut HashSet<String>) {
    let path = KeyPath::root().key("fraud");
    let f = &doc.fraud;
    fraud.utc_offset_secs = cx.int(
        &path.key("utc_offset_minutes"),
        f.utc_offset_minutes,
        0,
        -1440,
        1440,
    ) * 60;
    fraud.max_keys = cx.int(&path.key("max_keys"), f.max_keys, 100_000, 16, 10_000_000) as usize;
    cx.prefixes(
        &path.key("deny_prefixes"),
        &f.deny_prefixes,
        &mut fraud.deny,
    );
    let mut deny = std::mem::take(&mut fraud.deny);
    cx.lists(&path.key("deny_prefix_lists"), &f.deny_prefix_lists, |e| {
        deny.insert(sets::parse_prefix(e)?);
        Ok(())
    });
    fraud.deny = deny;
    for (i, a) in f.allow.iter().enumerate() {
        let p = path.key("allow").index(i);
        let mut list = AllowList {
            realms: cx.realms(&p.key("realms"), &a.realms),
            users: a.users.clone(),
            prefixes: PrefixSet::default(),
        };
        cx.prefixes(&p.key("prefixes"), &a.prefixes, &mut list.prefixes);
        cx.lists(&p.key("prefix_lists"), &a.prefix_lists, |e| {
            list.prefixes.insert(sets::parse_prefix(e)?);
            Ok(())
        });
        if list.prefixes.is_empty() {
            cx.err(&p.key("prefixes"), "must list at least one entry");
        }
        fraud.allow.push(list);
    }
    for (i, r) in f.rules.iter().enumerate() {
        let p = path.key("rules").index(i);
        fraud.rules.push(fraud_rule(cx, &p, r, names));
    }
}

fn fraud_rule(
    cx: &mut Cx<'_>,
    path: &KeyPath,
    r: &FraudRuleFile,
    names: &mut HashSet<String>,
) -> FraudRule {
    let name = cx.name(&path.key("name"), r.name.as_deref(), names);
    if r.kind.is_none() {
        cx.err(&path.key("kind"), "required key is missing");
    }
    let kind = cx.keyword(
        &path.key("kind"),
        r.kind.as_deref(),
        FraudKind::Concurrent,
        &[
            ("calls_per_minute", FraudKind::CallsPerMinute),
            ("calls_per_day", FraudKind::CallsPerDay),
            ("concurrent", FraudKind::Concurrent),
            ("repeated", FraudKind::Repeated),
            ("duration", FraudKind::Duration),
        ],
    );
    let key = cx.keyword(
        &path.key("key"),
        r.key.as_deref(),
        FraudKey::User,
        &[
            ("user", FraudKey::User),
            ("peer", FraudKey::Peer),
            ("source", FraudKey::Source),
            ("prefix", FraudKey::Prefix),
            ("realm", FraudKey::Realm),
        ],
    );
    if r.limit.is_none() {
        cx.err(&path.key("limit"), "required key is missing");
    }
    let limit = cx.int(&path.key("limit"), r.limit, 1, 1, 100_000_000) as u32;
    let warn = r
        .warn
        .map(|w| cx.int(&path.key("warn"), Some(w), 1, 1, 100_000_000) as u32);
    if warn.is_some_and(|w| w >= limit) {
        cx.err(&path.key("warn"), "must be below limit");
    }
    let window =
        Duration::from_secs(
            cx.int(&path.key("window_secs"), r.window_secs, 3600, 1, 604_800) as u64,
        );
    let mut prefixes = PrefixSet::default();
    cx.prefixes(&path.key("prefixes"), &r.prefixes, &mut prefixes);
    if key == FraudKey::Prefix && prefixes.is_empty() {
        cx.err(&path.key("prefixes"), "key = \"prefix\" needs prefixes");
    }
    let mut days = 0u8;
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    for (i, d) in r.days.iter().enumerate() {
        match DAYS.iter().position(|x| x.eq_ignore_ascii_case(d)) {
            Some(bit) => days |= 1 << bit,
            None => cx.err(
                &path.key("days").index(i),
                format!("unknown day {d:?} (mon, tue, wed, thu, fri, sat, sun)"),
            ),
        }
    }
    let hours = r.hours.as_deref().and_then(|h| match parse_hours(h) {
        Some(span) => Some(span),
        None => {
            cx.err(&path.key("hours"), format!("{h:?} is not HH:MM-HH:MM"));
            None
        }
    });
    let reason = r.reason.as_deref().unwrap_or("Forbidden");
    if reason.is_empty() || reason.len() > 64 || reason.chars().any(char::is_control) {
        cx.err(
            &path.key("reason"),
            "1-64 characters, no control characters",
        );
    }
    FraudRule {
        name,
        kind,
        key,
        warn,
        limit,
        window,
        realms: cx.realms(&path.key("realms"), &r.realms),
        peers: cx.peers(&path.key("peers"), &r.peers),
        prefixes,
        days,
        hours,
        reason: Arc::from(reason),
        shadow: r.shadow,
    }
}

/// `HH:MM-HH:MM` as minutes since midnight.
fn parse_hours(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    Some((minutes(a)?, minutes(b)?))
}
