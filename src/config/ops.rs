//! Operations sections of the configuration (pure): call records (`[records]`), the admin API
//! (`[admin]`) and graceful shutdown (`[shutdown]`) — the document shape as written and the
//! validated model. Validation lives in `validate/ops.rs`.
//!
//! ```toml
//! [records]                  # optional; no call records without `path`
//! path = "/var/log/sbc/calls.jsonl"
//! max_file_bytes = 104857600 # rotate when the file would grow beyond this
//! keep_files = 10            # calls.jsonl.1 .. calls.jsonl.10 are kept
//! queue = 4096               # records waiting for the writer; more are dropped and counted
//!
//! [admin]
//! enabled = true             # /admin/* on the metrics listener
//! token_file = "/etc/sbc/admin.token"  # bearer token; required off loopback
//!
//! [shutdown]
//! drain_timeout_secs = 30    # established calls may continue this long after SIGTERM
//! retry_after_secs = 60      # Retry-After of the 503 new requests get while draining
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Default rotation size of the call record file: 100 MiB.
pub const DEFAULT_RECORDS_MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;
/// Default number of rotated call record files kept.
pub const DEFAULT_RECORDS_KEEP_FILES: usize = 10;
/// Default number of call records queued for the writer.
pub const DEFAULT_RECORDS_QUEUE: usize = 4096;
/// Default drain timeout: how long established calls may continue after SIGTERM.
pub const DEFAULT_DRAIN_TIMEOUT_SECS: u64 = 30;
/// Default Retry-After (seconds) of the 503 answered while draining.
pub const DEFAULT_DRAIN_RETRY_AFTER_SECS: u64 = 60;

/// `[records]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RecordsFile {
    /// File the JSON call records are appended to. Default: none (no records).
    pub path: Option<PathBuf>,
    /// Size in bytes at which the file is rotated. Default: 104857600.
    pub max_file_bytes: Option<i64>,
    /// Rotated files kept (`path.1` is the newest). Default: 10.
    pub keep_files: Option<i64>,
    /// Records queued for the writer before new ones are dropped. Default: 4096.
    pub queue: Option<i64>,
}

/// `[admin]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AdminFile {
    /// Whether `/admin/*` is served on the metrics listener. Default: `true`.
    pub enabled: Option<bool>,
    /// File holding the bearer token. Default: none (no authentication; loopback only).
    pub token_file: Option<PathBuf>,
}

/// `[shutdown]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ShutdownFile {
    /// Seconds established calls may continue after SIGTERM/SIGINT. Default: 30.
    pub drain_timeout_secs: Option<i64>,
    /// Retry-After seconds of the 503 new requests get while draining. Default: 60.
    pub retry_after_secs: Option<i64>,
}

/// Call records: where they go and how the file rotates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordsConfig {
    /// The record file (resolved against the configuration file's directory); `None`: no records.
    pub path: Option<PathBuf>,
    /// Rotate before the file would exceed this many bytes.
    pub max_file_bytes: u64,
    /// Rotated files kept.
    pub keep_files: usize,
    /// Records queued for the writer.
    pub queue: usize,
}

impl Default for RecordsConfig {
    fn default() -> Self {
        Self {
            path: None,
            max_file_bytes: DEFAULT_RECORDS_MAX_FILE_BYTES,
            keep_files: DEFAULT_RECORDS_KEEP_FILES,
            queue: DEFAULT_RECORDS_QUEUE,
        }
    }
}

/// The admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// Whether `/admin/*` is served.
    pub enabled: bool,
    /// The bearer token file (resolved); its contents are read by the shell, never here.
    pub token_file: Option<PathBuf>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            token_file: None,
        }
    }
}

/// Graceful shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownConfig {
    /// How long established calls may continue after the drain starts; then the SBC ends them.
    pub drain_timeout: Duration,
    /// Retry-After of the 503 new INVITEs and REGISTERs get while draining.
    pub retry_after: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            drain_timeout: Duration::from_secs(DEFAULT_DRAIN_TIMEOUT_SECS),
            retry_after: Duration::from_secs(DEFAULT_DRAIN_RETRY_AFTER_SECS),
        }
    }
}
