//! Registration relay over connections (shell, real sockets): a phone registered over TCP is
//! reachable only through that connection, so its binding goes when the connection closes —
//! long before its expiry.

use crate::harness::{self, access};
use sbc::config::Transport;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::UdpSocket;

/// The header lines of `message` named `name` (case-insensitive), values only.
fn headers<'a>(message: &'a str, name: &str) -> Vec<&'a str> {
    message
        .lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
        .collect()
}

/// Answers one REGISTER arriving on `pbx` with 200, granting its Contact for an hour.
async fn registrar_answers_one(pbx: &UdpSocket) {
    let mut buf = vec![0u8; 65_536];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), pbx.recv_from(&mut buf))
        .await
        .expect("the REGISTER reaches the PBX")
        .unwrap();
    let request = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(request.starts_with("REGISTER "), "{request}");
    let mut response = String::from("SIP/2.0 200 OK\r\n");
    for name in ["Via", "From", "Call-ID", "CSeq"] {
        for value in headers(&request, name) {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    for value in headers(&request, "To") {
        response.push_str(&format!("To: {value};tag=pbx1\r\n"));
    }
    for value in headers(&request, "Contact") {
        let uri = value.split(';').next().unwrap_or(value);
        response.push_str(&format!("Contact: {uri};expires=3600\r\n"));
    }
    response.push_str("Content-Length: 0\r\n\r\n");
    pbx.send_to(response.as_bytes(), from).await.unwrap();
}

async fn bindings(sbc: &sbc::app::Running) -> f64 {
    harness::series(
        &harness::scrape(sbc.metrics_addr).await,
        "sbc_registrations_active",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binding_goes_when_its_connection_closes() {
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let pbx_addr = pbx.local_addr().unwrap();
    let sbc = harness::start_with_pbx("", &format!("udp:{pbx_addr}")).await;
    let mut phone = harness::tcp(access(&sbc, Transport::Tcp)).await;
    let local = phone.local_addr().unwrap();
    let register = format!(
        "REGISTER sip:pbx.example.com SIP/2.0\r\n\
         Via: SIP/2.0/TCP {local};branch=z9hG4bK-reg1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1001@pbx.example.com>;tag=ph1\r\n\
         To: <sip:1001@pbx.example.com>\r\n\
         Call-ID: reg-1@phone\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:1001@{local};transport=tcp>\r\n\
         Expires: 3600\r\n\
         Content-Length: 0\r\n\r\n"
    );
    phone.write_all(register.as_bytes()).await.unwrap();
    registrar_answers_one(&pbx).await;
    let answer = harness::read_message(&mut phone, Duration::from_secs(5))
        .await
        .expect("the phone gets an answer");
    assert_eq!(
        harness::status(&answer),
        Some(200),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(bindings(&sbc).await, 1.0);

    drop(phone);
    let mut left = f64::NAN;
    for _ in 0..50 {
        left = bindings(&sbc).await;
        if left == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sbc.shutdown().await;
    assert_eq!(left, 0.0, "the binding outlived its connection");
}
