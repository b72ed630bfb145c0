//! Message framing and structural parsing (pure): RFC 3261 §7 (message format), §7.3.1 (header
//! folding), §7.5 (CRLFs before the start line), §18.3 (Content-Length framing on streams) and
//! RFC 5626 §3.5.1 (double-CRLF keep-alive). Two steps, as in mini-redis: first *is a whole
//! message here?*, then *parse it*; *incomplete* (wait for bytes) is never confused with
//! *invalid* (answer and/or close).
//!
//! Structural parsing only splits the start line, header fields and body and enforces
//! [`Limits`]; the semantic checks that need typed headers live in [`crate::sip::validate`].
//! Line endings must be CRLF: a bare CR or LF is invalid, so no two parsers on the path can
//! disagree about where a header ends.

use crate::sip::error::ParseError;
use crate::sip::header::HeaderName;
use crate::sip::limits::Limits;
use crate::sip::message::{Header, Headers, Message, RequestLine, StartLine, StatusLine};
use crate::sip::method::Method;
use crate::sip::scan;
use bytes::{Bytes, BytesMut};
use memchr::memmem;

/// A message that could not be accepted, with as much of it as could be parsed: the head (start
/// line and the well-formed header fields, empty body) is what an error response is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    /// Why the message was refused.
    pub error: ParseError,
    /// The parsed head, when the start line was readable.
    pub head: Option<Box<Message>>,
}

impl ParseFailure {
    fn bare(error: ParseError) -> ParseFailure {
        ParseFailure { error, head: None }
    }

    fn with_head(error: ParseError, start: StartLine, headers: Headers) -> ParseFailure {
        ParseFailure {
            error,
            head: Some(Box::new(Message {
                start,
                headers,
                body: Bytes::new(),
            })),
        }
    }
}

/// Parses one UDP datagram. Leading CRLFs are skipped (§7.5); without `Content-Length` the body
/// is the rest of the datagram (§18.3); bytes beyond `Content-Length` are ignored; a
/// `Content-Length` larger than what arrived is invalid.
pub fn parse_datagram(buf: Bytes, limits: &Limits) -> Result<Message, ParseFailure> {
    let skip = leading_crlfs(&buf);
    let data = buf.slice(skip..);
    let (head_len, body_start) = match memmem::find(&data, b"\r\n\r\n") {
        Some(pos) => (pos + 2, pos + 4),
        // A datagram that ends right after its last header line has an empty body.
        None if data.ends_with(b"\r\n") => (data.len(), data.len()),
        None => return Err(ParseFailure::bare(ParseError::BadStartLine)),
    };
    let (start, headers) = parse_head(data.slice(..head_len), limits)?;
    if buf.len() > limits.max_message_bytes {
        return Err(ParseFailure::with_head(
            ParseError::MessageTooLarge(buf.len()),
            start,
            headers,
        ));
    }
    let rest = data.slice(body_start.min(data.len())..);
    let body_len = match content_length(&headers) {
        Ok(Some(len)) if len <= rest.len() => len,
        Ok(None) => rest.len(),
        Ok(Some(_)) | Err(()) => {
            return Err(ParseFailure::with_head(
                ParseError::BadContentLength,
                start,
                headers,
            ));
        }
    };
    if body_len > limits.max_body_bytes {
        return Err(ParseFailure::with_head(
            ParseError::BodyTooLarge(body_len),
            start,
            headers,
        ));
    }
    Ok(Message {
        start,
        headers,
        body: rest.slice(..body_len),
    })
}

/// What a stream yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole message.
    Message(Message),
    /// An RFC 5626 keep-alive ping (`CRLF CRLF`): answer with a single `CRLF`.
    Ping,
    /// An RFC 5626 pong (`CRLF`) answering a ping this side sent.
    Pong,
}

/// Incremental framer for one TCP/TLS connection. Feed bytes with [`Framer::extend`], take
/// frames with [`Framer::next_frame`]. After an error the stream's framing is lost: the caller
/// answers from [`ParseFailure::head`] if it can, then closes the connection.
#[derive(Debug)]
pub struct Framer {
    buf: BytesMut,
    limits: Limits,
    /// Bytes already searched for the end of the head without finding it.
    scanned: usize,
    /// A parsed head waiting for its body: start line, headers, body length.
    pending: Option<(StartLine, Headers, usize)>,
    awaiting_pong: bool,
}

impl Framer {
    /// A framer enforcing `limits`.
    pub fn new(limits: Limits) -> Framer {
        Framer {
            buf: BytesMut::with_capacity(4096),
            limits,
            scanned: 0,
            pending: None,
            awaiting_pong: false,
        }
    }

    /// Appends received bytes.
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The receive buffer, for reading from a socket straight into it.
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes received but not yet framed (bounded by the limits).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Tells the framer this side sent a ping, so a lone `CRLF` is read as its pong.
    pub fn expect_pong(&mut self) {
        self.awaiting_pong = true;
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ParseFailure> {
        if let Some((_, _, body_len)) = &self.pending {
            if self.buf.len() < *body_len {
                return Ok(None);
            }
            let (start, headers, body_len) = self.pending.take().unwrap_or_else(|| unreachable!());
            let body = self.buf.split_to(body_len).freeze();
            return Ok(Some(Frame::Message(Message {
                start,
                headers,
                body,
            })));
        }
        if let Some(frame) = self.keepalive() {
            return Ok(Some(frame));
        }
        let leading = leading_crlfs(&self.buf);
        if leading > 0 && leading == self.buf.len() {
            return Ok(None);
        }
        let from = self.scanned.max(leading);
        let Some(pos) = memmem::find(&self.buf[from..], b"\r\n\r\n").map(|p| p + from) else {
            self.scanned = self.buf.len().saturating_sub(3);
            return self.check_unterminated_head().map(|()| None);
        };
        let _ = self.buf.split_to(leading);
        let head_end = pos - leading;
        let head = self
            .buf
            .split_to(head_end + 4)
            .freeze()
            .slice(..head_end + 2);
        self.scanned = 0;
        let (start, headers) = parse_head(head.clone(), &self.limits)?;
        let body_len = match content_length(&headers) {
            Ok(Some(len)) => len,
            Ok(None) => {
                return Err(ParseFailure::with_head(
                    ParseError::MissingContentLength,
                    start,
                    headers,
                ));
            }
            Err(()) => {
                return Err(ParseFailure::with_head(
                    ParseError::BadContentLength,
                    start,
                    headers,
                ));
            }
        };
        let error = if body_len > self.limits.max_body_bytes {
            Some(ParseError::BodyTooLarge(body_len))
        } else if head.len() + 2 + body_len > self.limits.max_message_bytes {
            Some(ParseError::MessageTooLarge(head.len() + 2 + body_len))
        } else {
            None
        };
        if let Some(error) = error {
            return Err(ParseFailure::with_head(error, start, headers));
        }
        self.pending = Some((start, headers, body_len));
        self.next_frame()
    }

    /// Recognises RFC 5626 keep-alives at the front of the buffer.
    fn keepalive(&mut self) -> Option<Frame> {
        if self.buf.starts_with(b"\r\n\r\n") {
            let _ = self.buf.split_to(4);
            return Some(Frame::Ping);
        }
        let lone_crlf = self.buf.starts_with(b"\r\n")
            && (self.buf.len() == 2 || self.buf.get(2).is_some_and(|b| *b != b'\r'));
        if self.awaiting_pong && lone_crlf {
            let _ = self.buf.split_to(2);
            self.awaiting_pong = false;
            return Some(Frame::Pong);
        }
        None
    }

    /// Refuses a head that can no longer become valid: too long overall or in its first line.
    fn check_unterminated_head(&self) -> Result<(), ParseFailure> {
        if self.buf.len() > self.limits.max_message_bytes {
            return Err(ParseFailure::bare(ParseError::MessageTooLarge(
                self.buf.len(),
            )));
        }
        let leading = leading_crlfs(&self.buf);
        let first_line = &self.buf[leading..];
        let line_len = memchr::memchr(b'\n', first_line).unwrap_or(first_line.len());
        if line_len > self.limits.max_line_bytes {
            return Err(ParseFailure::bare(ParseError::LineTooLong));
        }
        Ok(())
    }
}

fn leading_crlfs(buf: &[u8]) -> usize {
    let mut i = 0;
    while buf.len() >= i + 2 && &buf[i..i + 2] == b"\r\n" {
        i += 2;
    }
    i
}

/// Parses a head: the start line and header lines, each ending in CRLF (the blank line that
/// ends the head is not included).
pub fn parse_head(head: Bytes, limits: &Limits) -> Result<(StartLine, Headers), ParseFailure> {
    let mut lines = Lines::new(&head);
    let Some(first) = lines.next() else {
        return Err(ParseFailure::bare(ParseError::BadStartLine));
    };
    let (first_start, first_end) =
        first.map_err(|_| ParseFailure::bare(ParseError::BadStartLine))?;
    if first_end - first_start > limits.max_line_bytes {
        return Err(ParseFailure::bare(ParseError::LineTooLong));
    }
    let start = parse_start_line(head.slice(first_start..first_end)).map_err(ParseFailure::bare)?;
    let mut headers = Headers::with_capacity(16);
    let mut error: Option<ParseError> = None;
    // (start, end) of the logical header being accumulated across folded lines.
    let mut current: Option<(usize, usize)> = None;
    let flush = |span: (usize, usize), headers: &mut Headers, error: &mut Option<ParseError>| {
        if error.is_some() {
            return;
        }
        if span.1 - span.0 > limits.max_line_bytes {
            *error = Some(ParseError::LineTooLong);
        } else if headers.len() >= limits.max_headers {
            *error = Some(ParseError::TooManyHeaders);
        } else {
            match parse_header(&head, span) {
                Some(h) => headers.push(h),
                None => *error = Some(ParseError::BadHeaderLine(span.0)),
            }
        }
    };
    for line in lines {
        let Ok((s, e)) = line else {
            error.get_or_insert(ParseError::BadHeaderLine(head.len()));
            break;
        };
        let folded = matches!(head.get(s), Some(b' ' | b'\t'));
        match (&mut current, folded) {
            (Some(span), true) => span.1 = e,
            (None, true) => {
                error.get_or_insert(ParseError::BadHeaderLine(s));
            }
            (cur, false) => {
                if let Some(span) = cur.take() {
                    flush(span, &mut headers, &mut error);
                }
                *cur = Some((s, e));
            }
        }
        if error.is_some() {
            break;
        }
    }
    if let Some(span) = current {
        flush(span, &mut headers, &mut error);
    }
    match error {
        None => Ok((start, headers)),
        Some(e) => Err(ParseFailure::with_head(e, start, headers)),
    }
}

/// Iterates over CRLF-terminated lines as `(start, end)` offsets excluding the CRLF; yields
/// `Err` for a bare CR or LF, or a final line without CRLF.
struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Lines { buf, pos: 0 }
    }
}

impl Iterator for Lines<'_> {
    type Item = Result<(usize, usize), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let start = self.pos;
        let Some(lf) = memchr::memchr(b'\n', rest) else {
            self.pos = self.buf.len();
            return Some(Err(()));
        };
        self.pos += lf + 1;
        if lf == 0 || rest[lf - 1] != b'\r' || memchr::memchr(b'\r', &rest[..lf - 1]).is_some() {
            return Some(Err(()));
        }
        Some(Ok((start, start + lf - 1)))
    }
}

fn parse_start_line(line: Bytes) -> Result<StartLine, ParseError> {
    let trimmed_len = line.len()
        - line
            .iter()
            .rev()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
    let line = line.slice(..trimmed_len);
    if line.len() > 4 && line[..4].eq_ignore_ascii_case(b"SIP/") {
        return parse_status_line(line);
    }
    let sp1 = memchr::memchr(b' ', &line).ok_or(ParseError::BadStartLine)?;
    let sp2 = memchr::memrchr(b' ', &line).ok_or(ParseError::BadStartLine)?;
    let method = line.slice(..sp1);
    let version = line.slice(sp2 + 1..);
    if sp2 <= sp1 || !scan::is_token(&method) || !looks_like_version(&version) {
        return Err(ParseError::BadStartLine);
    }
    Ok(StartLine::Request(RequestLine {
        method: Method::from_bytes(&method),
        uri: line.slice(sp1 + 1..sp2),
        version,
    }))
}

fn parse_status_line(line: Bytes) -> Result<StartLine, ParseError> {
    let sp = memchr::memchr(b' ', &line).ok_or(ParseError::BadStartLine)?;
    let version = line.slice(..sp);
    if !looks_like_version(&version) {
        return Err(ParseError::BadStartLine);
    }
    let rest = &line[sp + 1..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits != 3 || !matches!(rest.get(3), None | Some(b' ')) {
        return Err(ParseError::BadStatusCode);
    }
    let code = rest[..3]
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    if !(100..=699).contains(&code) {
        return Err(ParseError::BadStatusCode);
    }
    let reason = line.slice((sp + 5).min(line.len())..);
    Ok(StartLine::Response(StatusLine {
        version,
        code,
        reason,
    }))
}

/// `"SIP" "/" 1*DIGIT "." 1*DIGIT`, "SIP" case-insensitive (RFC 3261 §25.1).
fn looks_like_version(v: &[u8]) -> bool {
    if v.len() < 7 || !v[..4].eq_ignore_ascii_case(b"SIP/") {
        return false;
    }
    let rest = &v[4..];
    let Some(dot) = rest.iter().position(|b| *b == b'.') else {
        return false;
    };
    let (major, minor) = (&rest[..dot], &rest[dot + 1..]);
    !major.is_empty()
        && !minor.is_empty()
        && major.iter().all(u8::is_ascii_digit)
        && minor.iter().all(u8::is_ascii_digit)
}

/// Splits `name HCOLON value` over `head[span]`; `None` when the name is not a token or the
/// colon is missing.
fn parse_header(head: &Bytes, (start, end): (usize, usize)) -> Option<Header> {
    let line = &head[start..end];
    let colon = memchr::memchr(b':', line)?;
    let name_end = colon
        - line[..colon]
            .iter()
            .rev()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
    let name = &line[..name_end];
    if !scan::is_token(name) {
        return None;
    }
    let value = scan::trim_lws(&head.slice(start + colon + 1..end));
    let raw_name = head.slice(start..start + name_end);
    Some(Header {
        name: HeaderName::from_bytes(&raw_name),
        raw_name,
        value,
    })
}

/// The single Content-Length, `Ok(None)` when absent, `Err` when repeated or not 1*DIGIT.
fn content_length(headers: &Headers) -> Result<Option<usize>, ()> {
    let mut values = headers.get_all(HeaderName::ContentLength);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() || value.is_empty() || value.len() > 9 {
        return Err(());
    }
    if !value.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    Ok(Some(
        value
            .iter()
            .fold(0usize, |acc, d| acc * 10 + usize::from(d - b'0')),
    ))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
