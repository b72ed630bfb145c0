//! Call record tests (pure): identities from messages, who ended the call, timestamps and the
//! JSON shape.

use super::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn parse(text: &str) -> Message {
    crate::sip::parse_datagram(
        bytes::Bytes::from(text.replace('\n', "\r\n")),
        &Default::default(),
    )
    .expect("test message parses")
}

const INVITE: &str = "INVITE sip:bob@sbc.example.com SIP/2.0
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKphone1
Max-Forwards: 70
From: \"Alice\" <sip:alice@example.org>;tag=atag
To: <sip:bob@sbc.example.com>
Call-ID: a-call@198.51.100.7
CSeq: 1 INVITE
Content-Length: 0

";

const RINGING: &str = "SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKphone1
From: \"Alice\" <sip:alice@example.org>;tag=atag
To: <sip:bob@sbc.example.com>;tag=sbctag
Call-ID: a-call@198.51.100.7
CSeq: 1 INVITE
Content-Length: 0

";

#[test]
fn legs_take_identities_from_messages() {
    let mut leg = LegRecord::from_request(&parse(INVITE));
    assert_eq!(leg.call_id, "a-call@198.51.100.7");
    assert_eq!(leg.from, "sip:alice@example.org");
    assert_eq!(leg.from_tag.as_deref(), Some("atag"));
    assert_eq!(leg.to, "sip:bob@sbc.example.com");
    assert_eq!(leg.to_tag, None);
    leg.learn_to_tag(&parse(RINGING));
    assert_eq!(leg.to_tag.as_deref(), Some("sbctag"));
    let other = parse(&RINGING.replace("sbctag", "later"));
    leg.learn_to_tag(&other);
    assert_eq!(leg.to_tag.as_deref(), Some("sbctag"), "the first tag stays");
}

#[test]
fn who_ended_the_call() {
    use EndReason::*;
    for (reason, by, want) in [
        (Completed, Some(Leg::A), "caller"),
        (Completed, Some(Leg::B), "callee"),
        (Cancelled, Some(Leg::A), "caller"),
        (Rejected, None, "callee"),
        (NoAnswer, None, "sbc:no_answer"),
        (Timeout, Some(Leg::B), "sbc:timeout"),
        (Shutdown, None, "sbc:shutdown"),
        (AckTimeout, None, "sbc:ack_timeout"),
        (Completed, None, "sbc:completed"),
        (MediaRefused, None, "sbc:media_refused"),
        (MediaRefused, Some(Leg::B), "sbc:media_refused"),
    ] {
        assert_eq!(ended_by(reason, by), want, "{reason:?} {by:?}");
    }
}

#[test]
fn finished_record_has_times_durations_and_placeholders() {
    #[allow(clippy::disallowed_methods)] // the test's one clock read; the rest is offsets
    let t0 = Instant::now();
    let clock = WallClock::new(UNIX_EPOCH + Duration::from_secs(1_795_332_617), t0);
    let mut draft = CallDraft::new(7, t0, LegRecord::from_request(&parse(INVITE)));
    draft.ringing(t0 + Duration::from_millis(250));
    draft.ringing(t0 + Duration::from_secs(9));
    draft.answered(t0 + Duration::from_secs(2));
    draft.request(Leg::B, &parse(&INVITE.replace("INVITE", "BYE")));
    draft.request(Leg::A, &parse(&INVITE.replace("INVITE", "BYE")));
    let record = draft.finish(
        EndReason::Completed,
        Some(200),
        t0 + Duration::from_secs(62),
        &clock,
    );
    assert_eq!(record.start, "2026-11-22T07:30:17.000Z");
    assert_eq!(record.ring.as_deref(), Some("2026-11-22T07:30:17.250Z"));
    assert_eq!(record.answer.as_deref(), Some("2026-11-22T07:30:19.000Z"));
    assert_eq!(record.end, "2026-11-22T07:31:19.000Z");
    assert_eq!(record.duration_secs, 60.0);
    assert_eq!(record.setup_secs, 2.0);
    assert_eq!(record.ended_by, "callee");
    let json: serde_json::Value = serde_json::from_str(&record.to_line()).unwrap();
    assert_eq!(json["media"], serde_json::Value::Null);
    assert_eq!(json["policy"], serde_json::json!([]));
    assert_eq!(json["caller"]["from_tag"], "atag");
    assert_eq!(json["callee"]["to_tag"], serde_json::Value::Null);
    assert_eq!(json["status"], 200);
    assert!(record.to_line().ends_with("}\n"));
    assert_eq!(record.to_line().matches('\n').count(), 1);
    let _ = SystemTime::UNIX_EPOCH;
}

#[test]
fn unanswered_call_has_no_duration_and_reported_layers_fill_in() {
    #[allow(clippy::disallowed_methods)] // the test's one clock read; the rest is offsets
    let t0 = Instant::now();
    let clock = WallClock::new(UNIX_EPOCH, t0);
    let mut draft = CallDraft::new(1, t0, LegRecord::default());
    draft.set_media(MediaRecord::default());
    draft.add_policy(PolicyRecord {
        rule: "fraud.premium".into(),
        action: "allow".into(),
    });
    let record = draft.finish(
        EndReason::NoAnswer,
        Some(480),
        t0 + Duration::from_secs(30),
        &clock,
    );
    assert_eq!(record.answer, None);
    assert_eq!(record.duration_secs, 0.0);
    assert_eq!(record.setup_secs, 30.0);
    assert_eq!(record.ended_by, "sbc:no_answer");
    assert!(record.media.is_some());
    assert_eq!(record.policy.len(), 1);

    let mut draft = CallDraft::new(2, t0, LegRecord::default());
    draft.final_status(183);
    draft.final_status(503);
    draft.final_status(500);
    let record = draft.finish(EndReason::Shutdown, None, t0, &clock);
    assert_eq!(
        record.status,
        Some(503),
        "the first final status, when the end gives none"
    );
}
