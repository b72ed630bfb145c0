//! Transaction timers as data (pure): RFC 3261 §17 and Table 4 (A, B, D, E, F, G, H, I, J, K),
//! RFC 6026 §8.4 (L, M), and the §17.2.1 200 ms rule for `100 Trying`.
//!
//! Nothing here reads the clock. Each transaction owns a [`TimerTable`] with at most one
//! deadline per [`Timer`]; the layer mirrors every table into one ordered index so
//! `poll_timeout` is the earliest deadline of all transactions.

use std::time::{Duration, Instant};

/// The RFC 3261 / RFC 6026 transaction timers, plus the internal `100 Trying` timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// Client INVITE request retransmission (unreliable only): T1, doubling without a cap.
    A,
    /// Client INVITE transaction timeout in Calling: 64*T1.
    B,
    /// Client INVITE wait for response retransmissions in Completed: 32 s unreliable, 0 reliable.
    D,
    /// Client non-INVITE request retransmission (unreliable only): T1 doubling up to T2.
    E,
    /// Client non-INVITE transaction timeout: 64*T1.
    F,
    /// Server INVITE final response retransmission (unreliable only): T1 doubling up to T2.
    G,
    /// Server INVITE wait for ACK in Completed: 64*T1.
    H,
    /// Server INVITE wait for ACK retransmissions in Confirmed: T4 unreliable, 0 reliable.
    I,
    /// Server non-INVITE wait for request retransmissions in Completed: 64*T1 unreliable, 0
    /// reliable.
    J,
    /// Client non-INVITE wait for response retransmissions in Completed: T4 unreliable, 0
    /// reliable.
    K,
    /// Server INVITE Accepted state lifetime (RFC 6026): 64*T1.
    L,
    /// Client INVITE Accepted state lifetime (RFC 6026): 64*T1.
    M,
    /// Not named by the RFC: a server INVITE transaction sends `100 Trying` when the TU has not
    /// answered 200 ms after the INVITE arrived (RFC 3261 §17.2.1).
    Trying,
}

impl Timer {
    /// Every timer, in table order.
    pub const ALL: [Timer; 13] = [
        Timer::A,
        Timer::B,
        Timer::D,
        Timer::E,
        Timer::F,
        Timer::G,
        Timer::H,
        Timer::I,
        Timer::J,
        Timer::K,
        Timer::L,
        Timer::M,
        Timer::Trying,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// How long a server INVITE transaction waits for the TU before sending `100 Trying`.
pub const TRYING_DELAY: Duration = Duration::from_millis(200);

/// How long a client INVITE transaction stays in Completed on an unreliable transport (Timer D:
/// "at least 32 seconds", RFC 3261 §17.1.1.2).
pub const TIMER_D: Duration = Duration::from_secs(32);

/// The RFC 3261 timer base values (§17, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate, default 500 ms.
    pub t1: Duration,
    /// Maximum retransmission interval for non-INVITE requests and INVITE responses, default 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network, default 5 s.
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// 64*T1: Timers B, F, H, J (unreliable), L and M.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }

    /// The next retransmission interval after `current`, doubled and capped at T2 (Timers E and G).
    pub fn backoff_capped(&self, current: Duration) -> Duration {
        (current * 2).min(self.t2)
    }
}

/// One optional deadline per [`Timer`] for a single transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerTable([Option<Instant>; 13]);

impl TimerTable {
    /// The deadline of `timer`, if armed.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.0[timer.index()]
    }

    /// Arms `timer` to fire at `at`, replacing any earlier deadline.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer.index()] = Some(at);
    }

    /// Disarms `timer`.
    pub fn stop(&mut self, timer: Timer) {
        self.0[timer.index()] = None;
    }

    /// Disarms every timer.
    pub fn stop_all(&mut self) {
        self.0 = [None; 13];
    }

    /// The earliest armed deadline and its timer.
    pub fn next(&self) -> Option<(Instant, Timer)> {
        Timer::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|at| (at, t)))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::transaction::testing::t0;

    #[test]
    fn defaults_are_rfc_table_4() {
        let t = Timers::default();
        assert_eq!(t.t1, Duration::from_millis(500));
        assert_eq!(t.t2, Duration::from_secs(4));
        assert_eq!(t.t4, Duration::from_secs(5));
        assert_eq!(t.timeout(), Duration::from_secs(32));
        assert_eq!(t.backoff_capped(Duration::from_secs(2)), t.t2);
        assert_eq!(t.backoff_capped(Duration::from_secs(3)), t.t2);
        assert_eq!(
            t.backoff_capped(Duration::from_millis(500)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn table_keeps_one_deadline_per_timer() {
        let base = t0();
        let mut table = TimerTable::default();
        assert_eq!(table.next(), None);
        table.set(Timer::B, base + Duration::from_secs(32));
        table.set(Timer::A, base + Duration::from_secs(1));
        table.set(Timer::A, base + Duration::from_millis(500));
        assert_eq!(
            table.next(),
            Some((base + Duration::from_millis(500), Timer::A))
        );
        table.stop(Timer::A);
        assert_eq!(
            table.next(),
            Some((base + Duration::from_secs(32), Timer::B))
        );
        table.stop_all();
        assert_eq!(table, TimerTable::default());
        assert_eq!(Timer::ALL.len(), 13);
        assert!(Timer::ALL.iter().enumerate().all(|(i, t)| t.index() == i));
    }
}
