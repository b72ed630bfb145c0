//! Composition root (shell): turns a validated [`Config`] into running parts — SIP listeners,
//! media relay, B2BUA and the admin HTTP endpoint as they are added — and owns process-wide
//! shutdown.
//!
//! Shutdown happens in two steps ([`Running::shutdown`]). First the *drain*: `/readyz` turns
//! unready, the signaling task answers new INVITEs and REGISTERs with 503 + Retry-After and lets
//! established calls go on until they end or `[shutdown] drain_timeout_secs` passes; then it ends
//! the rest itself (BYE on both legs), each call with its record. Then the *stop*: [`run`] holds
//! the [`ShutdownTrigger`]; every task gets a clone of [`Shutdown`] and `select!`s on it next to
//! its work. The trigger fires, tasks finish what they are doing and drop their `Shutdown`, and
//! [`ShutdownTrigger::drained`] resolves once the last one is gone (bounded by
//! [`DRAIN_TIMEOUT`]); the call record writer is one of them, so the last records are on disk
//! before the process exits.
//!
//! SIGHUP (and `POST /admin/reload`) runs the [`Reloader`]: certificates, the policy files, then the
//! configuration file.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use std::net::SocketAddr;
use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use crate::b2bua::cdr::writer as records;
use crate::b2bua::control::{self, ControlHandle};
use crate::b2bua::credentials::{CredentialStore, CredentialsError};
use crate::b2bua::pipeline::LocalIdentity;
use crate::b2bua::resolve::{self, PeerNames};
use crate::b2bua::task::Core;
use crate::config::{Config, Host, Transport};
use crate::media::{MediaControl, RealmRelay, RelaySettings};
use crate::metrics::Metrics;
use crate::metrics::admin::{Admin, AdminToken, TokenError};
use crate::metrics::http::{self as metrics_http, HttpError, Readiness};
use crate::metrics::labels::{DropReason, RejectReason};
use crate::policy::{Known, PolicyGate, PolicyStore};
use crate::reload::{LogReload, ReloadReport, Reloader};
use crate::sip::ParseError;
use crate::sip::validate::Validator;
use crate::tls::{ReloadableServerConfig, TlsError};
use crate::transport::conn::ConnContext;
use crate::transport::listen::{self, AcceptContext, StreamKind};
use crate::transport::outbound::Outbound;
use crate::transport::table::Refusal;
use crate::transport::udp::{self, UdpContext};
use crate::transport::{
    CloseReason, ConnId, ConnTable, ListenerId, ListenerInfo, TransportObserver, Transports,
};

/// How long tasks may take to finish once they are told to stop (after the call drain).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Closed-connection notices waiting for the signaling task.
const CLOSED_NOTICES: usize = 4096;
/// Longest wait for the calls the SBC ended itself to finish their BYE (and CANCEL)
/// transactions: a few retransmissions; a far end silent for longer is not waited for (its call
/// is recorded as ended by the shutdown all the same).
const END_CALLS_GRACE: Duration = Duration::from_secs(5);

/// How the process was started, beyond the configuration itself.
#[derive(Default)]
pub struct RunOptions {
    /// The configuration file, re-read on reload. `None`: reloads only refresh certificates.
    pub config_path: Option<std::path::PathBuf>,
    /// Applies a new `log.level`; `None` when the filter cannot change (e.g. `RUST_LOG` is set).
    pub log: Option<LogReload>,
}

/// Longest time one write to a TCP/TLS peer may take before the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the application stopped with an error.
#[derive(Debug, Error)]
pub enum AppError {
    /// The SIGINT/SIGTERM handlers could not be installed or failed.
    #[error("cannot wait for shutdown signals: {0}")]
    Signal(#[source] io::Error),
    /// A listener could not be bound.
    #[error("cannot listen on {transport}:{addr}: {source}")]
    Bind {
        /// Transport of the listener.
        transport: Transport,
        /// Its address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A realm's TLS certificate or key could not be loaded.
    #[error("realm {realm}: {source}")]
    Tls {
        /// The realm.
        realm: String,
        /// Why.
        #[source]
        source: TlsError,
    },
    /// The metrics endpoint could not be bound.
    #[error("metrics endpoint: {0}")]
    Metrics(#[source] HttpError),
    /// The media relay could not start its threads.
    #[error("media relay: {0}")]
    Media(#[source] io::Error),
    /// A peer's credentials file is unreadable or malformed.
    #[error("{0}")]
    Credentials(#[source] CredentialsError),
    /// The policy files do not validate.
    #[error("policy: {0}")]
    Policy(#[source] crate::policy::PolicyErrors),
    /// The call record file could not be opened.
    #[error("call records: {0}")]
    Records(#[source] io::Error),
    /// The admin token file could not be read.
    #[error("admin API: {0}")]
    AdminToken(#[source] TokenError),
}

/// A started SBC: its bound addresses and handles, until [`Running::shutdown`].
pub struct Running {
    /// The SIP listeners as bound (real ports when the configuration said 0).
    pub listeners: Vec<ListenerInfo>,
    /// The metrics endpoint's address.
    pub metrics_addr: SocketAddr,
    /// Metric families.
    pub metrics: Arc<Metrics>,
    /// The send side of the transports (and the connection table).
    pub transports: Arc<Transports>,
    /// `/readyz` state.
    pub readiness: Readiness,
    /// The edge policy in force (reload with [`PolicyStore::reload`]).
    pub policy: Arc<PolicyStore>,
    /// The signaling task's control channel.
    pub control: ControlHandle,
    /// Configuration reload (SIGHUP, `POST /admin/reload`).
    pub reloader: Arc<Reloader>,
    tls: Vec<(String, Arc<ReloadableServerConfig>)>,
    trigger: ShutdownTrigger,
}

impl Running {
    /// The bound address of the first `transport` listener of `realm`.
    pub fn local_addr(&self, realm: &str, transport: Transport) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|l| &*l.realm_name == realm && l.transport == transport)
            .map(|l| l.local)
    }

    /// Reloads every realm's TLS certificate (SIGHUP); failures keep the previous certificate.
    pub fn reload_tls(&self) {
        for (realm, config) in &self.tls {
            let _ = config.reload_and_record(realm, &self.metrics);
        }
    }

    /// Reloads certificates and the configuration file (SIGHUP).
    pub async fn reload(&self) -> ReloadReport {
        self.reloader.reload("signal").await
    }

    /// Drains, then stops: `/readyz` turns unready, new calls and registrations get 503, calls
    /// go on until they end or the drain timeout passes (then the SBC ends them), and finally
    /// every task is told to finish and waited for (bounded by [`DRAIN_TIMEOUT`]).
    pub async fn shutdown(self) {
        self.readiness.set_not_ready();
        self.metrics.draining(true);
        let config = self.reloader.running();
        let mut idle = self.control.drain(config.shutdown.retry_after).await;
        info!(
            timeout_secs = config.shutdown.drain_timeout.as_secs(),
            calls = self.metrics.calls_active(),
            "draining"
        );
        if tokio::time::timeout(config.shutdown.drain_timeout, &mut idle)
            .await
            .is_err()
        {
            warn!(
                calls = self.metrics.calls_active(),
                "drain timeout: ending the remaining calls"
            );
            self.control.end_calls().await;
            let _ = tokio::time::timeout(END_CALLS_GRACE, &mut idle).await;
        }
        info!("calls drained, stopping");
        self.trigger.trigger();
        if tokio::time::timeout(DRAIN_TIMEOUT, self.trigger.drained())
            .await
            .is_err()
        {
            warn!(
                timeout_secs = DRAIN_TIMEOUT.as_secs(),
                "drain timed out, stopping anyway"
            );
        }
    }
}

/// Binds every listener and the metrics endpoint and starts all tasks.
pub async fn start(config: Arc<Config>) -> Result<Running, AppError> {
    start_with(config, RunOptions::default()).await
}

/// [`start`], with the configuration file's path and a log filter handle for reloads.
pub async fn start_with(config: Arc<Config>, options: RunOptions) -> Result<Running, AppError> {
    log_plan(&config);
    // Peer credentials are read before anything binds, so a bad file stops start-up cleanly.
    let credentials = CredentialStore::load(&config.peers)
        .map_err(|mut errors| AppError::Credentials(errors.swap_remove(0)))?;
    let (trigger, shutdown) = shutdown_channel();
    let metrics = Arc::new(Metrics::new());
    let readiness = Readiness::new();
    let validator = Arc::new(Validator {
        limits: config.sip.limits,
        ..Validator::default()
    });
    let (policy, policy_events) =
        PolicyStore::load(&config.policy_dir, Known::of(&config), Arc::clone(&metrics))
            .map_err(AppError::Policy)?;
    let limits = &config.transport;
    let (inbound_tx, inbound_rx) = mpsc::channel(limits.inbound_queue_messages);
    let table = ConnTable::new(limits.max_connections, limits.max_connections_per_source);

    // Bind everything first, so a bad address fails start-up before any task runs.
    let mut infos = Vec::new();
    let mut udp_sockets: Vec<Option<Vec<Arc<UdpSocket>>>> = Vec::new();
    let mut stream_listeners = Vec::new();
    let mut tls = Vec::new();
    for (realm_index, realm) in config.realms.iter().enumerate() {
        let realm_name: Arc<str> = Arc::from(realm.name.as_str());
        let tls_config = match &realm.tls {
            Some(t)
                if realm
                    .listeners
                    .iter()
                    .any(|l| l.transport == Transport::Tls) =>
            {
                let reloadable =
                    ReloadableServerConfig::new(t.clone()).map_err(|source| AppError::Tls {
                        realm: realm.name.clone(),
                        source,
                    })?;
                reloadable.record_expiry(&realm.name, &metrics);
                let reloadable = Arc::new(reloadable);
                tls.push((realm.name.clone(), Arc::clone(&reloadable)));
                Some(reloadable)
            }
            _ => None,
        };
        for listener in &realm.listeners {
            let bind_error = |source| AppError::Bind {
                transport: listener.transport,
                addr: listener.addr,
                source,
            };
            let (local, udp, stream) = match listener.transport {
                Transport::Udp => {
                    let sockets = udp::bind(
                        listener.addr,
                        limits.udp_sockets_per_listener,
                        limits.udp_recv_buffer_bytes,
                        realm.dscp.sip,
                    )
                    .map_err(bind_error)?;
                    let local = sockets[0].local_addr().map_err(bind_error)?;
                    (local, Some(sockets), None)
                }
                Transport::Tcp | Transport::Tls => {
                    let tcp = listen::bind(listener.addr, realm.dscp.sip)
                        .await
                        .map_err(bind_error)?;
                    let local = tcp.local_addr().map_err(bind_error)?;
                    let kind = match (listener.transport, &tls_config) {
                        (Transport::Tls, Some(c)) => StreamKind::Tls(Arc::clone(c)),
                        _ => StreamKind::Tcp,
                    };
                    (local, None, Some((tcp, kind)))
                }
            };
            info!(realm = %realm.name, transport = %listener.transport, %local, "listening");
            let id = infos.len() as ListenerId;
            infos.push(ListenerInfo {
                realm: realm_index,
                realm_name: Arc::clone(&realm_name),
                transport: listener.transport,
                local,
            });
            udp_sockets.push(udp);
            if let Some((tcp, kind)) = stream {
                stream_listeners.push((id, tcp, kind));
            }
        }
    }
    let http = metrics_http::bind(config.metrics.listen)
        .await
        .map_err(AppError::Metrics)?;
    let metrics_addr = http.local_addr().map_err(|e| {
        AppError::Metrics(HttpError::Bind {
            addr: config.metrics.listen,
            source: e,
        })
    })?;

    let (closed_tx, closed_rx) = mpsc::channel(CLOSED_NOTICES);
    let observer: Arc<dyn TransportObserver> = Arc::new(MetricsObserver {
        metrics: Arc::clone(&metrics),
        listeners: infos
            .iter()
            .map(|l| (Arc::clone(&l.realm_name), l.transport))
            .collect(),
        closed: closed_tx,
    });
    let gate: Arc<dyn crate::transport::SourceGate> = Arc::new(PolicyGate::new(
        Arc::clone(&policy),
        infos.iter().map(|l| Arc::clone(&l.realm_name)).collect(),
    ));
    // Per-listener connection settings, shared by accepted and opened connections.
    let conn_ctx = |id: usize| ConnContext {
        listener: id as ListenerId,
        transport: infos[id].transport,
        validator: Arc::clone(&validator),
        inbound: inbound_tx.clone(),
        observer: Arc::clone(&observer),
        idle_timeout: limits.idle_timeout,
        message_timeout: limits.message_timeout,
        write_timeout: WRITE_TIMEOUT,
        dscp: config.realms[infos[id].realm].dscp.sip,
    };
    let mut outbound = Vec::with_capacity(infos.len());
    for (id, info) in infos.iter().enumerate() {
        let realm = &config.realms[info.realm];
        let tls_client = match (info.transport, &realm.tls) {
            (Transport::Udp, _) => {
                outbound.push(None);
                continue;
            }
            (Transport::Tcp, _) => None,
            // TLS toward peers verifies their certificates against the realm's CA file and
            // presents the realm's own certificate; without a CA file the SBC cannot open TLS.
            (Transport::Tls, Some(t)) => match &t.ca {
                Some(ca) => Some(Arc::new(
                    crate::tls::client_config(Some(ca), Some((&t.cert, &t.key))).map_err(
                        |source| AppError::Tls {
                            realm: realm.name.clone(),
                            source,
                        },
                    )?,
                )),
                None => {
                    outbound.push(None);
                    continue;
                }
            },
            (Transport::Tls, None) => {
                outbound.push(None);
                continue;
            }
        };
        outbound.push(Some(Outbound {
            conn: conn_ctx(id),
            table: Arc::clone(&table),
            tls: tls_client,
            connect_timeout: limits.tls_handshake_timeout,
            write_queue: limits.write_queue_messages,
            shutdown: trigger.subscriber(),
        }));
    }
    let transports = Arc::new(Transports::new(
        infos.clone(),
        udp_sockets
            .iter()
            .map(|s| s.as_ref().map(|v| Arc::clone(&v[0])))
            .collect(),
        outbound,
        Arc::clone(&table),
    ));

    // Tasks.
    for (id, sockets) in udp_sockets.into_iter().enumerate() {
        for socket in sockets.into_iter().flatten() {
            let ctx = UdpContext {
                listener: id as ListenerId,
                validator: Arc::clone(&validator),
                inbound: inbound_tx.clone(),
                observer: Arc::clone(&observer),
                gate: Some(Arc::clone(&gate)),
            };
            tokio::spawn(udp::receive_loop(socket, ctx, shutdown.clone()));
        }
    }
    for (id, tcp, kind) in stream_listeners {
        let ctx = AcceptContext {
            conn: conn_ctx(usize::from(id)),
            table: Arc::clone(&table),
            handshake_timeout: limits.tls_handshake_timeout,
            write_queue: limits.write_queue_messages,
            gate: Some(Arc::clone(&gate)),
        };
        tokio::spawn(listen::accept_loop(tcp, kind, ctx, shutdown.clone()));
    }
    drop(inbound_tx);
    for (realm, config) in &tls {
        if let Err(error) = crate::tls::watch(
            Arc::clone(config),
            realm.clone(),
            Arc::clone(&metrics),
            shutdown.clone(),
        ) {
            warn!(realm, %error, "cannot watch certificate files; reload with SIGHUP");
        }
    }
    let records = records::start(&config.records, Arc::clone(&metrics), shutdown.clone())
        .map_err(AppError::Records)?;
    let token = Arc::new(AdminToken::none());
    token
        .load(config.admin.token_file.as_deref())
        .map_err(AppError::AdminToken)?;
    let (control, control_rx) = control::channel();
    let mut core = Core::new(
        Arc::clone(&config),
        Arc::clone(&transports),
        Arc::clone(&metrics),
        local_identity(&config, &infos),
        Bytes::from(config.sip.user_agent.clone()),
    )
    .with_policy(Arc::clone(&policy))
    .with_records(records)
    .with_control(control_rx);
    // Peer names resolve before the first call can need them, then in the background.
    let peer_names = Arc::new(PeerNames::default());
    peer_names.refresh(&config, &transports).await;
    core.set_peer_names(Arc::clone(&peer_names));
    core.set_credentials(credentials);
    core.set_closed_connections(closed_rx);
    let (media, media_events) = MediaControl::start(
        RelaySettings::from_config(&config.media),
        config.realms.iter().map(RealmRelay::of).collect(),
        Arc::clone(&metrics),
    )
    .map_err(AppError::Media)?;
    core.set_media(media, media_events);
    tokio::spawn(resolve::run(
        peer_names,
        Arc::clone(&config),
        Arc::clone(&transports),
        shutdown.clone(),
    ));
    tokio::spawn(crate::policy::store::write_events(
        Arc::clone(&policy),
        policy_events,
        shutdown.clone(),
    ));
    if config.policy_dir.is_dir() {
        if let Err(error) = crate::policy::store::watch(Arc::clone(&policy), shutdown.clone()) {
            warn!(%error, "cannot watch the policy directory; reload with SIGHUP");
        }
    }
    let clock = core.wall_clock();
    tokio::spawn(core.run(inbound_rx, shutdown.clone()));
    let reloader = Arc::new(
        Reloader::new(
            options.config_path,
            Arc::clone(&config),
            control.clone(),
            tls.clone(),
            Arc::clone(&metrics),
            Arc::clone(&token),
            options.log,
            clock,
        )
        .with_policy(Arc::clone(&policy)),
    );
    let admin = config.admin.enabled.then(|| {
        Arc::new(Admin {
            control: control.clone(),
            reloader: Arc::clone(&reloader),
            token,
            readiness: readiness.clone(),
            extensions: vec![Arc::new(crate::policy::admin::PolicyAdmin::new(
                Arc::clone(&policy),
            ))],
        })
    });
    tokio::spawn(metrics_http::serve_with_admin(
        http,
        Arc::clone(&metrics),
        readiness.clone(),
        admin,
        shutdown.clone(),
    ));
    drop(shutdown);
    readiness.set_ready();
    info!("ready");
    Ok(Running {
        listeners: infos,
        metrics_addr,
        metrics,
        transports,
        readiness,
        policy,
        control,
        reloader,
        tls,
        trigger,
    })
}

/// Runs the SBC described by `config` until SIGINT or SIGTERM, reloading certificates and the
/// configuration on SIGHUP, then drains and returns; a second SIGINT/SIGTERM during the drain
/// ends the remaining calls at once.
pub async fn run(config: Arc<Config>, options: RunOptions) -> Result<(), AppError> {
    let running = start_with(config, options).await?;
    loop {
        match wait_for_signal().await.map_err(AppError::Signal)? {
            Signal::Hangup => {
                info!("SIGHUP: reloading certificates and configuration");
                running.reload().await;
            }
            signal => {
                info!(%signal, "shutdown requested, draining");
                break;
            }
        }
    }
    // A second SIGINT/SIGTERM during the drain ends the remaining calls at once.
    let control = running.control.clone();
    let drain = running.shutdown();
    tokio::pin!(drain);
    loop {
        tokio::select! {
            () = &mut drain => break,
            signal = wait_for_signal() => match signal {
                Ok(Signal::Hangup) => info!("SIGHUP ignored while draining"),
                Ok(signal) => {
                    warn!(%signal, "second stop signal: ending the remaining calls now");
                    control.end_calls().await;
                }
                Err(error) => warn!(%error, "cannot wait for signals while draining"),
            },
        }
    }
    info!("stopped");
    Ok(())
}

/// The addresses and names under which requests are addressed to the SBC itself.
fn local_identity(config: &Config, listeners: &[ListenerInfo]) -> LocalIdentity {
    let mut identity = LocalIdentity::default();
    for l in listeners {
        if l.local.ip().is_unspecified() {
            identity.any_ip = true;
        } else {
            identity.addresses.push(l.local.ip());
        }
    }
    for realm in &config.realms {
        match &realm.advertised_address {
            Some(Host::Ip(ip)) => identity.addresses.push(*ip),
            Some(Host::Name(name)) => identity.names.push(name.to_ascii_lowercase()),
            None => {}
        }
    }
    identity
}

/// Transport events counted in the metric families.
struct MetricsObserver {
    metrics: Arc<Metrics>,
    listeners: Vec<(Arc<str>, Transport)>,
    /// Tells the signaling task which connections closed.
    closed: mpsc::Sender<ConnId>,
}

impl MetricsObserver {
    fn labels(&self, id: ListenerId) -> (&str, Transport) {
        self.listeners
            .get(usize::from(id))
            .map_or(("", Transport::Udp), |(realm, t)| (&**realm, *t))
    }
}

impl TransportObserver for MetricsObserver {
    fn queue_full(&self, _listener: ListenerId) {
        self.metrics.dropped(DropReason::QueueFull);
    }

    fn dropped(&self, listener: ListenerId, error: &ParseError) {
        let (_, transport) = self.labels(listener);
        self.metrics.parse_error(error.reason(), transport);
        self.metrics.dropped(DropReason::InvalidResponse);
    }

    fn conn_accepted(&self, listener: ListenerId) {
        let (realm, transport) = self.labels(listener);
        self.metrics.connection_accepted(realm, transport);
    }

    fn conn_refused(&self, listener: ListenerId, reason: Refusal) {
        let (realm, transport) = self.labels(listener);
        let reason = match reason {
            Refusal::PerSource => RejectReason::PerSourceLimit,
            Refusal::Global => RejectReason::GlobalLimit,
        };
        self.metrics.connection_rejected(realm, transport, reason);
    }

    fn conn_closed(&self, listener: ListenerId, conn: ConnId, reason: CloseReason) {
        let (realm, transport) = self.labels(listener);
        self.metrics
            .connection_closed(realm, transport, reason.into());
        // Registrations made over this connection can no longer be reached. If the signaling
        // task is too far behind to take the notice, they lapse at their (short) expiry instead.
        if self.closed.try_send(conn).is_err() {
            debug!(
                ?conn,
                "closed-connection notice dropped; bindings will expire"
            );
        }
    }

    fn tls_handshake_failed(&self, listener: ListenerId) {
        let (realm, transport) = self.labels(listener);
        self.metrics.tls_handshake_failed(realm);
        self.metrics
            .connection_rejected(realm, transport, RejectReason::TlsHandshake);
    }
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
    (ShutdownTrigger { tx: Arc::new(tx) }, Shutdown { rx })
}

/// The sending side of shutdown, held by the composition root.
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: Arc<watch::Sender<bool>>,
}

/// Hands out [`Shutdown`] handles to tasks started later (connections the SBC opens) without
/// being one itself, so holding it does not hold up [`ShutdownTrigger::drained`].
#[derive(Debug, Clone)]
pub struct ShutdownSubscriber {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownSubscriber {
    /// A new handle.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            rx: self.tx.subscribe(),
        }
    }
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

    /// A subscriber for tasks that will be started later.
    pub fn subscriber(&self) -> ShutdownSubscriber {
        ShutdownSubscriber {
            tx: Arc::clone(&self.tx),
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
    /// SIGHUP: reload certificates and the configuration.
    Hangup,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
        })
    }
}

/// Waits for SIGINT, SIGTERM or SIGHUP (only Ctrl-C where the others do not exist).
pub async fn wait_for_signal() -> io::Result<Signal> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map(|()| Signal::Interrupt),
            _ = terminate.recv() => Ok(Signal::Terminate),
            _ = hangup.recv() => Ok(Signal::Hangup),
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
