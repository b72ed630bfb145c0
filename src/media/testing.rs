//! Test helpers of the media module.

use std::time::Instant;

/// The one clock read of the pure media tests; everything else is an offset from it.
#[allow(clippy::disallowed_methods)]
pub(crate) fn t0() -> Instant {
    Instant::now()
}
