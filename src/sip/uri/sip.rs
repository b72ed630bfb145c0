//! `sip:` and `sips:` URIs (pure): RFC 3261 §19.1.1 and §25.1 `SIP-URI` / `SIPS-URI`.
//!
//! `userinfo` is split from `hostport` at the *last* `@`: no part after the userinfo (host,
//! port, `uri-parameters`, `headers`) may contain an unescaped `@`, while the user part may
//! contain `;`, `?`, `/` and more (RFC 4475 `intmeth`, `semiuri`). Escapes
//! are validated but never decoded.

use super::host::{Host, parse_hostport};
use crate::sip::error::SyntaxError;
use crate::sip::header::Params;
use crate::sip::scan::{self, HEADERS, PASSWORD, USER};
use bytes::{BufMut, Bytes, BytesMut};

/// A `sip:` or `sips:` URI. Components are verbatim slices of the parsed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `true` for `sips:`.
    pub secure: bool,
    /// The scheme as spelled (`sip`, `SIPS`, ...), printed verbatim; agrees with `secure`.
    pub scheme: Bytes,
    /// The user part, raw (escapes kept).
    pub user: Option<Bytes>,
    /// The password, raw (escapes kept); may be empty when a `:` follows the user.
    pub password: Option<Bytes>,
    /// The host.
    pub host: Host,
    /// The port, if given.
    pub port: Option<u16>,
    /// `uri-parameters` (transport, user, method, ttl, maddr, lr, others).
    pub params: Params,
    /// The `headers` component after `?`, raw, without the `?`.
    pub headers: Option<Bytes>,
}

impl SipUri {
    /// A `sip:` URI for `host` and `port`, with no user, parameters or headers.
    pub fn new(host: Host, port: Option<u16>) -> Self {
        SipUri {
            secure: false,
            scheme: Bytes::from_static(b"sip"),
            user: None,
            password: None,
            host,
            port,
            params: Params::new(),
            headers: None,
        }
    }

    /// A `sips:` URI for `host` and `port`.
    pub fn new_secure(host: Host, port: Option<u16>) -> Self {
        let mut u = Self::new(host, port);
        u.set_secure(true);
        u
    }

    /// Switches between `sip:` and `sips:` (the scheme is respelled in lower case).
    pub fn set_secure(&mut self, secure: bool) {
        self.secure = secure;
        self.scheme = Bytes::from_static(if secure { b"sips" } else { b"sip" });
    }

    /// Sets or clears the user part (raw, already escaped). Clearing it clears the password.
    pub fn set_user(&mut self, user: Option<Bytes>) {
        if user.is_none() {
            self.password = None;
        }
        self.user = user;
    }

    /// The URI parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The URI parameters, for rewriting.
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// The `transport` parameter value.
    pub fn transport(&self) -> Option<&Bytes> {
        self.params.value("transport")
    }

    /// The `maddr` parameter value.
    pub fn maddr(&self) -> Option<&Bytes> {
        self.params.value("maddr")
    }

    /// Whether the `lr` parameter is present (loose routing, RFC 3261 §19.1.1).
    pub fn lr(&self) -> bool {
        self.params.contains("lr")
    }

    /// The `user` parameter value (e.g. `phone`).
    pub fn user_param(&self) -> Option<&Bytes> {
        self.params.value("user")
    }

    /// Parses the part after `scheme:`; `rest` starts at offset `at` of the whole URI (for
    /// error offsets).
    pub(crate) fn parse_rest(
        scheme: Bytes,
        secure: bool,
        rest: &Bytes,
        at: usize,
    ) -> Result<SipUri, SyntaxError> {
        let s = rest.as_ref();
        let err = |what, i: usize| SyntaxError::new(what, at + i);
        let (user, password, hp_start) = match s.iter().rposition(|&b| b == b'@') {
            Some(pos) => {
                let ui = s.get(..pos).unwrap_or_default();
                let (u, p) = match ui.iter().position(|&b| b == b':') {
                    Some(c) => (ui.get(..c).unwrap_or_default(), Some(c)),
                    None => (ui, None),
                };
                if !scan::is_escaped_run(u, &USER) {
                    return Err(err("uri user", 0));
                }
                let password = match p {
                    Some(c) => {
                        let pw = ui.get(c + 1..).unwrap_or_default();
                        if !pw.is_empty() && !scan::is_escaped_run(pw, &PASSWORD) {
                            return Err(err("uri password", c + 1));
                        }
                        Some(rest.slice(c + 1..pos))
                    }
                    None => None,
                };
                (Some(rest.slice(..u.len())), password, pos + 1)
            }
            None => (None, None, 0),
        };
        let (host, port, mut i) =
            parse_hostport(rest, hp_start, b";?").map_err(|e| err(e.what, e.at))?;
        let q = s
            .get(i..)
            .and_then(|t| t.iter().position(|&b| b == b'?'))
            .map(|p| p + i);
        let params_end = q.unwrap_or(s.len());
        if i < params_end && s.get(i) != Some(&b';') {
            return Err(err("uri hostport", i));
        }
        let params = Params::parse_uri(rest, i, params_end).map_err(|e| err(e.what, e.at))?;
        i = params_end;
        let headers = match q {
            Some(q) => {
                let h = s.get(q + 1..).unwrap_or_default();
                if !scan::is_escaped_run(h, &HEADERS) {
                    return Err(err("uri headers", q + 1));
                }
                Some(rest.slice(q + 1..))
            }
            None if i == s.len() => None,
            None => return Err(err("uri", i)),
        };
        Ok(SipUri {
            secure,
            scheme,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// Writes the URI.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.put_slice(&self.scheme);
        out.put_u8(b':');
        if let Some(u) = &self.user {
            out.put_slice(u);
            if let Some(p) = &self.password {
                out.put_u8(b':');
                out.put_slice(p);
            }
            out.put_u8(b'@');
        }
        self.host.write_to(out);
        if let Some(p) = self.port {
            out.put_u8(b':');
            out.put_slice(p.to_string().as_bytes());
        }
        self.params.write_to(out);
        if let Some(h) = &self.headers {
            out.put_u8(b'?');
            out.put_slice(h);
        }
    }
}
