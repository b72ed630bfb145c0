//! Tests of the metrics HTTP endpoint over loopback TCP with a raw HTTP/1.1 client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::labels::Direction;
use super::{Metrics, Readiness, bind, serve};
use crate::app::shutdown_channel;
use crate::config::Transport;
use crate::sip::Method;

/// Bound on every network wait so a broken server fails the test instead of hanging it.
const WAIT: Duration = Duration::from_secs(10);

/// A parsed response: status code, header block (lower-cased) and body.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

/// Sends one `Connection: close` request and reads the whole response.
async fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        raw
    };
    let raw = tokio::time::timeout(WAIT, exchange)
        .await
        .expect("response in time");
    let raw = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header block");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    Reply {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

/// Starts the endpoint on an ephemeral loopback port.
async fn start() -> (
    SocketAddr,
    Arc<Metrics>,
    Readiness,
    crate::app::ShutdownTrigger,
    tokio::task::JoinHandle<()>,
) {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::new());
    let ready = Readiness::new();
    let (trigger, shutdown) = shutdown_channel();
    let task = tokio::spawn(serve(
        listener,
        Arc::clone(&metrics),
        ready.clone(),
        shutdown,
    ));
    (addr, metrics, ready, trigger, task)
}

#[tokio::test]
async fn metrics_are_served_as_openmetrics_text() {
    let (addr, metrics, _ready, _trigger, _task) = start().await;
    super::tests::touch_all(&metrics);
    metrics.sip_request(&Method::Bye, "core", Transport::Udp, Direction::In);
    metrics.sip_request(&Method::Bye, "core", Transport::Udp, Direction::In);
    let reply = request(addr, "GET", "/metrics").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .head
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(reply.body.contains(
        "sbc_sip_requests_total{method=\"BYE\",realm=\"core\",transport=\"udp\",direction=\"in\"} 2\n"
    ));
    for name in super::names::ALL {
        assert!(reply.body.contains(&format!("# TYPE {name} ")), "{name}");
    }
    assert!(reply.body.ends_with("# EOF\n"));
}

#[tokio::test]
async fn health_and_readiness() {
    let (addr, _metrics, ready, _trigger, _task) = start().await;
    let health = request(addr, "GET", "/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    assert_eq!(request(addr, "GET", "/readyz").await.status, 503);
    ready.set_ready();
    assert_eq!(request(addr, "GET", "/readyz").await.status, 200);
    ready.set_not_ready();
    assert_eq!(request(addr, "GET", "/readyz").await.status, 503);
}

#[tokio::test]
async fn unknown_paths_and_other_methods_are_refused() {
    let (addr, _metrics, _ready, _trigger, _task) = start().await;
    assert_eq!(request(addr, "GET", "/").await.status, 404);
    assert_eq!(request(addr, "GET", "/metrics/extra").await.status, 404);
    let post = request(addr, "POST", "/metrics").await;
    assert_eq!(post.status, 405);
    assert!(post.head.contains("allow: get"));
    assert_eq!(request(addr, "DELETE", "/readyz").await.status, 405);
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let (addr, _metrics, _ready, trigger, task) = start().await;
    assert_eq!(request(addr, "GET", "/healthz").await.status, 200);
    trigger.trigger();
    tokio::time::timeout(WAIT, task)
        .await
        .expect("serve returns after shutdown")
        .expect("serve did not panic");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener still open"
    );
}

#[tokio::test]
async fn garbage_requests_get_an_error_not_a_crash() {
    let (addr, _metrics, _ready, _trigger, _task) = start().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"\x00\x01 nonsense\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut raw)).await;
    assert!(raw.is_empty() || raw.starts_with(b"HTTP/1.1 400"));
    assert_eq!(request(addr, "GET", "/healthz").await.status, 200);
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_at_once() {
    let (addr, _metrics, _ready, _trigger, _task) = start().await;
    let mut idle = Vec::new();
    for _ in 0..super::http::MAX_CONNECTIONS {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // The server accepts in order, so this one finds every permit taken.
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let mut raw = Vec::new();
    let read = tokio::time::timeout(WAIT, extra.read_to_end(&mut raw)).await;
    assert!(read.is_ok(), "the connection over the limit was kept open");
    assert!(raw.is_empty(), "the connection over the limit was served");

    drop(idle);
    // Permits come back once the server notices the closed connections.
    let mut served = false;
    for _ in 0..100 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let _ = stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await;
        let mut raw = Vec::new();
        let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut raw)).await;
        if raw.starts_with(b"HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        served,
        "the endpoint did not recover after idle connections closed"
    );
}
