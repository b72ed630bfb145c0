//! Validation of the process-wide sections (pure): `[sip]` timers and identity, `[sip.limits]`,
//! `[metrics]`, `[log]` and `policy_dir`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Ctx, Keywords};
use crate::config::address::AddressError;
use crate::config::error::{KeyPath, Problem};
use crate::config::file::{LimitsFile, LogFile, MetricsFile, SipFile};
use crate::config::model::{
    DEFAULT_LOG_LEVEL, DEFAULT_POLICY_DIR, DEFAULT_T1_MS, DEFAULT_T2_MS, DEFAULT_T4_MS,
    DEFAULT_USER_AGENT, LogConfig, LogFormat, MetricsConfig, SipConfig, SipLimits,
};

const LOG_FORMAT: Keywords<LogFormat> = Keywords {
    table: &[("text", LogFormat::Text), ("json", LogFormat::Json)],
    expected: "text, json",
};

/// Longest accepted timer: ten minutes.
const MAX_TIMER_MS: i64 = 600_000;
/// Largest accepted byte limit: 16 MiB.
const MAX_BYTES: i64 = 16 * 1024 * 1024;
/// Largest accepted header or Via count.
const MAX_COUNT: i64 = 10_000;
/// Longest User-Agent/Server value.
const MAX_USER_AGENT: usize = 128;

/// `[sip]`: T1 < T2, every timer 1..=600000 ms, a wire-safe User-Agent, and the limits.
pub(super) fn sip(ctx: &mut Ctx<'_>, file: &SipFile) -> SipConfig {
    let path = KeyPath::root().key("sip");
    let mut timer = |value: Option<i64>, default: u64, key: &str| {
        let ms = value.unwrap_or(default as i64);
        ctx.int_in(ms, 1, MAX_TIMER_MS, path.key(key))
    };
    let t1 = timer(file.t1_ms, DEFAULT_T1_MS, "t1_ms");
    let t2 = timer(file.t2_ms, DEFAULT_T2_MS, "t2_ms");
    let t4 = timer(file.t4_ms, DEFAULT_T4_MS, "t4_ms");
    if let (Some(t1), Some(t2)) = (t1, t2) {
        if t1 >= t2 {
            let problem = Problem::NotLess {
                value: t1,
                other_key: "t2_ms",
                other: t2,
            };
            ctx.report(path.key("t1_ms"), problem);
        }
    }
    let user_agent = file.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
    let wire_safe = (1..=MAX_USER_AGENT).contains(&user_agent.len())
        && user_agent.bytes().all(|b| (0x20..0x7f).contains(&b))
        && user_agent.trim() == user_agent;
    if !wire_safe {
        ctx.report(path.key("user_agent"), Problem::InvalidHeaderValue);
    }
    let millis = |ms: Option<i64>, default: u64| {
        Duration::from_millis(ms.map_or(default, i64::unsigned_abs))
    };
    SipConfig {
        t1: millis(t1, DEFAULT_T1_MS),
        t2: millis(t2, DEFAULT_T2_MS),
        t4: millis(t4, DEFAULT_T4_MS),
        user_agent: user_agent.to_owned(),
        limits: limits(ctx, &file.limits, &path.key("limits")),
    }
}

/// `[sip.limits]`: every limit positive and bounded; body and line fit in a message.
fn limits(ctx: &mut Ctx<'_>, file: &LimitsFile, path: &KeyPath) -> SipLimits {
    let defaults = SipLimits::default();
    let mut get = |value: Option<i64>, default: usize, max: i64, key: &str| {
        let value = value.unwrap_or(default as i64);
        ctx.int_in(value, 1, max, path.key(key))
            .map(i64::unsigned_abs)
            .and_then(|v| usize::try_from(v).ok())
    };
    let message = get(
        file.max_message_bytes,
        defaults.max_message_bytes,
        MAX_BYTES,
        "max_message_bytes",
    );
    let body = get(
        file.max_body_bytes,
        defaults.max_body_bytes,
        MAX_BYTES,
        "max_body_bytes",
    );
    let headers = get(
        file.max_headers,
        defaults.max_headers,
        MAX_COUNT,
        "max_headers",
    );
    let line = get(
        file.max_line_bytes,
        defaults.max_line_bytes,
        MAX_BYTES,
        "max_line_bytes",
    );
    let via = get(file.max_via, defaults.max_via, MAX_COUNT, "max_via");
    if let Some(message) = message {
        for (value, key) in [(body, "max_body_bytes"), (line, "max_line_bytes")] {
            if let Some(value) = value.filter(|&v| v > message) {
                let problem = Problem::Exceeds {
                    value: value as i64,
                    other_key: "max_message_bytes",
                    other: message as i64,
                };
                ctx.report(path.key(key), problem);
            }
        }
    }
    SipLimits {
        max_message_bytes: message.unwrap_or(defaults.max_message_bytes),
        max_body_bytes: body.unwrap_or(defaults.max_body_bytes),
        max_headers: headers.unwrap_or(defaults.max_headers),
        max_line_bytes: line.unwrap_or(defaults.max_line_bytes),
        max_via: via.unwrap_or(defaults.max_via),
    }
}

/// `[metrics]`: the listen address parses as `ip:port`.
pub(super) fn metrics(ctx: &mut Ctx<'_>, file: &MetricsFile) -> MetricsConfig {
    let mut config = MetricsConfig::default();
    if let Some(text) = &file.listen {
        match text.parse::<SocketAddr>() {
            Ok(listen) => config.listen = listen,
            Err(_) => ctx.report(
                KeyPath::root().key("metrics").key("listen"),
                AddressError::SocketAddr(text.clone()),
            ),
        }
    }
    config
}

/// `policy_dir`: an explicit directory must exist (a typo would otherwise silently disable
/// every policy); the default may be absent and then means "built-in policy only".
pub(super) fn policy_dir(ctx: &mut Ctx<'_>, value: Option<&Path>) -> PathBuf {
    let Some(value) = value else {
        return ctx.resolve(Path::new(DEFAULT_POLICY_DIR));
    };
    let resolved = ctx.resolve(value);
    if let Err(source) = ctx.files.check_dir(&resolved) {
        let problem = Problem::Directory {
            path: resolved.clone(),
            source,
        };
        ctx.report(KeyPath::root().key("policy_dir"), problem);
    }
    resolved
}

/// `[log]`: a known format and a filter `tracing-subscriber` accepts.
pub(super) fn log(ctx: &mut Ctx<'_>, file: &LogFile) -> LogConfig {
    let path = KeyPath::root().key("log");
    let format = ctx.keyword(
        file.format.as_deref(),
        &LOG_FORMAT,
        LogFormat::Text,
        path.key("format"),
    );
    let level = file.level.as_deref().unwrap_or(DEFAULT_LOG_LEVEL);
    if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(level) {
        ctx.report(path.key("level"), Problem::LogFilter(e.to_string()));
    }
    LogConfig {
        format,
        level: level.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::config::model::{LogFormat, SipConfig};
    use crate::config::validate::testing::{BASE, Case, check, run_cases};

    #[test]
    fn sip_rules() {
        run_cases(&[
            Case::replace(
                "t1 equals t2",
                "t1_ms = 500",
                "t1_ms = 4000",
                &["sip.t1_ms: 4000 must be less than t2_ms (4000)"],
            ),
            Case::replace(
                "zero t1",
                "t1_ms = 500",
                "t1_ms = 0",
                &["sip.t1_ms: 0 is out of range 1..=600000"],
            ),
            Case::replace(
                "huge t4",
                "t4_ms = 5000",
                "t4_ms = 6000000",
                &["sip.t4_ms: 6000000 is out of range 1..=600000"],
            ),
            Case::replace(
                "t2 below default t1",
                "t2_ms = 4000",
                "t2_ms = 100",
                &["sip.t1_ms: 500 must be less than t2_ms (100)"],
            ),
            Case::replace(
                "empty user agent",
                "user_agent = \"sbc\"",
                "user_agent = \"\"",
                &["sip.user_agent: must be 1-128 printable ASCII"],
            ),
            Case::replace(
                "user agent with newline",
                "user_agent = \"sbc\"",
                "user_agent = \"sbc\\r\\nX-Evil: 1\"",
                &["sip.user_agent: must be 1-128"],
            ),
            Case::replace(
                "zero message size",
                "max_message_bytes = 65535",
                "max_message_bytes = 0",
                &["sip.limits.max_message_bytes: 0 is out of range 1..=16777216"],
            ),
            Case::replace(
                "body larger than message",
                "max_body_bytes = 32768",
                "max_body_bytes = 70000",
                &["sip.limits.max_body_bytes: 70000 must not exceed max_message_bytes (65535)"],
            ),
            Case::replace(
                "line larger than message",
                "max_line_bytes = 8192",
                "max_line_bytes = 65536",
                &["sip.limits.max_line_bytes: 65536 must not exceed max_message_bytes (65535)"],
            ),
            Case::new(
                "unknown table under limits",
                "[sip.limits.extra]\n",
                &["sip.limits.extra: unknown key"],
            ),
            Case::replace(
                "zero headers",
                "max_line_bytes = 8192",
                "max_line_bytes = 8192\nmax_headers = 0\nmax_via = -1",
                &[
                    "sip.limits.max_headers: 0 is out of range 1..=10000",
                    "sip.limits.max_via: -1 is out of range 1..=10000",
                ],
            ),
        ]);
    }

    #[test]
    fn metrics_log_and_policy_rules() {
        run_cases(&[
            Case::replace(
                "bad metrics listen",
                "listen = \"127.0.0.1:9090\"",
                "listen = \"localhost:9090\"",
                &["metrics.listen: \"localhost:9090\" is not an IP:PORT socket address"],
            ),
            Case::replace(
                "unknown log format",
                "format = \"text\"",
                "format = \"xml\"",
                &["log.format: unknown value \"xml\" (expected one of: text, json)"],
            ),
            Case::replace(
                "bad log filter",
                "level = \"info\"",
                "level = \"sbc=[\"",
                &["log.level: invalid log filter"],
            ),
            Case::replace(
                "json logs with a directive",
                "format = \"text\"\nlevel = \"info\"",
                "format = \"json\"\nlevel = \"warn,sbc::sip=debug\"",
                &[],
            ),
            Case::prepend(
                "explicit policy dir exists",
                "policy_dir = \"policies\"",
                &[],
            ),
            Case::prepend(
                "explicit policy dir missing",
                "policy_dir = \"policy\"",
                &["policy_dir: not a usable directory /cfg/policy"],
            ),
        ]);
    }

    #[test]
    fn defaults_apply_when_sections_are_absent() {
        let text = BASE
            .split("[sip]")
            .next()
            .expect("base has a [sip] section");
        let config = check(text).expect("config without optional sections is valid");
        assert_eq!(config.sip, SipConfig::default());
        assert_eq!(config.sip.t1, Duration::from_millis(500));
        assert_eq!(config.sip.limits.max_via, 70);
        assert_eq!(config.sip.user_agent, "sbc");
        assert_eq!(config.metrics.listen, "127.0.0.1:9090".parse().unwrap());
        assert_eq!(config.log.format, LogFormat::Text);
        assert_eq!(config.log.level, "info");
        assert_eq!(config.policy_dir, Path::new("/cfg/policies"));
    }
}
