//! The running SBC at the edge (shell, real sockets): every RFC 4475/5118 corpus message sent
//! over UDP and over TCP gets the first response line the conformance table says (or none), and
//! the SBC still answers OPTIONS afterwards; RFC 5626 keep-alives; metrics move.

use crate::conformance::{Expect, TABLE, load};
use crate::harness::{self, access, first_line, options, status};
use sbc::config::Transport;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How long to wait for an answer that should come.
const ANSWER: Duration = Duration::from_secs(3);
/// How long to wait before concluding that no answer comes.
const SILENCE: Duration = Duration::from_millis(400);

/// A request the SBC processes gets an answer that is not one the validator maps a malformed
/// message to: 100 Trying for a routed INVITE (the test's peer address is silent), 200 for
/// OPTIONS addressed to the SBC, 404 for a REGISTER whose To is not a SIP address of record,
/// 481 for a request inside an unknown dialog, 501 for what it does not handle.
fn processed(code: Option<u16>) -> bool {
    code.is_some_and(|c| ![400, 413, 416, 420, 483, 505, 513].contains(&c))
}

fn is_response(name: &str) -> bool {
    matches!(
        name,
        "rfc4475/unreason" | "rfc4475/noreason" | "rfc4475/bcast"
    )
}

/// On a stream, framing is by Content-Length alone (RFC 3261 §18.3), so three messages get a
/// different outcome than in a datagram.
fn stream_expectation(name: &str, udp: Expect) -> Option<Expect> {
    match name {
        // No Content-Length at all: the stream cannot be framed → 400, connection closed.
        "rfc4475/inv2543" => Some(Expect::Reject(400)),
        // Content-Length larger than what was sent: the rest may still come → no answer yet.
        "rfc4475/clerr" => None,
        _ => Some(udp),
    }
}

/// `relayed`: the SBC passed the request on to the PBX (a processed REGISTER, answered only when
/// the PBX answers).
fn check(name: &str, expected: Expect, got: Option<&[u8]>, relayed: bool) -> Result<(), String> {
    let code = got.and_then(status);
    let ok = match expected {
        Expect::Process if is_response(name) => got.is_none(),
        Expect::Process => processed(code) || (got.is_none() && relayed),
        Expect::Reject(want) => code == Some(want),
        Expect::Drop => got.is_none(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name}: expected {expected:?}, got {:?}",
            got.map(first_line)
        ))
    }
}

/// The UDP port RFC 3261 §18.2.2 sends a response to when it came from 127.0.0.1: the top Via's
/// sent-by port (5060 by default), or with `rport` (RFC 3581) the source port, so any port will
/// do. A message whose Via does not parse is answered to its source too.
fn response_port(data: &bytes::Bytes) -> u16 {
    let msg = match sbc::sip::parse_datagram(data.clone(), &sbc::sip::Limits::DEFAULT) {
        Ok(msg) => Some(msg),
        Err(failure) => failure.head.map(|head| *head),
    };
    match msg.and_then(|m| m.top_via().ok()) {
        Some(via) if via.rport().is_none() => via.port.unwrap_or(5060),
        _ => 0,
    }
}

/// One corpus message over UDP to a fresh SBC (the corpus reuses branches across messages, and
/// a reused branch is, correctly, a retransmission of the earlier request).
async fn udp_case(name: &str, expected: Expect) -> Result<(), String> {
    let (sbc, pbx) = with_pbx().await;
    let data = load(name);
    let wait = if matches!(expected, Expect::Drop) || is_response(name) {
        SILENCE
    } else {
        ANSWER
    };
    let udp = access(&sbc, Transport::Udp);
    let got = harness::udp_exchange_from(response_port(&data), udp, &data, wait).await;
    let relayed = relayed_to_pbx(&pbx).await;
    sbc.shutdown().await;
    check(name, expected, got.as_deref(), relayed).map_err(|e| format!("udp {e}"))
}

/// An SBC whose PBX peer is a socket of the test's, to see what the SBC relays.
async fn with_pbx() -> (sbc::app::Running, tokio::net::UdpSocket) {
    let pbx = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = pbx.local_addr().unwrap();
    (
        harness::start_with_pbx("", &format!("udp:{addr}")).await,
        pbx,
    )
}

/// Whether the SBC relayed a request to the PBX (how a REGISTER is processed: it goes on to the
/// registrar, and this PBX never answers).
async fn relayed_to_pbx(pbx: &tokio::net::UdpSocket) -> bool {
    let mut buf = vec![0u8; 65_535];
    match tokio::time::timeout(Duration::from_millis(300), pbx.recv_from(&mut buf)).await {
        Ok(Ok((n, _))) => !buf[..n].starts_with(b"SIP/2.0 "),
        _ => false,
    }
}

/// One corpus message over its own TCP connection to a fresh SBC.
async fn tcp_case(name: &str, expected: Expect) -> Result<(), String> {
    let (sbc, pbx) = with_pbx().await;
    let data = load(name);
    let mut stream = harness::tcp(access(&sbc, Transport::Tcp)).await;
    stream.write_all(&data).await.unwrap();
    let mut buf = Vec::new();
    let result = match stream_expectation(name, expected) {
        None => match harness::read_buffered(&mut stream, &mut buf, SILENCE).await {
            Some(got) => Err(format!(
                "tcp {name}: expected no answer yet, got {}",
                first_line(&got)
            )),
            None => Ok(()),
        },
        Some(expected) => {
            let wait = if matches!(expected, Expect::Drop) || is_response(name) {
                SILENCE
            } else {
                ANSWER
            };
            let got = harness::read_buffered(&mut stream, &mut buf, wait).await;
            let relayed = relayed_to_pbx(&pbx).await;
            let mut result =
                check(name, expected, got.as_deref(), relayed).map_err(|e| format!("tcp {e}"));
            if name == "rfc4475/dblreq" && result.is_ok() {
                // Two requests on one stream: the INVITE is answered (100 Trying) and the REGISTER
                // relayed to the PBX, in whichever order they come out.
                let second = harness::read_buffered(&mut stream, &mut buf, SILENCE).await;
                let answered = [got.as_deref(), second.as_deref()]
                    .into_iter()
                    .flatten()
                    .any(|m| processed(status(m)));
                if !answered || !relayed {
                    result = Err(format!(
                        "tcp dblreq: answered {answered}, REGISTER relayed {relayed}"
                    ));
                }
            }
            result
        }
    };
    sbc.shutdown().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_outcomes_over_udp_and_tcp() {
    let mut failures = Vec::new();
    for (name, expected) in TABLE {
        for result in [
            udp_case(name, *expected).await,
            tcp_case(name, *expected).await,
        ] {
            if let Err(e) = result {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// One SBC receives the whole corpus over UDP and TCP, back to back, and still answers OPTIONS
/// on both afterwards; the metrics show what it refused and dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_the_whole_corpus() {
    let sbc = harness::start("").await;
    let udp = access(&sbc, Transport::Udp);
    let tcp = access(&sbc, Transport::Tcp);
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut streams = Vec::new();
    for (name, _) in TABLE {
        let data = load(name);
        client.send_to(&data, udp).await.unwrap();
        let mut stream = harness::tcp(tcp).await;
        stream.write_all(&data).await.unwrap();
        streams.push(stream);
    }
    let reply = harness::udp_exchange(udp, &options("UDP", "after-udp"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));
    let mut stream = harness::tcp(tcp).await;
    let reply = harness::stream_exchange(&mut stream, &options("TCP", "after-tcp"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));

    let metrics = harness::scrape(sbc.metrics_addr).await;
    for series in [
        "sbc_sip_parse_errors_total{reason=\"bad_header\",transport=\"udp\"}",
        "sbc_sip_parse_errors_total{reason=\"bad_header\",transport=\"tcp\"}",
        "sbc_sip_parse_errors_total{reason=\"unsupported_version\",transport=\"udp\"}",
        "sbc_sip_dropped_total{reason=\"stray_response\"}",
        "sbc_sip_responses_total{status_class=\"4xx\",method=\"INVITE\",realm=\"access\",transport=\"udp\",direction=\"out\"}",
        "sbc_sip_responses_total{status_class=\"2xx\",method=\"OPTIONS\",realm=\"access\",transport=\"tcp\",direction=\"out\"}",
        "sbc_connections_accepted_total{realm=\"access\",transport=\"tcp\"}",
    ] {
        assert!(
            harness::series(&metrics, series) > 0.0,
            "{series} not counted:\n{metrics}"
        );
    }
    drop(streams);
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_ping_gets_pong_on_tcp_and_tls() {
    let sbc = harness::start("").await;
    let mut stream = harness::tcp(access(&sbc, Transport::Tcp)).await;
    stream.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    tokio::io::AsyncReadExt::read_exact(&mut stream, &mut pong)
        .await
        .unwrap();
    assert_eq!(&pong, b"\r\n");
    // The connection still carries SIP afterwards.
    let reply = harness::stream_exchange(&mut stream, &options("TCP", "ka-tcp"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));

    let mut tls = harness::tls(access(&sbc, Transport::Tls)).await;
    tls.write_all(b"\r\n\r\n").await.unwrap();
    tokio::io::AsyncReadExt::read_exact(&mut tls, &mut pong)
        .await
        .unwrap();
    assert_eq!(&pong, b"\r\n");
    let reply = harness::stream_exchange(&mut tls, &options("TLS", "ka-tls"), ANSWER).await;
    assert_eq!(reply.as_deref().and_then(status), Some(200));
    sbc.shutdown().await;
}
