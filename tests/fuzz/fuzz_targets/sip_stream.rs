//! Fuzz target: a TCP/TLS byte stream through the framer, fed in chunks whose sizes the input
//! chooses. The framer must never panic, never buffer more than the message limit, and frame
//! the same messages whatever the chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbc::sip::{Frame, Framer, Limits};

fn run(data: &[u8], chunk: usize) -> Vec<Frame> {
    let limits = Limits { max_message_bytes: 4096, ..Limits::DEFAULT };
    let mut framer = Framer::new(limits);
    let mut frames = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        framer.extend(piece);
        loop {
            match framer.next_frame() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(_) => return frames,
            }
        }
        assert!(framer.buffered() <= limits.max_message_bytes + piece.len());
    }
    frames
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else { return };
    assert_eq!(run(data, usize::from(chunk % 64) + 1), run(data, data.len().max(1)));
});
