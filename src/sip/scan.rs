//! Lexical helpers shared by the SIP parsers (pure): RFC 3261 §25.1 character classes,
//! linear whitespace, quoted strings and top-level comma splitting.
//!
//! Character classes are 256-entry lookup tables built at compile time. Every scanner works on
//! byte offsets with checked access (`get`), so no input can make it panic.

use super::error::SyntaxError;
use bytes::Bytes;

/// Builds a class table: optionally all alphanumerics, plus the listed bytes.
const fn class(alnum: bool, extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    if alnum {
        let mut c = 0usize;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric();
            c += 1;
        }
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// `token` (§25.1): alphanum / `-.!%*_+` `` ` `` `'~`.
pub static TOKEN: [bool; 256] = class(true, b"-.!%*_+`'~");
/// `word` (§25.1), used by Call-ID: token characters plus `()<>:\"/[]?{}`.
pub static WORD: [bool; 256] = class(true, b"-.!%*_+`'~()<>:\\\"/[]?{}");
/// `unreserved` (§25.1): alphanum / mark.
pub static UNRESERVED: [bool; 256] = class(true, b"-_.!~*'()");
/// `reserved` (§25.1).
pub static RESERVED: [bool; 256] = class(false, b";/?:@&=+$,");
/// Characters of a SIP URI `user` part: unreserved / user-unreserved (escapes checked apart).
pub static USER: [bool; 256] = class(true, b"-_.!~*'()&=+$,;?/");
/// Characters of a SIP URI `password`: unreserved / `&=+$,` (escapes checked apart).
pub static PASSWORD: [bool; 256] = class(true, b"-_.!~*'()&=+$,");
/// `paramchar` of URI parameters: unreserved / param-unreserved (escapes checked apart).
pub static PARAM: [bool; 256] = class(true, b"-_.!~*'()[]/:&+$");
/// Characters of URI `headers`: unreserved / hnv-unreserved and the `&` `=` separators.
pub static HEADERS: [bool; 256] = class(true, b"-_.!~*'()[]/?:+$&=");
/// `uric` (RFC 2396 as used by §25.1 `absoluteURI`): reserved / unreserved (escapes apart).
pub static URIC: [bool; 256] = class(true, b"-_.!~*'();/?:@&=+$,");
/// URI scheme characters after the first ALPHA: alphanum / `+-.`.
pub static SCHEME: [bool; 256] = class(true, b"+-.");

/// Whether `b` is a `token` character.
pub fn is_token_char(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// Whether `s` is a non-empty `token`.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token_char(b))
}

/// Whether `s` is non-empty and every byte is in `table` or part of a `%HH` escape.
pub fn is_escaped_run(s: &[u8], table: &[bool; 256]) -> bool {
    if s.is_empty() {
        return false;
    }
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let ok = matches!((s.get(i + 1), s.get(i + 2)),
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit());
            if !ok {
                return false;
            }
            i += 3;
        } else if table[usize::from(b)] {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Offset of the first byte at or after `i` that is not linear whitespace. LWS is SP, HTAB, and
/// a CRLF immediately followed by SP or HTAB (a folded line).
pub fn skip_lws(s: &[u8], mut i: usize) -> usize {
    loop {
        match s.get(i) {
            Some(b' ' | b'\t') => i += 1,
            Some(b'\r')
                if s.get(i + 1) == Some(&b'\n') && matches!(s.get(i + 2), Some(b' ' | b'\t')) =>
            {
                i += 3
            }
            _ => return i,
        }
    }
}

/// Whether the byte at `i` starts linear whitespace.
pub fn at_lws(s: &[u8], i: usize) -> bool {
    skip_lws(s, i) > i
}

/// The value with leading and trailing whitespace (SP, HTAB, CR, LF) removed; zero-copy.
pub fn trim_lws(value: &Bytes) -> Bytes {
    let s = value.as_ref();
    let start = s
        .iter()
        .position(|b| !b" \t\r\n".contains(b))
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b" \t\r\n".contains(b))
        .map_or(start, |p| p + 1);
    value.slice(start..end.max(start))
}

/// Scans a `quoted-string` whose opening `"` is at `i`; returns the offset just past the
/// closing quote. Inside: LWS, `%x21 / %x23-5B / %x5D-7E`, UTF-8 text, and `quoted-pair`
/// (`\` followed by any byte except LF and CR and above `%x7F`).
pub fn scan_quoted(s: &[u8], i: usize) -> Result<usize, SyntaxError> {
    if s.get(i) != Some(&b'"') {
        return Err(SyntaxError::new("quoted-string", i));
    }
    let mut j = i + 1;
    loop {
        match s.get(j) {
            None => return Err(SyntaxError::new("unterminated quoted-string", j)),
            Some(b'"') => break,
            Some(b'\\') => match s.get(j + 1) {
                Some(&c) if c <= 0x7f && c != b'\n' && c != b'\r' => j += 2,
                _ => return Err(SyntaxError::new("quoted-pair", j)),
            },
            Some(b' ' | b'\t') => j += 1,
            Some(b'\r') => {
                let k = skip_lws(s, j);
                if k == j {
                    return Err(SyntaxError::new("quoted-string", j));
                }
                j = k;
            }
            Some(&c) if (0x21..=0x7e).contains(&c) => j += 1,
            Some(&c) if c >= 0x80 => {
                // One UTF-8 character: its length comes from the lead byte, then validate.
                let len = match c {
                    0xc2..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf4 => 4,
                    _ => return Err(SyntaxError::new("quoted-string utf-8", j)),
                };
                let ch = s
                    .get(j..j + len)
                    .ok_or(SyntaxError::new("quoted-string utf-8", j))?;
                if std::str::from_utf8(ch).is_err() {
                    return Err(SyntaxError::new("quoted-string utf-8", j));
                }
                j += len;
            }
            Some(_) => return Err(SyntaxError::new("quoted-string", j)),
        }
    }
    Ok(j + 1)
}

/// Removes the surrounding quotes and resolves quoted-pairs of a scanned quoted-string.
/// Folded line breaks inside become a single space. Invalid UTF-8 is replaced lossily.
pub fn unquote(s: &[u8]) -> String {
    let inner = s
        .strip_prefix(b"\"")
        .and_then(|x| x.strip_suffix(b"\""))
        .unwrap_or(s);
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        match b {
            b'\\' => {
                if let Some(&c) = inner.get(i + 1) {
                    out.push(c);
                }
                i += 2;
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Iterator over the top-level comma-separated elements of a header value; see [`split_list`].
#[derive(Debug, Clone)]
pub struct SplitList {
    value: Bytes,
    pos: usize,
    done: bool,
}

impl Iterator for SplitList {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let s = self.value.as_ref();
        let start = self.pos;
        let mut i = start;
        let mut angle = false;
        let mut quoted = false;
        while let Some(&b) = s.get(i) {
            match b {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b'<' if !quoted => angle = true,
                b'>' if !quoted => angle = false,
                b',' if !quoted && !angle => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(s.len());
        if end >= s.len() {
            self.done = true;
        }
        self.pos = end + 1;
        Some(trim_lws(&self.value.slice(start..end)))
    }
}

/// Splits a header value on commas outside quoted strings and `<...>`, yielding each element
/// with its linear whitespace trimmed. Empty elements (`a,,b`, or an empty value) are yielded as
/// empty `Bytes`; callers reject them.
pub fn split_list(value: &Bytes) -> SplitList {
    SplitList {
        value: value.clone(),
        pos: 0,
        done: false,
    }
}

/// Parses `1*DIGIT` (the whole slice) into a `u64`; `None` on non-digits or overflow.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Parses `1*DIGIT` into a `u32`, saturating at `u32::MAX` on overflow; `None` on non-digits.
pub fn parse_u32_saturating(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(parse_u64(s).map_or(u32::MAX, |v| u32::try_from(v).unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn token_classes() {
        assert!(is_token(b"!interesting-Method0123456789_*+`.%indeed'~"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a,b"));
        assert!(WORD[usize::from(b'{')] && !TOKEN[usize::from(b'{')]);
        assert!(is_escaped_run(b"null-%00-null", &USER));
        assert!(!is_escaped_run(b"bad%4", &USER));
        assert!(!is_escaped_run(b"bad%zz", &USER));
    }

    #[test]
    fn lws_skipping_and_trimming() {
        let s = b"a \t\r\n  b\r\nc";
        assert_eq!(skip_lws(s, 1), 7);
        assert_eq!(skip_lws(s, 8), 8, "CRLF not followed by WSP is not LWS");
        assert_eq!(trim_lws(&b(" \r\n x y \t")), b("x y"));
        assert_eq!(trim_lws(&b("   ")), b(""));
    }

    #[test]
    fn quoted_strings() {
        let s = br#""J Rosenberg \\\"" <x>"#;
        assert_eq!(scan_quoted(s, 0), Ok(18));
        assert_eq!(unquote(&s[..18]), "J Rosenberg \\\"");
        assert!(scan_quoted(b"\"Mr. J. User <sip:j@x>", 0).is_err());
        assert!(scan_quoted(b"\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\"", 0).is_ok());
        assert!(scan_quoted(b"\"a\\\nb\"", 0).is_err());
        assert!(scan_quoted("\"\u{0440}\u{0430}\"".as_bytes(), 0).is_ok());
        assert!(scan_quoted(b"\"\xff\"", 0).is_err());
        assert!(scan_quoted(b"\"a\r\n b\"", 0).is_ok());
        assert!(scan_quoted(b"\"a\r\nb\"", 0).is_err());
    }

    #[test]
    fn list_splitting() {
        let v = b(r#""Bell, A" <sip:a@b>;p="x,y" , <sip:c,d@e>,,"#);
        let parts: Vec<Bytes> = split_list(&v).collect();
        assert_eq!(
            parts,
            vec![
                b(r#""Bell, A" <sip:a@b>;p="x,y""#),
                b("<sip:c,d@e>"),
                b(""),
                b("")
            ]
        );
        assert_eq!(split_list(&b("")).collect::<Vec<_>>(), vec![b("")]);
        assert_eq!(split_list(&b("a")).count(), 1);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0068"), Some(68));
        assert_eq!(parse_u64(b"36893488147419103232"), None);
        assert_eq!(parse_u32_saturating(b"280297596632815"), Some(u32::MAX));
        assert_eq!(parse_u32_saturating(b"12a"), None);
        assert_eq!(parse_u32_saturating(b""), None);
    }
}
