//! Test harness (shell): starts the SBC in-process on ephemeral loopback ports and gives tests
//! small SIP clients over UDP, TCP and TLS.

use bytes::Bytes;
use sbc::app::{self, Running};
use sbc::config::{self, Transport};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A configuration like the loopback contract, on ephemeral ports, with `cert_dir` holding
/// `server.crt`/`server.key`, plus `extra` TOML appended (e.g. a `[transport]` table).
pub fn config_text(cert_dir: &Path, extra: &str) -> String {
    config_text_with(cert_dir, extra, "udp:127.0.0.1:5080")
}

/// [`config_text`] with the `pbx` peer at `pbx` (`transport:ip:port`).
pub fn config_text_with(cert_dir: &Path, extra: &str, pbx: &str) -> String {
    let builtin = repo().join("tests/data/policies/builtin");
    config_text_policy(cert_dir, extra, pbx, &builtin)
}

/// [`config_text_with`] with the policy files of `policy_dir`.
pub fn config_text_policy(cert_dir: &Path, extra: &str, pbx: &str, policy_dir: &Path) -> String {
    format!(
        r#"
policy_dir = "{policy}"

[[realms]]
name = "access"
listeners = ["udp:127.0.0.1:0", "tcp:127.0.0.1:0", "tls:127.0.0.1:0"]
[realms.tls]
cert = "{dir}/server.crt"
key = "{dir}/server.key"
ca = "{ca}"
[realms.media]
address = "127.0.0.1"
port_min = 30000
port_max = 34999

[[realms]]
name = "core"
listeners = ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]
[realms.media]
address = "127.0.0.1"
port_min = 35000
port_max = 39999

[[peers]]
name = "pbx"
realm = "core"
addresses = ["{pbx}"]

[[routes]]
from_realm = "access"
to_peer = "pbx"

[metrics]
listen = "127.0.0.1:0"

{extra}
{drain}
"#,
        // Tests stop their SBC with calls still ringing toward silent peers: a short drain.
        drain = if extra.contains("[shutdown]") {
            ""
        } else {
            "[shutdown]\ndrain_timeout_secs = 1\n"
        },
        dir = cert_dir.display(),
        ca = repo().join("certs/dev/ca.crt").display(),
        policy = policy_dir.display(),
    )
}

/// Starts the SBC with [`config_text`].
pub async fn start_with(cert_dir: &Path, extra: &str) -> Running {
    let text = config_text(cert_dir, extra);
    let config = config::from_str(&text, &repo()).unwrap_or_else(|e| panic!("test config: {e}"));
    app::start(Arc::new(config)).await.expect("sbc starts")
}

/// Starts the SBC with the `pbx` peer at `pbx` (`transport:ip:port`).
pub async fn start_with_pbx(extra: &str, pbx: &str) -> Running {
    let text = config_text_with(&repo().join("certs/dev"), extra, pbx);
    let config = config::from_str(&text, &repo()).unwrap_or_else(|e| panic!("test config: {e}"));
    app::start(Arc::new(config)).await.expect("sbc starts")
}

/// Starts the SBC with the development certificates.
pub async fn start(extra: &str) -> Running {
    start_with(&repo().join("certs/dev"), extra).await
}

/// The access realm's listener address for `transport`.
pub fn access(running: &Running, transport: Transport) -> SocketAddr {
    running
        .local_addr("access", transport)
        .expect("access listener")
}

/// An OPTIONS request addressed to the SBC, with a unique branch and Call-ID.
pub fn options(transport: &str, tag: &str) -> Bytes {
    Bytes::from(format!(
        "OPTIONS sip:127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:9;branch=z9hG4bK-{tag};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag={tag}\r\nTo: <sip:127.0.0.1>\r\n\
         Call-ID: {tag}@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ))
}

/// The first line of a SIP message.
pub fn first_line(data: &[u8]) -> String {
    let end = data
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// The status code of a SIP response.
pub fn status(data: &[u8]) -> Option<u16> {
    let line = first_line(data);
    let mut parts = line.split(' ');
    (parts.next() == Some("SIP/2.0")).then_some(())?;
    parts.next()?.parse().ok()
}

/// Sends one datagram from a fresh socket and waits up to `wait` for one answer.
pub async fn udp_exchange(to: SocketAddr, data: &[u8], wait: Duration) -> Option<Vec<u8>> {
    udp_exchange_from(0, to, data, wait).await
}

/// Like [`udp_exchange`], from (and listening on) 127.0.0.1:`port`.
pub async fn udp_exchange_from(
    port: u16,
    to: SocketAddr,
    data: &[u8],
    wait: Duration,
) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:{port} for the test client: {e}"));
    socket.send_to(data, to).await.unwrap();
    // Retransmissions of answers to earlier requests may reach the same port: only an answer
    // with this request's Call-ID counts.
    let call_id = call_id(data);
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = vec![0u8; 65_535];
    loop {
        let (n, _) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        if call_id.is_none() || call_id == self::call_id(&buf[..n]) {
            return Some(buf[..n].to_vec());
        }
    }
}

/// The Call-ID of a SIP message, read from its head as text.
pub fn call_id(data: &[u8]) -> Option<String> {
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end])
        .split("\r\n")
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            let name = name.trim().to_ascii_lowercase();
            (name == "call-id" || name == "i").then(|| value.trim().to_owned())
        })
}

/// Reads one whole SIP message (head + Content-Length body) from a stream, or `None` on
/// timeout or close.
pub async fn read_message<S: AsyncRead + Unpin>(stream: &mut S, wait: Duration) -> Option<Vec<u8>> {
    read_buffered(stream, &mut Vec::new(), wait).await
}

/// Like [`read_message`], keeping bytes beyond the message in `buf` for the next call.
pub async fn read_buffered<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    wait: Duration,
) -> Option<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .or_else(|| l.strip_prefix("l:"))
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let rest = buf.split_off(end + 4 + len);
                return Some(std::mem::replace(buf, rest));
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Writes `data` and reads one message back.
pub async fn stream_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    data: &[u8],
    wait: Duration,
) -> Option<Vec<u8>> {
    stream.write_all(data).await.ok()?;
    read_message(stream, wait).await
}

/// A new TCP connection.
pub async fn tcp(to: SocketAddr) -> TcpStream {
    TcpStream::connect(to).await.expect("tcp connect")
}

/// A TLS client configuration trusting the development CA.
pub fn tls_connector() -> tokio_rustls::TlsConnector {
    let config = sbc::tls::client_config(Some(&repo().join("certs/dev/ca.crt")), None)
        .expect("client config");
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// A TLS connection to `to` (server name `localhost`).
pub async fn tls(to: SocketAddr) -> tokio_rustls::client::TlsStream<TcpStream> {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    tls_connector()
        .connect(name, tcp(to).await)
        .await
        .expect("tls handshake")
}

/// The metrics endpoint's `/metrics` body, fetched with a raw HTTP/1.1 request.
pub async fn scrape(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of the series whose line starts with `prefix` (name and labels), or 0.
pub fn series(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}
