//! A reference SRTP transform for tests, written from RFC 3711 §4 and RFC 7714 §8–9 on
//! aws-lc-rs primitives, independent of the engine. The engine exposes neither its keystream
//! nor its key derivation, and takes master keys only, while RFC 7714's vectors start from
//! session keys; so the RFC vectors are checked here against this reference, and
//! `vector_tests.rs` checks the engine's packets byte for byte against the same reference.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;

/// Bytes from hex text; whitespace ignored.
pub(super) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// XORs AES-CTR keystream (key, 16-byte IV) into `data`.
pub(super) fn aes_ctr(key: &[u8], iv: [u8; 16], data: &mut [u8]) {
    let algorithm = if key.len() == 16 { &AES_128 } else { &AES_256 };
    let key = EncryptingKey::ctr(UnboundCipherKey::new(algorithm, key).unwrap()).unwrap();
    key.less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(iv)))
        .unwrap();
}

/// The AES-CM PRF of RFC 3711 §4.3.3 (key derivation rate 0): `len` bytes for `label`.
pub(super) fn prf(master_key: &[u8], master_salt: &[u8], label: u8, len: usize) -> Vec<u8> {
    let mut iv = [0u8; 16];
    iv[..master_salt.len()].copy_from_slice(master_salt);
    iv[7] ^= label;
    let mut out = vec![0u8; len];
    aes_ctr(master_key, iv, &mut out);
    out
}

/// Session keys of one direction kind (RTP: labels 0–2, RTCP: labels 3–5).
pub(super) struct SessionKeys {
    pub enc: Vec<u8>,
    pub auth: Vec<u8>,
    pub salt: Vec<u8>,
}

impl SessionKeys {
    pub(super) fn derive(master_key: &[u8], master_salt: &[u8], rtcp: bool, gcm: bool) -> Self {
        let base = if rtcp { 3 } else { 0 };
        SessionKeys {
            enc: prf(master_key, master_salt, base, master_key.len()),
            auth: if gcm {
                Vec::new()
            } else {
                prf(master_key, master_salt, base + 1, 20)
            },
            salt: prf(master_key, master_salt, base + 2, master_salt.len()),
        }
    }
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mut context = hmac::Context::with_key(&key);
    for part in parts {
        context.update(part);
    }
    context.sign().as_ref().to_vec()
}

fn rtp_header_len(packet: &[u8]) -> usize {
    let mut len = 12 + 4 * usize::from(packet[0] & 0x0f);
    if packet[0] & 0x10 != 0 {
        len += 4 + 4 * usize::from(u16::from_be_bytes([packet[len + 2], packet[len + 3]]));
    }
    len
}

/// RFC 3711 §4.1.1 AES-CM IV: salt·2^16 ⊕ SSRC·2^64 ⊕ index·2^16.
fn cm_iv(salt: &[u8], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    for (i, b) in ssrc.to_be_bytes().iter().enumerate() {
        iv[4 + i] ^= b;
    }
    for (i, b) in index.to_be_bytes()[2..].iter().enumerate() {
        iv[8 + i] ^= b;
    }
    iv
}

/// SRTP with AES-CM and HMAC-SHA1 (RFC 3711 §3.1, §4.1.1, §4.2.1).
pub(super) fn protect_rtp_cm(
    keys: &SessionKeys,
    tag_len: usize,
    plain: &[u8],
    roc: u32,
) -> Vec<u8> {
    let mut out = plain.to_vec();
    let seq = u16::from_be_bytes([plain[2], plain[3]]);
    let ssrc = u32::from_be_bytes([plain[8], plain[9], plain[10], plain[11]]);
    let index = (u64::from(roc) << 16) | u64::from(seq);
    let header = rtp_header_len(plain);
    aes_ctr(
        &keys.enc,
        cm_iv(&keys.salt, ssrc, index),
        &mut out[header..],
    );
    let tag = hmac_sha1(&keys.auth, &[&out, &roc.to_be_bytes()]);
    out.extend_from_slice(&tag[..tag_len]);
    out
}

/// SRTCP with AES-CM and HMAC-SHA1 (RFC 3711 §3.4): E flag set, 80-bit tag.
pub(super) fn protect_rtcp_cm(keys: &SessionKeys, plain: &[u8], index: u32) -> Vec<u8> {
    let mut out = plain.to_vec();
    let ssrc = u32::from_be_bytes([plain[4], plain[5], plain[6], plain[7]]);
    aes_ctr(
        &keys.enc,
        cm_iv(&keys.salt, ssrc, u64::from(index)),
        &mut out[8..],
    );
    out.extend_from_slice(&(index | 0x8000_0000).to_be_bytes());
    let tag = hmac_sha1(&keys.auth, &[&out]);
    out.extend_from_slice(&tag[..10]);
    out
}

fn gcm_key(key: &[u8]) -> LessSafeKey {
    let algorithm = if key.len() == 16 {
        &AES_128_GCM
    } else {
        &AES_256_GCM
    };
    LessSafeKey::new(UnboundKey::new(algorithm, key).unwrap())
}

/// SRTP with AES-GCM (RFC 7714 §8): IV = (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) ⊕ salt, AAD = header.
pub(super) fn protect_rtp_gcm(key: &[u8], salt: &[u8], plain: &[u8], roc: u32) -> Vec<u8> {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&plain[8..12]);
    iv[6..10].copy_from_slice(&roc.to_be_bytes());
    iv[10..12].copy_from_slice(&plain[2..4]);
    for (v, s) in iv.iter_mut().zip(salt) {
        *v ^= s;
    }
    let header = rtp_header_len(plain);
    let mut out = plain.to_vec();
    let (aad, payload) = out.split_at_mut(header);
    let tag = gcm_key(key)
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(&*aad), payload)
        .unwrap();
    out.extend_from_slice(tag.as_ref());
    out
}

/// SRTCP with AES-GCM (RFC 7714 §9, §17): IV = (0x0000 ‖ SSRC ‖ 0x0000 ‖ index) ⊕ salt, AAD = the
/// first 8 octets and the E‖index word; the tag precedes the E‖index word.
pub(super) fn protect_rtcp_gcm(key: &[u8], salt: &[u8], plain: &[u8], index: u32) -> Vec<u8> {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&plain[4..8]);
    iv[8..12].copy_from_slice(&index.to_be_bytes());
    for (v, s) in iv.iter_mut().zip(salt) {
        *v ^= s;
    }
    let word = (index | 0x8000_0000).to_be_bytes();
    let mut aad = plain[..8].to_vec();
    aad.extend_from_slice(&word);
    let mut out = plain.to_vec();
    let tag = gcm_key(key)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(&aad),
            &mut out[8..],
        )
        .unwrap();
    out.extend_from_slice(tag.as_ref());
    out.extend_from_slice(&word);
    out
}

/// RFC 3711 Appendix B.2: AES-CM keystream for session key 2B7E…, salt F0F1…FD, SSRC 0,
/// index 0.
#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    let salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
    let iv = cm_iv(&salt, 0, 0);
    assert_eq!(iv.to_vec(), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
    let mut stream = vec![0u8; 0xff02 * 16];
    aes_ctr(&key, iv, &mut stream);
    let block = |n: usize| stream[n * 16..(n + 1) * 16].to_vec();
    assert_eq!(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
    assert_eq!(block(1), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
    assert_eq!(block(2), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
    assert_eq!(block(0xfeff), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
    assert_eq!(block(0xff00), hex("362B7C3C6773516318A077D7FC5073AE"));
    assert_eq!(block(0xff01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

/// RFC 3711 Appendix B.3: key derivation from master key E1F9…, master salt 0EC6….
#[test]
fn rfc3711_b3_key_derivation() {
    let key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
    assert_eq!(
        prf(&key, &salt, 0, 16),
        hex("C61E7A93744F39EE10734AFE3FF7A087")
    );
    assert_eq!(prf(&key, &salt, 2, 14), hex("30CBBC08863D8C85D49DB34A9AE1"));
    assert_eq!(
        prf(&key, &salt, 1, 94),
        hex(
            "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2"
        )
    );
}

/// RFC 6188 §7.2: AES-256 key derivation (AES_256_CM_PRF).
#[test]
fn rfc6188_aes_256_key_derivation() {
    let key = hex("F0F04914B513F2763A1B1FA130F10E2998F6F6E43E4309D1E622A0E332B9F1B6");
    let salt = hex("3B04803DE51EE7C96423AB5B78D2");
    assert_eq!(
        prf(&key, &salt, 0, 32),
        hex("5BA1064E30EC51613CAD926C5A28EF731EC7FB397F70A960653CAF06554CD8C4")
    );
    assert_eq!(prf(&key, &salt, 2, 14), hex("FA31791685CA444A9E07C6C64E93"));
}

pub(super) const RFC7714_KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
pub(super) const RFC7714_KEY_256: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
pub(super) const RFC7714_SALT: &str = "517569642070726f2071756f";
pub(super) const RFC7714_RTP: &str = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f
    6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573";
pub(super) const RFC7714_RTCP: &str = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a
    0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef";

/// RFC 7714 §16.1.1 and §16.2.1: AEAD_AES_128_GCM and AEAD_AES_256_GCM SRTP packets.
#[test]
fn rfc7714_16_gcm_rtp_packets() {
    let plain = hex(RFC7714_RTP);
    let salt = hex(RFC7714_SALT);
    let expected_128 = hex(
        "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca
        be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce",
    );
    let expected_256 = hex(
        "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa
        b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13",
    );
    assert_eq!(
        protect_rtp_gcm(&hex(RFC7714_KEY_128), &salt, &plain, 0),
        expected_128
    );
    assert_eq!(
        protect_rtp_gcm(&hex(RFC7714_KEY_256), &salt, &plain, 0),
        expected_256
    );
}

/// RFC 7714 §17.1 and §17.2: AEAD_AES_128_GCM and AEAD_AES_256_GCM SRTCP packets, index 0x5d4.
#[test]
fn rfc7714_17_gcm_rtcp_packets() {
    let plain = hex(RFC7714_RTCP);
    let salt = hex(RFC7714_SALT);
    let expected_128 = hex(
        "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7
        6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872
        45d9eade 800005d4",
    );
    let expected_256 = hex(
        "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d
        bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c
        b26ac3be 800005d4",
    );
    assert_eq!(
        protect_rtcp_gcm(&hex(RFC7714_KEY_128), &salt, &plain, 0x5d4),
        expected_128
    );
    assert_eq!(
        protect_rtcp_gcm(&hex(RFC7714_KEY_256), &salt, &plain, 0x5d4),
        expected_256
    );
}
