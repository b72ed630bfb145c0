//! Operations metric families (plain data): call records written or dropped, configuration
//! reloads and the drain state. Registered by [`super::Metrics::new`] like every other family;
//! kept in their own file so the main list stays about SIP.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::family;
use super::labels::ReloadResult;
use super::names;

/// What happened to a call record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordResult {
    /// Written to the record file.
    Written,
    /// Dropped because the writer's queue was full.
    Dropped,
    /// The write failed (disk full, permissions); the record is lost.
    Failed,
}

impl RecordResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Written => "written",
            Self::Dropped => "dropped",
            Self::Failed => "failed",
        }
    }
}

impl EncodeLabelValue for RecordResult {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write as _;
        encoder.write_str(self.as_str())
    }
}

/// Labels of `sbc_call_records_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct RecordLabels {
    pub result: RecordResult,
}

/// Labels of `sbc_config_reloads_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct ConfigReloadLabels {
    pub result: ReloadResult,
}

/// The operations families.
#[derive(Debug)]
pub(super) struct OpsMetrics {
    records: Family<RecordLabels, Counter>,
    reloads: Family<ConfigReloadLabels, Counter>,
    draining: Gauge,
}

impl OpsMetrics {
    /// Registers the families, every known series at 0.
    pub(super) fn register(r: &mut Registry) -> Self {
        let ops = Self {
            records: family(r, names::CALL_RECORDS, "Call records by outcome"),
            reloads: family(
                r,
                names::CONFIG_RELOADS,
                "Configuration reloads (SIGHUP or POST /admin/reload)",
            ),
            draining: family(
                r,
                names::DRAINING,
                "1 while the SBC drains before stopping, else 0",
            ),
        };
        for result in [
            RecordResult::Written,
            RecordResult::Dropped,
            RecordResult::Failed,
        ] {
            let _ = ops.records.get_or_create(&RecordLabels { result });
        }
        for result in [ReloadResult::Ok, ReloadResult::Error] {
            let _ = ops.reloads.get_or_create(&ConfigReloadLabels { result });
        }
        ops
    }
}

impl super::Metrics {
    /// Counts a call record by outcome.
    pub fn call_record(&self, result: RecordResult) {
        self.ops
            .records
            .get_or_create(&RecordLabels { result })
            .inc();
    }

    /// Counts a configuration reload.
    pub fn config_reload(&self, result: ReloadResult) {
        self.ops
            .reloads
            .get_or_create(&ConfigReloadLabels { result })
            .inc();
    }

    /// Sets whether the SBC is draining.
    pub fn draining(&self, draining: bool) {
        self.ops.draining.set(i64::from(draining));
    }
}
