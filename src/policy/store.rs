//! The running policy (shell): the current [`Policy`] behind an `ArcSwap`, reloads (file
//! watcher, SIGHUP) that keep the previous policy when the new one fails validation, the
//! security-event log writer, and the pre-parse source gate of the receive tasks.
//!
//! Editors and Kubernetes config maps replace files by rename (or swap a `..data` symlink), so
//! the watcher watches the policy *directory* and reloads once it has been quiet for
//! [`DEBOUNCE`]. Lists outside the directory are reloaded by SIGHUP only.

use crate::app::Shutdown;
use crate::metrics::Metrics;
use crate::metrics::labels::ReloadResult;
use crate::policy::bans::Bans;
use crate::policy::compile::Known;
use crate::policy::engine::{Event, EventAction};
use crate::policy::error::PolicyErrors;
use crate::policy::events::json_line;
use crate::policy::load::load_dir;
use crate::policy::model::Policy;
use crate::transport::{ListenerId, SourceGate};
use arc_swap::ArcSwap;
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Quiet time after the last file event before a reload.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// Security events waiting for the writer at most; beyond, events are counted but not logged.
const EVENT_QUEUE: usize = 4096;

/// Repeats of one (source, rule, action) written at most once per this period (bans always).
const EVENT_REPEAT: Duration = Duration::from_secs(1);

/// The current policy and what reloads need.
pub struct PolicyStore {
    current: ArcSwap<Policy>,
    dir: PathBuf,
    known: Known,
    metrics: Arc<Metrics>,
    events: mpsc::Sender<Event>,
    bans: Arc<Bans>,
    /// Policies loaded so far (1 after start); the version of the one in force.
    version: std::sync::atomic::AtomicU64,
    /// The last reload's outcome: `None` before any reload, else the errors (empty: it applied).
    last_reload: arc_swap::ArcSwapOption<Vec<String>>,
}

impl PolicyStore {
    /// Loads the policy of `dir`; the receiving end of the event queue goes to [`write_events`].
    pub fn load(
        dir: &Path,
        known: Known,
        metrics: Arc<Metrics>,
    ) -> Result<(Arc<PolicyStore>, mpsc::Receiver<Event>), PolicyErrors> {
        let policy = load_dir(dir, &known)?;
        let (events, rx) = mpsc::channel(EVENT_QUEUE);
        let store = PolicyStore {
            current: ArcSwap::from_pointee(policy),
            dir: dir.to_owned(),
            known,
            metrics,
            events,
            bans: Arc::new(Bans::default()),
            version: std::sync::atomic::AtomicU64::new(1),
            last_reload: arc_swap::ArcSwapOption::empty(),
        };
        Ok((Arc::new(store), rx))
    }

    /// The policy in force.
    pub fn current(&self) -> Arc<Policy> {
        self.current.load_full()
    }

    /// The ban list shared by the engine and the receive tasks.
    pub fn bans(&self) -> &Arc<Bans> {
        &self.bans
    }

    /// Metric handles.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Reloads from disk; a policy that fails validation leaves the current one in force.
    pub fn reload(&self) -> Result<(), PolicyErrors> {
        match load_dir(&self.dir, &self.known) {
            Ok(policy) => {
                self.current.store(Arc::new(policy));
                self.version
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.last_reload.store(Some(Arc::new(Vec::new())));
                self.metrics.policy_reload(ReloadResult::Ok);
                info!(dir = %self.dir.display(), "policy reloaded");
                Ok(())
            }
            Err(errors) => {
                self.metrics.policy_reload(ReloadResult::Error);
                self.last_reload.store(Some(Arc::new(
                    errors.iter().map(|e| e.to_string()).collect(),
                )));
                for e in errors.iter() {
                    warn!(error = %e, "policy reload rejected; the previous policy stays in force");
                }
                Err(errors)
            }
        }
    }

    /// The version of the policy in force: 1 at start, one more per reload that applied.
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The last reload's problems: `None` before any reload, empty when it applied.
    pub fn last_reload(&self) -> Option<Arc<Vec<String>>> {
        self.last_reload.load_full()
    }

    /// The directory the policy is read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Counts `events` and queues them for the security-event log.
    pub fn record(&self, events: Vec<Event>) {
        for e in events {
            self.metrics.policy_decision(e.kind, e.action.as_str());
            let _ = self.events.try_send(e);
        }
    }
}

/// The pre-parse check of the receive tasks: bans, then the realm's ACL.
pub struct PolicyGate {
    store: Arc<PolicyStore>,
    realms: Vec<Arc<str>>,
}

impl PolicyGate {
    /// A gate for listeners whose realms are `realms` (indexed by listener id).
    pub fn new(store: Arc<PolicyStore>, realms: Vec<Arc<str>>) -> PolicyGate {
        PolicyGate { store, realms }
    }
}

impl SourceGate for PolicyGate {
    fn admit(&self, listener: ListenerId, remote: SocketAddr) -> bool {
        let now = tokio::time::Instant::now().into_std();
        if self.store.bans.is_banned(remote, now) {
            self.store.metrics.policy_decision("ban", "drop");
            return false;
        }
        let Some(realm) = self.realms.get(usize::from(listener)) else {
            return true;
        };
        if self.store.current.load().acl.admits(realm, remote.ip()) {
            return true;
        }
        self.store.record(vec![Event {
            kind: "acl",
            rule: Arc::clone(realm),
            action: EventAction::Drop,
            source: remote,
            user: None,
            destination: None,
            ban: None,
        }]);
        false
    }
}

/// Writes queued events as JSON lines to the policy's `[events] log` file (reopened when the
/// path changes on reload), suppressing repeats of one (source, rule, action) within
/// one second. Runs until shutdown.
pub async fn write_events(
    store: Arc<PolicyStore>,
    mut rx: mpsc::Receiver<Event>,
    mut shutdown: Shutdown,
) {
    let mut open: Option<(PathBuf, std::fs::File)> = None;
    let mut recent: HashMap<(IpAddr, Arc<str>, EventAction), tokio::time::Instant> = HashMap::new();
    loop {
        let event = tokio::select! {
            e = rx.recv() => match e { Some(e) => e, None => return },
            () = shutdown.triggered() => return,
        };
        let Some(path) = store.current().events_log.clone() else {
            continue;
        };
        let now = tokio::time::Instant::now();
        if event.action != EventAction::Ban {
            let key = (event.source.ip(), Arc::clone(&event.rule), event.action);
            if recent
                .get(&key)
                .is_some_and(|t| now.duration_since(*t) < EVENT_REPEAT)
            {
                continue;
            }
            if recent.len() >= 10_000 {
                recent.retain(|_, t| now.duration_since(*t) < EVENT_REPEAT);
            }
            recent.insert(key, now);
        }
        if open
            .as_ref()
            .is_none_or(|(p, f)| *p != path || rotated(&path, f))
        {
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
            {
                Ok(f) => open = Some((path.clone(), f)),
                Err(error) => {
                    warn!(path = %path.display(), %error, "cannot open the security-event log");
                    open = None;
                    continue;
                }
            }
        }
        #[allow(clippy::disallowed_methods)] // the shell stamps events with wall-clock time
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut line = json_line(&event, millis);
        line.push('\n');
        if let Some((_, f)) = open.as_mut() {
            // One write per line: O_APPEND keeps lines whole for log shippers.
            if let Err(error) = f.write_all(line.as_bytes()) {
                warn!(%error, "cannot write the security-event log");
                open = None;
            }
        }
    }
}

/// Whether every path of `event` is the security-event log.
fn only_log(store: &PolicyStore, event: &notify::Event) -> bool {
    let log = store.current().events_log.clone();
    !event.paths.is_empty()
        && event.paths.iter().all(|p| {
            log.as_deref()
                .is_some_and(|l| p.file_name() == l.file_name())
        })
}

/// Whether `path` no longer names the open file `f` (log rotation by rename or removal).
fn rotated(path: &Path, f: &std::fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), f.metadata()) {
        (Ok(a), Ok(b)) => a.ino() != b.ino() || a.dev() != b.dev(),
        _ => true,
    }
}

/// Watches the policy directory and reloads after [`DEBOUNCE`] of quiet. Runs until shutdown.
pub fn watch(
    store: Arc<PolicyStore>,
    shutdown: Shutdown,
) -> notify::Result<tokio::task::JoinHandle<()>> {
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let own = Arc::clone(&store);
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            // The event log may live in the policy directory: its writes are not edits.
            Ok(e) if !matches!(e.kind, EventKind::Access(_)) && !only_log(&own, &e) => {
                let _ = tx.try_send(());
            }
            Ok(_) => {}
            Err(error) => warn!(%error, "policy watcher error"),
        })?;
    watcher.watch(&store.dir, RecursiveMode::NonRecursive)?;
    Ok(tokio::spawn(async move {
        let _watcher = watcher;
        let mut shutdown = shutdown;
        loop {
            tokio::select! {
                () = shutdown.triggered() => return,
                e = rx.recv() => if e.is_none() { return },
            }
            loop {
                tokio::select! {
                    () = shutdown.triggered() => return,
                    () = tokio::time::sleep(DEBOUNCE) => break,
                    e = rx.recv() => if e.is_none() { return },
                }
            }
            let _ = store.reload();
        }
    }))
}
