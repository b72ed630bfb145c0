//! `[registration]`: the registration relay's lifetimes, bounds and keep-alives (file form and
//! validated form; [`validate`](fn@super::validate) checks it).

use std::time::Duration;

use serde::Deserialize;

/// `[registration]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RegistrationFile {
    /// Expiry granted to phones on UDP, seconds. Default: 60 (keeps NAT pinholes open).
    pub phone_expiry_udp_secs: Option<i64>,
    /// Expiry granted to phones on TCP/TLS, seconds. Default: 300.
    pub phone_expiry_stream_secs: Option<i64>,
    /// Expiry asked of the PBX, seconds. Default: 3600.
    pub pbx_expiry_secs: Option<i64>,
    /// Bindings per address of record. Default: 10.
    pub max_per_aor: Option<i64>,
    /// Bindings in total. Default: 100000.
    pub max_bindings: Option<i64>,
    /// Seconds between keep-alive OPTIONS to phones behind a NAT (UDP) and on TCP/TLS; 0 turns
    /// them off. Default: 30.
    pub keepalive_interval_secs: Option<i64>,
}

/// The registration relay's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationConfig {
    /// Expiry granted to phones on UDP.
    pub phone_expiry_udp: Duration,
    /// Expiry granted to phones on TCP/TLS.
    pub phone_expiry_stream: Duration,
    /// Expiry asked of the PBX.
    pub pbx_expiry: Duration,
    /// Bindings per address of record.
    pub max_per_aor: usize,
    /// Bindings in total.
    pub max_bindings: usize,
    /// Keep-alive interval; `None`: no keep-alives.
    pub keepalive_interval: Option<Duration>,
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        RegistrationConfig {
            phone_expiry_udp: Duration::from_secs(60),
            phone_expiry_stream: Duration::from_secs(300),
            pbx_expiry: Duration::from_secs(3600),
            max_per_aor: 10,
            max_bindings: 100_000,
            keepalive_interval: Some(Duration::from_secs(30)),
        }
    }
}
