//! Watching registered flows (pure): which bindings get keep-alive pings and when, which are
//! behind a NAT, and what the shell needs to withdraw a binding at the registrar when it goes.
//!
//! A binding is tracked once the PBX accepted it. Bindings behind a NAT on UDP, and every
//! binding on TCP/TLS, are pinged every `interval` (an OPTIONS from the SBC over the flow the
//! phone registered on): on UDP it keeps the NAT mapping open and proves the phone is still
//! there; on a connection it proves the connection still leads somewhere. Any response counts as
//! alive; no response (transaction timeout or transport error) means the flow is dead and the
//! binding is removed. One ping is in flight per binding at a time.

use bytes::Bytes;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Entry<U> {
    nat: bool,
    ping: bool,
    next: Option<Instant>,
    in_flight: bool,
    upstream: U,
}

/// The tracked bindings, by binding key; `U` is what the shell keeps to withdraw a binding.
#[derive(Debug)]
pub struct Watch<U> {
    entries: HashMap<Bytes, Entry<U>>,
    interval: Option<Duration>,
    behind_nat: usize,
}

impl<U> Watch<U> {
    /// A table pinging every `interval` (`None`: no pings).
    pub fn new(interval: Option<Duration>) -> Self {
        Watch {
            entries: HashMap::new(),
            interval,
            behind_nat: 0,
        }
    }

    /// Starts (or refreshes) watching binding `key`: `nat` when its registration looked NAT'd,
    /// `stream` when it is on a connection; `upstream` replaces what was kept before.
    pub fn track(&mut self, key: Bytes, nat: bool, stream: bool, upstream: U, now: Instant) {
        let ping = self.interval.is_some() && (nat || stream);
        let next = self.interval.filter(|_| ping).map(|i| now + i);
        match self.entries.get_mut(&key) {
            Some(entry) => {
                if entry.nat != nat {
                    self.behind_nat = if nat {
                        self.behind_nat + 1
                    } else {
                        self.behind_nat - 1
                    };
                }
                entry.nat = nat;
                entry.ping = ping;
                entry.upstream = upstream;
                if !entry.in_flight {
                    entry.next = next;
                }
            }
            None => {
                self.behind_nat += usize::from(nat);
                self.entries.insert(
                    key,
                    Entry {
                        nat,
                        ping,
                        next,
                        in_flight: false,
                        upstream,
                    },
                );
            }
        }
    }

    /// Stops watching `key`; returns what was kept for it.
    pub fn forget(&mut self, key: &[u8]) -> Option<U> {
        let entry = self.entries.remove(key)?;
        self.behind_nat -= usize::from(entry.nat);
        Some(entry.upstream)
    }

    /// The bindings whose ping is due; each is marked in flight until
    /// [`Watch::answered`] or [`Watch::failed`].
    pub fn due(&mut self, now: Instant) -> Vec<Bytes> {
        let mut due = Vec::new();
        for (key, entry) in &mut self.entries {
            if entry.ping && !entry.in_flight && entry.next.is_some_and(|t| t <= now) {
                entry.in_flight = true;
                entry.next = None;
                due.push(key.clone());
            }
        }
        due
    }

    /// The ping of `key` got a response: the next one is due an interval from now.
    pub fn answered(&mut self, key: &[u8], now: Instant) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.in_flight = false;
            entry.next = self.interval.map(|i| now + i);
        }
    }

    /// The ping of `key` got no response: the flow is dead; stops watching it and returns what
    /// was kept to withdraw it.
    pub fn failed(&mut self, key: &[u8]) -> Option<U> {
        self.forget(key)
    }

    /// Stops watching every binding `keep` refuses.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8]) -> bool) {
        let before = self.entries.len();
        let mut nat_gone = 0;
        self.entries.retain(|k, e| {
            let kept = keep(k);
            nat_gone += usize::from(!kept && e.nat);
            kept
        });
        if self.entries.len() != before {
            self.behind_nat -= nat_gone;
        }
    }

    /// When the next ping is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter(|e| e.ping && !e.in_flight)
            .filter_map(|e| e.next)
            .min()
    }

    /// How many watched bindings registered from behind a NAT.
    pub fn behind_nat(&self) -> usize {
        self.behind_nat
    }

    /// How many bindings are watched.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn key(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn nat_udp_and_stream_bindings_are_pinged_others_are_not() {
        let now = t0();
        let i = Duration::from_secs(30);
        let mut w = Watch::new(Some(i));
        w.track(key("nat-udp"), true, false, 1, now);
        w.track(key("open-udp"), false, false, 2, now);
        w.track(key("tcp"), false, true, 3, now);
        assert_eq!(w.behind_nat(), 1);
        assert_eq!(w.next_due(), Some(now + i));
        assert!(w.due(now + i - Duration::from_secs(1)).is_empty());
        let mut due = w.due(now + i);
        due.sort();
        assert_eq!(due, vec![key("nat-udp"), key("tcp")]);
        assert!(
            w.due(now + i * 2).is_empty(),
            "one ping in flight at a time"
        );
        assert_eq!(w.next_due(), None);
        w.answered(b"nat-udp", now + i);
        assert_eq!(w.next_due(), Some(now + i * 2));
        assert_eq!(w.failed(b"tcp"), Some(3));
        assert_eq!(w.len(), 2);
        assert_eq!(w.forget(b"nat-udp"), Some(1));
        assert_eq!(w.behind_nat(), 0);
        assert_eq!(w.forget(b"nat-udp"), None);
    }

    #[test]
    fn refresh_updates_the_nat_count_and_keeps_an_inflight_ping() {
        let now = t0();
        let i = Duration::from_secs(10);
        let mut w = Watch::new(Some(i));
        w.track(key("a"), true, false, "first", now);
        assert_eq!(w.due(now + i), vec![key("a")]);
        w.track(key("a"), false, true, "second", now + i);
        assert_eq!(w.behind_nat(), 0);
        assert!(
            w.due(now + i * 5).is_empty(),
            "the ping in flight stays the only one"
        );
        assert_eq!(w.forget(b"a"), Some("second"));
    }

    #[test]
    fn without_an_interval_nothing_is_pinged() {
        let now = t0();
        let mut w = Watch::new(None);
        w.track(key("a"), true, true, (), now);
        assert_eq!(w.behind_nat(), 1);
        assert_eq!(w.next_due(), None);
        assert!(w.due(now + Duration::from_secs(3600)).is_empty());
    }
}
