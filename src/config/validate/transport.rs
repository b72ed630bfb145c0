//! Validation of `[transport]` (pure): every bound is a positive integer within a sane range.

use std::time::Duration;

use super::Ctx;
use crate::config::error::KeyPath;
use crate::config::file::TransportFile;
use crate::config::model::TransportConfig;

/// `[transport]`: counts, seconds and byte sizes in range; absent keys take their defaults.
pub(super) fn validate(ctx: &mut Ctx<'_>, file: &TransportFile) -> TransportConfig {
    let d = TransportConfig::default();
    let path = KeyPath::root().key("transport");
    let mut count = |value: Option<i64>, default: usize, max: i64, key: &str| -> usize {
        let value = value.unwrap_or(default as i64);
        ctx.int_in(value, 1, max, path.key(key))
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(default)
    };
    let max_connections = count(
        file.max_connections,
        d.max_connections,
        1_000_000,
        "max_connections",
    );
    let max_connections_per_source = count(
        file.max_connections_per_source,
        d.max_connections_per_source,
        1_000_000,
        "max_connections_per_source",
    );
    let secs = |v: usize| Duration::from_secs(v as u64);
    let idle_timeout = secs(count(
        file.idle_timeout_secs,
        d.idle_timeout.as_secs() as usize,
        86_400,
        "idle_timeout_secs",
    ));
    let tls_handshake_timeout = secs(count(
        file.tls_handshake_timeout_secs,
        d.tls_handshake_timeout.as_secs() as usize,
        300,
        "tls_handshake_timeout_secs",
    ));
    let message_timeout = secs(count(
        file.message_timeout_secs,
        d.message_timeout.as_secs() as usize,
        3_600,
        "message_timeout_secs",
    ));
    let write_queue_messages = count(
        file.write_queue_messages,
        d.write_queue_messages,
        65_536,
        "write_queue_messages",
    );
    let inbound_queue_messages = count(
        file.inbound_queue_messages,
        d.inbound_queue_messages,
        1_048_576,
        "inbound_queue_messages",
    );
    let udp_recv_buffer_bytes = count(
        file.udp_recv_buffer_bytes,
        d.udp_recv_buffer_bytes,
        1 << 30,
        "udp_recv_buffer_bytes",
    );
    let udp_sockets_per_listener = count(
        file.udp_sockets_per_listener,
        d.udp_sockets_per_listener,
        64,
        "udp_sockets_per_listener",
    );
    TransportConfig {
        max_connections,
        max_connections_per_source,
        idle_timeout,
        tls_handshake_timeout,
        message_timeout,
        write_queue_messages,
        inbound_queue_messages,
        udp_recv_buffer_bytes,
        udp_sockets_per_listener,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::validate::testing::{BASE, Case, check, run_cases};

    #[test]
    fn defaults_apply() {
        let config = check(BASE).expect("base config is valid");
        assert_eq!(config.transport, Default::default());
    }

    #[test]
    fn bounds_are_checked() {
        run_cases(&[
            Case::new(
                "zero connections",
                "[transport]\nmax_connections = 0",
                &["transport.max_connections:"],
            ),
            Case::new(
                "idle timeout beyond a day",
                "[transport]\nidle_timeout_secs = 999999",
                &["transport.idle_timeout_secs:"],
            ),
            Case::new(
                "two problems at once",
                "[transport]\nwrite_queue_messages = -1\nudp_sockets_per_listener = 65",
                &[
                    "transport.write_queue_messages:",
                    "transport.udp_sockets_per_listener:",
                ],
            ),
            Case::ok(
                "sharded udp, short idle timeout",
                "[transport]\nudp_sockets_per_listener = 4\nidle_timeout_secs = 30",
            ),
        ]);
        let text =
            format!("{BASE}\n[transport]\nudp_sockets_per_listener = 4\nidle_timeout_secs = 30\n");
        let config = check(&text).expect("valid");
        assert_eq!(config.transport.udp_sockets_per_listener, 4);
        assert_eq!(config.transport.idle_timeout.as_secs(), 30);
    }
}
