//! HMAC-SHA1 (RFC 2104) for SRTP authentication tags, keyed once (pure).
//!
//! The key is folded into the two SHA-1 chaining states after the inner and outer pad blocks;
//! a tag starts from copies of them, so a packet costs the SHA-1 blocks of its own bytes and
//! one outer block, nothing more. Both states are key material: they are wiped when the
//! [`HmacSha1`] is dropped. The SHA-1 compression function is the `sha1` crate's (SHA-NI where
//! the CPU has it).

use sha1::digest::generic_array::GenericArray;
use zeroize::Zeroize;

const BLOCK: usize = 64;
/// SHA-1's initial chaining value (FIPS 180-4 §5.3.1).
const IV: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];

/// A keyed HMAC-SHA1.
pub(super) struct HmacSha1 {
    inner: [u32; 5],
    outer: [u32; 5],
}

impl HmacSha1 {
    /// Keys the MAC with `key` (at most one block; SRTP's session authentication keys are 20
    /// octets).
    pub(super) fn new(key: &[u8]) -> HmacSha1 {
        debug_assert!(key.len() <= BLOCK);
        let mut pad = [0u8; BLOCK];
        pad[..key.len()].copy_from_slice(key);
        let mut inner = IV;
        let mut outer = IV;
        pad.iter_mut().for_each(|b| *b ^= 0x36);
        compress(&mut inner, &pad);
        pad.iter_mut().for_each(|b| *b ^= 0x36 ^ 0x5c);
        compress(&mut outer, &pad);
        pad.zeroize();
        HmacSha1 { inner, outer }
    }

    /// The 20-octet tag of the concatenation of `parts`.
    pub(super) fn tag(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut state = self.inner;
        let mut block = [0u8; BLOCK];
        let mut filled = 0;
        let mut total = BLOCK as u64;
        for part in parts {
            total += part.len() as u64;
            let mut rest = *part;
            if filled > 0 {
                let take = rest.len().min(BLOCK - filled);
                block[filled..filled + take].copy_from_slice(&rest[..take]);
                filled += take;
                rest = &rest[take..];
                if filled < BLOCK {
                    continue;
                }
                compress(&mut state, &block);
            }
            let mut chunks = rest.chunks_exact(BLOCK);
            for chunk in &mut chunks {
                compress(&mut state, chunk);
            }
            let tail = chunks.remainder();
            block[..tail.len()].copy_from_slice(tail);
            filled = tail.len();
        }
        let digest = finish(state, &mut block, filled, total);

        block[..20].copy_from_slice(&digest);
        finish(self.outer, &mut block, 20, (BLOCK + 20) as u64)
    }
}

impl Drop for HmacSha1 {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

/// Pads the last `filled` octets in `block` of a `total`-octet message (FIPS 180-4 §5.1.1) and
/// returns the digest.
fn finish(mut state: [u32; 5], block: &mut [u8; BLOCK], filled: usize, total: u64) -> [u8; 20] {
    block[filled] = 0x80;
    block[filled + 1..].fill(0);
    if filled + 1 > BLOCK - 8 {
        compress(&mut state, block);
        block.fill(0);
    }
    block[BLOCK - 8..].copy_from_slice(&(total * 8).to_be_bytes());
    compress(&mut state, block);
    let mut digest = [0u8; 20];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// One SHA-1 compression of a 64-octet block.
fn compress(state: &mut [u32; 5], block: &[u8]) {
    sha1::compress(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::hmac;
    use proptest::prelude::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 2202 §3, test cases 1, 2 and 6 (key longer than a block excluded: SRTP never has
    /// one), plus a 64-octet key.
    #[test]
    fn rfc2202_vectors() {
        let table: [(&[u8], &[u8], &str); 3] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b617318655057264e28bc0b6fb378c8ef146be00",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (
                &[0xaa; 20],
                &[0xdd; 50],
                "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
            ),
        ];
        for (key, data, tag) in table {
            assert_eq!(HmacSha1::new(key).tag(&[data]).to_vec(), hex(tag));
        }
    }

    proptest! {
        /// Any key up to a block and any message, in any split, gives aws-lc's HMAC-SHA1.
        #[test]
        fn agrees_with_aws_lc(
            key in proptest::collection::vec(any::<u8>(), 0..=64),
            data in proptest::collection::vec(any::<u8>(), 0..400),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
            at.sort_unstable();
            let mut parts = Vec::new();
            let mut from = 0;
            for cut in at {
                parts.push(&data[from..cut]);
                from = cut;
            }
            parts.push(&data[from..]);
            let expected = hmac::sign(
                &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key),
                &data,
            );
            prop_assert_eq!(&HmacSha1::new(&key).tag(&parts)[..], expected.as_ref());
        }
    }
}
