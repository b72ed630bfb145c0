//! The SDES `a=crypto` attribute (RFC 4568 §9.1), pure: parse and print its value
//! `tag suite inline:key||salt[|lifetime][|MKI:length] [session-params]`.
//!
//! The engine has no MKI support, so a key parameter with an MKI, or several key parameters
//! (which need MKIs), is refused; so is every session parameter that changes the transform
//! (`KDR`, `UNENCRYPTED_SRTP`, `UNENCRYPTED_SRTCP`, `UNAUTHENTICATED_SRTP`, FEC ones) and any
//! unknown one (§6.3: an endpoint that does not understand a parameter must not use the line).
//! `WSH=` (a replay-window hint) is accepted and ignored: the receive window is fixed at 128.
//! A key lifetime is parsed and kept but not enforced below the engine's own 2^48-packet limit.

use zeroize::Zeroizing;

use super::key::{KeyError, SrtpKey};
use super::suite::CryptoSuite;

/// Longest attribute value accepted; real lines are under 100 bytes.
pub const MAX_ATTRIBUTE_LEN: usize = 512;
/// Largest tag (RFC 4568: `1*9DIGIT`).
pub const MAX_TAG: u32 = 999_999_999;
/// Largest key lifetime for SRTP (RFC 3711 §9.2): 2^48 packets.
pub const MAX_LIFETIME: u64 = 1 << 48;

/// A session parameter the SBC refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionParam {
    /// `KDR=`: key derivation rate; the engine derives session keys once.
    Kdr,
    /// `UNENCRYPTED_SRTP`.
    UnencryptedSrtp,
    /// `UNENCRYPTED_SRTCP`.
    UnencryptedSrtcp,
    /// `UNAUTHENTICATED_SRTP`.
    UnauthenticatedSrtp,
    /// `FEC_ORDER=` or `FEC_KEY=`.
    Fec,
    /// A parameter RFC 4568 does not define.
    Unknown,
}

/// Why an `a=crypto` value was refused. Never carries key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SdesError {
    /// Longer than [`MAX_ATTRIBUTE_LEN`] or not UTF-8 text.
    #[error("crypto attribute too long or not text")]
    Syntax,
    /// Fewer than three fields (tag, suite, key parameters).
    #[error("crypto attribute lacks a tag, suite or key parameter")]
    MissingField,
    /// The tag is not 1 to 9 digits.
    #[error("crypto attribute tag is not 1 to 9 digits")]
    Tag,
    /// The suite is unknown or unsupported.
    #[error("crypto suite not supported")]
    UnknownSuite,
    /// A key method other than `inline:`.
    #[error("key method is not inline")]
    KeyMethod,
    /// The key-salt is bad.
    #[error("bad key: {0}")]
    Key(KeyError),
    /// The lifetime is not `2^N` or a decimal count up to 2^48.
    #[error("bad key lifetime")]
    Lifetime,
    /// The key parameter has an MKI, which the SRTP engine does not support.
    #[error("MKI is not supported")]
    Mki,
    /// More than one key parameter (several master keys need MKIs).
    #[error("more than one key parameter is not supported")]
    MultipleKeys,
    /// A session parameter the SBC does not support.
    #[error("session parameter {0:?} is not supported")]
    SessionParam(SessionParam),
}

/// One `a=crypto` attribute: a tag, and one master key (with its suite) without MKI.
///
/// `Debug` redacts the key; the wire form comes only from [`CryptoAttribute::to_sdp_value`].
#[derive(Debug, Clone)]
pub struct CryptoAttribute {
    /// The tag that pairs an answer's line with an offer's (1 to 9 digits).
    pub tag: u32,
    /// The master key and salt, with its suite.
    pub key: SrtpKey,
    /// The key's lifetime in packets, when given.
    pub lifetime: Option<u64>,
}

impl CryptoAttribute {
    /// The suite of this line.
    pub fn suite(&self) -> CryptoSuite {
        self.key.suite()
    }

    /// Parses the attribute value (what follows `a=crypto:`).
    ///
    /// # Errors
    /// The first problem found, as an [`SdesError`]; never panics.
    pub fn parse(value: &[u8]) -> Result<CryptoAttribute, SdesError> {
        if value.len() > MAX_ATTRIBUTE_LEN {
            return Err(SdesError::Syntax);
        }
        let text = std::str::from_utf8(value).map_err(|_| SdesError::Syntax)?;
        let mut fields = text.split_ascii_whitespace();
        let (Some(tag), Some(suite), Some(key_params)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(SdesError::MissingField);
        };
        let tag = parse_tag(tag)?;
        let suite = CryptoSuite::from_name(suite).ok_or(SdesError::UnknownSuite)?;
        if key_params.contains(';') {
            return Err(SdesError::MultipleKeys);
        }
        let (key, lifetime) = parse_key_param(suite, key_params)?;
        for param in fields {
            check_session_param(param)?;
        }
        Ok(CryptoAttribute { tag, key, lifetime })
    }

    /// The attribute value, `tag suite inline:key||salt[|lifetime]`, for an SDP body.
    ///
    /// It holds the key in clear: it is wiped on drop and must never be logged.
    pub fn to_sdp_value(&self) -> Zeroizing<String> {
        let key = self.key.to_base64();
        let mut out = Zeroizing::new(String::with_capacity(96));
        out.push_str(&self.tag.to_string());
        out.push(' ');
        out.push_str(self.suite().name());
        out.push_str(" inline:");
        out.push_str(&key);
        if let Some(lifetime) = self.lifetime {
            out.push('|');
            if lifetime.is_power_of_two() {
                out.push_str(&format!("2^{}", lifetime.trailing_zeros()));
            } else {
                out.push_str(&lifetime.to_string());
            }
        }
        out
    }
}

fn parse_tag(tag: &str) -> Result<u32, SdesError> {
    if tag.is_empty() || tag.len() > 9 || !tag.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SdesError::Tag);
    }
    tag.parse().map_err(|_| SdesError::Tag)
}

/// `inline:key||salt[|lifetime][|mki:length]`.
fn parse_key_param(suite: CryptoSuite, param: &str) -> Result<(SrtpKey, Option<u64>), SdesError> {
    let info = param.strip_prefix("inline:").ok_or(SdesError::KeyMethod)?;
    let mut parts = info.split('|');
    let key_salt = parts.next().unwrap_or_default();
    let key = SrtpKey::from_base64(suite, key_salt).map_err(SdesError::Key)?;
    let mut lifetime = None;
    for (index, part) in parts.enumerate() {
        if part.contains(':') {
            return Err(SdesError::Mki);
        }
        if index > 0 {
            // A second non-MKI part: RFC 4568 allows one lifetime only.
            return Err(SdesError::Lifetime);
        }
        lifetime = Some(parse_lifetime(part)?);
    }
    Ok((key, lifetime))
}

fn parse_lifetime(text: &str) -> Result<u64, SdesError> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit());
    let value = if let Some(exponent) = text.strip_prefix("2^") {
        if !digits(exponent) {
            return Err(SdesError::Lifetime);
        }
        let exponent: u32 = exponent.parse().map_err(|_| SdesError::Lifetime)?;
        1u64.checked_shl(exponent).ok_or(SdesError::Lifetime)?
    } else {
        if !digits(text) {
            return Err(SdesError::Lifetime);
        }
        text.parse().map_err(|_| SdesError::Lifetime)?
    };
    if value == 0 || value > MAX_LIFETIME {
        return Err(SdesError::Lifetime);
    }
    Ok(value)
}

fn check_session_param(param: &str) -> Result<(), SdesError> {
    let name = param.split('=').next().unwrap_or_default();
    let refused = match name {
        "WSH" => return Ok(()),
        "KDR" => SessionParam::Kdr,
        "UNENCRYPTED_SRTP" => SessionParam::UnencryptedSrtp,
        "UNENCRYPTED_SRTCP" => SessionParam::UnencryptedSrtcp,
        "UNAUTHENTICATED_SRTP" => SessionParam::UnauthenticatedSrtp,
        "FEC_ORDER" | "FEC_KEY" => SessionParam::Fec,
        _ => SessionParam::Unknown,
    };
    Err(SdesError::SessionParam(refused))
}

#[cfg(test)]
#[path = "sdes_tests.rs"]
mod tests;
