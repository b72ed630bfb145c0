//! The media control handle (shell): what the B2BUA calls, synchronously, from its signaling
//! task when an SDP offer or answer crosses a call — `offer`, `answer`, `update` (re-INVITE),
//! `delete` and `query`, after rtpengine's control verbs but in-process.
//!
//! The control keeps the call table (the pure [`CallMedia`] model plus each line's relay
//! handle) and the realms' port pools behind one short-held lock (never across an `.await`;
//! these methods are synchronous). It binds sockets itself, so a port another process holds is
//! skipped at once, and hands each new line to a relay worker. Commands to a running line go
//! through its bounded channel with `try_send`: a full queue is [`MediaError::Busy`], never a
//! wait and never an unbounded queue.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use tokio::sync::mpsc;

use super::error::MediaError;
use super::ports::{PoolUsage, PortPair, PortPool};
use super::relay::pair::{self, Command, PairSetup, RemoteUpdate};
use super::relay::stats::{StreamSnapshot, StreamStats};
use super::relay::{Workers, bind};
use super::session::{CallMedia, Leg, LineChange, MediaSpec, Remote};
use super::{MediaEvent, RealmRelay, RelaySettings};
use crate::metrics::Metrics;

/// Allowed here: the control is shell code whose lock is held only inside these synchronous
/// methods, never across an await point.
#[allow(clippy::disallowed_types)]
type Lock<T> = std::sync::Mutex<T>;

/// Bind attempts per allocation before giving up (ports held by other processes).
const BIND_ATTEMPTS: usize = 16;

/// One side's offer or answer: its signaling source and its `m=` lines in order.
#[derive(Debug, Default)]
pub struct Description {
    /// Source IP of the SIP message that carried the SDP (helps latching behind NAT).
    pub signaling_ip: Option<IpAddr>,
    /// The `m=` lines, by position.
    pub media: Vec<MediaSpec>,
}

/// The relay's address for one `m=` line, to write into the SDP sent to a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayAddress {
    /// The IP for `c=` (the realm's advertised media address, else its bound one).
    pub ip: IpAddr,
    /// The even RTP port for `m=`.
    pub rtp_port: u16,
    /// The RTCP port (`a=rtcp`, unless rtcp-mux).
    pub rtcp_port: u16,
}

impl RelayAddress {
    /// The RTP transport address.
    pub fn rtp(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.rtp_port)
    }
}

/// Counters of a call's media lines: per line, each leg's stream (indexed by [`Leg::index`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStats {
    /// One entry per `m=` line; `None` for a line that never got ports.
    pub lines: Vec<Option<[StreamSnapshot; 2]>>,
    /// Per line, whether each leg's stream was SRTP (a transform installed) at the end.
    pub secure: Vec<[bool; 2]>,
}

struct LineRelay {
    commands: mpsc::Sender<Command>,
    stats: [Arc<StreamStats>; 2],
    /// Whether each leg's stream has a packet transform (SRTP) installed.
    secure: [bool; 2],
}

struct CallEntry {
    media: CallMedia,
    relays: Vec<Option<LineRelay>>,
}

struct Tables {
    calls: HashMap<String, CallEntry>,
    pools: HashMap<String, PortPool>,
}

struct Inner {
    tables: Lock<Tables>,
    realms: HashMap<String, RealmRelay>,
    settings: RelaySettings,
    workers: Workers,
    events: mpsc::Sender<MediaEvent>,
    metrics: Arc<Metrics>,
    epoch: Instant,
}

/// The handle the B2BUA uses to anchor media. Cheap to clone; every clone drives the same
/// relay, which stops when the last clone is dropped.
#[derive(Clone)]
pub struct MediaControl {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MediaControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaControl")
            .field("realms", &self.inner.realms.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The shell's clock.
#[allow(clippy::disallowed_methods)] // the control is shell code
fn now() -> Instant {
    Instant::now()
}

impl MediaControl {
    /// Starts the relay threads for `realms`; media events (inactive calls) arrive on the
    /// returned receiver, which holds at most `settings.event_queue` of them.
    pub fn start(
        settings: RelaySettings,
        realms: Vec<RealmRelay>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Self, mpsc::Receiver<MediaEvent>)> {
        let workers = Workers::start(settings.relay_threads)?;
        let (events, receiver) = mpsc::channel(settings.event_queue.max(1));
        let mut pools = HashMap::new();
        for realm in &realms {
            let mut pool = PortPool::new(realm.port_min, realm.port_max, settings.port_quarantine);
            let usage = pool.usage(now());
            metrics
                .media()
                .port_pairs(&realm.name, usage.in_use, usage.quarantined, usage.free());
            pools.insert(realm.name.clone(), pool);
        }
        let inner = Inner {
            tables: Lock::new(Tables {
                calls: HashMap::new(),
                pools,
            }),
            realms: realms.into_iter().map(|r| (r.name.clone(), r)).collect(),
            settings,
            workers,
            events,
            metrics,
            epoch: now(),
        };
        Ok((
            Self {
                inner: Arc::new(inner),
            },
            receiver,
        ))
    }

    /// An offer from `from` (the first of a call creates its media with a leg in `realm_a` and
    /// one in `realm_b`; a later one is an update). Returns, per `m=` line, the relay address
    /// to put in the offer sent to the other leg (`None`: the line is disabled, port 0).
    pub fn offer(
        &self,
        call: &str,
        realm_a: &str,
        realm_b: &str,
        from: Leg,
        description: Description,
    ) -> Result<Vec<Option<RelayAddress>>, MediaError> {
        for realm in [realm_a, realm_b] {
            if !self.inner.realms.contains_key(realm) {
                return Err(MediaError::UnknownRealm(realm.to_owned()));
            }
        }
        let mut tables = self.lock();
        let created = !tables.calls.contains_key(call);
        if created {
            let entry = CallEntry {
                media: CallMedia::new(realm_a, realm_b),
                relays: Vec::new(),
            };
            tables.calls.insert(call.to_owned(), entry);
        }
        let result = self.describe(&mut tables, call, from, description, false);
        if result.is_err() && created {
            tables.calls.remove(call);
        }
        result
    }

    /// A new offer on an existing call (re-INVITE or UPDATE: hold, resume, a moved far end,
    /// added lines). Lines keep their ports; a transform given as [`TransformSpec::Keep`](super::TransformSpec::Keep)
    /// keeps its SRTP contexts.
    pub fn update(
        &self,
        call: &str,
        from: Leg,
        description: Description,
    ) -> Result<Vec<Option<RelayAddress>>, MediaError> {
        let mut tables = self.lock();
        if !tables.calls.contains_key(call) {
            return Err(MediaError::UnknownCall);
        }
        self.describe(&mut tables, call, from, description, false)
    }

    /// The answer from `from` to the last offer: latching starts on both legs and the line
    /// is watched for inactivity. Returns the relay addresses for the answer sent to the other
    /// leg.
    pub fn answer(
        &self,
        call: &str,
        from: Leg,
        mut description: Description,
    ) -> Result<Vec<Option<RelayAddress>>, MediaError> {
        let mut tables = self.lock();
        let known = match tables.calls.get(call) {
            Some(entry) => entry.media.lines.len(),
            None => return Err(MediaError::UnknownCall),
        };
        // An answer has the offer's lines (RFC 3264 §6); extra ones are ignored.
        description.media.truncate(known);
        self.describe(&mut tables, call, from, description, true)
    }

    /// Ends a call's media: stops its relay tasks and releases its ports into quarantine.
    /// Returns the final counters; `None` (and nothing done) if the call has no media.
    pub fn delete(&self, call: &str) -> Option<CallStats> {
        let mut tables = self.lock();
        let entry = tables.calls.remove(call)?;
        let stats = stats_of(&entry);
        let now = now();
        let media = self.inner.metrics.media();
        for (realm, pair) in entry.media.allocated() {
            if let Some(pool) = tables.pools.get_mut(realm) {
                if pool.release(pair, now).is_ok() {
                    media.stream_active(realm, -1);
                }
            }
        }
        for realm in &entry.media.realms {
            Self::publish_usage(&mut tables, &self.inner.metrics, realm, now);
        }
        // Dropping the entry drops the command senders: the relay tasks end and close their
        // sockets.
        Some(stats)
    }

    /// The counters of a call's media lines.
    pub fn query(&self, call: &str) -> Option<CallStats> {
        self.lock().calls.get(call).map(stats_of)
    }

    /// Port pool usage of a realm.
    pub fn port_usage(&self, realm: &str) -> Option<PoolUsage> {
        let now = now();
        self.lock().pools.get_mut(realm).map(|p| p.usage(now))
    }

    /// Calls with media.
    pub fn calls(&self) -> usize {
        self.lock().calls.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.inner
            .tables
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies an offer (`answer == false`) or answer from `from` to a known call.
    fn describe(
        &self,
        tables: &mut Tables,
        call: &str,
        from: Leg,
        description: Description,
        answer: bool,
    ) -> Result<Vec<Option<RelayAddress>>, MediaError> {
        let now = now();
        let (known, realms) = {
            let entry = &tables.calls[call];
            // Every command this description sends must fit its line's queue before anything
            // changes: a busy line refuses the whole description and leaves the call as it was.
            // Only this function sends, under the tables lock, so the room checked stays.
            let needed = 1 + usize::from(answer && !entry.media.answered);
            let busy = entry
                .relays
                .iter()
                .take(description.media.len())
                .flatten()
                .any(|relay| relay.commands.capacity() < needed);
            if busy {
                return Err(MediaError::Busy);
            }
            (entry.media.lines.len(), entry.media.realms.clone())
        };
        // Ports for new lines first, so a failure leaves the call as it was.
        let new_lines = description.media.len().saturating_sub(known);
        let mut fresh = Vec::with_capacity(new_lines);
        for _ in 0..new_lines {
            match self.allocate_line(tables, &realms, now) {
                Ok(line) => fresh.push(line),
                Err(e) => {
                    for (pairs, _) in fresh {
                        self.release_pairs(tables, &realms, pairs, now);
                    }
                    return Err(e);
                }
            }
        }
        let entry = tables.calls.get_mut(call).ok_or(MediaError::UnknownCall)?;
        let remotes: Vec<Option<Remote>> = description.media.iter().map(Remote::of).collect();
        let changes = entry.media.describe(from, &remotes);
        let mut fresh = fresh.into_iter();
        for (index, change) in changes.iter().enumerate() {
            if *change == LineChange::New {
                let Some((pairs, sockets)) = fresh.next() else {
                    break;
                };
                entry.media.lines[index].ports = pairs.map(Some);
                let relay = self.spawn_line(call, &realms, sockets);
                entry.relays.push(Some(relay));
            }
        }
        let answered = entry.media.answered || answer;
        for ((index, spec), change) in description.media.into_iter().enumerate().zip(&changes) {
            let Some(Some(relay)) = entry.relays.get_mut(index) else {
                continue;
            };
            let moved = matches!(change, LineChange::Remote { moved: true });
            let secure = match &spec.transform {
                super::TransformSpec::Plain => Some(false),
                super::TransformSpec::Install(_) | super::TransformSpec::Rekey { .. } => Some(true),
                super::TransformSpec::Keep => None,
            };
            let command = Command::Remote(Box::new(RemoteUpdate {
                leg: from,
                remote: remotes[index],
                signaling_ip: description.signaling_ip,
                transform: spec.transform,
                open: answered && moved,
            }));
            if let Some(secure) = secure {
                relay.secure[from.index()] = secure;
            }
            send(relay, command)?;
            if answer && !entry.media.answered {
                send(relay, Command::Answered)?;
            }
        }
        entry.media.answered = answered;
        entry.media.signaling_ips[from.index()] = description.signaling_ip;
        let to = from.other();
        let realm = &self.inner.realms[&entry.media.realms[to.index()]];
        Ok(entry
            .media
            .lines
            .iter()
            .zip(&remotes)
            .map(|(line, remote)| {
                let pair = line.ports[to.index()]?;
                remote.as_ref()?;
                Some(RelayAddress {
                    ip: realm.advertised,
                    rtp_port: pair.rtp(),
                    rtcp_port: pair.rtcp(),
                })
            })
            .collect())
    }

    /// A bound port pair on each leg's realm.
    #[allow(clippy::type_complexity)]
    fn allocate_line(
        &self,
        tables: &mut Tables,
        realms: &[String; 2],
        now: Instant,
    ) -> Result<([PortPair; 2], [[std::net::UdpSocket; 2]; 2]), MediaError> {
        let a = self.allocate_pair(tables, &realms[0], now)?;
        let b = match self.allocate_pair(tables, &realms[1], now) {
            Ok(b) => b,
            Err(e) => {
                self.release_one(tables, &realms[0], a.0, now);
                return Err(e);
            }
        };
        Ok(([a.0, b.0], [a.1, b.1]))
    }

    fn allocate_pair(
        &self,
        tables: &mut Tables,
        realm: &str,
        now: Instant,
    ) -> Result<(PortPair, [std::net::UdpSocket; 2]), MediaError> {
        let relay = &self.inner.realms[realm];
        let buffer = self.inner.settings.socket_buffer_bytes;
        let mut last_error = None;
        for _ in 0..BIND_ATTEMPTS {
            let pool = tables
                .pools
                .get_mut(realm)
                .ok_or_else(|| MediaError::UnknownRealm(realm.to_owned()))?;
            let pair = pool
                .allocate(now)
                .map_err(|e| MediaError::from_ports(e, realm))?;
            let bound = bind(relay.bind, pair.rtp(), buffer, relay.dscp)
                .and_then(|rtp| Ok([rtp, bind(relay.bind, pair.rtcp(), buffer, relay.dscp)?]));
            match bound {
                Ok(sockets) => {
                    self.inner.metrics.media().stream_active(realm, 1);
                    Self::publish_usage(tables, &self.inner.metrics, realm, now);
                    return Ok((pair, sockets));
                }
                Err(e) => {
                    tracing::warn!(realm, port = pair.rtp(), error = %e, "media port busy");
                    // Quarantined like any release: the holder may be gone by then.
                    let _ = pool.release(pair, now);
                    last_error = Some(e);
                }
            }
        }
        Self::publish_usage(tables, &self.inner.metrics, realm, now);
        Err(MediaError::Bind {
            realm: realm.to_owned(),
            source: last_error.unwrap_or_else(|| std::io::Error::other("no attempt")),
        })
    }

    fn release_pairs(
        &self,
        tables: &mut Tables,
        realms: &[String; 2],
        pairs: [PortPair; 2],
        now: Instant,
    ) {
        for (realm, pair) in realms.iter().zip(pairs) {
            self.release_one(tables, realm, pair, now);
        }
    }

    fn release_one(&self, tables: &mut Tables, realm: &str, pair: PortPair, now: Instant) {
        if let Some(pool) = tables.pools.get_mut(realm) {
            if pool.release(pair, now).is_ok() {
                self.inner.metrics.media().stream_active(realm, -1);
            }
        }
        Self::publish_usage(tables, &self.inner.metrics, realm, now);
    }

    fn publish_usage(tables: &mut Tables, metrics: &Metrics, realm: &str, now: Instant) {
        if let Some(pool) = tables.pools.get_mut(realm) {
            let u = pool.usage(now);
            metrics
                .media()
                .port_pairs(realm, u.in_use, u.quarantined, u.free());
        }
    }

    fn spawn_line(
        &self,
        call: &str,
        realms: &[String; 2],
        sockets: [[std::net::UdpSocket; 2]; 2],
    ) -> LineRelay {
        let (commands, receiver) = mpsc::channel(self.inner.settings.command_queue.max(2));
        let stats = [(); 2].map(|()| Arc::new(StreamStats::new(self.inner.epoch)));
        let media = self.inner.metrics.media();
        self.inner.workers.spawn(pair::run(PairSetup {
            call: Arc::from(call),
            sockets,
            stats: stats.clone(),
            counters: [
                media.stream_counters(&realms[0]),
                media.stream_counters(&realms[1]),
            ],
            latch: self.inner.settings.latch,
            inactivity: self.inner.settings.inactivity_timeout,
            commands: receiver,
            events: self.inner.events.clone(),
            metrics: media.clone(),
        }));
        LineRelay {
            commands,
            stats,
            secure: [false, false],
        }
    }
}

fn send(relay: &LineRelay, command: Command) -> Result<(), MediaError> {
    relay
        .commands
        .try_send(command)
        .map_err(|_| MediaError::Busy)
}

fn stats_of(entry: &CallEntry) -> CallStats {
    CallStats {
        lines: entry
            .relays
            .iter()
            .map(|relay| {
                relay
                    .as_ref()
                    .map(|r| [r.stats[0].snapshot(), r.stats[1].snapshot()])
            })
            .collect(),
        secure: entry
            .relays
            .iter()
            .map(|relay| relay.as_ref().map_or([false, false], |r| r.secure))
            .collect(),
    }
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;
