//! SIP parse/print benchmarks.
fn main() {}
