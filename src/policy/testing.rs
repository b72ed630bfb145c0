//! Test helpers for the policy module.

use std::time::Instant;

/// One clock reading for a test; everything else is offsets from it.
#[allow(clippy::disallowed_methods)] // the one clock read of these tests
pub fn t0() -> Instant {
    Instant::now()
}
