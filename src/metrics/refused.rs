//! The family counting media the SBC refused to anchor (pure data): `sbc_media_refused_total`
//! by a bounded reason word (the call layer's `MediaRefusal::as_str`: `transport`,
//! `srtp_policy`, `bad_sdp`, `multipart`, `ports_exhausted`, `relay_unavailable`, `internal`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::labels::StaticLabel;
use super::{family, names};

/// Every reason word, each shown at zero from start-up (the call layer's `MediaRefusal::as_str`
/// values; a test there keeps the two in step).
pub const REASONS: [&str; 7] = [
    "transport",
    "srtp_policy",
    "bad_sdp",
    "multipart",
    "ports_exhausted",
    "relay_unavailable",
    "internal",
];

/// Labels of `sbc_media_refused_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct RefusedLabels {
    pub reason: StaticLabel,
}

/// The refusal family.
#[derive(Debug, Clone)]
pub struct RefusedMetrics {
    refused: Family<RefusedLabels, Counter>,
}

impl RefusedMetrics {
    /// Registers the family, every reason at zero.
    pub(super) fn register(r: &mut Registry) -> Self {
        let refused: Family<RefusedLabels, Counter> = family(
            r,
            names::MEDIA_REFUSED,
            "Offers and answers refused because their media could not be anchored, by reason",
        );
        for reason in REASONS {
            let _ = refused.get_or_create(&RefusedLabels {
                reason: StaticLabel(reason),
            });
        }
        Self { refused }
    }

    /// Counts one refusal; `reason` is a bounded, static word.
    pub fn refused(&self, reason: &'static str) {
        self.refused
            .get_or_create(&RefusedLabels {
                reason: StaticLabel(reason),
            })
            .inc();
    }
}
