//! Validation of `[subscriptions]` and `[realms.dscp]` (pure): ranges, an expiry order that
//! holds (min ≤ default ≤ max), and event package names that are RFC 3261 tokens.

use std::time::Duration;

use super::Ctx;
use crate::config::error::{KeyPath, Problem};
use crate::config::signaling::{
    DSCP_MAX, DscpConfig, DscpFile, SubscriptionsConfig, SubscriptionsFile,
};

/// `[subscriptions]`: absent keys take their defaults.
pub(super) fn subscriptions(ctx: &mut Ctx<'_>, file: &SubscriptionsFile) -> SubscriptionsConfig {
    let d = SubscriptionsConfig::default();
    let path = KeyPath::root().key("subscriptions");
    let mut int = |value: Option<i64>, default: u64, min: i64, max: i64, key: &str| -> u64 {
        let value = value.unwrap_or(default as i64);
        ctx.int_in(value, min, max, path.key(key))
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(default)
    };
    let day = 86_400;
    let default_expires = int(
        file.default_expires_secs,
        d.default_expires.as_secs(),
        1,
        day,
        "default_expires_secs",
    );
    let min_expires = int(
        file.min_expires_secs,
        d.min_expires.as_secs(),
        1,
        day,
        "min_expires_secs",
    );
    let max_expires = int(
        file.max_expires_secs,
        d.max_expires.as_secs(),
        1,
        day,
        "max_expires_secs",
    );
    let grace = int(file.grace_secs, d.grace.as_secs(), 0, 3_600, "grace_secs");
    let max_subscriptions = int(
        file.max_subscriptions,
        d.max_subscriptions as u64,
        1,
        10_000_000,
        "max_subscriptions",
    );
    let max_pending_requests = int(
        file.max_pending_requests,
        d.max_pending_requests as u64,
        1,
        1_000_000,
        "max_pending_requests",
    );
    if min_expires > max_expires {
        ctx.report(
            path.key("min_expires_secs"),
            Problem::Exceeds {
                value: min_expires as i64,
                other_key: "max_expires_secs",
                other: max_expires as i64,
            },
        );
    }
    let events = match &file.events {
        None => d.events,
        Some(list) => {
            if list.is_empty() {
                ctx.report(path.key("events"), Problem::EmptyList);
            }
            for (i, event) in list.iter().enumerate() {
                if event.is_empty() || !crate::sip::scan::is_token(event.as_bytes()) {
                    ctx.report(
                        path.key("events").index(i),
                        Problem::InvalidName(event.clone()),
                    );
                }
            }
            list.iter().map(|e| e.to_ascii_lowercase()).collect()
        }
    };
    SubscriptionsConfig {
        events,
        default_expires: Duration::from_secs(default_expires.min(max_expires).max(min_expires)),
        min_expires: Duration::from_secs(min_expires),
        max_expires: Duration::from_secs(max_expires),
        grace: Duration::from_secs(grace),
        max_subscriptions: max_subscriptions as usize,
        max_pending_requests: max_pending_requests as usize,
    }
}

/// `[realms.dscp]` of the realm at `path`: code points 0..=63.
pub(super) fn dscp(ctx: &mut Ctx<'_>, file: Option<&DscpFile>, path: &KeyPath) -> DscpConfig {
    let d = DscpConfig::default();
    let Some(file) = file else { return d };
    let path = path.key("dscp");
    let mut code = |value: Option<i64>, default: u8, key: &str| -> u8 {
        value
            .and_then(|v| ctx.int_in(v, 0, i64::from(DSCP_MAX), path.key(key)))
            .and_then(|v| u8::try_from(v).ok())
            .unwrap_or(default)
    };
    DscpConfig {
        sip: code(file.sip, d.sip, "sip"),
        media: code(file.media, d.media, "media"),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::signaling::{DSCP_CS3, DSCP_EF};
    use crate::config::validate::testing::check;
    use std::time::Duration;

    fn base() -> &'static str {
        "[[realms]]\nname = \"access\"\nlisteners = [\"udp:127.0.0.1:5060\"]\n\
         [realms.media]\naddress = \"127.0.0.1\"\nport_min = 30000\nport_max = 30999\n"
    }

    #[test]
    fn defaults_apply_when_absent() {
        let config = check(base()).expect("valid");
        assert_eq!(config.realms[0].dscp.sip, DSCP_CS3);
        assert_eq!(config.realms[0].dscp.media, DSCP_EF);
        assert_eq!(config.subscriptions.max_expires, Duration::from_secs(3600));
        assert!(config.subscriptions.allows(b"Message-Summary"));
        assert!(!config.subscriptions.allows(b"conference"));
    }

    #[test]
    fn values_are_read_and_checked() {
        let text = format!(
            "{}[realms.dscp]\nsip = 26\nmedia = 34\n\n[subscriptions]\nevents = [\"Presence\"]\n\
             min_expires_secs = 1\nmax_expires_secs = 120\ngrace_secs = 0\n",
            base()
        );
        let config = check(&text).expect("valid");
        assert_eq!(
            (config.realms[0].dscp.sip, config.realms[0].dscp.media),
            (26, 34)
        );
        assert_eq!(config.subscriptions.events, vec!["presence".to_owned()]);
        assert_eq!(
            config.subscriptions.default_expires,
            Duration::from_secs(120)
        );
        let bad = format!(
            "{}[realms.dscp]\nsip = 64\n\n[subscriptions]\nevents = [\"a b\"]\n\
             min_expires_secs = 100\nmax_expires_secs = 50\n",
            base()
        );
        let errors = check(&bad).expect_err("invalid").to_string();
        for key in [
            "realms[0].dscp.sip",
            "subscriptions.events[0]",
            "subscriptions.min_expires_secs",
        ] {
            assert!(errors.contains(key), "{key} missing in {errors}");
        }
    }
}
