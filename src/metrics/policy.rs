//! The edge-policy metric families (pure data): decisions by rule kind and action, reload
//! results, active bans and the sizes of the bounded policy tables. Labels are `&'static str`
//! kinds from the policy engine, never a rule name, user or address.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::labels::{ReloadResult, StaticLabel};
use super::{Metrics, family, names};

/// Labels of `sbc_policy_decisions_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct DecisionLabels {
    pub rule: StaticLabel,
    pub action: StaticLabel,
}

/// Labels of `sbc_policy_reload_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct PolicyReloadLabels {
    pub result: ReloadResult,
}

/// Labels of `sbc_policy_table_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct TableLabels {
    pub table: StaticLabel,
}

/// The policy families.
#[derive(Debug)]
pub struct PolicyMetrics {
    decisions: Family<DecisionLabels, Counter>,
    reloads: Family<PolicyReloadLabels, Counter>,
    bans_active: Gauge,
    table_keys: Family<TableLabels, Gauge>,
}

impl PolicyMetrics {
    /// Registers the families in `r`; the reload results and table sizes start at 0.
    pub fn register(r: &mut Registry) -> PolicyMetrics {
        let m = PolicyMetrics {
            decisions: family(r, names::POLICY_DECISIONS, "Edge-policy decisions"),
            reloads: family(
                r,
                names::POLICY_RELOAD,
                "Policy reloads; an error keeps the previous policy",
            ),
            bans_active: family(r, names::POLICY_BANS_ACTIVE, "Sources currently banned"),
            table_keys: family(
                r,
                names::POLICY_TABLE_KEYS,
                "Keys held by the bounded policy tables",
            ),
        };
        for result in [ReloadResult::Ok, ReloadResult::Error] {
            let _ = m.reloads.get_or_create(&PolicyReloadLabels { result });
        }
        for table in ["limiter", "scores", "fraud"] {
            let _ = m.table_keys.get_or_create(&TableLabels {
                table: StaticLabel(table),
            });
        }
        m
    }
}

impl Metrics {
    /// Counts one policy decision.
    pub fn policy_decision(&self, rule: &'static str, action: &'static str) {
        self.policy
            .decisions
            .get_or_create(&DecisionLabels {
                rule: StaticLabel(rule),
                action: StaticLabel(action),
            })
            .inc();
    }

    /// Counts one policy reload.
    pub fn policy_reload(&self, result: ReloadResult) {
        self.policy
            .reloads
            .get_or_create(&PolicyReloadLabels { result })
            .inc();
    }

    /// Sets the policy gauges: active bans and the keys of each bounded table.
    pub fn policy_tables(&self, bans: usize, limiter: usize, scores: usize, fraud: usize) {
        self.policy.bans_active.set(bans as i64);
        for (table, n) in [("limiter", limiter), ("scores", scores), ("fraud", fraud)] {
            self.policy
                .table_keys
                .get_or_create(&TableLabels {
                    table: StaticLabel(table),
                })
                .set(n as i64);
        }
    }
}
