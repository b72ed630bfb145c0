//! What a configuration reload may change in a running SBC (pure): [`diff`] compares the running
//! configuration with the file as re-read and sorts every changed key path into *live* (applied
//! at once by [`apply_live`]) and *restart* (logged; the running value stays until a restart).
//!
//! | live | restart |
//! |---|---|
//! | `log.level`, `sip.user_agent`, `sip.t1_ms`/`t2_ms`/`t4_ms` (new transactions and calls), `routes` (when `peers` is unchanged), `admin.token_file` (the token is re-read), `shutdown.*` | `realms[i]`, `peers`, `sip.limits`, `transport`, `metrics.listen`, `log.format`, `policy_dir`, `records`, `admin.enabled` |

use super::Config;

/// The key paths a reload changes, sorted by whether they apply live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Applied by [`apply_live`].
    pub live: Vec<String>,
    /// Kept at their running value until the SBC restarts.
    pub restart: Vec<String>,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty() && self.restart.is_empty()
    }
}

/// Compares the running configuration `old` with `new`.
pub fn diff(old: &Config, new: &Config) -> Changes {
    let mut changes = Changes::default();
    let mut live = |changed: bool, key: &str| {
        if changed {
            changes.live.push(key.to_owned());
        }
    };
    live(old.log.level != new.log.level, "log.level");
    live(old.sip.user_agent != new.sip.user_agent, "sip.user_agent");
    live(old.sip.t1 != new.sip.t1, "sip.t1_ms");
    live(old.sip.t2 != new.sip.t2, "sip.t2_ms");
    live(old.sip.t4 != new.sip.t4, "sip.t4_ms");
    live(
        old.admin.token_file != new.admin.token_file,
        "admin.token_file",
    );
    live(
        old.shutdown.drain_timeout != new.shutdown.drain_timeout,
        "shutdown.drain_timeout_secs",
    );
    live(
        old.shutdown.retry_after != new.shutdown.retry_after,
        "shutdown.retry_after_secs",
    );
    let peers_same = old.peers == new.peers;
    if old.routes != new.routes {
        let list = if peers_same {
            &mut changes.live
        } else {
            &mut changes.restart
        };
        list.push("routes".to_owned());
    }
    let mut restart = |changed: bool, key: String| {
        if changed {
            changes.restart.push(key);
        }
    };
    if old.realms.len() == new.realms.len() {
        for (i, (a, b)) in old.realms.iter().zip(&new.realms).enumerate() {
            restart(a != b, format!("realms[{i}]"));
        }
    } else {
        restart(true, "realms".to_owned());
    }
    restart(!peers_same, "peers".to_owned());
    restart(old.sip.limits != new.sip.limits, "sip.limits".to_owned());
    restart(old.transport != new.transport, "transport".to_owned());
    restart(
        old.metrics.listen != new.metrics.listen,
        "metrics.listen".to_owned(),
    );
    restart(old.log.format != new.log.format, "log.format".to_owned());
    restart(old.policy_dir != new.policy_dir, "policy_dir".to_owned());
    restart(old.records != new.records, "records".to_owned());
    restart(
        old.admin.enabled != new.admin.enabled,
        "admin.enabled".to_owned(),
    );
    changes
}

/// The running configuration `old` with every live setting taken from `new`.
pub fn apply_live(old: &Config, new: &Config) -> Config {
    let mut next = old.clone();
    next.log.level = new.log.level.clone();
    next.sip.user_agent = new.sip.user_agent.clone();
    next.sip.t1 = new.sip.t1;
    next.sip.t2 = new.sip.t2;
    next.sip.t4 = new.sip.t4;
    next.admin.token_file = new.admin.token_file.clone();
    next.shutdown = new.shutdown;
    if old.peers == new.peers {
        next.routes = new.routes.clone();
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::validate::testing::{BASE, check};

    fn config(edit: impl Fn(String) -> String) -> Config {
        check(&edit(BASE.to_owned())).expect("valid")
    }

    #[test]
    fn nothing_changed() {
        let a = config(|s| s);
        assert!(diff(&a, &a.clone()).is_empty());
        assert_eq!(apply_live(&a, &a), a);
    }

    #[test]
    fn live_and_restart_keys_are_sorted_and_only_live_ones_apply() {
        let old = config(|s| s);
        let new = config(|s| {
            s.replace("user_agent = \"sbc\"", "user_agent = \"edge\"")
                .replace("t1_ms = 500", "t1_ms = 250")
                .replace("level = \"info\"", "level = \"debug\"")
                .replace("max_body_bytes = 32768", "max_body_bytes = 1000")
                .replace("port_max = 49999", "port_max = 48999")
                .replace("user_prefix = \"00\"", "user_prefix = \"011\"")
        });
        let changes = diff(&old, &new);
        assert_eq!(
            changes.live,
            ["log.level", "sip.user_agent", "sip.t1_ms", "routes"]
        );
        assert_eq!(changes.restart, ["realms[1]", "sip.limits"]);
        let next = apply_live(&old, &new);
        assert_eq!(next.sip.user_agent, "edge");
        assert_eq!(next.sip.t1, std::time::Duration::from_millis(250));
        assert_eq!(next.log.level, "debug");
        assert_eq!(next.routes, new.routes);
        assert_eq!(
            next.sip.limits, old.sip.limits,
            "restart keys keep running values"
        );
        assert_eq!(next.realms, old.realms);
    }

    #[test]
    fn routes_need_a_restart_when_peers_change() {
        let old = config(|s| s);
        let new = config(|s| {
            s.replace(
                "options_ping_interval_secs = 30",
                "options_ping_interval_secs = 10",
            )
            .replace("user_prefix = \"00\"", "user_prefix = \"011\"")
        });
        let changes = diff(&old, &new);
        assert!(changes.live.is_empty(), "{changes:?}");
        assert_eq!(changes.restart, ["routes", "peers"]);
        assert_eq!(apply_live(&old, &new).routes, old.routes);
    }
}
