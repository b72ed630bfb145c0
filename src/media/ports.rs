//! Media port pools (pure): one per realm, handing out RTP/RTCP port pairs.
//!
//! A pair is an even RTP port and the odd port after it for RTCP (RFC 3550 §11: RTP on an even
//! port, RTCP on the next higher one). A stream that negotiates rtcp-mux (RFC 5761) still takes
//! a whole pair: the relay keeps both ports bound, so a re-INVITE may switch multiplexing on or
//! off without moving the stream, and the pool stays a simple array of pairs.
//!
//! A released pair is quarantined for a configurable time before it is handed out again, so
//! late packets of an ended call (and far ends that keep sending after BYE) never reach the
//! next call on the same port. Free pairs are handed out in first-in, first-out order, which
//! spreads reuse over the whole range. Running out is the typed [`PortError::Exhausted`],
//! which signaling answers with 503; nothing here panics.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use thiserror::Error;

/// An allocated RTP/RTCP port pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortPair {
    rtp: u16,
}

impl PortPair {
    /// The even RTP port.
    pub fn rtp(self) -> u16 {
        self.rtp
    }

    /// The odd RTCP port, `rtp + 1`.
    pub fn rtcp(self) -> u16 {
        self.rtp + 1
    }
}

/// Port pool failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PortError {
    /// Every pair is in use or quarantined.
    #[error("no free media port pair")]
    Exhausted,
    /// The pair was not handed out by this pool, or was already released.
    #[error("port {0} is not allocated from this pool")]
    NotAllocated(u16),
}

/// How many pairs a pool holds in each state, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolUsage {
    /// Pairs allocated to streams.
    pub in_use: usize,
    /// Pairs released and waiting out their quarantine.
    pub quarantined: usize,
    /// Every pair of the range.
    pub capacity: usize,
}

impl PoolUsage {
    /// Pairs that can be handed out now (quarantines that ended count as free).
    pub fn free(&self) -> usize {
        self.capacity - self.in_use - self.quarantined
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Free,
    InUse,
    Quarantined,
}

/// The pairs of one port range `[port_min, port_max]` (`port_min` even).
#[derive(Debug, Clone)]
pub struct PortPool {
    port_min: u16,
    slots: Vec<Slot>,
    free: VecDeque<usize>,
    /// Quarantined pairs in release order, with the end of their quarantine. The quarantine
    /// time is the same for every pair, so this is also expiry order.
    quarantine: VecDeque<(Instant, usize)>,
    quarantine_time: Duration,
    in_use: usize,
}

impl PortPool {
    /// A pool over the pairs of `[port_min, port_max]`; an odd `port_min` starts at the next
    /// even port, and a last port without its RTCP partner is left out.
    pub fn new(port_min: u16, port_max: u16, quarantine_time: Duration) -> Self {
        let port_min = port_min.saturating_add(port_min % 2);
        let pairs = if port_max > port_min {
            (usize::from(port_max) - usize::from(port_min)).div_ceil(2)
        } else {
            0
        };
        Self {
            port_min,
            slots: vec![Slot::Free; pairs],
            free: (0..pairs).collect(),
            quarantine: VecDeque::new(),
            quarantine_time,
            in_use: 0,
        }
    }

    /// Hands out the free pair that has been free longest.
    pub fn allocate(&mut self, now: Instant) -> Result<PortPair, PortError> {
        self.expire(now);
        let index = self.free.pop_front().ok_or(PortError::Exhausted)?;
        self.slots[index] = Slot::InUse;
        self.in_use += 1;
        Ok(self.pair(index))
    }

    /// Returns a pair; it becomes available again once its quarantine has passed.
    pub fn release(&mut self, pair: PortPair, now: Instant) -> Result<(), PortError> {
        let index = self
            .index(pair)
            .filter(|&i| self.slots[i] == Slot::InUse)
            .ok_or(PortError::NotAllocated(pair.rtp))?;
        self.in_use -= 1;
        if self.quarantine_time.is_zero() {
            self.slots[index] = Slot::Free;
            self.free.push_back(index);
        } else {
            self.slots[index] = Slot::Quarantined;
            self.quarantine
                .push_back((now + self.quarantine_time, index));
        }
        Ok(())
    }

    /// Current usage (quarantines that ended by `now` count as free).
    pub fn usage(&mut self, now: Instant) -> PoolUsage {
        self.expire(now);
        PoolUsage {
            in_use: self.in_use,
            quarantined: self.quarantine.len(),
            capacity: self.slots.len(),
        }
    }

    /// Whether `pair` is currently handed out.
    pub fn is_allocated(&self, pair: PortPair) -> bool {
        self.index(pair)
            .is_some_and(|i| self.slots[i] == Slot::InUse)
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(until, index)) = self.quarantine.front() {
            if until > now {
                break;
            }
            self.quarantine.pop_front();
            self.slots[index] = Slot::Free;
            self.free.push_back(index);
        }
    }

    fn pair(&self, index: usize) -> PortPair {
        // index < slots.len(), so the port is within [port_min, port_max].
        PortPair {
            rtp: self.port_min + 2 * index as u16,
        }
    }

    fn index(&self, pair: PortPair) -> Option<usize> {
        let offset = pair.rtp.checked_sub(self.port_min)?;
        let index = usize::from(offset / 2);
        (offset % 2 == 0 && index < self.slots.len()).then_some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    const Q: Duration = Duration::from_secs(30);

    #[test]
    fn pairs_are_even_rtp_and_odd_rtcp_within_the_range() {
        let now = crate::media::testing::t0();
        let mut pool = PortPool::new(30000, 30005, Q);
        let pairs: Vec<_> = (0..3).map(|_| pool.allocate(now).unwrap()).collect();
        assert_eq!(
            pairs
                .iter()
                .map(|p| (p.rtp(), p.rtcp()))
                .collect::<Vec<_>>(),
            [(30000, 30001), (30002, 30003), (30004, 30005)]
        );
        assert_eq!(pool.allocate(now), Err(PortError::Exhausted));
        // A last port without its partner is not a pair; an odd start moves up.
        assert_eq!(PortPool::new(30000, 30004, Q).usage(now).capacity, 2);
        assert_eq!(PortPool::new(30001, 30004, Q).usage(now).capacity, 1);
        assert_eq!(PortPool::new(30000, 30000, Q).usage(now).capacity, 0);
        assert_eq!(PortPool::new(65534, 65535, Q).usage(now).capacity, 1);
    }

    #[test]
    fn released_pairs_wait_out_their_quarantine() {
        let t0 = crate::media::testing::t0();
        let mut pool = PortPool::new(30000, 30003, Q);
        let a = pool.allocate(t0).unwrap();
        let b = pool.allocate(t0).unwrap();
        pool.release(a, t0).unwrap();
        let usage = pool.usage(t0);
        assert_eq!((usage.in_use, usage.quarantined, usage.free()), (1, 1, 0));
        assert_eq!(
            pool.allocate(t0 + Q - Duration::from_millis(1)),
            Err(PortError::Exhausted)
        );
        assert_eq!(pool.allocate(t0 + Q), Ok(a));
        assert!(pool.is_allocated(b));
    }

    #[test]
    fn releases_are_exact() {
        let now = crate::media::testing::t0();
        let mut pool = PortPool::new(30000, 30003, Duration::ZERO);
        let a = pool.allocate(now).unwrap();
        assert_eq!(pool.release(a, now), Ok(()));
        assert_eq!(pool.release(a, now), Err(PortError::NotAllocated(30000)));
        let foreign = PortPair { rtp: 30001 };
        assert_eq!(
            pool.release(foreign, now),
            Err(PortError::NotAllocated(30001))
        );
        let outside = PortPair { rtp: 40000 };
        assert_eq!(
            pool.release(outside, now),
            Err(PortError::NotAllocated(40000))
        );
        // Without quarantine the pair goes to the back of the free list.
        assert_eq!(pool.allocate(now).unwrap().rtp(), 30002);
        assert_eq!(pool.allocate(now).unwrap().rtp(), 30000);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Allocate,
        Release(usize),
        Wait(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Allocate),
            2 => any::<usize>().prop_map(Op::Release),
            1 => (0u64..20).prop_map(Op::Wait),
        ]
    }

    proptest! {
        /// Against a model: a pair is never handed out while in use or quarantined, releases
        /// of pairs not held fail, and the usage figures match.
        #[test]
        fn never_handed_out_twice(ops in proptest::collection::vec(op(), 1..200)) {
            let quarantine = Duration::from_secs(10);
            let mut now = crate::media::testing::t0();
            let mut pool = PortPool::new(20000, 20011, quarantine);
            let mut held: Vec<PortPair> = Vec::new();
            let mut released: Vec<(Instant, PortPair)> = Vec::new();
            for op in ops {
                match op {
                    Op::Allocate => match pool.allocate(now) {
                        Ok(pair) => {
                            prop_assert!(!held.contains(&pair));
                            prop_assert!(!released.iter().any(|(t, p)| *p == pair && *t + quarantine > now));
                            prop_assert!(pair.rtp() % 2 == 0 && (20000..=20010).contains(&pair.rtp()));
                            held.push(pair);
                        }
                        Err(e) => {
                            prop_assert_eq!(e, PortError::Exhausted);
                            let busy: HashSet<_> = held.iter().copied()
                                .chain(released.iter().filter(|(t, _)| *t + quarantine > now).map(|(_, p)| *p))
                                .collect();
                            prop_assert_eq!(busy.len(), 6);
                        }
                    },
                    Op::Release(i) if !held.is_empty() => {
                        let pair = held.swap_remove(i % held.len());
                        prop_assert_eq!(pool.release(pair, now), Ok(()));
                        prop_assert!(pool.release(pair, now).is_err());
                        released.push((now, pair));
                    }
                    Op::Release(_) => {}
                    Op::Wait(secs) => now += Duration::from_secs(secs),
                }
                let usage = pool.usage(now);
                prop_assert_eq!(usage.in_use, held.len());
                prop_assert_eq!(usage.capacity, 6);
            }
        }
    }
}
