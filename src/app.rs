//! Composition root (shell): turns a validated [`Config`] into running parts — SIP listeners,
//! media relay, B2BUA and the admin HTTP endpoint as they are added — and owns process-wide
//! shutdown.
//!
//! Shutdown follows one pattern everywhere: [`run`] holds the [`ShutdownTrigger`]; every task
//! gets a clone of [`Shutdown`] and `select!`s on it next to its work. When SIGINT or SIGTERM
//! arrives the trigger fires, tasks finish what they are doing and drop their `Shutdown`, and
//! [`ShutdownTrigger::drained`] resolves once the last one is gone (bounded by
//! [`DRAIN_TIMEOUT`]).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::Config;

/// How long running work may take to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the application stopped with an error.
#[derive(Debug, Error)]
pub enum AppError {
    /// The SIGINT/SIGTERM handlers could not be installed or failed.
    #[error("cannot wait for shutdown signals: {0}")]
    Signal(#[source] io::Error),
}

/// Runs the SBC described by `config` until SIGINT or SIGTERM, then drains and returns.
pub async fn run(config: Arc<Config>) -> Result<(), AppError> {
    log_plan(&config);
    let (trigger, shutdown) = shutdown_channel();
    // SIP listeners, the media relay, the B2BUA and the metrics endpoint each take a clone of
    // `shutdown` here as they are wired in.
    drop(shutdown);
    let signal = wait_for_signal().await.map_err(AppError::Signal)?;
    info!(%signal, "shutdown requested, draining");
    trigger.trigger();
    if tokio::time::timeout(DRAIN_TIMEOUT, trigger.drained())
        .await
        .is_err()
    {
        warn!(
            timeout_secs = DRAIN_TIMEOUT.as_secs(),
            "drain timed out, stopping anyway"
        );
    }
    info!("stopped");
    Ok(())
}

/// Logs what the configuration asks this process to serve.
fn log_plan(config: &Config) {
    for realm in &config.realms {
        for listener in &realm.listeners {
            info!(realm = %realm.name, %listener, "sip listener");
        }
        let media = &realm.media;
        info!(
            realm = %realm.name,
            address = %media.address,
            sdp_address = %media.sdp_address(),
            port_min = media.port_min,
            port_max = media.port_max,
            srtp = %media.srtp,
            "media relay range",
        );
    }
    for peer in &config.peers {
        let addresses: Vec<String> = peer.addresses.iter().map(ToString::to_string).collect();
        info!(peer = %peer.name, realm = %peer.realm, ?addresses, "peer");
    }
    info!(
        realms = config.realms.len(),
        peers = config.peers.len(),
        routes = config.routes.len(),
        metrics = %config.metrics.listen,
        policy_dir = %config.policy_dir.display(),
        "configuration loaded",
    );
}

/// Creates a trigger and its first [`Shutdown`] handle; clone the handle for every task.
pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

/// The sending side of shutdown, held by the composition root.
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

impl ShutdownTrigger {
    /// Tells every [`Shutdown`] handle to stop. Calling it again does nothing.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// A new handle, for a task started after the others.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            rx: self.tx.subscribe(),
        }
    }

    /// Resolves when every [`Shutdown`] handle has been dropped, i.e. all tasks have finished.
    pub async fn drained(&self) {
        self.tx.closed().await;
    }
}

/// A task's view of shutdown: cheap to clone, and a future (via [`IntoFuture`]) that resolves
/// once shutdown has been triggered or the trigger is gone.
///
/// ```ignore
/// tokio::select! {
///     _ = shutdown.clone() => return,
///     packet = socket.recv_from(&mut buf) => { /* ... */ }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    /// Whether shutdown has been triggered (or the trigger dropped).
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow() || self.rx.has_changed().is_err()
    }

    /// Waits until shutdown is triggered; returns at once if it already was.
    pub async fn triggered(&mut self) {
        // `wait_for` fails only when the trigger is dropped, which also means "stop".
        let _ = self.rx.wait_for(|stop| *stop).await;
    }
}

impl IntoFuture for Shutdown {
    type Output = ();
    type IntoFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

    fn into_future(mut self) -> Self::IntoFuture {
        Box::pin(async move { self.triggered().await })
    }
}

/// A signal that asks the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (systemd, docker stop, kill).
    Terminate,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        })
    }
}

/// Waits for SIGINT or SIGTERM (only Ctrl-C where SIGTERM does not exist).
pub async fn wait_for_signal() -> io::Result<Signal> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map(|()| Signal::Interrupt),
            _ = terminate.recv() => Ok(Signal::Terminate),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| Signal::Interrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_reaches_every_handle_and_drains() {
        let (trigger, shutdown) = shutdown_channel();
        let late = trigger.subscribe();
        assert!(!shutdown.is_triggered());
        let tasks: Vec<_> = [shutdown.clone(), shutdown, late]
            .into_iter()
            .map(|handle| tokio::spawn(async move { handle.await }))
            .collect();
        trigger.trigger();
        for task in tasks {
            task.await.expect("task finished");
        }
        trigger.drained().await;
    }

    #[tokio::test]
    async fn triggered_returns_at_once_after_the_fact() {
        let (trigger, mut shutdown) = shutdown_channel();
        trigger.trigger();
        trigger.trigger();
        assert!(shutdown.is_triggered());
        shutdown.triggered().await;
        shutdown.clone().await;
    }

    #[tokio::test]
    async fn dropping_the_trigger_also_stops() {
        let (trigger, shutdown) = shutdown_channel();
        drop(trigger);
        assert!(shutdown.is_triggered());
        shutdown.await;
    }
}
