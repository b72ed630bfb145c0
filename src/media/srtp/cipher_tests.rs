//! The production transforms against the RFCs' own vectors: key derivation (RFC 3711 B.3,
//! RFC 6188 §7.2), the AES-CM keystream (RFC 3711 B.2) and the AES-GCM SRTP and SRTCP packets
//! of RFC 7714 §16–17, which start from session keys.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, LessSafeKey, UnboundKey};

use super::super::oracle_tests::{
    RFC7714_KEY_128, RFC7714_KEY_256, RFC7714_RTCP, RFC7714_RTP, RFC7714_SALT, hex,
};
use super::*;

fn derived(master_key: &str, master_salt: &str, label: u8, len: usize) -> Vec<u8> {
    let master = ctr_key(&hex(master_key)).unwrap();
    let mut out = vec![0xffu8; len];
    prf(&master, &hex(master_salt), label, &mut out).unwrap();
    out
}

#[test]
fn rfc3711_b3_and_rfc6188_key_derivation() {
    const B3: (&str, &str) = (
        "E1F97A0D3E018BE0D64FA32C06DE4139",
        "0EC675AD498AFEEBB6960B3AABE6",
    );
    const RFC6188: (&str, &str) = (
        "F0F04914B513F2763A1B1FA130F10E2998F6F6E43E4309D1E622A0E332B9F1B6",
        "3B04803DE51EE7C96423AB5B78D2",
    );
    // (master key and salt, label, session key)
    let table = [
        (B3, 0, "C61E7A93744F39EE10734AFE3FF7A087"),
        (B3, 1, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"),
        (B3, 2, "30CBBC08863D8C85D49DB34A9AE1"),
        (
            RFC6188,
            0,
            "5BA1064E30EC51613CAD926C5A28EF731EC7FB397F70A960653CAF06554CD8C4",
        ),
        (RFC6188, 2, "FA31791685CA444A9E07C6C64E93"),
    ];
    for ((key, salt), label, expected) in table {
        let expected = hex(expected);
        assert_eq!(
            derived(key, salt, label, expected.len()),
            expected,
            "{key} {label}"
        );
    }
}

#[test]
fn rfc3711_b2_keystream() {
    let key = ctr_key(&hex("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
    let salt: [u8; 14] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").try_into().unwrap();
    let mut stream = vec![0u8; 0xff02 * 16];
    ctr(&key, cm_iv(&salt, 0, 0), &mut stream).unwrap();
    let block = |n: usize| stream[n * 16..(n + 1) * 16].to_vec();
    assert_eq!(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
    assert_eq!(block(0xff01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

/// A GCM cipher from RFC 7714's session key and salt (used for SRTP and SRTCP alike).
fn gcm_cipher(key: &str) -> Cipher {
    let part = || {
        let key = hex(key);
        let algorithm = if key.len() == 16 {
            &AES_128_GCM
        } else {
            &AES_256_GCM
        };
        Part::Gcm {
            aead: LessSafeKey::new(UnboundKey::new(algorithm, &key).unwrap()),
            salt: hex(RFC7714_SALT).try_into().unwrap(),
        }
    };
    Cipher {
        rtp: part(),
        rtcp: part(),
        rtp_tag: 16,
    }
}

#[test]
fn rfc7714_16_and_17_gcm_packets_both_ways() {
    let rtp = hex(RFC7714_RTP);
    let rtcp = hex(RFC7714_RTCP);
    let table = [
        (
            RFC7714_KEY_128,
            "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f
             42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce",
            "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1
             730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4",
        ),
        (
            RFC7714_KEY_256,
            "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3
             b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13",
            "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1
             110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4",
        ),
    ];
    for (key, srtp, srtcp) in table {
        let cipher = gcm_cipher(key);
        let at = RtpAt {
            header: 12,
            ssrc: 0x5501_a0b2,
            index: 0xf17b,
        };
        let mut out = Vec::new();
        cipher.protect_rtp(&rtp, at, &mut out).unwrap();
        assert_eq!(out, hex(srtp), "{key}");
        let mut plain = Vec::new();
        cipher.unprotect_rtp(&out, at, &mut plain).unwrap();
        assert_eq!(plain, rtp);

        cipher
            .protect_rtcp(&rtcp, 0x4d61_7273, 0x5d4, &mut out)
            .unwrap();
        assert_eq!(out, hex(srtcp), "{key}");
        cipher
            .unprotect_rtcp(&out, 0x4d61_7273, 0x5d4, &mut plain)
            .unwrap();
        assert_eq!(plain, rtcp);
        let last = out.len() - 5;
        out[last] ^= 1;
        assert_eq!(
            cipher.unprotect_rtcp(&out, 0x4d61_7273, 0x5d4, &mut plain),
            Err(SrtpError::AuthFailed)
        );
        assert!(plain.is_empty());
    }
}
