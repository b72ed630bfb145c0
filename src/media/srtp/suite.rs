//! SRTP crypto suites as SDES names them (RFC 4568 §6.2, RFC 6188, RFC 7714 §14.1) and their
//! key, salt and tag sizes (pure).

/// The SRTCP tag of the HMAC-SHA1 suites: 80 bits for both the `_80` and `_32` suites
/// (RFC 4568 §6.2.2).
pub(super) const SRTCP_HMAC_TAG: usize = 10;

/// The longest master key plus master salt of any suite (AES-256: 32 + 14 bytes).
pub const MAX_KEY_SALT_LEN: usize = 46;

/// An SRTP crypto suite the SBC can negotiate and run.
///
/// `F8_128_HMAC_SHA1_80` and the `*_192_*` suites are not supported by the engine and are
/// treated as unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoSuite {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568 §6.2.1): AES-128 counter mode, 80-bit HMAC-SHA1 tag.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32` (RFC 4568 §6.2.2): as above with a 32-bit RTP tag.
    AesCm128HmacSha1_32,
    /// `AES_256_CM_HMAC_SHA1_80` (RFC 6188 §7.1): AES-256 counter mode, 80-bit tag.
    Aes256CmHmacSha1_80,
    /// `AES_256_CM_HMAC_SHA1_32` (RFC 6188 §7.1): AES-256 counter mode, 32-bit RTP tag.
    Aes256CmHmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714 §14.1): AES-128 GCM with a 16-byte tag.
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM` (RFC 7714 §14.1): AES-256 GCM with a 16-byte tag.
    AeadAes256Gcm,
}

impl CryptoSuite {
    /// Every supported suite, strongest-and-most-interoperable first: the default preference.
    pub const ALL: [CryptoSuite; 6] = [
        CryptoSuite::AesCm128HmacSha1_80,
        CryptoSuite::AeadAes128Gcm,
        CryptoSuite::AeadAes256Gcm,
        CryptoSuite::Aes256CmHmacSha1_80,
        CryptoSuite::AesCm128HmacSha1_32,
        CryptoSuite::Aes256CmHmacSha1_32,
    ];

    /// The suite's name in an `a=crypto` attribute.
    pub fn name(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::Aes256CmHmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
            Self::Aes256CmHmacSha1_32 => "AES_256_CM_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    /// The suite named `name` (case-sensitive, as RFC 4568 registers them), if supported.
    pub fn from_name(name: &str) -> Option<CryptoSuite> {
        Self::ALL.into_iter().find(|suite| suite.name() == name)
    }

    /// Master key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 | Self::AesCm128HmacSha1_32 | Self::AeadAes128Gcm => 16,
            Self::Aes256CmHmacSha1_80 | Self::Aes256CmHmacSha1_32 | Self::AeadAes256Gcm => 32,
        }
    }

    /// Master salt length in bytes (14 for AES-CM, 12 for AES-GCM).
    pub fn salt_len(self) -> usize {
        if self.is_gcm() { 12 } else { 14 }
    }

    /// Bytes an SRTP packet grows by when protected (HMAC tag or GCM tag).
    pub fn rtp_overhead(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 | Self::Aes256CmHmacSha1_80 => 10,
            Self::AesCm128HmacSha1_32 | Self::Aes256CmHmacSha1_32 => 4,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// Bytes an SRTCP packet grows by when protected: the E‖index word plus the tag (80-bit
    /// HMAC for every AES-CM suite, RFC 4568 §6.2.2; the 16-byte GCM tag).
    pub fn rtcp_overhead(self) -> usize {
        4 + if self.is_gcm() { 16 } else { SRTCP_HMAC_TAG }
    }

    /// The octets after an SRTCP packet's E‖index word: the HMAC tag (none for GCM, whose tag
    /// precedes the word, RFC 7714 §17).
    pub(super) fn rtcp_trailing_tag(self) -> usize {
        if self.is_gcm() { 0 } else { SRTCP_HMAC_TAG }
    }

    /// An AEAD suite of RFC 7714.
    pub(super) fn is_gcm(self) -> bool {
        matches!(self, Self::AeadAes128Gcm | Self::AeadAes256Gcm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sizes_match_the_rfcs() {
        // (suite, key, salt, RTP overhead, RTCP overhead)
        let table = [
            (CryptoSuite::AesCm128HmacSha1_80, 16, 14, 10, 14),
            (CryptoSuite::AesCm128HmacSha1_32, 16, 14, 4, 14),
            (CryptoSuite::Aes256CmHmacSha1_80, 32, 14, 10, 14),
            (CryptoSuite::Aes256CmHmacSha1_32, 32, 14, 4, 14),
            (CryptoSuite::AeadAes128Gcm, 16, 12, 16, 20),
            (CryptoSuite::AeadAes256Gcm, 32, 12, 16, 20),
        ];
        for (suite, key, salt, rtp, rtcp) in table {
            assert_eq!(CryptoSuite::from_name(suite.name()), Some(suite));
            assert_eq!(suite.key_len(), key, "{suite:?}");
            assert_eq!(suite.salt_len(), salt, "{suite:?}");
            assert_eq!(suite.rtp_overhead(), rtp, "{suite:?}");
            assert_eq!(suite.rtcp_overhead(), rtcp, "{suite:?}");
            assert!(key + salt <= MAX_KEY_SALT_LEN);
        }
        assert_eq!(CryptoSuite::from_name("F8_128_HMAC_SHA1_80"), None);
        assert_eq!(CryptoSuite::from_name("aes_cm_128_hmac_sha1_80"), None);
    }
}
