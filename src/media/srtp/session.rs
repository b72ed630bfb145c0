//! One SRTP leg (pure): a sender and a receiver, and what a re-INVITE does to them.
//!
//! SDES keys may be re-sent unchanged in every re-INVITE (hold, codec change, refresh). The
//! engine cannot set or read the rollover counter (ROC), so a context that were rebuilt for an
//! unchanged key would restart at ROC 0 while the peer carries on: after the next sequence
//! number wrap every packet would fail authentication, and a rebuilt *sender* would reuse
//! keystream. [`SrtpSession::rekey`] therefore keeps a direction's context when its key is the
//! same (compared in constant time) and builds a new one only for a new key.

use super::SrtpTransform;
use super::error::SrtpError;
use super::key::SrtpKey;
use super::negotiate::Negotiated;
use super::stream::{SrtpReceiver, SrtpSender};

/// What [`SrtpSession::rekey`] did to each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rekeyed {
    /// The sender kept its context (same key): its ROC and SRTCP index continue.
    pub sender_kept: bool,
    /// The receiver kept its context (same key): its ROC and replay windows continue.
    pub receiver_kept: bool,
}

/// SRTP on one call leg: protects what the SBC sends with its own key, unprotects what it
/// receives with the peer's key.
pub struct SrtpSession {
    sender: SrtpSender,
    receiver: SrtpReceiver,
}

impl SrtpSession {
    /// A session sending with `local` (the SBC's `a=crypto` key) and receiving with `remote`
    /// (the peer's).
    ///
    /// # Errors
    /// [`SrtpError::Engine`] if the engine refuses a key.
    pub fn new(local: &SrtpKey, remote: &SrtpKey) -> Result<SrtpSession, SrtpError> {
        Ok(SrtpSession {
            sender: SrtpSender::new(local)?,
            receiver: SrtpReceiver::new(remote)?,
        })
    }

    /// A session for the outcome of an offer/answer exchange.
    ///
    /// # Errors
    /// As [`SrtpSession::new`].
    pub fn from_negotiated(negotiated: &Negotiated) -> Result<SrtpSession, SrtpError> {
        SrtpSession::new(&negotiated.local, &negotiated.remote)
    }

    /// Applies the keys of a new offer/answer exchange, keeping each direction whose key did not
    /// change. On error nothing changed.
    ///
    /// # Errors
    /// As [`SrtpSession::new`].
    pub fn rekey(&mut self, local: &SrtpKey, remote: &SrtpKey) -> Result<Rekeyed, SrtpError> {
        let sender_kept = self.sender.key().same_as(local);
        let receiver_kept = self.receiver.key().same_as(remote);
        let sender = if sender_kept {
            None
        } else {
            Some(SrtpSender::new(local)?)
        };
        let receiver = if receiver_kept {
            None
        } else {
            Some(SrtpReceiver::new(remote)?)
        };
        if let Some(sender) = sender {
            self.sender = sender;
        }
        if let Some(receiver) = receiver {
            self.receiver = receiver;
        }
        Ok(Rekeyed {
            sender_kept,
            receiver_kept,
        })
    }

    /// The two directions, for a relay that runs them on different threads.
    pub fn split(self) -> (SrtpSender, SrtpReceiver) {
        (self.sender, self.receiver)
    }
}

impl SrtpTransform for SrtpSession {
    fn protect_rtp(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        self.sender.protect_rtp(plain, out)
    }

    fn unprotect_rtp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        self.receiver.unprotect_rtp(packet, out)
    }

    fn protect_rtcp(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        self.sender.protect_rtcp(plain, out)
    }

    fn unprotect_rtcp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        self.receiver.unprotect_rtcp(packet, out)
    }

    fn rekey(&mut self, local: &SrtpKey, remote: &SrtpKey) -> Result<Rekeyed, SrtpError> {
        SrtpSession::rekey(self, local, remote)
    }
}
