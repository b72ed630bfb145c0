//! Identifiers the call mints (pure): the B-leg Call-ID (RFC 3261 §8.1.1.4), its own tags
//! (§19.3) and Via branches (§8.1.1.7), all derived from the per-call secret the shell drew from
//! the system's random source, plus a counter. No hashing is needed: uniqueness is what matters,
//! and the secret is never reused across calls.
//!
//! Leg A only ever sees bytes 8..12 of the secret and leg B bytes 0..8 and 12..16, so nothing
//! on one side links to the identifiers on the other. Every branch starts with
//! [`BRANCH_PREFIX`], which is how the SBC recognises its own Via in a looped request (§16.3).

use crate::sip::header::Via;
use crate::sip::message::Message;
use bytes::Bytes;

use super::Leg;
use super::plan::LegIdentity;

/// The start of every branch this SBC generates: the RFC 3261 cookie and a fixed marker.
pub const BRANCH_PREFIX: &[u8] = b"z9hG4bKsbc";

/// Identifier source for one call.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    secret: [u8; 16],
    counter: u32,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Ids {
    pub(crate) fn new(secret: [u8; 16]) -> Ids {
        Ids { secret, counter: 0 }
    }

    /// The B-leg Call-ID.
    pub(crate) fn b_call_id(&self) -> Bytes {
        Bytes::from(hex(&self.secret[..8]))
    }

    /// The SBC's tag on `leg` (To tag towards A, From tag towards B).
    pub(crate) fn tag(&self, leg: Leg) -> Bytes {
        Bytes::from(hex(self.leg_bytes(leg)))
    }

    fn leg_bytes(&self, leg: Leg) -> &[u8] {
        match leg {
            Leg::A => &self.secret[8..12],
            Leg::B => &self.secret[12..16],
        }
    }

    /// A fresh branch for a request sent on `leg`.
    pub(crate) fn branch(&mut self, leg: Leg) -> Bytes {
        self.counter = self.counter.wrapping_add(1);
        let mut b = String::from_utf8_lossy(BRANCH_PREFIX).into_owned();
        b.push_str(&hex(self.leg_bytes(leg)));
        b.push('.');
        b.push_str(&format!("{:x}", self.counter));
        Bytes::from(b)
    }

    /// Sixteen bytes for a digest client nonce on the B leg: B's share of the secret and the
    /// counter, so each answer's nonce differs and none reveals A's identifiers.
    pub(crate) fn nonce(&mut self) -> [u8; 16] {
        self.counter = self.counter.wrapping_add(1);
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.secret[..8]);
        out[8..12].copy_from_slice(self.leg_bytes(Leg::B));
        out[12..].copy_from_slice(&self.counter.to_be_bytes());
        out
    }

    /// A fresh Via for a request sent as `local`.
    pub(crate) fn via(&mut self, leg: Leg, local: &LegIdentity) -> Via {
        let branch = self.branch(leg);
        Via::new(
            local.transport.clone(),
            local.host.clone(),
            local.port,
            branch,
        )
    }
}

/// Whether `request` already passed through this SBC: one of its Vias carries one of the SBC's
/// sent-bys with a branch the SBC generated (a loop, answered with 482, RFC 3261 §16.3 item 4).
pub fn is_looped(request: &Message, locals: &[&LegIdentity]) -> bool {
    let Ok(vias) = request.vias() else {
        return false;
    };
    vias.iter().any(|via| {
        via.branch().is_some_and(|b| b.starts_with(BRANCH_PREFIX))
            && locals
                .iter()
                .any(|l| l.host == via.host && l.port == via.port)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_distinct_and_well_formed() {
        let mut ids = Ids::new(*b"0123456789abcdef");
        assert_eq!(ids.b_call_id(), "3031323334353637");
        assert_eq!(ids.tag(Leg::A), "38396162");
        assert_eq!(ids.tag(Leg::B), "63646566");
        let b1 = ids.branch(Leg::B);
        let b2 = ids.branch(Leg::B);
        assert_ne!(b1, b2);
        assert!(b1.starts_with(BRANCH_PREFIX));
        assert!(crate::sip::scan::is_token(&b1));
    }
}
