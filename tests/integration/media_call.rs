//! A call through the whole SBC with media anchored: a phone calls the PBX with SDP, each side
//! sees only the relay's addresses in the other's SDP, RTP flows both ways through the relay,
//! and the BYE releases the ports (into quarantine).

use std::net::SocketAddr;
use std::time::Duration;

use sbc::config::Transport;
use tokio::net::UdpSocket;

use crate::harness;

const WAIT: Duration = Duration::from_secs(10);

/// The value of header `name` (first occurrence).
fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .unwrap_or_else(|| panic!("no {name} in\n{message}"))
}

/// Every header line of `message` named `name`, whole.
fn header_lines<'a>(message: &'a str, name: &str) -> Vec<&'a str> {
    message
        .lines()
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
        })
        .collect()
}

/// The RTP address of the first `m=` line of the SDP body of `message`.
fn media_address(message: &str) -> SocketAddr {
    let body = message.split("\r\n\r\n").nth(1).expect("a body");
    let ip = body
        .lines()
        .find_map(|l| l.strip_prefix("c=IN IP4 "))
        .expect("c= line");
    let port = body
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|rest| rest.split(' ').next())
        .expect("m= line");
    format!("{}:{}", ip.trim(), port).parse().unwrap()
}

fn sdp(user: &str, rtp_port: u16) -> String {
    format!(
        "v=0\r\no={user} 99 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

fn with_body(head: String, body: &str) -> String {
    format!(
        "{head}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

async fn recv_sip(socket: &UdpSocket, what: &str) -> (String, SocketAddr) {
    let mut buf = vec![0u8; 65535];
    loop {
        let (len, from) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {what}"))
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..len]).into_owned();
        if !text.starts_with("SIP/2.0 100") {
            return (text, from);
        }
    }
}

/// A response to `request` with `status`, echoing its dialog headers.
fn response(
    request: &str,
    status: &str,
    to_tag: &str,
    contact: &str,
    body: Option<&str>,
) -> String {
    let mut head = format!("SIP/2.0 {status}\r\n");
    for via in header_lines(request, "Via") {
        head.push_str(via);
        head.push_str("\r\n");
    }
    let to = header(request, "To");
    let to = if to.contains("tag=") {
        to.to_owned()
    } else {
        format!("{to};tag={to_tag}")
    };
    head.push_str(&format!(
        "From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\nContact: {contact}\r\n",
        header(request, "From"),
        header(request, "Call-ID"),
        header(request, "CSeq"),
    ));
    match body {
        Some(body) => with_body(head, body),
        None => format!("{head}Content-Length: 0\r\n\r\n"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_anchored_end_to_end_and_its_ports_come_back() {
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let pbx_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let phone_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let pbx_addr = pbx.local_addr().unwrap();
    let sbc = harness::start_with_pbx("", &format!("udp:{pbx_addr}")).await;
    let access = harness::access(&sbc, Transport::Udp);
    let phone_port = phone.local_addr().unwrap().port();
    let phone_media = phone_rtp.local_addr().unwrap();

    let invite = with_body(
        format!(
            "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{phone_port};branch=z9hG4bK-media-1;rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=alice1\r\n\
             To: <sip:1000@127.0.0.1>\r\nCall-ID: media-call-1\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:alice@127.0.0.1:{phone_port}>\r\n"
        ),
        &sdp("alice", phone_media.port()),
    );
    phone.send_to(invite.as_bytes(), access).await.unwrap();

    // The PBX sees the relay's core-side address, and the SBC's own origin.
    let (b_invite, sbc_core) = recv_sip(&pbx, "INVITE at the PBX").await;
    let offer_to_pbx = media_address(&b_invite);
    assert!((35000..=39999).contains(&offer_to_pbx.port()), "{b_invite}");
    assert!(b_invite.contains("o=sbc "), "{b_invite}");
    assert!(!b_invite.contains("alice 99"), "{b_invite}");
    let pbx_media = pbx_rtp.local_addr().unwrap();
    let ok = response(
        &b_invite,
        "200 OK",
        "pbx1",
        &format!("<sip:pbx@{pbx_addr}>"),
        Some(&sdp("pbx", pbx_media.port())),
    );
    pbx.send_to(ok.as_bytes(), sbc_core).await.unwrap();

    // The phone sees the relay's access-side address.
    let (a_ok, _) = recv_sip(&phone, "200 at the phone").await;
    assert!(a_ok.starts_with("SIP/2.0 200"), "{a_ok}");
    let answer_to_phone = media_address(&a_ok);
    assert!((30000..=34999).contains(&answer_to_phone.port()), "{a_ok}");
    let sbc_contact = header(&a_ok, "Contact")
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let dialog = |method: &str, cseq: u32, branch: &str| {
        format!(
            "{method} {sbc_contact} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{phone_port};branch=z9hG4bK-{branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=alice1\r\nTo: {}\r\n\
             Call-ID: media-call-1\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            header(&a_ok, "To")
        )
    };
    phone
        .send_to(dialog("ACK", 1, "media-ack").as_bytes(), access)
        .await
        .unwrap();
    let (ack, _) = recv_sip(&pbx, "ACK at the PBX").await;
    assert!(ack.starts_with("ACK "), "{ack}");

    // RTP both ways through the relay.
    let mut rtp = vec![0x80u8, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7];
    rtp.extend_from_slice(b"hello pbx");
    phone_rtp.send_to(&rtp, answer_to_phone).await.unwrap();
    let mut buf = [0u8; 2048];
    let (len, from) = tokio::time::timeout(WAIT, pbx_rtp.recv_from(&mut buf))
        .await
        .expect("RTP at the PBX")
        .unwrap();
    assert_eq!((&buf[..len], from), (&rtp[..], offer_to_pbx));
    rtp[11] = 8;
    pbx_rtp.send_to(&rtp, offer_to_pbx).await.unwrap();
    let (len, from) = tokio::time::timeout(WAIT, phone_rtp.recv_from(&mut buf))
        .await
        .expect("RTP at the phone")
        .unwrap();
    assert_eq!((&buf[..len], from), (&rtp[..], answer_to_phone));

    // BYE from the phone ends the call and releases the media.
    phone
        .send_to(dialog("BYE", 2, "media-bye").as_bytes(), access)
        .await
        .unwrap();
    let (bye, sbc_core) = recv_sip(&pbx, "BYE at the PBX").await;
    assert!(bye.starts_with("BYE "), "{bye}");
    let bye_ok = response(
        &bye,
        "200 OK",
        "pbx1",
        &format!("<sip:pbx@{pbx_addr}>"),
        None,
    );
    pbx.send_to(bye_ok.as_bytes(), sbc_core).await.unwrap();
    let (phone_ok, _) = recv_sip(&phone, "200 to the BYE").await;
    assert!(phone_ok.starts_with("SIP/2.0 200"), "{phone_ok}");
    let expected = [
        (
            r#"sbc_media_port_pairs{realm="access",state="in_use"}"#,
            0.0,
        ),
        (
            r#"sbc_media_port_pairs{realm="access",state="quarantined"}"#,
            1.0,
        ),
        (r#"sbc_media_port_pairs{realm="core",state="in_use"}"#, 0.0),
        (
            r#"sbc_media_port_pairs{realm="core",state="quarantined"}"#,
            1.0,
        ),
        (
            r#"sbc_media_packets_total{realm="access",direction="in"}"#,
            1.0,
        ),
        (
            r#"sbc_media_packets_total{realm="core",direction="in"}"#,
            1.0,
        ),
        (r#"sbc_media_streams_active{realm="access"}"#, 0.0),
        (r#"sbc_media_streams_active{realm="core"}"#, 0.0),
    ];
    // The call ends on the SBC's own schedule; poll (bounded) until every figure is in.
    let mut metrics = String::new();
    for _ in 0..500 {
        metrics = harness::scrape(sbc.metrics_addr).await;
        if expected
            .iter()
            .all(|(series, value)| harness::series(&metrics, series) == *value)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (series, value) in expected {
        assert_eq!(
            harness::series(&metrics, series),
            value,
            "{series}\n{metrics}"
        );
    }
}

/// The phone's realm requires SRTP: the phone's SRTP is decrypted toward the PBX, which sees
/// plain RTP/AVP without keys, and the PBX's RTP reaches the phone encrypted with the key the
/// SBC answered with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_srtp_phone_talks_to_a_plain_pbx() {
    use sbc::media::srtp::{CryptoAttribute, CryptoSuite, SrtpKey, SrtpSession, SrtpTransform};

    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let pbx_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let phone_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let pbx_addr = pbx.local_addr().unwrap();
    let text = harness::config_text_with(
        &harness::repo().join("certs/dev"),
        "",
        &format!("udp:{pbx_addr}"),
    )
    .replace("port_max = 34999", "port_max = 34999\nsrtp = \"mandatory\"");
    let config = sbc::config::from_str(&text, &harness::repo()).expect("config");
    let sbc = sbc::app::start(std::sync::Arc::new(config))
        .await
        .expect("sbc starts");
    let access = harness::access(&sbc, Transport::Udp);
    let phone_port = phone.local_addr().unwrap().port();

    let suite = CryptoSuite::AesCm128HmacSha1_80;
    let phone_key = SrtpKey::generate(suite).unwrap();
    let offer_line = CryptoAttribute {
        tag: 1,
        key: phone_key.clone(),
        lifetime: None,
    };
    let body = format!(
        "v=0\r\no=alice 99 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:{}\r\n",
        phone_rtp.local_addr().unwrap().port(),
        offer_line.to_sdp_value().as_str()
    );
    let invite = with_body(
        format!(
            "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{phone_port};branch=z9hG4bK-srtp-1;rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=alice2\r\n\
             To: <sip:1000@127.0.0.1>\r\nCall-ID: srtp-call-1\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:alice@127.0.0.1:{phone_port}>\r\n"
        ),
        &body,
    );
    phone.send_to(invite.as_bytes(), access).await.unwrap();

    let (b_invite, sbc_core) = recv_sip(&pbx, "INVITE at the PBX").await;
    assert!(b_invite.contains("RTP/AVP 0"), "{b_invite}");
    assert!(
        !b_invite.contains("a=crypto"),
        "keys leaked to the PBX:\n{b_invite}"
    );
    let offer_to_pbx = media_address(&b_invite);
    let ok = response(
        &b_invite,
        "200 OK",
        "pbx2",
        &format!("<sip:pbx@{pbx_addr}>"),
        Some(&sdp("pbx", pbx_rtp.local_addr().unwrap().port())),
    );
    pbx.send_to(ok.as_bytes(), sbc_core).await.unwrap();

    let (a_ok, _) = recv_sip(&phone, "200 at the phone").await;
    assert!(a_ok.contains("RTP/SAVP 0"), "{a_ok}");
    let answered = a_ok
        .lines()
        .find_map(|l| l.strip_prefix("a=crypto:"))
        .expect("the SBC answers with its key");
    let sbc_key = CryptoAttribute::parse(answered.trim().as_bytes()).unwrap();
    assert_eq!((sbc_key.tag, sbc_key.suite()), (1, suite));
    assert!(!sbc_key.key.same_as(&phone_key));
    let answer_to_phone = media_address(&a_ok);
    let mut session = SrtpSession::new(&phone_key, &sbc_key.key).unwrap();

    let plain = [0x80u8, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0xd5, 0xd5, 0xd5];
    let mut wire = Vec::new();
    session.protect_rtp(&plain, &mut wire).unwrap();
    phone_rtp.send_to(&wire, answer_to_phone).await.unwrap();
    let mut buf = [0u8; 2048];
    let (len, _) = tokio::time::timeout(WAIT, pbx_rtp.recv_from(&mut buf))
        .await
        .expect("plain RTP at the PBX")
        .unwrap();
    assert_eq!(&buf[..len], &plain[..]);
    let reply = [0x80u8, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 10, 0x55, 0x55];
    pbx_rtp.send_to(&reply, offer_to_pbx).await.unwrap();
    let (len, _) = tokio::time::timeout(WAIT, phone_rtp.recv_from(&mut buf))
        .await
        .expect("SRTP at the phone")
        .unwrap();
    let mut decrypted = Vec::new();
    session.unprotect_rtp(&buf[..len], &mut decrypted).unwrap();
    assert_eq!(decrypted, reply);
}
