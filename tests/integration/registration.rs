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
    // The PBX is told the binding is gone.
    let mut buf = vec![0u8; 65_536];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), pbx.recv_from(&mut buf))
        .await
        .expect("the binding is withdrawn at the PBX")
        .unwrap();
    let withdrawal = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(withdrawal.contains(";expires=0"), "{withdrawal}");
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

/// Receives one request on `socket` within `wait`; returns its text and source.
async fn receive(socket: &UdpSocket, wait: Duration) -> Option<(String, std::net::SocketAddr)> {
    let mut buf = vec![0u8; 65_536];
    let (n, from) = tokio::time::timeout(wait, socket.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some((String::from_utf8_lossy(&buf[..n]).into_owned(), from))
}

/// A 200 to `request` (Via, From, To, Call-ID, CSeq copied).
fn ok_to(request: &str) -> String {
    let mut response = String::from("SIP/2.0 200 OK\r\n");
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        for value in headers(request, name) {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    response + "Content-Length: 0\r\n\r\n"
}

/// A phone behind a NAT (its Contact is a private address) is kept alive with OPTIONS over the
/// flow it registered on; when it stops answering, its binding goes and is withdrawn at the
/// PBX with `expires=0`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nated_phones_get_keepalives_and_dead_ones_are_withdrawn() {
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let pbx_addr = pbx.local_addr().unwrap();
    let sbc = harness::start_with_pbx(
        "[sip]\nt1_ms = 50\n[registration]\nkeepalive_interval_secs = 1\n",
        &format!("udp:{pbx_addr}"),
    )
    .await;
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let register = "REGISTER sip:pbx.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK-nat1;rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1002@pbx.example.com>;tag=ph2\r\n\
         To: <sip:1002@pbx.example.com>\r\n\
         Call-ID: reg-2@phone\r\n\
         CSeq: 7 REGISTER\r\n\
         Contact: <sip:1002@10.0.1.2:5060>\r\n\
         Expires: 3600\r\n\
         Content-Length: 0\r\n\r\n";
    phone
        .send_to(register.as_bytes(), access(&sbc, Transport::Udp))
        .await
        .unwrap();
    registrar_answers_one(&pbx).await;
    let (answer, _) = receive(&phone, Duration::from_secs(5)).await.expect("200");
    assert_eq!(harness::status(answer.as_bytes()), Some(200), "{answer}");
    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert_eq!(
        harness::series(&metrics, "sbc_registrations_behind_nat"),
        1.0
    );

    // The first keep-alive arrives at the phone's public address (the one it sent from),
    // addressed to its registered Contact; the phone answers it.
    let (ping, sbc_addr) = receive(&phone, Duration::from_secs(5))
        .await
        .expect("a keep-alive");
    assert!(
        ping.starts_with("OPTIONS sip:1002@10.0.1.2:5060 SIP/2.0"),
        "{ping}"
    );
    phone
        .send_to(ok_to(&ping).as_bytes(), sbc_addr)
        .await
        .unwrap();
    // The next ones go unanswered: after the transaction times out the binding goes and the
    // PBX is told.
    let (withdrawal, _) = receive(&pbx, Duration::from_secs(15))
        .await
        .expect("the binding is withdrawn at the PBX");
    assert!(withdrawal.starts_with("REGISTER "), "{withdrawal}");
    let contact = headers(&withdrawal, "Contact");
    assert_eq!(contact.len(), 1, "{withdrawal}");
    assert!(contact[0].ends_with(";expires=0"), "{withdrawal}");
    assert_eq!(headers(&withdrawal, "CSeq"), vec!["8 REGISTER"]);
    assert!(headers(&withdrawal, "Authorization").is_empty());
    let metrics = harness::scrape(sbc.metrics_addr).await;
    sbc.shutdown().await;
    assert_eq!(harness::series(&metrics, "sbc_registrations_active"), 0.0);
    assert_eq!(
        harness::series(&metrics, "sbc_registrations_behind_nat"),
        0.0
    );
    assert!(harness::series(&metrics, "sbc_keepalives_total{result=\"sent\"}") >= 2.0);
    assert_eq!(
        harness::series(&metrics, "sbc_keepalives_total{result=\"failed\"}"),
        1.0
    );
    assert_eq!(
        harness::series(&metrics, "sbc_bindings_withdrawn_total"),
        1.0
    );
}

/// A NAT'd phone that unregisters stops counting as registered behind a NAT as soon as the
/// SBC relays its removal, even when the PBX never answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unregistered_nated_phone_stops_counting_even_if_the_pbx_is_silent() {
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let pbx_addr = pbx.local_addr().unwrap();
    let sbc = harness::start_with_pbx("[sip]\nt1_ms = 50\n", &format!("udp:{pbx_addr}")).await;
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let register = |cseq: u32, expires: u32| {
        format!(
            "REGISTER sip:pbx.example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 10.0.1.3:5060;branch=z9hG4bK-un{cseq};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:1003@pbx.example.com>;tag=ph3\r\n\
             To: <sip:1003@pbx.example.com>\r\n\
             Call-ID: reg-3@phone\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <sip:1003@10.0.1.3:5060>\r\n\
             Expires: {expires}\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    let sbc_addr = access(&sbc, Transport::Udp);
    phone
        .send_to(register(1, 3600).as_bytes(), sbc_addr)
        .await
        .unwrap();
    registrar_answers_one(&pbx).await;
    let (answer, _) = receive(&phone, Duration::from_secs(5)).await.expect("200");
    assert_eq!(harness::status(answer.as_bytes()), Some(200), "{answer}");
    let nated = || async {
        harness::series(
            &harness::scrape(sbc.metrics_addr).await,
            "sbc_registrations_behind_nat",
        )
    };
    assert_eq!(nated().await, 1.0);

    // The removal reaches the PBX, which never answers it.
    phone
        .send_to(register(2, 0).as_bytes(), sbc_addr)
        .await
        .unwrap();
    let (removal, _) = receive(&pbx, Duration::from_secs(5))
        .await
        .expect("the removal reaches the PBX");
    assert!(
        headers(&removal, "Contact")[0].ends_with(";expires=0"),
        "{removal}"
    );
    assert_eq!(nated().await, 0.0);
    assert_eq!(bindings(&sbc).await, 0.0);
    // The phone hears the PBX's silence as a timeout; the count stays right.
    let (answer, _) = receive(&phone, Duration::from_secs(10)).await.expect("504");
    assert_eq!(harness::status(answer.as_bytes()), Some(504), "{answer}");
    assert_eq!(nated().await, 0.0);
    sbc.shutdown().await;
}

/// A REGISTER whose Max-Forwards is used up gets 483 and never reaches the PBX; one with a
/// hop left is relayed with Max-Forwards 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_out_of_hops_gets_483_and_goes_no_further() {
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let pbx_addr = pbx.local_addr().unwrap();
    let sbc = harness::start_with_pbx("", &format!("udp:{pbx_addr}")).await;
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = phone.local_addr().unwrap();
    let register = |hops: u8, cseq: u8| {
        format!(
            "REGISTER sip:pbx.example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-hops{cseq}\r\n\
             Max-Forwards: {hops}\r\n\
             From: <sip:1001@pbx.example.com>;tag=ph1\r\n\
             To: <sip:1001@pbx.example.com>\r\n\
             Call-ID: hops@phone\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <sip:1001@{local}>\r\n\
             Expires: 3600\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    let access = access(&sbc, Transport::Udp);
    phone
        .send_to(register(0, 1).as_bytes(), access)
        .await
        .unwrap();
    let (answer, _) = receive(&phone, Duration::from_secs(5))
        .await
        .expect("the phone gets an answer");
    assert!(answer.starts_with("SIP/2.0 483 "), "{answer}");
    assert!(
        receive(&pbx, Duration::from_millis(500)).await.is_none(),
        "nothing reaches the PBX"
    );

    phone
        .send_to(register(1, 2).as_bytes(), access)
        .await
        .unwrap();
    let (relayed, from) = receive(&pbx, Duration::from_secs(5))
        .await
        .expect("the REGISTER with a hop left reaches the PBX");
    assert_eq!(headers(&relayed, "Max-Forwards"), vec!["0"], "{relayed}");
    pbx.send_to(ok_to(&relayed).as_bytes(), from).await.unwrap();
    let (answer, _) = receive(&phone, Duration::from_secs(5))
        .await
        .expect("the phone gets the PBX's answer");
    assert!(answer.starts_with("SIP/2.0 200 "), "{answer}");
    sbc.shutdown().await;
}
