//! Message printer (pure): writes a [`Message`] in RFC 3261 §7 wire form. Header values and
//! names are written exactly as stored, so unknown headers and parameters relay byte-exact and
//! `parse(print(m)) == m`. The printer never invents headers: callers that change the body use
//! [`Message::set_body`], which keeps `Content-Length` in step.

use crate::sip::message::{Message, StartLine};
use bytes::{BufMut, Bytes, BytesMut};

impl Message {
    /// Exact number of bytes [`Message::write_to`] produces.
    pub fn encoded_len(&self) -> usize {
        let start = match &self.start {
            StartLine::Request(r) => r.method.as_bytes().len() + r.uri.len() + r.version.len() + 4,
            StartLine::Response(s) => s.version.len() + 5 + s.reason.len() + 2,
        };
        let headers: usize = self
            .headers
            .iter()
            .map(|h| h.raw_name.len() + 2 + h.value.len() + 2)
            .sum();
        start + headers + 2 + self.body.len()
    }

    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        match &self.start {
            StartLine::Request(r) => {
                out.put_slice(r.method.as_bytes());
                out.put_u8(b' ');
                out.put_slice(&r.uri);
                out.put_u8(b' ');
                out.put_slice(&r.version);
            }
            StartLine::Response(s) => {
                out.put_slice(&s.version);
                out.put_u8(b' ');
                let code = [
                    b'0' + (s.code / 100 % 10) as u8,
                    b'0' + (s.code / 10 % 10) as u8,
                    b'0' + (s.code % 10) as u8,
                ];
                out.put_slice(&code);
                out.put_u8(b' ');
                out.put_slice(&s.reason);
            }
        }
        out.put_slice(b"\r\n");
        for h in &self.headers {
            out.put_slice(&h.raw_name);
            out.put_slice(b": ");
            out.put_slice(&h.value);
            out.put_slice(b"\r\n");
        }
        out.put_slice(b"\r\n");
        out.put_slice(&self.body);
    }

    /// The wire form as one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.write_to(&mut out);
        out.freeze()
    }
}

#[cfg(test)]
#[path = "print_tests.rs"]
mod tests;
