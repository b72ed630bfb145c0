use super::*;

fn reject(offer: &str) -> Option<String> {
    reject_all(&Bytes::from(offer.to_owned()), &SdpLimits::DEFAULT)
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
}

#[test]
fn every_stream_of_the_offer_is_rejected_in_order_with_its_transport_and_a_format() {
    let answer = reject(
        "v=0\r\no=pbx 7 7 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\n\
         m=audio 4000 RTP/SAVP 0 8 101\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n\
         m=video 4002 RTP/AVPF 96\r\na=rtpmap:96 H264/90000\r\nm=image 4004 udptl t38\r\n",
    )
    .unwrap();
    assert_eq!(
        answer,
        "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
         m=audio 0 RTP/SAVP 0\r\nm=video 0 RTP/AVPF 96\r\nm=image 0 udptl t38\r\n"
    );
    // Nothing of the offerer's addresses or keys is in it.
    assert!(!answer.contains("10.1.1.1") && !answer.contains("crypto"));
}

#[test]
fn an_ipv6_offer_gets_an_ipv6_answer() {
    let answer = reject(
        "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nt=0 0\nm=audio 5000 RTP/AVP 0\nc=IN IP6 2001:db8::1\n",
    )
    .unwrap();
    assert!(answer.contains("\r\nc=IN IP6 ::\r\n"), "{answer}");
    assert!(answer.ends_with("m=audio 0 RTP/AVP 0\r\n"), "{answer}");
}

#[test]
fn nothing_to_answer_gives_none() {
    assert_eq!(
        reject("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"),
        None
    );
    assert_eq!(reject("not sdp at all"), None);
    assert_eq!(reject(""), None);
}
