//! Challenge parsing (pure): the `WWW-Authenticate` / `Proxy-Authenticate` grammar of RFC 7235
//! §2.1 and §4.1 (`challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`, several
//! challenges per field value and per field), RFC 3261 §25.1 `challenge`, and the Digest
//! parameters of RFC 7616 §3.3 (RFC 2617 §3.2.1): `realm`, `nonce`, `opaque`, `algorithm`,
//! `qop`, `stale`, `userhash`.
//!
//! Parameter names compare case-insensitively; values may be tokens or quoted strings. Challenges
//! of other schemes (`Basic`, `Negotiate`, ...) are parsed only so they can be skipped.

use super::AuthError;
use super::digest::Algorithm;
use crate::sip::error::SyntaxError;
use crate::sip::scan;

/// One challenge of any scheme, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChallenge {
    /// The auth-scheme as spelled (`Digest`, `digest`, `Basic`...).
    pub scheme: String,
    /// `auth-param`s in order: lower-cased name, unquoted value.
    pub params: Vec<(String, String)>,
    /// The `token68` form, if used instead of parameters.
    pub token68: Option<String>,
}

impl AuthChallenge {
    /// The first value of parameter `name` (lower case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The quality of protection chosen for the answer (RFC 7616 §3.3 `qop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qop {
    /// Authentication only.
    Auth,
    /// Authentication with integrity protection of the body.
    AuthInt,
}

impl Qop {
    /// The token as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// A usable Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    /// The protection space.
    pub realm: String,
    /// The server nonce.
    pub nonce: String,
    /// Opaque data to echo, if any.
    pub opaque: Option<String>,
    /// The hash algorithm (absent means MD5).
    pub algorithm: Algorithm,
    /// The qop to answer with: `auth` whenever offered, else `auth-int`; `None` when the
    /// challenge has no `qop` (RFC 2069 compatibility, RFC 2617 §3.2.2.1).
    pub qop: Option<Qop>,
    /// `stale=true`: the previous answer was rejected only because its nonce expired.
    pub stale: bool,
    /// `userhash=true`: send the username hashed (RFC 7616 §3.4.4).
    pub userhash: bool,
}

impl DigestChallenge {
    /// Reads a Digest challenge's parameters; fails if it is not `Digest`, lacks `realm` or
    /// `nonce`, or asks for an algorithm or qop this client cannot answer.
    pub fn from_challenge(challenge: &AuthChallenge) -> Result<DigestChallenge, AuthError> {
        if !challenge.scheme.eq_ignore_ascii_case("digest") {
            return Err(AuthError::NoDigestChallenge);
        }
        let realm = challenge
            .param("realm")
            .ok_or(AuthError::MissingParam("realm"))?;
        let nonce = challenge
            .param("nonce")
            .ok_or(AuthError::MissingParam("nonce"))?;
        let algorithm = match challenge.param("algorithm") {
            None => Algorithm::Md5,
            Some(name) => Algorithm::parse(name)
                .ok_or_else(|| AuthError::UnsupportedAlgorithm(name.to_owned()))?,
        };
        let qop = match challenge.param("qop") {
            None => None,
            Some(list) => {
                let offered: Vec<String> = list
                    .split(',')
                    .map(|q| q.trim().to_ascii_lowercase())
                    .collect();
                if offered.iter().any(|q| q == "auth") {
                    Some(Qop::Auth)
                } else if offered.iter().any(|q| q == "auth-int") {
                    Some(Qop::AuthInt)
                } else {
                    return Err(AuthError::UnsupportedQop(list.to_owned()));
                }
            }
        };
        let flag = |name| {
            challenge
                .param(name)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        };
        Ok(DigestChallenge {
            realm: realm.to_owned(),
            nonce: nonce.to_owned(),
            opaque: challenge.param("opaque").map(str::to_owned),
            algorithm,
            qop,
            stale: flag("stale"),
            userhash: flag("userhash"),
        })
    }
}

/// Parses every challenge in the given header field values (all `WWW-Authenticate` or all
/// `Proxy-Authenticate` fields of one response, in order).
pub fn parse_challenges<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<AuthChallenge>, SyntaxError> {
    let mut out = Vec::new();
    for value in values {
        parse_value(value, &mut out)?;
    }
    Ok(out)
}

/// Picks the strongest usable Digest challenge: SHA-256 over MD5, the first among equals (the
/// server lists its preference first, RFC 7616 §3.7). If none is usable, the first reason why.
pub fn select(challenges: &[AuthChallenge]) -> Result<DigestChallenge, AuthError> {
    let mut best: Option<DigestChallenge> = None;
    let mut first_error = None;
    for challenge in challenges {
        match DigestChallenge::from_challenge(challenge) {
            Ok(digest) => {
                if best
                    .as_ref()
                    .is_none_or(|b| digest.algorithm.strength() > b.algorithm.strength())
                {
                    best = Some(digest);
                }
            }
            Err(AuthError::NoDigestChallenge) => {}
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    best.ok_or(first_error.unwrap_or(AuthError::NoDigestChallenge))
}

/// Parses one field value, appending its challenges.
fn parse_value(s: &[u8], out: &mut Vec<AuthChallenge>) -> Result<(), SyntaxError> {
    let mut i = 0;
    loop {
        i = skip_separators(s, i);
        if i >= s.len() {
            return Ok(());
        }
        let name_end = token_end(s, i);
        if name_end == i {
            return Err(SyntaxError::new("auth-scheme or auth-param", i));
        }
        let name = lossy(s.get(i..name_end).unwrap_or_default());
        let after = skip_ws(s, name_end);
        let is_param = s.get(after) == Some(&b'=') && !out.is_empty() && {
            // `x=` followed by a value is a parameter; `x==` or `x=` at the end is token68.
            let v = skip_ws(s, after + 1);
            !matches!(s.get(v), None | Some(b',' | b'='))
        };
        if is_param {
            let v = skip_ws(s, after + 1);
            let (value, end) = if s.get(v) == Some(&b'"') {
                let end = scan::scan_quoted(s, v)?;
                (scan::unquote(s.get(v..end).unwrap_or_default()), end)
            } else {
                let end = token_end(s, v);
                if end == v {
                    return Err(SyntaxError::new("auth-param value", v));
                }
                (lossy(s.get(v..end).unwrap_or_default()), end)
            };
            if let Some(current) = out.last_mut() {
                current.params.push((name.to_ascii_lowercase(), value));
            }
            i = expect_separator(s, end)?;
            continue;
        }
        // A new challenge: the scheme, then maybe a token68.
        let mut challenge = AuthChallenge {
            scheme: name,
            params: Vec::new(),
            token68: None,
        };
        let t = skip_ws(s, name_end);
        let token68 = if t > name_end {
            token68_end(s, t)
        } else {
            None
        };
        if let Some(end) = token68 {
            challenge.token68 = Some(lossy(s.get(t..end).unwrap_or_default()));
            out.push(challenge);
            i = expect_separator(s, end)?;
            continue;
        }
        out.push(challenge);
        i = if t > name_end || t >= s.len() {
            t
        } else {
            expect_separator(s, t)?
        };
    }
}

/// If a `token68` starts at `i` and is followed by the end or a comma, its end.
fn token68_end(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while s
        .get(j)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    {
        j += 1;
    }
    if j == i {
        return None;
    }
    while s.get(j) == Some(&b'=') {
        j += 1;
    }
    let k = skip_ws(s, j);
    matches!(s.get(k), None | Some(b',')).then_some(j)
}

fn token_end(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(|&b| scan::is_token_char(b)) {
        i += 1;
    }
    i
}

/// After an element: optional whitespace, then a comma or the end.
fn expect_separator(s: &[u8], i: usize) -> Result<usize, SyntaxError> {
    let j = skip_ws(s, i);
    match s.get(j) {
        None | Some(b',') => Ok(j),
        Some(_) => Err(SyntaxError::new("auth-param separator", j)),
    }
}

/// Skips whitespace, folded lines (RFC 3261 §25.1 `LWS`) and bare line breaks alike.
fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(|b| b" \t\r\n".contains(b)) {
        i += 1;
    }
    i
}

fn skip_separators(s: &[u8], mut i: usize) -> usize {
    loop {
        let j = skip_ws(s, i);
        if s.get(j) == Some(&b',') {
            i = j + 1;
        } else {
            return j;
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
