//! SRTP master keys (pure): master key and salt of one suite, wiped from memory on drop, never
//! printed, compared in constant time, made from the operating system's CSPRNG (RFC 4568 §6.1
//! `inline:` key material).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};
use zeroize::Zeroize;

use super::suite::{CryptoSuite, MAX_KEY_SALT_LEN};

/// Why key material could not be made or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key-salt is not valid base64.
    #[error("SRTP key is not valid base64")]
    Base64,
    /// The decoded key-salt does not have the suite's length.
    #[error("SRTP key-salt is {actual} bytes, the suite needs {expected}")]
    Length {
        /// Bytes the suite needs (master key plus master salt).
        expected: usize,
        /// Bytes decoded.
        actual: usize,
    },
    /// The operating system's random source failed.
    #[error("the random source failed")]
    Random,
}

/// A master key and master salt for one [`CryptoSuite`].
///
/// The bytes are overwritten with zeros when the value is dropped; `Debug` shows only the suite;
/// there is no `Display`. Two keys are compared with [`SrtpKey::same_as`], in constant time.
#[derive(Clone)]
pub struct SrtpKey {
    suite: CryptoSuite,
    /// Master key followed by master salt; bytes past `suite.key_len() + suite.salt_len()` are 0.
    material: [u8; MAX_KEY_SALT_LEN],
}

impl SrtpKey {
    /// A fresh random key for `suite`, from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`KeyError::Random`] when the random source fails.
    pub fn generate(suite: CryptoSuite) -> Result<SrtpKey, KeyError> {
        let mut key = SrtpKey {
            suite,
            material: [0; MAX_KEY_SALT_LEN],
        };
        let len = key.len();
        getrandom::fill(&mut key.material[..len]).map_err(|_| KeyError::Random)?;
        Ok(key)
    }

    /// A key from `key || salt` bytes.
    ///
    /// # Errors
    /// [`KeyError::Length`] when `key_salt` is not exactly the suite's key plus salt length.
    pub fn from_bytes(suite: CryptoSuite, key_salt: &[u8]) -> Result<SrtpKey, KeyError> {
        let expected = suite.key_len() + suite.salt_len();
        if key_salt.len() != expected {
            return Err(KeyError::Length {
                expected,
                actual: key_salt.len(),
            });
        }
        let mut key = SrtpKey {
            suite,
            material: [0; MAX_KEY_SALT_LEN],
        };
        key.material[..expected].copy_from_slice(key_salt);
        Ok(key)
    }

    /// A key from the base64 `key||salt` of an `inline:` key parameter (padding optional).
    ///
    /// # Errors
    /// [`KeyError::Base64`] or [`KeyError::Length`].
    pub fn from_base64(suite: CryptoSuite, text: &str) -> Result<SrtpKey, KeyError> {
        let expected = suite.key_len() + suite.salt_len();
        // Anything up to 84 characters decodes into `buf` (at most 63 bytes), so a key that is
        // too long for its suite is reported as a length error, not as bad base64.
        let mut buf = [0u8; 64];
        if text.len() > 84 {
            return Err(KeyError::Length {
                expected,
                actual: text.len() * 3 / 4,
            });
        }
        let decoded = STANDARD_PAD_INDIFFERENT.decode_slice(text.as_bytes(), &mut buf);
        let result = match decoded {
            Ok(len) => SrtpKey::from_bytes(suite, &buf[..len]),
            Err(_) => Err(KeyError::Base64),
        };
        buf.zeroize();
        result
    }

    /// The padded base64 of `key||salt`, as an `inline:` key parameter carries it.
    ///
    /// The result holds the secret: it is wiped on drop and must only go into an SDP body.
    pub fn to_base64(&self) -> zeroize::Zeroizing<String> {
        let mut out = zeroize::Zeroizing::new(String::with_capacity(64));
        STANDARD.encode_string(self.key_salt(), &mut out);
        out
    }

    /// The suite this key is for.
    pub fn suite(&self) -> CryptoSuite {
        self.suite
    }

    /// Whether `other` is the same suite and the same key and salt, compared in constant time.
    ///
    /// A re-INVITE whose crypto line keeps the same key keeps the running contexts (see
    /// [`super::SrtpSession::rekey`]).
    pub fn same_as(&self, other: &SrtpKey) -> bool {
        self.suite == other.suite
            && aws_lc_rs::constant_time::verify_slices_are_equal(self.key_salt(), other.key_salt())
                .is_ok()
    }

    /// The master key bytes.
    pub(super) fn master_key(&self) -> &[u8] {
        &self.material[..self.suite.key_len()]
    }

    /// The master salt bytes.
    pub(super) fn master_salt(&self) -> &[u8] {
        &self.material[self.suite.key_len()..self.len()]
    }

    fn key_salt(&self) -> &[u8] {
        &self.material[..self.len()]
    }

    fn len(&self) -> usize {
        self.suite.key_len() + self.suite.salt_len()
    }
}

impl Drop for SrtpKey {
    fn drop(&mut self) {
        self.material.zeroize();
    }
}

impl std::fmt::Debug for SrtpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpKey")
            .field("suite", &self.suite)
            .field("material", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4568 §9.1 example key.
    const RFC4568_KEY: &str = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

    #[test]
    fn base64_round_trip_and_lengths() {
        let key = SrtpKey::from_base64(CryptoSuite::AesCm128HmacSha1_80, RFC4568_KEY).unwrap();
        assert_eq!(key.master_key().len(), 16);
        assert_eq!(key.master_salt().len(), 14);
        assert_eq!(key.master_key()[0], b'=');
        assert_eq!(&*key.to_base64(), RFC4568_KEY);
        // 40 characters decode to 30 bytes: too short for AES-256 and for GCM (28).
        assert_eq!(
            SrtpKey::from_base64(CryptoSuite::Aes256CmHmacSha1_80, RFC4568_KEY).unwrap_err(),
            KeyError::Length {
                expected: 46,
                actual: 30
            }
        );
        assert_eq!(
            SrtpKey::from_base64(CryptoSuite::AeadAes128Gcm, RFC4568_KEY).unwrap_err(),
            KeyError::Length {
                expected: 28,
                actual: 30
            }
        );
        assert_eq!(
            SrtpKey::from_base64(CryptoSuite::AesCm128HmacSha1_80, "PS1u*CVe").unwrap_err(),
            KeyError::Base64
        );
        for long in ["A".repeat(400), "A".repeat(84), "A".repeat(64)] {
            assert!(matches!(
                SrtpKey::from_base64(CryptoSuite::AesCm128HmacSha1_80, &long),
                Err(KeyError::Length { .. })
            ));
        }
        // Unpadded base64 is accepted too: 28 bytes of GCM key-salt.
        let gcm = SrtpKey::generate(CryptoSuite::AeadAes128Gcm).unwrap();
        let unpadded = gcm.to_base64().trim_end_matches('=').to_owned();
        assert!(
            SrtpKey::from_base64(CryptoSuite::AeadAes128Gcm, &unpadded)
                .unwrap()
                .same_as(&gcm)
        );
    }

    #[test]
    fn generated_keys_are_fresh_and_compare_in_constant_time() {
        for suite in CryptoSuite::ALL {
            let a = SrtpKey::generate(suite).unwrap();
            let b = SrtpKey::generate(suite).unwrap();
            assert!(a.same_as(&a.clone()));
            assert!(!a.same_as(&b), "two generated keys are equal for {suite:?}");
            assert_eq!(a.key_salt().len(), suite.key_len() + suite.salt_len());
        }
        // Same bytes, different suite: not the same key.
        let bytes = [7u8; 30];
        let k80 = SrtpKey::from_bytes(CryptoSuite::AesCm128HmacSha1_80, &bytes).unwrap();
        let k32 = SrtpKey::from_bytes(CryptoSuite::AesCm128HmacSha1_32, &bytes).unwrap();
        assert!(!k80.same_as(&k32));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = SrtpKey::from_base64(CryptoSuite::AesCm128HmacSha1_80, RFC4568_KEY).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains("PS1u"));
        assert!(!shown.contains('['), "no byte array in {shown}");
    }
}
