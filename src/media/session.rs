//! The media model of calls (pure), after rtpengine's object model: a call has two legs
//! (monologues), each leg one media line per SDP `m=` line, and every line pairs the two legs'
//! streams through one relay task.
//!
//! The B2BUA describes each `m=` line with a [`MediaSpec`] (plain values, not SDP text).
//! [`CallMedia::describe`] records what a leg's offer or answer says and returns, per line,
//! what the relay must do: allocate ports for a new line, tell an existing one about a changed
//! far end, or leave it. SDP lines are matched by position (RFC 3264 §8: `m=` lines are never
//! removed; a rejected or disabled one has port 0, here `remote: None`).

use std::net::{IpAddr, SocketAddr};

use super::ports::PortPair;
use super::transform::TransformSpec;

/// One side of the call: the B2BUA's own legs (A, where the INVITE arrived; B, the callee).
pub use crate::b2bua::call::Leg;

impl Leg {
    /// 0 for A, 1 for B, to index per-leg arrays of the media model.
    pub fn index(self) -> usize {
        match self {
            Leg::A => 0,
            Leg::B => 1,
        }
    }
}

/// The SDP direction attribute of a media line (RFC 3264 §5.1), as the far end wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaDirection {
    /// `a=sendrecv` (the default).
    #[default]
    SendRecv,
    /// `a=sendonly`: the far end sends (e.g. music on hold) and receives nothing.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`: nothing flows either way.
    Inactive,
}

impl MediaDirection {
    /// Whether the line is held in either direction (no inactivity timeout then).
    pub fn is_hold(self) -> bool {
        self != MediaDirection::SendRecv
    }
}

/// What one `m=` line of an offer or answer says about the far end.
#[derive(Debug, Default)]
pub struct MediaSpec {
    /// Where the far end receives RTP (`c=` address and `m=` port); `None` for port 0 (a
    /// rejected or disabled line).
    pub remote: Option<SocketAddr>,
    /// Where the far end receives RTCP (`a=rtcp`, RFC 3605); `None` means the RTP port + 1
    /// (or the RTP port itself with rtcp-mux).
    pub remote_rtcp: Option<SocketAddr>,
    /// `a=rtcp-mux` negotiated (RFC 5761): RTCP shares the RTP port.
    pub rtcp_mux: bool,
    /// The line's direction.
    pub direction: MediaDirection,
    /// The leg's packet transform (SRTP) for this line.
    pub transform: TransformSpec,
}

/// The far end of one leg's line, resolved from a [`MediaSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remote {
    /// RTP destination as signaled.
    pub rtp: SocketAddr,
    /// RTCP destination as signaled.
    pub rtcp: SocketAddr,
    /// RTCP shares the RTP port.
    pub rtcp_mux: bool,
    /// The line's direction.
    pub direction: MediaDirection,
}

impl Remote {
    /// Resolves the RTCP address of a spec; `None` for a disabled line.
    pub fn of(spec: &MediaSpec) -> Option<Remote> {
        let rtp = spec.remote.filter(|a| a.port() != 0)?;
        let rtcp = match (spec.remote_rtcp, spec.rtcp_mux) {
            (_, true) => rtp,
            (Some(rtcp), false) => rtcp,
            (None, false) => SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1).max(1)),
        };
        Some(Remote {
            rtp,
            rtcp,
            rtcp_mux: spec.rtcp_mux,
            direction: spec.direction,
        })
    }
}

/// One media line of a call: a port pair on each leg and what each far end signaled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaLine {
    /// The relay ports of each leg (indexed by [`Leg::index`]); `None` once released.
    pub ports: [Option<PortPair>; 2],
    /// What each leg's far end signaled; `None` until it did, or while the line is disabled.
    pub remote: [Option<Remote>; 2],
}

impl MediaLine {
    /// Whether any leg holds the line (sendonly, recvonly or inactive).
    pub fn on_hold(&self) -> bool {
        self.remote.iter().flatten().any(|r| r.direction.is_hold())
    }
}

/// What the relay must do for one line after a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineChange {
    /// A line seen for the first time: allocate a pair per leg and start its relay task.
    New,
    /// The leg's far end is (re)described; tell the relay task.
    Remote {
        /// The signaled address differs from before (the latch learns again).
        moved: bool,
    },
    /// The line is disabled on this leg (port 0).
    Disabled,
}

/// The media of one call: the legs' realms and signaling addresses, and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMedia {
    /// Realm of each leg (indexed by [`Leg::index`]).
    pub realms: [String; 2],
    /// Source IP of each leg's signaling, when known (helps the latch; see
    /// [`super::latch::Expected`]).
    pub signaling_ips: [Option<IpAddr>; 2],
    /// The `m=` lines, by position.
    pub lines: Vec<MediaLine>,
    /// Whether an answer has been seen (the relay forwards and latches from then on).
    pub answered: bool,
}

impl CallMedia {
    /// A call between a leg in `realm_a` and one in `realm_b`, with no lines yet.
    pub fn new(realm_a: &str, realm_b: &str) -> Self {
        Self {
            realms: [realm_a.to_owned(), realm_b.to_owned()],
            signaling_ips: [None, None],
            lines: Vec::new(),
            answered: false,
        }
    }

    /// Records what `from`'s offer or answer says, line by line, and returns what changes.
    /// Lines beyond those known are new; lines the description leaves out are unchanged.
    pub fn describe(&mut self, from: Leg, remotes: &[Option<Remote>]) -> Vec<LineChange> {
        let leg = from.index();
        remotes
            .iter()
            .enumerate()
            .map(|(i, remote)| {
                if i >= self.lines.len() {
                    self.lines.push(MediaLine::default());
                    self.lines[i].remote[leg] = *remote;
                    return LineChange::New;
                }
                let line = &mut self.lines[i];
                let before = std::mem::replace(&mut line.remote[leg], *remote);
                match remote {
                    None => LineChange::Disabled,
                    Some(now) => LineChange::Remote {
                        moved: before.is_none_or(|b| b.rtp != now.rtp || b.rtcp != now.rtcp),
                    },
                }
            })
            .collect()
    }

    /// Every allocated pair with the realm it came from, for release.
    pub fn allocated(&self) -> impl Iterator<Item = (&str, PortPair)> + '_ {
        self.lines.iter().flat_map(move |line| {
            [Leg::A, Leg::B].into_iter().filter_map(move |leg| {
                let pair = line.ports[leg.index()]?;
                Some((self.realms[leg.index()].as_str(), pair))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(address: &str) -> MediaSpec {
        MediaSpec {
            remote: Some(address.parse().unwrap()),
            ..MediaSpec::default()
        }
    }

    #[test]
    fn rtcp_defaults_to_the_next_port_or_the_rtp_port_with_mux() {
        let plain = Remote::of(&spec("192.0.2.1:4000")).unwrap();
        assert_eq!(plain.rtcp, "192.0.2.1:4001".parse().unwrap());
        let mux = Remote::of(&MediaSpec {
            rtcp_mux: true,
            ..spec("192.0.2.1:4000")
        })
        .unwrap();
        assert_eq!(mux.rtcp, mux.rtp);
        let explicit = Remote::of(&MediaSpec {
            remote_rtcp: Some("192.0.2.2:5000".parse().unwrap()),
            ..spec("192.0.2.1:4000")
        })
        .unwrap();
        assert_eq!(explicit.rtcp, "192.0.2.2:5000".parse().unwrap());
        assert_eq!(Remote::of(&spec("192.0.2.1:0")), None);
        assert_eq!(Remote::of(&MediaSpec::default()), None);
    }

    #[test]
    fn offer_answer_and_reoffer_line_changes() {
        let mut call = CallMedia::new("access", "core");
        let remote = |s: &str| Remote::of(&spec(s));
        // Offer from A with audio and video.
        let changes = call.describe(
            Leg::A,
            &[remote("192.0.2.1:4000"), remote("192.0.2.1:4002")],
        );
        assert_eq!(changes, [LineChange::New, LineChange::New]);
        // Answer from B accepts audio, rejects video.
        let changes = call.describe(Leg::B, &[remote("198.51.100.1:6000"), None]);
        assert_eq!(
            changes,
            [LineChange::Remote { moved: true }, LineChange::Disabled]
        );
        // Re-offer from A: hold on the same address, plus a new line.
        let mut hold = spec("192.0.2.1:4000");
        hold.direction = MediaDirection::SendOnly;
        let changes = call.describe(
            Leg::A,
            &[
                Remote::of(&hold),
                remote("192.0.2.1:4002"),
                remote("192.0.2.1:4004"),
            ],
        );
        assert_eq!(
            changes,
            [
                LineChange::Remote { moved: false },
                LineChange::Remote { moved: false },
                LineChange::New
            ]
        );
        assert!(call.lines[0].on_hold());
        assert!(!call.lines[1].on_hold());
        // The far end moves.
        let changes = call.describe(Leg::A, &[remote("192.0.2.9:4000")]);
        assert_eq!(changes, [LineChange::Remote { moved: true }]);
    }

    #[test]
    fn allocated_pairs_carry_their_realm() {
        let mut call = CallMedia::new("access", "core");
        call.describe(Leg::A, &[None]);
        assert_eq!(call.allocated().count(), 0);
        call.lines[0].ports = [
            Some(
                crate::media::ports::PortPool::new(30000, 30001, Default::default())
                    .allocate(crate::media::testing::t0())
                    .unwrap(),
            ),
            None,
        ];
        let pairs: Vec<_> = call
            .allocated()
            .map(|(realm, p)| (realm, p.rtp()))
            .collect();
        assert_eq!(pairs, [("access", 30000)]);
    }
}
