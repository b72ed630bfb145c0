//! Errors of the media control (pure): what can stop an offer, answer or update.
//! Their SIP status lives with the others in [`crate::error`].

use std::io;

use thiserror::Error;

use super::ports::PortError;

/// Why the relay could not anchor a call's media.
#[derive(Debug, Error)]
pub enum MediaError {
    /// The leg's realm has no media relay configured.
    #[error("realm {0} has no media relay")]
    UnknownRealm(String),
    /// No port pair is free in a realm (every pair in use or quarantined).
    #[error("media ports exhausted in realm {realm}")]
    Exhausted {
        /// The realm that ran out.
        realm: String,
    },
    /// Port pairs were free but none could be bound (another process holds them).
    #[error("cannot bind a media port in realm {realm}: {source}")]
    Bind {
        /// The realm whose ports could not be bound.
        realm: String,
        /// The last bind error.
        source: io::Error,
    },
    /// The relay's command queue for a stream is full (the relay is overloaded or stopped).
    #[error("media relay busy")]
    Busy,
    /// An answer or update for a call that has no media session.
    #[error("no media session for this call")]
    UnknownCall,
}

impl MediaError {
    /// The port pool error of `realm`, as a media error.
    pub(crate) fn from_ports(error: PortError, realm: &str) -> Self {
        match error {
            PortError::Exhausted | PortError::NotAllocated(_) => MediaError::Exhausted {
                realm: realm.to_owned(),
            },
        }
    }
}
