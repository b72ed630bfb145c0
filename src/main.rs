//! The `sbc` command line.

fn main() {}
