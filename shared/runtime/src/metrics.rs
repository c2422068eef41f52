//! Prometheus metrics, served in OpenMetrics text on `/metrics`.
//!
//! The standard ones: Flux's `gotk_reconcile_duration_seconds{kind,name,namespace}`,
//! `gotk_reconcile_condition{kind,name,namespace,type,status}` and
//! `gotk_suspend_status{kind,name,namespace}`, controller-runtime's
//! `controller_runtime_reconcile_total{controller,result}`, `weir_leader` (1 while this instance
//! runs the reconcilers) and `weir_build_info{version}`. Controllers register their own with
//! [`Metrics::register`].
//!
//! Flux deprecated the condition and suspend metrics in v2.1 and has since removed them, pointing
//! to kube-state-metrics, and the dashboards and alerts written for them went dark. Weir keeps
//! them, one series per object: the Ready condition's current status only (value 1), so
//! `status="False"` selects the failing objects, and every series of an object goes when the
//! object is deleted.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Metric, Registry, Unit};
use weir_api::conditions::{Condition, types};

/// How a reconcile ended, as controller-runtime counts it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum ReconcileResult {
    success,
    error,
    requeue,
    requeue_after,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabels {
    kind: String,
    name: String,
    namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConditionLabels {
    kind: String,
    name: String,
    namespace: String,
    r#type: String,
    status: String,
}

/// The statuses a condition series can carry.
const CONDITION_STATUSES: [&str; 3] = ["True", "False", "Unknown"];

fn ready_labels(kind: &str, namespace: &str, name: &str, status: &str) -> ConditionLabels {
    ConditionLabels {
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: namespace.to_string(),
        r#type: types::READY.to_string(),
        status: status.to_string(),
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    controller: String,
    result: ReconcileResult,
}

/// The process's metric registry with the standard controller metrics in it.
pub struct Metrics {
    registry: Mutex<Registry>,
    reconcile_duration: Family<ObjectLabels, Histogram>,
    reconcile_total: Family<ResultLabels, Counter>,
    conditions: Family<ConditionLabels, Gauge>,
    suspended: Family<ObjectLabels, Gauge>,
    leader: Gauge,
}

impl Metrics {
    /// A registry holding the standard metrics, `weir_build_info` set to `version`.
    pub fn new(version: &str) -> Self {
        let mut registry = Registry::default();
        let reconcile_duration =
            Family::<ObjectLabels, Histogram>::new_with_constructor(reconcile_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "gotk_reconcile_duration",
            "The duration in seconds of a GitOps Toolkit resource reconciliation",
            Unit::Seconds,
            reconcile_duration.clone(),
        );
        let reconcile_total = Family::<ResultLabels, Counter>::default();
        registry.register(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller",
            reconcile_total.clone(),
        );
        let conditions = Family::<ConditionLabels, Gauge>::default();
        registry.register(
            "gotk_reconcile_condition",
            "The status of a GitOps Toolkit object's condition (1 on the series of its current status)",
            conditions.clone(),
        );
        let suspended = Family::<ObjectLabels, Gauge>::default();
        registry.register("gotk_suspend_status", "Whether a GitOps Toolkit object is suspended", suspended.clone());
        let leader = Gauge::default();
        registry.register(
            "weir_leader",
            "Whether this instance runs the reconcilers (holds the leader lease)",
            leader.clone(),
        );
        registry.register(
            "weir_build",
            "Weir build information",
            Info::new(vec![("version".to_string(), version.to_string())]),
        );
        Metrics { registry: Mutex::new(registry), reconcile_duration, reconcile_total, conditions, suspended, leader }
    }

    /// Records one finished reconcile of the object `kind` `namespace`/`name`.
    pub fn observe_reconcile(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        elapsed: Duration,
        result: ReconcileResult,
    ) {
        let object = ObjectLabels { kind: kind.to_string(), name: name.to_string(), namespace: namespace.to_string() };
        self.reconcile_duration.get_or_create(&object).observe(elapsed.as_secs_f64());
        let result = ResultLabels { controller: kind.to_ascii_lowercase(), result };
        self.reconcile_total.get_or_create(&result).inc();
    }

    /// Records the object's Ready condition from its status `conditions` (nothing while it has
    /// none), dropping the series of its other statuses.
    pub fn record_ready(&self, kind: &str, namespace: &str, name: &str, conditions: Option<&[Condition]>) {
        let Some(ready) = conditions.and_then(|list| weir_api::conditions::find(list, types::READY)) else {
            return;
        };
        let status = ready.status.as_str();
        let mut labels = ready_labels(kind, namespace, name, "");
        for other in CONDITION_STATUSES.into_iter().filter(|s| *s != status) {
            other.clone_into(&mut labels.status);
            self.conditions.remove(&labels);
        }
        labels.status = status.to_string();
        self.conditions.get_or_create(&labels).set(1);
    }

    /// Records whether the object is suspended.
    pub fn record_suspended(&self, kind: &str, namespace: &str, name: &str, suspended: bool) {
        let object = ObjectLabels { kind: kind.to_string(), name: name.to_string(), namespace: namespace.to_string() };
        self.suspended.get_or_create(&object).set(i64::from(suspended));
    }

    /// Records a finished reconcile, as [`observe_reconcile`](Self::observe_reconcile), unless
    /// it completed the object's deletion: then every series of the object is dropped, or they
    /// would be exported for the process's life.
    pub fn finish_reconcile(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        elapsed: Duration,
        result: ReconcileResult,
        deleted: bool,
    ) {
        if !deleted {
            return self.observe_reconcile(kind, namespace, name, elapsed, result);
        }
        let object = ObjectLabels { kind: kind.to_string(), name: name.to_string(), namespace: namespace.to_string() };
        self.reconcile_duration.remove(&object);
        self.suspended.remove(&object);
        for status in CONDITION_STATUSES {
            self.conditions.remove(&ready_labels(kind, namespace, name, status));
        }
    }

    /// Sets `weir_leader`.
    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// Adds a controller's own metric; `metric` is a handle that stays shared with the caller.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.registry.lock().unwrap_or_else(|e| e.into_inner()).register(name, help, metric);
    }

    /// All metrics in OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn reconcile_histogram() -> Histogram {
    // 10 ms up to about 3 minutes.
    Histogram::new(exponential_buckets(0.01, 2.0, 15))
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_api::conditions::ConditionStatus;

    #[test]
    fn renders_the_standard_metrics() {
        let metrics = Metrics::new("1.2.3");
        metrics.set_leader(true);
        metrics.observe_reconcile(
            "GitRepository",
            "flux-system",
            "podinfo",
            Duration::from_millis(250),
            ReconcileResult::success,
        );
        let extra = Counter::<u64>::default();
        metrics.register("weir_test_things", "Things", extra.clone());
        extra.inc();
        let text = metrics.render();
        assert!(text.contains(r#"weir_build_info{version="1.2.3"} 1"#), "{text}");
        assert!(text.lines().any(|line| line == "weir_leader 1"), "{text}");
        assert!(
            text.contains(
                r#"gotk_reconcile_duration_seconds_count{kind="GitRepository",name="podinfo",namespace="flux-system"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"controller_runtime_reconcile_total{controller="gitrepository",result="success"} 1"#),
            "{text}"
        );
        assert!(text.contains("weir_test_things_total 1"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    fn ready(status: ConditionStatus) -> Vec<Condition> {
        vec![Condition {
            last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ),
            message: String::new(),
            observed_generation: None,
            reason: "Testing".into(),
            status,
            type_: types::READY.into(),
        }]
    }

    #[test]
    fn one_condition_series_per_object_and_none_after_deletion() {
        let metrics = Metrics::new("1.2.3");
        metrics.record_suspended("GitRepository", "apps", "podinfo", false);
        metrics.record_ready("GitRepository", "apps", "podinfo", None);
        metrics.record_ready("GitRepository", "apps", "podinfo", Some(&ready(ConditionStatus::Unknown)));
        metrics.record_ready("GitRepository", "apps", "podinfo", Some(&ready(ConditionStatus::False)));
        metrics.record_ready("GitRepository", "apps", "other", Some(&ready(ConditionStatus::True)));
        let text = metrics.render();
        let series: Vec<&str> = text.lines().filter(|l| l.starts_with("gotk_reconcile_condition{")).collect();
        assert_eq!(series.len(), 2, "{text}");
        assert!(
            text.contains(r#"gotk_reconcile_condition{kind="GitRepository",name="podinfo",namespace="apps",type="Ready",status="False"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"gotk_suspend_status{kind="GitRepository",name="podinfo",namespace="apps"} 0"#),
            "{text}"
        );

        let elapsed = Duration::from_millis(5);
        metrics.finish_reconcile("GitRepository", "apps", "podinfo", elapsed, ReconcileResult::success, false);
        assert!(
            metrics.render().contains(r#"gotk_reconcile_duration_seconds_count{kind="GitRepository",name="podinfo""#)
        );
        metrics.finish_reconcile("GitRepository", "apps", "podinfo", elapsed, ReconcileResult::success, true);
        let text = metrics.render();
        assert!(!text.contains(r#"name="podinfo""#), "{text}");
        assert!(text.contains(r#"name="other""#), "{text}");
    }
}
