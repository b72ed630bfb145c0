//! Digest computation (pure): the hash algorithms of RFC 7616 §3.2 / RFC 8760 (MD5, MD5-sess,
//! SHA-256, SHA-256-sess), `A1`, `A2`, `KD` and `response` of RFC 7616 §3.4.1–§3.4.3 (RFC 2617
//! §3.2.2, with the RFC 2069 form when the challenge has no `qop`), the hashed username of
//! RFC 7616 §3.4.4, and the `Authorization` / `Proxy-Authorization` value of RFC 7616 §3.4 and
//! RFC 3261 §22.4. The caller supplies the client nonce and the nonce count.

use std::fmt::Write as _;

use md5::{Digest as _, Md5};

use super::challenge::{DigestChallenge, Qop};
use super::{AuthError, Credentials};

/// A Digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5` (RFC 2617; the default when a challenge names none).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl Algorithm {
    /// Parses an `algorithm` value, case-insensitively; `None` for algorithms not supported
    /// (such as `SHA-512-256`).
    pub fn parse(name: &str) -> Option<Algorithm> {
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }

    /// The name as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Whether `A1` includes the nonces (the `-sess` variants).
    pub fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Preference when a server offers several: higher is stronger.
    pub fn strength(self) -> u8 {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
        }
    }

    /// `H(data)` as lower-case hex.
    pub fn hash_hex(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => {
                hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
            }
        }
    }
}

/// What is being authorized: the request's method, Request-URI and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestInfo<'a> {
    /// The method name (`INVITE`, `REGISTER`...).
    pub method: &'a str,
    /// The Request-URI as it will be sent; it is also the `uri` parameter.
    pub uri: &'a str,
    /// The body, hashed only for `qop=auth-int`.
    pub body: &'a [u8],
}

/// The client's side of one answer: client nonce and nonce count (RFC 7616 §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientNonce<'a> {
    /// The `cnonce` value (printable, no quotes).
    pub cnonce: &'a str,
    /// The `nc` value: how many times this nonce has been used, starting at 1.
    pub nc: u32,
}

/// The `response` value for `challenge` (RFC 7616 §3.4.1).
pub fn response(
    challenge: &DigestChallenge,
    credentials: &Credentials,
    request: &RequestInfo<'_>,
    client: &ClientNonce<'_>,
) -> String {
    let alg = challenge.algorithm;
    let mut ha1 = alg.hash_hex(
        format!(
            "{}:{}:{}",
            credentials.username, challenge.realm, credentials.password
        )
        .as_bytes(),
    );
    if alg.is_session() {
        ha1 = alg.hash_hex(format!("{ha1}:{}:{}", challenge.nonce, client.cnonce).as_bytes());
    }
    let a2 = match challenge.qop {
        Some(Qop::AuthInt) => format!(
            "{}:{}:{}",
            request.method,
            request.uri,
            alg.hash_hex(request.body)
        ),
        Some(Qop::Auth) | None => format!("{}:{}", request.method, request.uri),
    };
    let ha2 = alg.hash_hex(a2.as_bytes());
    let kd_data = match challenge.qop {
        Some(qop) => format!(
            "{}:{:08x}:{}:{}:{ha2}",
            challenge.nonce,
            client.nc,
            client.cnonce,
            qop.as_str()
        ),
        None => format!("{}:{ha2}", challenge.nonce),
    };
    alg.hash_hex(format!("{ha1}:{kd_data}").as_bytes())
}

/// The `Authorization` / `Proxy-Authorization` field value answering `challenge`. Fails if a
/// value to be quoted contains a control character.
pub fn authorization(
    challenge: &DigestChallenge,
    credentials: &Credentials,
    request: &RequestInfo<'_>,
    client: &ClientNonce<'_>,
) -> Result<String, AuthError> {
    let alg = challenge.algorithm;
    let username = if challenge.userhash {
        alg.hash_hex(format!("{}:{}", credentials.username, challenge.realm).as_bytes())
    } else {
        credentials.username.clone()
    };
    let mut out = String::from("Digest ");
    push_quoted(&mut out, "username", &username)?;
    out.push_str(", ");
    push_quoted(&mut out, "realm", &challenge.realm)?;
    out.push_str(", ");
    push_quoted(&mut out, "nonce", &challenge.nonce)?;
    out.push_str(", ");
    push_quoted(&mut out, "uri", request.uri)?;
    out.push_str(", ");
    push_quoted(
        &mut out,
        "response",
        &response(challenge, credentials, request, client),
    )?;
    let _ = write!(out, ", algorithm={}", alg.as_str());
    if let Some(qop) = challenge.qop {
        out.push_str(", ");
        push_quoted(&mut out, "cnonce", client.cnonce)?;
        let _ = write!(out, ", qop={}, nc={:08x}", qop.as_str(), client.nc);
    }
    if let Some(opaque) = &challenge.opaque {
        out.push_str(", ");
        push_quoted(&mut out, "opaque", opaque)?;
    }
    if challenge.userhash {
        out.push_str(", userhash=true");
    }
    Ok(out)
}

/// Lower-case hex of `bytes` (also how a random client nonce is spelled).
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Appends `name="value"`, escaping `"` and `\` (RFC 3261 §25.1 `quoted-pair`).
fn push_quoted(out: &mut String, name: &'static str, value: &str) -> Result<(), AuthError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(AuthError::InvalidCharacter(name));
    }
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(())
}
