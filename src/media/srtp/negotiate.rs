//! SDES offer/answer (RFC 4568 §7) and the per-leg SRTP policy, pure.
//!
//! - Answering: the first offered `a=crypto` line (in the offerer's order of preference) that
//!   parses and whose suite is in our list wins; the answer has one line with the same tag and
//!   suite and a **fresh** key, without lifetime or MKI.
//! - Offering: one line per suite of our list, tags 1, 2, …, each with a fresh key.
//! - Receiving the answer to our offer: exactly one valid line, whose tag and suite are one of
//!   ours.
//! - The leg's [`SrtpMode`] turns the outcome into RTP, SRTP or a 488 (tables in the tests).

pub use crate::config::SrtpMode;

use super::key::{KeyError, SrtpKey};
use super::sdes::{CryptoAttribute, SdesError};
use super::suite::CryptoSuite;

/// The keys one leg agreed on.
#[derive(Debug, Clone)]
pub struct Negotiated {
    /// The tag of the chosen line.
    pub tag: u32,
    /// The SBC's key: it protects what the SBC sends on this leg.
    pub local: SrtpKey,
    /// The peer's key: it unprotects what the SBC receives on this leg.
    pub remote: SrtpKey,
}

impl Negotiated {
    /// The chosen suite.
    pub fn suite(&self) -> CryptoSuite {
        self.local.suite()
    }
}

/// Why the answer to our offer has no usable crypto line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The answer has no `a=crypto` line.
    #[error("answer has no crypto attribute")]
    NoCrypto,
    /// The answer has more than one `a=crypto` line for the stream.
    #[error("answer has more than one crypto attribute")]
    Several,
    /// The answer's line does not parse.
    #[error("answer crypto attribute refused: {0}")]
    Invalid(SdesError),
    /// The answer's tag or suite is not one we offered.
    #[error("answer crypto attribute does not match the offer")]
    NotOffered,
}

/// The crypto lines of an offer for the suites in `suites`, tags from 1, fresh keys.
///
/// # Errors
/// [`KeyError::Random`] when the random source fails.
pub fn make_offer(suites: &[CryptoSuite]) -> Result<Vec<CryptoAttribute>, KeyError> {
    let mut lines = Vec::with_capacity(suites.len());
    for (tag, suite) in (1..).zip(suites) {
        lines.push(CryptoAttribute {
            tag,
            key: SrtpKey::generate(*suite)?,
            lifetime: None,
        });
    }
    Ok(lines)
}

/// Picks the first usable offered line and makes our answer line for it.
///
/// `offered` are the values of the stream's `a=crypto` attributes in offer order; `accepted`
/// are the suites we run. `Ok(None)` when no line is usable.
///
/// # Errors
/// [`KeyError::Random`] when the random source fails.
pub fn answer_offer<'a>(
    offered: impl IntoIterator<Item = &'a [u8]>,
    accepted: &[CryptoSuite],
) -> Result<Option<(Negotiated, CryptoAttribute)>, KeyError> {
    answer_with(offered, accepted, None)
}

/// As [`answer_offer`], for an offer inside an established session (re-INVITE, UPDATE): when
/// the chosen suite is the current one, the answer repeats our current key instead of a fresh
/// one, so our sending context (and its rollover counter) is kept by
/// [`super::SrtpSession::rekey`].
///
/// # Errors
/// [`KeyError::Random`] when the random source fails.
pub fn answer_reoffer<'a>(
    offered: impl IntoIterator<Item = &'a [u8]>,
    accepted: &[CryptoSuite],
    current: &Negotiated,
) -> Result<Option<(Negotiated, CryptoAttribute)>, KeyError> {
    answer_with(offered, accepted, Some(&current.local))
}

fn answer_with<'a>(
    offered: impl IntoIterator<Item = &'a [u8]>,
    accepted: &[CryptoSuite],
    keep: Option<&SrtpKey>,
) -> Result<Option<(Negotiated, CryptoAttribute)>, KeyError> {
    let chosen = offered
        .into_iter()
        .filter_map(|value| CryptoAttribute::parse(value).ok())
        .find(|line| accepted.contains(&line.suite()));
    let Some(offer) = chosen else {
        return Ok(None);
    };
    let key = match keep {
        Some(key) if key.suite() == offer.suite() => key.clone(),
        _ => SrtpKey::generate(offer.suite())?,
    };
    let answer = CryptoAttribute {
        tag: offer.tag,
        key,
        lifetime: None,
    };
    let negotiated = Negotiated {
        tag: offer.tag,
        local: answer.key.clone(),
        remote: offer.key,
    };
    Ok(Some((negotiated, answer)))
}

/// Matches the answer's crypto lines with the lines we offered.
///
/// # Errors
/// An [`AnswerError`] saying why no SRTP was agreed.
pub fn accept_answer<'a>(
    offer: &[CryptoAttribute],
    answered: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Negotiated, AnswerError> {
    let mut answered = answered.into_iter();
    let value = answered.next().ok_or(AnswerError::NoCrypto)?;
    if answered.next().is_some() {
        return Err(AnswerError::Several);
    }
    let answer = CryptoAttribute::parse(value).map_err(AnswerError::Invalid)?;
    let ours = offer
        .iter()
        .find(|line| line.tag == answer.tag && line.suite() == answer.suite())
        .ok_or(AnswerError::NotOffered)?;
    Ok(Negotiated {
        tag: answer.tag,
        local: ours.key.clone(),
        remote: answer.key,
    })
}

/// What a leg does with its media after offer/answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrtpDecision {
    /// Plain RTP on this leg.
    Rtp,
    /// SRTP on this leg with the negotiated keys.
    Srtp,
    /// The session cannot be set up: answer the offer with 488 Not Acceptable Here (or, for
    /// an answer to our offer, end the call).
    Reject,
}

impl SrtpDecision {
    /// The SIP status for the offer: 488 for [`SrtpDecision::Reject`].
    pub fn sip_status(self) -> Option<u16> {
        match self {
            Self::Reject => Some(488),
            Self::Rtp | Self::Srtp => None,
        }
    }
}

/// The decision for an offer received on a leg.
///
/// `secure_profile`: the stream's transport is `RTP/SAVP` or `RTP/SAVPF`. `acceptable`: an
/// offered crypto line can be answered ([`answer_offer`] returned a line).
///
/// - `Off`: always RTP (an `RTP/SAVP` offer is answered as RTP, as the configuration says).
/// - `Optional`: SRTP when acceptable; RTP otherwise, unless the offer demands SRTP
///   (`RTP/SAVP`) — then 488, since it cannot be answered without a crypto line.
/// - `Mandatory`: SRTP when acceptable, 488 otherwise.
pub fn decide_offer(mode: SrtpMode, secure_profile: bool, acceptable: bool) -> SrtpDecision {
    match (mode, acceptable) {
        (SrtpMode::Off, _) => SrtpDecision::Rtp,
        (SrtpMode::Optional | SrtpMode::Mandatory, true) => SrtpDecision::Srtp,
        (SrtpMode::Optional, false) if !secure_profile => SrtpDecision::Rtp,
        (SrtpMode::Optional | SrtpMode::Mandatory, false) => SrtpDecision::Reject,
    }
}

/// How our offer on a leg is made: `(secure_profile, with_crypto)`.
///
/// `Off`: `RTP/AVP`, no crypto. `Optional`: `RTP/AVP` with crypto lines (SRTP if the peer
/// answers with one, best effort). `Mandatory`: `RTP/SAVP` with crypto lines.
pub fn offer_shape(mode: SrtpMode) -> (bool, bool) {
    match mode {
        SrtpMode::Off => (false, false),
        SrtpMode::Optional => (false, true),
        SrtpMode::Mandatory => (true, true),
    }
}

/// The decision for the answer to our offer on a leg; `agreed` is whether
/// [`accept_answer`] succeeded.
///
/// `Off`: RTP (we offered no crypto). `Optional`: SRTP if agreed, else RTP. `Mandatory`: SRTP
/// if agreed, else reject (the call cannot go on without SRTP on this leg).
pub fn decide_answer(mode: SrtpMode, agreed: bool) -> SrtpDecision {
    match (mode, agreed) {
        (SrtpMode::Off, _) | (SrtpMode::Optional, false) => SrtpDecision::Rtp,
        (SrtpMode::Optional | SrtpMode::Mandatory, true) => SrtpDecision::Srtp,
        (SrtpMode::Mandatory, false) => SrtpDecision::Reject,
    }
}

#[cfg(test)]
#[path = "negotiate_tests.rs"]
mod tests;
