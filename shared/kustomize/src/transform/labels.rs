//! `commonLabels` and `labels`: where labels go (metadata, selectors, pod templates) per kind.
//! The field specs are kustomize's built-in label configuration (api/konfig/builtinpluginconsts:
//! commonlabels.go and metadatalabels.go, kustomize v5.5), restated here as data.

use crate::fieldspec::{FieldSpec, fs, merge_map_at};
use crate::kustomization::Label;
use crate::resource::Resource;

/// Labels on the object and on the pod (and claim) templates it stamps out.
pub const METADATA_LABELS: &[FieldSpec<'static>] = &[
    fs("", "", "metadata/labels", true),
    fs("", "ReplicationController", "spec/template/metadata/labels", true),
    fs("", "Deployment", "spec/template/metadata/labels", true),
    fs("", "ReplicaSet", "spec/template/metadata/labels", true),
    fs("", "DaemonSet", "spec/template/metadata/labels", true),
    fs("apps", "StatefulSet", "spec/template/metadata/labels", true),
    fs("apps", "StatefulSet", "spec/volumeClaimTemplates[]/metadata/labels", true),
    fs("batch", "Job", "spec/template/metadata/labels", true),
    fs("batch", "CronJob", "spec/jobTemplate/metadata/labels", true),
    fs("batch", "CronJob", "spec/jobTemplate/spec/template/metadata/labels", true),
];

const AFFINITY_SELECTORS: &[&str] = &[
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
];

/// Selectors that must keep matching the labels above.
pub const SELECTORS: &[FieldSpec<'static>] = &[
    fs("", "Service", "spec/selector", true),
    fs("", "ReplicationController", "spec/selector", true),
    fs("", "Deployment", "spec/selector/matchLabels", true),
    fs("", "ReplicaSet", "spec/selector/matchLabels", true),
    fs("", "DaemonSet", "spec/selector/matchLabels", true),
    fs("apps", "StatefulSet", "spec/selector/matchLabels", true),
    fs("batch", "Job", "spec/selector/matchLabels", false),
    fs("batch", "CronJob", "spec/jobTemplate/spec/selector/matchLabels", false),
    fs("policy", "PodDisruptionBudget", "spec/selector/matchLabels", false),
    fs("networking.k8s.io", "NetworkPolicy", "spec/podSelector/matchLabels", false),
    fs("networking.k8s.io", "NetworkPolicy", "spec/ingress/from/podSelector/matchLabels", false),
    fs("networking.k8s.io", "NetworkPolicy", "spec/egress/to/podSelector/matchLabels", false),
];

/// Adds `pairs` at every applicable field spec of every resource.
pub fn apply_specs(resources: &mut [Resource], pairs: &[(String, String)], specs: &[FieldSpec<'_>]) {
    if pairs.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        let id = r.id();
        for spec in specs.iter().filter(|s| s.applies_to(&id)) {
            merge_map_at(&mut r.obj, spec, pairs);
        }
    }
}

/// The field specs of `commonLabels`: metadata, templates and selectors.
pub fn common_label_specs() -> Vec<FieldSpec<'static>> {
    let mut specs: Vec<FieldSpec<'static>> = METADATA_LABELS.to_vec();
    specs.extend_from_slice(SELECTORS);
    for kind in ["Deployment", "StatefulSet"] {
        specs.extend(AFFINITY_SELECTORS.iter().map(|p| fs("apps", kind, p, false)));
    }
    specs
}

/// `commonLabels`; `extra` are the `commonLabels` field specs of user `configurations`.
pub fn apply_common_labels(resources: &mut [Resource], labels: &[(String, String)], extra: &[FieldSpec<'_>]) {
    let mut specs = common_label_specs();
    specs.extend_from_slice(extra);
    apply_specs(resources, labels, &specs);
}

/// One `labels` entry: metadata only, plus templates and/or selectors when asked, plus its own fields.
pub fn apply_label(resources: &mut [Resource], label: &Label, extra: &[FieldSpec<'_>]) {
    let pairs: Vec<(String, String)> = label.pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut specs: Vec<FieldSpec<'_>> = if label.include_selectors {
        let mut specs = common_label_specs();
        specs.extend_from_slice(extra);
        specs
    } else if label.include_templates {
        METADATA_LABELS.to_vec()
    } else {
        vec![fs("", "", "metadata/labels", true)]
    };
    specs.extend(label.fields.iter().map(|f| FieldSpec {
        group: f.group.as_deref().unwrap_or(""),
        kind: f.kind.as_deref().unwrap_or(""),
        path: &f.path,
        create: f.create,
    }));
    apply_specs(resources, &pairs, &specs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Resource {
        Resource::new(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}}}}}),
            "f".into(),
        )
    }

    #[test]
    fn common_labels_reach_selectors() {
        let mut rs = vec![deployment()];
        apply_common_labels(&mut rs, &[("team".into(), "a".into())], &[]);
        assert_eq!(rs[0].obj["spec"]["selector"]["matchLabels"]["team"], "a");
        assert_eq!(rs[0].obj["spec"]["template"]["metadata"]["labels"]["team"], "a");
        assert_eq!(rs[0].obj["metadata"]["labels"]["team"], "a");
    }

    #[test]
    fn labels_without_selectors() {
        let mut rs = vec![deployment()];
        let label = Label {
            pairs: [("team".to_string(), "a".to_string())].into(),
            include_templates: true,
            ..Label::default()
        };
        apply_label(&mut rs, &label, &[]);
        assert!(rs[0].obj["spec"]["selector"]["matchLabels"].get("team").is_none());
        assert_eq!(rs[0].obj["spec"]["template"]["metadata"]["labels"]["team"], "a");
    }
}
