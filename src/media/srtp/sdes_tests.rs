//! Tests of the `a=crypto` parser and printer: RFC 4568 §9.1 examples, every refusal, and a
//! property test that arbitrary input never panics.

use super::*;

const KEY_80: &str = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

fn parse(value: &str) -> Result<CryptoAttribute, SdesError> {
    CryptoAttribute::parse(value.as_bytes())
}

#[test]
fn parses_the_rfc4568_example_and_prints_it_back() {
    let value = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|2^20");
    let attribute = parse(&value).unwrap();
    assert_eq!(attribute.tag, 1);
    assert_eq!(attribute.suite(), CryptoSuite::AesCm128HmacSha1_80);
    assert_eq!(attribute.lifetime, Some(1 << 20));
    assert_eq!(*attribute.to_sdp_value(), value);

    let decimal = parse(&format!("7 AES_CM_128_HMAC_SHA1_32 inline:{KEY_80}|1000")).unwrap();
    assert_eq!(decimal.lifetime, Some(1000));
    assert!(decimal.to_sdp_value().ends_with("|1000"));

    let bare = parse(&format!(
        "999999999 AES_CM_128_HMAC_SHA1_80  inline:{KEY_80}\r\n"
    ))
    .unwrap();
    assert_eq!(bare.tag, MAX_TAG);
    assert_eq!(bare.lifetime, None);
    assert_eq!(
        *bare.to_sdp_value(),
        format!("999999999 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}")
    );
}

#[test]
fn every_supported_suite_round_trips() {
    for suite in CryptoSuite::ALL {
        let attribute = CryptoAttribute {
            tag: 3,
            key: SrtpKey::generate(suite).unwrap(),
            lifetime: None,
        };
        let printed = attribute.to_sdp_value();
        let parsed = parse(&printed).unwrap();
        assert_eq!(parsed.tag, 3);
        assert_eq!(parsed.suite(), suite);
        assert!(parsed.key.same_as(&attribute.key));
    }
}

#[test]
fn refusals_are_typed() {
    let gcm_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==";
    let table: Vec<(String, SdesError)> = vec![
        (String::new(), SdesError::MissingField),
        ("1 AES_CM_128_HMAC_SHA1_80".into(), SdesError::MissingField),
        (
            format!("x AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}"),
            SdesError::Tag,
        ),
        (
            format!("1234567890 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}"),
            SdesError::Tag,
        ),
        (
            format!("-1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}"),
            SdesError::Tag,
        ),
        (
            format!("1 F8_128_HMAC_SHA1_80 inline:{KEY_80}"),
            SdesError::UnknownSuite,
        ),
        (
            format!("1 AES_192_CM_HMAC_SHA1_80 inline:{KEY_80}"),
            SdesError::UnknownSuite,
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 uri:{KEY_80}"),
            SdesError::KeyMethod,
        ),
        (
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1u!".into(),
            SdesError::Key(KeyError::Base64),
        ),
        (
            format!("1 AEAD_AES_256_GCM inline:{gcm_key}"),
            SdesError::Key(KeyError::Length {
                expected: 44,
                actual: 28,
            }),
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|1:4"),
            SdesError::Mki,
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|2^20|1:4"),
            SdesError::Mki,
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|2^20|1:4;inline:{KEY_80}|2^20|2:4"),
            SdesError::MultipleKeys,
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|2^49"),
            SdesError::Lifetime,
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|2^x"),
            SdesError::Lifetime,
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|0"),
            SdesError::Lifetime,
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|2^10|2^20"),
            SdesError::Lifetime,
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80} KDR=1"),
            SdesError::SessionParam(SessionParam::Kdr),
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80} UNENCRYPTED_SRTCP"),
            SdesError::SessionParam(SessionParam::UnencryptedSrtcp),
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80} UNENCRYPTED_SRTP"),
            SdesError::SessionParam(SessionParam::UnencryptedSrtp),
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80} UNAUTHENTICATED_SRTP"),
            SdesError::SessionParam(SessionParam::UnauthenticatedSrtp),
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80} FEC_ORDER=FEC_SRTP"),
            SdesError::SessionParam(SessionParam::Fec),
        ),
        (
            format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80} FOO=1"),
            SdesError::SessionParam(SessionParam::Unknown),
        ),
        (
            "1 AES_CM_128_HMAC_SHA1_80 inline:".to_owned() + &"A".repeat(600),
            SdesError::Syntax,
        ),
    ];
    for (value, expected) in table {
        assert_eq!(parse(&value).unwrap_err(), expected, "{value}");
    }
    assert_eq!(
        CryptoAttribute::parse(b"1 AES_CM_128_HMAC_SHA1_80 inline:\xff").unwrap_err(),
        SdesError::Syntax
    );
    // WSH is a hint and is accepted.
    assert!(parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80} WSH=64")).is_ok());
}

#[test]
fn errors_and_debug_never_show_the_key() {
    let attribute = parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}")).unwrap();
    assert!(!format!("{attribute:?}").contains("PS1u"));
    let error = parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_80}|1:4")).unwrap_err();
    assert!(!error.to_string().contains("PS1u"));
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..700)) {
        let _ = CryptoAttribute::parse(&bytes);
    }

    #[test]
    fn arbitrary_lines_never_panic(line in "[0-9]{0,10} (AES_CM_128_HMAC_SHA1_80|AEAD_AES_256_GCM|X) inline:[A-Za-z0-9+/=|:^;]{0,80}( [A-Z_=0-9]{0,12})?") {
        let _ = CryptoAttribute::parse(line.as_bytes());
    }
}
