//! `[media]`: the settings of the media relay shared by every realm (pure): the section as
//! written and its validated model with documented defaults. Each realm's own relay address and
//! port range stay in `[realms.media]` ([`super::MediaConfig`]).

use std::time::Duration;

use serde::Deserialize;

/// `[media]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RelayFile {
    /// Milliseconds after an answer during which a far end's media source may be learned.
    /// Default: 3000.
    pub latch_window_ms: Option<i64>,
    /// Seconds without any media on a call (not on hold) before it is ended. Default: 60.
    pub inactivity_timeout_secs: Option<i64>,
    /// Seconds a released port pair waits before it is reused. Default: 30.
    pub port_quarantine_secs: Option<i64>,
    /// Threads forwarding media, apart from the signaling threads; 0: one per CPU core.
    /// Default: 0.
    pub relay_threads: Option<i64>,
    /// Receive and send buffer asked for per relay socket, bytes. Default: 262144.
    pub socket_buffer_bytes: Option<i64>,
}

/// Default `[media] latch_window_ms`.
pub const DEFAULT_LATCH_WINDOW: Duration = Duration::from_secs(3);
/// Default `[media] inactivity_timeout_secs`.
pub const DEFAULT_INACTIVITY_TIMEOUT: Duration = Duration::from_secs(60);
/// Default `[media] port_quarantine_secs`.
pub const DEFAULT_PORT_QUARANTINE: Duration = Duration::from_secs(30);
/// Default `[media] relay_threads`: one relay thread per CPU core.
pub const DEFAULT_RELAY_THREADS: usize = 0;
/// Default `[media] socket_buffer_bytes`.
pub const DEFAULT_SOCKET_BUFFER_BYTES: usize = 256 * 1024;

/// `[media]`: the validated relay settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    /// How long after an answer (or a re-INVITE that moves the far end) a source may be
    /// learned. Default: [`DEFAULT_LATCH_WINDOW`].
    pub latch_window: Duration,
    /// No media either way for this long, while not on hold, ends the call. Default:
    /// [`DEFAULT_INACTIVITY_TIMEOUT`].
    pub inactivity_timeout: Duration,
    /// How long a released port pair is kept out of use. Default: [`DEFAULT_PORT_QUARANTINE`].
    pub port_quarantine: Duration,
    /// Dedicated relay threads, 0 for one per CPU core. Default: [`DEFAULT_RELAY_THREADS`].
    pub relay_threads: usize,
    /// Socket buffer requested per relay socket. Default: [`DEFAULT_SOCKET_BUFFER_BYTES`].
    pub socket_buffer_bytes: usize,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            latch_window: DEFAULT_LATCH_WINDOW,
            inactivity_timeout: DEFAULT_INACTIVITY_TIMEOUT,
            port_quarantine: DEFAULT_PORT_QUARANTINE,
            relay_threads: DEFAULT_RELAY_THREADS,
            socket_buffer_bytes: DEFAULT_SOCKET_BUFFER_BYTES,
        }
    }
}
