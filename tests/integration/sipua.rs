//! A tiny scripted SIP user agent for the subscription and messaging tests (shell, real
//! loopback sockets): builds requests and responses as text, sends them over UDP or one TCP
//! connection, and waits for the next request of a method or the next final response,
//! answering nothing on its own.

use crate::harness;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::client::TlsStream;

/// How long a test waits for one message before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// The first value of header `name` (long or `short` compact form), trimmed.
pub fn header(msg: &str, name: &str) -> Option<String> {
    let head = msg.split("\r\n\r\n").next().unwrap_or(msg);
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

/// The `tag` parameter of a From/To value.
pub fn tag(value: &str) -> Option<String> {
    value
        .split(';')
        .skip(1)
        .find_map(|p| p.trim().strip_prefix("tag=").map(str::to_owned))
}

/// The URI inside `<...>` of a Contact/From/To value.
pub fn uri(value: &str) -> String {
    let start = value.find('<').map_or(0, |i| i + 1);
    let end = value[start..].find('>').map_or(value.len(), |i| start + i);
    value[start..end].to_owned()
}

/// The body of a message.
pub fn body(msg: &str) -> &str {
    msg.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A response `code` to `request` with To tag `to_tag` (when the To has none) and `extra`
/// header lines (each ending in CRLF).
pub fn respond(request: &str, code: u16, to_tag: &str, extra: &str) -> String {
    let head = request.split("\r\n\r\n").next().unwrap_or(request);
    let mut out = format!("SIP/2.0 {code} Whatever\r\n");
    for line in head.split("\r\n").skip(1) {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => {
                out.push_str(line);
                out.push_str("\r\n");
            }
            "to" | "t" if !line.contains("tag=") => {
                out.push_str(&format!("{line};tag={to_tag}\r\n"));
            }
            "to" | "t" => {
                out.push_str(line);
                out.push_str("\r\n");
            }
            _ => {}
        }
    }
    out.push_str(extra);
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

/// A request; `via` is `TRANSPORT host:port`, `to_tag` empty outside a dialog.
#[allow(clippy::too_many_arguments)] // one request's header values
pub fn request(
    method: &str,
    uri: &str,
    via: &str,
    call_id: &str,
    from: &str,
    to: &str,
    cseq: u32,
    extra: &str,
    body: &str,
) -> String {
    let branch = format!("z9hG4bK-{call_id}-{cseq}-{method}").replace('@', ".");
    format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/{via};branch={branch};rport\r\nMax-Forwards: 70\r\n\
         From: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n{extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// One side's socket: UDP, or one TCP connection.
pub enum Flow {
    /// A UDP socket and where it sends.
    Udp(UdpSocket, SocketAddr),
    /// A TCP connection and bytes read beyond the last message.
    Tcp(TcpStream, Vec<u8>),
    /// A TLS connection and bytes read beyond the last message.
    Tls(Box<TlsStream<TcpStream>>, Vec<u8>),
}

/// A scripted user agent.
pub struct Ua {
    /// Its socket.
    pub flow: Flow,
    /// Its own address (for Via and Contact).
    pub local: SocketAddr,
}

impl Ua {
    /// A UA on a fresh UDP port sending to `to`.
    pub async fn udp(to: SocketAddr) -> Ua {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let local = socket.local_addr().unwrap();
        Ua {
            flow: Flow::Udp(socket, to),
            local,
        }
    }

    /// A UA on an already bound UDP socket sending to `to`.
    pub fn udp_on(socket: UdpSocket, to: SocketAddr) -> Ua {
        let local = socket.local_addr().unwrap();
        Ua {
            flow: Flow::Udp(socket, to),
            local,
        }
    }

    /// A UA on a new TCP connection to `to`.
    pub async fn tcp(to: SocketAddr) -> Ua {
        let stream = harness::tcp(to).await;
        let local = stream.local_addr().unwrap();
        Ua {
            flow: Flow::Tcp(stream, Vec::new()),
            local,
        }
    }

    /// A UA on a new TLS connection to `to` (trusting the development CA).
    pub async fn tls(to: SocketAddr) -> Ua {
        let stream = harness::tls(to).await;
        let local = stream.get_ref().0.local_addr().unwrap();
        Ua {
            flow: Flow::Tls(Box::new(stream), Vec::new()),
            local,
        }
    }

    /// `UDP host:port`, `TCP host:port` or `TLS host:port` for a Via.
    pub fn via(&self) -> String {
        match self.flow {
            Flow::Udp(..) => format!("UDP {}", self.local),
            Flow::Tcp(..) => format!("TCP {}", self.local),
            Flow::Tls(..) => format!("TLS {}", self.local),
        }
    }

    /// Sends `text`.
    pub async fn send(&mut self, text: &str) {
        match &mut self.flow {
            Flow::Udp(socket, to) => {
                socket.send_to(text.as_bytes(), *to).await.unwrap();
            }
            Flow::Tcp(stream, _) => stream.write_all(text.as_bytes()).await.unwrap(),
            Flow::Tls(stream, _) => stream.write_all(text.as_bytes()).await.unwrap(),
        }
    }

    /// The next message, or `None` after [`WAIT`].
    pub async fn next(&mut self) -> Option<String> {
        let data = match &mut self.flow {
            Flow::Udp(socket, _) => {
                let mut buf = vec![0u8; 65_535];
                let (n, _) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf))
                    .await
                    .ok()?
                    .ok()?;
                buf.truncate(n);
                buf
            }
            Flow::Tcp(stream, buf) => harness::read_buffered(stream, buf, WAIT).await?,
            Flow::Tls(stream, buf) => harness::read_buffered(stream.as_mut(), buf, WAIT).await?,
        };
        Some(String::from_utf8_lossy(&data).into_owned())
    }

    /// The next request with `method` (other messages, such as retransmissions, are skipped).
    pub async fn expect_request(&mut self, method: &str) -> String {
        for _ in 0..20 {
            let msg = self
                .next()
                .await
                .unwrap_or_else(|| panic!("no {method} arrived"));
            if msg.starts_with(&format!("{method} ")) {
                return msg;
            }
        }
        panic!("no {method} among 20 messages")
    }

    /// The next final response (provisionals and requests are skipped).
    pub async fn expect_final(&mut self) -> String {
        for _ in 0..20 {
            let msg = self.next().await.expect("no final response arrived");
            if msg.starts_with("SIP/2.0 ") && !msg.starts_with("SIP/2.0 1") {
                return msg;
            }
        }
        panic!("no final response among 20 messages")
    }
}

/// The status code of a response text.
pub fn code(response: &str) -> u16 {
    harness::status(response.as_bytes()).unwrap_or(0)
}
