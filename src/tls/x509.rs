//! Just enough of an X.509 DER reader to find a certificate's validity period (pure).
//!
//! RFC 5280 §4.1: `Certificate ::= SEQUENCE { tbsCertificate, ... }`, and `tbsCertificate` is
//! `SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, ... }` with
//! `Validity ::= SEQUENCE { notBefore Time, notAfter Time }`. `Time` is a `UTCTime`
//! (`YYMMDDHHMMSSZ`, years 1950–2049) or a `GeneralizedTime` (`YYYYMMDDHHMMSSZ`), always UTC
//! with seconds (§4.1.2.5). The reader walks only those elements, checks every length against
//! the input and returns `None` for anything it does not understand; it never panics. The
//! certificate's signature is not checked here: rustls does that during handshakes.

/// DER tags used on the way to the validity period (X.690 §8).
const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const CONTEXT_0: u8 = 0xA0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// A certificate's validity period in seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The first second the certificate is valid.
    pub not_before: i64,
    /// The last second the certificate is valid.
    pub not_after: i64,
}

/// Reads the validity period of a DER-encoded certificate; `None` if it is malformed.
pub fn validity(der: &[u8]) -> Option<Validity> {
    let mut outer = Der(der);
    let mut certificate = Der(outer.expect(SEQUENCE)?);
    let mut tbs = Der(certificate.expect(SEQUENCE)?);
    if tbs.peek() == Some(CONTEXT_0) {
        tbs.element()?;
    }
    tbs.expect(INTEGER)?; // serialNumber
    tbs.expect(SEQUENCE)?; // signature AlgorithmIdentifier
    tbs.expect(SEQUENCE)?; // issuer Name
    let mut validity = Der(tbs.expect(SEQUENCE)?);
    let not_before = validity.time()?;
    let not_after = validity.time()?;
    Some(Validity {
        not_before,
        not_after,
    })
}

/// A cursor over DER elements.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// The next element's tag and contents; only single-byte tags and definite lengths of up to
    /// four bytes, which is all a certificate's header uses.
    fn element(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        if tag & 0x1F == 0x1F {
            return None; // multi-byte tag
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7F);
            if count == 0 || count > 4 || rest.len() < count {
                return None; // indefinite or oversized length
            }
            let (bytes, tail) = rest.split_at(count);
            rest = tail;
            bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))
        };
        if rest.len() < len {
            return None;
        }
        let (contents, tail) = rest.split_at(len);
        self.0 = tail;
        Some((tag, contents))
    }

    /// The contents of the next element, which must have `tag`.
    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.element()? {
            (t, contents) if t == tag => Some(contents),
            _ => None,
        }
    }

    /// The next element as a `Time`, in Unix seconds.
    fn time(&mut self) -> Option<i64> {
        match self.element()? {
            (UTC_TIME, text) if text.len() == 13 => {
                let yy = digits(&text[..2])?;
                let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
                unix_seconds(year, &text[2..])
            }
            (GENERALIZED_TIME, text) if text.len() == 15 => {
                unix_seconds(digits(&text[..4])?, &text[4..])
            }
            _ => None,
        }
    }
}

/// The value of a run of ASCII digits.
fn digits(text: &[u8]) -> Option<i64> {
    text.iter().try_fold(0i64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

/// Converts `MMDDHHMMSSZ` in `year` to Unix seconds, checking every field's range.
fn unix_seconds(year: i64, rest: &[u8]) -> Option<i64> {
    if rest.len() != 11 || rest[10] != b'Z' {
        return None;
    }
    let field = |i: usize| digits(&rest[i..i + 2]);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    /// A `Validity` SEQUENCE wrapped in the minimal certificate structure around it.
    fn cert_with(not_before: &[u8], not_after: &[u8]) -> Vec<u8> {
        let tlv = |tag: u8, body: &[u8]| {
            let mut v = vec![tag, u8::try_from(body.len()).unwrap()];
            v.extend_from_slice(body);
            v
        };
        let validity = tlv(SEQUENCE, &[not_before, not_after].concat());
        let tbs = [
            tlv(CONTEXT_0, &tlv(INTEGER, &[2])),
            tlv(INTEGER, &[1]),
            tlv(SEQUENCE, &[]),
            tlv(SEQUENCE, &[]),
            validity,
        ]
        .concat();
        tlv(SEQUENCE, &tlv(SEQUENCE, &tbs))
    }

    #[test]
    fn times_convert_to_unix_seconds() {
        let cases: &[(&[u8], &[u8], i64, i64)] = &[
            (
                b"\x17\x0d700101000000Z",
                b"\x17\x0d491231235959Z",
                0,
                2_524_607_999,
            ),
            (
                b"\x17\x0d500101000000Z",
                b"\x18\x0f20500101000000Z",
                -631_152_000,
                2_524_608_000,
            ),
            (
                b"\x17\x0d000229120000Z",
                b"\x18\x0f21000301000000Z",
                951_825_600,
                4_107_542_400,
            ),
        ];
        for &(before, after, nb, na) in cases {
            let got = validity(&cert_with(before, after)).expect("valid");
            assert_eq!((got.not_before, got.not_after), (nb, na));
        }
    }

    #[test]
    fn bad_times_are_rejected() {
        let ok = b"\x17\x0d700101000000Z";
        for bad in [
            &b"\x17\x0d700101000000X"[..],
            b"\x17\x0d701301000000Z",
            b"\x17\x0d700230000000Z",
            b"\x17\x0d010229000000Z",
            b"\x17\x0d700101240000Z",
            b"\x17\x0d70010100000aZ",
            b"\x18\x0d700101000000Z",
            b"\x04\x0d700101000000Z",
        ] {
            assert_eq!(validity(&cert_with(ok, bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn dev_certificate_is_read_and_every_truncation_is_refused() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/dev/server.crt");
        let der = CertificateDer::from_pem_file(path).expect("dev certificate");
        let v = validity(&der).expect("validity");
        // certs/gen-dev-certs.sh issues for exactly 3650 days.
        assert_eq!(v.not_after - v.not_before, 3650 * 86_400);
        assert!(v.not_before > 1_700_000_000, "{v:?}");
        for len in 0..200 {
            assert_eq!(validity(&der[..len]), None);
        }
    }
}
