//! SRTP as the relay's [`PacketTransform`] (pure): an adapter from the SRTP layer's
//! [`SrtpTransform`] (input slice, output buffer) to the relay's in-place buffers.
//!
//! The adapter keeps one scratch buffer and swaps it with the relay's: the transform writes
//! the result into the scratch buffer, and the two vectors trade places, so neither side copies
//! twice nor allocates once both have grown to a packet's size. Every inbound packet it lets
//! through was authenticated (RFC 3711 §3.3), which is what the latch requires on SRTP legs.

use std::fmt;

use super::srtp::{Negotiated, SrtpError, SrtpTransform};
use super::transform::{PacketTransform, TransformDrop};

/// One of [`SrtpTransform`]'s operations.
type Op<T> = fn(&mut T, &[u8], &mut Vec<u8>) -> Result<(), SrtpError>;

/// Room for the largest datagram the relay reads plus an SRTCP trailer.
const SCRATCH: usize = 2048 + 64;

/// One SRTP leg of a media line, for the relay.
pub struct SrtpLeg<T> {
    inner: T,
    scratch: Vec<u8>,
}

impl<T: SrtpTransform> SrtpLeg<T> {
    /// Wraps the leg's SRTP contexts (e.g. [`super::srtp::SrtpSession`]).
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            scratch: Vec::with_capacity(SCRATCH),
        }
    }

    fn run(&mut self, packet: &mut Vec<u8>, op: Op<T>) -> Result<(), TransformDrop> {
        op(&mut self.inner, packet, &mut self.scratch).map_err(drop_reason)?;
        std::mem::swap(packet, &mut self.scratch);
        Ok(())
    }
}

impl<T> fmt::Debug for SrtpLeg<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys live inside `inner`; nothing of it is printed.
        f.write_str("SrtpLeg")
    }
}

/// The relay's drop reason for an SRTP error.
pub fn drop_reason(error: SrtpError) -> TransformDrop {
    match error {
        SrtpError::Replay => TransformDrop::Replay,
        SrtpError::TooShort | SrtpError::Malformed => TransformDrop::Malformed,
        // Not accepted as authentic from this leg: a bad tag, more SSRCs than a leg may carry,
        // or a context that can no longer be used.
        SrtpError::AuthFailed | SrtpError::TooManySsrcs | SrtpError::Engine => TransformDrop::Auth,
    }
}

impl<T: SrtpTransform + Send> PacketTransform for SrtpLeg<T> {
    fn unprotect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), TransformDrop> {
        self.run(packet, T::unprotect_rtp)
    }

    fn protect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), TransformDrop> {
        self.run(packet, T::protect_rtp)
    }

    fn unprotect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), TransformDrop> {
        self.run(packet, T::unprotect_rtcp)
    }

    fn protect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), TransformDrop> {
        self.run(packet, T::protect_rtcp)
    }

    fn authenticates(&self) -> bool {
        true
    }

    fn rekey(&mut self, keys: &Negotiated) -> bool {
        self.inner.rekey(&keys.local, &keys.remote).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::srtp::{CryptoSuite, SrtpKey, SrtpSession};

    fn pair() -> (SrtpLeg<SrtpSession>, SrtpLeg<SrtpSession>) {
        let suite = CryptoSuite::AesCm128HmacSha1_80;
        let ours = SrtpKey::generate(suite).unwrap();
        let theirs = SrtpKey::generate(suite).unwrap();
        (
            SrtpLeg::new(SrtpSession::new(&ours, &theirs).unwrap()),
            SrtpLeg::new(SrtpSession::new(&theirs, &ours).unwrap()),
        )
    }

    #[test]
    fn packets_round_trip_in_place_and_replays_and_forgeries_drop() {
        let (mut relay, mut phone) = pair();
        let plain = vec![0x80, 0, 0, 7, 0, 0, 0, 160, 1, 2, 3, 4, 0xd5, 0xd5, 0xd5];
        let mut packet = plain.clone();
        phone.protect_rtp(&mut packet).unwrap();
        assert_eq!(packet.len(), plain.len() + 10);
        let wire = packet.clone();
        relay.unprotect_rtp(&mut packet).unwrap();
        assert_eq!(packet, plain);
        let mut again = wire.clone();
        assert_eq!(relay.unprotect_rtp(&mut again), Err(TransformDrop::Replay));
        let mut forged = wire;
        forged[3] = 8;
        assert_eq!(relay.unprotect_rtp(&mut forged), Err(TransformDrop::Auth));
        assert_eq!(
            relay.unprotect_rtp(&mut vec![0x80]),
            Err(TransformDrop::Malformed)
        );
        assert!(relay.authenticates());
        assert_eq!(format!("{relay:?}"), "SrtpLeg");
    }
}
