//! Replay protection (RFC 3711 §3.3.2) per SSRC, pure: a 128-packet sliding window over the
//! 48-bit SRTP index (estimated from the sequence number as in RFC 3711 §3.3.1) or the 31-bit
//! SRTCP index. It is consulted only for packets that have already authenticated, so a forged
//! packet can neither advance the window nor be counted as a replay.

/// Packets behind the highest index that are still accepted once (libsrtp's default, above
/// RFC 3711's minimum of 64).
pub const REPLAY_WINDOW: u64 = 128;

/// The receive window of one SSRC.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReplayWindow {
    /// Highest index accepted so far.
    highest: u64,
    /// Bit `i` set: index `highest - i` was accepted.
    seen: u128,
}

impl ReplayWindow {
    /// A window whose first accepted index is `index`.
    pub(super) fn starting_at(index: u64) -> ReplayWindow {
        ReplayWindow {
            highest: index,
            seen: 1,
        }
    }

    /// The 48-bit index of RTP sequence number `seq`: the rollover counter that puts it
    /// closest to the highest index seen (RFC 3711 §3.3.1). `None` for an index before zero.
    pub(super) fn estimate_rtp_index(&self, seq: u16) -> Option<u64> {
        let roc = self.highest >> 16;
        let s_l = (self.highest & 0xffff) as i64;
        let seq_i = i64::from(seq);
        let guess = if s_l < 0x8000 {
            if seq_i - s_l > 0x8000 {
                roc.checked_sub(1)?
            } else {
                roc
            }
        } else if s_l - 0x8000 > seq_i {
            roc + 1
        } else {
            roc
        };
        Some((guess << 16) | u64::from(seq))
    }

    /// Records `index`; `false` when it was already accepted or is older than the window.
    pub(super) fn accept(&mut self, index: u64) -> bool {
        if index > self.highest {
            let shift = index - self.highest;
            self.seen = if shift >= 128 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.highest = index;
            return true;
        }
        let behind = self.highest - index;
        if behind >= REPLAY_WINDOW {
            return false;
        }
        let bit = 1u128 << behind;
        if self.seen & bit != 0 {
            return false;
        }
        self.seen |= bit;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_too_old_packets_are_refused() {
        let mut window = ReplayWindow::starting_at(1000);
        assert!(!window.accept(1000), "the first index twice");
        assert!(window.accept(1002));
        assert!(window.accept(1001), "late but new");
        assert!(!window.accept(1001));
        assert!(window.accept(1002 - 127), "oldest index inside the window");
        assert!(!window.accept(1002 - 128), "just outside the window");
        assert!(window.accept(5000), "a jump clears the window");
        assert!(!window.accept(5000));
        assert!(window.accept(4999));
        assert!(!window.accept(1002));
    }

    #[test]
    fn index_estimate_follows_rfc3711_appendix_a() {
        // (highest index, sequence number, expected index)
        let table = [
            (0x0000_1000, 0x1001, Some(0x0000_1001)),
            (0x0000_fff0, 0x0005, Some(0x0001_0005)), // wrap forward
            (0x0001_0005, 0xfff0, Some(0x0000_fff0)), // late packet from before the wrap
            (0x0000_0005, 0xfff0, None),              // would be before index 0
            (0x0003_8000, 0x0000, Some(0x0003_0000)),
            (0x0003_8001, 0x0000, Some(0x0004_0000)),
        ];
        for (highest, seq, expected) in table {
            let window = ReplayWindow::starting_at(highest);
            assert_eq!(
                window.estimate_rtp_index(seq),
                expected,
                "{highest:#x} {seq:#x}"
            );
        }
    }
}
