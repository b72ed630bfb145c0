//! Symmetric latching that cannot be hijacked (pure, virtual time).
//!
//! A far end behind NAT sends from an address its SDP does not name, so the relay learns
//! ("latches") where media really comes from and sends the other direction back there. Done
//! naively — latch onto whoever sends last — anyone who can reach a relay port can take the
//! stream over ("RTP bleed"). This latch is strict:
//!
//! 1. **Learning only in a window.** [`Latch::open`] (at answer, or when a re-INVITE changes the
//!    far end's address) starts a short window. Before it, nothing is accepted.
//! 2. **Signaling first.** A packet from the exact address in the SDP locks at once. A source
//!    on a *trusted* IP — the SDP's, or the one the signaling came from ([`Expected`]; for a
//!    phone behind NAT, its public address) — becomes the candidate, displacing a candidate
//!    from any other IP, and its packets are forwarded while it is learned. A source on any
//!    other IP may become the candidate only if there is none, and its packets are **not**
//!    forwarded (dropped as [`LatchDrop::NotLatched`]) until the window ends. Every other
//!    source is dropped as [`LatchDrop::Foreign`].
//! 3. **SSRC consistency.** A trusted candidate locks after [`LatchSettings::learn_packets`]
//!    consecutive packets with one SSRC and continuing sequence numbers; at the window's end
//!    any candidate that sent that many locks. A window that ends with no such candidate
//!    accepts only the SDP address from then on. So an attacker racing a legitimate far end
//!    within the window can at most delay it — unless the far end sends from an IP that is
//!    neither in the SDP nor its signaling source and stays silent for the whole window.
//! 4. **Locked.** After locking, every other source is dropped and counted
//!    ([`LatchDrop::Foreign`]), whatever it sends.
//! 5. **Protected re-latch for NAT rebinding.** A NAT that loses its binding moves the far end
//!    to a new source port mid-call. The latch follows only when a new source sends
//!    [`LatchSettings::relatch_packets`] consecutive packets that carry the **locked SSRC** and
//!    **sequence numbers continuing the locked stream** (each within
//!    [`LatchSettings::seq_window`] of the previous one), while the locked source has been
//!    **silent** for at least [`LatchSettings::relatch_silence`]. An attacker who cannot see
//!    the stream does not know its SSRC (32 random bits, RFC 3550 §8.1) nor its current
//!    sequence number, and the relay never sends anything to an unlatched source to leak them;
//!    a live locked source (any packet from it) cancels the attempt. Someone who can read the
//!    stream on the path can spoof its source address anyway; that is what SRTP is for.
//! 6. **Authenticated first on SRTP legs.** With [`Latch::require_auth`], a packet counts for
//!    learning or re-latching only if the leg's transform authenticated it
//!    ([`LatchPacket::authenticated`]); SRTP packets are unprotected *before* they reach the
//!    latch, so without the key nobody can latch or re-latch.
//!
//! RTCP on its own port has no sequence numbers; its latch is told to [`Latch::follow`] the
//! RTP latch's IP when that one re-latches.

use crate::nat::detect::is_private;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Latching parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatchSettings {
    /// How long after [`Latch::open`] a source may be learned. Default 3 s.
    pub window: Duration,
    /// Consecutive consistent packets that lock a candidate before the window ends. Default 3.
    pub learn_packets: u32,
    /// Consecutive packets a new source must send to re-latch. Default 5.
    pub relatch_packets: u32,
    /// How long the locked source must have been silent before a re-latch. Default 1 s.
    pub relatch_silence: Duration,
    /// Largest forward step between consecutive sequence numbers still counted as continuing
    /// (losses in between are tolerated). Default 16.
    pub seq_window: u16,
}

impl Default for LatchSettings {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(3),
            learn_packets: 3,
            relatch_packets: 5,
            relatch_silence: Duration::from_secs(1),
            seq_window: 16,
        }
    }
}

/// What the latch needs to know about a received packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatchPacket {
    /// Where it came from.
    pub source: SocketAddr,
    /// RTP SSRC, or the RTCP sender SSRC.
    pub ssrc: u32,
    /// RTP sequence number; `None` for RTCP.
    pub seq: Option<u16>,
    /// Whether the leg's transform authenticated it (SRTP).
    pub authenticated: bool,
}

/// What signaling says about the far end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expected {
    /// The media address in the SDP (`c=` and `m=` port, or `a=rtcp`).
    pub address: Option<SocketAddr>,
    /// The IP the signaling came from (the far end's NAT, typically).
    pub signaling_ip: Option<IpAddr>,
}

impl Expected {
    fn trusted_ip(&self, ip: IpAddr) -> bool {
        self.address.is_some_and(|a| a.ip() == ip) || self.signaling_ip == Some(ip)
    }
}

/// `signaled` unless it is a private address (RFC 1918, RFC 6598, link-local, IPv6 ULA) while
/// the signaling came from a different address that is not: the far end is behind a NAT.
pub fn reachable(signaled: SocketAddr, signaling_ip: Option<IpAddr>) -> Option<SocketAddr> {
    let behind_nat = is_private(signaled.ip())
        && signaling_ip.is_some_and(|ip| ip != signaled.ip() && !is_private(ip));
    (!behind_nat).then_some(signaled)
}

/// Why the latch refused a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LatchDrop {
    /// No source is locked and the packet may not learn one (window not open or over).
    NotLatched,
    /// Another source is locked (or is the learning candidate).
    Foreign,
    /// The leg requires authenticated packets and this one was not.
    Unauthenticated,
}

/// A change of the latched source, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatchEvent {
    /// A source was locked.
    Locked(SocketAddr),
    /// The locked source moved (NAT rebinding).
    Relatched {
        /// The previous source.
        from: SocketAddr,
        /// The new source.
        to: SocketAddr,
    },
}

/// The latch's decision on one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Forward it; the event says whether the latched source changed.
    Accept(Option<LatchEvent>),
    /// Drop it.
    Drop(LatchDrop),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    source: SocketAddr,
    trusted: bool,
    ssrc: u32,
    seq: Option<u16>,
    count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No window opened yet.
    Closed,
    /// Learning until `until`; `only` restricts sources to one IP (see [`Latch::follow`]).
    Learning {
        until: Instant,
        candidate: Option<Candidate>,
        only: Option<IpAddr>,
    },
    /// The window ended with no source; only the SDP address may still lock.
    Expired,
    /// Locked onto `source`.
    Locked {
        source: SocketAddr,
        ssrc: u32,
        seq: Option<u16>,
        last_seen: Instant,
        rebind: Option<Candidate>,
    },
}

/// The latch of one component (RTP or RTCP) of one leg's stream.
#[derive(Debug, Clone)]
pub struct Latch {
    settings: LatchSettings,
    expected: Expected,
    require_auth: bool,
    state: State,
}

impl Latch {
    /// A closed latch: nothing is accepted until [`Latch::open`].
    pub fn new(settings: LatchSettings, require_auth: bool) -> Self {
        Self {
            settings,
            expected: Expected::default(),
            require_auth,
            state: State::Closed,
        }
    }

    /// Whether packets must be authenticated to learn or re-latch.
    pub fn require_auth(&self) -> bool {
        self.require_auth
    }

    /// Sets whether packets must be authenticated (a re-INVITE may switch SRTP on or off).
    pub fn set_require_auth(&mut self, require: bool) {
        self.require_auth = require;
    }

    /// Starts (or restarts) learning with what signaling now says. A locked latch whose SDP
    /// address did not change stays locked (a re-INVITE for hold keeps the stream).
    pub fn open(&mut self, expected: Expected, now: Instant) {
        let unchanged = self.expected.address == expected.address;
        self.expected = expected;
        if unchanged && matches!(self.state, State::Locked { .. }) {
            return;
        }
        self.state = State::Learning {
            until: now + self.settings.window,
            candidate: None,
            only: None,
        };
    }

    /// Starts a learning window restricted to sources on `ip` (the RTCP latch following its RTP
    /// latch after a re-latch).
    pub fn follow(&mut self, ip: IpAddr, now: Instant) {
        self.state = State::Learning {
            until: now + self.settings.window,
            candidate: None,
            only: Some(ip),
        };
    }

    /// The locked source, if any.
    pub fn source(&self) -> Option<SocketAddr> {
        match self.state {
            State::Locked { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The source packets should be sent to now: the locked one, or the current candidate
    /// while learning.
    pub fn current(&self) -> Option<SocketAddr> {
        match self.state {
            State::Locked { source, .. } => Some(source),
            State::Learning {
                candidate: Some(c), ..
            } => Some(c.source),
            _ => None,
        }
    }

    /// Where the relay sends this component's media now: the locked source or, while learning,
    /// a *trusted* candidate (on the SDP's or the signaling's IP) — a phone behind NAT is
    /// reached through its NAT's mapping from its first packet on, never at the private address
    /// in its SDP. An untrusted candidate is not a destination: it must not hear the stream.
    /// `None` until such a source is known (the relay then uses the SDP address).
    pub fn destination(&self) -> Option<SocketAddr> {
        match self.state {
            State::Locked { source, .. } => Some(source),
            State::Learning {
                candidate: Some(c), ..
            } if c.trusted => Some(c.source),
            _ => None,
        }
    }

    /// Where the relay sends this component's media now, given `signaled` (where the leg's
    /// SDP says it receives): [`Latch::destination`] once known, else the signaled address —
    /// unless that address is private while the leg's signaling came from another, public
    /// one: a phone behind NAT cannot be reached at its private address, and only its first
    /// packet opens the NAT's mapping, so until then nothing is sent (the caller counts the
    /// packet as having no destination) rather than sent toward a private network.
    pub fn send_to(&self, signaled: SocketAddr) -> Option<SocketAddr> {
        self.destination()
            .or_else(|| reachable(signaled, self.expected.signaling_ip))
    }

    /// Decides on one received packet.
    pub fn check(&mut self, packet: &LatchPacket, now: Instant) -> Verdict {
        if self.require_auth && !packet.authenticated {
            return Verdict::Drop(LatchDrop::Unauthenticated);
        }
        if let State::Learning {
            until, candidate, ..
        } = self.state
        {
            if now >= until {
                self.state = match candidate {
                    Some(c) if c.trusted || c.count >= self.settings.learn_packets => {
                        locked(c, now)
                    }
                    _ => State::Expired,
                };
                if let State::Locked { source, .. } = self.state {
                    let verdict = self.check(packet, now);
                    return match verdict {
                        Verdict::Accept(None) => Verdict::Accept(Some(LatchEvent::Locked(source))),
                        other => other,
                    };
                }
            }
        }
        match self.state {
            State::Closed => Verdict::Drop(LatchDrop::NotLatched),
            State::Expired => {
                if self.expected.address == Some(packet.source) {
                    self.lock_now(packet, now)
                } else {
                    Verdict::Drop(LatchDrop::NotLatched)
                }
            }
            State::Learning {
                until,
                candidate,
                only,
            } => self.learn(packet, until, candidate, only, now),
            State::Locked { .. } => self.locked(packet, now),
        }
    }

    fn lock_now(&mut self, packet: &LatchPacket, now: Instant) -> Verdict {
        self.state = locked(candidate_of(packet, true), now);
        Verdict::Accept(Some(LatchEvent::Locked(packet.source)))
    }

    fn learn(
        &mut self,
        packet: &LatchPacket,
        until: Instant,
        candidate: Option<Candidate>,
        only: Option<IpAddr>,
        now: Instant,
    ) -> Verdict {
        if only.is_some_and(|ip| ip != packet.source.ip()) {
            return Verdict::Drop(LatchDrop::Foreign);
        }
        if only.is_none() && self.expected.address == Some(packet.source) {
            return self.lock_now(packet, now);
        }
        let trusted = only.is_some() || self.expected.trusted_ip(packet.source.ip());
        let next = match candidate {
            None => candidate_of(packet, trusted),
            Some(c) if c.source == packet.source => {
                if c.ssrc == packet.ssrc && self.continues(c.seq, packet.seq) {
                    Candidate {
                        seq: packet.seq,
                        count: c.count + 1,
                        ..c
                    }
                } else {
                    candidate_of(packet, trusted)
                }
            }
            Some(c) if trusted && !c.trusted => candidate_of(packet, trusted),
            Some(_) => return Verdict::Drop(LatchDrop::Foreign),
        };
        if trusted && next.count >= self.settings.learn_packets {
            self.state = locked(next, now);
            return Verdict::Accept(Some(LatchEvent::Locked(next.source)));
        }
        self.state = State::Learning {
            until,
            candidate: Some(next),
            only,
        };
        if trusted {
            Verdict::Accept(None)
        } else {
            Verdict::Drop(LatchDrop::NotLatched)
        }
    }

    fn locked(&mut self, packet: &LatchPacket, now: Instant) -> Verdict {
        let State::Locked {
            source,
            ssrc,
            seq,
            last_seen,
            rebind,
        } = self.state
        else {
            return Verdict::Drop(LatchDrop::NotLatched);
        };
        if packet.source == source {
            self.state = State::Locked {
                source,
                ssrc: packet.ssrc,
                seq: packet.seq.or(seq),
                last_seen: now,
                rebind: None,
            };
            return Verdict::Accept(None);
        }
        // Re-latch: the locked SSRC, sequence numbers continuing the locked stream (or the
        // attempt so far), never for RTCP (no sequence numbers).
        let previous = match rebind {
            Some(r) if r.source == packet.source => r.seq,
            _ => seq,
        };
        let consistent =
            packet.seq.is_some() && packet.ssrc == ssrc && self.continues(previous, packet.seq);
        if !consistent {
            if rebind.is_some_and(|r| r.source == packet.source) {
                self.set_rebind(None);
            }
            return Verdict::Drop(LatchDrop::Foreign);
        }
        let count = match rebind {
            Some(r) if r.source == packet.source => r.count + 1,
            _ => 1,
        };
        let silent = now.saturating_duration_since(last_seen) >= self.settings.relatch_silence;
        if count >= self.settings.relatch_packets && silent {
            self.state = locked(candidate_of(packet, true), now);
            return Verdict::Accept(Some(LatchEvent::Relatched {
                from: source,
                to: packet.source,
            }));
        }
        self.set_rebind(Some(Candidate {
            count,
            ..candidate_of(packet, false)
        }));
        Verdict::Drop(LatchDrop::Foreign)
    }

    fn set_rebind(&mut self, candidate: Option<Candidate>) {
        if let State::Locked { rebind, .. } = &mut self.state {
            *rebind = candidate;
        }
    }

    /// Whether `next` continues `previous` (RTCP, without sequence numbers, always does).
    fn continues(&self, previous: Option<u16>, next: Option<u16>) -> bool {
        match (previous, next) {
            (Some(previous), Some(next)) => {
                let step = next.wrapping_sub(previous);
                (1..=self.settings.seq_window).contains(&step)
            }
            (None, Some(_)) => false,
            _ => true,
        }
    }
}

fn candidate_of(packet: &LatchPacket, trusted: bool) -> Candidate {
    Candidate {
        source: packet.source,
        trusted,
        ssrc: packet.ssrc,
        seq: packet.seq,
        count: 1,
    }
}

fn locked(c: Candidate, now: Instant) -> State {
    State::Locked {
        source: c.source,
        ssrc: c.ssrc,
        seq: c.seq,
        last_seen: now,
        rebind: None,
    }
}

#[cfg(test)]
#[path = "latch_tests.rs"]
mod tests;
