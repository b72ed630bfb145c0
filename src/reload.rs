//! Configuration reload (shell), run on SIGHUP and by `POST /admin/reload`: reloads every realm's
//! TLS certificate, re-reads the configuration file, applies what can change in a running SBC
//! (see [`crate::config::diff`]) and logs, by key path, what needs a restart. A file that does not
//! validate changes nothing: the errors are logged, reported and counted
//! (`sbc_config_reloads_total{result="error"}`). The call record file is reopened too (for
//! external log rotation), and the admin token re-read.
//!
//! The last report is kept for `GET /admin/status`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::{ArcSwap, ArcSwapOption};
use serde::Serialize;
use tracing::{info, warn};

use crate::b2bua::cdr::WallClock;
use crate::b2bua::control::ControlHandle;
use crate::config::{self, Config, diff};
use crate::metrics::Metrics;
use crate::metrics::admin::AdminToken;
use crate::metrics::labels::ReloadResult;
use crate::tls::ReloadableServerConfig;

/// Changes the log filter of the running process (`log.level`); returns why not on error.
pub type LogReload = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// The outcome of one reload.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    /// When it ran (RFC 3339 UTC).
    pub at: String,
    /// `signal` (SIGHUP) or `admin` (`POST /admin/reload`).
    pub trigger: &'static str,
    /// `ok` or `error`.
    pub result: &'static str,
    /// Key paths applied to the running SBC.
    pub applied: Vec<String>,
    /// Key paths changed in the file that take effect only after a restart.
    pub restart_required: Vec<String>,
    /// Why the file was not used (validation errors, one per line), or what failed to apply.
    pub errors: Vec<String>,
}

/// `GET /admin/status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Crate version.
    pub version: &'static str,
    /// Process start (RFC 3339 UTC).
    pub started: String,
    /// Seconds since start.
    pub uptime_secs: u64,
    /// The configuration file, when the SBC was started from one.
    pub config_path: Option<String>,
    /// Whether `/readyz` answers ready (false while starting or draining).
    pub ready: bool,
    /// The last reload, if any.
    pub last_reload: Option<ReloadReport>,
}

/// Reloads the configuration of a running SBC.
pub struct Reloader {
    path: Option<PathBuf>,
    running: ArcSwap<Config>,
    last: ArcSwapOption<ReloadReport>,
    control: ControlHandle,
    tls: Vec<(String, Arc<ReloadableServerConfig>)>,
    metrics: Arc<Metrics>,
    token: Arc<AdminToken>,
    log: Option<LogReload>,
    clock: WallClock,
    started: Instant,
    /// The edge policy, reloaded with the configuration.
    policy: Option<Arc<crate::policy::PolicyStore>>,
}

/// The runtime's clock (virtual under `tokio::time::pause`).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl Reloader {
    /// A reloader for the SBC started from `config` (read from `path`, if any).
    #[allow(clippy::too_many_arguments)] // every handle a reload touches, passed once at start
    pub fn new(
        path: Option<PathBuf>,
        config: Arc<Config>,
        control: ControlHandle,
        tls: Vec<(String, Arc<ReloadableServerConfig>)>,
        metrics: Arc<Metrics>,
        token: Arc<AdminToken>,
        log: Option<LogReload>,
        clock: WallClock,
    ) -> Self {
        Self {
            path,
            running: ArcSwap::new(config),
            last: ArcSwapOption::empty(),
            control,
            tls,
            metrics,
            token,
            log,
            clock,
            started: now(),
            policy: None,
        }
    }

    /// Reloads `policy` too on every reload.
    pub fn with_policy(mut self, policy: Arc<crate::policy::PolicyStore>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The configuration in use.
    pub fn running(&self) -> Arc<Config> {
        self.running.load_full()
    }

    /// Reloads certificates and the configuration file; `trigger` names who asked.
    pub async fn reload(&self, trigger: &'static str) -> ReloadReport {
        for (realm, config) in &self.tls {
            let _ = config.reload_and_record(realm, &self.metrics);
        }
        let running = self.running.load_full();
        // A broken policy edit keeps the previous policy in force; the report says why.
        let policy_errors = match self.policy.as_ref().map(|p| p.reload()) {
            Some(Err(errors)) => errors.iter().map(|e| format!("policy: {e}")).collect(),
            _ => Vec::new(),
        };
        let mut report = ReloadReport {
            at: self.clock.rfc3339(now()),
            trigger,
            result: "ok",
            applied: Vec::new(),
            restart_required: Vec::new(),
            errors: policy_errors,
        };
        let loaded = match &self.path {
            Some(path) => config::load(path).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {e}", path.display()))
                    .collect::<Vec<_>>()
            }),
            None => Ok((*running).clone()),
        };
        match loaded {
            Err(errors) => {
                for error in &errors {
                    warn!(%error, "configuration reload refused");
                }
                report.errors.extend(errors);
            }
            Ok(new) => {
                let changes = diff::diff(&running, &new);
                let next = Arc::new(diff::apply_live(&running, &new));
                if changes.live.iter().any(|k| k == "log.level") {
                    match &self.log {
                        Some(set) => {
                            if let Err(e) = set(&next.log.level) {
                                report.errors.push(format!("log.level: {e}"));
                            }
                        }
                        None => report
                            .errors
                            .push("log.level: RUST_LOG is set and takes precedence".into()),
                    }
                }
                if let Err(e) = self.token.load(next.admin.token_file.as_deref()) {
                    report.errors.push(format!("admin.token_file: {e}"));
                }
                if !self.control.apply(Arc::clone(&next)).await {
                    report
                        .errors
                        .push("the signaling task did not take the new settings".into());
                }
                for key in &changes.restart {
                    warn!(key = %key, "changed in the configuration file; takes effect after a restart");
                }
                for key in &changes.live {
                    info!(key = %key, "configuration change applied");
                }
                report.applied = changes.live;
                report.restart_required = changes.restart;
                self.running.store(next);
            }
        }
        if !report.errors.is_empty() {
            report.result = "error";
        }
        self.metrics.config_reload(if report.result == "ok" {
            ReloadResult::Ok
        } else {
            ReloadResult::Error
        });
        info!(
            trigger,
            result = report.result,
            applied = report.applied.len(),
            restart_required = report.restart_required.len(),
            "configuration reloaded"
        );
        self.last.store(Some(Arc::new(report.clone())));
        report
    }

    /// The status report; `ready` is the readiness flag.
    pub async fn status(&self, ready: bool) -> StatusReport {
        StatusReport {
            version: env!("CARGO_PKG_VERSION"),
            started: self.clock.rfc3339(self.started),
            uptime_secs: now().saturating_duration_since(self.started).as_secs(),
            config_path: self.path.as_ref().map(|p| p.display().to_string()),
            ready,
            last_reload: self.last.load_full().map(|r| (*r).clone()),
        }
    }
}
