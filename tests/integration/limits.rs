//! Bounds at the edge (shell, real sockets): 1,000 idle TCP connections, a slowloris client and a
//! client that never reads do not keep anyone else from being served; connection caps refuse and
//! count; UDP sharding with SO_REUSEPORT serves.

use crate::harness::{self, access, options, status};
use sbc::config::Transport;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

const ANSWER: Duration = Duration::from_secs(5);

/// A fresh client is served over UDP and TCP.
async fn served(sbc: &sbc::app::Running, tag: &str) {
    let reply = harness::udp_exchange(
        access(sbc, Transport::Udp),
        &options("UDP", &format!("{tag}-u")),
        ANSWER,
    )
    .await;
    assert_eq!(
        reply.as_deref().and_then(status),
        Some(200),
        "{tag}: udp not served"
    );
    let mut stream = harness::tcp(access(sbc, Transport::Tcp)).await;
    let reply =
        harness::stream_exchange(&mut stream, &options("TCP", &format!("{tag}-t")), ANSWER).await;
    assert_eq!(
        reply.as_deref().and_then(status),
        Some(200),
        "{tag}: tcp not served"
    );
}

/// Waits until `stream` is closed by the SBC (EOF or reset), up to `limit`.
async fn closed_by_peer(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_and_slowloris_do_not_block_others() {
    let sbc = harness::start(
        "[transport]\nmax_connections = 3000\nmax_connections_per_source = 3000\nmessage_timeout_secs = 2\n",
    )
    .await;
    let tcp = access(&sbc, Transport::Tcp);
    let mut idle = Vec::with_capacity(1000);
    for i in 0..1000 {
        match tokio::net::TcpStream::connect(tcp).await {
            Ok(s) => idle.push(s),
            Err(e) => panic!("idle connection {i} failed: {e} (raise `ulimit -n` above 2100)"),
        }
    }
    // Slowloris: a request head that trickles in one byte at a time and never ends.
    let mut slow = harness::tcp(tcp).await;
    slow.write_all(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nX-Slow: ")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if slow.write_all(b"a").await.is_err() {
                return Some(slow);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(slow)
    });
    served(&sbc, "during").await;

    let metrics = harness::scrape(sbc.metrics_addr).await;
    let open = harness::series(
        &metrics,
        "sbc_connections_open{realm=\"access\",transport=\"tcp\"}",
    );
    assert!(open >= 1001.0, "open connections gauge {open}");

    // The slowloris connection is cut at the message timeout; the idle ones stay.
    let mut slow = trickle.await.unwrap().unwrap();
    assert!(
        closed_by_peer(&mut slow, Duration::from_secs(10)).await,
        "slowloris still connected"
    );
    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert!(
        harness::series(
            &metrics,
            "sbc_connections_closed_total{realm=\"access\",transport=\"tcp\",reason=\"message_timeout\"}"
        ) >= 1.0
    );
    let mut probe = idle.pop().unwrap();
    let reply =
        harness::stream_exchange(&mut probe, &options("TCP", "idle-still-open"), ANSWER).await;
    assert_eq!(
        reply.as_deref().and_then(status),
        Some(200),
        "an idle connection was closed"
    );
    served(&sbc, "after").await;
    drop(idle);
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_refuse_and_count() {
    let sbc =
        harness::start("[transport]\nmax_connections = 10\nmax_connections_per_source = 2\n").await;
    let tcp = access(&sbc, Transport::Tcp);
    let mut a = harness::tcp(tcp).await;
    let mut b = harness::tcp(tcp).await;
    // Both admitted ones work.
    for (s, tag) in [(&mut a, "cap-a"), (&mut b, "cap-b")] {
        let reply = harness::stream_exchange(s, &options("TCP", tag), ANSWER).await;
        assert_eq!(reply.as_deref().and_then(status), Some(200));
    }
    // A third from the same source is closed without being read.
    let mut c = harness::tcp(tcp).await;
    let _ = c.write_all(&options("TCP", "cap-c")).await;
    assert!(
        closed_by_peer(&mut c, ANSWER).await,
        "third connection not refused"
    );
    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert!(
        harness::series(
            &metrics,
            "sbc_connections_rejected_total{realm=\"access\",transport=\"tcp\",reason=\"per_source_limit\"}"
        ) >= 1.0
    );
    // Closing one frees its slot.
    drop(a);
    let mut freed = None;
    for _ in 0..50 {
        let mut d = harness::tcp(tcp).await;
        if let Some(reply) =
            harness::stream_exchange(&mut d, &options("TCP", "cap-d"), Duration::from_millis(500))
                .await
        {
            freed = status(&reply);
            break;
        }
    }
    assert_eq!(freed, Some(200), "slot not released");
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_disconnected_and_others_are_served() {
    let sbc = harness::start("[transport]\nwrite_queue_messages = 8\n").await;
    let tcp = access(&sbc, Transport::Tcp);
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(tcp).await.unwrap();
    // Thousands of requests, never reading a single answer.
    let mut batch = Vec::new();
    for i in 0..200 {
        batch.extend_from_slice(&options("TCP", &format!("stall-{i}")));
    }
    // Keep writing until the SBC stops reading us (our writes block) or drops us (they fail).
    for _ in 0..200 {
        match tokio::time::timeout(Duration::from_secs(2), stalled.write_all(&batch)).await {
            Ok(Ok(())) => continue,
            _ => break,
        }
    }
    served(&sbc, "while-stalled").await;
    // The SBC must have closed it: reading now drains what was queued, then hits EOF/reset.
    assert!(
        closed_by_peer(&mut stalled, Duration::from_secs(20)).await,
        "stalled connection never closed"
    );
    let metrics = harness::scrape(sbc.metrics_addr).await;
    let closed = harness::series(
        &metrics,
        "sbc_connections_closed_total{realm=\"access\",transport=\"tcp\",reason=\"write_queue_full\"}",
    ) + harness::series(
        &metrics,
        "sbc_connections_closed_total{realm=\"access\",transport=\"tcp\",reason=\"error\"}",
    );
    assert!(
        closed >= 1.0,
        "the stalled connection's close was not counted"
    );
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_sharding_with_reuseport_serves() {
    let sbc = harness::start("[transport]\nudp_sockets_per_listener = 2\n").await;
    for i in 0..20 {
        let reply = harness::udp_exchange(
            access(&sbc, Transport::Udp),
            &options("UDP", &format!("shard-{i}")),
            ANSWER,
        )
        .await;
        assert_eq!(reply.as_deref().and_then(status), Some(200));
    }
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let sbc = harness::start("[transport]\nidle_timeout_secs = 1\n").await;
    let mut stream = harness::tcp(access(&sbc, Transport::Tcp)).await;
    // Traffic keeps it open past one timeout...
    for i in 0..3 {
        let reply =
            harness::stream_exchange(&mut stream, &options("TCP", &format!("alive-{i}")), ANSWER)
                .await;
        assert_eq!(reply.as_deref().and_then(status), Some(200));
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    // ...silence closes it.
    assert!(
        closed_by_peer(&mut stream, Duration::from_secs(10)).await,
        "idle connection kept open"
    );
    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert!(
        harness::series(
            &metrics,
            "sbc_connections_closed_total{realm=\"access\",transport=\"tcp\",reason=\"idle\"}"
        ) >= 1.0
    );
    sbc.shutdown().await;
}
