//! Fuzz target: one UDP datagram through the SIP parser. Whatever parses must print and parse
//! back to the same message (round trip), and nothing may panic.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sbc::sip::{Limits, parse_datagram};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::DEFAULT;
    if let Ok(msg) = parse_datagram(Bytes::copy_from_slice(data), &limits) {
        let printed = msg.to_bytes();
        let again = parse_datagram(printed, &limits).expect("printed message parses");
        assert_eq!(again, msg);
    }
});
