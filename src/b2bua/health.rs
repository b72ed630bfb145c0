//! Peer reachability (pure): one state machine per configured peer address, fed by SIP OPTIONS
//! probes (RFC 3261 §11, the `options_ping_interval` of a peer) and passively by call attempts
//! (a transport error or timeout, RFC 3261 §8.1.3.1, or a `503`, RFC 3261 §21.5.4, counts as a
//! failure). No sockets, no clock: every input carries `now`, and [`PeerHealthTable::due_probes`]
//! / [`PeerHealthTable::next_due`] tell the shell when to send the next probe.
//!
//! An address is routable while it is [`HealthState::Unknown`] or [`HealthState::Up`]. It goes
//! [`HealthState::Down`] after [`HealthPolicy::down_after`] consecutive failures and comes back
//! after [`HealthPolicy::up_after`] consecutive successes. An address without probing has no way
//! to prove itself alive, so a passive `Down` is lifted after [`HealthPolicy::passive_hold`]: the
//! next call is allowed to try it again.
//!
//! [`route`](super::route::route) reads the table through the [`HealthView`] trait, bound to a
//! moment with [`PeerHealthTable::at`], so routing stays a pure function of its inputs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::config::address::PeerAddress;
use crate::config::model::Peer;

/// Thresholds of the health state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Consecutive failures that take a routable address down. Values below 1 act as 1.
    pub down_after: u32,
    /// Consecutive successes that bring a down address back up. Values below 1 act as 1.
    pub up_after: u32,
    /// How long a passively marked address without probing stays down.
    pub passive_hold: Duration,
}

impl Default for HealthPolicy {
    /// Down after 2 failures, up after 2 successes, passive hold 30 s.
    fn default() -> Self {
        Self {
            down_after: 2,
            up_after: 2,
            passive_hold: Duration::from_secs(30),
        }
    }
}

/// The reachability of one peer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// No success seen yet (start, or after a configuration change); routable.
    Unknown {
        /// Consecutive failures so far.
        failures: u32,
    },
    /// Answered recently; routable.
    Up {
        /// Consecutive failures since the last success.
        failures: u32,
    },
    /// Failed [`HealthPolicy::down_after`] times in a row; not routable.
    Down {
        /// When it went down.
        since: Instant,
        /// Consecutive successes since it went down.
        successes: u32,
    },
}

impl HealthState {
    /// The state after one probe or call result (`ok`: the peer answered).
    pub fn next(self, ok: bool, now: Instant, policy: &HealthPolicy) -> HealthState {
        let down_after = policy.down_after.max(1);
        let up_after = policy.up_after.max(1);
        let down = |failures: u32| {
            if failures >= down_after {
                HealthState::Down {
                    since: now,
                    successes: 0,
                }
            } else {
                HealthState::Up { failures }
            }
        };
        match (self, ok) {
            (HealthState::Unknown { .. } | HealthState::Up { .. }, true) => {
                HealthState::Up { failures: 0 }
            }
            (HealthState::Unknown { failures }, false) => match down(failures.saturating_add(1)) {
                HealthState::Up { failures } => HealthState::Unknown { failures },
                other => other,
            },
            (HealthState::Up { failures }, false) => down(failures.saturating_add(1)),
            (HealthState::Down { since, successes }, true) => {
                let successes = successes.saturating_add(1);
                if successes >= up_after {
                    HealthState::Up { failures: 0 }
                } else {
                    HealthState::Down { since, successes }
                }
            }
            // A failure while down restarts the count of successes but keeps `since`.
            (HealthState::Down { since, .. }, false) => HealthState::Down {
                since,
                successes: 0,
            },
        }
    }
}

/// Whether a call attempt's outcome counts against the peer: a transport error or timeout
/// (`None`) or `503 Service Unavailable`. Any other response proves the peer alive.
pub fn call_result_is_failure(status: Option<u16>) -> bool {
    matches!(status, None | Some(503))
}

/// Identifies one address of one peer: the peer's name and the address's index in
/// [`Peer::addresses`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressKey {
    /// The peer's name.
    pub peer: String,
    /// Index into the peer's addresses.
    pub index: usize,
}

/// A probe the shell should send now: an OPTIONS request to `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Which address; pass it back to [`PeerHealthTable::on_probe_result`].
    pub key: AddressKey,
    /// Where to send it.
    pub address: PeerAddress,
}

/// The health of one peer address and its probe schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerHealth {
    /// The address this state belongs to (kept so a reload can tell whether it changed).
    pub address: PeerAddress,
    /// The state machine.
    pub state: HealthState,
    /// Probe interval; `None` when the peer is not probed.
    pub interval: Option<Duration>,
    /// When the next probe is due (never while one is in flight).
    pub next_probe: Option<Instant>,
    /// A probe was sent and its result has not come back yet.
    pub in_flight: bool,
}

impl PeerHealth {
    /// A fresh entry in [`HealthState::Unknown`]; a probed address is due at once.
    pub fn new(address: PeerAddress, interval: Option<Duration>, now: Instant) -> Self {
        Self {
            address,
            state: HealthState::Unknown { failures: 0 },
            interval,
            next_probe: interval.map(|_| now),
            in_flight: false,
        }
    }

    /// Whether calls may be sent to this address at `now`.
    pub fn is_available(&self, now: Instant, policy: &HealthPolicy) -> bool {
        match self.state {
            HealthState::Unknown { .. } | HealthState::Up { .. } => true,
            HealthState::Down { since, .. } => {
                self.interval.is_none() && now >= since + policy.passive_hold
            }
        }
    }

    /// A guess at how long until this address may be available again; `None` when it is
    /// available now.
    pub fn retry_after(&self, now: Instant, policy: &HealthPolicy) -> Option<Duration> {
        if self.is_available(now, policy) {
            return None;
        }
        let HealthState::Down { since, successes } = self.state else {
            return None;
        };
        Some(match self.interval {
            None => (since + policy.passive_hold).saturating_duration_since(now),
            Some(interval) => {
                let first = self
                    .next_probe
                    .map_or(interval, |at| at.saturating_duration_since(now));
                let more = policy.up_after.max(1).saturating_sub(successes + 1);
                first + interval * more
            }
        })
    }

    /// Records the result of an OPTIONS probe (`ok`: any final response arrived; `false`: timeout
    /// or transport error) and schedules the next one.
    pub fn on_probe_result(&mut self, ok: bool, now: Instant, policy: &HealthPolicy) {
        self.state = self.state.next(ok, now, policy);
        self.in_flight = false;
        self.next_probe = self.interval.map(|interval| now + interval);
    }

    /// Records the outcome of a call attempt (see [`call_result_is_failure`]).
    ///
    /// A probed address that is down ignores call outcomes: probes alone bring it back. An
    /// unprobed address that is down comes up on the first answered call (normally the retry
    /// allowed after its hold), and a failed one restarts the hold.
    pub fn on_call_result(&mut self, status: Option<u16>, now: Instant, policy: &HealthPolicy) {
        let ok = !call_result_is_failure(status);
        self.state = match (self.interval, self.state, ok) {
            (Some(_), HealthState::Down { .. }, _) => self.state,
            (None, HealthState::Down { .. }, true) => HealthState::Up { failures: 0 },
            (None, HealthState::Down { .. }, false) => HealthState::Down {
                since: now,
                successes: 0,
            },
            (_, state, ok) => state.next(ok, now, policy),
        };
    }
}

/// Read-only health, bound to one moment, as routing sees it.
pub trait HealthView {
    /// Whether calls may be sent to address `index` of `peer`. Unknown addresses are available.
    fn is_available(&self, peer: &str, index: usize) -> bool;
    /// How long until an unavailable address may be available again, if known.
    fn retry_after(&self, peer: &str, index: usize) -> Option<Duration>;
}

/// Health of every address of every configured peer.
#[derive(Debug, Clone, Default)]
pub struct PeerHealthTable {
    policy: HealthPolicy,
    entries: HashMap<AddressKey, PeerHealth>,
}

impl PeerHealthTable {
    /// A table for `peers`, every address [`HealthState::Unknown`], probed ones due at `now`.
    pub fn new(peers: &[Peer], policy: HealthPolicy, now: Instant) -> Self {
        let mut table = Self {
            policy,
            entries: HashMap::new(),
        };
        table.sync(peers, now);
        table
    }

    /// The thresholds in use.
    pub fn policy(&self) -> &HealthPolicy {
        &self.policy
    }

    /// Adopts a reloaded peer list: entries whose peer, index and address are unchanged keep
    /// their state (with the new probe interval); new or changed addresses start
    /// [`HealthState::Unknown`]; removed ones are dropped.
    pub fn sync(&mut self, peers: &[Peer], now: Instant) {
        let mut entries = HashMap::new();
        for peer in peers {
            for (index, address) in peer.addresses.iter().enumerate() {
                let key = AddressKey {
                    peer: peer.name.clone(),
                    index,
                };
                let interval = peer.options_ping_interval;
                let entry = match self.entries.remove(&key) {
                    Some(mut old) if old.address == *address => {
                        if old.interval != interval {
                            old.interval = interval;
                            old.next_probe = interval.map(|_| now);
                            old.in_flight = false;
                        }
                        old
                    }
                    _ => PeerHealth::new(address.clone(), interval, now),
                };
                entries.insert(key, entry);
            }
        }
        self.entries = entries;
    }

    /// The entry of one address.
    pub fn get(&self, peer: &str, index: usize) -> Option<&PeerHealth> {
        self.entries.get(&AddressKey {
            peer: peer.to_owned(),
            index,
        })
    }

    /// Probes due at `now`, in key order; each is marked in flight until its result comes back.
    pub fn due_probes(&mut self, now: Instant) -> Vec<Probe> {
        let mut due: Vec<Probe> = self
            .entries
            .iter_mut()
            .filter(|(_, h)| !h.in_flight && h.next_probe.is_some_and(|at| at <= now))
            .map(|(key, h)| {
                h.in_flight = true;
                h.next_probe = None;
                Probe {
                    key: key.clone(),
                    address: h.address.clone(),
                }
            })
            .collect();
        due.sort_by(|a, b| a.key.cmp(&b.key));
        due
    }

    /// When the next probe falls due (for the shell's timer); `None` when nothing is scheduled.
    pub fn next_due(&self) -> Option<Instant> {
        self.entries.values().filter_map(|h| h.next_probe).min()
    }

    /// Records a probe result; unknown keys (removed by a reload meanwhile) are ignored.
    pub fn on_probe_result(&mut self, key: &AddressKey, ok: bool, now: Instant) {
        if let Some(h) = self.entries.get_mut(key) {
            h.on_probe_result(ok, now, &self.policy);
        }
    }

    /// Records a call attempt's outcome; unknown keys are ignored.
    pub fn on_call_result(&mut self, key: &AddressKey, status: Option<u16>, now: Instant) {
        if let Some(h) = self.entries.get_mut(key) {
            h.on_call_result(status, now, &self.policy);
        }
    }

    /// A read-only view at `now`, for [`route`](super::route::route).
    pub fn at(&self, now: Instant) -> HealthAt<'_> {
        HealthAt { table: self, now }
    }
}

/// A [`PeerHealthTable`] seen at one moment.
#[derive(Debug, Clone, Copy)]
pub struct HealthAt<'a> {
    table: &'a PeerHealthTable,
    now: Instant,
}

impl HealthView for HealthAt<'_> {
    fn is_available(&self, peer: &str, index: usize) -> bool {
        self.table
            .get(peer, index)
            .is_none_or(|h| h.is_available(self.now, &self.table.policy))
    }

    fn retry_after(&self, peer: &str, index: usize) -> Option<Duration> {
        self.table
            .get(peer, index)
            .and_then(|h| h.retry_after(self.now, &self.table.policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The virtual clock's origin; tests add durations to it and never read the clock again.
    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn peer(name: &str, addresses: &[&str], interval: Option<u64>) -> Peer {
        Peer {
            name: name.into(),
            realm: "core".into(),
            addresses: addresses.iter().map(|a| a.parse().unwrap()).collect(),
            credentials_file: None,
            options_ping_interval: interval.map(secs),
            registration: None,
        }
    }

    fn key(peer: &str, index: usize) -> AddressKey {
        AddressKey {
            peer: peer.into(),
            index,
        }
    }

    #[test]
    fn state_transitions() {
        let t = t0();
        let later = t + secs(5);
        let policy = HealthPolicy {
            down_after: 2,
            up_after: 3,
            passive_hold: secs(30),
        };
        let unknown = |failures| HealthState::Unknown { failures };
        let up = |failures| HealthState::Up { failures };
        let down = |successes| HealthState::Down {
            since: t,
            successes,
        };
        let cases = [
            (unknown(0), true, up(0)),
            (unknown(0), false, unknown(1)),
            (unknown(1), true, up(0)),
            (
                unknown(1),
                false,
                HealthState::Down {
                    since: later,
                    successes: 0,
                },
            ),
            (up(0), true, up(0)),
            (up(1), true, up(0)),
            (up(0), false, up(1)),
            (
                up(1),
                false,
                HealthState::Down {
                    since: later,
                    successes: 0,
                },
            ),
            (down(0), true, down(1)),
            (down(1), true, down(2)),
            (down(2), true, up(0)),
            (down(2), false, down(0)),
            (down(0), false, down(0)),
        ];
        for (from, ok, expected) in cases {
            assert_eq!(from.next(ok, later, &policy), expected, "{from:?} {ok}");
        }
    }

    #[test]
    fn zero_thresholds_act_as_one() {
        let t = t0();
        let policy = HealthPolicy {
            down_after: 0,
            up_after: 0,
            passive_hold: secs(1),
        };
        let down = HealthState::Up { failures: 0 }.next(false, t, &policy);
        assert!(matches!(down, HealthState::Down { .. }));
        assert_eq!(down.next(true, t, &policy), HealthState::Up { failures: 0 });
    }

    #[test]
    fn call_results_that_count_as_failures() {
        let cases = [
            (None, true),
            (Some(503), true),
            (Some(408), false),
            (Some(500), false),
            (Some(486), false),
            (Some(200), false),
            (Some(404), false),
        ];
        for (status, failure) in cases {
            assert_eq!(call_result_is_failure(status), failure, "{status:?}");
        }
    }

    #[test]
    fn probes_are_scheduled_by_interval_and_never_overlap() {
        let t = t0();
        let peers = [
            peer("pbx", &["udp:10.0.0.1:5060", "udp:10.0.0.2:5060"], Some(10)),
            peer("trunk", &["tls:trunk.example.com"], None),
        ];
        let mut table = PeerHealthTable::new(&peers, HealthPolicy::default(), t);
        assert_eq!(table.next_due(), Some(t));
        let due = table.due_probes(t);
        assert_eq!(
            due.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
            [key("pbx", 0), key("pbx", 1)]
        );
        assert_eq!(due[1].address, peers[0].addresses[1]);
        // In flight: not due again, however late it gets.
        assert!(table.due_probes(t + secs(60)).is_empty());
        assert_eq!(table.next_due(), None);
        table.on_probe_result(&key("pbx", 0), true, t + secs(1));
        table.on_probe_result(&key("pbx", 1), false, t + secs(32));
        assert_eq!(table.next_due(), Some(t + secs(11)));
        assert!(table.due_probes(t + secs(10)).is_empty());
        let due = table.due_probes(t + secs(11));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].key, key("pbx", 0));
        assert_eq!(table.next_due(), Some(t + secs(42)));
        // Results for keys a reload removed are ignored.
        table.on_probe_result(&key("gone", 0), true, t);
        table.on_call_result(&key("gone", 0), None, t);
    }

    #[test]
    fn probed_address_goes_down_and_comes_back() {
        let t = t0();
        let peers = [peer("pbx", &["udp:10.0.0.1"], Some(10))];
        let mut table = PeerHealthTable::new(&peers, HealthPolicy::default(), t);
        let k = key("pbx", 0);
        // (seconds, probe ok, available afterwards, retry-after hint)
        let steps = [
            (0, false, true, None),
            (10, false, false, Some(20)),
            (20, true, false, Some(10)),
            (30, true, true, None),
            (40, false, true, None),
            (50, true, true, None),
        ];
        for (at, ok, available, hint) in steps {
            let now = t + secs(at);
            assert_eq!(table.due_probes(now).len(), 1, "probe due at {at}");
            table.on_probe_result(&k, ok, now);
            let view = table.at(now);
            assert_eq!(view.is_available("pbx", 0), available, "at {at}");
            assert_eq!(view.retry_after("pbx", 0), hint.map(secs), "at {at}");
        }
    }

    #[test]
    fn retry_after_counts_the_probes_still_needed() {
        let t = t0();
        let policy = HealthPolicy {
            down_after: 1,
            up_after: 3,
            passive_hold: secs(30),
        };
        let mut h = PeerHealth::new("udp:10.0.0.1".parse().unwrap(), Some(secs(10)), t);
        h.on_probe_result(false, t, &policy);
        assert_eq!(h.retry_after(t + secs(4), &policy), Some(secs(26)));
        h.on_probe_result(true, t + secs(10), &policy);
        assert_eq!(h.retry_after(t + secs(10), &policy), Some(secs(20)));
    }

    #[test]
    fn passive_marking_without_probes() {
        let t = t0();
        let policy = HealthPolicy::default();
        let peers = [peer("trunk", &["udp:192.0.2.1"], None)];
        let mut table = PeerHealthTable::new(&peers, policy, t);
        let k = key("trunk", 0);
        assert_eq!(table.next_due(), None);
        // (seconds, call outcome, available afterwards, retry-after hint)
        let steps = [
            (0, Some(486), true, None),
            (1, Some(503), true, None),
            (2, None, false, Some(30)),
            (32, None, false, Some(30)),
            (62, Some(200), true, None),
            (63, Some(408), true, None),
            (64, None, true, None),
            (65, Some(503), false, Some(30)),
            (70, Some(200), true, None),
        ];
        for (at, status, available, hint) in steps {
            let now = t + secs(at);
            table.on_call_result(&k, status, now);
            let view = table.at(now);
            assert_eq!(view.is_available("trunk", 0), available, "at {at}");
            assert_eq!(view.retry_after("trunk", 0), hint.map(secs), "at {at}");
        }
        assert!(table.at(t + secs(200)).is_available("nobody", 3));
    }

    #[test]
    fn probed_address_ignores_call_outcomes_while_down() {
        let t = t0();
        let policy = HealthPolicy::default();
        let mut h = PeerHealth::new("udp:10.0.0.1".parse().unwrap(), Some(secs(10)), t);
        h.on_call_result(None, t, &policy);
        h.on_call_result(Some(503), t, &policy);
        assert!(!h.is_available(t, &policy));
        h.on_call_result(Some(200), t + secs(1), &policy);
        assert!(!h.is_available(t + secs(100), &policy));
        h.on_probe_result(true, t + secs(2), &policy);
        h.on_probe_result(true, t + secs(3), &policy);
        assert!(h.is_available(t + secs(3), &policy));
    }

    #[test]
    fn reload_keeps_unchanged_addresses() {
        let t = t0();
        let before = [
            peer("pbx", &["udp:10.0.0.1", "udp:10.0.0.2"], Some(10)),
            peer("old", &["udp:10.0.0.9"], None),
        ];
        let mut table = PeerHealthTable::new(&before, HealthPolicy::default(), t);
        for index in 0..2 {
            table.on_call_result(&key("pbx", index), None, t);
            table.on_call_result(&key("pbx", index), None, t);
        }
        let after = [peer("pbx", &["udp:10.0.0.1", "udp:10.0.0.3"], Some(20))];
        table.sync(&after, t + secs(1));
        let kept = table.get("pbx", 0).unwrap();
        assert!(matches!(kept.state, HealthState::Down { .. }));
        assert_eq!(kept.interval, Some(secs(20)));
        assert_eq!(kept.next_probe, Some(t + secs(1)));
        let fresh = table.get("pbx", 1).unwrap();
        assert_eq!(fresh.state, HealthState::Unknown { failures: 0 });
        assert!(table.get("old", 0).is_none());
    }
}
