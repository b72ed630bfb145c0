//! Table tests of the policy: loading (every problem located), request evaluation (scanner,
//! rate limits, bans, NAT-friendly keys) and call admission (fraud rules), plus property tests
//! over random call histories for exact counters.

use super::bans::Bans;
use super::compile::Known;
use super::engine::{Engine, EventAction, RequestCtx, Verdict};
use super::fraud::CallCtx;
use super::load::parse;
use super::model::{MethodClass, Policy};
use super::testing::t0;
use proptest::prelude::*;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn known() -> Known {
    Known {
        realms: vec!["access".into(), "core".into()],
        peers: vec![(
            "pbx".into(),
            "core".into(),
            vec!["10.0.1.20".parse().unwrap()],
        )],
    }
}

fn policy(text: &str) -> Policy {
    let read = |name: &str| (PathBuf::from(name), Err(format!("no list {name}")));
    parse(text, Path::new("policy.toml"), &known(), &read).unwrap_or_else(|e| panic!("{e}"))
}

fn req<'a>(source: &str, ua: Option<&'a [u8]>) -> RequestCtx<'a> {
    RequestCtx {
        realm: "access",
        source: source.parse().unwrap(),
        registered: false,
        peer: None,
        method: MethodClass::Invite,
        user_agent: ua,
        user: None,
    }
}

#[test]
fn the_shipped_policies_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let config =
        crate::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/sbc.toml"))
            .expect("reference config");
    let p = super::load_dir(&dir, &Known::of(&config)).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.scanner.patterns.find(b"friendly-scanner").is_some());
    assert!(p.fraud.deny.matches("+8819999"));
    assert!(!p.acl.admits("core", "10.9.9.9".parse().unwrap()));
    assert!(p.acl.admits("core", "10.0.1.20".parse().unwrap()));
    assert!(p.acl.admits("core", "10.0.1.3".parse().unwrap()));
    assert!(!p.acl.admits("access", "198.51.100.9".parse().unwrap()));
    assert!(p.acl.admits("access", "8.8.8.8".parse().unwrap()));
}

#[test]
fn every_problem_is_reported_with_its_location() {
    let text = r#"
oops = 1
[acl.realms.access]
deny = ["10.0.0.0/33"]
[[rate_limits]]
key = "ip"
rate = 0
[[fraud.rules]]
name = "x"
kind = "concurrent"
limit = 2
warn = 3
peers = ["nobody"]
reason = "bad\r\nInjected: 1"
"#;
    let read = |name: &str| (PathBuf::from(name), Err(format!("no list {name}")));
    let errors = parse(text, Path::new("p.toml"), &known(), &read).unwrap_err();
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for want in [
        "p.toml: oops: unknown key",
        "p.toml: acl.realms.access.deny[0]: ",
        "p.toml: rate_limits[0].name: required key is missing",
        "p.toml: rate_limits[0].key: unknown value \"ip\"",
        "p.toml: rate_limits[0].rate: 0 is out of range",
        "p.toml: fraud.rules[0].warn: must be below limit",
        "p.toml: fraud.rules[0].peers[0]: unknown peer \"nobody\"",
        "p.toml: fraud.rules[0].reason: ",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "{want:?} not in {lines:#?}"
        );
    }
    assert_eq!(lines.len(), 8, "{lines:#?}");
    let syntax = parse("[[rate_limits]\n", Path::new("p.toml"), &known(), &read).unwrap_err();
    assert!(
        syntax.to_string().starts_with("p.toml: line 1: "),
        "{syntax}"
    );
}

#[test]
fn list_lines_are_located() {
    let read = |name: &str| {
        (
            PathBuf::from(name),
            Ok("# comment\n+1900\nnope # bad\n".to_owned()),
        )
    };
    let errors = parse(
        "[fraud]\ndeny_prefix_lists = [\"premium.txt\"]\n",
        Path::new("p.toml"),
        &known(),
        &read,
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors.to_string().starts_with("premium.txt: line 3: "),
        "{errors}"
    );
}

#[test]
fn scanner_is_banned_on_first_request() {
    let p = policy("[scanner]\nuser_agents = [\"friendly-scanner\"]\n");
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let d = e.evaluate(&p, &req("192.0.2.9:5060", Some(b"friendly-scanner")), t);
    assert_eq!(d.verdict, Verdict::Drop);
    assert!(
        d.events.iter().any(|e| e.action == EventAction::Ban),
        "{:?}",
        d.events
    );
    // Banned: a clean request from any port of that IP is dropped too.
    let d = e.evaluate(&p, &req("192.0.2.9:6000", Some(b"Yealink")), t);
    assert_eq!(d.verdict, Verdict::Drop);
    assert!(e.bans().is_banned("192.0.2.9:1".parse().unwrap(), t));
    assert!(
        !e.bans()
            .is_banned("192.0.2.9:1".parse().unwrap(), t + Duration::from_secs(60))
    );
}

const INVITE_LIMIT: &str = r#"
[[rate_limits]]
name = "inv"
key = "source"
methods = ["INVITE"]
rate = 5
burst = 5
"#;

#[test]
fn rate_limit_rejects_then_bans_one_source_only() {
    let p = policy(INVITE_LIMIT);
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let mut verdicts = Vec::new();
    for _ in 0..20 {
        verdicts.push(e.evaluate(&p, &req("192.0.2.1:5060", None), t).verdict);
    }
    assert!(verdicts[..5].iter().all(|v| *v == Verdict::Accept));
    assert_eq!(
        verdicts[5],
        Verdict::Reject {
            status: 503,
            retry_after: Some(1)
        }
    );
    // 10 violations reach the ban score; afterwards the source is dropped.
    assert_eq!(verdicts[19], Verdict::Drop);
    assert_eq!(
        e.evaluate(&p, &req("192.0.2.2:5060", None), t).verdict,
        Verdict::Accept
    );
    // A REGISTER is another method class.
    let mut r = req("192.0.2.3:5060", None);
    r.method = MethodClass::Register;
    for _ in 0..10 {
        assert_eq!(e.evaluate(&p, &r, t).verdict, Verdict::Accept);
    }
}

#[test]
fn registered_flows_behind_one_nat_are_limited_apart() {
    let p = policy(INVITE_LIMIT);
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let noisy = RequestCtx {
        registered: true,
        ..req("198.51.100.1:5060", None)
    };
    for _ in 0..30 {
        e.evaluate(&p, &noisy, t);
    }
    assert!(e.bans().is_banned(noisy.source, t));
    let neighbour = RequestCtx {
        registered: true,
        ..req("198.51.100.1:5062", None)
    };
    assert_eq!(e.evaluate(&p, &neighbour, t).verdict, Verdict::Accept);
}

#[test]
fn peers_and_exempt_networks_are_never_banned() {
    let p = policy(&format!(
        "{INVITE_LIMIT}\n[flood]\nexempt = [\"10.9.0.0/16\"]\n"
    ));
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let pbx = RequestCtx {
        peer: Some("pbx"),
        ..req("10.0.1.20:5060", None)
    };
    for _ in 0..50 {
        e.evaluate(&p, &pbx, t);
        e.evaluate(&p, &req("10.9.1.1:5060", None), t);
    }
    assert!(e.bans().is_empty());
    assert!(
        e.auth_failure(&p, "10.9.1.1:5060".parse().unwrap(), false, false, t)
            .is_empty()
    );
}

#[test]
fn shadow_and_drop_rate_limits() {
    let p = policy(
        r#"
[[rate_limits]]
name = "s"
key = "realm"
rate = 1
shadow = true
[[rate_limits]]
name = "d"
key = "source"
rate = 2
action = "drop"
"#,
    );
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let a = e.evaluate(&p, &req("192.0.2.1:1", None), t);
    assert_eq!(a.verdict, Verdict::Accept);
    let b = e.evaluate(&p, &req("192.0.2.1:1", None), t);
    assert_eq!(b.verdict, Verdict::Accept);
    assert_eq!(b.events[0].action, EventAction::Shadow);
    assert_eq!(
        e.evaluate(&p, &req("192.0.2.1:1", None), t).verdict,
        Verdict::Drop
    );
}

#[test]
fn repeated_auth_failures_ban() {
    let p = policy("[flood]\nban_score = 6\n[flood.scores]\nauth_failure = 2\n");
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let src: SocketAddr = "203.0.113.5:5060".parse().unwrap();
    assert!(e.auth_failure(&p, src, false, false, t).is_empty());
    assert!(e.auth_failure(&p, src, false, false, t).is_empty());
    let events = e.auth_failure(&p, src, false, false, t);
    assert_eq!(events[0].action, EventAction::Ban);
    assert!(e.bans().is_banned(src, t));
}

fn call<'a>(user: &'a str, dest: &'a str, unix_secs: i64) -> CallCtx<'a> {
    CallCtx {
        realm: "access",
        source: "192.0.2.1:5060".parse().unwrap(),
        peer: None,
        user: Some(user),
        destination: Some(dest),
        unix_secs,
    }
}

#[test]
fn destination_deny_and_allow_lists() {
    let p = policy(
        r#"
[fraud]
deny_prefixes = ["+1900", "00881"]
[[fraud.allow]]
users = ["100"]
prefixes = ["0", "112"]
"#,
    );
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let refused = |e: &mut Engine, c: CallCtx<'_>| e.admit_call(&p, &c, t).0.refused;
    assert_eq!(
        &*refused(&mut e, call("200", "+1 900 555", 0))
            .unwrap()
            .reason,
        "Destination Not Allowed"
    );
    assert!(refused(&mut e, call("200", "0088123", 0)).is_some());
    assert!(refused(&mut e, call("200", "+44123", 0)).is_none());
    assert!(refused(&mut e, call("100", "+44123", 0)).is_some());
    assert!(refused(&mut e, call("100", "0144", 0)).is_none());
    assert!(refused(&mut e, call("100", "112", 0)).is_none());
}

#[test]
fn calls_per_minute_slide_and_warn() {
    let p = policy(
        r#"
[[fraud.rules]]
name = "cpm"
kind = "calls_per_minute"
warn = 2
limit = 3
reason = "Slow Down"
"#,
    );
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let mut results = Vec::new();
    for i in 0..4u64 {
        let (a, ev) = e.admit_call(&p, &call("1", "5", 0), t + Duration::from_secs(i));
        results.push((a.refused.is_some(), ev.first().map(|e| e.action)));
    }
    assert_eq!(
        results,
        [
            (false, None),
            (false, None),
            (false, Some(EventAction::Warn)),
            (true, Some(EventAction::Reject))
        ]
    );
    // 60 s after the first call it has left the window.
    let (a, _) = e.admit_call(&p, &call("1", "5", 0), t + Duration::from_secs(60));
    assert!(a.refused.is_none());
    let (a, _) = e.admit_call(&p, &call("1", "5", 0), t + Duration::from_secs(60));
    assert_eq!(&*a.refused.unwrap().reason, "Slow Down");
}

#[test]
fn concurrent_frees_on_release_and_shadow_only_reports() {
    let p = policy(
        r#"
[[fraud.rules]]
name = "conc"
kind = "concurrent"
limit = 2
[[fraud.rules]]
name = "watch"
kind = "concurrent"
key = "realm"
limit = 1
shadow = true
"#,
    );
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    let (a1, _) = e.admit_call(&p, &call("1", "5", 0), t);
    let (a2, ev2) = e.admit_call(&p, &call("1", "5", 0), t);
    assert!(ev2.iter().any(|e| e.action == EventAction::Shadow));
    let (a3, _) = e.admit_call(&p, &call("1", "5", 0), t);
    assert!(a1.refused.is_none() && a2.refused.is_none() && a3.refused.is_some());
    assert_eq!(e.concurrent("conc", "1"), 2);
    e.call_ended(a1.ticket);
    assert_eq!(e.concurrent("conc", "1"), 1);
    let (a4, _) = e.admit_call(&p, &call("1", "5", 0), t);
    assert!(a4.refused.is_none());
    // Another user has their own count.
    assert!(e.admit_call(&p, &call("2", "5", 0), t).0.refused.is_none());
}

#[test]
fn repeated_calls_day_limits_and_time_windows() {
    let p = policy(
        r#"
[fraud]
utc_offset_minutes = 60
[[fraud.rules]]
name = "rep"
kind = "repeated"
window_secs = 600
limit = 2
[[fraud.rules]]
name = "night"
kind = "calls_per_day"
prefixes = ["00"]
hours = "22:00-06:00"
days = ["thu"]
limit = 1
[[fraud.rules]]
name = "dur"
kind = "duration"
warn = 5
limit = 9
"#,
    );
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    assert!(
        e.admit_call(&p, &call("1", "555", 0), t)
            .0
            .refused
            .is_none()
    );
    assert!(
        e.admit_call(&p, &call("1", "555", 0), t)
            .0
            .refused
            .is_none()
    );
    assert!(
        e.admit_call(&p, &call("1", "556", 0), t)
            .0
            .refused
            .is_none()
    );
    assert!(
        e.admit_call(&p, &call("1", "555", 0), t)
            .0
            .refused
            .is_some()
    );
    // 1970-01-01 was a Thursday; 23:30 UTC+1 is 22:30 UTC.
    let thu_night = 22 * 3600 + 30 * 60;
    let fri_noon = 86_400 + 11 * 3600;
    assert!(
        e.admit_call(&p, &call("1", "0044", thu_night), t)
            .0
            .refused
            .is_none()
    );
    assert!(
        e.admit_call(&p, &call("1", "0045", thu_night), t)
            .0
            .refused
            .is_some()
    );
    assert!(
        e.admit_call(&p, &call("1", "0046", fri_noon), t)
            .0
            .refused
            .is_none()
    );
    let (a, _) = e.admit_call(&p, &call("9", "1", 0), t);
    let (limit, warn, _) = a.max_duration.unwrap();
    assert_eq!(
        (limit, warn),
        (Duration::from_secs(9), Some(Duration::from_secs(5)))
    );
}

#[test]
fn fraud_keys_expire() {
    let p = policy("[[fraud.rules]]\nname = \"cpm\"\nkind = \"calls_per_minute\"\nlimit = 5\n");
    let t = t0();
    let mut e = Engine::new(Arc::new(Bans::default()), t);
    for u in 0..50 {
        let user = u.to_string();
        e.admit_call(&p, &call(&user, "5", 0), t);
    }
    assert_eq!(e.sizes().fraud_keys, 50);
    let sizes = e.housekeeping(&p, t + Duration::from_secs(61));
    assert_eq!(sizes.fraud_keys, 0);
}

#[derive(Debug, Clone)]
enum Step {
    Start(u8),
    End(usize),
    Wait(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..4).prop_map(Step::Start),
        (0usize..16).prop_map(Step::End),
        (0u16..90).prop_map(Step::Wait),
    ]
}

proptest! {
    /// Whatever order calls start and end in (every end path releases through the same ticket),
    /// the concurrency counter equals the calls alive, the limit is never exceeded, and the
    /// per-minute counter admits exactly what a sliding 60 s window allows.
    #[test]
    fn counters_match_a_model(steps in proptest::collection::vec(step(), 1..120)) {
        let p = policy(r#"
[[fraud.rules]]
name = "conc"
kind = "concurrent"
limit = 3
[[fraud.rules]]
name = "cpm"
kind = "calls_per_minute"
limit = 4
"#);
        let t = t0();
        let mut now: Instant = t;
        let mut e = Engine::new(Arc::new(Bans::default()), t);
        let mut live: Vec<(u8, super::Ticket)> = Vec::new();
        let mut admitted: Vec<(u8, Instant)> = Vec::new();
        for s in steps {
            match s {
                Step::Start(u) => {
                    let user = u.to_string();
                    let alive = live.iter().filter(|(x, _)| *x == u).count();
                    let recent = admitted
                        .iter()
                        .filter(|(x, at)| *x == u && now.duration_since(*at) < Duration::from_secs(60))
                        .count();
                    let (a, _) = e.admit_call(&p, &call(&user, "5", 0), now);
                    let expect_ok = alive < 3 && recent < 4;
                    prop_assert_eq!(a.refused.is_none(), expect_ok);
                    if expect_ok {
                        live.push((u, a.ticket));
                        admitted.push((u, now));
                    }
                }
                Step::End(i) if !live.is_empty() => {
                    let (_, ticket) = live.remove(i % live.len());
                    e.call_ended(ticket);
                }
                Step::End(_) => {}
                Step::Wait(secs) => {
                    now += Duration::from_secs(u64::from(secs));
                    e.housekeeping(&p, now);
                }
            }
            for u in 0..4u8 {
                let n = live.iter().filter(|(x, _)| *x == u).count() as u32;
                prop_assert_eq!(e.concurrent("conc", &u.to_string()), n);
            }
        }
        for (_, ticket) in live.drain(..) {
            e.call_ended(ticket);
        }
        // Nothing alive, nothing recent: every key is gone (memory is bounded by activity).
        prop_assert_eq!(e.housekeeping(&p, now + Duration::from_secs(61)).fraud_keys, 0);
    }
}

#[test]
fn peers_only_admits_named_peers_but_deny_wins() {
    let p = policy(
        "[acl.realms.core]\npeers_only = true\ndeny = [\"10.0.9.9\"]\n[acl.realms.access]\nallow = [\"192.0.2.0/24\"]\n",
    );
    let other: std::net::IpAddr = "10.0.5.5".parse().unwrap();
    assert!(
        p.acl.admits("core", "10.0.1.20".parse().unwrap()),
        "configured peer IP"
    );
    assert!(!p.acl.admits("core", other));
    assert!(
        p.acl.admits_with("core", other, || true),
        "a peer configured by host name"
    );
    assert!(
        !p.acl
            .admits_with("core", "10.0.9.9".parse().unwrap(), || true)
    );
    assert!(p.acl.admits("access", "192.0.2.7".parse().unwrap()));
    assert!(!p.acl.admits("access", "198.51.100.7".parse().unwrap()));
}
