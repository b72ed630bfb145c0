//! Validation of `[media]` (pure): the relay's timers, thread count and socket buffers.

use std::time::Duration;

use super::Ctx;
use crate::config::error::KeyPath;
use crate::config::media::{RelayConfig, RelayFile};

/// `[media]`: every value a positive integer within a sane range; absent keys take defaults.
pub(super) fn validate(ctx: &mut Ctx<'_>, file: &RelayFile) -> RelayConfig {
    let d = RelayConfig::default();
    let path = KeyPath::root().key("media");
    let mut get = |value: Option<i64>, default: u64, min: i64, max: i64, key: &str| -> u64 {
        let value = value.unwrap_or(default as i64);
        ctx.int_in(value, min, max, path.key(key))
            .map_or(default, i64::unsigned_abs)
    };
    let latch_window = get(
        file.latch_window_ms,
        d.latch_window.as_millis() as u64,
        100,
        60_000,
        "latch_window_ms",
    );
    let inactivity = get(
        file.inactivity_timeout_secs,
        d.inactivity_timeout.as_secs(),
        1,
        86_400,
        "inactivity_timeout_secs",
    );
    let quarantine = get(
        file.port_quarantine_secs,
        d.port_quarantine.as_secs(),
        0,
        3_600,
        "port_quarantine_secs",
    );
    let threads = get(
        file.relay_threads,
        d.relay_threads as u64,
        0,
        256,
        "relay_threads",
    );
    let buffer = get(
        file.socket_buffer_bytes,
        d.socket_buffer_bytes as u64,
        4_096,
        64 << 20,
        "socket_buffer_bytes",
    );
    RelayConfig {
        latch_window: Duration::from_millis(latch_window),
        inactivity_timeout: Duration::from_secs(inactivity),
        port_quarantine: Duration::from_secs(quarantine),
        relay_threads: usize::try_from(threads).unwrap_or(d.relay_threads),
        socket_buffer_bytes: usize::try_from(buffer).unwrap_or(d.socket_buffer_bytes),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::validate::testing::{Case, run_cases};

    #[test]
    fn relay_rules() {
        run_cases(&[
            Case::new(
                "every key in range",
                "[media]\nlatch_window_ms = 2000\ninactivity_timeout_secs = 30\nport_quarantine_secs = 0\nrelay_threads = 2\nsocket_buffer_bytes = 1048576\n",
                &[],
            ),
            Case::new(
                "zero threads",
                "[media]\nrelay_threads = 257\n",
                &["media.relay_threads: 257 is out of range 0..=256"],
            ),
            Case::new(
                "too short a latch window and no inactivity timeout",
                "[media]\nlatch_window_ms = 10\ninactivity_timeout_secs = 0\n",
                &[
                    "media.latch_window_ms: 10 is out of range 100..=60000",
                    "media.inactivity_timeout_secs: 0 is out of range 1..=86400",
                ],
            ),
        ]);
    }
}
