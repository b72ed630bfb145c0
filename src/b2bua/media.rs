//! Media anchoring of one call (shell glue, synchronous): the [`BodyTransform`] that turns
//! every SDP crossing the call into an offer or answer for the relay ([`MediaControl`]), and
//! rewrites it to the relay's addresses with [`crate::sdp`], negotiating SDES-SRTP per leg
//! with [`crate::media::srtp`] by each leg's realm policy.
//!
//! Offer or answer (RFC 3264 §4, RFC 6337 §2): a body from the leg that is *not* waiting for
//! an answer is an offer; one from the other leg while an offer is pending is its answer. An
//! answer first seen in a provisional response (early media) may come again in the 2xx: it is
//! applied again (an unchanged description changes nothing). A line the relay cannot carry
//! (not RTP, DTLS-SRTP, or an SRTP policy that cannot be met) is rejected with port 0 on both
//! legs, the RFC 3264 §6 way, as long as some line is carried.
//!
//! When none is — every active line is DTLS-SRTP or not RTP, fails the leg's SRTP policy, or
//! the SDP does not parse — or the relay has no ports or cannot bind, the body is refused with
//! a [`MediaRefusal`] (488 with Warning, 503 with Retry-After, 500), never sent on with port-0
//! lines or empty, and the call's media state is left exactly as it was before that body.
//! Lines the offerer itself disabled (port 0) are not refusals. Each refusal is counted in
//! `sbc_media_refused_total{reason}` and logged without addresses or keys.

use bytes::Bytes;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tracing::{debug, info, warn};

use crate::b2bua::call::relay::declares_sdp;
use crate::b2bua::call::{BodyContext, BodyTransform, Leg, MediaRefusal};
use crate::media::srtp::{
    CryptoAttribute, CryptoSuite, Negotiated, SrtpDecision, SrtpMode, SrtpSession, accept_answer,
    answer_offer, decide_answer, decide_offer, make_offer, offer_shape,
};
use crate::media::{
    Description, MediaControl, MediaDirection, MediaError, MediaSpec, RelayAddress, SrtpLeg,
    TransformSpec,
};
use crate::metrics::Metrics;
use crate::sdp::{
    CryptoPlan, Direction, MediaPlan, MediaSection, MuxPlan, OriginState, ProfilePlan, RewritePlan,
    RtcpPlan, Sdp, SdpLimits,
};
use crate::transport::Target;

/// Suites the SBC offers on an SRTP leg, in preference order (widely supported first).
const OFFERED_SUITES: [CryptoSuite; 2] = [
    CryptoSuite::AesCm128HmacSha1_80,
    CryptoSuite::AesCm128HmacSha1_32,
];

/// What the call's legs are, for its media.
#[derive(Debug, Clone)]
pub(crate) struct MediaLegs {
    /// The relay's call key.
    pub key: String,
    /// Realm of each leg (A, B).
    pub realms: [String; 2],
    /// SRTP policy of each leg.
    pub srtp: [SrtpMode; 2],
    /// Address written into SDP toward each leg (its realm's advertised media address).
    pub sdp_ip: [IpAddr; 2],
    /// Source IP of each leg's signaling.
    pub signaling_ip: [Option<IpAddr>; 2],
}

/// SRTP state of one line on one leg.
#[derive(Debug, Default, Clone)]
struct LineKeys {
    /// The keys running on the relay now.
    running: Option<Negotiated>,
    /// The crypto lines we last offered to this leg (reused while the leg keeps them).
    offered: Option<Vec<CryptoAttribute>>,
    /// Our answer line to this leg's last offer.
    answered: Option<CryptoAttribute>,
}

/// An offer waiting for its answer: who made it and what each line became on its leg.
#[derive(Debug, Clone)]
struct Pending {
    from: Leg,
    lines: Vec<OfferedLine>,
}

#[derive(Debug, Clone, Copy)]
struct OfferedLine {
    /// The line is carried (false: rejected on both legs).
    carried: bool,
    /// SRTP on the offerer's leg.
    offerer_srtp: bool,
    /// The offerer asked for rtcp-mux (the relay always accepts it).
    offerer_mux: bool,
    /// Our offer on the answerer's leg is `RTP/SAVP`.
    answerer_secure: bool,
}

/// The media state of one call.
pub(crate) struct CallMedia {
    control: MediaControl,
    legs: MediaLegs,
    origins: [OriginState; 2],
    keys: [Vec<LineKeys>; 2],
    /// The offer waiting for its answer.
    pending: Option<Pending>,
    /// The offer last answered in a provisional response: its answer may come again in the
    /// 2xx (or a later reliable provisional).
    early: Option<Pending>,
}

/// The body transform of a call whose media `control` anchors; refusals are counted in
/// `metrics`.
pub(crate) fn transform(
    control: MediaControl,
    legs: MediaLegs,
    metrics: Arc<Metrics>,
) -> Option<BodyTransform> {
    let origin = |leg: usize| {
        let session = u64::from_be_bytes(crate::b2bua::random::bytes());
        OriginState::new("sbc", session >> 1, 1).map_err(|e| warn!(error = %e, leg, "origin"))
    };
    let origins = [origin(0).ok()?, origin(1).ok()?];
    let mut media = CallMedia {
        control,
        legs,
        origins,
        keys: [Vec::new(), Vec::new()],
        pending: None,
        early: None,
    };
    Some(Box::new(move |ctx: &BodyContext<'_>, body: Bytes| {
        media.body(ctx, body).inspect_err(|refusal| {
            metrics.media_refused(refusal.as_str());
            let (call, leg, status, reason) = (
                &media.legs.key,
                ctx.from,
                refusal.status(),
                refusal.as_str(),
            );
            // A peer's unusable offer is its business; the SBC running out of media is ours.
            if status == 488 {
                info!(%call, ?leg, status, reason, "media refused");
            } else {
                warn!(%call, ?leg, status, reason, "media refused");
            }
        })
    }))
}

/// How much a line's refusal reason says: the most telling one answers a body none of whose
/// lines can be carried.
fn rank(refusal: MediaRefusal) -> u8 {
    match refusal {
        MediaRefusal::SrtpPolicy => 3,
        MediaRefusal::Transport => 2,
        _ => 1,
    }
}

/// Keeps the more telling of two line refusals.
fn worst(current: Option<MediaRefusal>, line: Option<MediaRefusal>) -> Option<MediaRefusal> {
    match (current, line) {
        (Some(c), Some(l)) if rank(l) > rank(c) => Some(l),
        (None, l) => l,
        (c, _) => c,
    }
}

/// The refusal for a relay error.
fn relay_refusal(error: &MediaError) -> MediaRefusal {
    match error {
        MediaError::Exhausted { .. } => MediaRefusal::Exhausted,
        MediaError::Bind { .. } | MediaError::Busy => MediaRefusal::Unavailable,
        MediaError::UnknownRealm(_) | MediaError::UnknownCall => MediaRefusal::Internal,
    }
}

impl CallMedia {
    /// One body: its rewritten form, or the refusal (the media state then unchanged).
    fn body(&mut self, ctx: &BodyContext<'_>, body: Bytes) -> Result<Bytes, MediaRefusal> {
        use crate::sip::method::Method;
        // Methods that carry offers and answers (RFC 3261 §13, RFC 3262, RFC 3311): a body
        // the relay cannot see into is refused there, and withheld on any other method.
        let negotiates = matches!(
            ctx.method,
            Method::Invite | Method::Ack | Method::Prack | Method::Update
        );
        let refuse = |refusal| {
            if negotiates {
                Err(refusal)
            } else {
                Ok(Bytes::new())
            }
        };
        // A multipart body may carry SDP the relay cannot see into: never let it through.
        let multipart = ctx
            .content_type
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with(b"multipart/"));
        if multipart {
            return refuse(MediaRefusal::Multipart);
        }
        if !declares_sdp(ctx.content_type) {
            return Ok(body);
        }
        let sdp = match Sdp::parse(body, &SdpLimits::DEFAULT) {
            Ok(sdp) => sdp,
            Err(e) => {
                debug!(call = %self.legs.key, error = %e, "SDP not parsed");
                return refuse(MediaRefusal::BadSdp);
            }
        };
        let saved = (self.keys.clone(), self.pending.clone(), self.early.clone());
        let result = self.negotiate(ctx, &sdp);
        if result.is_err() {
            (self.keys, self.pending, self.early) = saved;
        }
        result
    }

    /// The offer or answer `sdp` from `ctx.from`.
    fn negotiate(&mut self, ctx: &BodyContext<'_>, sdp: &Sdp) -> Result<Bytes, MediaRefusal> {
        let provisional = ctx.status.is_some_and(|s| s < 200);
        match (self.pending.take(), self.early.take()) {
            (Some(offer), _) if offer.from != ctx.from => {
                let out = self.answer(ctx.from, sdp, &offer);
                if provisional {
                    self.early = Some(offer);
                }
                out
            }
            (None, Some(offer)) if ctx.status.is_some() && offer.from != ctx.from => {
                let out = self.answer(ctx.from, sdp, &offer);
                if provisional {
                    self.early = Some(offer);
                }
                out
            }
            _ => self.offer(ctx.from, sdp),
        }
    }

    /// An offer from `from`: SRTP decided on the offerer's leg, ports allocated, the offer
    /// rewritten toward the other leg.
    fn offer(&mut self, from: Leg, sdp: &Sdp) -> Result<Bytes, MediaRefusal> {
        let to = from.other();
        let (f, t) = (from.index(), to.index());
        let sections = sdp.media();
        for keys in &mut self.keys {
            let len = keys.len().max(sections.len());
            keys.resize(len, LineKeys::default());
        }
        let (answerer_secure, with_crypto) = offer_shape(self.legs.srtp[t]);
        let mut lines = Vec::with_capacity(sections.len());
        let mut specs = Vec::with_capacity(sections.len());
        let mut refused = None;
        for (i, section) in sections.iter().enumerate() {
            let mut spec = spec_of(section);
            let usable = spec.remote.is_some() && rtp_profile(section);
            let offered: Vec<Bytes> = section.crypto().collect();
            let answer = if self.legs.srtp[f] == SrtpMode::Off || !usable {
                None
            } else {
                answer_offer(offered.iter().map(|v| v.as_ref()), &CryptoSuite::ALL)
                    .map_err(|_| MediaRefusal::Internal)?
            };
            let secure = section.proto().is_secure();
            let decision = decide_offer(self.legs.srtp[f], secure, answer.is_some());
            let carried = usable && decision != SrtpDecision::Reject;
            // A line the offerer disabled (port 0) is no refusal of ours.
            let line_refusal = match (section.port() != 0, carried) {
                (false, _) | (true, true) => None,
                _ if !rtp_profile(section) => Some(MediaRefusal::Transport),
                _ if spec.remote.is_none() => Some(MediaRefusal::BadSdp),
                _ => Some(MediaRefusal::SrtpPolicy),
            };
            refused = worst(refused, line_refusal);
            let keys = &mut self.keys[f][i];
            spec.transform = match (carried, decision, answer) {
                (true, SrtpDecision::Srtp, Some((negotiated, line))) => {
                    // A re-offer that repeats the far end's key keeps our answer key too.
                    let same = keys
                        .running
                        .as_ref()
                        .is_some_and(|r| r.remote.same_as(&negotiated.remote));
                    match (same, keys.answered.clone(), keys.running.clone()) {
                        (true, Some(line), Some(running)) => {
                            keys.answered = Some(line);
                            keys.running = Some(running);
                            TransformSpec::Keep
                        }
                        _ => {
                            keys.answered = Some(line);
                            install(&mut keys.running, negotiated)
                                .map_err(|_| MediaRefusal::Internal)?
                        }
                    }
                }
                _ => {
                    keys.answered = None;
                    keys.running = None;
                    TransformSpec::Plain
                }
            };
            if !carried {
                spec.remote = None;
            }
            if carried && with_crypto && self.keys[t][i].offered.is_none() {
                let offer = make_offer(&OFFERED_SUITES).map_err(|_| MediaRefusal::Internal)?;
                self.keys[t][i].offered = Some(offer);
            }
            lines.push(OfferedLine {
                carried,
                offerer_srtp: carried && decision == SrtpDecision::Srtp,
                offerer_mux: spec.rtcp_mux,
                answerer_secure,
            });
            specs.push(spec);
        }
        if let (Some(refusal), false) = (refused, lines.iter().any(|l| l.carried)) {
            return Err(refusal);
        }
        let description = Description {
            signaling_ip: self.legs.signaling_ip[f],
            media: specs,
        };
        let (realm_a, realm_b) = (&self.legs.realms[0], &self.legs.realms[1]);
        let addresses = self
            .control
            .offer(&self.legs.key, realm_a, realm_b, from, description)
            .map_err(|e| {
                debug!(call = %self.legs.key, error = %e, "relay refused the offer");
                relay_refusal(&e)
            })?;
        let plans = lines
            .iter()
            .zip(&addresses)
            .enumerate()
            .map(|(i, (line, address))| {
                let crypto = match &self.keys[t][i].offered {
                    Some(offered) if with_crypto && line.carried => {
                        offered.iter().map(value).collect()
                    }
                    _ => Vec::new(),
                };
                let profile = profile(line.answerer_secure);
                let address = address.filter(|_| line.carried);
                let rtcp = address.map_or(RtcpPlan::Remove, |a| RtcpPlan::Set {
                    port: a.rtcp_port,
                    address: None,
                });
                media_plan(address, rtcp, MuxPlan::Keep, profile, crypto)
            })
            .collect();
        self.pending = Some(Pending { from, lines });
        self.rewrite(sdp, to, plans)
    }

    /// The answer from `from` to `offer`, made by the other leg.
    fn answer(&mut self, from: Leg, sdp: &Sdp, offer: &Pending) -> Result<Bytes, MediaRefusal> {
        let to = from.other();
        let (f, t) = (from.index(), to.index());
        let sections = sdp.media();
        if sections.len() != offer.lines.len() {
            debug!(call = %self.legs.key, "answer and offer differ in media lines");
            return Err(MediaRefusal::BadSdp);
        }
        let mut specs = Vec::with_capacity(sections.len());
        let mut carried = Vec::with_capacity(sections.len());
        let mut refused = None;
        for (i, (section, line)) in sections.iter().zip(&offer.lines).enumerate() {
            let mut spec = spec_of(section);
            let keys = &mut self.keys[f][i];
            let answered: Vec<Bytes> = section.crypto().collect();
            let agreed = keys
                .offered
                .as_deref()
                .and_then(|o| accept_answer(o, answered.iter().map(|v| v.as_ref())).ok());
            let decision = decide_answer(self.legs.srtp[f], agreed.is_some());
            let ok = line.carried && spec.remote.is_some() && decision != SrtpDecision::Reject;
            // A line the answerer rejected (port 0) is no refusal of ours.
            let line_refusal = match (line.carried && section.port() != 0, ok) {
                (false, _) | (true, true) => None,
                _ if spec.remote.is_none() => Some(MediaRefusal::BadSdp),
                _ => Some(MediaRefusal::SrtpPolicy),
            };
            refused = worst(refused, line_refusal);
            spec.transform = match (ok, decision, agreed) {
                (true, SrtpDecision::Srtp, Some(negotiated)) => {
                    install(&mut keys.running, negotiated).map_err(|_| MediaRefusal::Internal)?
                }
                _ => {
                    keys.running = None;
                    TransformSpec::Plain
                }
            };
            if !ok {
                spec.remote = None;
            }
            carried.push(ok);
            specs.push(spec);
        }
        if let (Some(refusal), false) = (refused, carried.iter().any(|ok| *ok)) {
            return Err(refusal);
        }
        let description = Description {
            signaling_ip: self.legs.signaling_ip[f],
            media: specs,
        };
        let addresses = self
            .control
            .answer(&self.legs.key, from, description)
            .map_err(|e| {
                debug!(call = %self.legs.key, error = %e, "relay refused the answer");
                relay_refusal(&e)
            })?;
        let plans = offer
            .lines
            .iter()
            .zip(&addresses)
            .zip(carried)
            .enumerate()
            .map(|(i, ((line, address), ok))| {
                let address = address.filter(|_| ok);
                let srtp = line.offerer_srtp && address.is_some();
                let crypto = match &self.keys[t][i].answered {
                    Some(answer) if srtp => vec![value(answer)],
                    _ => Vec::new(),
                };
                let (rtcp, mux) = match address {
                    Some(_) if line.offerer_mux => (RtcpPlan::Remove, MuxPlan::Add),
                    Some(a) => (
                        RtcpPlan::Set {
                            port: a.rtcp_port,
                            address: None,
                        },
                        MuxPlan::Remove,
                    ),
                    None => (RtcpPlan::Remove, MuxPlan::Remove),
                };
                media_plan(address, rtcp, mux, profile(srtp), crypto)
            })
            .collect();
        self.rewrite(sdp, to, plans)
    }

    /// Writes `sdp` for `to` with the relay's address.
    fn rewrite(
        &mut self,
        sdp: &Sdp,
        to: Leg,
        media: Vec<MediaPlan>,
    ) -> Result<Bytes, MediaRefusal> {
        let plan = RewritePlan {
            address: self.legs.sdp_ip[to.index()],
            strip_ice: true,
            media,
        };
        sdp.rewrite(&plan, &mut self.origins[to.index()])
            .map_err(|_| MediaRefusal::Internal)
    }
}

/// The relay's view of one media section.
fn spec_of(section: &MediaSection) -> MediaSpec {
    let ip = section.connection().and_then(|c| c.ip());
    let remote = ip
        .filter(|_| section.port() != 0)
        .map(|ip| SocketAddr::new(ip, section.port()));
    let remote_rtcp = section.rtcp().and_then(|r| {
        let rtcp_ip = r.connection.as_ref().and_then(|c| c.ip()).or(ip)?;
        Some(SocketAddr::new(rtcp_ip, r.port))
    });
    MediaSpec {
        remote,
        remote_rtcp,
        rtcp_mux: section.rtcp_mux(),
        direction: match section.effective_direction() {
            Direction::SendRecv => MediaDirection::SendRecv,
            Direction::SendOnly => MediaDirection::SendOnly,
            Direction::RecvOnly => MediaDirection::RecvOnly,
            Direction::Inactive => MediaDirection::Inactive,
        },
        transform: TransformSpec::Plain,
    }
}

/// RTP or SDES-SRTP (the relay carries neither DTLS-SRTP nor non-RTP streams).
fn rtp_profile(section: &MediaSection) -> bool {
    use crate::sdp::Proto::*;
    matches!(section.proto(), RtpAvp | RtpSavp | RtpAvpf | RtpSavpf)
}

fn profile(secure: bool) -> ProfilePlan {
    if secure {
        ProfilePlan::Srtp
    } else {
        ProfilePlan::Rtp
    }
}

fn media_plan(
    address: Option<RelayAddress>,
    rtcp: RtcpPlan,
    rtcp_mux: MuxPlan,
    profile: ProfilePlan,
    crypto: Vec<Bytes>,
) -> MediaPlan {
    MediaPlan {
        port: address.map_or(0, |a| a.rtp_port),
        rtcp,
        rtcp_mux,
        profile,
        crypto: CryptoPlan::Replace(crypto),
    }
}

/// The SRTP contexts for `negotiated`: kept when the same keys already run, re-keyed in place
/// when some key changed (a direction whose key stayed keeps its rollover counter and replay
/// window), installed when the leg had none.
fn install(
    running: &mut Option<Negotiated>,
    negotiated: Negotiated,
) -> Result<TransformSpec, &'static str> {
    let previous = running.as_ref();
    if previous.is_some_and(|current| {
        current.local.same_as(&negotiated.local) && current.remote.same_as(&negotiated.remote)
    }) {
        return Ok(TransformSpec::Keep);
    }
    let session = SrtpSession::from_negotiated(&negotiated).map_err(|_| "SRTP context")?;
    let fresh = Box::new(SrtpLeg::new(session));
    let spec = if previous.is_some() {
        TransformSpec::Rekey {
            keys: Box::new(negotiated.clone()),
            fresh,
        }
    } else {
        TransformSpec::Install(fresh)
    };
    *running = Some(negotiated);
    Ok(spec)
}

/// An `a=crypto` value (it carries a key: it goes into SDP only, never into a log).
fn value(line: &CryptoAttribute) -> Bytes {
    Bytes::from(line.to_sdp_value().as_bytes().to_vec())
}

/// The relay's key of call `id`.
pub(crate) fn call_key(id: u64) -> String {
    format!("call-{id}")
}

impl crate::b2bua::task::Core {
    /// The body transform of call `id` between `legs` (A, B), when media is anchored. A leg
    /// with a configured peer (`peers`) follows the peer's `srtp`, else its realm's.
    pub(crate) fn media_transform(
        &self,
        id: u64,
        [a, b]: [&Target; 2],
        peers: [Option<&str>; 2],
    ) -> Option<BodyTransform> {
        let control = self.media.clone()?;
        let realm = |target: &Target| {
            let info = self.transports.listener(target.listener)?;
            self.config.realms.get(info.realm)
        };
        let (realm_a, realm_b) = (realm(a)?, realm(b)?);
        let srtp = |peer: Option<&str>, realm: &crate::config::Realm| {
            peer.and_then(|name| self.config.peer(name))
                .and_then(|p| p.srtp)
                .unwrap_or(realm.media.srtp)
        };
        let legs = MediaLegs {
            key: call_key(id),
            realms: [realm_a.name.clone(), realm_b.name.clone()],
            srtp: [srtp(peers[0], realm_a), srtp(peers[1], realm_b)],
            sdp_ip: [realm_a.media.sdp_address(), realm_b.media.sdp_address()],
            signaling_ip: [Some(a.remote.ip()), Some(b.remote.ip())],
        };
        transform(control, legs, self.metrics.clone())
    }

    /// Releases call `id`'s media (ports into quarantine, relay tasks stopped).
    /// Returns the final counters, if the call had media.
    pub(crate) fn media_ended(&self, id: u64) -> Option<crate::media::CallStats> {
        self.media.as_ref()?.delete(&call_key(id))
    }
}

impl crate::b2bua::task::Core {
    /// A report from the relay: a call whose media stopped is hung up (if answered).
    pub(crate) fn media_event(&mut self, event: crate::media::MediaEvent, now: std::time::Instant) {
        let crate::media::MediaEvent::Inactive { call } = event;
        let id = call
            .strip_prefix("call-")
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(id) = id {
            debug!(call = id, "media inactive");
            self.call_event(id, crate::b2bua::call::CallEvent::MediaTimeout, now);
        }
    }
}

/// The call record's media part from the relay's final counters: each leg's streams summed over
/// the call's media lines (leg A is the caller).
pub(crate) fn media_record(stats: &crate::media::CallStats) -> crate::b2bua::cdr::MediaRecord {
    use crate::b2bua::cdr::{MediaLegRecord, MediaRecord};
    let leg = |i: usize| {
        let mut record = MediaLegRecord::default();
        for (line, secure) in stats.lines.iter().zip(&stats.secure) {
            let Some(streams) = line else { continue };
            let s = &streams[i];
            record.packets_in += s.packets_in;
            record.packets_out += s.packets_out;
            record.bytes_in += s.bytes_in;
            record.bytes_out += s.bytes_out;
            record.packets_dropped += s.drops.iter().sum::<u64>();
            if let Some(rtcp) = s.rtcp {
                *record.rtcp_lost.get_or_insert(0) += i64::from(rtcp.cumulative_lost);
                let jitter = record.rtcp_jitter.get_or_insert(0);
                *jitter = (*jitter).max(rtcp.jitter);
            }
            record.srtp |= secure[i];
        }
        record
    };
    MediaRecord {
        caller: leg(0),
        callee: leg(1),
    }
}

#[cfg(test)]
#[path = "media_tests.rs"]
mod tests;
