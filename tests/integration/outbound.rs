//! Connections the SBC opens (shell, real sockets): TCP and TLS toward a peer, the TLS server
//! name verified against the realm's CA; a message for a flow whose connection is gone opens a
//! new one (RFC 3261 §18.2.2); what the peer sends back on it reaches the signaling core.

use crate::harness::{self, repo};
use bytes::Bytes;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sbc::config::Transport;
use sbc::transport::{ConnId, ListenerId, Target};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const WAIT: Duration = Duration::from_secs(5);

fn listener_id(sbc: &sbc::app::Running, transport: Transport) -> ListenerId {
    sbc.listeners
        .iter()
        .position(|l| &*l.realm_name == "access" && l.transport == transport)
        .unwrap() as ListenerId
}

fn response(call_id: &str) -> Bytes {
    Bytes::from(format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-out-{call_id}\r\n\
         From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    ))
}

async fn stray_responses(sbc: &sbc::app::Running) -> f64 {
    let metrics = harness::scrape(sbc.metrics_addr).await;
    harness::series(&metrics, "sbc_sip_dropped_total{reason=\"stray_response\"}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connection_to_a_peer_carries_both_ways() {
    let sbc = harness::start("").await;
    let peer = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let listener = listener_id(&sbc, Transport::Tcp);
    let id = sbc
        .transports
        .connect(listener, peer_addr, None)
        .await
        .expect("connects");
    let (mut accepted, _) = peer.accept().await.unwrap();
    let target = Target {
        listener,
        transport: Transport::Tcp,
        remote: peer_addr,
        conn: Some(id),
    };
    sbc.transports
        .send(&target, harness::options("TCP", "out-1"))
        .unwrap();
    let got = harness::read_message(&mut accepted, WAIT)
        .await
        .expect("peer receives");
    assert!(harness::first_line(&got).starts_with("OPTIONS "));

    // What the peer sends back on that connection reaches the core (a stray response here).
    let before = stray_responses(&sbc).await;
    accepted.write_all(&response("out-1")).await.unwrap();
    let mut counted = false;
    for _ in 0..50 {
        if stray_responses(&sbc).await > before {
            counted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        counted,
        "response on the outbound connection never reached the core"
    );
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_whose_connection_is_gone_gets_a_new_one() {
    let sbc = harness::start("").await;
    let peer = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let listener = listener_id(&sbc, Transport::Tcp);
    let dead = Target {
        listener,
        transport: Transport::Tcp,
        remote: peer_addr,
        conn: Some(ConnId(u64::MAX)),
    };
    let (failed_tx, mut failed_rx) = tokio::sync::mpsc::channel(1);
    Arc::clone(&sbc.transports).send_or_connect(
        dead,
        harness::options("TCP", "reconnect"),
        move |e| {
            let _ = failed_tx.try_send(e.to_string());
        },
    );
    let (mut accepted, _) = tokio::time::timeout(WAIT, peer.accept())
        .await
        .expect("connection opened")
        .unwrap();
    let got = harness::read_message(&mut accepted, WAIT)
        .await
        .expect("message delivered");
    assert!(harness::first_line(&got).starts_with("OPTIONS "));
    assert!(failed_rx.try_recv().is_err());

    // Nobody listening: the failure is reported, not swallowed.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let gone = Target {
        listener,
        transport: Transport::Tcp,
        remote: closed_addr,
        conn: None,
    };
    let (failed_tx, mut failed_rx) = tokio::sync::mpsc::channel(1);
    Arc::clone(&sbc.transports).send_or_connect(
        gone,
        harness::options("TCP", "nobody"),
        move |e| {
            let _ = failed_tx.try_send(e.to_string());
        },
    );
    let reported = tokio::time::timeout(WAIT, failed_rx.recv())
        .await
        .expect("failure reported");
    assert!(reported.is_some());
    sbc.shutdown().await;
}

fn tls_peer() -> tokio_rustls::TlsAcceptor {
    let dev = repo().join("certs/dev");
    let certs = CertificateDer::pem_file_iter(dev.join("server.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dev.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_a_peer_verifies_its_name() {
    let sbc = harness::start("").await;
    let peer = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let acceptor = tls_peer();
    let listener = listener_id(&sbc, Transport::Tls);

    // The certificate names localhost and 127.0.0.1: both verify.
    for name in [Some("localhost"), None] {
        let acceptor = acceptor.clone();
        let (accepted, id) = tokio::join!(
            async {
                let (tcp, _) = peer.accept().await.unwrap();
                acceptor.accept(tcp).await
            },
            sbc.transports.connect(listener, peer_addr, name)
        );
        let mut accepted = accepted.expect("peer handshake");
        let id = id.expect("sbc verifies the peer");
        let target = Target {
            listener,
            transport: Transport::Tls,
            remote: peer_addr,
            conn: Some(id),
        };
        sbc.transports
            .send(&target, harness::options("TLS", "out-tls"))
            .unwrap();
        let got = harness::read_message(&mut accepted, WAIT)
            .await
            .expect("peer receives over TLS");
        assert!(harness::first_line(&got).starts_with("OPTIONS "));
    }

    // A name the certificate does not carry is refused and counted.
    let acceptor2 = acceptor.clone();
    let (_, refused) = tokio::join!(
        async {
            let (tcp, _) = peer.accept().await.unwrap();
            let _ = acceptor2.accept(tcp).await;
        },
        sbc.transports
            .connect(listener, peer_addr, Some("pbx.example.net"))
    );
    assert!(
        refused.is_err(),
        "a certificate for another name was accepted"
    );
    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert!(
        harness::series(
            &metrics,
            "sbc_tls_handshake_failures_total{realm=\"access\"}"
        ) >= 1.0
    );
    sbc.shutdown().await;
}
