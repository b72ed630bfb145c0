//! Metric families of subscriptions and out-of-dialog requests (plain data): subscriptions held
//! by event package, NOTIFYs relayed or failed, MESSAGE/PUBLISH relayed, blocked or failed.
//! Labels are bounded: the event package is one of the configured allow-listed packages (the SBC
//! refuses every other with 489 before counting), the rest are fixed words.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::fmt::Write;

use super::{Metrics, family, names};

/// What happened to a relayed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelayResult {
    /// Delivered, and a final response came back and was relayed.
    Relayed,
    /// Refused by the SBC before relaying (policy, limits, routing).
    Blocked,
    /// Relayed, but it timed out or could not be sent.
    Failed,
}

impl RelayResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayResult::Relayed => "relayed",
            RelayResult::Blocked => "blocked",
            RelayResult::Failed => "failed",
        }
    }
}

impl EncodeLabelValue for RelayResult {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// The out-of-dialog method relayed: `MESSAGE` or `PUBLISH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OneShotMethod {
    /// RFC 3428 MESSAGE.
    Message,
    /// RFC 3903 PUBLISH.
    Publish,
}

impl EncodeLabelValue for OneShotMethod {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(match self {
            OneShotMethod::Message => "MESSAGE",
            OneShotMethod::Publish => "PUBLISH",
        })
    }
}

/// Labels of `sbc_subscriptions_active`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct EventLabels {
    pub event: String,
}

/// Labels of `sbc_notifies_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct NotifyLabels {
    pub result: RelayResult,
}

/// Labels of `sbc_messages_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
#[allow(missing_docs)] // the fields are the labels
pub struct MessageLabels {
    pub method: OneShotMethod,
    pub result: RelayResult,
}

/// The families, registered once by [`Metrics::new`].
#[derive(Debug)]
pub(super) struct SignalingFamilies {
    subscriptions_active: Family<EventLabels, Gauge>,
    notifies: Family<NotifyLabels, Counter>,
    messages: Family<MessageLabels, Counter>,
}

impl SignalingFamilies {
    /// Registers every family in `r`, with the fixed-label series at 0.
    pub(super) fn register(r: &mut Registry) -> Self {
        let families = SignalingFamilies {
            subscriptions_active: family(
                r,
                names::SUBSCRIPTIONS_ACTIVE,
                "Subscription dialogs held, by event package",
            ),
            notifies: family(
                r,
                names::NOTIFIES,
                "NOTIFYs toward subscribers: relayed, or failed (timeout, transport, 481)",
            ),
            messages: family(
                r,
                names::MESSAGES,
                "Out-of-dialog MESSAGE and PUBLISH: relayed, blocked by the SBC, or failed",
            ),
        };
        for result in [RelayResult::Relayed, RelayResult::Failed] {
            let _ = families.notifies.get_or_create(&NotifyLabels { result });
        }
        for method in [OneShotMethod::Message, OneShotMethod::Publish] {
            for result in [
                RelayResult::Relayed,
                RelayResult::Blocked,
                RelayResult::Failed,
            ] {
                let _ = families
                    .messages
                    .get_or_create(&MessageLabels { method, result });
            }
        }
        families
    }
}

impl Metrics {
    /// Sets the number of subscriptions held for the event package `event` (an allow-listed
    /// package from the configuration).
    pub fn subscriptions_active(&self, event: &str, count: usize) {
        self.signaling
            .subscriptions_active
            .get_or_create(&EventLabels {
                event: event.to_owned(),
            })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Counts a NOTIFY toward a subscriber (in a subscription or unsolicited).
    pub fn notify(&self, result: RelayResult) {
        self.signaling
            .notifies
            .get_or_create(&NotifyLabels { result })
            .inc();
    }

    /// Counts an out-of-dialog MESSAGE or PUBLISH.
    pub fn one_shot(&self, method: OneShotMethod, result: RelayResult) {
        self.signaling
            .messages
            .get_or_create(&MessageLabels { method, result })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_gauges_by_bounded_labels() {
        let m = Metrics::new();
        m.subscriptions_active("message-summary", 3);
        m.subscriptions_active("message-summary", 2);
        m.notify(RelayResult::Relayed);
        m.one_shot(OneShotMethod::Message, RelayResult::Blocked);
        let t = m.encode().unwrap();
        for line in [
            "sbc_subscriptions_active{event=\"message-summary\"} 2",
            "sbc_notifies_total{result=\"relayed\"} 1",
            "sbc_notifies_total{result=\"failed\"} 0",
            "sbc_messages_total{method=\"MESSAGE\",result=\"blocked\"} 1",
            "sbc_messages_total{method=\"PUBLISH\",result=\"relayed\"} 0",
        ] {
            assert!(t.lines().any(|l| l == line), "{line} missing:\n{t}");
        }
    }
}
