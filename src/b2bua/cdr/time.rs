//! Wall-clock time for call records (pure): the shell reads the system clock once and pairs it
//! with a monotonic instant ([`WallClock`]); every later instant is converted from that anchor,
//! so records never read the clock and stay consistent with the call's own timers. Timestamps are
//! RFC 3339 in UTC with milliseconds (`2026-11-22T07:30:17.123Z`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A system-clock reading and the monotonic instant it was taken at.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    wall: SystemTime,
    mono: Instant,
}

impl WallClock {
    /// Pairs `wall` (read by the shell) with `mono`, taken at the same moment.
    pub fn new(wall: SystemTime, mono: Instant) -> Self {
        Self { wall, mono }
    }

    /// The wall-clock time of `at`.
    pub fn at(&self, at: Instant) -> SystemTime {
        if at >= self.mono {
            self.wall + (at - self.mono)
        } else {
            self.wall.checked_sub(self.mono - at).unwrap_or(UNIX_EPOCH)
        }
    }

    /// `at` as RFC 3339 UTC text.
    pub fn rfc3339(&self, at: Instant) -> String {
        rfc3339(self.at(at))
    }
}

/// `time` as RFC 3339 UTC with milliseconds; times before 1970 print as the epoch.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Year, month, day of `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // `date -u -d @951782400` → 2000-02-29 (leap day of a century leap year).
        assert_eq!(rfc3339(at(951_782_400, 5)), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(at(1_795_332_617, 123)), "2026-11-22T07:30:17.123Z");
        assert_eq!(rfc3339(at(4_102_444_799, 999)), "2099-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(at(1_709_251_199, 0)), "2024-02-29T23:59:59.000Z");
    }

    #[test]
    fn instants_convert_from_the_anchor() {
        #[allow(clippy::disallowed_methods)] // the test's one clock read; the rest is offsets
        let mono = Instant::now();
        let clock = WallClock::new(at(1_000, 0), mono);
        assert_eq!(clock.at(mono + Duration::from_millis(1500)), at(1_001, 500));
        assert_eq!(clock.rfc3339(mono), "1970-01-01T00:16:40.000Z");
    }
}
