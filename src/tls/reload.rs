//! Certificate hot reload (shell): an `ArcSwap`ped server configuration and a file watcher.
//!
//! Certificate tooling (cert-manager, certbot, editors, Kubernetes secret volumes) replaces
//! files by writing a new file and renaming it over the old one, or by swapping a `..data`
//! symlink. A watch on the file itself would follow the old inode and miss that, so [`watch`]
//! watches the *directories* holding the certificate, key and CA files, keeps the events that
//! name one of those files (or `..data`), and reloads once no event has arrived for
//! [`DEBOUNCE`], so a key and certificate written one after the other are loaded together.

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use notify::{EventKind, RecursiveMode, Watcher};
use rustls::ServerConfig;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use super::TlsError;
use super::config::{load_certs, server_config_with};
use super::x509;
use crate::app::Shutdown;
use crate::config::TlsConfig;
use crate::metrics::Metrics;
use crate::metrics::labels::ReloadResult;

/// Quiet period after the last file event before [`watch`] reloads.
pub const DEBOUNCE: Duration = Duration::from_millis(500);

/// `not_after` value meaning "not known" (the certificate's validity could not be read).
const UNKNOWN: i64 = i64::MIN;

/// A realm's TLS server configuration that can be replaced while the SBC runs.
#[derive(Debug)]
pub struct ReloadableServerConfig {
    tls: TlsConfig,
    current: ArcSwap<ServerConfig>,
    generation: AtomicU64,
    not_after: AtomicI64,
}

impl ReloadableServerConfig {
    /// Loads the files named by `tls`.
    pub fn new(tls: TlsConfig) -> Result<Self, TlsError> {
        let (config, not_after) = build(&tls)?;
        Ok(Self {
            tls,
            current: ArcSwap::from_pointee(config),
            generation: AtomicU64::new(0),
            not_after: AtomicI64::new(not_after.unwrap_or(UNKNOWN)),
        })
    }

    /// The configuration new handshakes should use. Build the acceptor per connection
    /// (`TlsAcceptor::from(current)`, or [`ReloadableServerConfig::acceptor`]) so that a reload
    /// takes effect for the next handshake.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.current.load_full()
    }

    /// An acceptor for one new connection, with the current configuration.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current())
    }

    /// The file settings this configuration is loaded from.
    pub fn tls_config(&self) -> &TlsConfig {
        &self.tls
    }

    /// How many reloads have succeeded since [`ReloadableServerConfig::new`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Not-after time (Unix seconds) of the loaded server certificate, if it could be read.
    pub fn not_after(&self) -> Option<i64> {
        Some(self.not_after.load(Ordering::Acquire)).filter(|&t| t != UNKNOWN)
    }

    /// Loads the files again and, if that succeeds, swaps the new configuration in. On failure
    /// the previous configuration stays in use and the error is returned.
    pub fn reload(&self) -> Result<(), TlsError> {
        let (config, not_after) = build(&self.tls)?;
        self.current.store(Arc::new(config));
        self.not_after
            .store(not_after.unwrap_or(UNKNOWN), Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// [`ReloadableServerConfig::reload`], logged and counted in
    /// `sbc_tls_certificate_reloads_total{realm, result}`; on success the expiry gauge is
    /// updated. Used by the file watcher and on SIGHUP.
    pub fn reload_and_record(&self, realm: &str, metrics: &Metrics) -> Result<(), TlsError> {
        match self.reload() {
            Ok(()) => {
                info!(realm, cert = %self.tls.cert.display(), "TLS certificate reloaded");
                metrics.tls_reload(realm, ReloadResult::Ok);
                self.record_expiry(realm, metrics);
                Ok(())
            }
            Err(error) => {
                warn!(realm, %error, "TLS certificate reload failed; keeping the previous one");
                metrics.tls_reload(realm, ReloadResult::Error);
                Err(error)
            }
        }
    }

    /// Sets `sbc_tls_certificate_expiry_timestamp_seconds{realm}` from the loaded certificate.
    pub fn record_expiry(&self, realm: &str, metrics: &Metrics) {
        if let Some(not_after) = self.not_after() {
            metrics.tls_certificate_expiry(realm, not_after);
        }
    }

    /// The files whose changes should trigger a reload.
    fn files(&self) -> Vec<&Path> {
        let mut files = vec![self.tls.cert.as_path(), self.tls.key.as_path()];
        files.extend(self.tls.ca.as_deref());
        files
    }
}

/// Builds a server configuration and reads the leaf certificate's not-after time.
fn build(tls: &TlsConfig) -> Result<(ServerConfig, Option<i64>), TlsError> {
    let certs = load_certs(&tls.cert)?;
    let not_after = certs
        .first()
        .and_then(|leaf| x509::validity(leaf))
        .map(|v| v.not_after);
    Ok((server_config_with(tls, certs)?, not_after))
}

/// Watches the directories of `config`'s files and reloads it (with
/// [`ReloadableServerConfig::reload_and_record`]) after changes, until `shutdown`. Must be
/// called inside a Tokio runtime; the returned task owns the watcher.
pub fn watch(
    config: Arc<ReloadableServerConfig>,
    realm: String,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) -> Result<JoinHandle<()>, TlsError> {
    let files = config.files();
    let names: HashSet<OsString> = files
        .iter()
        .filter_map(|f| f.file_name())
        .map(OsString::from)
        .chain([OsString::from("..data")])
        .collect();
    let dirs: BTreeSet<PathBuf> = files.iter().map(|f| parent(f)).collect();

    // One pending signal is enough: any number of events leads to one reload.
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) if is_relevant(&event, &names) => {
                let _ = tx.try_send(());
            }
            Ok(_) => {}
            Err(error) => warn!(%error, "certificate watcher error"),
        })
        .map_err(|source| TlsError::Watch {
            path: PathBuf::new(),
            source,
        })?;
    for dir in &dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|source| TlsError::Watch {
                path: dir.clone(),
                source,
            })?;
    }

    Ok(tokio::spawn(async move {
        let _watcher = watcher; // dropped (and stopped) with the task
        let mut shutdown = shutdown;
        loop {
            tokio::select! {
                () = shutdown.triggered() => return,
                event = rx.recv() => if event.is_none() { return },
            }
            // Debounce: wait until the files have been quiet for DEBOUNCE.
            loop {
                tokio::select! {
                    () = shutdown.triggered() => return,
                    () = tokio::time::sleep(DEBOUNCE) => break,
                    event = rx.recv() => if event.is_none() { return },
                }
            }
            // A few small files; reading them inline is cheaper than a blocking-pool hop.
            let _ = config.reload_and_record(&realm, &metrics);
        }
    }))
}

/// The directory holding `file` (`.` for a bare file name).
fn parent(file: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Whether an event may have changed one of the watched files.
fn is_relevant(event: &notify::Event, names: &HashSet<OsString>) -> bool {
    !matches!(event.kind, EventKind::Access(_))
        && event
            .paths
            .iter()
            .any(|p| p.file_name().is_some_and(|n| names.contains(n)))
}
