//! Fuzz target: one UDP datagram through framing, the printer and validation (every typed header
//! parser). Whatever parses must print and parse back to the same message, and nothing may panic.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sbc::sip::validate::{Disposition, Validator};
use sbc::sip::{Limits, parse_datagram};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::DEFAULT;
    let buf = Bytes::copy_from_slice(data);
    if let Ok(msg) = parse_datagram(buf.clone(), &limits) {
        let printed = msg.to_bytes();
        let again = parse_datagram(printed, &limits).expect("printed message parses");
        assert_eq!(again, msg);
    }
    if let Disposition::Reject { head, error, status } = Validator::default().inspect_datagram(buf) {
        let resp = sbc::sip::response::error_response(&head, &error, status, b"tag");
        let _ = resp.to_bytes();
    }
});
