//! Security events as JSON lines (pure): one line per blocking, banning, warning or shadow
//! decision, with the time first and the source second so that fail2ban's `failregex`
//! (`deploy/fail2ban/`) can anchor on them:
//!
//! ```text
//! {"time":"2026-11-22T07:30:15.123Z","source":"192.0.2.7","port":5060,"kind":"scanner","rule":"friendly-scanner","action":"ban","ban_secs":60}
//! ```
//!
//! Strings from the network (user, destination) are escaped; nothing secret is ever logged.

use crate::policy::engine::Event;
use std::fmt::Write;

/// `unix_millis` as RFC 3339 UTC with milliseconds.
pub fn rfc3339(unix_millis: i64) -> String {
    let secs = unix_millis.div_euclid(1000);
    let millis = unix_millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Appends `s` as a JSON string literal.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The JSON line of `event` at `unix_millis` (no trailing newline).
pub fn json_line(event: &Event, unix_millis: i64) -> String {
    let mut out = String::with_capacity(192);
    out.push_str("{\"time\":");
    string(&mut out, &rfc3339(unix_millis));
    out.push_str(",\"source\":");
    string(&mut out, &event.source.ip().to_string());
    let _ = write!(out, ",\"port\":{}", event.source.port());
    out.push_str(",\"kind\":");
    string(&mut out, event.kind);
    out.push_str(",\"rule\":");
    string(&mut out, &event.rule);
    out.push_str(",\"action\":");
    string(&mut out, event.action.as_str());
    if let Some(user) = &event.user {
        out.push_str(",\"user\":");
        string(&mut out, user);
    }
    if let Some(dest) = &event.destination {
        out.push_str(",\"destination\":");
        string(&mut out, dest);
    }
    if let Some(ban) = event.ban {
        let _ = write!(out, ",\"ban_secs\":{}", ban.as_secs());
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::engine::EventAction;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_332_615_123), "2026-11-22T07:30:15.123Z");
    }

    #[test]
    fn line_shape_and_escaping() {
        let e = Event {
            kind: "scanner",
            rule: Arc::from("friendly-scanner"),
            action: EventAction::Ban,
            source: "192.0.2.7:5060".parse().unwrap(),
            user: Some("a\"b\\c\r\n".into()),
            destination: None,
            ban: Some(Duration::from_secs(60)),
        };
        let line = json_line(&e, 0);
        assert_eq!(
            line,
            "{\"time\":\"1970-01-01T00:00:00.000Z\",\"source\":\"192.0.2.7\",\"port\":5060,\
             \"kind\":\"scanner\",\"rule\":\"friendly-scanner\",\"action\":\"ban\",\
             \"user\":\"a\\\"b\\\\c\\u000d\\u000a\",\"ban_secs\":60}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["user"], "a\"b\\c\r\n");
    }
}
