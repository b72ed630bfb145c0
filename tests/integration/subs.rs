//! Subscriptions and out-of-dialog messaging through the SBC (shell, real loopback sockets):
//! scripted phones and a scripted PBX check topology hiding, NOTIFY delivery over the
//! subscriber's flow (UDP and TCP), refresh, unsubscribe, expiry, NOTIFY before the 2xx,
//! MESSAGE both ways, PUBLISH, the unsolicited message-waiting NOTIFY, and that the
//! subscription table returns to idle.

use crate::harness::{self, access, repo};
use crate::sipua::{Ua, body, code, header, request, respond, tag, uri};
use sbc::app::Running;
use sbc::config::Transport;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;

const MWI: &str = "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n";
const MWI_TYPE: &str = "Content-Type: application/simple-message-summary\r\n";
const SUBSCRIPTIONS: &str = "sbc_subscriptions_active{event=\"message-summary\"}";

/// An SBC whose `pbx` peer is a UDP socket of the test, with calls from the core realm going
/// to registered phones, and `extra` TOML appended. Returns the SBC and the PBX.
async fn start(extra: &str) -> (Running, Ua) {
    let pbx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = pbx.local_addr().unwrap().port();
    let extra = format!(
        "[[routes]]\nfrom_realm = \"core\"\nto_registered = true\nto_realm = \"access\"\n\n{extra}"
    );
    let text = harness::config_text_with(
        &repo().join("certs/dev"),
        &extra,
        &format!("udp:127.0.0.1:{port}"),
    );
    let config = sbc::config::from_str(&text, &repo()).expect("config");
    let sbc = sbc::app::start(Arc::new(config)).await.expect("starts");
    let core = sbc.local_addr("core", Transport::Udp).expect("core udp");
    (sbc, Ua::udp_on(pbx, core))
}

async fn gauge(sbc: &Running, series: &str) -> f64 {
    harness::series(&harness::scrape(sbc.metrics_addr).await, series)
}

/// A phone's SUBSCRIBE; `dialog` is the To tag (empty for the initial one).
fn subscribe(phone: &Ua, cseq: u32, dialog: &str, expires: u32) -> String {
    let to = if dialog.is_empty() {
        "<sip:1001@pbx.example.com>".to_owned()
    } else {
        format!("<sip:1001@pbx.example.com>;tag={dialog}")
    };
    request(
        "SUBSCRIBE",
        "sip:1001@pbx.example.com",
        &phone.via(),
        "sub-1@phone",
        "<sip:1001@pbx.example.com>;tag=phonetag",
        &to,
        cseq,
        &format!(
            "Contact: <sip:1001@{}>\r\nEvent: message-summary\r\nExpires: {expires}\r\n\
             Accept: application/simple-message-summary\r\nUser-Agent: phone-model-x 1.2\r\n",
            phone.local
        ),
        "",
    )
}

/// The PBX's NOTIFY in the dialog of its `subscribe`.
fn notify(pbx: &Ua, subscribe: &str, cseq: u32, state: &str) -> String {
    request(
        "NOTIFY",
        &uri(&header(subscribe, "Contact").unwrap()),
        &pbx.via(),
        &header(subscribe, "Call-ID").unwrap(),
        "<sip:1001@pbx.example.com>;tag=pbxtag",
        &header(subscribe, "From").unwrap(),
        cseq,
        &format!(
            "Contact: <sip:mwi@{}>\r\nEvent: message-summary\r\nSubscription-State: {state}\r\n\
             Server: pbx-9.9\r\n{MWI_TYPE}",
            pbx.local
        ),
        MWI,
    )
}

/// The PBX sends a NOTIFY (CSeq `cseq`, `state`) in the dialog of `sub`: the phone must get it
/// with its own dialog identifiers and the body untouched; both answer 200.
async fn deliver_notify(phone: &mut Ua, pbx: &mut Ua, sub: &str, cseq: u32, state: &str) -> String {
    let text = notify(pbx, sub, cseq, state);
    pbx.send(&text).await;
    let got = phone.expect_request("NOTIFY").await;
    assert_eq!(header(&got, "Call-ID").unwrap(), "sub-1@phone");
    assert_eq!(tag(&header(&got, "To").unwrap()).unwrap(), "phonetag");
    assert_eq!(body(&got), MWI);
    assert!(!got.contains("pbx-9.9") && !got.contains("pbxtag"), "{got}");
    phone.send(&respond(&got, 200, "", "")).await;
    let ok = pbx.expect_final().await;
    assert_eq!(code(&ok), 200);
    got
}

/// Subscribe, NOTIFY, refresh and unsubscribe over the phone's `transport`; the subscription
/// table is empty at the end.
async fn subscription_flow(transport: Transport) {
    let (sbc, mut pbx) = start("").await;
    let to = access(&sbc, transport);
    let mut phone = match transport {
        Transport::Tcp => Ua::tcp(to).await,
        Transport::Tls => Ua::tls(to).await,
        Transport::Udp => Ua::udp(to).await,
    };
    phone.send(&subscribe(&phone, 1, "", 600)).await;
    let sub = pbx.expect_request("SUBSCRIBE").await;
    for leak in [
        "sub-1@phone",
        "phonetag",
        "phone-model-x",
        &phone.local.port().to_string(),
    ] {
        assert!(!sub.contains(leak), "{leak} reached the PBX:\n{sub}");
    }
    assert_eq!(header(&sub, "Event").unwrap(), "message-summary");
    assert_eq!(header(&sub, "Expires").unwrap(), "600");
    let contact = format!("Contact: <sip:mwi@{}>\r\nExpires: 600\r\n", pbx.local);
    pbx.send(&respond(&sub, 200, "pbxtag", &contact)).await;
    let ok = phone.expect_final().await;
    assert_eq!(code(&ok), 200, "{ok}");
    assert_eq!(header(&ok, "Expires").unwrap(), "600");
    assert!(!ok.contains(&pbx.local.to_string()), "{ok}");
    let dialog = tag(&header(&ok, "To").unwrap()).unwrap();
    assert_eq!(gauge(&sbc, SUBSCRIPTIONS).await, 1.0);

    deliver_notify(&mut phone, &mut pbx, &sub, 1, "active;expires=600").await;

    phone.send(&subscribe(&phone, 2, &dialog, 600)).await;
    let refresh = pbx.expect_request("SUBSCRIBE").await;
    assert_eq!(header(&refresh, "Call-ID"), header(&sub, "Call-ID"));
    assert_eq!(tag(&header(&refresh, "To").unwrap()).unwrap(), "pbxtag");
    pbx.send(&respond(&refresh, 200, "pbxtag", "Expires: 600\r\n"))
        .await;
    assert_eq!(code(&phone.expect_final().await), 200);

    phone.send(&subscribe(&phone, 3, &dialog, 0)).await;
    let unsubscribe = pbx.expect_request("SUBSCRIBE").await;
    assert_eq!(header(&unsubscribe, "Expires").unwrap(), "0");
    pbx.send(&respond(&unsubscribe, 200, "pbxtag", "Expires: 0\r\n"))
        .await;
    assert_eq!(code(&phone.expect_final().await), 200);
    let last = deliver_notify(&mut phone, &mut pbx, &sub, 2, "terminated;reason=timeout").await;
    assert!(
        header(&last, "Subscription-State")
            .unwrap()
            .starts_with("terminated")
    );
    assert_eq!(gauge(&sbc, SUBSCRIPTIONS).await, 0.0, "{transport}");
    let metrics = harness::scrape(sbc.metrics_addr).await;
    assert_eq!(
        harness::series(&metrics, "sbc_notifies_total{result=\"relayed\"}"),
        2.0
    );
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_notify_refresh_unsubscribe_over_udp() {
    subscription_flow(Transport::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifies_reach_a_tcp_subscriber_over_its_connection() {
    subscription_flow(Transport::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifies_reach_a_tls_subscriber_over_its_connection() {
    subscription_flow(Transport::Tls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_before_the_2xx_reaches_the_subscriber() {
    let (sbc, mut pbx) = start("").await;
    let mut phone = Ua::udp(access(&sbc, Transport::Udp)).await;
    phone.send(&subscribe(&phone, 1, "", 600)).await;
    let sub = pbx.expect_request("SUBSCRIBE").await;
    deliver_notify(&mut phone, &mut pbx, &sub, 1, "pending;expires=600").await;
    let contact = format!("Contact: <sip:mwi@{}>\r\nExpires: 600\r\n", pbx.local);
    pbx.send(&respond(&sub, 202, "pbxtag", &contact)).await;
    assert_eq!(code(&phone.expect_final().await), 202);
    assert_eq!(gauge(&sbc, SUBSCRIPTIONS).await, 1.0);
    sbc.shutdown().await;
}

/// With `Expires: 1` and one second of grace, the SBC ends the subscription itself: the phone
/// hears `terminated;reason=timeout` and the table is empty again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrefreshed_subscription_expires() {
    let (sbc, mut pbx) = start("[subscriptions]\nmin_expires_secs = 1\ngrace_secs = 1\n").await;
    let mut phone = Ua::udp(access(&sbc, Transport::Udp)).await;
    phone.send(&subscribe(&phone, 1, "", 1)).await;
    let sub = pbx.expect_request("SUBSCRIBE").await;
    let contact = format!("Contact: <sip:mwi@{}>\r\nExpires: 1\r\n", pbx.local);
    pbx.send(&respond(&sub, 200, "pbxtag", &contact)).await;
    assert_eq!(code(&phone.expect_final().await), 200);
    let end = phone.expect_request("NOTIFY").await;
    assert_eq!(
        header(&end, "Subscription-State").unwrap(),
        "terminated;reason=timeout"
    );
    phone.send(&respond(&end, 200, "", "")).await;
    assert_eq!(gauge(&sbc, SUBSCRIPTIONS).await, 0.0);
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_event_packages_are_refused() {
    let (sbc, _pbx) = start("").await;
    let mut phone = Ua::udp(access(&sbc, Transport::Udp)).await;
    let text = subscribe(&phone, 1, "", 600).replace("Event: message-summary", "Event: conference");
    phone.send(&text).await;
    let refused = phone.expect_final().await;
    assert_eq!(code(&refused), 489);
    assert!(
        header(&refused, "Allow-Events")
            .unwrap()
            .contains("message-summary")
    );
    sbc.shutdown().await;
}

/// Registers `phone` through the SBC; returns the Contact URI the PBX was given.
async fn register(phone: &mut Ua, pbx: &mut Ua) -> String {
    let text = request(
        "REGISTER",
        "sip:pbx.example.com",
        &phone.via(),
        "reg-1@phone",
        "<sip:1001@pbx.example.com>;tag=r1",
        "<sip:1001@pbx.example.com>",
        1,
        &format!("Contact: <sip:1001@{}>\r\nExpires: 3600\r\n", phone.local),
        "",
    );
    phone.send(&text).await;
    let relayed = pbx.expect_request("REGISTER").await;
    let binding = uri(&header(&relayed, "Contact").unwrap());
    pbx.send(&respond(
        &relayed,
        200,
        "regtag",
        &format!("Contact: <{binding}>;expires=3600\r\n"),
    ))
    .await;
    assert_eq!(code(&phone.expect_final().await), 200);
    binding
}

/// The PBX sends `method` to the phone's binding; the phone must get it with the body.
async fn pbx_to_phone(
    pbx: &mut Ua,
    phone: &mut Ua,
    binding: &str,
    method: &str,
    extra: &str,
    text: &str,
) -> u16 {
    let sent = request(
        method,
        binding,
        &pbx.via(),
        &format!("{method}-pbx@pbx"),
        "<sip:2000@pbx.example.com>;tag=pm",
        &format!("<{binding}>"),
        1,
        extra,
        text,
    );
    pbx.send(&sent).await;
    let got = phone.expect_request(method).await;
    assert_eq!(body(&got), text);
    assert!(!got.contains(&format!("{method}-pbx@pbx")), "{got}");
    assert_eq!(
        uri(&got
            .lines()
            .next()
            .unwrap()
            .replace(' ', "<")
            .replace("<SIP/2.0", ">")),
        format!("sip:1001@{}", phone.local)
    );
    phone.send(&respond(&got, 200, "ph", "")).await;
    code(&pbx.expect_final().await)
}

/// MESSAGE both ways, PUBLISH to the PBX and the unsolicited message-waiting NOTIFY to a
/// phone registered over `transport`.
async fn messaging(transport: Transport) {
    let (sbc, mut pbx) = start("").await;
    let to = access(&sbc, transport);
    let mut phone = match transport {
        Transport::Tcp => Ua::tcp(to).await,
        Transport::Tls => Ua::tls(to).await,
        Transport::Udp => Ua::udp(to).await,
    };
    let binding = register(&mut phone, &mut pbx).await;

    let text = "Hi from the PBX";
    let status = pbx_to_phone(
        &mut pbx,
        &mut phone,
        &binding,
        "MESSAGE",
        "Content-Type: text/plain\r\n",
        text,
    )
    .await;
    assert_eq!(status, 200);
    let mwi = format!("Event: message-summary\r\n{MWI_TYPE}");
    let status = pbx_to_phone(&mut pbx, &mut phone, &binding, "NOTIFY", &mwi, MWI).await;
    assert_eq!(status, 200);

    let message = request(
        "MESSAGE",
        "sip:2000@pbx.example.com",
        &phone.via(),
        "msg-1@phone",
        "<sip:1001@pbx.example.com>;tag=m1",
        "<sip:2000@pbx.example.com>",
        1,
        "Content-Type: text/plain\r\nUser-Agent: phone-model-x 1.2\r\n",
        "Hi from the phone",
    );
    phone.send(&message).await;
    let got = pbx.expect_request("MESSAGE").await;
    assert_eq!(body(&got), "Hi from the phone");
    assert!(
        !got.contains("msg-1@phone") && !got.contains("phone-model-x"),
        "{got}"
    );
    pbx.send(&respond(&got, 202, "pbxm", "")).await;
    assert_eq!(code(&phone.expect_final().await), 202);

    let publish = request(
        "PUBLISH",
        "sip:1001@pbx.example.com",
        &phone.via(),
        "pub-1@phone",
        "<sip:1001@pbx.example.com>;tag=p1",
        "<sip:1001@pbx.example.com>",
        1,
        "Event: presence\r\nExpires: 600\r\nSIP-If-Match: etag-1\r\nContent-Type: application/pidf+xml\r\n",
        "<presence/>",
    );
    phone.send(&publish).await;
    let got = pbx.expect_request("PUBLISH").await;
    assert_eq!(header(&got, "SIP-If-Match").unwrap(), "etag-1");
    assert_eq!(header(&got, "Event").unwrap(), "presence");
    pbx.send(&respond(
        &got,
        200,
        "pbxp",
        "SIP-ETag: etag-2\r\nExpires: 600\r\n",
    ))
    .await;
    let ok = phone.expect_final().await;
    assert_eq!(header(&ok, "SIP-ETag").unwrap(), "etag-2");

    let metrics = harness::scrape(sbc.metrics_addr).await;
    for (series, want) in [
        (
            "sbc_messages_total{method=\"MESSAGE\",result=\"relayed\"}",
            2.0,
        ),
        (
            "sbc_messages_total{method=\"PUBLISH\",result=\"relayed\"}",
            1.0,
        ),
        ("sbc_notifies_total{result=\"relayed\"}", 1.0),
    ] {
        assert_eq!(
            harness::series(&metrics, series),
            want,
            "{series} over {transport}"
        );
    }
    sbc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_both_ways_and_mwi_to_a_udp_phone() {
    messaging(Transport::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_both_ways_and_mwi_to_a_tcp_phone() {
    messaging(Transport::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_both_ways_and_mwi_to_a_tls_phone() {
    messaging(Transport::Tls).await;
}

/// A MESSAGE to an unknown binding key is refused and counted as blocked; so is an
/// unsolicited NOTIFY of another event package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeliverable_out_of_dialog_requests_are_blocked() {
    let (sbc, mut pbx) = start("").await;
    let core: SocketAddr = sbc.local_addr("core", Transport::Udp).unwrap();
    let nobody = format!("sip:0123456789abcdef01234567@{core}");
    let message = request(
        "MESSAGE",
        &nobody,
        &pbx.via(),
        "m-x@pbx",
        "<sip:2000@pbx>;tag=x",
        &format!("<{nobody}>"),
        1,
        "",
        "hi",
    );
    pbx.send(&message).await;
    assert_eq!(code(&pbx.expect_final().await), 404);
    let presence = request(
        "NOTIFY",
        &nobody,
        &pbx.via(),
        "n-x@pbx",
        "<sip:2000@pbx>;tag=x",
        &format!("<{nobody}>"),
        1,
        "Event: presence\r\n",
        "",
    );
    pbx.send(&presence).await;
    assert_eq!(code(&pbx.expect_final().await), 489);
    assert_blocked_once(sbc).await;
}

/// The tables are bounded: with room for one subscription and one relayed MESSAGE, the second
/// of each is refused with 503 while the first is pending, and counted as blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_tables_refuse_with_503() {
    let (sbc, mut pbx) =
        start("[subscriptions]\nmax_subscriptions = 1\nmax_pending_requests = 1\n").await;
    let mut phone = Ua::udp(access(&sbc, Transport::Udp)).await;
    phone.send(&subscribe(&phone, 1, "", 600)).await;
    pbx.expect_request("SUBSCRIBE").await;
    let mut other = Ua::udp(access(&sbc, Transport::Udp)).await;
    let second = subscribe(&other, 1, "", 600).replace("sub-1@phone", "sub-2@phone");
    other.send(&second).await;
    let refused = other.expect_final().await;
    assert_eq!(code(&refused), 503);
    assert!(header(&refused, "Retry-After").is_some());

    let message = |call_id: &str, ua: &Ua| {
        request(
            "MESSAGE",
            "sip:2000@pbx.example.com",
            &ua.via(),
            call_id,
            "<sip:1001@pbx.example.com>;tag=m",
            "<sip:2000@pbx.example.com>",
            1,
            "",
            "x",
        )
    };
    let first = message("msg-a@phone", &phone);
    phone.send(&first).await;
    pbx.expect_request("MESSAGE").await;
    let second = message("msg-b@phone", &other);
    other.send(&second).await;
    assert_eq!(code(&other.expect_final().await), 503);
    assert_blocked_once(sbc).await;
}

/// Exactly one MESSAGE was counted as blocked; stops the SBC.
async fn assert_blocked_once(sbc: Running) {
    let metrics = harness::scrape(sbc.metrics_addr).await;
    sbc.shutdown().await;
    let blocked = "sbc_messages_total{method=\"MESSAGE\",result=\"blocked\"}";
    assert_eq!(harness::series(&metrics, blocked), 1.0, "{metrics}");
}

/// A TCP subscriber whose connection closes: the SBC unsubscribes at the PBX and forgets the
/// subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_subscriber_connection_unsubscribes() {
    let (sbc, mut pbx) = start("").await;
    let mut phone = Ua::tcp(access(&sbc, Transport::Tcp)).await;
    phone.send(&subscribe(&phone, 1, "", 600)).await;
    let sub = pbx.expect_request("SUBSCRIBE").await;
    let contact = format!("Contact: <sip:mwi@{}>\r\nExpires: 600\r\n", pbx.local);
    pbx.send(&respond(&sub, 200, "pbxtag", &contact)).await;
    assert_eq!(code(&phone.expect_final().await), 200);
    drop(phone);
    let unsubscribe = pbx.expect_request("SUBSCRIBE").await;
    assert_eq!(header(&unsubscribe, "Expires").unwrap(), "0");
    assert_eq!(header(&unsubscribe, "Call-ID"), header(&sub, "Call-ID"));
    assert_eq!(tag(&header(&unsubscribe, "To").unwrap()).unwrap(), "pbxtag");
    pbx.send(&respond(&unsubscribe, 200, "pbxtag", "Expires: 0\r\n"))
        .await;
    assert_eq!(gauge(&sbc, SUBSCRIPTIONS).await, 0.0);
    sbc.shutdown().await;
}

/// A subscriber behind NAT (Via and Contact name a private address it cannot be reached at):
/// NOTIFYs go to the source its SUBSCRIBE came from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nated_subscriber_gets_notifies_at_its_observed_source() {
    let (sbc, mut pbx) = start("").await;
    let mut phone = Ua::udp(access(&sbc, Transport::Udp)).await;
    let private = "10.9.9.9:5060";
    let text = subscribe(&phone, 1, "", 600).replace(&phone.local.to_string(), private);
    assert!(!text.contains(&phone.local.to_string()));
    phone.send(&text).await;
    let sub = pbx.expect_request("SUBSCRIBE").await;
    assert!(!sub.contains("10.9.9.9"), "{sub}");
    let contact = format!("Contact: <sip:mwi@{}>\r\nExpires: 600\r\n", pbx.local);
    pbx.send(&respond(&sub, 200, "pbxtag", &contact)).await;
    assert_eq!(code(&phone.expect_final().await), 200);
    let got = deliver_notify(&mut phone, &mut pbx, &sub, 1, "active;expires=600").await;
    assert!(
        got.starts_with(&format!("NOTIFY sip:1001@{private} ")),
        "{got}"
    );
    sbc.shutdown().await;
}
