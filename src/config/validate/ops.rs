//! Validation of the operations sections (pure): `[records]`, `[admin]` and `[shutdown]`.

use std::path::Path;
use std::time::Duration;

use super::Ctx;
use crate::config::error::{KeyPath, Problem};
use crate::config::model::MetricsConfig;
use crate::config::ops::{
    AdminConfig, AdminFile, RecordsConfig, RecordsFile, ShutdownConfig, ShutdownFile,
};

/// Largest rotation size: 64 GiB.
const MAX_FILE_BYTES: i64 = 64 * 1024 * 1024 * 1024;
/// Smallest rotation size: 4 KiB (a few records).
const MIN_FILE_BYTES: i64 = 4096;
/// Most rotated files kept.
const MAX_KEEP: i64 = 1000;
/// Largest record queue.
const MAX_QUEUE: i64 = 1_000_000;
/// Longest drain: one day.
const MAX_DRAIN_SECS: i64 = 86_400;

/// `[records]`: bounded sizes; the path is resolved (the file is created when the SBC starts).
pub(super) fn records(ctx: &mut Ctx<'_>, file: &RecordsFile) -> RecordsConfig {
    let path = KeyPath::root().key("records");
    let defaults = RecordsConfig::default();
    let max_file_bytes = file
        .max_file_bytes
        .and_then(|v| {
            ctx.int_in(
                v,
                MIN_FILE_BYTES,
                MAX_FILE_BYTES,
                path.key("max_file_bytes"),
            )
        })
        .map_or(defaults.max_file_bytes, i64::unsigned_abs);
    let keep_files = file
        .keep_files
        .and_then(|v| ctx.int_in(v, 1, MAX_KEEP, path.key("keep_files")))
        .map_or(defaults.keep_files, |v| v.unsigned_abs() as usize);
    let queue = file
        .queue
        .and_then(|v| ctx.int_in(v, 1, MAX_QUEUE, path.key("queue")))
        .map_or(defaults.queue, |v| v.unsigned_abs() as usize);
    RecordsConfig {
        path: file.path.as_deref().map(|p| ctx.resolve(p)),
        max_file_bytes,
        keep_files,
        queue,
    }
}

/// `[admin]`: a readable token file; an admin API reachable off loopback must have one.
pub(super) fn admin(ctx: &mut Ctx<'_>, file: &AdminFile, metrics: &MetricsConfig) -> AdminConfig {
    let path = KeyPath::root().key("admin");
    let enabled = file.enabled.unwrap_or(true);
    let token_file = file
        .token_file
        .as_deref()
        .map(|p: &Path| ctx.readable_file(p, path.key("token_file")));
    if enabled && token_file.is_none() && !metrics.listen.ip().is_loopback() {
        ctx.report(path.key("token_file"), Problem::AdminWithoutToken);
    }
    AdminConfig {
        enabled,
        token_file,
    }
}

/// `[shutdown]`: drain timeout 0..=86400 s, Retry-After 1..=86400 s.
pub(super) fn shutdown(ctx: &mut Ctx<'_>, file: &ShutdownFile) -> ShutdownConfig {
    let path = KeyPath::root().key("shutdown");
    let defaults = ShutdownConfig::default();
    let secs = |v: i64| Duration::from_secs(v.unsigned_abs());
    let drain_timeout = file
        .drain_timeout_secs
        .and_then(|v| ctx.int_in(v, 0, MAX_DRAIN_SECS, path.key("drain_timeout_secs")))
        .map_or(defaults.drain_timeout, secs);
    let retry_after = file
        .retry_after_secs
        .and_then(|v| ctx.int_in(v, 1, MAX_DRAIN_SECS, path.key("retry_after_secs")))
        .map_or(defaults.retry_after, secs);
    ShutdownConfig {
        drain_timeout,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::config::validate::testing::{Case, check, run_cases};

    const BASE_OPS: &str =
        "[records]\npath = \"calls.jsonl\"\nkeep_files = 3\n\n[shutdown]\ndrain_timeout_secs = 5\n";

    #[test]
    fn ops_rules() {
        run_cases(&[
            Case::new(
                "record sizes out of range",
                "[records]\nmax_file_bytes = 10\nkeep_files = 0\nqueue = -1\n",
                &[
                    "records.max_file_bytes: 10 is out of range 4096..=68719476736",
                    "records.keep_files: 0 is out of range 1..=1000",
                    "records.queue: -1 is out of range 1..=1000000",
                ],
            ),
            Case::new(
                "negative drain",
                "[shutdown]\ndrain_timeout_secs = -1\nretry_after_secs = 0\n",
                &[
                    "shutdown.drain_timeout_secs: -1 is out of range 0..=86400",
                    "shutdown.retry_after_secs: 0 is out of range 1..=86400",
                ],
            ),
            Case::new(
                "missing token file",
                "[admin]\ntoken_file = \"nope.token\"\n",
                &["admin.token_file: cannot read file /cfg/nope.token"],
            ),
            Case::new(
                "unknown admin key",
                "[admin]\ntoken = \"x\"\n",
                &["admin.token: unknown key"],
            ),
        ]);
    }

    #[test]
    fn admin_off_loopback_needs_a_token() {
        let base = crate::config::validate::testing::BASE;
        let open = base.replace("listen = \"127.0.0.1:9090\"", "listen = \"0.0.0.0:9090\"");
        let errors = check(&open).expect_err("open admin API on a wildcard address");
        assert!(errors.to_string().contains("admin.token_file"), "{errors}");
        let off = format!("{open}\n[admin]\nenabled = false\n");
        assert!(check(&off).is_ok());
    }

    #[test]
    fn ops_values_and_defaults() {
        let base = crate::config::validate::testing::BASE;
        let config = check(&format!("{base}\n{BASE_OPS}")).expect("valid");
        assert_eq!(
            config.records.path.as_deref(),
            Some(Path::new("/cfg/calls.jsonl"))
        );
        assert_eq!(config.records.keep_files, 3);
        assert_eq!(config.records.queue, 4096);
        assert_eq!(config.shutdown.drain_timeout, Duration::from_secs(5));
        assert_eq!(config.shutdown.retry_after, Duration::from_secs(60));
        let plain = check(base).expect("valid");
        assert_eq!(plain.records.path, None);
        assert!(plain.admin.enabled);
        assert_eq!(plain.shutdown.drain_timeout, Duration::from_secs(30));
    }
}
